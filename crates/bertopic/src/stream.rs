//! JSON Lines in, JSON Lines out, batch by batch: what Spark's `RDD.pipe` / `mapPartitions`
//! and a Kubernetes Indexed Job drive, one partition or shard per process.
//!
//! Every input line is one JSON object. Its id is the `id` field (any JSON value, passed
//! through unchanged) or, without one, its 1-based line number, so each output line can be
//! joined back to its input. The text is the `text` field or the configured text fields
//! joined with a space (as [`crate::preprocess::read_corpus`] reads JSON Lines). Memory is
//! bounded by one batch, whatever the input size; the output is flushed after every batch.
//!
//! * [`embed_stream`]: `{"id", "text"}` → `{"id", "embedding": [..]}` (`null` for a text that
//!   cleans to nothing).
//! * [`predict_stream`]: `{"id", "text", "embedding"?}` → `{"id", "topic", "probability"}`
//!   (the embedding, when given, is used instead of embedding the text; `null` topic for a
//!   text that cleans to nothing).
//! * [`count_stream`]: `{"id", "text", "topic"}` → per-topic term counts
//!   ([`ClassTermCounts`]) that [`topic_words`] merges exactly into c-TF-IDF topic words.
//!
//! [`Shard`] `i/N` keeps the records whose 0-based record index (blank lines not counted) is
//! `i` mod `N`: every shard of an Indexed Job reads the same file and gets an interleaved,
//! disjoint share, without knowing the file's length.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use ndarray::Array2;
use serde_json::{Map, Value};

use crate::embed::Embedder;
use crate::error::{BertopicError, Result};
use crate::preprocess::{clean_text, InputFormat, PreprocessError, Tokenizer};
use crate::represent::{self, ClassTermCounts, TopicRepresentation};
use crate::{BertopicParams, PredictOptions, TopicInfo, TopicModel};

/// Documents per batch when none is given: large enough for the encoder's parallel batches,
/// small enough that a partition's memory stays a few megabytes.
pub const DEFAULT_BATCH: usize = 256;

/// One of `count` disjoint shards of an input: records whose 0-based index is `index` mod `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Whether the record with 0-based index `record` belongs to this shard.
    pub fn contains(&self, record: usize) -> bool {
        record % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;
    /// `i/N` with `0 <= i < N` (a Kubernetes Indexed Job's `$JOB_COMPLETION_INDEX/N`).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is not a shard: write i/N with 0 <= i < N, for example 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// How a JSON Lines stream is read.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Names the input in messages (`-` for standard input).
    pub name: PathBuf,
    /// Text fields joined into the document when a record has no `text` field.
    pub text_columns: Vec<String>,
    /// Records per batch (at least 1).
    pub batch_size: usize,
    /// Only this shard of the records.
    pub shard: Option<Shard>,
    /// Skip malformed records (counted in the summary) instead of stopping.
    pub skip_bad_rows: bool,
    /// Clean texts as the corpus reader does (see [`clean_text`]); false: only trim.
    pub clean: bool,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            name: PathBuf::from("-"),
            text_columns: vec!["Title".into(), "Abstract".into()],
            batch_size: DEFAULT_BATCH,
            shard: None,
            skip_bad_rows: false,
            clean: true,
        }
    }
}

/// What a stream function did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// Records in this shard that were processed (including empty texts).
    pub records: usize,
    /// Records whose text cleaned to nothing (written with `null` results, or not counted).
    pub empty: usize,
    /// Malformed records skipped (`skip_bad_rows`), as (line, reason).
    pub skipped: Vec<(u64, String)>,
    /// The model's [`TopicModel::stage_notice`] (prediction only): it was loaded without a
    /// caller's stage, which changes what the strategy does.
    pub notice: Option<crate::StageNotice>,
}

/// One parsed input record.
struct Row {
    line: u64,
    /// 1-based record number (blank lines not counted).
    record: usize,
    id: Value,
    /// Cleaned text (empty when it cleaned to nothing or was absent).
    text: String,
    embedding: Option<Vec<f32>>,
    topic: Option<i64>,
}

/// What a stream function needs of each record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    /// A text.
    Text,
    /// A text, unless an embedding is given.
    TextOrEmbedding,
    /// A text and a topic.
    TextAndTopic,
}

/// Reads records batch by batch.
struct Reader<'a, R> {
    input: R,
    opts: &'a StreamOptions,
    need: Need,
    line: u64,
    record: usize,
    buf: String,
    summary: StreamSummary,
}

