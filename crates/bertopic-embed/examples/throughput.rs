//! Quick throughput probe:
//! `cargo run --release -p bertopic-embed --example throughput -- <docs> <batch>... [candle]`
//! (`candle` runs candle-transformers' BERT instead of the fast engine, for comparison).
//! Prints docs/s, wordpieces/s and peak RSS (Linux). Uses mimalloc like the CLI should.

use std::time::Instant;

use bertopic_embed::*;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(200);
    let batches: Vec<usize> = args.iter().skip(1).filter_map(|s| s.parse().ok()).collect();
    let engine = if args.iter().any(|a| a == "candle") {
        Engine::Candle
    } else {
        Engine::Fast
    };
    let mut rdr = csv::Reader::from_path(bertopic_testdata::data("arxiv-cs-abstracts.csv"))?;
    let mut docs = Vec::new();
    for r in rdr.records().take(n) {
        let r = r?;
        docs.push(format!("{} {}", &r[0], &r[1]).trim().to_string());
    }
    let model = resolve_local(DEFAULT_MODEL, &ResolveOptions::default())?;
    for bs in if batches.is_empty() {
        vec![32]
    } else {
        batches
    } {
        let enc = SentenceEncoder::load(
            &model,
            EncoderOptions {
                batch_size: bs,
                progress: true,
                engine,
                ..Default::default()
            },
        )?;
        let t0 = Instant::now();
        let ids = enc.tokenize(&docs)?;
        let toks: usize = ids.iter().map(Vec::len).sum();
        let e = enc.embed_ids(&ids, bs)?;
        let s = t0.elapsed().as_secs_f64();
        println!(
            "{engine:?} batch {bs}: {} docs, {toks} wordpieces in {s:.1} s = {:.1} docs/s, {:.0} wordpieces/s (dim {})",
            docs.len(),
            docs.len() as f64 / s,
            toks as f64 / s,
            e.ncols()
        );
    }
    if let Ok(st) = std::fs::read_to_string("/proc/self/status") {
        if let Some(l) = st.lines().find(|l| l.starts_with("VmHWM")) {
            println!("peak RSS {l}");
        }
    }
    Ok(())
}
