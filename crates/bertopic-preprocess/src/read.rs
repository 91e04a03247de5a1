//! Reading corpora from CSV, JSON Lines and plain-text files.

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clean::clean_text;
use crate::error::PreprocessError;

/// One usable document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// 1-based record number in the input (header excluded).
    pub row: usize,
    /// Cleaned text (text columns joined with a space, e.g. Title + " " + Abstract).
    pub text: String,
    /// Date as given (`YYYY`, `YYYY-MM` or `YYYY-MM-DD...`), if any.
    pub date: Option<String>,
    /// Label as given, if any.
    pub label: Option<String>,
}

/// One record as read, before cleaning and deduplication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// 1-based record number (header excluded).
    pub row: usize,
    /// 1-based line where the record starts.
    pub line: u64,
    /// Text columns joined with a space (empty columns skipped), uncleaned.
    pub text: String,
    /// Date, if any.
    pub date: Option<String>,
    /// Label, if any.
    pub label: Option<String>,
}

/// Input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    #[serde(rename = "jsonl")]
    JsonLines,
    /// One document per line.
    #[serde(rename = "txt")]
    Text,
}

impl InputFormat {
    /// Guesses the format from the extension (`.csv`, `.jsonl`/`.ndjson`/`.json`, `.txt`).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            // `.json` is accepted too: corpora exported "one object per line" often use it.
            "jsonl" | "ndjson" | "json" => Some(Self::JsonLines),
            "txt" => Some(Self::Text),
            _ => None,
        }
    }
}

impl FromStr for InputFormat {
    type Err = PreprocessError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "jsonl" | "ndjson" | "jsonlines" => Ok(Self::JsonLines),
            "txt" | "text" => Ok(Self::Text),
            _ => Err(PreprocessError::UnknownFormat(s.to_string())),
        }
    }
}

/// Options for [`read_corpus`] and [`records`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReadOptions {
    /// Format; guessed from the extension when `None`.
    pub format: Option<InputFormat>,
    /// Columns / fields joined into the document text (default `["Title", "Abstract"]`).
    pub text_columns: Vec<String>,
    /// Date column, used when present (default `"Date"`).
    pub date_column: Option<String>,
    /// Label column, used when present (default `"Label"`).
    pub label_column: Option<String>,
    /// Apply [`clean_text`] (default true; otherwise whitespace is only trimmed).
    pub clean: bool,
    /// Drop exact duplicate texts, keeping the first (default true).
    pub dedupe: bool,
    /// Skip and count malformed records instead of failing (default false).
    pub skip_bad_rows: bool,
    /// Minimum number of usable documents (default 5).
    pub min_docs: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            format: None,
            text_columns: vec!["Title".into(), "Abstract".into()],
            date_column: Some("Date".into()),
            label_column: Some("Label".into()),
            clean: true,
            dedupe: true,
            skip_bad_rows: false,
            min_docs: 5,
        }
    }
}

/// What happened to every record of a file. `kept + dropped_empty + dropped_duplicate +
/// skipped_bad == records_read`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReadSummary {
    /// The file.
    pub path: PathBuf,
    /// Records seen (header excluded).
    pub records_read: usize,
    /// Documents kept.
    pub kept: usize,
    /// Rows whose text was empty after cleaning.
    pub dropped_empty: Vec<usize>,
    /// Rows whose cleaned text duplicated an earlier row.
    pub dropped_duplicate: Vec<usize>,
    /// Malformed rows skipped (with `skip_bad_rows`), with the reason.
    pub skipped_bad: Vec<(usize, String)>,
    /// File size in bytes.
    pub bytes: u64,
}

