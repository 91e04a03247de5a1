//! The Date and Label columns of a corpus as the analysis methods take them.

use super::Timestamp;
use crate::corpus::Corpus;
use crate::error::{BertopicError, Result};

/// Each document's date as a [`Timestamp`] (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`). Fails naming the
/// first record without a date or with a malformed one.
pub fn corpus_timestamps(corpus: &Corpus) -> Result<Vec<Timestamp>> {
    let file = corpus.summary.path.display();
    corpus
        .docs
        .iter()
        .map(|d| {
            let raw = d
                .date
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| {
                    BertopicError::Mismatch(format!(
                    "{file}: record {} has no date: topics over time need a Date column with a \
                     value (YYYY, YYYY-MM or YYYY-MM-DD) in every record",
                    d.row
                ))
                })?;
            Timestamp::parse(raw)
                .map_err(|e| BertopicError::Mismatch(format!("{file}: record {}: {e}", d.row)))
        })
        .collect()
}

/// Each document's class (the Label column). Fails naming the first record without one.
pub fn corpus_classes(corpus: &Corpus) -> Result<Vec<String>> {
    let file = corpus.summary.path.display();
    corpus
        .docs
        .iter()
        .map(|d| {
            d.label
                .clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| {
                    BertopicError::Mismatch(format!(
                        "{file}: record {} has no label: topics per class need a Label column \
                         with a value in every record",
                        d.row
                    ))
                })
        })
        .collect()
}
