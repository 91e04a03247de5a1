//! Vocabulary and term counts, the way sklearn's `CountVectorizer` builds them.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::{Analyzer, RepresentError, VectorizerParams};

/// BERTopic's `_preprocess_text`: `\n`/`\t` → space, optionally keep only `[A-Za-z0-9 ]`,
/// and an empty result becomes `"emptydoc"`.
pub fn preprocess_text(text: &str, strip_non_alphanumeric: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c == '\n' || c == '\t' { ' ' } else { c };
        if !strip_non_alphanumeric || c.is_ascii_alphanumeric() || c == ' ' {
            out.push(c);
        }
    }
    if out.is_empty() {
        "emptydoc".to_string()
    } else {
        out
    }
}

/// Sorted vocabulary plus sparse integer counts (rows = input texts).
#[derive(Debug, Clone)]
pub(crate) struct Counts {
    pub vocabulary: Vec<String>,
    /// Per row: (term index, count), sorted by term index.
    pub rows: Vec<Vec<(usize, u64)>>,
}

fn count_terms(terms: Vec<String>) -> HashMap<String, u64> {
    let mut m: HashMap<String, u64> = HashMap::with_capacity(terms.len() / 2 + 1);
    for t in terms {
        *m.entry(t).or_insert(0) += 1;
    }
    m
}

/// Fits the vocabulary on `texts` and counts terms, with sklearn's pruning rules.
pub(crate) fn fit_counts(
    texts: &[String],
    analyzer: &Analyzer<'_>,
    params: &VectorizerParams,
) -> Result<Counts, RepresentError> {
    let maps: Vec<HashMap<String, u64>> =
        texts.par_iter().map(|t| count_terms(analyzer(t))).collect();
    let mut vocabulary: Vec<&str> = {
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for m in &maps {
            seen.extend(m.keys().map(String::as_str));
        }
        seen.into_iter().collect()
    };
    if vocabulary.is_empty() {
        return Err(RepresentError::EmptyVocabulary);
    }
    // Rust's str order is by code point, the same as Python's sorted() on str.
    vocabulary.sort_unstable();
    let index: HashMap<&str, usize> = vocabulary
        .iter()
        .enumerate()
        .map(|(i, &w)| (w, i))
        .collect();
    let n_docs = texts.len();
    let mut df = vec![0usize; vocabulary.len()];
    let mut tf = vec![0u64; vocabulary.len()];
    let mut rows: Vec<Vec<(usize, u64)>> = maps
        .iter()
        .map(|m| {
            let mut r: Vec<(usize, u64)> = m.iter().map(|(w, &c)| (index[w.as_str()], c)).collect();
            r.sort_unstable_by_key(|&(i, _)| i);
            r
        })
        .collect();
    for r in &rows {
        for &(i, c) in r {
            df[i] += 1;
            tf[i] += c;
        }
    }
    let min_df = params.min_df.max(1);
    let max_df = params.max_df.unwrap_or(1.0);
    let prune = params.min_df > 1
        || params.max_df.is_some_and(|m| m < 1.0)
        || params.max_features.is_some();
    if !prune {
        return Ok(Counts {
            vocabulary: vocabulary.into_iter().map(str::to_string).collect(),
            rows,
        });
    }
    let max_count = max_df * n_docs as f64;
    if max_count < min_df as f64 {
        return Err(RepresentError::InvalidParams(format!(
            "max_df = {max_df} corresponds to {max_count} of {n_docs} topics, fewer than min_df = {min_df}"
        )));
    }
    let mut keep: Vec<bool> = df
        .iter()
        .map(|&d| d >= min_df && (d as f64) <= max_count)
        .collect();
    if let Some(limit) = params.max_features {
        let mut kept: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
        if kept.len() > limit {
            // Most frequent first; the stable sort keeps ties in vocabulary order.
            kept.sort_by(|&a, &b| tf[b].cmp(&tf[a]));
            keep.iter_mut().for_each(|k| *k = false);
            for &i in &kept[..limit] {
                keep[i] = true;
            }
        }
    }
    let mut remap = vec![usize::MAX; vocabulary.len()];
    let mut new_vocab = Vec::new();
    for (i, w) in vocabulary.iter().enumerate() {
        if keep[i] {
            remap[i] = new_vocab.len();
            new_vocab.push(w.to_string());
        }
    }
    if new_vocab.is_empty() {
        return Err(RepresentError::NoTermsAfterPruning(format!(
            "min_df = {}, max_df = {:?}, max_features = {:?}",
            params.min_df, params.max_df, params.max_features
        )));
    }
    for r in &mut rows {
        r.retain(|&(i, _)| keep[i]);
        r.iter_mut().for_each(|e| e.0 = remap[e.0]);
    }
    Ok(Counts {
        vocabulary: new_vocab,
        rows,
    })
}

/// Counts of `text`'s in-vocabulary terms, sorted by term index (unknown terms are ignored,
/// as sklearn's `transform` does).
pub(crate) fn transform_counts(
    text: &str,
    analyzer: &Analyzer<'_>,
    index: &HashMap<&str, usize>,
) -> Vec<(usize, u64)> {
    let mut counts: HashMap<usize, u64> = HashMap::new();
    for t in analyzer(text) {
        if let Some(&i) = index.get(t.as_str()) {
            *counts.entry(i).or_insert(0) += 1;
        }
    }
    let mut r: Vec<(usize, u64)> = counts.into_iter().collect();
    r.sort_unstable_by_key(|&(i, _)| i);
    r
}
