//! Class labels of a training corpus, read from one of its columns, for supervised and
//! semi-supervised fits ([`Bertopic::fit_with_labels`](crate::Bertopic::fit_with_labels);
//! `bertopic train --labels-column`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{BertopicError, Result};
use crate::preprocess::Document;

/// Which column holds the labels and which value means "unknown".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelColumn {
    /// The CSV column / JSON Lines field (matched as the reader matches columns).
    pub column: String,
    /// A value that means unknown, besides an empty field and `-1` (BERTopic's marker).
    pub unknown: Option<String>,
}

/// The labels of a corpus as class ids, one per document (−1 = unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassLabels {
    /// One id per document, in document order; −1 = unknown.
    pub ids: Vec<i64>,
    /// The label text of each class id that occurs (BTreeMap order = id order).
    pub names: std::collections::BTreeMap<i64, String>,
}

impl ClassLabels {
    /// Documents with a known label.
    pub fn n_known(&self) -> usize {
        self.ids.iter().filter(|&&l| l >= 0).count()
    }
}

/// Reads the class ids of `docs` (from the reader's label column, see
/// [`ReadOptions::label_column`](crate::preprocess::ReadOptions::label_column)).
///
/// An empty field, `-1` or `col.unknown` is unknown (−1). When every known label is a whole
/// number ≥ 0, the numbers are the ids (BERTopic's `y`); otherwise each distinct text is a
/// class, numbered by first appearance (ids only order topics of equal size). A negative
/// number other than −1 is refused with its row; so is a corpus without any known label.
pub fn class_ids(docs: &[Document], col: &LabelColumn, source: &Path) -> Result<ClassLabels> {
    let bad = |row: usize, reason: String| BertopicError::BadLabel {
        path: source.to_path_buf(),
        row,
        column: col.column.clone(),
        reason,
    };
    let known = |l: &Option<String>| -> Option<String> {
        let l = l.as_deref()?.trim();
        (!l.is_empty() && l != "-1" && Some(l) != col.unknown.as_deref()).then(|| l.to_string())
    };
    let mut numeric = true;
    let mut any = false;
    for d in docs {
        if let Some(l) = known(&d.label) {
            any = true;
            match l.parse::<i64>() {
                Ok(v) if v < 0 => {
                    return Err(bad(
                        d.row,
                        format!(
                            "label `{l}` is a negative number: class ids are >= 0, and -1, an \
                             empty field or --unknown-label mark an unknown label"
                        ),
                    ))
                }
                Ok(_) => {}
                Err(_) => numeric = false,
            }
        }
    }
    if !any {
        return Err(BertopicError::NoLabels {
            path: source.to_path_buf(),
            column: col.column.clone(),
        });
    }
    let mut by_text: HashMap<String, i64> = HashMap::new();
    let mut names = std::collections::BTreeMap::new();
    let ids = docs
        .iter()
        .map(|d| match known(&d.label) {
            None => -1,
            Some(l) => {
                let id = if numeric {
                    l.parse::<i64>().unwrap_or(-1)
                } else {
                    let n = by_text.len() as i64;
                    *by_text.entry(l.clone()).or_insert(n)
                };
                names.entry(id).or_insert(l);
                id
            }
        })
        .collect();
    Ok(ClassLabels { ids, names })
}

/// The path in label errors: `-` reads standard input.
pub(crate) fn source_name(path: &Path) -> PathBuf {
    if path == Path::new("-") {
        PathBuf::from("standard input")
    } else {
        path.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(labels: &[Option<&str>]) -> Vec<Document> {
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| Document {
                row: i + 1,
                text: format!("doc {i}"),
                date: None,
                label: l.map(str::to_string),
            })
            .collect()
    }

    fn col(unknown: Option<&str>) -> LabelColumn {
        LabelColumn {
            column: "Label".into(),
            unknown: unknown.map(str::to_string),
        }
    }

    #[test]
    fn texts_by_first_appearance_and_unknowns() {
        let d = docs(&[Some("b"), None, Some("a"), Some("?"), Some("b"), Some("-1")]);
        let got = class_ids(&d, &col(Some("?")), Path::new("x.csv")).unwrap();
        assert_eq!(got.ids, vec![0, -1, 1, -1, 0, -1]);
        assert_eq!(got.names[&1], "a");
        assert_eq!(got.n_known(), 3);
    }

    #[test]
    fn whole_numbers_are_the_ids() {
        let d = docs(&[Some("3"), Some("0"), Some("-1"), Some("3")]);
        let got = class_ids(&d, &col(None), Path::new("x.csv")).unwrap();
        assert_eq!(got.ids, vec![3, 0, -1, 3]);
    }

    #[test]
    fn negative_label_names_its_row_and_no_labels_is_refused() {
        let d = docs(&[Some("1"), Some("-2")]);
        let e = class_ids(&d, &col(None), Path::new("x.csv")).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, BertopicError::BadLabel { row: 2, .. }), "{msg}");
        assert!(msg.contains("x.csv") && msg.contains("row 2"), "{msg}");
        let e = class_ids(&docs(&[None, Some("-1")]), &col(None), Path::new("x.csv")).unwrap_err();
        assert!(matches!(e, BertopicError::NoLabels { .. }), "{e}");
    }
}
