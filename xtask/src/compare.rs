//! `cargo xtask bench-report --compare-python [--docs N]`: our pipeline stages and the same work
//! in Python (BERTopic 0.17.4, umap-learn, hdbscan, gensim; sentence-transformers where torch is
//! importable) on the same inputs, in one run, as one markdown table: stage, ours, Python, ratio,
//! peak RSS of each side's process.
//!
//! Ours: the release build of `examples/bench_compare.rs`, one process per group (embedding in
//! f32; in int8 with this CPU's int8 kernel, set against Python's f32 as issue #20 measures it;
//! fit + coherence), each reporting its `VmHWM`. Python: `xtask/python/bench_compare.py` in
//! `target/bench-venv` (made once from PyPI; torch and sentence-transformers only with
//! `--with-torch`: some 5 GB of disk; without them the embedding row's Python column says why it
//! is empty), each group its own process reporting `ru_maxrss`. sentence-transformers loads the
//! very model folder ours loaded, offline. A report, not a test: nothing is asserted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, pip_install, root};

/// Versions of the reference stack (shared/reference/README.md); bump deliberately.
const PY_PACKAGES: [(&str, &str); 10] = [
    ("numpy", "2.4.6"),
    ("pandas", "3.1.1"),
    ("scikit-learn", "1.9.1"),
    ("scipy", "1.17.1"),
    ("umap-learn", "0.5.12"),
    ("hdbscan", "0.8.44"),
    ("gensim", "4.4.0"),
    ("plotly", "7.1.0"),
    ("tqdm", "4.70.1"),
    // BERTopic imports yaml at start; its own dependency list is not installed (see below).
    ("pyyaml", "6.0.4"),
];
/// Installed with `--no-deps`: its dependency list pulls sentence-transformers and torch.
const BERTOPIC_VERSION: &str = "0.17.4";
/// With `--with-torch`, for the embedding row's Python side (PyPI's torch is the CUDA build:
/// about 5 GB with its NVIDIA libraries, hence opt-in; it runs on the CPU here).
const TORCH_PACKAGES: [(&str, &str); 3] = [
    ("torch", "2.15.0"),
    ("transformers", "5.24.0"),
    ("sentence-transformers", "6.3.0"),
];

/// One `bench: k=v ...` line as a map.
pub(crate) type Fields = HashMap<String, String>;

pub(crate) fn compare(args: &[String]) -> Result<(), String> {
    if !args.iter().any(|a| a == "--compare-python") {
        return Err(
            "bench-report takes no arguments except --compare-python [--docs N] [--with-torch]"
                .into(),
        );
    }
    let mut docs = 1000usize;
    let mut with_torch = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--compare-python" => {}
            "--with-torch" => with_torch = true,
            "--docs" => {
                let v = it.next().ok_or("--docs needs a number, e.g. --docs 1000")?;
                docs = v
                    .parse()
                    .map_err(|e| format!("--docs: `{v}` is not a number ({e})"))?;
            }
            other => return Err(format!("bench-report: unknown argument `{other}`")),
        }
    }
    let shared = shared_data()?;
    let arxiv = shared.join("arxiv-cs-abstracts.csv");
    let sotu = shared.join("sotu-chunks.csv");
    let sotu_npy = shared.join("sotu-chunks.minilm.npy");
    let load_before = load_average();

    // No `-p`: the default members' features, as the other release builds (else candle rebuilds).
    cargo(&["build", "--release", "--example", "bench_compare"])?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let out_dir = target.join("bench-compare");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let topics = out_dir.join("topics.json");
    let bin = target
        .join("release")
        .join("examples")
        .join("bench_compare");
    let docs_s = docs.to_string();
    // The example finds the corpora through bertopic-testdata, whose compile-time fallback may
    // point at another checkout that shared this target dir: name the folder used here.
    let shared_root = shared.parent().unwrap_or(&shared).to_path_buf();
    let ours_embed = run_bench(
        Command::new(&bin)
            .args(["embed", &docs_s])
            .env("BERTOPIC_SHARED", &shared_root),
    )?;
    let ours_int8 = run_bench(
        Command::new(&bin)
            .args(["embed", &docs_s, "int8"])
            .env("BERTOPIC_SHARED", &shared_root),
    )?;
    let ours_fit = run_bench(
        Command::new(&bin)
            .arg("fit")
            .arg(&topics)
            .env("BERTOPIC_SHARED", &shared_root),
    )?;

    let script = root().join("xtask").join("python").join("bench_compare.py");
    let (py_embed, py_fit) = match bench_venv(with_torch) {
        Ok(py) => {
            let embed = model_dir(&bin).and_then(|dir| {
                run_bench(
                    Command::new(&py)
                        .arg(&script)
                        .arg("embed")
                        .arg(&arxiv)
                        .arg(&docs_s)
                        .arg(dir)
                        // The same files as ours, never the Hub.
                        .env("HF_HUB_OFFLINE", "1"),
                )
            });
            let fit = run_bench(
                Command::new(&py)
                    .arg(&script)
                    .arg("fit")
                    .arg(&sotu)
                    .arg(&sotu_npy)
                    .arg(&topics),
            );
            (embed, fit)
        }
        Err(e) => {
            eprintln!("xtask: no Python side: {e}");
            (Err("no venv".to_string()), Err("no venv".to_string()))
        }
    };
    let _ = std::fs::remove_file(&topics);
    let cpu = cpu_info();
    let load_after = load_average();
    print!(
        "{}",
        table(
            &cpu,
            &format!("{load_before} (start) / {load_after} (end)"),
            &rows(&[&ours_embed, &ours_int8], &py_embed, &ours_fit, &py_fit)
        )
    );
    Ok(())
}

