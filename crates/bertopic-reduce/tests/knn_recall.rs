//! Recall of the approximate (RP-forest + NN-descent) k-NN vs exact, on 5,000 real embeddings.
mod common;
use bertopic_reduce::{knn, read_npy_f32, Metric};
use ndarray::s;

#[test]
fn nn_descent_recall_at_least_095() {
    let all =
        read_npy_f32(&common::shared().join("data/arxiv-cs-abstracts.minilm.npy")).expect("npy");
    let x = all.slice(s![..5000, ..]).to_owned();
    let k = 14;
    let exact = knn(x.view(), k, Metric::Cosine, 42, usize::MAX).unwrap();
    let approx = knn(x.view(), k, Metric::Cosine, 42, 0).unwrap();
    let mut hits = 0usize;
    for i in 0..x.nrows() {
        let e = &exact.indices[i * k..(i + 1) * k];
        hits += approx.indices[i * k..(i + 1) * k]
            .iter()
            .filter(|j| e.contains(j))
            .count();
    }
    let recall = hits as f64 / (x.nrows() * k) as f64;
    eprintln!("NN-descent recall@{k} on 5000 MiniLM embeddings: {recall:.4}");
    assert!(recall >= 0.95, "recall {recall}");
}
