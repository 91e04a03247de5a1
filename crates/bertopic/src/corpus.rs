//! The documents of an input file as the jobs, the analysis and the report read them: a leaf
//! module, so the report (which reads a corpus) and the jobs (which write reports) do not import
//! each other.

use std::path::Path;

use crate::error::Result;
use crate::preprocess::{self, Document, ReadOptions, ReadSummary};

/// A corpus as read from a file: the kept documents and what happened to every record.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Documents kept after cleaning and de-duplication, in input order.
    pub docs: Vec<Document>,
    /// Counts of records read, dropped and skipped.
    pub summary: ReadSummary,
}

impl Corpus {
    /// Reads `path` (`-` = standard input, which needs `opts.format`).
    pub fn read(path: &Path, opts: &ReadOptions) -> Result<Corpus> {
        let (docs, summary) = preprocess::read_corpus(path, opts)?;
        Ok(Corpus { docs, summary })
    }

    /// The documents' texts.
    pub fn texts(&self) -> Vec<String> {
        self.docs.iter().map(|d| d.text.clone()).collect()
    }

    /// The input record number (1-based) of every kept document.
    pub fn rows(&self) -> Vec<usize> {
        self.docs.iter().map(|d| d.row).collect()
    }
}
