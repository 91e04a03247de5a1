//! UMAP quality on 1,000 real MiniLM embeddings vs umap-learn's reference (trustworthiness bound
//! read from hdbscan-reference.json's tolerance block: reference − 0.02).
mod common;
use bertopic_reduce::{trustworthiness, Reducer, Umap, UmapParams};

#[test]
fn reference_points_trustworthiness_matches_file() {
    // Our trustworthiness on umap-learn's own points must reproduce the stored sklearn value.
    let r = common::reference();
    let x = common::reference_embeddings();
    let pts: Vec<f32> = r["points"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
        })
        .collect();
    let pts = ndarray::Array2::from_shape_vec((x.nrows(), 5), pts).unwrap();
    let t = trustworthiness(x.view(), pts.view(), 15);
    let want = r["umap"]["trustworthiness"].as_f64().unwrap();
    assert!(
        (t - want).abs() < 1e-4,
        "trustworthiness {t} vs sklearn {want}"
    );
}

#[test]
fn umap_trustworthiness_within_tolerance_for_five_seeds() {
    let r = common::reference();
    let x = common::reference_embeddings();
    let reference_t = r["umap"]["trustworthiness"].as_f64().unwrap();
    // Tolerance text says "trustworthiness >= reference - 0.02"; parse the margin from it.
    let tol = r["tolerance"]["rust_umap_on_the_embeddings"]
        .as_str()
        .unwrap();
    let margin: f64 = tol
        .split("reference -")
        .nth(1)
        .and_then(|s| s.trim().split([';', ' ']).next())
        .and_then(|s| s.parse().ok())
        .expect("margin in tolerance text");
    let bound = reference_t - margin;
    for seed in [42u64, 0, 1, 2, 3] {
        let umap = Umap::new(UmapParams {
            seed,
            ..Default::default()
        })
        .unwrap();
        let (_f, emb) = umap.fit(x.view()).unwrap();
        let t = trustworthiness(x.view(), emb.view(), 15);
        eprintln!(
            "seed {seed}: trustworthiness {t:.4} (bound {bound:.4}, umap-learn {reference_t:.4})"
        );
        assert!(t >= bound, "seed {seed}: trustworthiness {t} < {bound}");
    }
}
