//! The exact k-NN (symmetric blocked product, per-row locked lists) is the true k-NN and does
//! not depend on the thread count, on 1,200 real embeddings (several row blocks).
mod common;
use bertopic_reduce::{knn, read_npy_f32, Metric};
use ndarray::s;

#[test]
fn exact_knn_is_correct_and_thread_independent() {
    let all =
        read_npy_f32(&common::shared().join("data/arxiv-cs-abstracts.minilm.npy")).expect("npy");
    let x = all.slice(s![..1200, ..]).to_owned();
    let k = 14;
    let run = |threads: usize, metric: Metric| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| knn(x.view(), k, metric, 42, usize::MAX).unwrap())
    };
    for metric in [Metric::Cosine, Metric::Euclidean] {
        let (a, b) = (run(1, metric), run(2, metric));
        assert_eq!(a.indices, b.indices);
        assert_eq!(a.distances, b.distances);
        // Brute-force check of a few rows in f64.
        for i in [0usize, 1, 577, 1199] {
            let mut d: Vec<(f64, usize)> = (0..x.nrows())
                .filter(|&j| j != i)
                .map(|j| {
                    let (xi, xj) = (x.row(i), x.row(j));
                    let v = match metric {
                        Metric::Cosine => {
                            let dot: f64 = xi
                                .iter()
                                .zip(xj.iter())
                                .map(|(p, q)| *p as f64 * *q as f64)
                                .sum();
                            let ni: f64 =
                                xi.iter().map(|p| (*p as f64).powi(2)).sum::<f64>().sqrt();
                            let nj: f64 =
                                xj.iter().map(|p| (*p as f64).powi(2)).sum::<f64>().sqrt();
                            1.0 - dot / (ni * nj)
                        }
                        Metric::Euclidean => xi
                            .iter()
                            .zip(xj.iter())
                            .map(|(p, q)| ((p - q) as f64).powi(2))
                            .sum::<f64>()
                            .sqrt(),
                    };
                    (v, j)
                })
                .collect();
            d.sort_by(|p, q| p.0.total_cmp(&q.0));
            let got = &a.indices[i * k..(i + 1) * k];
            let hits = d[..k]
                .iter()
                .filter(|(_, j)| got.contains(&(*j as u32)))
                .count();
            // Near-ties may swap at the k-th place under f32 rounding.
            assert!(
                hits >= k - 1,
                "{metric:?} row {i}: {hits}/{k} true neighbours"
            );
        }
    }
}
