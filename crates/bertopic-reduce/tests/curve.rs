//! The a/b curve fit for BERTopic's setting (min_dist 0, spread 1) matches umap-learn's
//! documented values (a ≈ 1.929, b ≈ 0.7915).
#[test]
fn ab_params_for_min_dist_zero() {
    let (a, b) = bertopic_reduce::find_ab_params(1.0, 0.0);
    assert!(
        (a - 1.929).abs() < 0.01 && (b - 0.7915).abs() < 0.005,
        "a={a} b={b}"
    );
}
