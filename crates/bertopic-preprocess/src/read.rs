//! Reading corpora from CSV, JSON Lines and plain-text files, or from any reader (standard
//! input, an in-memory buffer, a request body).

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
    /// Date as given (trimmed, not validated: see [`parse_date`]), if any.
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
    /// Format; guessed from the extension when `None`. Standard input (`-`) needs it set.
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
    /// Bytes read.
    pub bytes: u64,
    /// Things the caller should know that did not stop the read (e.g. an ambiguous date column
    /// that was not read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
        for n in &self.notes {
            write!(f, "\nnote: {n}")?;
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

type RecordIter = Box<dyn Iterator<Item = Result<RawRecord, PreprocessError>> + Send>;
type Input = Box<dyn Read + Send>;

/// The path that means standard input.
const STDIN_PATH: &str = "-";
/// How standard input is named in messages and in [`ReadSummary::path`].
pub const STDIN_LABEL: &str = "<stdin>";

/// Opens `path` (standard input for `-`) and settles its format; returns the name used in
/// messages, the byte stream and the format.
fn open(path: &Path, opts: &ReadOptions) -> Result<(PathBuf, Input, InputFormat), PreprocessError> {
    if path == Path::new(STDIN_PATH) {
        let format = opts.format.ok_or(PreprocessError::StdinNeedsFormat)?;
        return Ok((PathBuf::from(STDIN_LABEL), Box::new(io::stdin()), format));
    }
    // Checked before the extension, so `corpus.csv/` is reported as a folder.
    if path.is_dir() {
        return Err(PreprocessError::NotAFile {
            path: path.to_path_buf(),
        });
    }
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
    Ok((path.to_path_buf(), Box::new(file), format))
}

/// Streams the records of `path` one at a time (no cleaning, no deduplication); `-` reads
/// standard input, which needs `opts.format`.
/// Header-level problems (unreadable file, missing text column) fail here; per-record problems
/// come out of the iterator as [`PreprocessError::BadRecord`], and iteration continues after them.
/// A failing stream ends the iteration with [`PreprocessError::Io`].
pub fn records(
    path: &Path,
    opts: &ReadOptions,
) -> Result<impl Iterator<Item = Result<RawRecord, PreprocessError>> + Send, PreprocessError> {
    let (name, input, format) = open(path, opts)?;
    Ok(open_records(&name, input, format, opts)?.0)
}

/// [`records`] over any byte stream; `name` only labels messages. `opts.format` is ignored in
/// favour of `format`.
pub fn records_from(
    name: &Path,
    reader: impl Read + Send + 'static,
    format: InputFormat,
    opts: &ReadOptions,
) -> Result<impl Iterator<Item = Result<RawRecord, PreprocessError>> + Send, PreprocessError> {
    Ok(open_records(name, Box::new(reader), format, opts)?.0)
}

/// The record stream, plus notes about the header for the summary.
fn open_records(
    name: &Path,
    input: Input,
    format: InputFormat,
    opts: &ReadOptions,
) -> Result<(RecordIter, Vec<String>), PreprocessError> {
    Ok(match format {
        InputFormat::Csv => {
            let mut r = CsvRecords::new(name, input, opts)?;
            let notes = std::mem::take(&mut r.notes);
            (Box::new(r), notes)
        }
        InputFormat::JsonLines | InputFormat::Text => (
            Box::new(LineRecords {
                path: name.to_path_buf(),
                reader: BufReader::with_capacity(1 << 16, input),
                buf: Vec::new(),
                line: 0,
                row: 0,
                json: format == InputFormat::JsonLines,
                text_columns: opts
                    .text_columns
                    .iter()
                    .map(|c| (c.clone(), c.to_lowercase()))
                    .collect(),
                date_column: opts.date_column.as_ref().map(|c| c.to_lowercase()),
                label_column: opts.label_column.as_ref().map(|c| c.to_lowercase()),
                done: false,
            }),
            Vec::new(),
        ),
    })
}

fn bad(path: &Path, record: usize, line: u64, reason: impl Into<String>) -> PreprocessError {
    PreprocessError::BadRecord {
        path: path.to_path_buf(),
        record,
        line,
        reason: reason.into(),
    }
}

/// Parses a date as corpora write it: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, optionally followed by a
/// time after `T` or a space (ignored); surrounding whitespace is ignored. Returns
/// `(year, month, day)`. The reader keeps dates as given without this check, so a bad date only
/// stops the consumers that use dates.
///
/// ```
/// use bertopic_preprocess::parse_date;
/// assert_eq!(parse_date("2024-02-29T10:00"), Ok((2024, Some(2), Some(29))));
/// assert_eq!(parse_date("1999"), Ok((1999, None, None)));
/// assert!(parse_date("2023-02-29").is_err());
/// ```
pub fn parse_date(s: &str) -> Result<(i32, Option<u8>, Option<u8>), String> {
    let d = s.trim();
    let b = d.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u16> {
        let digits = b.get(r)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, &c| n * 10 + u16::from(c - b'0')))
    };
    let shape = || format!("date `{d}` is not YYYY, YYYY-MM or YYYY-MM-DD");
    let year = num(0..4).ok_or_else(shape)?;
    if b.len() == 4 {
        return Ok((i32::from(year), None, None));
    }
    let month = if b[4] == b'-' { num(5..7) } else { None }.ok_or_else(shape)?;
    if !(1..=12).contains(&month) {
        return Err(format!("date `{d}` has month {month}, not 1 to 12"));
    }
    if b.len() == 7 {
        return Ok((i32::from(year), Some(month as u8), None));
    }
    let day = if b[7] == b'-' { num(8..10) } else { None }.ok_or_else(shape)?;
    if b.len() > 10 && b[10] != b'T' && b[10] != b' ' {
        return Err(shape());
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days).contains(&day) {
        return Err(format!(
            "date `{d}` has day {day}, but {year:04}-{month:02} has {days} days"
        ));
    }
    Ok((i32::from(year), Some(month as u8), Some(day as u8)))
}

