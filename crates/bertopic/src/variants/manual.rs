//! Manual topics: the documents' topics are given (BERTopic's `update_topics(docs, topics)`),
//! here from a CSV of `row,topic` lines — the shape of the `document_topics.csv` that
//! `bertopic train` writes, so that file can be edited and given back.
//!
//! `row` is the 1-based input record number of the training corpus (the header not counted),
//! `topic` an integer topic id (−1 = outlier; new ids make new topics). Other columns (such as
//! `probability`) are ignored. Every training document needs exactly one line; a record that
//! cleaning dropped may be listed with an empty topic (as `document_topics.csv` lists it) or
//! left out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::corpus::Corpus;
use crate::error::{BertopicError, Result};
use crate::fs::{DirPolicy, DirWriter};
use crate::io::MODEL_FOLDER_FILES;
use crate::model::TopicModel;
use crate::preprocess::{ReadOptions, ReadSummary};
use crate::report;

impl TopicModel {
    /// Sets every training document's topic (manual topics; BERTopic's
    /// `update_topics(docs, topics)`) and refits topic words, sizes and embeddings. `docs` must
    /// be the training documents in order; `topics` one id per document, −1 (outlier) or a
    /// topic id ≥ 0 (new ids make new topics, topics left without documents disappear). A
    /// document whose topic changes gets probability 1 (0 as an outlier): the topic was given,
    /// not estimated.
    pub fn set_topics(&mut self, docs: &[String], topics: &[i64]) -> Result<()> {
        if let Some(i) = topics.iter().position(|&t| t < -1) {
            return Err(BertopicError::InvalidParams(format!(
                "the topic of document {i} (0-based) is {}: topics are ids >= 0, or -1 for an \
                 outlier",
                topics[i]
            )));
        }
        let old = self.doc_topics.clone();
        self.update_topics(docs, topics)?;
        for ((p, &before), &now) in self.doc_probs.iter_mut().zip(&old).zip(topics) {
            if before != now {
                *p = if now >= 0 { 1.0 } else { 0.0 };
            }
        }
        Ok(())
    }
}

/// Reads a manual assignment file: one topic per kept document, in `kept_rows` order
/// (`kept_rows` are the 1-based record numbers of the training documents, `records_read` the
/// corpus' record count). Errors name the file's line and say what to fix.
pub fn read_assignments(path: &Path, kept_rows: &[usize], records_read: usize) -> Result<Vec<i64>> {
    let bad = |line: u64, reason: String| BertopicError::BadAssignment {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(io) => BertopicError::io(path, io),
            other => bad(1, format!("{other:?}")),
        })?;
    let headers = reader
        .headers()
        .map_err(|e| bad(1, format!("unreadable header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(row_col), Some(topic_col)) = (col("row"), col("topic")) else {
        return Err(bad(
            1,
            format!(
                "the header must name a `row` and a `topic` column (got {:?}); write `row,topic` \
                 (as in the document_topics.csv that `bertopic train` writes)",
                headers.iter().collect::<Vec<_>>()
            ),
        ));
    };
    let index: BTreeMap<usize, usize> =
        kept_rows.iter().enumerate().map(|(i, &r)| (r, i)).collect();
    let mut topics: Vec<Option<(i64, u64)>> = vec![None; kept_rows.len()];
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            bad(line, format!("not a CSV record: {e}"))
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |c: usize| record.get(c).map(str::trim).unwrap_or("");
        let row: usize = field(row_col).parse().map_err(|_| {
            bad(
                line,
                format!(
                    "row `{}` is not a record number (1 = the corpus' first record after its \
                     header)",
                    field(row_col)
                ),
            )
        })?;
        let topic = field(topic_col);
        let Some(&doc) = index.get(&row) else {
            if topic.is_empty() {
                continue;
            }
            let why = if row == 0 || row > records_read {
                format!("the corpus has records 1 to {records_read}")
            } else {
                "that record was dropped when the corpus was read (empty or duplicate text), so \
                 it has no topic; leave its topic empty or remove the line"
                    .to_string()
            };
            return Err(bad(
                line,
                format!("row {row} is not a training document: {why}"),
            ));
        };
        if topic.is_empty() {
            return Err(bad(
                line,
                format!("row {row} has no topic: give it a topic id (-1 for an outlier)"),
            ));
        }
        let id: i64 = match topic.parse() {
            Ok(id) if id >= -1 => id,
            _ => {
                return Err(bad(
                    line,
                    format!(
                        "topic `{topic}` of row {row} is not a topic id: use an integer >= 0, \
                         or -1 for an outlier"
                    ),
                ))
            }
        };
        if let Some((_, first)) = topics[doc] {
            return Err(bad(
                line,
                format!("row {row} is listed twice (first on line {first}): keep one line"),
            ));
        }
        topics[doc] = Some((id, line));
    }
    let missing: Vec<usize> = topics
        .iter()
        .zip(kept_rows)
        .filter(|(t, _)| t.is_none())
        .map(|(_, &r)| r)
        .collect();
    if let Some(first) = missing.first() {
        return Err(BertopicError::Mismatch(format!(
            "{}: {} of the {} training documents have no line (the first is row {first}); \
             give every training document's row a topic (-1 for an outlier)",
            path.display(),
            missing.len(),
            kept_rows.len()
        )));
    }
    Ok(topics.into_iter().flatten().map(|(t, _)| t).collect())
}