impl<'a, R: BufRead> Reader<'a, R> {
    fn new(input: R, opts: &'a StreamOptions, need: Need) -> Result<Self> {
        if opts.batch_size == 0 {
            return Err(BertopicError::InvalidParams(
                "the batch size must be at least 1".into(),
            ));
        }
        Ok(Reader {
            input,
            opts,
            need,
            line: 0,
            record: 0,
            buf: String::new(),
            summary: StreamSummary::default(),
        })
    }

    fn bad(&self, reason: String) -> BertopicError {
        BertopicError::Preprocess(PreprocessError::BadRecord {
            path: self.opts.name.clone(),
            record: self.record,
            line: self.line,
            reason,
        })
    }

    /// The next batch (empty at the end of the input).
    fn batch(&mut self) -> Result<Vec<Row>> {
        let mut rows = Vec::with_capacity(self.opts.batch_size.min(4096));
        while rows.len() < self.opts.batch_size {
            self.buf.clear();
            let n = self
                .input
                .read_line(&mut self.buf)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::InvalidData => self.bad("it is not UTF-8".into()),
                    _ => BertopicError::io(&self.opts.name, e),
                })?;
            if n == 0 {
                break;
            }
            self.line += 1;
            if self.buf.trim().is_empty() {
                continue;
            }
            let index = self.record;
            self.record += 1;
            if self.opts.shard.is_some_and(|s| !s.contains(index)) {
                continue;
            }
            match self.parse() {
                Ok(row) => {
                    self.summary.records += 1;
                    rows.push(row);
                }
                Err(reason) if self.opts.skip_bad_rows => {
                    self.summary.skipped.push((self.line, reason));
                }
                Err(reason) => return Err(self.bad(reason)),
            }
        }
        Ok(rows)
    }

    fn parse(&self) -> std::result::Result<Row, String> {
        let v: Value = serde_json::from_str(self.buf.trim_end_matches(['\n', '\r']))
            .map_err(|e| format!("invalid JSON: {e}"))?;
        let Value::Object(obj) = v else {
            return Err("expected a JSON object".into());
        };
        let id = obj
            .get("id")
            .cloned()
            .unwrap_or_else(|| Value::from(self.line));
        let embedding = match obj.get("embedding") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|x| x.as_f64().map(|f| f as f32))
                    .collect::<Option<Vec<f32>>>()
                    .ok_or("`embedding` must be an array of numbers")?,
            ),
            Some(_) => return Err("`embedding` must be an array of numbers".into()),
        };
        let topic = match obj.get("topic") {
            None | Some(Value::Null) => None,
            Some(t) => Some(t.as_i64().ok_or("`topic` must be an integer topic id")?),
        };
        let text = match self.text(&obj) {
            Some(t) => t,
            None if self.need == Need::TextOrEmbedding && embedding.is_some() => String::new(),
            None => {
                let mut wanted: Vec<String> = self
                    .opts
                    .text_columns
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect();
                wanted.push("`text`".into());
                return Err(format!(
                    "it has none of the text fields {} (pass --text-columns to read others)",
                    wanted.join(", ")
                ));
            }
        };
        if self.need == Need::TextAndTopic && topic.is_none() && obj.get("topic").is_none() {
            return Err("it has no `topic` field (counting needs each document's topic)".into());
        }
        let text = if self.opts.clean {
            clean_text(&text)
        } else {
            text.trim().to_string()
        };
        Ok(Row {
            line: self.line,
            record: self.record,
            id,
            text,
            embedding,
            topic,
        })
    }

    /// The record's text: `text`, else the text columns joined (case-insensitive names, as
    /// the corpus reader); None when it has none of them.
    fn text(&self, obj: &Map<String, Value>) -> Option<String> {
        let get = |key: &str| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        };
        let as_text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        if let Some(t) = get("text") {
            return Some(as_text(t).unwrap_or_default());
        }
        let mut found = false;
        let mut text = String::new();
        for c in &self.opts.text_columns {
            if let Some(v) = get(c) {
                found = true;
                if let Some(t) = as_text(v).filter(|t| !t.trim().is_empty()) {
                    if !text.is_empty() {
                        text.push(' ');
                    }
                    text.push_str(&t);
                }
            }
        }
        found.then_some(text)
    }
}

