//! The approximate k-NN (RP forest + NN-descent) against the exact one on 5,000 real MiniLM
//! embeddings: its recall, and that its graph has the same bits on 1 and 4 threads.
mod common;
use bertopic_reduce::{knn, read_npy_f32, Metric};
use ndarray::{s, Array2};

fn rows(n: usize) -> Array2<f32> {
    let all =
        read_npy_f32(&common::shared().join("data/arxiv-cs-abstracts.minilm.npy")).expect("npy");
    all.slice(s![..n, ..]).to_owned()
}

/// Floor 0.95: the recall the scale bench asks of 100k (tiled) and 20k (real) rows. 5,000 real
/// rows measure 0.978 (fewer rows: the RP leaves cover more of each neighbourhood), so a
/// regression in the sampling or the join shows well before the floor is missed by noise.
#[test]
fn nn_descent_recall_at_least_095() {
    let x = rows(5000);
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

/// 5,000 rows make two join batches per round (4,096 candidate sets each), so offers from one
/// batch are applied before the next reads the graph, and each batch's offers come from
/// threads in a timing-dependent order: the graph must not depend on either.
#[test]
fn nn_descent_same_bits_on_one_and_four_threads() {
    let x = rows(5000);
    let run = |threads: usize, metric: Metric| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| knn(x.view(), 14, metric, 7, 0).unwrap())
    };
    for metric in [Metric::Cosine, Metric::Euclidean] {
        let (a, b) = (run(1, metric), run(4, metric));
        assert_eq!(a.indices, b.indices, "{metric:?}: indices differ");
        let bits = |d: &[f32]| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&a.distances),
            bits(&b.distances),
            "{metric:?}: distances differ"
        );
        // Each row sorted ascending, without self loops or repeats.
        for (i, (row, dist)) in a.indices.chunks(14).zip(a.distances.chunks(14)).enumerate() {
            assert!(dist.windows(2).all(|w| w[0] <= w[1]), "row {i} unsorted");
            let mut r = row.to_vec();
            r.sort_unstable();
            r.dedup();
            assert_eq!(r.len(), 14, "row {i} repeats a neighbour");
            assert!(!row.contains(&(i as u32)), "row {i} holds itself");
        }
    }
}
