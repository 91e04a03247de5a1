//! Malformed input per format, missing columns, too few documents.

use std::io::Write;

use bertopic_preprocess::{read_corpus, PreprocessError, ReadOptions};

fn file(ext: &str, bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(ext).tempfile().unwrap();
    f.write_all(bytes).unwrap();
    f
}

const GOOD: &str = "alpha beta\ngamma delta\nepsilon zeta\neta theta\niota kappa\n";

#[test]
fn csv_wrong_field_count() {
    let f = file(".csv", b"Title,Abstract\na,b\nc,d,e\nf,g\nh,i\nj,k\nl,m\n");
    let err = read_corpus(f.path(), &ReadOptions::default()).unwrap_err();
    match &err {
        PreprocessError::BadRecord { record, line, .. } => assert_eq!((*record, *line), (2, 3)),
        e => panic!("{e}"),
    }
    assert!(err.to_string().contains(&f.path().display().to_string()));
    let (docs, s) = read_corpus(
        f.path(),
        &ReadOptions {
            skip_bad_rows: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(docs.len(), 5);
    assert_eq!(s.skipped_bad.len(), 1);
    assert_eq!(s.skipped_bad[0].0, 2);
}

#[test]
fn csv_non_utf8_and_missing_column() {
    let f = file(".csv", b"Title,Abstract\na,b\nc,\xff\xfe\n");
    let err = read_corpus(f.path(), &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(err, PreprocessError::BadRecord { record: 2, .. }),
        "{err}"
    );
    let f = file(".csv", b"Name,Body\na,b\n");
    let err = read_corpus(f.path(), &ReadOptions::default()).unwrap_err();
    match &err {
        PreprocessError::MissingColumn {
            column, available, ..
        } => {
            assert_eq!(column, "Title");
            assert_eq!(available, &vec!["Name".to_string(), "Body".to_string()]);
        }
        e => panic!("{e}"),
    }
}

#[test]
fn csv_one_empty_column_uses_other() {
    let f = file(
        ".csv",
        b"Title,Abstract,Date\n,only abstract,2020\nt1,,2021-01-02\nt2,b,\nt3,c,1999\nt4,d,2000\n",
    );
    let (docs, _) = read_corpus(f.path(), &ReadOptions::default()).unwrap();
    assert_eq!(docs[0].text, "only abstract");
    assert_eq!(docs[1].text, "t1");
    assert_eq!(docs[1].date.as_deref(), Some("2021-01-02"));
    assert_eq!(docs[2].date, None);
}

#[test]
fn jsonl_invalid_json_and_fields() {
    let f = file(".jsonl", b"{\"text\":\"a b\"}\n{\"text\": oops}\n\n{\"title\":\"T\",\"ABSTRACT\":\"A\",\"date\":\"2024\",\"label\":\"x\"}\n{\"text\":\"c\"}\n{\"text\":\"d\"}\n{\"text\":\"e\"}\n");
    let err = read_corpus(f.path(), &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            PreprocessError::BadRecord {
                record: 2,
                line: 2,
                ..
            }
        ),
        "{err}"
    );
    let (docs, s) = read_corpus(
        f.path(),
        &ReadOptions {
            skip_bad_rows: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.records_read, 6);
    assert_eq!(docs[1].text, "T A");
    assert_eq!(docs[1].date.as_deref(), Some("2024"));
    assert_eq!(docs[1].label.as_deref(), Some("x"));
}

#[test]
fn txt_non_utf8_and_blank_lines() {
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes.extend_from_slice(b"\n\xc3\x28\nalpha beta\n");
    let f = file(".txt", &bytes);
    let err = read_corpus(f.path(), &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            PreprocessError::BadRecord {
                record: 7,
                line: 7,
                ..
            }
        ),
        "{err}"
    );
    let (docs, s) = read_corpus(
        f.path(),
        &ReadOptions {
            skip_bad_rows: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(docs.len(), 5);
    assert_eq!(s.dropped_empty, vec![6]);
    assert_eq!(s.dropped_duplicate, vec![8]);
    assert_eq!(s.records_read, 8);
}

#[test]
fn too_few_documents() {
    let f = file(".txt", b"one doc\none doc\n\n");
    let err = read_corpus(f.path(), &ReadOptions::default()).unwrap_err();
    match err {
        PreprocessError::TooFewDocuments { found, min, .. } => assert_eq!((found, min), (1, 5)),
        e => panic!("{e}"),
    }
}

#[test]
fn unknown_extension() {
    let f = file(".xlsx", b"x");
    assert!(matches!(
        read_corpus(f.path(), &ReadOptions::default()),
        Err(PreprocessError::UnknownExtension { .. })
    ));
}
