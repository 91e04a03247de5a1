//! Helpers shared by the binary's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn shared() -> PathBuf {
    std::env::var_os("BERTOPIC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
}

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

/// Writes the 200-row sample's embeddings (its rows of the full corpus' precomputed MiniLM
/// embeddings, matched by title and abstract) to `dst`, so training needs no model.
pub fn sample_embeddings(dst: &Path) {
    let data = shared().join("data");
    let mut full = csv::Reader::from_path(data.join("arxiv-cs-abstracts.csv")).expect("corpus");
    let index: BTreeMap<(String, String), usize> = full
        .records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.expect("record");
            ((r[0].to_string(), r[1].to_string()), i)
        })
        .collect();
    let mut small =
        csv::Reader::from_path(data.join("arxiv-cs-abstracts-200.csv")).expect("sample");
    let rows: Vec<usize> = small
        .records()
        .map(|r| {
            let r = r.expect("record");
            index[&(r[0].to_string(), r[1].to_string())]
        })
        .collect();
    let all =
        bertopic::embed::read_npy(&data.join("arxiv-cs-abstracts.minilm.npy")).expect("embeddings");
    bertopic::embed::write_npy(dst, &all.select(ndarray::Axis(0), &rows)).expect("write npy");
}
