//! Swap pipeline stages: precomputed embeddings, PCA instead of UMAP, k-means instead of HDBSCAN.
//!
//! ```text
//! cargo run --release --example custom_pipeline
//! ```
//! Uses the shared corpus's precomputed MiniLM embeddings (all 10,598 sotu passages, from
//! `../shared` or `$BERTOPIC_SHARED`), so no model is needed.

use bertopic::cluster::{KMeans, KMeansParams};
use bertopic::embed::read_npy;
use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::reduce::{Pca, PcaParams};
use bertopic::Bertopic;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (docs, summary) = read_corpus(
        &bertopic_suite::data("sotu-chunks.csv"),
        &ReadOptions {
            dedupe: false,
            ..ReadOptions::default()
        },
    )?;
    println!("{summary}");
    let all = read_npy(&bertopic_suite::data("sotu-chunks.minilm.npy"))?;
    let rows: Vec<usize> = docs.iter().map(|d| d.row - 1).collect();
    let embeddings = all.select(ndarray::Axis(0), &rows);
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();

    let model = Bertopic::builder()
        .reducer(Box::new(Pca::new(PcaParams {
            n_components: 10,
            ..PcaParams::default()
        })?))
        .clusterer(Box::new(KMeans::new(KMeansParams {
            n_clusters: 20,
            ..KMeansParams::default()
        })?))
        .build()?
        .fit_with_embeddings(&texts, embeddings)?;

    for row in model.topic_info() {
        println!(
            "{:>4} {:>6}  {}",
            row.topic,
            row.count,
            row.representation.join(" ")
        );
    }
    Ok(())
}