fn write_line(out: &mut dyn Write, v: &impl serde::Serialize) -> Result<()> {
    let mut line = serde_json::to_vec(v).map_err(|e| BertopicError::Mismatch(e.to_string()))?;
    line.push(b'\n');
    out.write_all(&line)
        .map_err(|e| BertopicError::io("the output stream", e))
}

fn flush(out: &mut dyn Write) -> Result<()> {
    out.flush()
        .map_err(|e| BertopicError::io("the output stream", e))
}

/// Embeds the rows with text; rows without get `None`. Refuses degenerate embedding rows,
/// naming their lines.
fn embed_rows(rows: &[Row], embedder: &dyn Embedder, name: &Path) -> Result<Vec<Option<Vec<f32>>>> {
    let idx: Vec<usize> = (0..rows.len())
        .filter(|&i| !rows[i].text.is_empty())
        .collect();
    let mut out: Vec<Option<Vec<f32>>> = vec![None; rows.len()];
    if idx.is_empty() {
        return Ok(out);
    }
    let texts: Vec<String> = idx.iter().map(|&i| rows[i].text.clone()).collect();
    let m = embedder.embed(&texts)?;
    let lines: Vec<usize> = idx.iter().map(|&i| rows[i].line as usize).collect();
    crate::jobs::check_embeddings(&m, &lines, &format!("{} (line numbers)", name.display()))?;
    for (k, &i) in idx.iter().enumerate() {
        out[i] = Some(m.row(k).to_vec());
    }
    Ok(out)
}

/// An output line of [`embed_stream`]; `f32` serialises in its shortest round-trip form.
#[derive(serde::Serialize)]
struct EmbeddingLine<'a> {
    id: &'a Value,
    embedding: Option<Vec<f32>>,
}

/// `{"id", "text"}` lines → `{"id", "embedding"}` lines, batch by batch (see the module docs).
pub fn embed_stream(
    input: impl BufRead,
    output: &mut dyn Write,
    embedder: &dyn Embedder,
    opts: &StreamOptions,
) -> Result<StreamSummary> {
    let mut reader = Reader::new(input, opts, Need::Text)?;
    loop {
        let rows = reader.batch()?;
        if rows.is_empty() {
            break;
        }
        let embedded = embed_rows(&rows, embedder, &opts.name)?;
        for (row, e) in rows.iter().zip(embedded) {
            if e.is_none() {
                reader.summary.empty += 1;
            }
            let line = EmbeddingLine {
                id: &row.id,
                embedding: e,
            };
            write_line(output, &line)?;
        }
        flush(output)?;
    }
    Ok(reader.summary)
}

