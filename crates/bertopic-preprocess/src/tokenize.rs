//! Word tokenizer and n-gram analyzer with scikit-learn `CountVectorizer` semantics.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::PreprocessError;
use crate::packed::short_key;
use crate::stopwords::{english_stop_words, indonesian_stop_words};

/// Which stop-word list the tokenizer removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Language {
    /// scikit-learn's English list.
    #[default]
    #[serde(rename = "en", alias = "english")]
    English,
    /// The Indonesian list of this crate.
    #[serde(rename = "id", alias = "indonesian")]
    Indonesian,
    /// Union of the English and Indonesian lists.
    #[serde(rename = "multilingual")]
    Multilingual,
    /// No stop words.
    #[serde(rename = "none")]
    None,
}

impl Language {
    /// The short name accepted by [`FromStr`] (`en`, `id`, `multilingual`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Indonesian => "id",
            Language::Multilingual => "multilingual",
            Language::None => "none",
        }
    }

    /// Whether `word` (lower case) is a stop word of this language.
    pub fn is_stop_word(self, word: &str) -> bool {
        match self {
            Language::English => english_stop_words().contains(word),
            Language::Indonesian => indonesian_stop_words().contains(word),
            Language::Multilingual => {
                english_stop_words().contains(word) || indonesian_stop_words().contains(word)
            }
            Language::None => false,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Language {
    type Err = PreprocessError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Language::English),
            "id" | "indonesian" => Ok(Language::Indonesian),
            "multilingual" | "multi" => Ok(Language::Multilingual),
            "none" => Ok(Language::None),
            _ => Err(PreprocessError::UnknownLanguage(s.to_string())),
        }
    }
}

/// Tokenizer parameters (defaults follow BERTopic's `CountVectorizer(stop_words="english")`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenizerConfig {
    /// Stop-word language (default English).
    pub language: Language,
    /// Lower-case text before tokenising (default true).
    pub lowercase: bool,
    /// Inclusive n-gram range `(min_n, max_n)` (default `(1, 1)`).
    pub ngram_range: (usize, usize),
    /// Minimum token length in characters (default 2; the token pattern already needs 2).
    pub min_token_len: usize,
    /// Further stop words (lower-cased when `lowercase` is set).
    pub extra_stop_words: Vec<String>,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        Self {
            language: Language::English,
            lowercase: true,
            ngram_range: (1, 1),
            min_token_len: 2,
            extra_stop_words: Vec::new(),
        }
    }
}

/// A validated tokenizer: sklearn's token pattern `(?u)\b\w\w+\b`, stop-word removal, n-grams.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    cfg: TokenizerConfig,
    /// Language list plus extra words of at most 15 bytes, packed by [`short_key`](crate::packed::short_key) (hot path:
    /// a lookup hashes one integer and never compares bytes behind a pointer).
    stop_short: HashSet<u128, foldhash::fast::FixedState>,
    /// Longer stop words (only from `extra_stop_words` with the built-in lists).
    stop_long: HashSet<Box<str>, foldhash::fast::FixedState>,
    /// Longest stop word in bytes: longer tokens skip the lookup.
    max_stop_len: usize,
}

/// ASCII bytes that Python's `\w` matches: letters, digits, underscore.
const ASCII_WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    t
};

/// Largest accepted `max_n`; longer n-grams are never useful for topic words and blow up memory.
const MAX_NGRAM: usize = 16;

#[inline]
fn is_word_char(c: char) -> bool {
    // Python's `\w` for str patterns: alphanumerics plus underscore.
    c.is_alphanumeric() || c == '_'
}

