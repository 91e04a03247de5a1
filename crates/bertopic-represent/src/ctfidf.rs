//! BERTopic's class-based TF-IDF (`ClassTfidfTransformer`) math.

/// Mean number of terms per class, truncated to an integer (BERTopic's `int(X.sum(axis=1).mean())`).
pub fn avg_nr_samples(row_sums: &[f64]) -> f64 {
    if row_sums.is_empty() {
        return 0.0;
    }
    (row_sums.iter().sum::<f64>() / row_sums.len() as f64).trunc()
}

/// idf of every term from its total count over all classes `f_t` (not its document frequency)
/// and `A` = [`avg_nr_samples`]: `ln(A / f_t + 1)`, or with BM25 weighting
/// `ln(1 + (A − f_t + 0.5) / (f_t + 0.5))`.
pub fn idf(term_totals: &[f64], avg_nr_samples: f64, bm25_weighting: bool) -> Vec<f64> {
    term_totals
        .iter()
        .map(|&f| {
            if bm25_weighting {
                (1.0 + (avg_nr_samples - f + 0.5) / (f + 0.5)).ln()
            } else {
                (avg_nr_samples / f + 1.0).ln()
            }
        })
        .collect()
}

/// Term weights of one sparse row of counts: L1-normalised (then square-rooted when
/// `reduce_frequent_words`) times idf. An all-zero row stays zero.
pub fn weigh_row(
    counts: &[(usize, f64)],
    idf: &[f64],
    reduce_frequent_words: bool,
) -> Vec<(usize, f64)> {
    let total: f64 = counts.iter().map(|&(_, c)| c.abs()).sum();
    counts
        .iter()
        .map(|&(i, c)| {
            let mut tf = if total > 0.0 { c / total } else { 0.0 };
            if reduce_frequent_words {
                tf = tf.sqrt();
            }
            (i, tf * idf.get(i).copied().unwrap_or(0.0))
        })
        .collect()
}

/// The `n` largest positive weights of a sparse row, descending; ties by smaller index.
pub fn top_terms(indices: &[usize], values: &[f64], n: usize) -> Vec<(usize, f64)> {
    let mut v: Vec<(usize, f64)> = indices
        .iter()
        .zip(values)
        .filter(|(_, &w)| w > 0.0 && w.is_finite())
        .map(|(&i, &w)| (i, w))
        .collect();
    v.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avg_truncates() {
        assert_eq!(avg_nr_samples(&[3.0, 4.0]), 3.0);
        assert_eq!(avg_nr_samples(&[]), 0.0);
    }

    #[test]
    fn idf_formulas() {
        let i = idf(&[1.0, 4.0], 8.0, false);
        assert!((i[0] - 9f64.ln()).abs() < 1e-15);
        assert!((i[1] - 3f64.ln()).abs() < 1e-15);
        let b = idf(&[1.0], 8.0, true);
        assert!((b[0] - (1.0 + 7.5 / 1.5f64).ln()).abs() < 1e-15);
    }

    #[test]
    fn weigh_row_l1_then_sqrt() {
        let idf = [2.0, 1.0];
        let w = weigh_row(&[(0, 1.0), (1, 3.0)], &idf, false);
        assert_eq!(w, vec![(0, 0.5), (1, 0.75)]);
        let s = weigh_row(&[(0, 1.0), (1, 3.0)], &idf, true);
        assert!((s[0].1 - 2.0 * 0.25f64.sqrt()).abs() < 1e-15);
        assert_eq!(weigh_row(&[(0, 0.0)], &idf, false), vec![(0, 0.0)]);
    }

    #[test]
    fn top_terms_ties_by_index() {
        let t = top_terms(&[0, 1, 2, 3], &[0.5, 0.9, 0.5, 0.0], 3);
        assert_eq!(t, vec![(1, 0.9), (0, 0.5), (2, 0.5)]);
    }
}
