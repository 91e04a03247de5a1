//! Scores topics from a JSON file `{"texts": [[token, …], …], "topics": [[word, …], …]}` with
//! every measure, prints timings, and writes the file back with a `rust` section
//! (`{measure: {mean, per_topic}}`) for `scripts/gensim_compare.py`.
//!
//! `cargo run --release -p bertopic-coherence --example score_file -- in.json out.json`

use bertopic_coherence::{topic_diversity, CoherenceOptions, Measure, ReferenceCorpus};
use serde_json::{json, Map, Value};
use std::time::Instant;

fn strings(v: &Value) -> Result<Vec<Vec<String>>, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("expected a list of token lists: {e}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        return Err("usage: score_file IN.json OUT.json".into());
    };
    let mut data: Value = serde_json::from_slice(&std::fs::read(input)?)?;
    let texts = strings(&data["texts"])?;
    let topics = strings(&data["topics"])?;
    let t0 = Instant::now();
    let corpus = ReferenceCorpus::new(&texts);
    println!(
        "{} texts, {} tokens, {} terms, {} topics (diversity {:.3}); ReferenceCorpus::new {:.2?}",
        corpus.n_documents(),
        corpus.n_tokens(),
        corpus.vocabulary_size(),
        topics.len(),
        topic_diversity(&topics, 10),
        t0.elapsed()
    );
    let mut rust = Map::new();
    for m in Measure::ALL {
        let t0 = Instant::now();
        let r = corpus.coherence(&topics, m, &CoherenceOptions::default())?;
        println!(
            "{m}: mean {:.6}, {} virtual documents, {} dropped words, {:.2?}",
            r.mean,
            r.n_virtual_documents,
            r.dropped_words,
            t0.elapsed()
        );
        rust.insert(
            m.to_string(),
            json!({ "mean": r.mean, "per_topic": r.per_topic }),
        );
    }
    data["rust"] = Value::Object(rust);
    std::fs::write(output, serde_json::to_vec(&data)?)?;
    Ok(())
}