impl fmt::Display for ReadSummary {
    /// One to three lines, e.g. `read 200 records (0.3 MB) from x.csv: kept 198, dropped
    /// 1 empty (row 5), 1 duplicate (row 9)`, then up to five skipped rows with reasons.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read {} records ({:.1} MB) from {}: kept {}",
            self.records_read,
            self.bytes as f64 / 1e6,
            self.path.display(),
            self.kept
        )?;
        let mut parts = Vec::new();
        if !self.dropped_empty.is_empty() {
            parts.push(format!(
                "{} empty {}",
                self.dropped_empty.len(),
                rows(&self.dropped_empty)
            ));
        }
        if !self.dropped_duplicate.is_empty() {
            parts.push(format!(
                "{} duplicate {}",
                self.dropped_duplicate.len(),
                rows(&self.dropped_duplicate)
            ));
        }
        if !parts.is_empty() {
            write!(f, ", dropped {}", parts.join(", "))?;
        }
        if !self.skipped_bad.is_empty() {
            let r: Vec<usize> = self.skipped_bad.iter().map(|(r, _)| *r).collect();
            write!(
                f,
                "\nskipped {} malformed {}:",
                self.skipped_bad.len(),
                rows(&r)
            )?;
            for (row, why) in self.skipped_bad.iter().take(5) {
                write!(f, " [row {row}: {why}]")?;
            }
            if self.skipped_bad.len() > 5 {
                write!(f, " ... and {} more", self.skipped_bad.len() - 5)?;
            }
        }
        Ok(())
    }
}

/// `(row 5)` / `(rows 5, 9, 12, ...)`: at most five row numbers, so the summary stays short.
fn rows(r: &[usize]) -> String {
    let shown: Vec<String> = r.iter().take(5).map(usize::to_string).collect();
    let more = if r.len() > 5 { ", ..." } else { "" };
    let noun = if r.len() == 1 { "row" } else { "rows" };
    format!("({noun} {}{more})", shown.join(", "))
}

type RecordIter = Box<dyn Iterator<Item = Result<RawRecord, PreprocessError>>>;

