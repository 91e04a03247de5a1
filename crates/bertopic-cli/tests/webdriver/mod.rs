//! A minimal W3C WebDriver client for the browser tests: chromedriver on a free port, one
//! headless Chromium session, and the handful of commands the tests use. Blocking JSON over ureq;
//! every failure is a typed [`Error`] carrying the driver's own message, so a failed step says
//! why (no element, stale page, driver gone) instead of panicking inside the client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The key under which W3C WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// What went wrong talking to the browser.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "chromedriver not found ({0}); install Debian's chromium and chromium-driver \
         (`apt-get install -y chromium chromium-driver`, as .ci/run does) or set CHROMEDRIVER"
    )]
    NoDriver(String),
    #[error("chromedriver did not answer on port {port} within {secs} s: {log}")]
    DriverStart { port: u16, secs: u64, log: String },
    #[error("WebDriver {command}: {error}: {message}")]
    Command {
        command: String,
        error: String,
        message: String,
    },
    #[error("WebDriver {command}: transport: {source}")]
    Transport {
        command: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("WebDriver {command}: unexpected reply {reply}")]
    Reply { command: String, reply: String },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out after {secs} s waiting for {what}")]
    Timeout { what: String, secs: u64 },
}

pub type Result<T> = std::result::Result<T, Error>;

/// A reference to an element on the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// chromedriver plus one browser session; both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    // Chromium's profile lives here; removed after the driver is killed.
    _profile: tempfile::TempDir,
}

