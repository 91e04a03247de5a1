//! Fit a topic model on a corpus and print the topic table.
//!
//! ```text
//! cargo run --release --example quickstart [-- path/to/corpus.csv]
//! ```
//! Without an argument it reads the 200 arXiv abstracts committed in `examples/data/`.
//! Embeds with all-MiniLM-L6-v2 (fetched on first use), then UMAP → HDBSCAN → c-TF-IDF.

use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::Bertopic;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .map(Into::into)
        .unwrap_or_else(|| bertopic_suite::sample("arxiv-cs-abstracts-200.csv"));
    let (docs, summary) = read_corpus(&path, &ReadOptions::default())?;
    println!("{summary}");
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();

    let model = Bertopic::builder()
        .min_topic_size(5)
        .seed(42)
        .build()?
        .fit(&texts)?;

    println!("{:>6} {:>6}  name", "topic", "count");
    for row in model.topic_info() {
        println!("{:>6} {:>6}  {}", row.topic, row.count, row.name);
    }
    Ok(())
}
