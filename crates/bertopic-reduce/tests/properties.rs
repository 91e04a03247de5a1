//! Property tests: finite output, same seed → same output, thread-count independence, errors.
use bertopic_reduce::{load_state, Metric, Pca, PcaParams, ReduceError, Reducer, Umap, UmapParams};
use ndarray::Array2;
use proptest::prelude::*;

fn params(seed: u64, metric: Metric) -> UmapParams {
    UmapParams {
        n_neighbors: 5,
        n_components: 2,
        n_epochs: Some(30),
        seed,
        metric,
        ..Default::default()
    }
}

fn data_strategy() -> impl Strategy<Value = Array2<f32>> {
    (12usize..40, 3usize..8).prop_flat_map(|(n, d)| {
        proptest::collection::vec(-10.0f32..10.0, n * d)
            .prop_map(move |v| Array2::from_shape_vec((n, d), v).expect("shape"))
    })
}

fn fit_in_pool(threads: usize, p: &UmapParams, x: &Array2<f32>) -> Array2<f32> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    pool.install(|| Umap::new(p.clone()).unwrap().fit(x.view()).unwrap().1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn finite_deterministic_and_thread_independent(x in data_strategy(), seed in 0u64..1000, cos in any::<bool>()) {
        let p = params(seed, if cos { Metric::Cosine } else { Metric::Euclidean });
        let a = fit_in_pool(1, &p, &x);
        let b = fit_in_pool(2, &p, &x);
        let c = fit_in_pool(2, &p, &x);
        prop_assert!(a.iter().all(|v| v.is_finite()));
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&b, &c);
        let (f, _) = Umap::new(p).unwrap().fit(x.view()).unwrap();
        let t1 = f.transform(x.view()).unwrap();
        let t2 = load_state(&f.save_state()).unwrap().transform(x.view()).unwrap();
        prop_assert!(t1.iter().all(|v| v.is_finite()));
        prop_assert_eq!(t1, t2);
    }

    #[test]
    fn pca_finite_and_reloadable(x in data_strategy()) {
        let (f, y) = Pca::new(PcaParams { n_components: 2, seed: 0 }).unwrap().fit(x.view()).unwrap();
        prop_assert!(y.iter().all(|v| v.is_finite()));
        let back = load_state(&f.save_state()).unwrap().transform(x.view()).unwrap();
        prop_assert!(y.iter().zip(back.iter()).all(|(a, b)| (a - b).abs() < 1e-4));
    }
}

#[test]
fn pca_recovers_dominant_axis() {
    // Points spread along (1, 1, 0): the first component's projections carry all variance.
    let x = Array2::from_shape_fn((50, 3), |(i, j)| {
        if j < 2 {
            i as f32
        } else {
            0.5 * ((i % 3) as f32)
        }
    });
    let (_f, y) = Pca::new(PcaParams {
        n_components: 1,
        seed: 0,
    })
    .unwrap()
    .fit(x.view())
    .unwrap();
    let spread = y.column(0).iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(
        spread > 30.0,
        "first component should follow the long axis, got max |y| {spread}"
    );
}

#[test]
fn typed_errors_not_panics() {
    let x = Array2::from_shape_fn((10, 4), |(i, j)| (i * 4 + j) as f32);
    let u = Umap::new(UmapParams::default()).unwrap();
    assert!(matches!(
        u.fit(x.view()),
        Err(ReduceError::TooFewPoints {
            n: 10,
            needed: 16,
            ..
        })
    ));
    assert!(matches!(
        Umap::new(UmapParams {
            n_neighbors: 1,
            ..Default::default()
        }),
        Err(ReduceError::InvalidParameter(_))
    ));
    assert!(matches!(
        Umap::new(UmapParams {
            min_dist: 2.0,
            ..Default::default()
        }),
        Err(ReduceError::InvalidParameter(_))
    ));
    let small = Umap::new(UmapParams {
        n_neighbors: 3,
        n_components: 4,
        ..Default::default()
    })
    .unwrap();
    assert!(matches!(
        small.fit(x.view()),
        Err(ReduceError::InvalidParameter(_))
    ));
    let mut bad = x.clone();
    bad[[7, 2]] = f32::NAN;
    let ok = Umap::new(UmapParams {
        n_neighbors: 3,
        n_components: 2,
        n_epochs: Some(5),
        ..Default::default()
    })
    .unwrap();
    assert!(matches!(
        ok.fit(bad.view()),
        Err(ReduceError::NonFinite { row: 7, col: 2, .. })
    ));
    let (f, _) = ok.fit(x.view()).unwrap();
    assert!(matches!(
        f.transform(Array2::zeros((2, 3)).view()),
        Err(ReduceError::DimensionMismatch { .. })
    ));
    let mut st = f.save_state();
    st.kind = "tsne".into();
    assert!(matches!(
        load_state(&st),
        Err(ReduceError::UnknownKind { .. })
    ));
    let mut st = f.save_state();
    st.arrays.pop();
    assert!(load_state(&st).is_err());
}

#[test]
fn ab_params_match_known_values() {
    // umap-learn's documented curve parameters for min_dist 0.1, spread 1: a ≈ 1.577, b ≈ 0.895.
    let (a, b) = bertopic_reduce::find_ab_params(1.0, 0.1);
    assert!(
        (a - 1.577).abs() < 0.01 && (b - 0.895).abs() < 0.01,
        "a={a} b={b}"
    );
}