/// A port nobody listens on right now (the OS picks it; the tiny race is harmless in tests).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    /// Starts chromedriver (`$CHROMEDRIVER`, else `chromedriver` on PATH) and a headless
    /// Chromium (`$CHROMIUM`, else /usr/bin/chromium) session.
    pub fn start() -> Result<Browser> {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        if !Path::new(&chromium).is_file() {
            return Err(Error::NoDriver(format!("no browser at {chromium}")));
        }
        let port = free_port()?;
        let mut driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::NoDriver(format!("{driver_bin}: {e}")))?;
        let base = format!("http://127.0.0.1:{port}");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(120))
            .build();
        // Ready when /status says so; a driver that exits early has its output in the error.
        let started = Instant::now();
        let limit = Duration::from_secs(30);
        loop {
            if let Ok(r) = agent.get(&format!("{base}/status")).call() {
                let v: Value = r.into_json().unwrap_or(Value::Null);
                if v["value"]["ready"].as_bool() == Some(true) {
                    break;
                }
            }
            let exited = driver.try_wait()?.is_some();
            if exited || started.elapsed() > limit {
                let _ = driver.kill();
                let _ = driver.wait();
                let mut log = String::new();
                if let Some(mut o) = driver.stdout.take() {
                    let _ = o.read_to_string(&mut log);
                }
                if let Some(mut e) = driver.stderr.take() {
                    let _ = e.read_to_string(&mut log);
                }
                return Err(Error::DriverStart {
                    port,
                    secs: limit.as_secs(),
                    log,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Drain the driver's pipes so a chatty driver never blocks on a full pipe.
        for pipe in [
            driver
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            driver
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            std::thread::spawn(move || for _ in BufReader::new(pipe).lines() {});
        }
        let profile = tempfile::tempdir()?;
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-quic",
                            "--no-first-run",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            format!("--user-data-dir={}", profile.path().display()),
                            "--window-size=1400,1000",
                        ],
                    },
                },
            },
        });
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            agent,
            _profile: profile,
        };
        let v = browser.call("POST", "/session", Some(caps), "new session")?;
        browser.session = v["sessionId"]
            .as_str()
            .ok_or_else(|| Error::Reply {
                command: "new session".into(),
                reply: v.to_string(),
            })?
            .to_string();
        Ok(browser)
    }

    /// One WebDriver command; returns the reply's `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>, command: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let req = self.agent.request(method, &url);
        let res = match body {
            Some(b) => req.send_json(b),
            None if method == "POST" => req.send_json(json!({})),
            None => req.call(),
        };
        let reply = match res {
            Ok(r) => r,
            // The driver reports command errors as 4xx/5xx with a JSON body.
            Err(ureq::Error::Status(_, r)) => {
                let v: Value = r.into_json().map_err(|e| Error::Reply {
                    command: command.into(),
                    reply: e.to_string(),
                })?;
                return Err(Error::Command {
                    command: command.into(),
                    error: v["value"]["error"].as_str().unwrap_or("?").to_string(),
                    message: v["value"]["message"].as_str().unwrap_or("").to_string(),
                });
            }
            Err(e) => {
                return Err(Error::Transport {
                    command: command.into(),
                    source: Box::new(e),
                })
            }
        };
        let v: Value = reply.into_json().map_err(|e| Error::Reply {
            command: command.into(),
            reply: e.to_string(),
        })?;
        Ok(v.get("value").cloned().unwrap_or(Value::Null))
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) -> Result<()> {
        self.call(
            "POST",
            &self.s("/url"),
            Some(json!({ "url": url })),
            &format!("navigate to {url}"),
        )
        .map(drop)
    }

    pub fn current_url(&self) -> Result<String> {
        let v = self.call("GET", &self.s("/url"), None, "current url")?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    pub fn title(&self) -> Result<String> {
        let v = self.call("GET", &self.s("/title"), None, "title")?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    fn element_id(v: &Value, command: &str) -> Result<Element> {
        v[ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_string()))
            .ok_or_else(|| Error::Reply {
                command: command.into(),
                reply: v.to_string(),
            })
    }

    /// The first element matching a CSS selector (error `no such element` when none).
    pub fn find(&self, css: &str) -> Result<Element> {
        let command = format!("find {css}");
        let v = self.call(
            "POST",
            &self.s("/element"),
            Some(json!({ "using": "css selector", "value": css })),
            &command,
        )?;
        Self::element_id(&v, &command)
    }

    /// Every element matching a CSS selector (maybe none).
    pub fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let command = format!("find all {css}");
        let v = self.call(
            "POST",
            &self.s("/elements"),
            Some(json!({ "using": "css selector", "value": css })),
            &command,
        )?;
        v.as_array()
            .map(|a| a.iter().map(|e| Self::element_id(e, &command)).collect())
            .unwrap_or_else(|| {
                Err(Error::Reply {
                    command,
                    reply: v.to_string(),
                })
            })
    }

    /// Types `text` into an element; for `<input type=file>` the text is the file's path.
    pub fn send_keys(&self, el: &Element, text: &str) -> Result<()> {
        self.call(
            "POST",
            &self.s(&format!("/element/{}/value", el.0)),
            Some(json!({ "text": text })),
            "send keys",
        )
        .map(drop)
    }

    /// Empties an input (so a prefilled value can be replaced).
    pub fn clear(&self, el: &Element) -> Result<()> {
        self.call(
            "POST",
            &self.s(&format!("/element/{}/clear", el.0)),
            None,
            "clear",
        )
        .map(drop)
    }

    pub fn click(&self, el: &Element) -> Result<()> {
        self.call(
            "POST",
            &self.s(&format!("/element/{}/click", el.0)),
            None,
            "click",
        )
        .map(drop)
    }

    /// The element's rendered text.
    pub fn text(&self, el: &Element) -> Result<String> {
        let v = self.call(
            "GET",
            &self.s(&format!("/element/{}/text", el.0)),
            None,
            "text",
        )?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// An HTML attribute (None when absent).
    pub fn attribute(&self, el: &Element, name: &str) -> Result<Option<String>> {
        let v = self.call(
            "GET",
            &self.s(&format!("/element/{}/attribute/{name}", el.0)),
            None,
            &format!("attribute {name}"),
        )?;
        Ok(v.as_str().map(str::to_string))
    }

    /// A DOM property, e.g. `href` resolved to an absolute URL, or `value`.
    pub fn property(&self, el: &Element, name: &str) -> Result<Value> {
        self.call(
            "GET",
            &self.s(&format!("/element/{}/property/{name}", el.0)),
            None,
            &format!("property {name}"),
        )
    }

    /// The tag name, lower case.
    pub fn tag(&self, el: &Element) -> Result<String> {
        let v = self.call(
            "GET",
            &self.s(&format!("/element/{}/name", el.0)),
            None,
            "tag name",
        )?;
        Ok(v.as_str().unwrap_or_default().to_lowercase())
    }

    pub fn source(&self) -> Result<String> {
        let v = self.call("GET", &self.s("/source"), None, "page source")?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(json!({ "script": script, "args": args })),
            "execute script",
        )
    }

    /// Saves a PNG of the viewport to `path` (folders made as needed).
    pub fn screenshot(&self, path: &Path) -> Result<PathBuf> {
        let v = self.call("GET", &self.s("/screenshot"), None, "screenshot")?;
        let b64 = v.as_str().ok_or_else(|| Error::Reply {
            command: "screenshot".into(),
            reply: "no base64 string".into(),
        })?;
        let png = base64_decode(b64).ok_or_else(|| Error::Reply {
            command: "screenshot".into(),
            reply: "invalid base64".into(),
        })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(path.to_path_buf())
    }

    /// Saves a PNG of the whole page: the window grows to the page's height (at most
    /// `max_height` pixels) for the shot, then returns to its size.
    pub fn screenshot_full(&self, path: &Path, max_height: u64) -> Result<PathBuf> {
        let rect = self.call("GET", &self.s("/window/rect"), None, "window rect")?;
        let height = self
            .execute(
                "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)",
                vec![],
            )?
            .as_u64()
            .unwrap_or(1000);
        // The window's outer height exceeds the page's viewport by the (headless) chrome.
        let chrome = rect["height"].as_u64().unwrap_or(1000).saturating_sub(
            self.execute("return window.innerHeight", vec![])?
                .as_u64()
                .unwrap_or(1000),
        );
        let tall = (height + chrome).clamp(rect["height"].as_u64().unwrap_or(1000), max_height);
        self.set_window_size(rect["width"].as_u64().unwrap_or(1400), tall)?;
        let shot = self.screenshot(path);
        self.set_window_size(
            rect["width"].as_u64().unwrap_or(1400),
            rect["height"].as_u64().unwrap_or(1000),
        )?;
        shot
    }

    pub fn set_window_size(&self, width: u64, height: u64) -> Result<()> {
        self.call(
            "POST",
            &self.s("/window/rect"),
            Some(json!({ "width": width, "height": height })),
            "set window rect",
        )
        .map(drop)
    }

    /// Polls `probe` every 250 ms until it returns `Some`, or fails after `limit`.
    pub fn wait_for<T>(
        &self,
        what: &str,
        limit: Duration,
        mut probe: impl FnMut(&Browser) -> Result<Option<T>>,
    ) -> Result<T> {
        let start = Instant::now();
        loop {
            if let Some(t) = probe(self)? {
                return Ok(t);
            }
            if start.elapsed() > limit {
                return Err(Error::Timeout {
                    what: what.into(),
                    secs: limit.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Whether the driver's port still accepts connections (for the drop test).
    pub fn driver_port_open(&self) -> bool {
        let addr = self.base.trim_start_matches("http://");
        TcpStream::connect(addr).is_ok()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &self.s(""), None, "delete session");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (with padding) as WebDriver screenshots use; None on bad input.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | val(c)?;
        }
        n <<= 6 * pad as u32;
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_round_trips_known_values() {
        assert_eq!(
            super::base64_decode("aGVsbG8=").as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(super::base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(super::base64_decode("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(super::base64_decode("a"), None);
        assert_eq!(super::base64_decode("a*==").as_deref(), None);
    }
}
