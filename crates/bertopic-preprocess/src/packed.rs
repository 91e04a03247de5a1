//! Words of at most 15 bytes packed into one `u128`, so hashing and comparing them never
//! follows a pointer. The tokenizer's stop-word lookup and the term counting of c-TF-IDF both
//! key their hot hash maps on it (with `String` keys they were bound by cache misses on the key
//! bytes and by freeing one key per distinct term).

/// The bytes of a word of at most 15 bytes, zero-padded, with the length in the last byte (so
/// the packing is injective); `None` for longer words.
#[inline]
pub fn short_key(word: &[u8]) -> Option<u128> {
    // Overlapping fixed-size loads instead of a variable-length copy (a memcpy call per
    // token): bytes land at their own positions, overlaps carry identical bytes.
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

/// The word packed by [`short_key`] from a `&str`. A key not made from UTF-8 bytes comes back
/// with U+FFFD in place of the invalid bytes.
pub fn short_term(key: u128) -> String {
    let buf = key.to_le_bytes();
    let len = usize::from(buf[15]).min(15);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`short_key`] written the plain way.
    fn reference_key(word: &[u8]) -> Option<u128> {
        if word.len() > 15 {
            return None;
        }
        let mut buf = [0u8; 16];
        buf[..word.len()].copy_from_slice(word);
        buf[15] = word.len() as u8;
        Some(u128::from_le_bytes(buf))
    }

    #[test]
    fn short_key_matches_reference() {
        let bytes: Vec<u8> = (1..=17u8).map(|b| b.wrapping_mul(37) | 0x80).collect();
        for n in 0..=17 {
            assert_eq!(
                short_key(&bytes[..n]),
                reference_key(&bytes[..n]),
                "length {n}"
            );
        }
        let s = "abcdefghijklmnopq";
        for n in 0..=17 {
            assert_eq!(
                short_key(&s.as_bytes()[..n]),
                reference_key(&s.as_bytes()[..n])
            );
        }
    }

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
        let keys: Vec<u128> = terms
            .iter()
            .map(|t| short_key(t.as_bytes()).unwrap())
            .collect();
        for (i, a) in keys.iter().enumerate() {
            assert_eq!(short_term(*a), terms[i]);
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(short_key(b"sixteen_bytes_xx").is_none());
    }
}
