//! c_v (and c_npmi, u_mass) of 139 topics × 10 words on sotu-chunks (10,598 passages), the
//! largest-topic-count realistic case of the reference table (gensim c_v ≈ 13 s there).
//!
//! Passages are tokenised like `CountVectorizer(stop_words="english")`: lower-case, tokens
//! `\b\w\w+\b`, sklearn's English stop words removed. Topic sets: `bertopic` = the real 139
//! topics of Python BERTopic on this corpus (from `tests/data/sotu-bertopic-gensim.json`), and two
//! synthetic sets: the top-10 words of 139 contiguous chunks of passages, ranked by c-TF-IDF
//! (frequent words) or by a chunk-level idf (distinctive words).
//!
//! With `BERTOPIC_COHERENCE_DUMP=/some/dir` set, the bench also writes the texts, topics and Rust
//! scores of each topic set to `sotu-<set>.json` there, for `scripts/gensim_compare.py`.

#[path = "../tests/support/sotu.rs"]
mod sotu;

use bertopic_coherence::{topic_diversity, CoherenceOptions, Measure, ReferenceCorpus};
use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const N_TOPICS: usize = 139;
const TOP_N: usize = 10;

fn sotu_texts() -> Vec<Vec<String>> {
    sotu::sotu_texts(&sotu::shared())
}

/// The 139 topics of Python BERTopic 0.17.4 on sotu-chunks (`CountVectorizer(stop_words="english")`,
/// seeded UMAP), stored with their gensim scores by `scripts/make_sotu_fixture.py`.
fn bertopic_topics() -> Vec<Vec<String>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sotu-bertopic-gensim.json"
    );
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    serde_json::from_value(fixture["topics"].clone()).expect("topics")
}

/// How chunk words are ranked into topics.
#[derive(Clone, Copy)]
enum Scoring {
    /// BERTopic's c-TF-IDF, `tf · ln(1 + A / f_w)`: frequent words, topic diversity ≈ 0.45.
    CTfIdf,
    /// `tf · ln(n_chunks / chunk df)`: distinctive words, topic diversity ≈ 0.66 (the real
    /// BERTopic model on this corpus has 0.679 in the reference table).
    Distinctive,
}

/// Top words of 139 contiguous chunks of passages.
fn chunk_topics(texts: &[Vec<String>], scoring: Scoring) -> Vec<Vec<String>> {
    let bounds: Vec<usize> = (0..=N_TOPICS).map(|k| k * texts.len() / N_TOPICS).collect();
    let class_tf: Vec<HashMap<&str, f64>> = bounds
        .windows(2)
        .map(|b| {
            let mut tf = HashMap::new();
            for t in texts[b[0]..b[1]].iter().flatten() {
                *tf.entry(t.as_str()).or_insert(0.0) += 1.0;
            }
            tf
        })
        .collect();
    let mut df: HashMap<&str, f64> = HashMap::new();
    let mut total: HashMap<&str, f64> = HashMap::new();
    for tf in &class_tf {
        for (w, c) in tf {
            *df.entry(w).or_insert(0.0) += 1.0;
            *total.entry(w).or_insert(0.0) += c;
        }
    }
    let n = class_tf.len() as f64;
    let avg = total.values().sum::<f64>() / n;
    class_tf
        .iter()
        .map(|tf| {
            let mut scored: Vec<(f64, &str)> = tf
                .iter()
                .map(|(w, c)| {
                    let weight = match scoring {
                        Scoring::CTfIdf => (1.0 + avg / total[w]).ln(),
                        Scoring::Distinctive => (n / df[w]).ln(),
                    };
                    (c * weight, *w)
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
            scored
                .iter()
                .take(TOP_N)
                .map(|(_, w)| w.to_string())
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let t0 = Instant::now();
    let texts = sotu_texts();
    let t_tok = t0.elapsed();
    let t0 = Instant::now();
    let corpus = ReferenceCorpus::new(&texts);
    let t_build = t0.elapsed();
    eprintln!(
        "sotu-chunks: {} passages, {} tokens, {} terms; tokenise {:.2?}, ReferenceCorpus::new {:.2?}",
        corpus.n_documents(),
        corpus.n_tokens(),
        corpus.vocabulary_size(),
        t_tok,
        t_build
    );
    let opts = CoherenceOptions::default();
    let mut group = c.benchmark_group("coherence_sotu_139_topics");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    for (name, topics) in [
        ("bertopic", bertopic_topics()),
        ("ctfidf", chunk_topics(&texts, Scoring::CTfIdf)),
        ("distinctive", chunk_topics(&texts, Scoring::Distinctive)),
    ] {
        eprintln!(
            "{name} topics: {} (diversity {:.3})",
            topics.len(),
            topic_diversity(&topics, TOP_N)
        );
        let mut scores = serde_json::Map::new();
        for m in Measure::ALL {
            let t0 = Instant::now();
            let r = corpus.coherence(&topics, m, &opts).expect("coherence");
            eprintln!(
                "  {m}: mean {:.6}, {} virtual documents, one call {:.2?}",
                r.mean,
                r.n_virtual_documents,
                t0.elapsed()
            );
            scores.insert(
                m.to_string(),
                serde_json::json!({ "per_topic": r.per_topic, "mean": r.mean }),
            );
        }
        if let Ok(dir) = std::env::var("BERTOPIC_COHERENCE_DUMP") {
            let path = PathBuf::from(dir).join(format!("sotu-{name}.json"));
            let value = serde_json::json!({ "texts": texts, "topics": topics, "rust": scores });
            std::fs::write(&path, serde_json::to_vec(&value).expect("json")).expect("write dump");
            eprintln!("  wrote {}", path.display());
        }
        group.bench_function(format!("c_v/{name}"), |b| {
            b.iter(|| corpus.coherence(&topics, Measure::CV, &opts).unwrap())
        });
        if name == "bertopic" {
            group.bench_function(format!("c_npmi/{name}"), |b| {
                b.iter(|| corpus.coherence(&topics, Measure::CNpmi, &opts).unwrap())
            });
            group.bench_function(format!("u_mass/{name}"), |b| {
                b.iter(|| corpus.coherence(&topics, Measure::UMass, &opts).unwrap())
            });
        }
    }
    group.bench_function("reference_corpus_new", |b| {
        b.iter(|| ReferenceCorpus::new(&texts))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