/// Streams the records of `path` one at a time (no cleaning, no deduplication).
/// Header-level problems (unreadable file, missing text column) fail here; per-record problems
/// come out of the iterator as [`PreprocessError::BadRecord`], and iteration continues after them.
pub fn records(
    path: &Path,
    opts: &ReadOptions,
) -> Result<impl Iterator<Item = Result<RawRecord, PreprocessError>>, PreprocessError> {
    let format = match opts.format {
        Some(f) => f,
        None => InputFormat::from_path(path).ok_or_else(|| PreprocessError::UnknownExtension {
            path: path.to_path_buf(),
        })?,
    };
    let file = File::open(path).map_err(|source| PreprocessError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let it: RecordIter = match format {
        InputFormat::Csv => Box::new(CsvRecords::new(path, file, opts)?),
        InputFormat::JsonLines | InputFormat::Text => Box::new(LineRecords {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(1 << 16, file),
            buf: Vec::new(),
            line: 0,
            row: 0,
            json: format == InputFormat::JsonLines,
            text_columns: opts.text_columns.iter().map(|c| c.to_lowercase()).collect(),
            date_column: opts.date_column.as_ref().map(|c| c.to_lowercase()),
            label_column: opts.label_column.as_ref().map(|c| c.to_lowercase()),
            done: false,
        }),
    };
    Ok(it)
}

fn bad(path: &Path, record: usize, line: u64, reason: impl Into<String>) -> PreprocessError {
    PreprocessError::BadRecord {
        path: path.to_path_buf(),
        record,
        line,
        reason: reason.into(),
    }
}

/// Light date check: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (optionally followed by a time).
fn check_date(d: &str) -> Result<(), String> {
    let b = d.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let ok = digits(0..4)
        && (b.len() == 4
            || (b.get(4) == Some(&b'-')
                && digits(5..7)
                && (b.len() == 7
                    || (b.get(7) == Some(&b'-')
                        && digits(8..10)
                        && (b.len() == 10 || b[10] == b'T' || b[10] == b' ')))));
    if ok {
        Ok(())
    } else {
        Err(format!("date `{d}` is not YYYY, YYYY-MM or YYYY-MM-DD"))
    }
}

fn opt_field(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

struct CsvRecords {
    path: PathBuf,
    reader: csv::Reader<File>,
    text_idx: Vec<usize>,
    date_idx: Option<usize>,
    label_idx: Option<usize>,
    row: usize,
    rec: csv::ByteRecord,
    done: bool,
}

impl CsvRecords {
    fn new(path: &Path, file: File, opts: &ReadOptions) -> Result<Self, PreprocessError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(file);
        let header = reader
            .byte_headers()
            .map_err(|e| PreprocessError::BadHeader {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?
            .clone();
        let mut names = Vec::with_capacity(header.len());
        for h in header.iter() {
            let s = std::str::from_utf8(h).map_err(|_| PreprocessError::BadHeader {
                path: path.to_path_buf(),
                reason: "header is not valid UTF-8".into(),
            })?;
            names.push(s.trim_start_matches('\u{feff}').trim().to_string());
        }
        let find = |col: &str| {
            names
                .iter()
                .position(|n| n == col)
                .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(col)))
        };
        if opts.text_columns.is_empty() {
            return Err(PreprocessError::InvalidParameter {
                name: "text_columns",
                reason: "need at least one text column".into(),
            });
        }
        let mut text_idx = Vec::new();
        for c in &opts.text_columns {
            match find(c) {
                Some(i) => text_idx.push(i),
                None => {
                    return Err(PreprocessError::MissingColumn {
                        path: path.to_path_buf(),
                        column: c.clone(),
                        available: names.clone(),
                    })
                }
            }
        }
        let date_idx = opts.date_column.as_deref().and_then(find);
        let label_idx = opts.label_column.as_deref().and_then(find);
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            text_idx,
            date_idx,
            label_idx,
            row: 0,
            rec: csv::ByteRecord::new(),
            done: false,
        })
    }

    fn convert(&self, line: u64) -> Result<RawRecord, PreprocessError> {
        let field = |i: usize| -> Result<&str, PreprocessError> {
            std::str::from_utf8(self.rec.get(i).unwrap_or_default()).map_err(|e| {
                bad(
                    &self.path,
                    self.row,
                    line,
                    format!("field {} is not valid UTF-8 ({e})", i + 1),
                )
            })
        };
        let mut text = String::new();
        for &i in &self.text_idx {
            let f = field(i)?.trim();
            if !f.is_empty() {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(f);
            }
        }
        let date = match self.date_idx {
            Some(i) => opt_field(field(i)?),
            None => None,
        };
        if let Some(d) = &date {
            check_date(d).map_err(|e| bad(&self.path, self.row, line, e))?;
        }
        let label = match self.label_idx {
            Some(i) => opt_field(field(i)?),
            None => None,
        };
        Ok(RawRecord {
            row: self.row,
            line,
            text,
            date,
            label,
        })
    }
}

impl Iterator for CsvRecords {
    type Item = Result<RawRecord, PreprocessError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut rec = std::mem::take(&mut self.rec);
        let res = self.reader.read_byte_record(&mut rec);
        self.rec = rec;
        match res {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                self.row += 1;
                let line = self.rec.position().map_or(0, |p| p.line());
                Some(self.convert(line))
            }
            Err(e) => {
                self.row += 1;
                let line = e.position().map_or(0, |p| p.line());
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    // The stream itself failed; nothing after this can be read.
                    self.done = true;
                }
                let reason = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("has {len} fields, the header has {expected_len} (check quoting)")
                    }
                    _ => e.to_string(),
                };
                Some(Err(bad(&self.path, self.row, line, reason)))
            }
        }
    }
}

struct LineRecords {
    path: PathBuf,
    reader: BufReader<File>,
    buf: Vec<u8>,
    line: u64,
    row: usize,
    json: bool,
    text_columns: Vec<String>,
    date_column: Option<String>,
    label_column: Option<String>,
    done: bool,
}