impl Tokenizer {
    /// Validates `cfg` (`1 <= min_n <= max_n <= 16`, `min_token_len >= 1`).
    pub fn new(cfg: TokenizerConfig) -> Result<Self, PreprocessError> {
        let (lo, hi) = cfg.ngram_range;
        if lo == 0 || lo > hi || hi > MAX_NGRAM {
            return Err(PreprocessError::InvalidParameter {
                name: "ngram_range",
                reason: format!(
                    "got ({lo}, {hi}); need 1 <= min_n <= max_n <= {MAX_NGRAM}, e.g. (1, 1) or (1, 2)"
                ),
            });
        }
        if cfg.min_token_len == 0 {
            return Err(PreprocessError::InvalidParameter {
                name: "min_token_len",
                reason: "must be at least 1".into(),
            });
        }
        let mut stop: Vec<Box<str>> = Vec::new();
        let lists: &[&HashSet<&'static str>] = match cfg.language {
            Language::English => &[english_stop_words()],
            Language::Indonesian => &[indonesian_stop_words()],
            Language::Multilingual => &[english_stop_words(), indonesian_stop_words()],
            Language::None => &[],
        };
        for l in lists {
            stop.extend(l.iter().map(|w| Box::<str>::from(*w)));
        }
        stop.extend(cfg.extra_stop_words.iter().map(|w| {
            if cfg.lowercase {
                w.to_lowercase()
            } else {
                w.clone()
            }
            .into_boxed_str()
        }));
        let max_stop_len = stop.iter().map(|w| w.len()).max().unwrap_or(0);
        let mut stop_short = HashSet::default();
        let mut stop_long = HashSet::default();
        for w in stop {
            match short_key(w.as_bytes()) {
                Some(k) => {
                    stop_short.insert(k);
                }
                None => {
                    stop_long.insert(w);
                }
            }
        }
        Ok(Self {
            cfg,
            stop_short,
            stop_long,
            max_stop_len,
        })
    }

    /// The configuration this tokenizer was built from.
    pub fn config(&self) -> &TokenizerConfig {
        &self.cfg
    }

    /// Whether `word` is removed as a stop word (language list or extra words).
    pub fn is_stop_word(&self, word: &str) -> bool {
        word.len() <= self.max_stop_len
            && match short_key(word.as_bytes()) {
                Some(k) => self.stop_short.contains(&k),
                None => self.stop_long.contains(word),
            }
    }

