//! Times [`bertopic_represent::fit`] on a real corpus and optionally dumps the whole fitted
//! representation (floats as JSON round-trip values, so bit-exact) for before/after comparisons.
//!
//! ```text
//! cargo run --release -p bertopic-represent --example represent_timing -- \
//!     CORPUS.csv (LABELS.csv | --label-column) [RUNS] [DUMP.json]
//! ```
//!
//! `LABELS.csv` is a `document_topics.csv` written by `bertopic train` (columns `row,topic`);
//! `--label-column` groups documents by the corpus' own `Label` column instead (outliers: none).
//! Documents are read exactly as the facade reads them (`read_corpus` with default options).
//! With `REPRESENT_STREAM=1` the streaming entry point [`fit_streaming`] is timed instead.

use std::collections::HashMap;
use std::time::Instant;

use bertopic_preprocess::{read_corpus, Tokenizer, TokenizerConfig};
use bertopic_represent::{fit, fit_streaming, RepresentParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (corpus, labels_src) = match (args.first(), args.get(1)) {
        (Some(c), Some(l)) => (c.clone(), l.clone()),
        _ => {
            eprintln!("usage: represent_timing CORPUS.csv (LABELS.csv | --label-column) [RUNS] [DUMP.json]");
            std::process::exit(2);
        }
    };
    let runs: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(5);
    let dump = args.get(3);
    let (docs, _) = read_corpus(std::path::Path::new(&corpus), &Default::default())?;
    let labels: Vec<i64> = if labels_src == "--label-column" {
        let mut ids: HashMap<String, i64> = HashMap::new();
        let mut sorted: Vec<String> = docs.iter().filter_map(|d| d.label.clone()).collect();
        sorted.sort();
        sorted.dedup();
        for (i, l) in sorted.into_iter().enumerate() {
            ids.insert(l, i as i64);
        }
        docs.iter()
            .map(|d| d.label.as_ref().map_or(-1, |l| ids[l]))
            .collect()
    } else {
        let mut by_row: HashMap<usize, i64> = HashMap::new();
        let mut rdr = csv::Reader::from_path(&labels_src)?;
        for rec in rdr.records() {
            let rec = rec?;
            by_row.insert(rec[0].parse()?, rec[1].parse()?);
        }
        docs.iter()
            .map(|d| by_row.get(&d.row).copied().ok_or("row without a topic"))
            .collect::<Result<_, _>>()?
    };
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
    let tokenizer = Tokenizer::new(TokenizerConfig::default())?;
    let analyzer = |s: &str| tokenizer.terms(s);
    let stream = |s: &str, f: &mut dyn FnMut(&str)| tokenizer.for_each_term(s, f);
    let streaming = std::env::var("REPRESENT_STREAM").is_ok_and(|v| v == "1");
    let params = RepresentParams::default();
    let mut best = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    let mut rep = None;
    for _ in 0..runs.max(1) {
        let (t, c) = (Instant::now(), cpu_seconds());
        let r = if streaming {
            fit_streaming(&texts, &labels, &stream, &params)?
        } else {
            fit(&texts, &labels, &analyzer, &params)?
        };
        let (s, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
        best = best.min(s);
        best_cpu = best_cpu.min(cpu);
        eprintln!("fit: {s:.4} s wall, {cpu:.4} s cpu");
        rep = Some(r);
    }
    let rep = rep.ok_or("no run")?;
    println!(
        "{}{} docs, {} topics, {} terms, threads {}: best {best:.4} s wall, {best_cpu:.4} s cpu",
        if streaming { "streaming: " } else { "" },
        texts.len(),
        rep.topic_ids.len(),
        rep.vocabulary.len(),
        rayon::current_num_threads()
    );
    if let Some(path) = dump {
        std::fs::write(path, serde_json::to_string(&rep)?)?;
    }
    Ok(())
}

/// CPU time of all threads of this process so far (Linux schedstat, nanoseconds; 0 elsewhere):
/// steadier than wall time when other jobs share the cores.
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ns = 0u64;
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
            ns += s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    ns as f64 * 1e-9
}
