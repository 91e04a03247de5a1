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

/// MLflow's client settings. Every process a test starts runs without them, so a developer's
/// own tracking server or credentials never reach a test; a test sets what it needs again.
pub const TRACKING_VARS: [&str; 4] = [
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
];

/// Runs `code` with MLflow's Python client (`argv[1:]` = `args`; [`TRACKING_VARS`] cleared, then
/// `env` set) and parses the last line it prints as JSON. A failing script fails the test with
/// its stderr.
pub fn py_json(code: &str, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let mut cmd = Command::new(python());
    for k in TRACKING_VARS {
        cmd.env_remove(k);
    }
    let out = cmd
        .arg("-c")
        .arg(code)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| crate::fail(&format!("cannot start MLflow's python: {e}")));
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("python printed no JSON ({e}):\n{text}"))
}

/// A real `mlflow server` on 127.0.0.1 and a free port (SQLite backend, proxied artifacts) in
/// a fresh temporary folder. Dropping it ends the server's process group and removes the folder.
pub struct MlflowServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    dir: PathBuf,
    admin: Option<(String, String)>,
}

impl MlflowServer {
    /// Starts the server and waits (up to 3 minutes) until `/health` answers.
    pub fn start() -> MlflowServer {
        MlflowServer::launch(false)
    }

    /// Like [`MlflowServer::start`], but with MLflow's basic authentication
    /// (`--app-name basic-auth`, which needs the `mlflow[auth]` extra): its own
    /// `basic_auth.ini` and user database in the server's folder, and an admin whose
    /// credentials [`MlflowServer::admin`] gives. Every REST call then needs them.
    pub fn start_with_auth() -> MlflowServer {
        MlflowServer::launch(true)
    }

    /// The admin's user name and password of a server from
    /// [`MlflowServer::start_with_auth`]; `None` for one without authentication.
    pub fn admin(&self) -> Option<(&str, &str)> {
        self.admin.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    fn launch(auth: bool) -> MlflowServer {
        let py = python();
        let has_auth = || {
            Command::new(&py)
                .args(["-c", "import mlflow.server.auth"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if auth && !has_auth() {
            crate::fail(&format!(
                "{} has mlflow without its `auth` extra: run `cargo xtask mlflow-venv`, which \
                 installs mlflow[auth]",
                py.display()
            ));
        }
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
        let mut cmd = Command::new(&py);
        let admin = auth.then(|| {
            // MLflow ships no default admin password (and refuses its old one): the admin is
            // created from this ini on first start. A per-server password, so that a test can
            // search its outputs for it; MLflow wants at least 12 characters.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let password = format!("adm-{nanos:x}-{port}");
            let ini = dir.join("basic_auth.ini");
            let text = format!(
                "[mlflow]\ndefault_permission = READ\n\
                 database_uri = sqlite:///{}/basic_auth.db\n\
                 admin_username = admin\nadmin_password = {password}\n\
                 authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
                dir.display()
            );
            std::fs::write(&ini, text)
                .unwrap_or_else(|e| crate::fail(&format!("{}: {e}", ini.display())));
            // The auth app refuses to start without a key for its CSRF protection.
            cmd.env("MLFLOW_AUTH_CONFIG_PATH", &ini)
                .env("MLFLOW_FLASK_SERVER_SECRET_KEY", format!("csrf-{nanos:x}"));
            ("admin".to_string(), password)
        });
        // The caller's admin variables would override the ini's.
        cmd.env_remove("MLFLOW_AUTH_ADMIN_USERNAME")
            .env_remove("MLFLOW_AUTH_ADMIN_PASSWORD");
        cmd.args(["-m", "mlflow", "server", "--host", "127.0.0.1"]);
        if auth {
            cmd.args(["--app-name", "basic-auth"]);
        }
        let child = cmd
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
        let mut server = MlflowServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
            admin,
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
            // A server that exited (bad config, missing package) never answers: say why now.
            if let Ok(Some(status)) = server.child.try_wait() {
                let log =
                    std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
                crate::fail(&format!("mlflow server exited ({status}):\n{log}"));
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
