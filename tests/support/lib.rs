//! Helpers shared by the workspace-level examples, integration tests and benches:
//! where the shared corpora live, and clustering scores against human labels.

use std::path::PathBuf;

/// The `shared/` folder beside the repository (corpora, reference values), or `$BERTOPIC_SHARED`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("BERTOPIC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")))
}

/// A file under `shared/data/`.
pub fn data(name: &str) -> PathBuf {
    shared_dir().join("data").join(name)
}

/// A shared corpus read as the pipeline reads it (no de-duplication, nothing dropped) with its
/// precomputed MiniLM embeddings, one row per document. The `-200` samples have no `.npy` of
/// their own: their rows are found in the full corpus's `.npy` by matching the cleaned text.
pub fn corpus_with_embeddings(
    name: &str,
) -> Result<(Vec<bertopic::preprocess::Document>, ndarray::Array2<f32>), Box<dyn std::error::Error>>
{
    use bertopic::preprocess::{read_corpus, ReadOptions};
    let read = |n: &str| {
        read_corpus(
            &data(&format!("{n}.csv")),
            &ReadOptions {
                dedupe: false,
                ..ReadOptions::default()
            },
        )
        .map(|(docs, _)| docs)
    };
    let docs = read(name)?;
    let own = data(&format!("{name}.minilm.npy"));
    let (npy, rows): (PathBuf, Vec<usize>) = if own.is_file() {
        (own, docs.iter().map(|d| d.row - 1).collect())
    } else {
        let parent = name
            .strip_suffix("-200")
            .ok_or_else(|| format!("{} not found", own.display()))?;
        let full = read(parent)?;
        let mut by_text = std::collections::HashMap::new();
        for d in &full {
            by_text.entry(d.text.as_str()).or_insert(d.row - 1);
        }
        let rows = docs
            .iter()
            .map(|d| {
                by_text
                    .get(d.text.as_str())
                    .copied()
                    .ok_or_else(|| format!("{name} row {} is not in {parent}", d.row))
            })
            .collect::<Result<_, _>>()?;
        (data(&format!("{parent}.minilm.npy")), rows)
    };
    let all = bertopic::embed::read_npy(&npy)?;
    Ok((docs, all.select(ndarray::Axis(0), &rows)))
}
