//! Set-up shared by this crate's integration tests. Each test file is its own crate and takes
//! what it needs with `mod support;`, so an item unused by one file is not dead code.
#![allow(dead_code)]

use std::collections::BTreeMap;

use bertopic::embed::read_npy;
use bertopic::preprocess::{read_corpus, ReadOptions};
use ndarray::{Array2, Axis};

/// The shared 200-abstract arXiv sample.
pub struct Sample {
    /// The abstracts' texts, in file order.
    pub docs: Vec<String>,
    /// Their arXiv primary category (`Label`).
    pub labels: Vec<String>,
    /// Their rows of the full corpus' precomputed MiniLM embeddings.
    pub embeddings: Array2<f32>,
}

/// The 200-row sample, its labels, and its rows of the full corpus' embeddings (matched by
/// title and abstract: the sample is a plain copy of those rows).
pub fn arxiv_sample() -> Sample {
    let sample_rows = bertopic_testdata::arxiv_sample_rows();
    let (docs, summary) = read_corpus(
        &bertopic_testdata::data("arxiv-cs-abstracts-200.csv"),
        &ReadOptions {
            dedupe: false,
            ..ReadOptions::default()
        },
    )
    .expect("sample readable");
    assert_eq!(summary.kept, 200);
    let all =
        read_npy(&bertopic_testdata::data("arxiv-cs-abstracts.minilm.npy")).expect("embeddings");
    let rows: Vec<usize> = docs.iter().map(|d| sample_rows[d.row - 1]).collect();
    Sample {
        labels: docs
            .iter()
            .map(|d| d.label.clone().expect("Label column"))
            .collect(),
        docs: docs.into_iter().map(|d| d.text).collect(),
        embeddings: all.select(Axis(0), &rows),
    }
}

/// Class ids of the labels, numbered by first appearance.
pub fn class_ids(labels: &[String]) -> Vec<i64> {
    let mut ids: BTreeMap<&str, i64> = BTreeMap::new();
    labels
        .iter()
        .map(|l| {
            let n = ids.len() as i64;
            *ids.entry(l.as_str()).or_insert(n)
        })
        .collect()
}