fn opt_field(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Reads past leading whitespace (and a UTF-8 byte-order mark) and returns a reader that
/// replays it, so line numbers stay right; `None` when the stream holds nothing else.
fn skip_blank(input: Input) -> io::Result<Option<Input>> {
    const BOM: &[u8] = b"\xef\xbb\xbf";
    let mut r = BufReader::with_capacity(1 << 16, input);
    let mut prefix = Vec::new();
    // Whether the stream so far is a start of the BOM: only there are its bytes blank.
    let mut in_bom = true;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(None);
        }
        let blank = buf.iter().enumerate().position(|(i, &c)| {
            let at = prefix.len() + i;
            in_bom &= at < BOM.len() && c == BOM[at];
            !(in_bom || c.is_ascii_whitespace())
        });
        let n = blank.unwrap_or(buf.len());
        prefix.extend_from_slice(&buf[..n]);
        r.consume(n);
        if blank.is_some() {
            return Ok(Some(Box::new(Cursor::new(prefix).chain(r))));
        }
    }
}

/// Position of `col` in the header: an exact match, else a case-insensitive one. Two matches of
/// the same kind are ambiguous: `Err((first, second))`, 0-based.
fn find_column(names: &[String], col: &str) -> Result<Option<usize>, (usize, usize)> {
    let hits = |eq: &dyn Fn(&str) -> bool| -> Vec<usize> {
        (0..names.len())
            .filter(|&i| eq(&names[i]))
            .take(2)
            .collect()
    };
    let mut h = hits(&|n| n == col);
    if h.is_empty() {
        h = hits(&|n| n.eq_ignore_ascii_case(col));
    }
    match h[..] {
        [] => Ok(None),
        [i] => Ok(Some(i)),
        [i, j, ..] => Err((i, j)),
    }
}

struct CsvRecords {
    path: PathBuf,
    reader: csv::Reader<Input>,
    text_idx: Vec<usize>,
    date_idx: Option<usize>,
    label_idx: Option<usize>,
    row: usize,
    rec: csv::ByteRecord,
    done: bool,
    notes: Vec<String>,
}