fn json_str(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => opt_field(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl LineRecords {
    fn parse_json(&self, s: &str) -> Result<RawRecord, String> {
        let v: serde_json::Value =
            serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
        let obj = v.as_object().ok_or("expected a JSON object")?;
        let get = |key: &str| {
            obj.iter()
                .find(|(k, _)| k.to_lowercase() == key)
                .map(|(_, v)| v)
        };
        let text = if let Some(t) = get("text") {
            json_str(t).unwrap_or_default()
        } else {
            let mut found = false;
            let mut text = String::new();
            for c in &self.text_columns {
                if let Some(v) = get(c) {
                    found = true;
                    if let Some(t) = json_str(v) {
                        if !text.is_empty() {
                            text.push(' ');
                        }
                        text.push_str(&t);
                    }
                }
            }
            if !found {
                return Err(format!(
                    "no `text` field and none of {:?}",
                    self.text_columns
                ));
            }
            text
        };
        let date = get(self.date_column.as_deref().unwrap_or("date"))
            .or_else(|| get("date"))
            .and_then(json_str);
        if let Some(d) = &date {
            check_date(d)?;
        }
        let label = get(self.label_column.as_deref().unwrap_or("label"))
            .or_else(|| get("label"))
            .and_then(json_str);
        Ok(RawRecord {
            row: self.row,
            line: self.line,
            text,
            date,
            label,
        })
    }
}

impl Iterator for LineRecords {
    type Item = Result<RawRecord, PreprocessError>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => {}
                Err(e) => {
                    self.done = true;
                    self.row += 1;
                    return Some(Err(bad(
                        &self.path,
                        self.row,
                        self.line + 1,
                        format!("read error: {e}"),
                    )));
                }
            }
            self.line += 1;
            let bytes: &[u8] = &self.buf;
            let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            let bytes = if self.line == 1 {
                bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes)
            } else {
                bytes
            };
            let s = match std::str::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => {
                    self.row += 1;
                    return Some(Err(bad(
                        &self.path,
                        self.row,
                        self.line,
                        format!("not valid UTF-8 ({e})"),
                    )));
                }
            };
            if self.json {
                // Blank lines separate nothing in JSON Lines; they are not records.
                if s.trim().is_empty() {
                    continue;
                }
                self.row += 1;
                return Some(
                    self.parse_json(s)
                        .map_err(|r| bad(&self.path, self.row, self.line, r)),
                );
            }
            self.row += 1;
            return Some(Ok(RawRecord {
                row: self.row,
                line: self.line,
                text: s.to_string(),
                date: None,
                label: None,
            }));
        }
    }
}

/// Reads, cleans and deduplicates a corpus, accounting for every record in the summary.
/// Fails on the first malformed record unless `skip_bad_rows`, and when fewer than
/// `min_docs` documents remain.
pub fn read_corpus(
    path: &Path,
    opts: &ReadOptions,
) -> Result<(Vec<Document>, ReadSummary), PreprocessError> {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut summary = ReadSummary {
        path: path.to_path_buf(),
        bytes,
        ..Default::default()
    };
    let mut docs = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for rec in records(path, opts)? {
        summary.records_read += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(PreprocessError::BadRecord {
                record,
                reason,
                line,
                ..
            }) if opts.skip_bad_rows => {
                summary
                    .skipped_bad
                    .push((record, format!("line {line}: {reason}")));
                continue;
            }
            Err(e) => return Err(e),
        };
        let text = if opts.clean {
            clean_text(&rec.text)
        } else {
            rec.text.trim().to_string()
        };
        if text.is_empty() {
            summary.dropped_empty.push(rec.row);
            continue;
        }
        if opts.dedupe && !seen.insert(text.clone()) {
            summary.dropped_duplicate.push(rec.row);
            continue;
        }
        docs.push(Document {
            row: rec.row,
            text,
            date: rec.date,
            label: rec.label,
        });
    }
    summary.kept = docs.len();
    if docs.len() < opts.min_docs {
        return Err(PreprocessError::TooFewDocuments {
            path: path.to_path_buf(),
            found: docs.len(),
            min: opts.min_docs,
            detail: format!(
                "{} records read, {} empty after cleaning, {} duplicates, {} malformed skipped",
                summary.records_read,
                summary.dropped_empty.len(),
                summary.dropped_duplicate.len(),
                summary.skipped_bad.len()
            ),
        });
    }
    Ok((docs, summary))
}
