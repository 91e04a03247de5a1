//! Our side of `cargo xtask bench-report --compare-python` (xtask/src/compare.rs runs it, one
//! process per group so that each peak RSS is its own; xtask/python/bench_compare.py is the
//! Python side of the same work). Prints `bench: key=value ...` lines on stdout.
//!
//! - `bench_compare embed <n> [int8]`: MiniLM (f32, or int8 with this CPU's int8 kernel; default
//!   batch 32) on the first `n` arXiv abstracts of `shared/data/arxiv-cs-abstracts.csv`, one
//!   timed pass after loading the model.
//! - `bench_compare fit <topics.json>`: on the State of the Union corpus (10,598 passages) with
//!   its shared MiniLM `.npy`, the default pipeline (UMAP 15/5/0.0 cosine, HDBSCAN 10, c-TF-IDF,
//!   seed 42) fitted twice in this process (the first is reported as cold, the second's stage
//!   timings as warm), then c_v of the fitted topics on the same documents (tokenise, count,
//!   score). The topics go to `topics.json`, so that gensim scores the same topic words.
//! - `bench_compare model-dir`: the folder the embedding runs load MiniLM from, so that
//!   sentence-transformers loads the same files.
//!
//! `cargo run --release --example bench_compare -- fit target/bench-compare/topics.json`

use std::path::Path;
use std::time::Instant;

use bertopic::{Bertopic, Measure};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Peak resident set size of this process (`VmHWM`), in bytes (0 where /proc is missing).
fn rss_peak() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["embed", n] => embed(n.parse()?, false),
        ["embed", n, "int8"] => embed(n.parse()?, true),
        ["fit", topics] => fit(Path::new(topics)),
        ["model-dir"] => {
            let opts = bertopic::embed::ResolveOptions::default();
            let m = bertopic::embed::resolve_model(bertopic::embed::DEFAULT_MODEL, &opts)?;
            println!("{}", m.dir.display());
            Ok(())
        }
        _ => Err("usage: bench_compare embed <n> [int8] | fit <topics.json> | model-dir".into()),
    }
}

fn embed(n: usize, int8: bool) -> Res<()> {
    let (docs, _) = bertopic_suite::corpus_with_embeddings("arxiv-cs-abstracts")?;
    let texts: Vec<String> = docs.into_iter().take(n).map(|d| d.text).collect();
    let (spec, precision) = if int8 {
        let kernel = bertopic::embed::int8_kernel();
        (
            format!(
                "{}{}",
                bertopic::embed::DEFAULT_MODEL,
                bertopic::INT8_SUFFIX
            ),
            format!("int8 kernel={}", kernel.name()),
        )
    } else {
        (bertopic::embed::DEFAULT_MODEL.to_string(), "f32".into())
    };
    let enc = bertopic::load_embedder(&spec, false)?;
    let t = Instant::now();
    let e = enc.embed(&texts)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "bench: stage=embed precision={precision} n={} dim={} secs={secs:.4} peak_rss={}",
        e.nrows(),
        e.ncols(),
        rss_peak()
    );
    Ok(())
}

fn fit(topics_out: &Path) -> Res<()> {
    let (docs, emb) = bertopic_suite::corpus_with_embeddings("sotu-chunks")?;
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
    let fit_once = || -> Res<(bertopic::TopicModel, f64)> {
        let t = Instant::now();
        let m = Bertopic::builder()
            .seed(42)
            .build()?
            .fit_with_embeddings(&texts, emb.clone())?;
        Ok((m, t.elapsed().as_secs_f64()))
    };
    let (_, cold_s) = fit_once()?;
    let (model, fit_s) = fit_once()?;
    let tm = model.timings();
    let topics = model.coherence_topics();
    let t = Instant::now();
    let cv = model.coherence(&texts, Measure::CV)?;
    let coherence_s = t.elapsed().as_secs_f64();
    bertopic::fs::write_file(topics_out, serde_json::to_string(&topics)?.as_bytes())?;
    println!(
        "bench: stage=fit n={} cold_s={cold_s:.4} fit_s={fit_s:.4} umap_s={:.4} hdbscan_s={:.4} \
         ctfidf_s={:.4} topics={} coherence_s={coherence_s:.4} c_v={:.4} peak_rss={}",
        texts.len(),
        tm.reduce_s,
        tm.cluster_s,
        tm.represent_s,
        topics.len(),
        cv.mean,
        rss_peak()
    );
    Ok(())
}
