//! Vocabulary and term counts, the way sklearn's `CountVectorizer` builds them.

use rayon::prelude::*;

use crate::terms::{short_term, FastMap, TermCounts, TermIndex};
use crate::{RepresentError, TermStream, VectorizerParams};

/// BERTopic's `_preprocess_text`: `\n`/`\t` → space, optionally keep only `[A-Za-z0-9 ]`,
/// and an empty result becomes `"emptydoc"`.
pub fn preprocess_text(text: &str, strip_non_alphanumeric: bool) -> String {
    let mut out = Vec::with_capacity(text.len());
    push_preprocessed(&mut out, text, strip_non_alphanumeric);
    if out.is_empty() {
        "emptydoc".to_string()
    } else {
        utf8(out)
    }
}

/// What [`push_preprocessed`] writes for each byte when stripping: the byte, a space for
/// `\n`/`\t`, or 0 to drop it.
const STRIP: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b' ' {
            t[b] = c;
        } else if c == b'\n' || c == b'\t' {
            t[b] = b' ';
        }
        b += 1;
    }
    t
};

/// Appends `text` cleaned as [`preprocess_text`] does, without the `"emptydoc"` rule.
///
/// Works on bytes: `\n` and `\t` never occur inside a multi-byte UTF-8 sequence, and when
/// stripping, every byte ≥ 0x80 belongs to a non-ASCII character, which is dropped whole; so
/// the output stays valid UTF-8.
pub(crate) fn push_preprocessed(out: &mut Vec<u8>, text: &str, strip_non_alphanumeric: bool) {
    let bytes = text.as_bytes();
    if strip_non_alphanumeric {
        // Branch-free: write every byte, advance only past the kept ones.
        let start = out.len();
        out.resize(start + bytes.len(), 0);
        let dst = &mut out[start..];
        let mut n = 0;
        for &b in bytes {
            let c = STRIP[usize::from(b)];
            dst[n] = c;
            n += usize::from(c != 0);
        }
        out.truncate(start + n);
    } else {
        out.extend(
            bytes
                .iter()
                .map(|&b| if b == b'\n' || b == b'\t' { b' ' } else { b }),
        );
    }
}

/// Bytes known to be UTF-8 (built by [`push_preprocessed`]) as a `String`; the lossy path is
/// never taken.
pub(crate) fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Sorted vocabulary plus sparse integer counts (rows = input texts).
#[derive(Debug, Clone)]
pub(crate) struct Counts {
    pub vocabulary: Vec<String>,
    /// Per row: (term index, count), sorted by term index.
    pub rows: Vec<Vec<(usize, u64)>>,
}

/// Fits the vocabulary on `texts` and counts terms, with sklearn's pruning rules.
pub(crate) fn fit_counts(
    texts: &[String],
    terms: &TermStream<'_>,
    params: &VectorizerParams,
) -> Result<Counts, RepresentError> {
    let maps: Vec<TermCounts> = texts.par_iter().map(|t| TermCounts::of(t, terms)).collect();
    // Intern every term once with a provisional id (first-seen order); the ids are then
    // renumbered by sorted term, so the maps' iteration order never reaches the output.
    let mut short_ids: FastMap<u128, usize> = FastMap::default();
    let mut long_ids: FastMap<&str, usize> = FastMap::default();
    let mut seen: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<(usize, u64)>> = Vec::with_capacity(maps.len());
    for m in &maps {
        let mut r = Vec::with_capacity(m.short.len() + m.long.len());
        for (&k, &c) in &m.short {
            let id = *short_ids.entry(k).or_insert_with(|| {
                seen.push(short_term(k));
                seen.len() - 1
            });
            r.push((id, c));
        }
        for (w, &c) in &m.long {
            let id = *long_ids.entry(w.as_str()).or_insert_with(|| {
                seen.push(w.clone());
                seen.len() - 1
            });
            r.push((id, c));
        }
        rows.push(r);
    }
    drop(long_ids);
    drop(maps);
    if seen.is_empty() {
        return Err(RepresentError::EmptyVocabulary);
    }
    // Rust's str order is by code point, the same as Python's sorted() on str.
    let mut order: Vec<usize> = (0..seen.len()).collect();
    order.par_sort_unstable_by(|&a, &b| seen[a].cmp(&seen[b]));
    let mut rank = vec![0usize; seen.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new;
    }
    let vocabulary: Vec<String> = order
        .iter()
        .map(|&i| std::mem::take(&mut seen[i]))
        .collect();
    rows.par_iter_mut().for_each(|r| {
        r.iter_mut().for_each(|e| e.0 = rank[e.0]);
        r.sort_unstable_by_key(|&(i, _)| i);
    });
    prune(vocabulary, rows, params)
}

