//! c_v (and c_npmi, u_mass) of 139 topics × 10 words on sotu-chunks (10,598 passages), the
//! largest-topic-count realistic case of the reference table (gensim c_v ≈ 13 s there).
//!
//! Passages are tokenised like `CountVectorizer(stop_words="english")`: lower-case, tokens
//! `\b\w\w+\b`, sklearn's English stop words removed. Topics are the top-10 c-TF-IDF words of 139
//! contiguous chunks of passages (what BERTopic would produce for 139 clusters).
//!
//! With `BERTOPIC_COHERENCE_DUMP=/path/file.json` set, the bench also writes the texts, topics and
//! Rust scores to that file, for `scripts/gensim_compare.py` (gensim side-by-side check).

use bertopic_coherence::{CoherenceOptions, Measure, ReferenceCorpus};
use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const N_TOPICS: usize = 139;
const TOP_N: usize = 10;

fn shared() -> PathBuf {
    std::env::var("BERTOPIC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
}

fn sotu_texts() -> Vec<Vec<String>> {
    let stop: HashSet<String> =
        std::fs::read_to_string(shared().join("reference/sklearn-english-stop-words.txt"))
            .expect("stop-word list")
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
    let token = regex::Regex::new(r"\b\w\w+\b").expect("valid regex");
    let mut reader =
        csv::Reader::from_path(shared().join("data/sotu-chunks.csv")).expect("sotu-chunks.csv");
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let (title, abstract_) = (col("Title"), col("Abstract"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv row");
            let text = format!("{} {}", &r[title], &r[abstract_]).to_lowercase();
            token
                .find_iter(&text)
                .map(|m| m.as_str())
                .filter(|t| !stop.contains(*t))
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Top words of contiguous chunks of passages by c-TF-IDF (`tf · ln(1 + A / f_w)`).
fn chunk_topics(texts: &[Vec<String>]) -> Vec<Vec<String>> {
    let bounds: Vec<usize> = (0..=N_TOPICS).map(|k| k * texts.len() / N_TOPICS).collect();
    let class_tf: Vec<HashMap<&str, f64>> = bounds
        .windows(2)
        .map(|b| &texts[b[0]..b[1]])
        .map(|docs| {
            let mut tf = HashMap::new();
            for t in docs.iter().flatten() {
                *tf.entry(t.as_str()).or_insert(0.0) += 1.0;
            }
            tf
        })
        .collect();
    let mut total: HashMap<&str, f64> = HashMap::new();
    for tf in &class_tf {
        for (w, c) in tf {
            *total.entry(w).or_insert(0.0) += c;
        }
    }
    let avg = total.values().sum::<f64>() / class_tf.len() as f64;
    class_tf
        .iter()
        .map(|tf| {
            let mut scored: Vec<(f64, &str)> = tf
                .iter()
                .map(|(w, c)| (c * (1.0 + avg / total[w]).ln(), *w))
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
    let topics = chunk_topics(&texts);
    let t_tok = t0.elapsed();
    let t0 = Instant::now();
    let corpus = ReferenceCorpus::new(&texts);
    let t_build = t0.elapsed();
    eprintln!(
        "sotu-chunks: {} passages, {} tokens, {} terms, {} topics ({} distinct words); \
         tokenise+topics {:.2?}, ReferenceCorpus::new {:.2?}",
        corpus.n_documents(),
        corpus.n_tokens(),
        corpus.vocabulary_size(),
        topics.len(),
        topics.iter().flatten().collect::<HashSet<_>>().len(),
        t_tok,
        t_build
    );
    let opts = CoherenceOptions::default();
    let mut scores: Scores = Vec::new();
    for m in Measure::ALL {
        let t0 = Instant::now();
        let r = corpus.coherence(&topics, m, &opts).expect("coherence");
        eprintln!(
            "{m}: mean {:.6}, {} virtual documents, one call {:.2?}",
            r.mean,
            r.n_virtual_documents,
            t0.elapsed()
        );
        scores.push((m.to_string(), r.per_topic, r.mean));
    }
    if let Ok(path) = std::env::var("BERTOPIC_COHERENCE_DUMP") {
        dump(&path, &texts, &topics, &scores);
    }

    let mut group = c.benchmark_group("coherence_sotu_139_topics");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("c_v", |b| {
        b.iter(|| corpus.coherence(&topics, Measure::CV, &opts).unwrap())
    });
    group.bench_function("c_npmi", |b| {
        b.iter(|| corpus.coherence(&topics, Measure::CNpmi, &opts).unwrap())
    });
    group.bench_function("u_mass", |b| {
        b.iter(|| corpus.coherence(&topics, Measure::UMass, &opts).unwrap())
    });
    group.bench_function("reference_corpus_new", |b| {
        b.iter(|| ReferenceCorpus::new(&texts))
    });
    group.finish();
}

type Scores = Vec<(String, Vec<f64>, f64)>;

fn dump(path: &str, texts: &[Vec<String>], topics: &[Vec<String>], scores: &Scores) {
    let results: serde_json::Map<String, serde_json::Value> = scores
        .iter()
        .map(|(m, per_topic, mean)| {
            (
                m.clone(),
                serde_json::json!({ "per_topic": per_topic, "mean": mean }),
            )
        })
        .collect();
    let value = serde_json::json!({ "texts": texts, "topics": topics, "rust": results });
    std::fs::write(path, serde_json::to_vec(&value).expect("json")).expect("write dump");
    eprintln!("wrote {path}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
