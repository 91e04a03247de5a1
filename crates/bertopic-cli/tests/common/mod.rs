//! Helpers shared by the binary's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

pub use bertopic_testdata::shared_dir as shared;

pub fn bertopic(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args(args)
        .output()
        .expect("the bertopic binary runs")
}

pub fn ok(args: &[&str]) -> String {
    let out = bertopic(args);
    assert!(
        out.status.success(),
        "bertopic {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes the arXiv 200-row sample's embeddings to `dst` (see [`corpus_sample_embeddings`]).
pub fn sample_embeddings(dst: &Path) {
    corpus_sample_embeddings("arxiv-cs-abstracts", dst)
}

/// Writes the embeddings of `shared/data/{corpus}-200.csv` (its rows of the full corpus'
/// precomputed MiniLM embeddings, matched by the first two columns) to `dst`, so training needs
/// no model.
pub fn corpus_sample_embeddings(corpus: &str, dst: &Path) {
    let data = shared().join("data");
    let mut full = csv::Reader::from_path(data.join(format!("{corpus}.csv"))).expect("corpus");
    let index: BTreeMap<(String, String), usize> = full
        .records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.expect("record");
            ((r[0].to_string(), r[1].to_string()), i)
        })
        .collect();
    let mut small = csv::Reader::from_path(data.join(format!("{corpus}-200.csv"))).expect("sample");
    let rows: Vec<usize> = small
        .records()
        .map(|r| {
            let r = r.expect("record");
            index[&(r[0].to_string(), r[1].to_string())]
        })
        .collect();
    let all =
        bertopic::embed::read_npy(&data.join(format!("{corpus}.minilm.npy"))).expect("embeddings");
    bertopic::embed::write_npy(dst, &all.select(ndarray::Axis(0), &rows)).expect("write npy");
}
