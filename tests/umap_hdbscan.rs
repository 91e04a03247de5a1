//! Rust UMAP → Rust HDBSCAN on the 1,000 reference MiniLM embeddings, judged against the Python
//! pipeline (umap-learn → hdbscan) stored in shared/reference/hdbscan-reference.json:
//! - ARI of our labels against the reference `labels` ≥ the lowest `seed_spread` ARI − 0.05 (the
//!   README's tolerance: the Python pipeline's own variation across UMAP seeds, minus a margin);
//! - NMI against the reference labels ≥ the lowest `seed_spread` NMI − the same margin;
//! - NMI against the arXiv category labels ≥ umap-learn's (`quality_vs_arxiv_label.nmi`, outliers
//!   as one cluster) − the margin the tolerance block states for trustworthiness (0.02).
//!
//! Several UMAP seeds are checked; every bound is read from the JSON, none is copied here.
use bertopic::cluster::metrics::{adjusted_rand_index, normalized_mutual_info};
use bertopic::cluster::{ClusterSelection, Clusterer, Hdbscan, HdbscanParams};
use bertopic::reduce::{Reducer, Umap, UmapParams};
use bertopic_suite::shared_dir;
use ndarray::Array2;
use serde_json::Value;
use std::collections::HashMap;

fn json(name: &str) -> Value {
    let p = shared_dir().join("reference").join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn num(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"))
}

/// The number after "<key> - " in a tolerance sentence (e.g. "reference - 0.02").
fn margin_after(text: &str, key: &str) -> f64 {
    text.split(key)
        .nth(1)
        .and_then(|s| {
            s.trim_start()
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .find(|t| !t.is_empty())
        })
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no margin after {key:?} in {text:?}"))
}

#[test]
fn rust_umap_then_hdbscan_within_python_seed_spread() {
    let reference = json("hdbscan-reference.json");
    let emb_json = json("hdbscan-reference-embeddings.json");
    let rows = emb_json["embeddings"].as_array().expect("embeddings array");
    let d = rows[0].as_array().expect("embedding row").len();
    let flat: Vec<f32> = rows
        .iter()
        .flat_map(|r| {
            r.as_array()
                .expect("embedding row")
                .iter()
                .map(|x| num(x, "embedding value") as f32)
        })
        .collect();
    let x = Array2::from_shape_vec((rows.len(), d), flat).expect("embedding shape");

    // UMAP as the reference ran it (BERTopic's settings), seed varied below.
    let up = &reference["umap"]["params"];
    let n_neighbors = up["n_neighbors"].as_u64().expect("n_neighbors") as usize;
    let n_components = up["n_components"].as_u64().expect("n_components") as usize;
    let min_dist = num(&up["min_dist"], "min_dist") as f32;
    assert_eq!(
        up["metric"], "cosine",
        "the reference used the cosine metric"
    );

    // HDBSCAN with the recorded parameters.
    let hp = &reference["hdbscan"]["params"];
    let min_cluster_size = hp["min_cluster_size"].as_u64().expect("min_cluster_size") as usize;
    let min_samples = hp["min_samples"].as_u64().map(|v| v as usize);
    let selection = match hp["cluster_selection_method"].as_str() {
        Some("eom") => ClusterSelection::Eom,
        Some("leaf") => ClusterSelection::Leaf,
        other => panic!("unknown cluster_selection_method {other:?}"),
    };
    let allow_single_cluster = hp["allow_single_cluster"].as_bool().unwrap_or(false);
    let hdbscan = Hdbscan::new(HdbscanParams {
        min_cluster_size,
        min_samples,
        selection,
        allow_single_cluster,
    })
    .expect("HDBSCAN params");

    let ref_labels: Vec<i64> = reference["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|v| v.as_i64().expect("label"))
        .collect();
    let mut ids: HashMap<String, i64> = HashMap::new();
    let arxiv: Vec<i64> = reference["arxiv_labels"]
        .as_array()
        .expect("arxiv_labels")
        .iter()
        .map(|v| {
            let next = ids.len() as i64;
            *ids.entry(v.as_str().expect("arxiv label").to_string())
                .or_insert(next)
        })
        .collect();
    assert_eq!(ref_labels.len(), x.nrows());
    assert_eq!(arxiv.len(), x.nrows());

    let runs = reference["seed_spread"]["runs"]
        .as_array()
        .expect("seed_spread runs");
    let lowest = |key: &str| {
        runs.iter()
            .map(|r| num(&r[key], key))
            .fold(f64::INFINITY, f64::min)
    };
    let tolerance = reference["tolerance"]["rust_umap_on_the_embeddings"]
        .as_str()
        .expect("tolerance text");
    let spread_margin = margin_after(tolerance, "lowest seed_spread ARI minus");
    let nmi_margin = margin_after(tolerance, "reference -");
    let ari_bound = lowest("ari_vs_reference_labels") - spread_margin;
    let nmi_ref_bound = lowest("nmi_vs_reference_labels") - spread_margin;
    let python_arxiv_nmi = num(
        &reference["quality_vs_arxiv_label"]["nmi"],
        "quality_vs_arxiv_label.nmi",
    );
    let arxiv_bound = python_arxiv_nmi - nmi_margin;

    for seed in [42u64, 0, 1] {
        let umap = Umap::new(UmapParams {
            n_neighbors,
            n_components,
            min_dist,
            seed,
            ..Default::default()
        })
        .expect("UMAP params");
        let (_fitted, points) = umap.fit(x.view()).expect("UMAP fit");
        let points = points.mapv(f64::from);
        let fitted = hdbscan.fit(points.view()).expect("HDBSCAN fit");
        let labels = fitted.labels();
        let ari = adjusted_rand_index(labels, &ref_labels);
        let nmi_ref = normalized_mutual_info(labels, &ref_labels);
        let nmi_arxiv = normalized_mutual_info(labels, &arxiv);
        let n_clusters = labels.iter().copied().max().map_or(0, |m| m + 1);
        let outliers = labels.iter().filter(|&&l| l < 0).count();
        eprintln!(
            "seed {seed}: {n_clusters} clusters, {outliers} outliers; ARI vs reference {ari:.4} \
             (bound {ari_bound:.4}), NMI vs reference {nmi_ref:.4} (bound {nmi_ref_bound:.4}), \
             NMI vs arXiv {nmi_arxiv:.4} (umap-learn {python_arxiv_nmi:.4}, bound {arxiv_bound:.4})"
        );
        assert!(ari >= ari_bound, "seed {seed}: ARI {ari} < {ari_bound}");
        assert!(
            nmi_ref >= nmi_ref_bound,
            "seed {seed}: NMI vs reference labels {nmi_ref} < {nmi_ref_bound}"
        );
        assert!(
            nmi_arxiv >= arxiv_bound,
            "seed {seed}: NMI vs arXiv labels {nmi_arxiv} < {arxiv_bound}"
        );
    }
}
