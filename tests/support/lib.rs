//! Helpers shared by the workspace-level examples, integration tests and benches:
//! where the shared corpora live, and clustering scores against human labels.

use std::path::{Path, PathBuf};

pub mod predict;

/// The `shared/` folder beside the repository (corpora, reference values), or `$BERTOPIC_SHARED`;
/// a missing folder fails the caller with one line naming `BERTOPIC_SHARED`.
pub use bertopic_testdata::shared_dir;

/// A 200-row sample committed under `examples/data/` (`arxiv-cs-abstracts-200.csv`,
/// `sotu-chunks-200.csv`): present in every clone, no `../shared` needed.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("data")
        .join(name)
}

/// A file under `shared/data/`.
pub use bertopic_testdata::data;

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