/// `{"id", "text", "embedding"?}` lines → `{"id", "topic", "probability"}` lines, batch by
/// batch, with a loaded model. `embedder` is called once, for the first batch that has rows
/// without an embedding. The default k-NN strategy assigns each document on its own, so the
/// result does not depend on how the input is split into batches, partitions or shards.
pub fn predict_stream(
    input: impl BufRead,
    output: &mut dyn Write,
    model: &TopicModel,
    embedder: &mut dyn FnMut() -> Result<Arc<dyn Embedder>>,
    options: &PredictOptions,
    opts: &StreamOptions,
) -> Result<StreamSummary> {
    let mut reader = Reader::new(input, opts, Need::TextOrEmbedding)?;
    let mut encoder: Option<Arc<dyn Embedder>> = None;
    loop {
        let rows = reader.batch()?;
        if rows.is_empty() {
            break;
        }
        // Given embeddings first; the encoder only for rows that have none.
        let need_encoder = rows
            .iter()
            .any(|r| r.embedding.is_none() && !r.text.is_empty());
        if need_encoder && encoder.is_none() {
            encoder = Some(embedder()?);
        }
        let mut vecs: Vec<Option<Vec<f32>>> = rows.iter().map(|r| r.embedding.clone()).collect();
        if let Some(enc) = encoder.as_deref().filter(|_| need_encoder) {
            let missing: Vec<usize> = (0..rows.len())
                .filter(|&i| rows[i].embedding.is_none() && !rows[i].text.is_empty())
                .collect();
            let texts: Vec<String> = missing.iter().map(|&i| rows[i].text.clone()).collect();
            let m = enc.embed(&texts)?;
            let lines: Vec<usize> = missing.iter().map(|&i| rows[i].line as usize).collect();
            crate::jobs::check_embeddings(
                &m,
                &lines,
                &format!("{} (line numbers)", opts.name.display()),
            )?;
            for (k, &i) in missing.iter().enumerate() {
                vecs[i] = Some(m.row(k).to_vec());
            }
        }
        let usable: Vec<usize> = (0..rows.len()).filter(|&i| vecs[i].is_some()).collect();
        let mut result: Vec<Option<(i64, f64)>> = vec![None; rows.len()];
        if !usable.is_empty() {
            let dim = vecs[usable[0]].as_ref().map_or(0, Vec::len);
            if let Some(&bad) = usable
                .iter()
                .find(|&&i| vecs[i].as_ref().map_or(0, Vec::len) != dim)
            {
                return Err(BertopicError::Preprocess(PreprocessError::BadRecord {
                    path: opts.name.clone(),
                    record: rows[bad].record,
                    line: rows[bad].line,
                    reason: format!(
                        "its embedding has a different length than line {}'s ({dim})",
                        rows[usable[0]].line
                    ),
                }));
            }
            let mut m = Array2::<f32>::zeros((usable.len(), dim));
            for (k, &i) in usable.iter().enumerate() {
                if let Some(v) = &vecs[i] {
                    m.row_mut(k).assign(&ndarray::ArrayView1::from(&v[..]));
                }
            }
            let lines: Vec<usize> = usable.iter().map(|&i| rows[i].line as usize).collect();
            crate::jobs::check_embeddings(
                &m,
                &lines,
                &format!("{} (line numbers)", opts.name.display()),
            )?;
            let texts: Vec<String> = usable.iter().map(|&i| rows[i].text.clone()).collect();
            let (topics, probs) = model.transform_embeddings_with(&texts, &m, options)?;
            for ((&i, t), p) in usable.iter().zip(topics).zip(probs) {
                result[i] = Some((t, p));
            }
        }
        for (row, r) in rows.iter().zip(result) {
            if r.is_none() {
                reader.summary.empty += 1;
            }
            let mut obj = Map::new();
            obj.insert("id".into(), row.id.clone());
            obj.insert(
                "topic".into(),
                r.map_or(Value::Null, |(t, _)| Value::from(t)),
            );
            obj.insert(
                "probability".into(),
                r.map_or(Value::Null, |(_, p)| Value::from(p)),
            );
            write_line(output, &Value::Object(obj))?;
        }
        flush(output)?;
    }
    Ok(reader.summary)
}

/// The tokenizer and cleaning of `params`, and the settings string that counts made with them
/// carry. Map-reduce needs single-word terms (see [`represent::ClassTermCounts`]).
fn counting(params: &BertopicParams) -> Result<(Tokenizer, bool, String)> {
    if params.ngram_range.1 > 1 {
        return Err(BertopicError::InvalidParams(format!(
            "map-reduce topic words need single words (ngram_range (1, 1)); this model uses \
             ngram_range {:?}, whose n-grams would span the documents of different partitions: \
             compute its topic words on one machine (`bertopic topic-words --input`)",
            params.ngram_range
        )));
    }
    let cfg = params.tokenizer_config();
    let strip = params.language == crate::Language::English;
    let settings = format!(
        "{};strip_non_alphanumeric={strip}",
        serde_json::to_string(&cfg).map_err(|e| BertopicError::Mismatch(e.to_string()))?
    );
    Ok((Tokenizer::new(cfg)?, strip, settings))
}

/// `{"id", "text", "topic"}` lines → the per-topic term counts of this part of the corpus
/// (records with a `null` topic, or a text that cleans to nothing, are not counted, as a
/// whole-corpus run drops them). `params` are the model's (its tokenizer and language).
pub fn count_stream(
    input: impl BufRead,
    params: &BertopicParams,
    opts: &StreamOptions,
) -> Result<(ClassTermCounts, StreamSummary)> {
    let (tokenizer, strip, settings) = counting(params)?;
    let terms = |s: &str, f: &mut dyn FnMut(&str)| tokenizer.for_each_term(s, f);
    let mut counts = ClassTermCounts::new(settings);
    let mut reader = Reader::new(input, opts, Need::TextAndTopic)?;
    loop {
        let rows = reader.batch()?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            match row.topic {
                Some(t) if !row.text.is_empty() => counts.add(&row.text, t, &terms, strip),
                _ => reader.summary.empty += 1,
            }
        }
    }
    Ok((counts, reader.summary))
}

