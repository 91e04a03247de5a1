//! Error type of the preprocessing stage.

use std::path::PathBuf;

/// Everything that can go wrong while configuring the tokenizer or reading a corpus.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    #[error("cannot tell the format of {path} from its extension: use .csv, .jsonl/.ndjson/.json or .txt, or pass --input-format csv|jsonl|txt")]
    UnknownExtension {
        /// The file.
        path: PathBuf,
    },
    /// Standard input (`-`) was given without a format: there is no extension to guess from.
    #[error("reading standard input needs a format: pass --input-format csv|jsonl|txt")]
    StdinNeedsFormat,
    /// The input path is a folder.
    #[error("{path} is a folder, not a corpus file: give a .csv, .jsonl or .txt file (or - for standard input)")]
    NotAFile {
        /// The folder.
        path: PathBuf,
    },
    /// The input holds no records: 0 bytes or only whitespace.
    #[error("{path} is empty: no records")]
    EmptyInput {
        /// The file.
        path: PathBuf,
    },
    /// A CSV input has a header row and nothing else.
    #[error("{path} has a header but no records")]
    HeaderOnly {
        /// The file.
        path: PathBuf,
    },
    /// A column the run reads appears more than once in the CSV header.
    #[error("{path}: the header has more than one `{column}` column (columns {first} and {second}); rename or remove one, or pass --text-columns A,B with unambiguous names")]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The column as asked for.
        column: String,
        /// 1-based position of its first occurrence.
        first: usize,
        /// 1-based position of its second occurrence.
        second: usize,
    },
    /// A configured text column is not in the CSV header.
    #[error("{path}: text column `{column}` is not in the header; available columns: {available:?} (pass --text-columns A,B with names from the header)")]
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
    #[error("{path}: record {record} (line {line}) is malformed: {reason} (fix the record or pass --skip-bad-rows to skip such records)")]
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
    #[error("{path}: only {found} usable {} ({detail}); at least {min} are needed", if *.found == 1 { "document" } else { "documents" })]
    TooFewDocuments {
        /// The file.
        path: PathBuf,
        /// Usable documents found.
        found: usize,
        /// Minimum required.
        min: usize,
        /// Where the records went, e.g. `12 records: 3 empty after cleaning, 2 duplicates`.
        detail: String,
    },
}