/// A manual-topics job: what `bertopic topics set` does.
#[derive(Debug, Clone)]
pub struct SetTopicsJob {
    /// The model folder to start from.
    pub model: PathBuf,
    /// Its training corpus (the model keeps no texts; topic words are refitted from them).
    pub input: PathBuf,
    /// How to read the corpus: the options it was trained with.
    pub read: ReadOptions,
    /// The `row,topic` file (see the [module docs](self)).
    pub assignments: PathBuf,
    /// The model folder to write (may be `model` itself).
    pub output: PathBuf,
    /// What to do when the output folder holds files bertopic did not write.
    pub output_policy: DirPolicy,
}

/// What [`set_topics`] did.
#[derive(Debug)]
pub struct SetTopicsOutcome {
    /// The updated model (already saved).
    pub model: TopicModel,
    /// How the corpus was read.
    pub summary: ReadSummary,
    /// Documents whose topic changed.
    pub changed: usize,
}

/// Loads the model, reads the corpus and the assignments, sets the topics and writes the new
/// model folder (`model.json`, `model.safetensors`, `topic_info.csv`, `document_topics.csv`)
/// under the rules `bertopic train` follows: the output is locked first, swapped in whole, and
/// a folder holding files bertopic did not write is refused unless the policy allows them.
pub fn set_topics(job: &SetTopicsJob) -> Result<SetTopicsOutcome> {
    let out = DirWriter::begin(&job.output, MODEL_FOLDER_FILES, job.output_policy)?;
    let mut model = TopicModel::load(&job.model)?;
    let corpus = Corpus::read(&job.input, &job.read)?;
    let texts = corpus.texts();
    model.check_training_docs("setting topics", &texts)?;
    let rows = corpus.rows();
    let topics = read_assignments(&job.assignments, &rows, corpus.summary.records_read)?;
    let changed = model
        .doc_topics
        .iter()
        .zip(&topics)
        .filter(|(a, b)| a != b)
        .count();
    model.set_topics(&texts, &topics)?;
    if model.monitor_baseline.is_some() {
        // Drift monitoring compares batches with the topics' shares and words: the new ones.
        model.record_training_baseline(&texts)?;
    }
    model.save_into(&out)?;
    out.write(
        "topic_info.csv",
        &report::topic_info_csv(&model.topic_info())?,
    )?;
    let assign = report::assignments(
        corpus.summary.records_read,
        &rows,
        model.document_topics(),
        model.document_probabilities(),
    );
    out.write("document_topics.csv", &report::assignments_csv(&assign)?)?;
    out.commit()?;
    Ok(SetTopicsOutcome {
        model,
        summary: corpus.summary,
        changed,
    })
}
