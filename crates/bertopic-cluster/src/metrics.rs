//! Agreement between two labelings: adjusted Rand index and normalised mutual information
//! (arithmetic normalisation, scikit-learn's default). Every label, −1 included, is a class.

use std::collections::BTreeMap;

fn contingency(a: &[i64], b: &[i64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut cells: BTreeMap<(i64, i64), f64> = BTreeMap::new();
    let mut ra: BTreeMap<i64, f64> = BTreeMap::new();
    let mut rb: BTreeMap<i64, f64> = BTreeMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *cells.entry((x, y)).or_default() += 1.0;
        *ra.entry(x).or_default() += 1.0;
        *rb.entry(y).or_default() += 1.0;
    }
    (
        cells.into_values().collect(),
        ra.into_values().collect(),
        rb.into_values().collect(),
    )
}

/// Adjusted Rand index of two labelings of the same points (1 = identical partitions).
/// Only the common prefix is compared if the lengths differ.
pub fn adjusted_rand_index(a: &[i64], b: &[i64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    if n < 2.0 {
        return 1.0;
    }
    let (cells, ra, rb) = contingency(a, b);
    let c2 = |x: f64| x * (x - 1.0) / 2.0;
    let index: f64 = cells.iter().map(|&x| c2(x)).sum();
    let sa: f64 = ra.iter().map(|&x| c2(x)).sum();
    let sb: f64 = rb.iter().map(|&x| c2(x)).sum();
    let expected = sa * sb / c2(n);
    let max = (sa + sb) / 2.0;
    if max == expected {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

/// Normalised mutual information with arithmetic-mean normalisation.
pub fn normalized_mutual_info(a: &[i64], b: &[i64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    if n == 0.0 {
        return 1.0;
    }
    let mut cells: BTreeMap<(i64, i64), f64> = BTreeMap::new();
    let mut ra: BTreeMap<i64, f64> = BTreeMap::new();
    let mut rb: BTreeMap<i64, f64> = BTreeMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *cells.entry((x, y)).or_default() += 1.0;
        *ra.entry(x).or_default() += 1.0;
        *rb.entry(y).or_default() += 1.0;
    }
    let h = |m: &BTreeMap<i64, f64>| -> f64 { m.values().map(|&c| -(c / n) * (c / n).ln()).sum() };
    let (ha, hb) = (h(&ra), h(&rb));
    if ha == 0.0 && hb == 0.0 {
        return 1.0;
    }
    let mi: f64 = cells
        .iter()
        .map(|(&(x, y), &c)| (c / n) * ((c * n) / (ra[&x] * rb[&y])).ln())
        .sum();
    let denom = (ha + hb) / 2.0;
    if denom <= 0.0 {
        0.0
    } else {
        (mi / denom).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_and_permuted() {
        let a = [0, 0, 1, 1, 2, 2];
        let b = [5, 5, 3, 3, -1, -1];
        assert!((adjusted_rand_index(&a, &b) - 1.0).abs() < 1e-12);
        assert!((normalized_mutual_info(&a, &b) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn known_values() {
        // sklearn: adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 0.5714285714
        assert!((adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 2]) - 0.571_428_571_4).abs() < 1e-9);
        // sklearn: normalized_mutual_info_score([0,0,1,1],[0,0,1,2]) = 0.8
        assert!((normalized_mutual_info(&[0, 0, 1, 1], &[0, 0, 1, 2]) - 0.8).abs() < 1e-9);
    }
}