/// Topic words of the merged `parts` (any order): exactly the c-TF-IDF words a single
/// machine computes with [`topic_words_of`] on all their documents and topics.
pub fn topic_words(
    params: &BertopicParams,
    parts: impl IntoIterator<Item = ClassTermCounts>,
) -> Result<TopicRepresentation> {
    let (tokenizer, _, settings) = counting(params)?;
    let mut merged = ClassTermCounts::new(settings);
    for p in parts {
        merged.merge(p)?;
    }
    let terms = |s: &str, f: &mut dyn FnMut(&str)| tokenizer.for_each_term(s, f);
    Ok(merged.fit(&terms, &represent_params(params))?)
}

/// Single-machine c-TF-IDF topic words of `docs` (cleaned texts) with their `topics`: the
/// reference [`topic_words`] must equal.
pub fn topic_words_of(
    params: &BertopicParams,
    docs: &[String],
    topics: &[i64],
) -> Result<TopicRepresentation> {
    crate::model::fit_representation(params, docs, topics)
}

/// Single-machine topic words of a `{"id", "text", "topic"}` stream (records without a topic
/// or text are left out, as [`count_stream`] does).
pub fn topic_words_of_stream(
    input: impl BufRead,
    params: &BertopicParams,
    opts: &StreamOptions,
) -> Result<(TopicRepresentation, StreamSummary)> {
    let mut reader = Reader::new(input, opts, Need::TextAndTopic)?;
    let (mut docs, mut topics) = (Vec::new(), Vec::new());
    loop {
        let rows = reader.batch()?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            match row.topic {
                Some(t) if !row.text.is_empty() => {
                    docs.push(row.text);
                    topics.push(t);
                }
                _ => reader.summary.empty += 1,
            }
        }
    }
    Ok((topic_words_of(params, &docs, &topics)?, reader.summary))
}

fn represent_params(params: &BertopicParams) -> represent::RepresentParams {
    represent::RepresentParams {
        top_n_words: params.top_n_words,
        vectorizer: params.vectorizer.clone(),
        ctfidf: params.ctfidf.clone(),
        strip_non_alphanumeric: params.language == crate::Language::English,
        n_representative_docs: params.n_representative_docs,
        ..represent::RepresentParams::default()
    }
}

/// `topic_info` rows of a representation (BERTopic's columns; c-TF-IDF words; no
/// representative documents, which need the documents themselves).
pub fn topic_info(rep: &TopicRepresentation) -> Vec<TopicInfo> {
    rep.topic_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let words: Vec<String> = rep.words[i].iter().map(|(w, _)| w.clone()).collect();
            TopicInfo {
                topic: id,
                count: rep.sizes[i],
                name: represent::word_label(id, &words),
                representation: words,
                representative_docs: Vec::new(),
            }
        })
        .collect()
}

/// Whether `bertopic embed` / `predict` stream JSON Lines: JSON Lines in (by `format`, else
/// by a `.jsonl`/`.ndjson` extension, or standard input without a format) and JSON Lines out
/// (`-` or a `.jsonl`/`.ndjson` file). Otherwise they write `.npy` / CSV as before.
pub fn is_stream(input: &Path, format: Option<InputFormat>, output: Option<&Path>) -> bool {
    let jsonl = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"))
    };
    let dash = |p: &Path| p == Path::new("-");
    let json_in = match format {
        Some(f) => f == InputFormat::JsonLines,
        None => dash(input) || jsonl(input),
    };
    json_in && output.is_some_and(|o| dash(o) || jsonl(o))
}

/// Opens `path` for reading (`-` = standard input).
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead>> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let f = std::fs::File::open(path).map_err(|e| BertopicError::io(path, e))?;
    Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, f)))
}

/// Runs `write` on `stdout` when `output` is `-`, else on `output` written atomically (checked
/// first: never one of `inputs`), committed only when `write` succeeds.
pub fn write_output<T>(
    output: &Path,
    inputs: &[&Path],
    stdout: &mut dyn Write,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    if output == Path::new("-") {
        return write(stdout);
    }
    crate::fs::check_output_file(output, inputs)?;
    let mut file = crate::fs::AtomicFile::create(output)?;
    let t = write(&mut file)?;
    file.commit()?;
    Ok(t)
}

