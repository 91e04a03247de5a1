//! Stop-word lists.

use std::collections::HashSet;
use std::sync::OnceLock;

// scikit-learn's ENGLISH_STOP_WORDS (318 words), BSD-3-Clause, Copyright (c) 2007-2024 The scikit-learn developers.
const ENGLISH: &str = include_str!("../data/english_stop_words.txt");
// Written for this project: common Indonesian function words.
const INDONESIAN: &str = include_str!("../data/indonesian_stop_words.txt");

fn parse(list: &'static str) -> HashSet<&'static str> {
    list.lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect()
}

/// scikit-learn's `ENGLISH_STOP_WORDS` (exactly its 318 words, lower case).
pub fn english_stop_words() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| parse(ENGLISH))
}

/// Common Indonesian function words (about 300, lower case).
pub fn indonesian_stop_words() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| parse(INDONESIAN))
}
