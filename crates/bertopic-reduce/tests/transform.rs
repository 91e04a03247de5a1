//! `transform` sanity on real MiniLM embeddings: training points placed again land near their
//! fitted positions, and a saved state survives a JSON round trip.
mod common;
use bertopic_reduce::{load_state, trustworthiness, Reducer, SavedState, Umap, UmapParams};
use ndarray::s;

#[test]
fn transform_of_training_points_lands_near_fitted_positions() {
    let x = common::reference_embeddings();
    let x = x.slice(s![..600, ..]).to_owned();
    let umap = Umap::new(UmapParams {
        n_epochs: Some(200),
        ..Default::default()
    })
    .unwrap();
    let (fitted, emb) = umap.fit(x.view()).unwrap();
    let probe = x.slice(s![..100, ..]);
    let placed = fitted.transform(probe).unwrap();
    assert_eq!(placed.dim(), (100, 5));
    assert!(placed.iter().all(|v| v.is_finite()));
    // Scale: mean distance between two fitted points.
    let n = emb.nrows();
    let dist = |a: ndarray::ArrayView1<f32>, b: ndarray::ArrayView1<f32>| -> f32 {
        a.iter()
            .zip(b.iter())
            .map(|(p, q)| (p - q) * (p - q))
            .sum::<f32>()
            .sqrt()
    };
    let mut scale = 0.0f32;
    for i in 0..n {
        scale += dist(emb.row(i), emb.row((i * 7 + 13) % n));
    }
    scale /= n as f32;
    // A placed point is "near" when few fitted points are closer to it than its own fitted position.
    let mut near = 0;
    let mut rel = Vec::new();
    for i in 0..100 {
        let own = dist(placed.row(i), emb.row(i));
        rel.push(own / scale);
        let closer = (0..n)
            .filter(|&j| dist(placed.row(i), emb.row(j)) < own)
            .count();
        if closer < 15 {
            near += 1;
        }
    }
    rel.sort_by(f32::total_cmp);
    eprintln!(
        "own fitted point within the 15 nearest for {near}/100; median distance / scale {:.3}",
        rel[50]
    );
    assert!(
        near >= 90,
        "only {near}/100 training points re-placed near their fitted positions"
    );
    assert!(
        rel[50] < 0.1,
        "median distance to fitted position is {:.3} of the mean spread",
        rel[50]
    );
    // The re-placed points keep the input's neighbourhoods about as well as the fit.
    let t = trustworthiness(probe, placed.view(), 10);
    let t_fit = trustworthiness(probe, emb.slice(s![..100, ..]), 10);
    eprintln!("trustworthiness (k=10) of the 100 points: transformed {t:.4}, fitted {t_fit:.4}");
    assert!(
        t >= t_fit - 0.03,
        "transformed trustworthiness {t} vs fitted {t_fit}"
    );
}

#[test]
fn saved_state_json_round_trip_gives_identical_transform() {
    let x = common::reference_embeddings();
    let x = x.slice(s![..200, ..]).to_owned();
    let umap = Umap::new(UmapParams {
        n_epochs: Some(50),
        seed: 7,
        ..Default::default()
    })
    .unwrap();
    let (fitted, _) = umap.fit(x.view()).unwrap();
    let json = serde_json::to_string(&fitted.save_state()).unwrap();
    let state: SavedState = serde_json::from_str(&json).unwrap();
    let again = load_state(&state).unwrap();
    assert_eq!(again.n_components(), 5);
    let q = x.slice(s![..20, ..]);
    assert_eq!(fitted.transform(q).unwrap(), again.transform(q).unwrap());
}

#[test]
fn trustworthiness_is_nan_on_unusable_input() {
    let a = ndarray::Array2::<f32>::zeros((10, 3));
    let b = ndarray::Array2::<f32>::zeros((9, 2));
    assert!(trustworthiness(a.view(), b.view(), 2).is_nan());
    let c = ndarray::Array2::<f32>::zeros((10, 2));
    assert!(trustworthiness(a.view(), c.view(), 5).is_nan());
    assert!(bertopic_reduce::try_trustworthiness(a.view(), c.view(), 5).is_err());
}