/// `bertopic embed --input X.jsonl --output -|Y.jsonl`: JSON Lines embeddings.
#[derive(Debug, Clone)]
pub struct EmbedStreamJob {
    /// JSON Lines input (`-` = standard input).
    pub input: PathBuf,
    /// JSON Lines output (`-` = the `stdout` given to [`embed_jsonl`]).
    pub output: PathBuf,
    /// Embedding model id or folder.
    pub model: String,
    /// Read and write the embedding cache.
    pub cache: bool,
    /// Show progress bars.
    pub progress: bool,
    /// Reading, batching and sharding.
    pub stream: StreamOptions,
}

/// Runs an [`EmbedStreamJob`].
pub fn embed_jsonl(job: &EmbedStreamJob, stdout: &mut dyn Write) -> Result<StreamSummary> {
    let embedder = crate::jobs::embedder(&job.model, job.cache, job.progress)?;
    let input = open_input(&job.input)?;
    write_output(&job.output, &[&job.input], stdout, |out| {
        embed_stream(input, out, embedder.as_ref(), &job.stream)
    })
}

/// `bertopic predict --input X.jsonl --output -|Y.jsonl`: JSON Lines topics.
#[derive(Debug, Clone)]
pub struct PredictStreamJob {
    /// The model folder.
    pub model: PathBuf,
    /// JSON Lines input (`-` = standard input).
    pub input: PathBuf,
    /// JSON Lines output (`-` = the `stdout` given to [`predict_jsonl`]).
    pub output: PathBuf,
    /// Read and write the embedding cache (rows without an `embedding`).
    pub cache: bool,
    /// Show progress bars.
    pub progress: bool,
    /// How new documents are assigned.
    pub strategy: crate::PredictStrategy,
    /// Reading, batching and sharding.
    pub stream: StreamOptions,
}

/// Runs a [`PredictStreamJob`].
pub fn predict_jsonl(job: &PredictStreamJob, stdout: &mut dyn Write) -> Result<StreamSummary> {
    let model = TopicModel::load(&job.model)?;
    let spec = model.params().embedding_model.clone();
    let options = PredictOptions::with_strategy(job.strategy);
    let input = open_input(&job.input)?;
    let mut summary = write_output(&job.output, &[&job.input], stdout, |out| {
        predict_stream(
            input,
            out,
            &model,
            &mut || crate::jobs::embedder(&spec, job.cache, job.progress),
            &options,
            &job.stream,
        )
    })?;
    summary.notice = model.stage_notice().cloned();
    Ok(summary)
}

/// `bertopic counts`: the class-term counts of one partition, as JSON.
#[derive(Debug, Clone)]
pub struct CountsJob {
    /// The model folder (its tokenizer and language settings).
    pub model: PathBuf,
    /// `{"id", "text", "topic"}` JSON Lines (`-` = standard input).
    pub input: PathBuf,
    /// The counts JSON (`-` = the `stdout` given to [`counts`]).
    pub output: PathBuf,
    /// Reading, batching and sharding.
    pub stream: StreamOptions,
}

/// Runs a [`CountsJob`]; returns the documents counted and the read summary.
pub fn counts(job: &CountsJob, stdout: &mut dyn Write) -> Result<(usize, StreamSummary)> {
    let model = TopicModel::load(&job.model)?;
    let input = open_input(&job.input)?;
    let (counts, summary) = count_stream(input, model.params(), &job.stream)?;
    write_output(&job.output, &[&job.input], stdout, |out| {
        let mut bytes =
            serde_json::to_vec(&counts).map_err(|e| BertopicError::Mismatch(e.to_string()))?;
        bytes.push(b'\n');
        out.write_all(&bytes)
            .and_then(|()| out.flush())
            .map_err(|e| BertopicError::io(&job.output, e))
    })?;
    Ok((counts.n_docs(), summary))
}

/// `bertopic topic-words`: topic words of merged counts, or of documents with topics.
#[derive(Debug, Clone)]
pub struct TopicWordsJob {
    /// The model folder (its tokenizer, language and c-TF-IDF settings).
    pub model: PathBuf,
    /// Counts files written by [`counts`] (merged exactly, any order).
    pub counts: Vec<PathBuf>,
    /// Or: `{"id", "text", "topic"}` JSON Lines counted on this machine (the single-machine
    /// reference; `-` = standard input).
    pub input: Option<PathBuf>,
    /// `topic_info.csv` (`-` = the `stdout` given to [`topic_words_job`]).
    pub output: PathBuf,
    /// How `input` is read.
    pub stream: StreamOptions,
}

