//! Parity with the Python `hdbscan` library on shared/reference/hdbscan-reference.json:
//! numbers and tolerances both come from the file.

use bertopic_cluster::metrics::adjusted_rand_index;
use bertopic_cluster::{load_state, Clusterer, FittedClusterer, Hdbscan, HdbscanParams};
use ndarray::Array2;
use serde_json::Value;

fn reference() -> Value {
    bertopic_testdata::reference_json("hdbscan-reference.json")
}

/// The number following `key` in a tolerance sentence such as "abs 1e-6" or "ARI >= 0.95".
fn number_after(text: &str, key: &str) -> f64 {
    let start = text
        .find(key)
        .unwrap_or_else(|| panic!("`{key}` not in tolerance `{text}`"))
        + key.len();
    let num: String = text[start..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '-' | '+'))
        .collect();
    num.parse()
        .unwrap_or_else(|_| panic!("no number after `{key}` in `{text}`"))
}

fn points(r: &Value) -> Array2<f64> {
    let rows = r["points"].as_array().expect("points");
    let d = rows[0].as_array().expect("row").len();
    let flat: Vec<f64> = rows
        .iter()
        .flat_map(|row| {
            row.as_array()
                .expect("row")
                .iter()
                .map(|v| v.as_f64().expect("f64"))
        })
        .collect();
    Array2::from_shape_vec((rows.len(), d), flat).expect("shape")
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_i64().expect("int"))
        .collect()
}

#[test]
fn hdbscan_matches_python_hdbscan() {
    let r = reference();
    let tol = &r["tolerance"];
    let x = points(&r);
    let h = &r["hdbscan"];
    let fitted = Hdbscan::new(HdbscanParams {
        min_cluster_size: h["params"]["min_cluster_size"].as_u64().unwrap() as usize,
        ..Default::default()
    })
    .unwrap()
    .fit_concrete(x.view())
    .unwrap();

    let core_tol = number_after(tol["hdbscan_core_distances"].as_str().unwrap(), "abs");
    let want_core: Vec<f64> = h["core_distances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let worst = fitted
        .core_distances()
        .iter()
        .zip(&want_core)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst <= core_tol,
        "core distance max |Δ| {worst} > {core_tol}"
    );

    let mst_tol = number_after(tol["hdbscan_mst_total_weight"].as_str().unwrap(), "rel");
    let want_w = h["mst_total_weight"].as_f64().unwrap();
    let rel = (fitted.mst_total_weight() - want_w).abs() / want_w;
    assert!(
        rel <= mst_tol,
        "MST weight {} vs {want_w} (rel {rel})",
        fitted.mst_total_weight()
    );

    let rule = tol["hdbscan_on_these_points"].as_str().unwrap();
    let labels = ints(&r["labels"]);
    let ari = adjusted_rand_index(fitted.labels(), &labels);
    let ari_min = number_after(rule, "ARI >=");
    assert!(ari >= ari_min, "ARI {ari} < {ari_min}");
    let dk = number_after(rule, "n_clusters within +-");
    let want_k = h["n_clusters"].as_f64().unwrap();
    assert!(
        (fitted.n_clusters() as f64 - want_k).abs() <= dk,
        "{} clusters vs {want_k}",
        fitted.n_clusters()
    );
    let pct = number_after(rule, "n_outliers within +-");
    let out = fitted.labels().iter().filter(|&&l| l == -1).count() as f64;
    let want_out = h["n_outliers"].as_f64().unwrap();
    assert!(
        (out - want_out).abs() <= pct / 100.0 * x.nrows() as f64,
        "{out} outliers vs {want_out}"
    );
    eprintln!(
        "ARI {ari:.4}, clusters {}, outliers {out}, core |Δ| {worst:e}, MST rel {rel:e}",
        fitted.n_clusters()
    );
}

#[test]
fn predict_agrees_with_fit_and_survives_save_load() {
    let r = reference();
    let x = points(&r);
    let fitted = Hdbscan::new(HdbscanParams::default())
        .unwrap()
        .fit(x.view())
        .unwrap();
    let (pred, probs) = fitted.predict(x.view()).unwrap();
    let labels = fitted.labels();
    let clustered: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] >= 0).collect();
    let agree =
        clustered.iter().filter(|&&i| pred[i] == labels[i]).count() as f64 / clustered.len() as f64;
    eprintln!("predict agreement {agree:.4}");
    assert!(
        agree >= 0.97,
        "predict agrees with fit on {agree:.4} of clustered points"
    );
    assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));

    let state = fitted.save_state();
    // The facade stores these arrays in safetensors (bit-exact); JSON is not float-exact.
    let loaded = load_state(&state).unwrap();
    assert_eq!(loaded.labels(), fitted.labels());
    let (pred2, probs2) = loaded.predict(x.view()).unwrap();
    assert_eq!(pred, pred2);
    assert_eq!(probs, probs2);
}
