use bertopic_cluster::{load_state, Clusterer, Hdbscan, HdbscanParams, KMeans, KMeansParams};
use ndarray::Array2;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn hdbscan_never_panics_and_is_deterministic(vals in proptest::collection::vec(-50.0f64..50.0, 30..240), mcs in 2usize..8) {
        let n = vals.len() / 3;
        let x = Array2::from_shape_vec((n, 3), vals[..n * 3].to_vec()).unwrap();
        let h = Hdbscan::new(HdbscanParams { min_cluster_size: mcs, ..Default::default() }).unwrap();
        match h.fit(x.view()) {
            Ok(f) => {
                let k = f.n_clusters() as i64;
                prop_assert!(f.labels().iter().all(|&l| l >= -1 && l < k));
                let g = h.fit(x.view()).unwrap();
                prop_assert_eq!(f.labels(), g.labels());
                let loaded = load_state(&f.save_state()).unwrap();
                prop_assert_eq!(f.predict(x.view()).unwrap(), loaded.predict(x.view()).unwrap());
            }
            Err(e) => prop_assert!(n <= mcs, "unexpected error {e}"),
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
