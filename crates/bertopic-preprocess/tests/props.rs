//! Property tests: no panics, idempotent cleaning, token invariants, row accounting.

use std::io::Write;

use bertopic_preprocess::{
    clean_text, read_corpus, InputFormat, Language, ReadOptions, Tokenizer, TokenizerConfig,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn clean_idempotent(s in "\\PC*|[ \\t\\n©()c0-9a-zA-Z:é]*") {
        let c = clean_text(&s);
        prop_assert_eq!(clean_text(&c), c.clone());
        prop_assert!(!c.contains("  ") && c.trim() == c);
    }

    #[test]
    fn tokens_clean(s in "\\PC*", lang in 0..4usize, lo in 1..3usize, extra in 0..2usize) {
        let language = [Language::English, Language::Indonesian, Language::Multilingual, Language::None][lang];
        let t = Tokenizer::new(TokenizerConfig { language, ngram_range: (lo, lo + extra), ..Default::default() }).unwrap();
        for w in t.words(&s) {
            prop_assert!(!w.chars().any(char::is_whitespace));
            prop_assert!(!t.is_stop_word(&w));
            prop_assert!(w.chars().count() >= 2);
        }
        let n = t.words(&s).len();
        let terms = t.terms(&s);
        for term in &terms {
            prop_assert!(!term.is_empty());
        }
        if lo == 1 { prop_assert!(terms.len() >= n); }
    }

    #[test]
    fn reader_never_panics_and_counts_add_up(bytes in proptest::collection::vec(any::<u8>(), 0..400), fmt in 0..3usize, skip in any::<bool>()) {
        let format = [InputFormat::Csv, InputFormat::JsonLines, InputFormat::Text][fmt];
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&bytes).unwrap();
        let opts = ReadOptions { format: Some(format), skip_bad_rows: skip, min_docs: 0, ..Default::default() };
        if let Ok((docs, s)) = read_corpus(f.path(), &opts) {
            prop_assert_eq!(docs.len(), s.kept);
            prop_assert_eq!(s.kept + s.dropped_empty.len() + s.dropped_duplicate.len() + s.skipped_bad.len(), s.records_read);
        }
    }

    #[test]
    fn text_lines_accounted(lines in proptest::collection::vec("[a-z ]{0,6}", 0..30)) {
        let mut f = tempfile::Builder::new().suffix(".txt").tempfile().unwrap();
        for l in &lines { writeln!(f, "{l}").unwrap(); }
        let opts = ReadOptions { min_docs: 0, ..Default::default() };
        let (_, s) = read_corpus(f.path(), &opts).unwrap();
        prop_assert_eq!(s.records_read, lines.len());
        prop_assert_eq!(s.kept + s.dropped_empty.len() + s.dropped_duplicate.len(), lines.len());
    }
}
