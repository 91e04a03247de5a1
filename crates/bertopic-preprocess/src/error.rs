//! Error type of the preprocessing stage.

use std::path::PathBuf;

/// Everything that can go wrong while configuring the tokenizer or reading a corpus.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    /// A configuration value is out of range.
    #[error("invalid preprocessing parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// An unknown language name was given.
    #[error("unknown language `{0}`: use one of en, id, multilingual, none")]
    UnknownLanguage(String),
    /// An unknown input format name was given.
    #[error("unknown input format `{0}`: use one of csv, jsonl, txt")]
    UnknownFormat(String),
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The format could not be guessed from the file name.
    #[error("cannot tell the format of {path} from its extension: use .csv, .jsonl/.ndjson/.json or .txt, or set the format explicitly")]
    UnknownExtension {
        /// The file.
        path: PathBuf,
    },
    /// A configured text column is not in the CSV header.
    #[error("{path}: text column `{column}` is not in the header; available columns: {available:?} (set text_columns to the right names)")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: String,
        /// Columns in the header.
        available: Vec<String>,
    },
    /// The CSV header itself is unreadable.
    #[error("{path}: cannot read the CSV header: {reason}")]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// One record is malformed (bad quoting, wrong field count, non-UTF-8 bytes, invalid JSON, ...).
    #[error("{path}: record {record} (line {line}) is malformed: {reason} (fix the record or enable skip_bad_rows)")]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// 1-based record number (header excluded).
        record: usize,
        /// 1-based line number where the record starts.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// Too few usable documents remain.
    #[error("{path}: only {found} usable document(s) found, at least {min} are needed ({detail})")]
    TooFewDocuments {
        /// The file.
        path: PathBuf,
        /// Usable documents found.
        found: usize,
        /// Minimum required.
        min: usize,
        /// Why rows were lost (read/empty/duplicate/skipped counts).
        detail: String,
    },
}