impl CsvRecords {
    fn new(path: &Path, input: Input, opts: &ReadOptions) -> Result<Self, PreprocessError> {
        let input = match skip_blank(input) {
            Ok(Some(i)) => i,
            Ok(None) => {
                return Err(PreprocessError::EmptyInput {
                    path: path.to_path_buf(),
                })
            }
            Err(source) => {
                return Err(PreprocessError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
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
        if opts.text_columns.is_empty() {
            return Err(PreprocessError::InvalidParameter {
                name: "text_columns",
                reason: "need at least one text column (pass --text-columns A,B)".into(),
            });
        }
        let mut text_idx = Vec::new();
        for c in &opts.text_columns {
            match find_column(&names, c) {
                Ok(Some(i)) => text_idx.push(i),
                Ok(None) => {
                    return Err(PreprocessError::MissingColumn {
                        path: path.to_path_buf(),
                        column: c.clone(),
                        available: names.clone(),
                    })
                }
                Err((first, second)) => {
                    return Err(PreprocessError::DuplicateColumn {
                        path: path.to_path_buf(),
                        column: c.clone(),
                        first: first + 1,
                        second: second + 1,
                    })
                }
            }
        }
        // Dates and labels are optional extras: an ambiguous one is dropped with a note rather
        // than stopping a run that may not use it.
        let mut notes = Vec::new();
        let mut optional = |col: Option<&str>, what: &str| {
            let col = col?;
            find_column(&names, col)
                .map_err(|(i, j)| {
                    notes.push(format!(
                        "the header has two `{col}` columns ({} and {}): {what} not read",
                        i + 1,
                        j + 1
                    ))
                })
                .ok()
                .flatten()
        };
        let date_idx = optional(opts.date_column.as_deref(), "dates");
        let label_idx = optional(opts.label_column.as_deref(), "labels");
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            text_idx,
            date_idx,
            label_idx,
            row: 0,
            rec: csv::ByteRecord::new(),
            done: false,
            notes,
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
        // Dates and labels are kept as given: validating them here would let a column the run
        // does not use abort it (see `parse_date`).
        let date = match self.date_idx {
            Some(i) => opt_field(field(i)?),
            None => None,
        };
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
                let line = e.position().map_or(0, |p| p.line());
                let reason = match e.into_kind() {
                    // The stream itself failed: not a malformed record, and nothing after it
                    // can be read.
                    csv::ErrorKind::Io(source) => {
                        self.done = true;
                        return Some(Err(PreprocessError::Io {
                            path: self.path.clone(),
                            source,
                        }));
                    }
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("has {len} fields, the header has {expected_len} (check quoting)")
                    }
                    other => format!("{other:?}"),
                };
                self.row += 1;
                Some(Err(bad(&self.path, self.row, line, reason)))
            }
        }
    }
}

