//! Full UMAP fit and transform on 3,000 real embeddings (many row blocks and SGD chunks, so work
//! really is split) give bit-identical output in rayon pools of 1, 2 and 8 threads, with the
//! exact k-NN and with NN-descent.
mod common;
use bertopic_reduce::{read_npy_f32, Reducer, Umap, UmapParams};
use ndarray::s;

#[test]
fn fit_and_transform_identical_on_one_and_two_threads() {
    let all =
        read_npy_f32(&common::shared().join("data/arxiv-cs-abstracts.minilm.npy")).expect("npy");
    let x = all.slice(s![..3000, ..]).to_owned();
    let q = all.slice(s![3000..3300, ..]).to_owned();
    let run = |threads: usize, exact_knn_max: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| {
                let umap = Umap::new(UmapParams {
                    n_epochs: Some(60),
                    exact_knn_max,
                    ..Default::default()
                })
                .unwrap();
                let (f, emb) = umap.fit(x.view()).unwrap();
                (emb, f.transform(q.view()).unwrap())
            })
    };
    for exact_max in [usize::MAX, 0] {
        let a = run(1, exact_max);
        assert!(a.0.iter().all(|v| v.is_finite()));
        // 8 threads on a 2-core machine: tasks are stolen in yet another order.
        for threads in [2, 8] {
            let b = run(threads, exact_max);
            assert_eq!(
                a.0, b.0,
                "fit differs between 1 and {threads} threads (exact_knn_max {exact_max})"
            );
            assert_eq!(
                a.1, b.1,
                "transform differs between 1 and {threads} threads (exact_knn_max {exact_max})"
            );
        }
    }
}
