//! A k-NN graph with several components takes the documented random-init fallback and still
//! gives a finite, deterministic layout that keeps the components apart.
use bertopic_reduce::{Reducer, Umap, UmapParams};
use ndarray::Array2;

#[test]
fn disconnected_graph_falls_back_and_separates_components() {
    // Two tight blobs of 30 points, 1,000 units apart: with 5 neighbours no edge crosses.
    let x = Array2::from_shape_fn((60, 6), |(i, j)| {
        let base = if i < 30 { 0.0 } else { 1000.0 };
        base + ((i * 31 + j * 17) % 13) as f32 * 0.1
    });
    let p = UmapParams {
        n_neighbors: 5,
        n_components: 2,
        metric: bertopic_reduce::Metric::Euclidean,
        n_epochs: Some(200),
        ..Default::default()
    };
    let (_f, a) = Umap::new(p.clone()).unwrap().fit(x.view()).unwrap();
    let (_f, b) = Umap::new(p).unwrap().fit(x.view()).unwrap();
    assert!(a.iter().all(|v| v.is_finite()));
    assert_eq!(a, b);
    let centre = |r: std::ops::Range<usize>| -> [f32; 2] {
        let m = r.len() as f32;
        let mut c = [0.0f32; 2];
        for i in r {
            c[0] += a[[i, 0]] / m;
            c[1] += a[[i, 1]] / m;
        }
        c
    };
    let (c0, c1) = (centre(0..30), centre(30..60));
    let gap = ((c0[0] - c1[0]).powi(2) + (c0[1] - c1[1]).powi(2)).sqrt();
    // Mean distance of each point to its own blob's centre.
    let spread: f32 = (0..60)
        .map(|i| {
            let c = if i < 30 { c0 } else { c1 };
            ((a[[i, 0]] - c[0]).powi(2) + (a[[i, 1]] - c[1]).powi(2)).sqrt()
        })
        .sum::<f32>()
        / 60.0;
    eprintln!("blob centre gap {gap:.3}, mean within-blob spread {spread:.3}");
    assert!(
        gap > spread,
        "blobs not separated: gap {gap}, spread {spread}"
    );
}