/// sklearn's pruning (`min_df`, `max_df`, `max_features`) of a sorted `vocabulary` and its
/// per-row counts (rows = topics), shared by [`fit_counts`] and the map-reduce path
/// ([`crate::ClassTermCounts`]) so both prune identically.
pub(crate) fn prune(
    vocabulary: Vec<String>,
    mut rows: Vec<Vec<(usize, u64)>>,
    params: &VectorizerParams,
) -> Result<Counts, RepresentError> {
    if vocabulary.is_empty() {
        return Err(RepresentError::EmptyVocabulary);
    }
    let n_docs = rows.len();
    let mut df = vec![0usize; vocabulary.len()];
    let mut tf = vec![0u64; vocabulary.len()];
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
        return Ok(Counts { vocabulary, rows });
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
    for (i, w) in vocabulary.into_iter().enumerate() {
        if keep[i] {
            remap[i] = new_vocab.len();
            new_vocab.push(w);
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
    terms: &TermStream<'_>,
    index: &TermIndex<'_>,
) -> Vec<(usize, u64)> {
    // Sort the ids and count runs: cheaper than a map for a document's few hundred terms.
    let mut ids: Vec<usize> = Vec::new();
    terms(text, &mut |t| {
        if let Some(i) = index.get(t) {
            ids.push(i);
        }
    });
    ids.sort_unstable();
    let mut r: Vec<(usize, u64)> = Vec::new();
    for i in ids {
        match r.last_mut() {
            Some((j, c)) if *j == i => *c += 1,
            _ => r.push((i, 1)),
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;

    fn ws(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    /// `_preprocess_text` written per character, as BERTopic does.
    fn reference_preprocess(text: &str, strip: bool) -> String {
        let out: String = text
            .chars()
            .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
            .filter(|&c| !strip || c.is_ascii_alphanumeric() || c == ' ')
            .collect();
        if out.is_empty() {
            "emptydoc".into()
        } else {
            out
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// The interned, packed-key counting equals counting with ordered maps of strings.
        #[test]
        fn counts_match_reference(
            texts in proptest::collection::vec(
                proptest::collection::vec("[a-c]{1,3}|é[a-b]{0,2}|[a-b]{14,17}", 0..30)
                    .prop_map(|w| w.join(" ")),
                1..8,
            ),
            probe in proptest::collection::vec("[a-c]{1,3}|[a-b]{14,17}|zz", 0..30),
        ) {
            let an = |s: &str, f: &mut dyn FnMut(&str)| s.split_whitespace().for_each(f);
            let per_text: Vec<BTreeMap<String, u64>> = texts
                .iter()
                .map(|t| {
                    let mut m = BTreeMap::new();
                    for w in ws(t) {
                        *m.entry(w).or_insert(0) += 1;
                    }
                    m
                })
                .collect();
            let vocab: Vec<String> = per_text
                .iter()
                .flat_map(|m| m.keys().cloned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let got = fit_counts(&texts, &an, &VectorizerParams::default());
            if vocab.is_empty() {
                prop_assert!(matches!(got, Err(RepresentError::EmptyVocabulary)));
                return Ok(());
            }
            let got = got.unwrap();
            prop_assert_eq!(&got.vocabulary, &vocab);
            let pos = |w: &str| vocab.binary_search_by(|v| v.as_str().cmp(w)).unwrap();
            let rows: Vec<Vec<(usize, u64)>> = per_text
                .iter()
                .map(|m| m.iter().map(|(w, &c)| (pos(w), c)).collect())
                .collect();
            prop_assert_eq!(&got.rows, &rows);

            let index = TermIndex::new(&got.vocabulary);
            let probe = probe.join(" ");
            let mut want: BTreeMap<usize, u64> = BTreeMap::new();
            for w in ws(&probe) {
                if let Ok(i) = vocab.binary_search(&w) {
                    *want.entry(i).or_insert(0) += 1;
                }
            }
            let want: Vec<(usize, u64)> = want.into_iter().collect();
            prop_assert_eq!(transform_counts(&probe, &an, &index), want);
        }

        #[test]
        fn preprocess_matches_reference(s in "\\PC{0,40}|[a-zA-Z0-9 \\n\\t.,é€\u{0}]{0,40}", strip in any::<bool>()) {
            prop_assert_eq!(preprocess_text(&s, strip), reference_preprocess(&s, strip));
        }
    }
}
