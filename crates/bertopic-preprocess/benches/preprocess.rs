//! Read + clean + tokenise the 29 MB arXiv corpus.

use std::time::Duration;

use bertopic_preprocess::{read_corpus, ReadOptions, Tokenizer, TokenizerConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use bertopic_testdata::shared_dir as shared;

fn bench(c: &mut Criterion) {
    let path = shared().join("data/arxiv-cs-abstracts.csv");
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let tok = Tokenizer::new(TokenizerConfig::default()).unwrap();
    let (docs, _) = read_corpus(&path, &ReadOptions::default()).unwrap();
    let mut g = c.benchmark_group("arxiv-29MB");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Bytes(bytes));
    g.bench_function("read+clean", |b| {
        b.iter(|| read_corpus(&path, &ReadOptions::default()).unwrap().0.len())
    });
    g.bench_function("tokenise(words)", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for d in &docs {
                tok.for_each_word(&d.text, |_| n += 1);
            }
            n
        })
    });
    g.bench_function("read+clean+tokenise", |b| {
        b.iter(|| {
            let (docs, _) = read_corpus(&path, &ReadOptions::default()).unwrap();
            docs.iter().map(|d| tok.words(&d.text).len()).sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