/// Runs a [`TopicWordsJob`] and returns its topic_info rows.
pub fn topic_words_job(job: &TopicWordsJob, stdout: &mut dyn Write) -> Result<Vec<TopicInfo>> {
    let model = TopicModel::load(&job.model)?;
    let rep = match &job.input {
        Some(input) => topic_words_of_stream(open_input(input)?, model.params(), &job.stream)?.0,
        None => {
            if job.counts.is_empty() {
                return Err(BertopicError::InvalidParams(
                    "give the counts files of every partition (--counts) or the documents with \
                     their topics (--input)"
                        .into(),
                ));
            }
            let mut parts = Vec::with_capacity(job.counts.len());
            for p in &job.counts {
                let bytes = std::fs::read(p).map_err(|e| BertopicError::io(p, e))?;
                let c: ClassTermCounts = serde_json::from_slice(&bytes).map_err(|e| {
                    BertopicError::Mismatch(format!(
                        "{} is not a class-term counts file written by `bertopic counts` ({e}): \
                         recount that partition",
                        p.display()
                    ))
                })?;
                parts.push(c);
            }
            topic_words(model.params(), parts)?
        }
    };
    let info = topic_info(&rep);
    let csv = crate::report::topic_info_csv(&info)?;
    let inputs: Vec<&Path> = job
        .counts
        .iter()
        .map(PathBuf::as_path)
        .chain(job.input.as_deref())
        .collect();
    write_output(&job.output, &inputs, stdout, |out| {
        out.write_all(&csv)
            .and_then(|()| out.flush())
            .map_err(|e| BertopicError::io(&job.output, e))
    })?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1", "a/2", "0/0", "-1/3"] {
            assert!(bad.parse::<Shard>().unwrap_err().contains("i/N"), "{bad}");
        }
        let s = Shard { index: 1, count: 3 };
        let kept: Vec<usize> = (0..9).filter(|&r| s.contains(r)).collect();
        assert_eq!(kept, vec![1, 4, 7]);
    }

    fn read(input: &str, need: Need, opts: &StreamOptions) -> Result<Vec<Row>> {
        let mut r = Reader::new(input.as_bytes(), opts, need)?;
        let mut all = Vec::new();
        loop {
            let b = r.batch()?;
            if b.is_empty() {
                return Ok(all);
            }
            all.extend(b);
        }
    }

    #[test]
    fn ids_texts_and_shards() {
        let input = "{\"id\":\"a\",\"text\":\" Hello\\n  world \"}\n\n{\"Title\":\"T\",\"Abstract\":\"x\"}\n{\"id\":7,\"text\":\"z\",\"topic\":2}\n";
        let opts = StreamOptions {
            batch_size: 2,
            ..StreamOptions::default()
        };
        let rows = read(input, Need::Text, &opts).unwrap();
        let ids: Vec<Value> = rows.iter().map(|r| r.id.clone()).collect();
        // The second record has no id: its line number (3; line 2 is blank).
        assert_eq!(ids, vec![Value::from("a"), Value::from(3), Value::from(7)]);
        assert_eq!(rows[0].text, "Hello world");
        assert_eq!(rows[1].text, "T x");
        assert_eq!(rows[2].topic, Some(2));
        let odd = StreamOptions {
            shard: Some(Shard { index: 1, count: 2 }),
            ..opts
        };
        let rows = read(input, Need::Text, &odd).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 3);
    }

    #[test]
    fn bad_json_names_the_line() {
        let opts = StreamOptions::default();
        let err = read("{\"text\":\"ok\"}\n{\"text\": oops}\n", Need::Text, &opts)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("invalid JSON"),
            "{err}"
        );
        let err = read("{\"text\":\"ok\"}\n", Need::TextAndTopic, &opts)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("line 1") && err.contains("topic"), "{err}");
        let err = read(
            "{\"text\":\"ok\",\"embedding\":[1,\"x\"]}\n",
            Need::Text,
            &opts,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("embedding"), "{err}");
        let skip = StreamOptions {
            skip_bad_rows: true,
            ..StreamOptions::default()
        };
        let mut r = Reader::new("[1]\n{\"text\":\"a\"}\n".as_bytes(), &skip, Need::Text).unwrap();
        assert_eq!(r.batch().unwrap().len(), 1);
        assert_eq!(r.summary.skipped[0].0, 1);
    }
}