/// `../shared/data` (or `$BERTOPIC_SHARED/data`), as the tests find it.
fn shared_data() -> Result<PathBuf, String> {
    let shared = std::env::var_os("BERTOPIC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("..").join("shared"));
    let data = shared.join("data");
    if data.join("sotu-chunks.minilm.npy").is_file() {
        Ok(data)
    } else {
        Err(format!(
            "{} has no sotu-chunks.minilm.npy: the shared corpora must sit beside the clone \
             (or set BERTOPIC_SHARED)",
            data.display()
        ))
    }
}

/// The model folder our embedding runs loaded (printed by `bench_compare model-dir`).
fn model_dir(bin: &Path) -> Result<PathBuf, String> {
    let out = Command::new(bin)
        .arg("model-dir")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || dir.is_empty() {
        return Err(format!(
            "{} model-dir failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(PathBuf::from(dir))
}

/// Runs one bench process (stderr passes through) and parses its `bench:` line.
fn run_bench(cmd: &mut Command) -> Result<Fields, String> {
    eprintln!("xtask: {cmd:?}");
    let out = cmd
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("{cmd:?} failed ({}): {stdout}", out.status));
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bench: "))
        .ok_or_else(|| format!("{cmd:?} printed no `bench:` line: {stdout}"))?;
    eprintln!("bench: {line}");
    Ok(parse_fields(line))
}

pub(crate) fn parse_fields(line: &str) -> Fields {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Makes (once) `target/bench-venv` with the reference stack (and sentence-transformers with
/// torch when `with_torch`) and returns its python.
fn bench_venv(with_torch: bool) -> Result<PathBuf, String> {
    let check = version_check(&PY_PACKAGES);
    let packages: Vec<String> = PY_PACKAGES
        .iter()
        .map(|(p, v)| format!("{p}=={v}"))
        .collect();
    let python = crate::venv(
        "bench-venv",
        &check,
        &packages,
        "bench-report --compare-python",
    )?;
    if !has_versions(&python, &[("bertopic", BERTOPIC_VERSION)]) {
        let mut pip = pip_install(&python);
        pip.arg("--no-deps")
            .arg(format!("bertopic=={BERTOPIC_VERSION}"));
        run_pip(&mut pip)?;
    }
    if with_torch && !has_versions(&python, &TORCH_PACKAGES) {
        let mut pip = pip_install(&python);
        pip.args(TORCH_PACKAGES.iter().map(|(p, v)| format!("{p}=={v}")));
        run_pip(&mut pip)?;
    }
    Ok(python)
}

/// Whether `python` has every package at its pinned version.
fn has_versions(python: &Path, pkgs: &[(&str, &str)]) -> bool {
    Command::new(python)
        .args(["-c", &version_check(pkgs)])
        .status()
        .is_ok_and(|s| s.success())
}

/// Python that exits 0 exactly when every package has its pinned version.
fn version_check(pkgs: &[(&str, &str)]) -> String {
    let want: Vec<String> = pkgs.iter().map(|(p, v)| format!("{p:?}: {v:?}")).collect();
    format!(
        "import importlib.metadata as m, sys; want = {{{}}}; \
         sys.exit(any(m.version(p) != v for p, v in want.items()))",
        want.join(", ")
    )
}

fn run_pip(pip: &mut Command) -> Result<(), String> {
    eprintln!("xtask: {pip:?}");
    match pip.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{pip:?} failed ({s})")),
        Err(e) => Err(format!("cannot run {pip:?}: {e}")),
    }
}

/// The CPU, as the table's header states it.
pub(crate) struct CpuInfo {
    pub(crate) model: String,
    pub(crate) threads: usize,
    /// Vector units that matter for the encoder's kernels, present or not.
    pub(crate) features: Vec<(&'static str, bool)>,
}

fn cpu_info() -> CpuInfo {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let flags = field("flags").unwrap_or_default();
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    CpuInfo {
        model: field("model name").unwrap_or_else(|| "unknown CPU".into()),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        features: vec![
            ("AVX2", has("avx2")),
            ("FMA", has("fma")),
            ("AVX-512F", has("avx512f")),
            ("AVX-512 VNNI", has("avx512_vnni")),
            ("AVX-VNNI", has("avx_vnni")),
            ("AVX-512 BF16", has("avx512_bf16")),
        ],
    }
}

/// `/proc/loadavg`'s 1, 5 and 15-minute averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// One row of the table.
#[derive(Debug, PartialEq)]
pub(crate) struct Row {
    pub(crate) stage: String,
    /// Our seconds (or why there are none).
    pub(crate) ours: Result<f64, String>,
    /// Python's seconds (or why there are none).
    pub(crate) python: Result<f64, String>,
    /// Peak RSS of each side's process, bytes (None: no process or not measured).
    pub(crate) rss: (Option<f64>, Option<f64>),
}

fn num(f: &Fields, key: &str) -> Result<f64, String> {
    f.get(key)
        .ok_or_else(|| format!("no {key}"))?
        .parse::<f64>()
        .map_err(|e| format!("{key}: {e}"))
}

/// Table rows from the bench lines (an `Err` side shows as n/a with its reason). Each of our
/// embedding lines (f32, then reduced precisions) is set against sentence-transformers' f32.
pub(crate) fn rows(
    ours_embeds: &[&Fields],
    py_embed: &Result<Fields, String>,
    ours_fit: &Fields,
    py_fit: &Result<Fields, String>,
) -> Vec<Row> {
    let py = |f: &Result<Fields, String>, key: &str| -> Result<f64, String> {
        match f {
            Ok(f) if f.get("status").is_some_and(|s| s == "n/a") => Err(format!(
                "n/a ({})",
                match f.get("reason").map(String::as_str) {
                    Some("ImportError") | Some("ModuleNotFoundError") => "no torch",
                    Some(r) => r,
                    None => "not run",
                }
            )),
            Ok(f) => num(f, key),
            Err(e) => Err(format!("n/a ({e})")),
        }
    };
    let rss = |f: &Result<Fields, String>| f.as_ref().ok().and_then(|f| num(f, "peak_rss").ok());
    let ours_rss = |f: &Fields| num(f, "peak_rss").ok();
    let n_fit = ours_fit.get("n").map_or("?", String::as_str);
    let mut out: Vec<Row> = ours_embeds
        .iter()
        .map(|ours| {
            let n = ours.get("n").map_or("?", String::as_str);
            let precision = match (ours.get("precision"), ours.get("kernel")) {
                (Some(p), Some(k)) => format!("{p} ({k} kernel) against Python's f32"),
                (Some(p), None) => p.clone(),
                _ => "f32".into(),
            };
            Row {
                stage: format!("embedding, MiniLM {precision}, {n} arXiv abstracts, batch 32"),
                ours: num(ours, "secs"),
                python: py(py_embed, "secs"),
                rss: (ours_rss(ours), rss(py_embed)),
            }
        })
        .collect();
    let fit_rss = (ours_rss(ours_fit), rss(py_fit));
    for (stage, key) in [
        (format!("fit after embedding, SOTU {n_fit} (warm)"), "fit_s"),
        ("· UMAP (15 / 5 / 0.0, cosine, seed 42)".into(), "umap_s"),
        ("· HDBSCAN (min_cluster_size 10, EOM)".into(), "hdbscan_s"),
        (
            "· c-TF-IDF (topic words + representative documents)".into(),
            "ctfidf_s",
        ),
        (
            "fit after embedding, cold (first fit in a fresh process)".into(),
            "cold_s",
        ),
        (
            format!(
                "c_v of our {} topics on SOTU (tokenise, count, score)",
                ours_fit.get("topics").map_or("?", String::as_str)
            ),
            "coherence_s",
        ),
    ] {
        out.push(Row {
            stage,
            ours: num(ours_fit, key),
            python: py(py_fit, key),
            rss: fit_rss,
        });
    }
    out
}

fn secs(s: f64) -> String {
    if s < 0.1 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

fn mb(bytes: Option<f64>) -> String {
    bytes.map_or("–".into(), |b| format!("{:.0} MB", b / 1e6))
}

/// The markdown report: the machine, then one row per stage (ratio = Python time / ours).
pub(crate) fn table(cpu: &CpuInfo, load: &str, rows: &[Row]) -> String {
    let units: Vec<String> = cpu
        .features
        .iter()
        .map(|(f, on)| format!("{f} {}", if *on { "yes" } else { "no" }))
        .collect();
    let mut s = format!(
        "\nCPU: {} ({} threads; {}); load average {load}\n\n\
         | stage | ours | Python | ratio (Python / ours) | peak RSS ours | peak RSS Python |\n\
         |---|---:|---:|---:|---:|---:|\n",
        cpu.model,
        cpu.threads,
        units.join(", ")
    );
    for r in rows {
        let ours = r.ours.as_ref().map_or_else(|e| e.clone(), |&v| secs(v));
        let python = r.python.as_ref().map_or_else(|e| e.clone(), |&v| secs(v));
        let ratio = match (&r.ours, &r.python) {
            (Ok(o), Ok(p)) if *o > 0.0 => format!("{:.1}×", p / o),
            _ => "–".into(),
        };
        s.push_str(&format!(
            "| {} | {ours} | {python} | {ratio} | {} | {} |\n",
            r.stage,
            mb(r.rss.0),
            mb(r.rss.1)
        ));
    }
    s.push_str(
        "\nRows marked · are stages inside the warm fit; the fit rows and c_v share one process \
         per side (its peak RSS). Python: BERTopic 0.17.4, umap-learn 0.5.12, hdbscan 0.8.44, \
         gensim 4.4.0 (c_v of the same topic words); with --with-torch, sentence-transformers \
         6.3.0 on torch 2.15.0 (CPU), loading the same model folder as ours.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_become_a_table() {
        let ours_embed =
            parse_fields("stage=embed precision=f32 n=100 dim=384 secs=2.5 peak_rss=500000000");
        let ours_int8 = parse_fields(
            "stage=embed precision=int8 kernel=avx2 n=100 dim=384 secs=2.0 peak_rss=400000000",
        );
        let ours_fit = parse_fields(
            "stage=fit n=10598 cold_s=1.2 fit_s=1.0 umap_s=0.8 hdbscan_s=0.1 ctfidf_s=0.1 \
             topics=139 coherence_s=0.012 c_v=0.5 peak_rss=270000000",
        );
        let py_fit = Ok(parse_fields(
            "stage=fit n=10598 cold_s=40 fit_s=6.0 umap_s=4.0 hdbscan_s=0.2 ctfidf_s=1.8 \
             coherence_s=3.6 peak_rss=1000000000",
        ));
        let py_embed = Ok(parse_fields(
            "stage=embed status=n/a reason=ModuleNotFoundError",
        ));
        let got = rows(&[&ours_embed, &ours_int8], &py_embed, &ours_fit, &py_fit);
        assert_eq!(got.len(), 8);
        assert_eq!(got[0].python, Err("n/a (no torch)".into()));
        assert_eq!(got[1].ours, Ok(2.0));
        assert_eq!(got[2].ours, Ok(1.0));
        assert_eq!(got[2].python, Ok(6.0));
        let cpu = CpuInfo {
            model: "Test CPU".into(),
            threads: 2,
            features: vec![("AVX2", true), ("AVX-512F", false)],
        };
        let t = table(&cpu, "1.00 2.00 3.00", &got);
        assert!(
            t.contains("CPU: Test CPU (2 threads; AVX2 yes, AVX-512F no)"),
            "{t}"
        );
        assert!(
            t.contains("| embedding, MiniLM f32, 100 arXiv abstracts, batch 32 | 2.50 s | n/a (no torch) | – | 500 MB | – |"),
            "{t}"
        );
        assert!(
            t.contains("| embedding, MiniLM int8 (avx2 kernel) against Python's f32, 100 arXiv abstracts, batch 32 | 2.00 s | n/a (no torch) | – | 400 MB | – |"),
            "{t}"
        );
        assert!(
            t.contains("| fit after embedding, SOTU 10598 (warm) | 1.00 s | 6.00 s | 6.0× | 270 MB | 1000 MB |"),
            "{t}"
        );
        assert!(t.contains("| c_v of our 139 topics on SOTU (tokenise, count, score) | 12.0 ms | 3.60 s | 300.0× |"), "{t}");
        // A side that could not run says why instead of a number.
        let none = rows(
            &[&ours_embed],
            &Err("no venv".into()),
            &ours_fit,
            &Err("no venv".into()),
        );
        assert_eq!(none[2].python, Err("n/a (no venv)".into()));
    }
}
