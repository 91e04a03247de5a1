//! Term counting and lookup without hashing heap strings for short terms.
//!
//! Terms of at most 15 bytes (nearly all words) are packed into a `u128`, so hashing and
//! comparing them never follows a pointer: with `String` keys, counting and lookups were
//! bound by cache misses on the key bytes and by freeing one key per distinct term.

use std::collections::HashMap;

use crate::TermStream;

/// Fixed-seed fast hasher: term keys are short and not adversarial, and no output depends on
/// hash order (terms get their ids from the sorted vocabulary).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// The bytes of a term of at most 15 bytes, zero-padded, with the length in the last byte
/// (so the packing is injective); `None` for longer terms.
#[inline]
pub(crate) fn short_key(term: &str) -> Option<u128> {
    // Overlapping fixed-size loads instead of a variable-length copy (a memcpy call per
    // token): bytes land at their own positions, overlaps carry identical bytes.
    let word = term.as_bytes();
    let n = word.len();
    let lo_hi = |a: &[u8]| -> Option<u64> { Some(u64::from_le_bytes(a.try_into().ok()?)) };
    let lo4 = |a: &[u8]| -> Option<u64> { Some(u64::from(u32::from_le_bytes(a.try_into().ok()?))) };
    let (lo, hi) = match n {
        0..=3 => (
            word.iter()
                .rev()
                .fold(0u64, |k, &b| (k << 8) | u64::from(b)),
            0,
        ),
        4..=7 => (
            lo4(&word[..4])? | (lo4(&word[n - 4..])? << (8 * (n - 4))),
            0,
        ),
        8 => (lo_hi(word)?, 0),
        9..=15 => (lo_hi(&word[..8])?, lo_hi(&word[n - 8..])? >> (8 * (16 - n))),
        _ => return None,
    };
    Some(u128::from(lo) | (u128::from(hi) << 64) | ((n as u128) << 120))
}

/// The term packed by [`short_key`].
pub(crate) fn short_term(key: u128) -> String {
    let buf = key.to_le_bytes();
    let len = usize::from(buf[15]).min(15);
    // The bytes came from a `&str`, so they are valid UTF-8; the lossy path is never taken.
    String::from_utf8_lossy(&buf[..len]).into_owned()
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
    fn short_keys_are_injective_and_round_trip() {
        let terms = [
            "",
            "a",
            "a\0",
            "ab",
            "ba",
            "łódź",
            "exactly15bytes!",
            "café_au",
        ];
        let keys: Vec<u128> = terms.iter().map(|t| short_key(t).unwrap()).collect();
        for (i, a) in keys.iter().enumerate() {
            assert_eq!(short_term(*a), terms[i]);
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(short_key("sixteen_bytes_xx").is_none());
    }

    #[test]
    fn packing_matches_byte_layout() {
        let s = "abcdefghijklmnopq";
        for n in 0..=15 {
            let mut buf = [0u8; 16];
            buf[..n].copy_from_slice(&s.as_bytes()[..n]);
            buf[15] = n as u8;
            assert_eq!(
                short_key(&s[..n]),
                Some(u128::from_le_bytes(buf)),
                "length {n}"
            );
        }
        assert_eq!(short_key(&s[..16]), None);
    }

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
