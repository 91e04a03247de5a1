//! Runs the real `bertopic serve` binary on a free port for the web app's tests, and a few HTTP
//! helpers (ureq, no redirects followed, so a 303 is seen as a 303).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `bertopic serve --port 0` child process; killed on drop unless stopped with [`Server::sigterm`].
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `bertopic serve --port 0 ARGS…` and waits (up to 3 minutes: the machine is shared)
    /// for its `listening on http://…` line.
    pub fn start(args: &[&str]) -> Server {
        Server::start_env(args, &[])
    }

    /// [`Server::start`] with extra environment variables.
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bertopic"))
            .args(["serve", "--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            // Hermetic: only what the test passes configures the server.
            .env_remove("MLFLOW_TRACKING_URI")
            .env_remove("BERTOPIC_REGISTRY")
            .env_remove("GROQ_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the bertopic binary starts");
        let log = Arc::new(Mutex::new(String::new()));
        // stderr is kept for failure messages; stdout's first line carries the address.
        let stderr = child.stderr.take().expect("piped stderr");
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut g = l.lock().unwrap_or_else(|e| e.into_inner());
                g.push_str(&line);
                g.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.trim().strip_prefix("listening on ") {
                    let _ = tx.send(url.trim_end_matches('/').to_string());
                } else {
                    let mut g = l.lock().unwrap_or_else(|e| e.into_inner());
                    g.push_str(&line);
                    g.push('\n');
                }
            }
        });
        let mut server = Server {
            child: Some(child),
            base: String::new(),
            log,
        };
        match rx.recv_timeout(Duration::from_secs(180)) {
            Ok(base) => server.base = base,
            Err(_) => panic!(
                "`bertopic serve --port 0 {}` printed no `listening on http://…` line within 180 s; \
                 its output:\n{}",
                args.join(" "),
                server.log()
            ),
        }
        // The address line comes once the socket is bound; the server must then answer.
        let probe = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            .build();
        if let Err(e) = probe.get(&server.url("/healthz")).call() {
            let exited = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            panic!(
                "`bertopic serve` printed {} but GET /healthz failed: {e} (process exit: {exited:?}); \
                 its output:\n{}",
                server.base,
                server.log()
            );
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the server wrote to stderr (and stdout after the first line) so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends SIGTERM and waits up to `limit` for the process to exit; its exit status.
    pub fn sigterm(mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("a running server");
        let st = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(st.success(), "kill -TERM {} failed", child.id());
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the server did not exit within {} s of SIGTERM; its output:\n{}",
                    limit.as_secs(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if std::thread::panicking() {
                // A failed test shows what the server said and whether it was still running.
                eprintln!(
                    "bertopic serve (pid {}, exit {:?}) wrote:\n{}",
                    c.id(),
                    c.try_wait().ok().flatten(),
                    self.log()
                );
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An HTTP agent that does not follow redirects (the tests check the 303s themselves).
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(600))
        .build()
}

/// A response's status, headers we look at, and body, whether 2xx or an error status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub disposition: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }
}

/// Runs a request and returns its reply even for 4xx/5xx; panics only on transport failures.
pub fn reply(res: Result<ureq::Response, ureq::Error>, what: &str) -> Reply {
    let r = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{what}: no HTTP reply: {e}"),
    };
    let status = r.status();
    let content_type = r.header("content-type").unwrap_or("").to_string();
    let location = r.header("location").map(str::to_string);
    let disposition = r.header("content-disposition").map(str::to_string);
    let mut body = String::new();
    r.into_reader()
        .take(64 << 20)
        .read_to_string(&mut body)
        .unwrap_or_else(|e| panic!("{what}: reading the body: {e}"));
    Reply {
        status,
        content_type,
        location,
        disposition,
        body,
    }
}

pub fn get(agent: &ureq::Agent, url: &str) -> Reply {
    reply(agent.get(url).call(), &format!("GET {url}"))
}

pub fn post_json(agent: &ureq::Agent, url: &str, body: &serde_json::Value) -> Reply {
    reply(
        agent
            .post(url)
            .set("content-type", "application/json")
            .send_string(&body.to_string()),
        &format!("POST {url}"),
    )
}

/// A `multipart/form-data` body: text fields, then one file field `file`.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----bertopic-test-boundary-7d1f0c";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub fn post_multipart(
    agent: &ureq::Agent,
    url: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Reply {
    let (ct, body) = multipart(fields, file);
    reply(
        agent.post(url).set("content-type", &ct).send_bytes(&body),
        &format!("POST {url}"),
    )
}

/// Writes `n` rows of the full arXiv corpus that are not in its 200-row sample (same
/// distribution, unseen by a model trained on the sample) to `dst` as Title,Abstract CSV.
pub fn arxiv_held_out(dst: &Path, n: usize) -> PathBuf {
    let data = bertopic_testdata::shared_dir().join("data");
    let mut sample =
        csv::Reader::from_path(data.join("arxiv-cs-abstracts-200.csv")).expect("sample");
    let seen: std::collections::HashSet<String> = sample
        .records()
        .map(|r| r.expect("record")[0].to_string())
        .collect();
    let mut full = csv::Reader::from_path(data.join("arxiv-cs-abstracts.csv")).expect("corpus");
    let mut w = csv::Writer::from_path(dst).expect("write held-out csv");
    w.write_record(["Title", "Abstract"]).expect("header");
    // Every 97th row: spread over the corpus' 16 months rather than its first days.
    let mut kept = 0;
    for r in full.records().step_by(97) {
        let r = r.expect("record");
        if seen.contains(&r[0]) {
            continue;
        }
        w.write_record([&r[0], &r[1]]).expect("row");
        kept += 1;
        if kept == n {
            break;
        }
    }
    w.flush().expect("flush");
    assert_eq!(kept, n, "the corpus has {n} held-out rows");
    dst.to_path_buf()
}
