//! `cargo xtask scale-bench [--sizes 10000,100000,300000,1000000] [--checks]`: fit given
//! embeddings at each size (release build of `examples/scale_bench.rs`, one process per size so each peak RSS
//! is its own), then a table of per-stage time and peak RSS and the growth exponent between
//! consecutive sizes (time ∝ n^e; n log n shows as e a little above 1). `--checks` first runs
//! the example's quality checks: Borůvka vs Prim topics on the arXiv 20k fit, ARI of a 50 %
//! sample fit + predict against the full fit, NN-descent recall at 20k and 100k.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, root};

const DEFAULT_SIZES: &str = "10000,100000,300000,1000000";

/// Per-stage columns of the example's `scale:` line: (label, seconds key, rss key).
const STAGES: [(&str, &str, &str); 4] = [
    ("reduce (UMAP)", "reduce_s", "reduce_rss"),
    ("cluster (HDBSCAN)", "cluster_s", "cluster_rss"),
    ("represent (c-TF-IDF)", "represent_s", "represent_rss"),
    ("fit total", "fit_s", "fit_peak_rss"),
];

pub(crate) fn scale_bench(args: &[String]) -> Result<(), String> {
    let mut sizes = DEFAULT_SIZES.to_string();
    let mut checks = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--checks" => checks = true,
            "--sizes" => {
                sizes = it
                    .next()
                    .ok_or("--sizes needs a value, e.g. --sizes 10000,100000")?
                    .clone()
            }
            other => return Err(format!("scale-bench: unknown argument `{other}`")),
        }
    }
    let sizes: Vec<usize> = sizes
        .split(',')
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse::<usize>()
                .map_err(|e| format!("--sizes: `{s}` is not a number ({e})"))
        })
        .collect::<Result<_, _>>()?;
    // No `-p`: the default members' feature set, as other release builds use (a different
    // selection would rebuild candle).
    cargo(&["build", "--release", "--example", "scale_bench"])?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let bin = target.join("release").join("examples").join("scale_bench");
    if checks {
        for args in [
            &["mst"][..],
            &["ari"],
            &["recall", "20000"],
            &["recall", "100000"],
        ] {
            eprintln!("xtask: {} {}", bin.display(), args.join(" "));
            let status = Command::new(&bin)
                .args(args)
                .current_dir(root())
                .status()
                .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
            if !status.success() {
                return Err(format!("scale_bench {} failed ({status})", args.join(" ")));
            }
        }
    }
    let mut rows: Vec<HashMap<String, String>> = Vec::new();
    for &n in &sizes {
        let dir = target.join("scale-bench").join(format!("model-{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("xtask: {} {n} {}", bin.display(), dir.display());
        // Stage timings of UMAP's sub-steps go to stderr (BERTOPIC_REDUCE_TIMING).
        let out = Command::new(&bin)
            .arg(n.to_string())
            .arg(&dir)
            .env("BERTOPIC_REDUCE_TIMING", "1")
            .current_dir(root())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!("scale_bench {n} failed ({}): {stdout}", out.status));
        }
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("scale: "))
            .ok_or_else(|| format!("scale_bench {n} printed no `scale:` line: {stdout}"))?;
        eprintln!("scale: {line}");
        let mut row: HashMap<String, String> = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // Loading again in a fresh process: its peak RSS is the load's alone, not the fit's.
        let out = Command::new(&bin)
            .arg("load")
            .arg(&dir)
            .current_dir(root())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("load: "))
            .filter(|_| out.status.success())
            .ok_or_else(|| format!("scale_bench load {n} failed ({}): {stdout}", out.status))?;
        eprintln!("load: {line}");
        for (k, v) in line.split_whitespace().filter_map(|kv| kv.split_once('=')) {
            match k {
                "load_s" => row.insert("fresh_load_s".into(), v.into()),
                "load_peak_rss" => row.insert(k.into(), v.into()),
                _ => None,
            };
        }
        let _ = std::fs::remove_dir_all(&dir);
        rows.push(row);
    }
    print!("{}", table(&rows));
    Ok(())
}

fn num(row: &HashMap<String, String>, key: &str) -> f64 {
    row.get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn gib(bytes: f64) -> String {
    format!("{:.2}", bytes / (1u64 << 30) as f64)
}

/// Markdown table: one row per stage and size, with the time exponent from the previous size.
fn table(rows: &[HashMap<String, String>]) -> String {
    let mut s = String::from(
        "\nFit given embeddings (arXiv MiniLM 20k × 384; above 20k tiled with seeded ±0.005 noise, texts repeated)\n\n\
         | stage | n | time (s) | peak RSS (GiB) | time exponent vs previous n |\n|---|---:|---:|---:|---:|\n",
    );
    for (label, tk, rk) in STAGES {
        for (i, r) in rows.iter().enumerate() {
            let (n, t) = (num(r, "n"), num(r, tk));
            let exp = if i == 0 {
                "".to_string()
            } else {
                let (n0, t0) = (num(&rows[i - 1], "n"), num(&rows[i - 1], tk));
                format!("{:.2}", (t / t0).ln() / (n / n0).ln())
            };
            s.push_str(&format!(
                "| {label} | {n} | {t:.1} | {} | {exp} |\n",
                gib(num(r, rk))
            ));
        }
    }
    s.push_str(
        "\n| n | process peak RSS (GiB) | texts (GiB) | model.json (MB) | model.safetensors (MB) | save (s) | load (s) | load alone: time (s), peak RSS (GiB) |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2}, {} |\n",
            num(r, "n"),
            gib(num(r, "peak_rss")),
            gib(num(r, "text_bytes")),
            num(r, "json_bytes") / 1e6,
            num(r, "tensor_bytes") / 1e6,
            num(r, "save_s"),
            num(r, "load_s"),
            num(r, "fresh_load_s"),
            gib(num(r, "load_peak_rss")),
        ));
    }
    s
}
