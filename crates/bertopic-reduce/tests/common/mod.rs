// Shared test helpers (included with `mod common;`).
#![allow(dead_code)]
use ndarray::Array2;

pub use bertopic_testdata::shared_dir as shared;

pub fn reference() -> serde_json::Value {
    let p = shared().join("reference/hdbscan-reference.json");
    serde_json::from_str(&std::fs::read_to_string(&p).expect("reference json")).expect("parse")
}

pub fn reference_embeddings() -> Array2<f32> {
    let p = shared().join("reference/hdbscan-reference-embeddings.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).expect("embeddings json"))
            .expect("parse");
    let rows = v["embeddings"].as_array().expect("embeddings array");
    let d = rows[0].as_array().expect("row").len();
    let flat: Vec<f32> = rows
        .iter()
        .flat_map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
        })
        .collect();
    Array2::from_shape_vec((rows.len(), d), flat).expect("shape")
}
