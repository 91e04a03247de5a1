//! `transform` sanity on real MiniLM embeddings: training points placed again land near their
//! fitted positions, and a saved state survives a JSON round trip.
mod common;
use bertopic_reduce::{load_state, trustworthiness, Reducer, SavedState, Umap, UmapParams};
use ndarray::s;

/// What one fit-then-transform run measures.
struct Placement {
    /// Re-placed points whose own fitted point is among the 15 fitted points nearest to them.
    near: usize,
    /// Median distance to the own fitted point over the mean spread of the fitted points.
    median_rel: f32,
    /// Trustworthiness (k=10) of the 100 re-placed points and of the same points as fitted.
    t_placed: f64,
    t_fitted: f64,
}

/// Fit on the first 600 reference rows (200 epochs), transform the first 100 again.
fn place_training_points(seed: u64) -> Placement {
    let x = common::reference_embeddings();
    let x = x.slice(s![..600, ..]).to_owned();
    let umap = Umap::new(UmapParams {
        n_epochs: Some(200),
        seed,
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
    Placement {
        near,
        median_rel: rel[50],
        t_placed: trustworthiness(probe, placed.view(), 10),
        t_fitted: trustworthiness(probe, emb.slice(s![..100, ..]), 10),
    }
}

/// Training points placed again land near their fitted positions, for the seeds of
/// tests/data/umap-learn-transform.json (umap-learn's own transform on the same check, written
/// by tests/reference/umap_transform_reference.py). The median distance is a property of the
/// layout as much as of `transform`: umap-learn's single seeds spread from 0.094 to 0.107 of
/// the mean spread, so it is bounded over the seeds, by 0.1 and by umap-learn's mean + 2 sd.
#[test]
fn transform_of_training_points_lands_near_fitted_positions() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/umap-learn-transform.json"
    ))
    .expect("umap-learn transform reference");
    let reference: serde_json::Value = serde_json::from_str(&text).expect("reference parses");
    let runs = reference["runs"].as_array().expect("runs");
    assert!(runs.len() >= 3, "need umap-learn runs for several seeds");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for r in runs {
        let seed = r["seed"].as_u64().expect("seed");
        let p = place_training_points(seed);
        eprintln!(
            "seed {seed}: own fitted point within the 15 nearest for {}/100; median distance / \
             scale {:.4} (umap-learn {:.4}); trustworthiness (k=10) transformed {:.4}, fitted {:.4}",
            p.near,
            p.median_rel,
            r["median_rel_distance"].as_f64().expect("median"),
            p.t_placed,
            p.t_fitted
        );
        assert!(
            p.near >= 90,
            "seed {seed}: only {}/100 training points re-placed near their fitted positions",
            p.near
        );
        // The re-placed points keep the input's neighbourhoods about as well as the fit.
        assert!(
            p.t_placed >= p.t_fitted - 0.03,
            "seed {seed}: transformed trustworthiness {} vs fitted {}",
            p.t_placed,
            p.t_fitted
        );
        ours.push(f64::from(p.median_rel));
        theirs.push(r["median_rel_distance"].as_f64().expect("median"));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (m_ours, m_theirs) = (mean(&ours), mean(&theirs));
    let sd_theirs = (theirs.iter().map(|x| (x - m_theirs).powi(2)).sum::<f64>()
        / (theirs.len() - 1) as f64)
        .sqrt();
    eprintln!("median distance / scale over seeds: ours {m_ours:.4}, umap-learn {m_theirs:.4} ± {sd_theirs:.4}");
    assert!(
        m_ours < 0.1,
        "median distance to fitted position is {m_ours:.3} of the mean spread (seed mean)"
    );
    assert!(
        m_ours <= m_theirs + 2.0 * sd_theirs,
        "median distance {m_ours:.4} above umap-learn's {m_theirs:.4} + 2 × {sd_theirs:.4}"
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

/// A state saved without its training rows is smaller, loads only with the rows given back,
/// and transforms bit for bit as the fitted model; other rows are not accepted as "the same".
#[test]
fn state_without_training_rows_loads_with_them_given_back() {
    let x = common::reference_embeddings();
    let x = x.slice(s![..200, ..]).to_owned();
    let umap = Umap::new(UmapParams {
        n_epochs: Some(50),
        seed: 7,
        ..Default::default()
    })
    .unwrap();
    let (fitted, _) = umap.fit(x.view()).unwrap();
    let lean = fitted
        .save_state_without_data(x.view())
        .expect("fitted on these rows");
    assert!(lean.arrays.iter().all(|a| a.name != "train_data"));
    assert_eq!(lean.arrays.len() + 1, fitted.save_state().arrays.len());
    let Err(err) = load_state(&lean) else {
        panic!("a state without its rows loaded without them");
    };
    assert!(err.to_string().contains("load_state_with_data"), "{err}");
    let again = bertopic_reduce::load_state_with_data(&lean, x.view()).unwrap();
    let q = x.slice(s![..20, ..]);
    assert_eq!(fitted.transform(q).unwrap(), again.transform(q).unwrap());
    // Rows that differ in one bit, or fewer rows, are not the training rows.
    let mut other = x.clone();
    other[[150, 3]] = f32::from_bits(other[[150, 3]].to_bits() ^ 1);
    assert!(fitted.save_state_without_data(other.view()).is_none());
    assert!(fitted
        .save_state_without_data(x.slice(s![..199, ..]))
        .is_none());
    // A whole state ignores the rows given at load.
    let whole = bertopic_reduce::load_state_with_data(&fitted.save_state(), other.view()).unwrap();
    assert_eq!(fitted.transform(q).unwrap(), whole.transform(q).unwrap());
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
