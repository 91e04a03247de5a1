use bertopic_cluster::{
    load_state, ClusterSelection, Clusterer, FittedClusterer, Hdbscan, HdbscanParams, KMeans,
    KMeansParams,
};
use ndarray::Array2;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn check_fitted(f: &dyn FittedClusterer, x: &Array2<f64>) -> Result<(), TestCaseError> {
    let k = f.n_clusters() as i64;
    let labels = f.labels();
    prop_assert_eq!(labels.len(), x.nrows());
    prop_assert!(labels.iter().all(|&l| l >= -1 && l < k));
    // Every cluster has members, numbered largest first.
    let mut sizes = vec![0usize; k as usize];
    for &l in labels.iter().filter(|&&l| l >= 0) {
        sizes[l as usize] += 1;
    }
    prop_assert!(sizes.iter().all(|&s| s > 0));
    prop_assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
    for (&l, &p) in labels.iter().zip(f.probabilities()) {
        prop_assert!((0.0..=1.0).contains(&p), "probability {}", p);
        if l < 0 {
            prop_assert_eq!(p, 0.0);
        }
    }
    let (pl, pp) = f.predict(x.view()).unwrap();
    prop_assert!(pl.iter().all(|&l| l >= -1 && l < k));
    prop_assert!(pp.iter().all(|p| (0.0..=1.0).contains(p)));
    let loaded = load_state(&f.save_state()).unwrap();
    prop_assert_eq!(loaded.labels(), labels);
    prop_assert_eq!(loaded.predict(x.view()).unwrap(), (pl, pp));
    Ok(())
}

fn params_strategy() -> impl Strategy<Value = HdbscanParams> {
    (
        2usize..12,
        proptest::option::of(1usize..12),
        any::<bool>(),
        prop_oneof![Just(0.0), 0.0f64..3.0],
        any::<bool>(),
    )
        .prop_map(|(mcs, ms, leaf, eps, single)| HdbscanParams {
            min_cluster_size: mcs,
            min_samples: ms,
            selection: if leaf {
                ClusterSelection::Leaf
            } else {
                ClusterSelection::Eom
            },
            cluster_selection_epsilon: eps,
            allow_single_cluster: single,
        })
}

/// Points with duplicates and a coarse grid (many tied distances), at a random scale that
/// reaches magnitudes where squared distances overflow.
fn points_strategy() -> impl Strategy<Value = Array2<f64>> {
    (
        1usize..5,
        1usize..90,
        prop_oneof![Just(1.0), Just(1e-300), Just(1e200)],
    )
        .prop_flat_map(|(d, n, scale)| {
            proptest::collection::vec(prop_oneof![-4i32..4, -50i32..50], n * d).prop_map(move |v| {
                Array2::from_shape_vec((n, d), v.iter().map(|&a| a as f64 * scale).collect())
                    .unwrap()
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn hdbscan_is_total_consistent_and_deterministic(x in points_strategy(), params in params_strategy()) {
        let h = Hdbscan::new(params).unwrap();
        let f = h.fit(x.view()).unwrap();
        check_fitted(f.as_ref(), &x)?;
        let g = h.fit(x.view()).unwrap();
        prop_assert_eq!(f.labels(), g.labels());
        prop_assert_eq!(f.probabilities(), g.probabilities());
    }

    #[test]
    fn hdbscan_on_continuous_values(vals in proptest::collection::vec(-50.0f64..50.0, 3..300), mcs in 2usize..8) {
        let n = vals.len() / 3;
        let x = Array2::from_shape_vec((n, 3), vals[..n * 3].to_vec()).unwrap();
        let h = Hdbscan::new(HdbscanParams { min_cluster_size: mcs, ..Default::default() }).unwrap();
        let f = h.fit(x.view()).unwrap();
        check_fitted(f.as_ref(), &x)?;
    }

    #[test]
    fn kmeans_is_total_and_round_trips(x in points_strategy(), k in 1usize..6, seed in 0u64..4) {
        let km = KMeans::new(KMeansParams { n_clusters: k, seed, ..Default::default() }).unwrap();
        match km.fit(x.view()) {
            Ok(f) => {
                prop_assert!(f.labels().iter().all(|&l| l >= 0 && l < f.n_clusters() as i64));
                let loaded = load_state(&f.save_state()).unwrap();
                prop_assert_eq!(loaded.predict(x.view()).unwrap(), f.predict(x.view()).unwrap());
                let g = km.fit(x.view()).unwrap();
                prop_assert_eq!(f.labels(), g.labels());
            }
            Err(e) => prop_assert!(x.nrows() < k, "unexpected error {}", e),
        }
    }
}

#[test]
fn kmeans_separates_blobs() {
    let mut v = Vec::new();
    for i in 0..90 {
        let c = (i % 3) as f64 * 20.0;
        v.extend([c + (i % 7) as f64 * 0.1, c - (i % 5) as f64 * 0.1]);
    }
    let x = Array2::from_shape_vec((90, 2), v).unwrap();
    let f = KMeans::new(KMeansParams {
        n_clusters: 3,
        ..Default::default()
    })
    .unwrap()
    .fit(x.view())
    .unwrap();
    for i in 0..90 {
        assert_eq!(f.labels()[i], f.labels()[i % 3], "point {i}");
    }
    let (p, _) = f.predict(x.view()).unwrap();
    assert_eq!(p, f.labels());
}

#[test]
fn bad_input_is_a_typed_error() {
    let x = Array2::from_shape_vec((3, 1), vec![0.0, f64::NAN, 1.0]).unwrap();
    let h = Hdbscan::new(HdbscanParams {
        min_cluster_size: 2,
        ..Default::default()
    })
    .unwrap();
    assert!(h
        .fit(x.view())
        .err()
        .expect("NaN rejected")
        .to_string()
        .contains("row 1"));
    assert!(Hdbscan::new(HdbscanParams {
        min_cluster_size: 1,
        ..Default::default()
    })
    .is_err());
}
