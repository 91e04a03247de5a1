//! f32 vs int8 encoder on the shared arXiv benchmark: throughput (interleaved reps) and the
//! cosine of each document's int8 embedding to its f32 one.
//!
//! `cargo run --release -p bertopic-embed --example int8_eval -- [docs=1000] [reps=3] [out.npy]`
//! (`out.npy` receives the int8 embeddings). Prints the kernel, docs/s per rep and the cosine
//! min / p1 / median / mean.

use std::time::Instant;

use bertopic_embed::*;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let reps: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let mut rdr = csv::Reader::from_path(bertopic_testdata::data("arxiv-cs-abstracts.csv"))?;
    let mut docs = Vec::new();
    for r in rdr.records().take(n) {
        let r = r?;
        docs.push(format!("{} {}", &r[0], &r[1]).trim().to_string());
    }
    let model = resolve_local(DEFAULT_MODEL, &ResolveOptions::default())?;
    let load = |precision| {
        SentenceEncoder::load(
            &model,
            EncoderOptions {
                precision,
                ..Default::default()
            },
        )
    };
    let f32_enc = load(Precision::F32)?;
    let int8_enc = load(Precision::Int8)?;
    let kernel = int8_kernel();
    println!(
        "int8 kernel: {}{}",
        kernel.name(),
        if kernel.native() {
            ""
        } else {
            " (portable form)"
        }
    );
    let ids = f32_enc.tokenize(&docs)?;
    let toks: usize = ids.iter().map(Vec::len).sum();
    println!("{} docs, {toks} wordpieces", docs.len());
    let mut e32 = None;
    let mut e8 = None;
    for rep in 0..reps {
        for (name, enc, slot) in [("f32", &f32_enc, &mut e32), ("int8", &int8_enc, &mut e8)] {
            let t = Instant::now();
            let e = enc.embed_ids(&ids, 32)?;
            let s = t.elapsed().as_secs_f64();
            println!(
                "rep {rep} {name:>4}: {s:6.2} s  {:6.1} docs/s  {:6.0} wordpieces/s",
                docs.len() as f64 / s,
                toks as f64 / s
            );
            *slot = Some(e);
        }
    }
    let (a, b) = (e32.expect("reps ≥ 1"), e8.expect("reps ≥ 1"));
    let mut cos: Vec<f64> = a
        .outer_iter()
        .zip(b.outer_iter())
        .map(|(x, y)| {
            let dot: f64 = x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum();
            let nx: f64 = x.iter().map(|p| (*p as f64).powi(2)).sum::<f64>().sqrt();
            let ny: f64 = y.iter().map(|p| (*p as f64).powi(2)).sum::<f64>().sqrt();
            dot / (nx * ny)
        })
        .collect();
    cos.sort_by(f64::total_cmp);
    let q = |p: f64| cos[((cos.len() - 1) as f64 * p).round() as usize];
    println!(
        "cosine int8 vs f32 over {} docs: min {:.5}  p1 {:.5}  median {:.5}  mean {:.5}",
        cos.len(),
        cos[0],
        q(0.01),
        q(0.5),
        cos.iter().sum::<f64>() / cos.len() as f64
    );
    if let Some(path) = args.get(2) {
        write_npy(std::path::Path::new(path), &b)?;
        println!("int8 embeddings written to {path}");
    }
    if let Ok(st) = std::fs::read_to_string("/proc/self/status") {
        if let Some(l) = st.lines().find(|l| l.starts_with("VmHWM")) {
            println!("peak RSS {l}");
        }
    }
    Ok(())
}