    /// Calls `f` for every kept word of `text` without allocating per token
    /// (one buffer per call when lower-casing non-trivial text).
    pub fn for_each_word<F: FnMut(&str)>(&self, text: &str, f: F) {
        if text.is_ascii() {
            // ASCII case mapping never changes token boundaries, so tokens are lower-cased
            // one by one instead of copying the whole text.
            self.scan_ascii(text, f);
            return;
        }
        let lowered;
        let text = if self.cfg.lowercase && text.chars().any(char::is_uppercase) {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        self.scan(text, f);
    }

    /// [`scan`](Self::scan) for ASCII text, lower-casing each kept token (when configured)
    /// instead of the text: same tokens, same order.
    fn scan_ascii<F: FnMut(&str)>(&self, text: &str, mut f: F) {
        let min_len = self.cfg.min_token_len.max(2);
        let bytes = text.as_bytes();
        let n = bytes.len();
        let mut lowered = String::new();
        let mut i = 0;
        while i < n {
            while i < n && !ASCII_WORD[usize::from(bytes[i])] {
                i += 1;
            }
            let start = i;
            while i < n && ASCII_WORD[usize::from(bytes[i])] {
                i += 1;
            }
            if i - start < min_len {
                continue;
            }
            // ASCII: byte offsets are char boundaries.
            let mut w = &text[start..i];
            if self.cfg.lowercase && w.bytes().any(|b| b.is_ascii_uppercase()) {
                lowered.clear();
                lowered.push_str(w);
                lowered.make_ascii_lowercase();
                w = lowered.as_str();
            }
            if !self.is_stop_word(w) {
                f(w);
            }
        }
    }

    /// Token scan over text that is already lower-cased as configured.
    fn scan<'t, F: FnMut(&'t str)>(&self, text: &'t str, mut f: F) {
        let min_len = self.cfg.min_token_len.max(2);
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Find the start of a run of word characters.
            let b = bytes[i];
            let (start_ok, len) = if b < 0x80 {
                (b.is_ascii_alphanumeric() || b == b'_', 1)
            } else {
                let c = text[i..].chars().next().unwrap_or(' ');
                (is_word_char(c), c.len_utf8())
            };
            if !start_ok {
                i += len;
                continue;
            }
            let start = i;
            let mut nchars = 0usize;
            while i < bytes.len() {
                let b = bytes[i];
                if b < 0x80 {
                    if b.is_ascii_alphanumeric() || b == b'_' {
                        i += 1;
                        nchars += 1;
                    } else {
                        break;
                    }
                } else {
                    let c = text[i..].chars().next().unwrap_or(' ');
                    if is_word_char(c) {
                        i += c.len_utf8();
                        nchars += 1;
                    } else {
                        break;
                    }
                }
            }
            if nchars >= min_len {
                let w = &text[start..i];
                if !self.is_stop_word(w) {
                    f(w);
                }
            }
        }
    }

    /// Lower-cases (if configured), extracts tokens of at least two word characters
    /// (sklearn's `(?u)\b\w\w+\b`), drops tokens shorter than `min_token_len` and stop words.
    pub fn words(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_word(text, |w| out.push(w.to_string()));
        out
    }

    /// sklearn's `CountVectorizer` word analyzer: [`words`](Self::words), then the n-grams for
    /// every `n` in `ngram_range` joined by a single space (unigrams first, then bigrams, ...).
    /// Stop words are removed before n-grams are formed, as sklearn does.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_term(text, |t| out.push(t.to_string()));
        out
    }

    /// Calls `f` for every term [`terms`](Self::terms) returns, in the same order, without
    /// allocating a `String` per term (n-grams are joined in one reused buffer).
    pub fn for_each_term<F: FnMut(&str)>(&self, text: &str, mut f: F) {
        let (lo, hi) = self.cfg.ngram_range;
        if lo == 1 && hi == 1 {
            self.for_each_word(text, f);
            return;
        }
        let lowered;
        let src = if self.cfg.lowercase {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let mut toks: Vec<&str> = Vec::new();
        self.scan(src, |w| toks.push(w));
        let mut buf = String::new();
        for n in lo..=hi.min(toks.len()) {
            for win in toks.windows(n) {
                buf.clear();
                for (k, w) in win.iter().enumerate() {
                    if k > 0 {
                        buf.push(' ');
                    }
                    buf.push_str(w);
                }
                f(&buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The token rules written the plain way: lower-case the whole text, split into maximal
    /// runs of `\w` characters, keep runs of at least `min_len` characters that are not stop
    /// words. The fast paths (ASCII scan, packed stop-word keys) must agree with it.
    fn reference_words(t: &Tokenizer, text: &str) -> Vec<String> {
        let text = if t.cfg.lowercase {
            text.to_lowercase()
        } else {
            text.to_string()
        };
        let min_len = t.cfg.min_token_len.max(2);
        let mut stop: HashSet<String> = HashSet::new();
        match t.cfg.language {
            Language::English => stop.extend(english_stop_words().iter().map(|w| w.to_string())),
            Language::Indonesian => {
                stop.extend(indonesian_stop_words().iter().map(|w| w.to_string()))
            }
            Language::Multilingual => {
                stop.extend(english_stop_words().iter().map(|w| w.to_string()));
                stop.extend(indonesian_stop_words().iter().map(|w| w.to_string()));
            }
            Language::None => {}
        }
        for w in &t.cfg.extra_stop_words {
            stop.insert(if t.cfg.lowercase {
                w.to_lowercase()
            } else {
                w.clone()
            });
        }
        let mut out = Vec::new();
        let mut cur = String::new();
        for c in text.chars().chain(std::iter::once(' ')) {
            if is_word_char(c) {
                cur.push(c);
            } else {
                if cur.chars().count() >= min_len && !stop.contains(&cur) {
                    out.push(cur.clone());
                }
                cur.clear();
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn fast_scan_matches_reference(
            parts in proptest::collection::vec(
                "[a-zA-Z0-9_]{0,20}|The|AND|yang|[ .,'\n\t-]{1,3}|[éŁİßΣ][a-zé]{0,4}|SupercalifragilisticExtra",
                0..40,
            ),
            lang in 0..4usize,
            lowercase in any::<bool>(),
            min_len in 1..5usize,
            extra in 0..3usize,
        ) {
            let text: String = parts.concat();
            let t = Tokenizer::new(TokenizerConfig {
                language: [Language::English, Language::Indonesian, Language::Multilingual, Language::None][lang],
                lowercase,
                min_token_len: min_len,
                extra_stop_words: ["Ab", "supercalifragilisticextra", "Σσ"][..extra]
                    .iter()
                    .map(|w| w.to_string())
                    .collect(),
                ..Default::default()
            })
            .unwrap();
            prop_assert_eq!(t.words(&text), reference_words(&t, &text));
        }

        #[test]
        fn ngram_terms_match_reference(
            words in proptest::collection::vec("[a-zA-Z]{1,6}|the|[éŁ][a-z]{0,3}", 0..12),
            lo in 1..4usize,
            extra in 0..3usize,
        ) {
            let text = words.join(" ");
            let t = Tokenizer::new(TokenizerConfig {
                ngram_range: (lo, lo + extra),
                ..Default::default()
            })
            .unwrap();
            let toks = reference_words(&t, &text);
            let mut want = Vec::new();
            for n in lo..=(lo + extra).min(toks.len()) {
                for w in toks.windows(n) {
                    want.push(w.join(" "));
                }
            }
            prop_assert_eq!(t.terms(&text), want);
        }
    }

    fn tok(cfg: TokenizerConfig) -> Tokenizer {
        Tokenizer::new(cfg).unwrap()
    }

    #[test]
    fn sklearn_pattern_basics() {
        let t = tok(TokenizerConfig {
            language: Language::None,
            ..Default::default()
        });
        assert_eq!(
            t.words("Hello, World! a I x2 don't e-mail 3.14 Łódź café_au"),
            vec!["hello", "world", "x2", "don", "mail", "14", "łódź", "café_au"]
        );
    }

    #[test]
    fn stop_words_removed_english() {
        let t = tok(TokenizerConfig::default());
        assert_eq!(
            t.words("The model is trained on the data"),
            vec!["model", "trained", "data"]
        );
    }

    #[test]
    fn stop_words_indonesian_and_multi() {
        let t = tok(TokenizerConfig {
            language: Language::Indonesian,
            ..Default::default()
        });
        assert_eq!(
            t.words("Analisis data yang dilakukan di Jakarta"),
            vec!["analisis", "data", "jakarta"]
        );
        let m = tok(TokenizerConfig {
            language: Language::Multilingual,
            ..Default::default()
        });
        assert_eq!(
            m.words("the data yang besar and model"),
            vec!["data", "model"]
        );
    }

    #[test]
    fn extra_stop_words_and_min_len() {
        let t = tok(TokenizerConfig {
            extra_stop_words: vec!["Paper".into()],
            min_token_len: 4,
            ..Default::default()
        });
        assert_eq!(
            t.words("This paper proposes new big models"),
            vec!["proposes", "models"]
        );
    }

    #[test]
    fn ngrams_after_stop_words() {
        let t = tok(TokenizerConfig {
            ngram_range: (1, 2),
            ..Default::default()
        });
        assert_eq!(
            t.terms("deep learning of the graphs"),
            vec![
                "deep",
                "learning",
                "graphs",
                "deep learning",
                "learning graphs"
            ]
        );
        let t = tok(TokenizerConfig {
            ngram_range: (2, 3),
            ..Default::default()
        });
        assert_eq!(
            t.terms("alpha beta gamma"),
            vec!["alpha beta", "beta gamma", "alpha beta gamma"]
        );
        assert!(t.terms("alpha").is_empty());
    }

    #[test]
    fn invalid_config() {
        for r in [(0, 1), (2, 1), (1, 17)] {
            assert!(Tokenizer::new(TokenizerConfig {
                ngram_range: r,
                ..Default::default()
            })
            .is_err());
        }
        assert!(Tokenizer::new(TokenizerConfig {
            min_token_len: 0,
            ..Default::default()
        })
        .is_err());
    }

    #[test]
    fn language_parse_and_serde() {
        assert_eq!("en".parse::<Language>().unwrap(), Language::English);
        assert_eq!("ID".parse::<Language>().unwrap(), Language::Indonesian);
        assert_eq!(
            "multilingual".parse::<Language>().unwrap(),
            Language::Multilingual
        );
        assert_eq!("none".parse::<Language>().unwrap(), Language::None);
        assert!("fr".parse::<Language>().is_err());
        let cfg = TokenizerConfig {
            language: Language::Indonesian,
            ..Default::default()
        };
        let js = serde_json::to_string(&cfg).unwrap();
        assert!(js.contains("\"id\""));
        let back: TokenizerConfig = serde_json::from_str(&js).unwrap();
        assert_eq!(back, cfg);
        let d: TokenizerConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(d, TokenizerConfig::default());
    }

    #[test]
    fn stop_list_sizes() {
        assert_eq!(english_stop_words().len(), 318);
        assert!(indonesian_stop_words().len() >= 300);
        assert!(english_stop_words().contains("the"));
        assert!(indonesian_stop_words().contains("yang"));
    }
}
