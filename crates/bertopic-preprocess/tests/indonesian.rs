//! Indonesian text end to end (accents kept, Indonesian stop words removed), `.json` detection
//! and the human summary.

use std::io::Write;

use bertopic_preprocess::{
    clean_text, indonesian_stop_words, read_corpus, InputFormat, Language, ReadOptions, Tokenizer,
    TokenizerConfig,
};

const DOCS: &[&str] = &[
    "Analisis sentimen ulasan pengguna aplikasi yang dilakukan di Jakarta. Kata kunci: sentimen, ulasan",
    "Pemodelan topik untuk berita daring dengan metode BERTopic pada tahun 2023",
    "Klasifikasi citra daun dalam pertanian adalah tantangan yang menarik © 2022 Universitas",
    "Sistem rekomendasi kafe di Bandung: café, crème brûlée dan kopi",
    "Deteksi hoaks menggunakan pembelajaran mendalam untuk media sosial",
    "Deteksi hoaks menggunakan pembelajaran mendalam untuk media sosial",
];

fn jsonl_corpus() -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    for (i, d) in DOCS.iter().enumerate() {
        let line = serde_json::json!({ "Text": d, "Date": format!("202{i}-01-01"), "Label": "id" });
        writeln!(f, "{line}").unwrap();
    }
    f
}

#[test]
fn indonesian_corpus_accents_and_stop_words() {
    let f = jsonl_corpus();
    assert_eq!(
        InputFormat::from_path(f.path()),
        Some(InputFormat::JsonLines)
    );
    let (docs, summary) = read_corpus(f.path(), &ReadOptions::default()).unwrap();
    assert_eq!(summary.records_read, 6);
    assert_eq!(summary.kept, 5);
    assert_eq!(summary.dropped_duplicate, vec![6]);
    // Trailers cut, accents kept.
    assert_eq!(
        docs[0].text,
        "Analisis sentimen ulasan pengguna aplikasi yang dilakukan di Jakarta."
    );
    assert!(docs[2].text.ends_with("tantangan yang menarik"));
    assert!(docs[3].text.contains("café, crème brûlée"));
    assert_eq!(docs[1].date.as_deref(), Some("2021-01-01"));

    let tok = Tokenizer::new(TokenizerConfig {
        language: Language::Indonesian,
        ..Default::default()
    })
    .unwrap();
    let words: Vec<Vec<String>> = docs.iter().map(|d| tok.words(&d.text)).collect();
    assert_eq!(
        words[0],
        vec!["analisis", "sentimen", "ulasan", "pengguna", "aplikasi", "jakarta"]
    );
    assert_eq!(
        words[3],
        vec![
            "sistem",
            "rekomendasi",
            "kafe",
            "bandung",
            "café",
            "crème",
            "brûlée",
            "kopi"
        ]
    );
    for w in words.iter().flatten() {
        assert!(!indonesian_stop_words().contains(w.as_str()), "{w}");
    }
    // English stop words are NOT removed under Language::Indonesian ...
    assert_eq!(tok.words("the data"), vec!["the", "data"]);
    // ... but the multilingual list removes both.
    let multi = Tokenizer::new(TokenizerConfig {
        language: Language::Multilingual,
        ngram_range: (1, 2),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        multi.terms("the model yang baik untuk data"),
        vec!["model", "data", "model data"]
    );
}

#[test]
fn cleaning_keeps_non_ascii_letters() {
    for s in [
        "Ñandú Łódź İstanbul",
        "Šta je ovo? ŽŠČ",
        "東京 の データ",
        "naïve café",
    ] {
        assert_eq!(clean_text(s), s);
    }
}

#[test]
fn summary_display_names_rows() {
    let f = jsonl_corpus();
    let (_, summary) = read_corpus(f.path(), &ReadOptions::default()).unwrap();
    let s = summary.to_string();
    assert!(s.starts_with("read 6 records"), "{s}");
    assert!(s.contains("kept 5"), "{s}");
    assert!(s.contains("1 duplicate (row 6)"), "{s}");
    assert!(s.contains(&f.path().display().to_string()), "{s}");
    assert_eq!(s.lines().count(), 1, "{s}");
}

#[test]
fn tokenizer_is_send_sync() {
    // The integrator shares one tokenizer across rayon workers.
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tokenizer>();
}
