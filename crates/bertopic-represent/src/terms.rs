//! Term counting and lookup without hashing heap strings for short terms.
//!
//! Terms of at most 15 bytes (nearly all words) are packed into a `u128`, so hashing and
//! comparing them never follows a pointer: with `String` keys, counting and lookups were
//! bound by cache misses on the key bytes and by freeing one key per distinct term.

use std::collections::HashMap;

use bertopic_preprocess::packed;
pub(crate) use bertopic_preprocess::packed::short_term;

use crate::TermStream;

/// Fixed-seed fast hasher: term keys are short and not adversarial, and no output depends on
/// hash order (terms get their ids from the sorted vocabulary).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// [`bertopic_preprocess::packed::short_key`] of a term.
#[inline]
pub(crate) fn short_key(term: &str) -> Option<u128> {
    packed::short_key(term.as_bytes())
}

/// Term → count of one text.
#[derive(Default)]
pub(crate) struct TermCounts {
    pub short: FastMap<u128, u64>,
    pub long: FastMap<String, u64>,
}

impl TermCounts {
    /// Counts the terms of `text`.
    pub fn of(text: &str, terms: &TermStream<'_>) -> Self {
        let mut c = TermCounts::default();
        terms(text, &mut |t| match short_key(t) {
            Some(k) => *c.short.entry(k).or_insert(0) += 1,
            None => match c.long.get_mut(t) {
                Some(n) => *n += 1,
                None => {
                    c.long.insert(t.to_string(), 1);
                }
            },
        });
        c
    }
}

/// Vocabulary term → column index.
pub(crate) struct TermIndex<'v> {
    short: FastMap<u128, usize>,
    long: FastMap<&'v str, usize>,
}

impl<'v> TermIndex<'v> {
    /// Index of `vocabulary` (term `i` → `i`).
    pub fn new(vocabulary: &'v [String]) -> Self {
        let mut short = FastMap::with_capacity_and_hasher(vocabulary.len(), Default::default());
        let mut long = FastMap::default();
        for (i, w) in vocabulary.iter().enumerate() {
            match short_key(w) {
                Some(k) => short.insert(k, i),
                None => long.insert(w.as_str(), i),
            };
        }
        TermIndex { short, long }
    }

    /// Column of `term`, if it is in the vocabulary.
    #[inline]
    pub fn get(&self, term: &str) -> Option<usize> {
        match short_key(term) {
            Some(k) => self.short.get(&k).copied(),
            None => self.long.get(term).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_finds_short_and_long_terms() {
        let vocab: Vec<String> = ["a", "internationalisation", "b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let idx = TermIndex::new(&vocab);
        assert_eq!(idx.get("internationalisation"), Some(1));
        assert_eq!(idx.get("b"), Some(2));
        assert_eq!(idx.get("c"), None);
        assert_eq!(idx.get("internationalisations"), None);
    }
}
