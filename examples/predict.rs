//! Load a saved model and predict topics of new documents.
//!
//! ```text
//! cargo run --release -p bertopic-cli -- train --input examples/data/arxiv-cs-abstracts-200.csv --output runs/arxiv200
//! cargo run --release --example predict -- runs/arxiv200 "Diffusion models for image synthesis"
//! ```

use bertopic::TopicModel;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: predict MODEL_DIR TEXT...")?;
    let texts: Vec<String> = args.collect();
    if texts.is_empty() {
        return Err("give at least one text to classify".into());
    }
    let model = TopicModel::load(dir.as_ref())?;
    let embedder = bertopic::load_embedder(&model.params().embedding_model, false)?;
    let (topics, probs) = model.transform(&texts, embedder.as_ref())?;
    for ((text, t), p) in texts.iter().zip(topics).zip(probs) {
        let name = model.topic(t).map(|t| t.name.clone()).unwrap_or_default();
        println!("{t:>4} ({p:.2}) {name}  ← {text}");
    }
    Ok(())
}