struct LineRecords {
    path: PathBuf,
    reader: BufReader<Input>,
    buf: Vec<u8>,
    line: u64,
    row: usize,
    json: bool,
    /// Text fields as configured (for messages) and lower-cased (for lookup).
    text_columns: Vec<(String, String)>,
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

/// `` `a`, `b` or `c` ``, at most ten names.
fn names_list<'a>(names: impl Iterator<Item = &'a str>, last_sep: &str) -> String {
    let all: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    let shown = &all[..all.len().min(10)];
    let more = if all.len() > 10 { ", ..." } else { "" };
    match shown {
        [] => "none".into(),
        [one] => format!("{one}{more}"),
        [init @ .., last] if more.is_empty() => format!("{}{last_sep}{last}", init.join(", ")),
        _ => format!("{}{more}", shown.join(", ")),
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
            // Some text fields present is fine (their values are joined); none at all means the
            // record is not what the run expects, not an empty document.
            let mut found = false;
            let mut text = String::new();
            for (_, c) in &self.text_columns {
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
                let wanted = self
                    .text_columns
                    .iter()
                    .map(|(c, _)| c.as_str())
                    .chain(["text"]);
                return Err(format!(
                    "it has none of the text fields {} (its fields: {}; pass --text-columns to read others)",
                    names_list(wanted, " or "),
                    names_list(obj.keys().map(String::as_str), " and "),
                ));
            }
            text
        };
        let date = get(self.date_column.as_deref().unwrap_or("date"))
            .or_else(|| get("date"))
            .and_then(json_str);
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
                Err(source) => {
                    // The stream failed: not a malformed record, and not skippable.
                    self.done = true;
                    return Some(Err(PreprocessError::Io {
                        path: self.path.clone(),
                        source,
                    }));
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

/// Counts the bytes that pass through, for [`ReadSummary::bytes`].
struct Counted<R> {
    inner: R,
    n: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

/// Reads, cleans and deduplicates a corpus, accounting for every record in the summary; `-`
/// reads standard input (streamed), which needs `opts.format`.
/// Fails on the first malformed record unless `skip_bad_rows`, and when fewer than
/// `min_docs` documents remain.
pub fn read_corpus(
    path: &Path,
    opts: &ReadOptions,
) -> Result<(Vec<Document>, ReadSummary), PreprocessError> {
    let (name, input, format) = open(path, opts)?;
    read_opened(&name, input, format, opts)
}

/// [`read_corpus`] over any byte stream (standard input, an in-memory buffer, a request body),
/// read as it arrives; `name` labels messages and [`ReadSummary::path`]. `opts.format` is
/// ignored in favour of `format`.
pub fn read_corpus_from(
    name: &Path,
    reader: impl Read + Send + 'static,
    format: InputFormat,
    opts: &ReadOptions,
) -> Result<(Vec<Document>, ReadSummary), PreprocessError> {
    read_opened(name, Box::new(reader), format, opts)
}

fn read_opened(
    name: &Path,
    input: Input,
    format: InputFormat,
    opts: &ReadOptions,
) -> Result<(Vec<Document>, ReadSummary), PreprocessError> {
    let n = Arc::new(AtomicU64::new(0));
    let input = Box::new(Counted {
        inner: input,
        n: Arc::clone(&n),
    });
    let (records, notes) = open_records(name, input, format, opts)?;
    let mut summary = ReadSummary {
        path: name.to_path_buf(),
        notes,
        ..Default::default()
    };
    let mut docs = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // Whether anything but whitespace was read: tells an empty text file from one whose lines
    // all cleaned away.
    let mut any_text = false;
    for rec in records {
        summary.records_read += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(PreprocessError::BadRecord {
                record,
                reason,
                line,
                ..
            }) if opts.skip_bad_rows => {
                any_text = true;
                summary
                    .skipped_bad
                    .push((record, format!("line {line}: {reason}")));
                continue;
            }
            Err(e) => return Err(e),
        };
        any_text |= !rec.text.trim().is_empty();
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
    summary.bytes = n.load(Ordering::Relaxed);
    if docs.len() < opts.min_docs {
        let path = name.to_path_buf();
        // Blank CSV input already failed at the header.
        return Err(match format {
            InputFormat::Csv if summary.records_read == 0 => PreprocessError::HeaderOnly { path },
            InputFormat::JsonLines if summary.records_read == 0 => {
                PreprocessError::EmptyInput { path }
            }
            InputFormat::Text if !any_text => PreprocessError::EmptyInput { path },
            _ => PreprocessError::TooFewDocuments {
                path,
                found: docs.len(),
                min: opts.min_docs,
                detail: loss_detail(&summary),
            },
        });
    }
    Ok((docs, summary))
}

/// `12 records: 3 empty after cleaning, 2 duplicates`: where the records went, zero counts left
/// out.
fn loss_detail(s: &ReadSummary) -> String {
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut out = count(s.records_read, "record", "records");
    let lost: Vec<String> = [
        (
            s.dropped_empty.len(),
            "empty after cleaning",
            "empty after cleaning",
        ),
        (s.dropped_duplicate.len(), "duplicate", "duplicates"),
        (
            s.skipped_bad.len(),
            "malformed skipped",
            "malformed skipped",
        ),
    ]
    .into_iter()
    .filter(|&(n, ..)| n > 0)
    .map(|(n, one, many)| count(n, one, many))
    .collect();
    if !lost.is_empty() {
        out.push_str(": ");
        out.push_str(&lost.join(", "));
    }
    out
}

/// Fuzzing entry point (for a cargo-fuzz target): reads `bytes` in every format, with and
/// without `skip_bad_rows`, and checks the record accounting. It panics only on a reader bug.
#[doc(hidden)]
pub fn fuzz_read(bytes: &[u8]) {
    for format in [InputFormat::Csv, InputFormat::JsonLines, InputFormat::Text] {
        for skip_bad_rows in [false, true] {
            let opts = ReadOptions {
                format: Some(format),
                skip_bad_rows,
                min_docs: 0,
                ..Default::default()
            };
            let name = Path::new("<fuzz>");
            if let Ok((docs, s)) =
                read_corpus_from(name, Cursor::new(bytes.to_vec()), format, &opts)
            {
                assert_eq!(docs.len(), s.kept);
                assert_eq!(
                    s.kept
                        + s.dropped_empty.len()
                        + s.dropped_duplicate.len()
                        + s.skipped_bad.len(),
                    s.records_read
                );
                assert_eq!(s.bytes, bytes.len() as u64);
            }
            if let Ok(it) = records_from(name, Cursor::new(bytes.to_vec()), format, &opts) {
                it.for_each(drop);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ReadOptions {
        ReadOptions {
            min_docs: 1,
            ..Default::default()
        }
    }

    fn read(
        bytes: &str,
        format: InputFormat,
        o: &ReadOptions,
    ) -> Result<(Vec<Document>, ReadSummary), PreprocessError> {
        read_corpus_from(
            Path::new("mem"),
            Cursor::new(bytes.as_bytes().to_vec()),
            format,
            o,
        )
    }

    fn err(bytes: &str, format: InputFormat, o: &ReadOptions) -> PreprocessError {
        read(bytes, format, o).expect_err("should fail")
    }

    /// An endless corpus: reading it to the end would never finish.
    struct Endless {
        head: Cursor<Vec<u8>>,
        n: u64,
        json: bool,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.head.position() == self.head.get_ref().len() as u64 {
                self.n += 1;
                let line = if self.json {
                    format!("{{\"text\": \"document {}\"}}\n", self.n)
                } else {
                    format!("document {},x\n", self.n)
                };
                self.head = Cursor::new(line.into_bytes());
            }
            self.head.read(buf)
        }
    }

    #[test]
    fn stdin_needs_a_format() {
        let e = read_corpus(Path::new("-"), &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, PreprocessError::StdinNeedsFormat), "{e}");
        assert_eq!(
            e.to_string(),
            "reading standard input needs a format: pass --input-format csv|jsonl|txt"
        );
        assert!(records(Path::new("-"), &ReadOptions::default()).is_err());
    }

    #[test]
    fn reader_streams_without_reaching_the_end() {
        for (format, header, json) in [
            (InputFormat::Text, "", false),
            (InputFormat::JsonLines, "", true),
            (InputFormat::Csv, "Title,Abstract\n", false),
        ] {
            let input = Endless {
                head: Cursor::new(header.as_bytes().to_vec()),
                n: 0,
                json,
            };
            let got: Vec<RawRecord> = records_from(Path::new("<stdin>"), input, format, &opts())
                .unwrap()
                .take(3)
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(got.len(), 3, "{format:?}");
            assert_eq!(got[2].row, 3);
            assert!(got[0].text.starts_with("document 1"), "{:?}", got[0]);
        }
    }

    #[test]
    fn read_corpus_from_memory() {
        let (docs, s) = read(
            "Title,Abstract,Date\nA,first text,2020\nB,second text,2021-02\n",
            InputFormat::Csv,
            &opts(),
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].text, "B second text");
        assert_eq!(s.path, Path::new("mem"));
        assert_eq!(s.bytes, 60);
        let (docs, _) = read("one\ntwo\n", InputFormat::Text, &opts()).unwrap();
        assert_eq!(docs[1].text, "two");
    }

    #[test]
    fn folder_is_not_a_corpus_file() {
        let dir = std::env::temp_dir();
        let e = read_corpus(&dir, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, PreprocessError::NotAFile { .. }), "{e}");
        assert!(
            e.to_string().contains("is a folder, not a corpus file"),
            "{e}"
        );
        // Even when forced to a format, or named like a corpus file.
        let o = ReadOptions {
            format: Some(InputFormat::Csv),
            ..Default::default()
        };
        assert!(matches!(
            records(&dir, &o).err(),
            Some(PreprocessError::NotAFile { .. })
        ));
    }

    #[test]
    fn unknown_extension_names_the_flag() {
        let e = read_corpus(Path::new("corpus.xlsx"), &ReadOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("or pass --input-format csv|jsonl|txt"),
            "{e}"
        );
    }

    #[test]
    fn empty_inputs_say_so() {
        for format in [InputFormat::Csv, InputFormat::JsonLines, InputFormat::Text] {
            for bytes in ["", " \n\t\r\n", "\u{feff}", "\u{feff}\n  \n"] {
                let e = err(bytes, format, &opts());
                assert!(
                    matches!(e, PreprocessError::EmptyInput { .. }),
                    "{format:?} {bytes:?}: {e}"
                );
                assert_eq!(e.to_string(), "mem is empty: no records");
            }
        }
        for bytes in [
            "Title,Abstract",
            "Title,Abstract\n",
            "\n\nTitle,Abstract\r\n\n",
        ] {
            let e = err(bytes, InputFormat::Csv, &opts());
            assert!(
                matches!(e, PreprocessError::HeaderOnly { .. }),
                "{bytes:?}: {e}"
            );
            assert_eq!(e.to_string(), "mem has a header but no records");
        }
        // BOM bytes count as blank only at the very start.
        let e = read_corpus_from(
            Path::new("mem"),
            Cursor::new(b" \xbb\xbf".to_vec()),
            InputFormat::Csv,
            &opts(),
        )
        .unwrap_err();
        assert!(matches!(e, PreprocessError::BadHeader { .. }), "{e}");
        // Accepting zero documents accepts an empty text file.
        let zero = ReadOptions {
            min_docs: 0,
            ..Default::default()
        };
        assert_eq!(
            read("\n\n", InputFormat::Text, &zero)
                .unwrap()
                .1
                .records_read,
            2
        );
        // Blank lines before the header keep their line numbers.
        let e = err("\n\nTitle,Abstract\na,b\nc\n", InputFormat::Csv, &opts());
        assert!(
            matches!(
                e,
                PreprocessError::BadRecord {
                    record: 2,
                    line: 5,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn duplicate_used_columns() {
        let e = err(
            "Title,Abstract,Abstract\na,b,c\n",
            InputFormat::Csv,
            &opts(),
        );
        match &e {
            PreprocessError::DuplicateColumn {
                column,
                first,
                second,
                ..
            } => assert_eq!((column.as_str(), *first, *second), ("Abstract", 2, 3)),
            e => panic!("{e}"),
        }
        assert!(
            e.to_string()
                .contains("`Abstract` column (columns 2 and 3)"),
            "{e}"
        );
        // Found case-insensitively, so duplicates count case-insensitively.
        let e = err(
            "title,ABSTRACT,abstract\na,b,c\n",
            InputFormat::Csv,
            &opts(),
        );
        assert!(
            matches!(
                e,
                PreprocessError::DuplicateColumn {
                    first: 2,
                    second: 3,
                    ..
                }
            ),
            "{e}"
        );
        // An exact match is unambiguous; unused duplicates do not matter.
        let (docs, s) = read(
            "Title,Abstract,abstract,Notes,Notes\na,b,c,d,e\n",
            InputFormat::Csv,
            &opts(),
        )
        .unwrap();
        assert_eq!(docs[0].text, "a b");
        assert!(s.notes.is_empty());
        // An ambiguous date column is left out with a note, not an error.
        let (docs, s) = read(
            "Title,Abstract,date,DATE,Label\na,b,2020,2021,x\n",
            InputFormat::Csv,
            &opts(),
        )
        .unwrap();
        assert_eq!(
            (docs[0].date.as_deref(), docs[0].label.as_deref()),
            (None, Some("x"))
        );
        assert_eq!(s.notes.len(), 1);
        assert!(
            s.to_string()
                .contains("note: the header has two `Date` columns (3 and 4): dates not read"),
            "{s}"
        );
    }

    #[test]
    fn jsonl_record_without_text_fields_is_malformed() {
        let input = "{\"title\": \"T\"}\n\n{\"id\": 3, \"body\": \"B\"}\n{\"Abstract\": \"A\", \"TITLE\": null}\n";
        let e = err(input, InputFormat::JsonLines, &opts());
        match &e {
            PreprocessError::BadRecord {
                record,
                line,
                reason,
                ..
            } => {
                assert_eq!((*record, *line), (2, 3));
                assert!(
                    reason.contains("none of the text fields `Title`, `Abstract` or `text`"),
                    "{reason}"
                );
                // Key order depends on serde_json's `preserve_order` feature.
                assert!(
                    reason.contains("its fields: `body` and `id`")
                        || reason.contains("its fields: `id` and `body`"),
                    "{reason}"
                );
            }
            e => panic!("{e}"),
        }
        let skip = ReadOptions {
            skip_bad_rows: true,
            ..opts()
        };
        let (docs, s) = read(input, InputFormat::JsonLines, &skip).unwrap();
        // Some text fields present: the present ones are used.
        assert_eq!(
            docs.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(),
            ["T", "A"]
        );
        assert_eq!(s.skipped_bad.len(), 1);
        assert_eq!(s.skipped_bad[0].0, 2);
    }

    #[test]
    fn unparsable_dates_do_not_stop_the_read() {
        let (docs, _) = read(
            "Title,Abstract,Date\na,b,last spring\nc,d, 2020-13-45 \n",
            InputFormat::Csv,
            &opts(),
        )
        .unwrap();
        assert_eq!(docs[0].date.as_deref(), Some("last spring"));
        assert_eq!(docs[1].date.as_deref(), Some("2020-13-45"));
        let (docs, _) = read(
            "{\"text\": \"a\", \"date\": \"soon\"}\n",
            InputFormat::JsonLines,
            &opts(),
        )
        .unwrap();
        assert_eq!(docs[0].date.as_deref(), Some("soon"));
    }

    #[test]
    fn parse_date_checks() {
        assert_eq!(parse_date("2020"), Ok((2020, None, None)));
        assert_eq!(parse_date(" 2020-02 "), Ok((2020, Some(2), None)));
        assert_eq!(parse_date("2020-02-29"), Ok((2020, Some(2), Some(29))));
        assert_eq!(
            parse_date("2000-02-29 12:00"),
            Ok((2000, Some(2), Some(29)))
        );
        assert_eq!(
            parse_date("2021-12-31T23:59:59Z"),
            Ok((2021, Some(12), Some(31)))
        );
        for bad in [
            "",
            "20",
            "2020-",
            "2020-1",
            "2020/01",
            "2020-01-1",
            "2020-01-01x",
            "year",
            "1900-02-29",
            "2021-04-31",
            "2020-00",
            "2020-01-00",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_date("2020-13").unwrap_err(),
            "date `2020-13` has month 13, not 1 to 12"
        );
        assert_eq!(
            parse_date("2021-02-29").unwrap_err(),
            "date `2021-02-29` has day 29, but 2021-02 has 28 days"
        );
    }

    #[test]
    fn hints_name_the_flags() {
        let e = err("Title,Abstract\na,b\nc\n", InputFormat::Csv, &opts());
        assert_eq!(
            e.to_string(),
            "mem: record 2 (line 3) is malformed: has 1 fields, the header has 2 (check quoting) (fix the record or pass --skip-bad-rows to skip such records)"
        );
        let e = err("Name,Body\na,b\n", InputFormat::Csv, &opts());
        assert!(
            e.to_string()
                .ends_with("(pass --text-columns A,B with names from the header)"),
            "{e}"
        );
    }

    #[test]
    fn too_few_documents_explains_the_losses() {
        let o = ReadOptions {
            min_docs: 16,
            ..Default::default()
        };
        let mut input = String::new();
        for i in 0..7 {
            input.push_str(&format!("doc {i}\n"));
        }
        input.push_str("\n \n\u{1}\ndoc 0\ndoc 1\n");
        let e = err(&input, InputFormat::Text, &o);
        assert_eq!(
            e.to_string(),
            "mem: only 7 usable documents (12 records: 3 empty after cleaning, 2 duplicates); at least 16 are needed"
        );
        let e = err("one\n", InputFormat::Text, &ReadOptions::default());
        assert_eq!(
            e.to_string(),
            "mem: only 1 usable document (1 record); at least 5 are needed"
        );
        // A skipped malformed record is a loss, not emptiness.
        let e = err(
            "a\n",
            InputFormat::JsonLines,
            &ReadOptions {
                skip_bad_rows: true,
                ..Default::default()
            },
        );
        assert_eq!(
            e.to_string(),
            "mem: only 0 usable documents (1 record: 1 malformed skipped); at least 5 are needed"
        );
    }

    #[test]
    fn stream_errors_are_not_skippable() {
        struct Failing(bool);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    Err(io::Error::other("pipe closed"))
                } else {
                    buf[..6].copy_from_slice(b"a,b\nc\n");
                    Ok(6)
                }
            }
        }
        let skip = ReadOptions {
            skip_bad_rows: true,
            text_columns: vec!["a".into()],
            ..opts()
        };
        for format in [InputFormat::Csv, InputFormat::Text] {
            let e =
                read_corpus_from(Path::new("<stdin>"), Failing(false), format, &skip).unwrap_err();
            assert!(matches!(e, PreprocessError::Io { .. }), "{format:?}: {e}");
            assert_eq!(e.to_string(), "cannot read <stdin>: pipe closed");
        }
    }

    #[test]
    fn fuzz_entry_point_accepts_junk() {
        for bytes in [
            &b""[..],
            b"\xff\xfe",
            b"\"",
            b"a,\"b\nc",
            b"{\"text\":",
            b"\xef\xbb",
            b"\n\n,\n",
        ] {
            fuzz_read(bytes);
        }
    }
}
