//! A real `mlflow server` for integration tests, from the throw-away venv that
//! `cargo xtask mlflow-venv` makes (`cargo xtask test` makes it and sets
//! `BERTOPIC_MLFLOW_PYTHON`). One copy for every crate that tests against MLflow.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The venv's python (`$BERTOPIC_MLFLOW_PYTHON`, else `target/mlflow-venv/bin/python`); a
/// missing venv fails the test with one line saying how to make it.
pub fn python() -> PathBuf {
    let default = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/mlflow-venv/bin/python"
    ));
    let p = std::env::var_os("BERTOPIC_MLFLOW_PYTHON")
        .map(PathBuf::from)
        .unwrap_or(default);
    let ok = Command::new(&p)
        .args(["-c", "import mlflow"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::fail(&format!(
            "no Python with mlflow at {} : run `cargo xtask mlflow-venv` (or `cargo xtask test`, \
             which makes it and sets BERTOPIC_MLFLOW_PYTHON)",
            p.display()
        ));
    }
    p
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| crate::fail(&format!("no free port on 127.0.0.1: {e}")))
}

/// A real `mlflow server` on 127.0.0.1 and a free port (SQLite backend, proxied artifacts) in
/// a fresh temporary folder. Dropping it ends the server's process group and removes the folder.
pub struct MlflowServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    dir: PathBuf,
}

impl MlflowServer {
    /// Starts the server and waits (up to 3 minutes) until `/health` answers.
    pub fn start() -> MlflowServer {
        let py = python();
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "bertopic-mlflow-{}-{port}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| crate::fail(&format!("{}: {e}", dir.display())));
        let log = std::fs::File::create(dir.join("server.log"))
            .unwrap_or_else(|e| crate::fail(&format!("{}: {e}", dir.display())));
        let child = Command::new(&py)
            .args(["-m", "mlflow", "server", "--host", "127.0.0.1"])
            .args(["--workers", "1", "--port", &port.to_string()])
            .arg("--backend-store-uri")
            .arg(format!("sqlite:///{}/mlflow.db", dir.display()))
            .arg("--artifacts-destination")
            .arg(dir.join("artifacts"))
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(log)
            // Its own process group, so that drop ends the workers it forks too.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| crate::fail(&format!("mlflow server does not start: {e}")));
        let server = MlflowServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let t = Instant::now();
        loop {
            let up = Command::new(&py)
                .args([
                    "-c",
                    "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/health', timeout=2)",
                ])
                .arg(&server.url)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if up {
                return server;
            }
            if t.elapsed() > Duration::from_secs(180) {
                let log =
                    std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
                crate::fail(&format!("mlflow server did not come up in 180 s:\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The server's folder (database, artifacts, `server.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for MlflowServer {
    fn drop(&mut self) {
        // The server forks workers: end the whole group we started.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
