//! Encoder throughput on real abstracts (first rows of arxiv-cs-abstracts.csv, Title + " " +
//! Abstract) at batch 16/32/64, and f32 against int8 at batch 32 in one group (`minilm_precision`:
//! the same documents, measured side by side, so their ratio is read from one report). Needs the
//! fetched model. Reports docs/s via criterion throughput.
//! 200 documents by default so ten samples stay within minutes on two cores;
//! `BERTOPIC_BENCH_DOCS=1000` measures the 1,000 (the `throughput` example does one pass).

use bertopic_embed::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn doc_count() -> usize {
    std::env::var("BERTOPIC_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn texts(n: usize) -> Vec<String> {
    let mut rdr = csv::Reader::from_path(bertopic_testdata::data("arxiv-cs-abstracts.csv"))
        .expect("arxiv csv");
    rdr.records()
        .take(n)
        .map(|r| {
            let r = r.expect("csv row");
            format!("{} {}", &r[0], &r[1]).trim().to_string()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let model = resolve_local(DEFAULT_MODEL, &ResolveOptions::default())
        .expect("model not fetched: run `cargo run -p bertopic-embed --example fetch_model`");
    let n_docs = doc_count();
    let docs = texts(n_docs);
    let mut g = c.benchmark_group("minilm_encode");
    g.sample_size(10)
        .measurement_time(std::time::Duration::from_secs(30));
    g.throughput(Throughput::Elements(n_docs as u64));
    for bs in [16, 32, 64] {
        let enc = SentenceEncoder::load(
            &model,
            EncoderOptions {
                batch_size: bs,
                ..Default::default()
            },
        )
        .expect("load");
        g.bench_function(format!("batch{bs}_{n_docs}docs"), |b| {
            b.iter(|| enc.embed(&docs).expect("embed"))
        });
    }
    g.finish();
}

fn bench_precision(c: &mut Criterion) {
    let model = resolve_local(DEFAULT_MODEL, &ResolveOptions::default())
        .expect("model not fetched: run `cargo run -p bertopic-embed --example fetch_model`");
    let n_docs = doc_count();
    let docs = texts(n_docs);
    eprintln!("int8 kernel on this CPU: {:?}", int8_kernel());
    let mut g = c.benchmark_group("minilm_precision");
    g.sample_size(10)
        .measurement_time(std::time::Duration::from_secs(30));
    g.throughput(Throughput::Elements(n_docs as u64));
    for (name, precision) in [("f32", Precision::F32), ("int8", Precision::Int8)] {
        let enc = SentenceEncoder::load(
            &model,
            EncoderOptions {
                precision,
                ..Default::default()
            },
        )
        .expect("load");
        g.bench_function(format!("{name}_batch32_{n_docs}docs"), |b| {
            b.iter(|| enc.embed(&docs).expect("embed"))
        });
    }
    g.finish();
}

/// The f32 pass with the layer stack run over whole chunks (as before #20's grouping) and over
/// groups of about 512 tokens (the default), side by side on the same documents.
fn bench_grouping(c: &mut Criterion) {
    let model = resolve_local(DEFAULT_MODEL, &ResolveOptions::default())
        .expect("model not fetched: run `cargo run -p bertopic-embed --example fetch_model`");
    let n_docs = doc_count();
    let docs = texts(n_docs);
    let enc = SentenceEncoder::load(&model, EncoderOptions::default()).expect("load");
    let mut g = c.benchmark_group("minilm_grouping");
    g.sample_size(10)
        .measurement_time(std::time::Duration::from_secs(30));
    g.throughput(Throughput::Elements(n_docs as u64));
    for (name, tokens) in [
        ("whole_chunk", usize::MAX.to_string()),
        ("default", String::new()),
    ] {
        // Read by the encoder on every chunk; set only between measurements.
        std::env::set_var("BERTOPIC_EMBED_GROUP_TOKENS", &tokens);
        g.bench_function(format!("{name}_batch32_{n_docs}docs"), |b| {
            b.iter(|| enc.embed(&docs).expect("embed"))
        });
    }
    std::env::remove_var("BERTOPIC_EMBED_GROUP_TOKENS");
    g.finish();
}

criterion_group!(benches, bench, bench_precision, bench_grouping);
criterion_main!(benches);
