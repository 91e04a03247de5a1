//! Property tests: no panics, idempotent cleaning, token invariants, row accounting, CSV
//! round trips.

use std::io::{Cursor, Write};
use std::path::Path;

use bertopic_preprocess::{
    clean_text, fuzz_read, read_corpus, read_corpus_from, records_from, InputFormat, Language,
    ReadOptions, Tokenizer, TokenizerConfig,
};
use proptest::prelude::*;

const FORMATS: [InputFormat; 3] = [InputFormat::Csv, InputFormat::JsonLines, InputFormat::Text];

/// What the reader should make of a text field: trimmed, empty ones left out of the join.
fn joined(fields: &[&str]) -> String {
    let parts: Vec<&str> = fields
        .iter()
        .map(|f| f.trim())
        .filter(|f| !f.is_empty())
        .collect();
    parts.join(" ")
}

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

    #[test]
    fn any_bytes_any_format_no_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), fmt in 0..3usize, skip in any::<bool>(), min_docs in 0..3usize) {
        let format = FORMATS[fmt];
        let opts = ReadOptions { format: Some(format), skip_bad_rows: skip, min_docs, ..Default::default() };
        // Any Ok or Err is fine; a panic is not.
        let _ = read_corpus_from(Path::new("<mem>"), Cursor::new(bytes.clone()), format, &opts);
        fuzz_read(&bytes);
    }

    #[test]
    fn csv_round_trip(rows in proptest::collection::vec(
        proptest::collection::vec("[a-zA-Z0-9 ,\"\n\r\t;é漢😀\u{feff}']{0,12}", 4), 0..25)) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["Title", "Abstract", "Date", "Label"]).unwrap();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let opts = ReadOptions { format: Some(InputFormat::Csv), clean: false, dedupe: false, min_docs: 0, ..Default::default() };
        let got: Vec<_> = records_from(Path::new("<mem>"), Cursor::new(bytes.clone()), InputFormat::Csv, &opts)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(got.len(), rows.len());
        for (i, (rec, row)) in got.iter().zip(&rows).enumerate() {
            prop_assert_eq!(rec.row, i + 1);
            prop_assert_eq!(&rec.text, &joined(&[&row[0], &row[1]]));
            let opt = |s: &str| Some(s.trim().to_string()).filter(|t| !t.is_empty());
            prop_assert_eq!(&rec.date, &opt(&row[2]));
            prop_assert_eq!(&rec.label, &opt(&row[3]));
        }
        let result = read_corpus_from(Path::new("<mem>"), Cursor::new(bytes), InputFormat::Csv, &opts);
        if rows.is_empty() {
            // A header alone with min_docs 0 is fine: nothing was asked for.
            prop_assert_eq!(result.unwrap().0.len(), 0);
        } else {
            let (docs, s) = result.unwrap();
            let expected: Vec<String> = rows.iter().map(|r| joined(&[&r[0], &r[1]])).filter(|t| !t.is_empty()).collect();
            prop_assert_eq!(docs.iter().map(|d| d.text.clone()).collect::<Vec<_>>(), expected);
            prop_assert_eq!(s.records_read, rows.len());
        }
    }
}
