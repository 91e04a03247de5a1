//! On-disk embedding cache and precomputed embeddings.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use sha2::{Digest, Sha256};

use crate::error::EmbedError;
use crate::npy::{read_npy, write_atomic};
use crate::Embedder;
use bertopic_fs::hex;

/// An [`Embedder`] that returns rows stored earlier (e.g. a `.npy` made by Python).
///
/// `embed` ignores the texts' content and returns all rows; it fails if the count differs.
#[derive(Debug, Clone)]
pub struct Precomputed {
    rows: Array2<f32>,
    model_id: String,
    fingerprint: String,
}

impl Precomputed {
    /// Wraps a matrix; `model_id` is reported as given, the fingerprint is a hash of the values.
    pub fn new(rows: Array2<f32>, model_id: impl Into<String>) -> Self {
        let mut h = Sha256::new();
        h.update((rows.nrows() as u64).to_le_bytes());
        h.update((rows.ncols() as u64).to_le_bytes());
        for v in rows.iter() {
            h.update(v.to_le_bytes());
        }
        Precomputed {
            rows,
            model_id: model_id.into(),
            fingerprint: format!("precomputed:{}", hex(&h.finalize())),
        }
    }

    /// Loads a `.npy` matrix (rows = documents); the model id is `precomputed:<file name>`.
    pub fn from_npy(path: impl AsRef<Path>) -> Result<Self, EmbedError> {
        let path = path.as_ref();
        let rows = read_npy(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self::new(rows, format!("precomputed:{name}")))
    }

    /// The stored matrix.
    pub fn rows(&self) -> &Array2<f32> {
        &self.rows
    }
}

impl Embedder for Precomputed {
    fn embed(&self, texts: &[String]) -> Result<Array2<f32>, EmbedError> {
        if texts.len() != self.rows.nrows() {
            return Err(EmbedError::RowMismatch {
                rows: self.rows.nrows(),
                texts: texts.len(),
            });
        }
        Ok(self.rows.clone())
    }

    fn dim(&self) -> usize {
        self.rows.ncols()
    }

    fn model_id(&self) -> String {
        self.model_id.clone()
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}

/// Wraps an [`Embedder`] with a per-text on-disk cache.
///
/// Layout: `<dir>/<sha256(fingerprint)[..16]>/<sha256(text)[..2]>/<sha256(text)>.row`, each entry
/// the raw little-endian `f32` row followed by an 8-byte checksum (the first bytes of the
/// sha256 of the text hash and the row bytes). Entries are written atomically; an unreadable,
/// wrong-sized, non-finite or checksum-failing entry (bit rot, a truncated or foreign file) is
/// treated as missing and recomputed, never trusted.
pub struct CachedEmbedder<E: Embedder> {
    inner: E,
    dir: PathBuf,
}

impl<E: Embedder> CachedEmbedder<E> {
    /// Caches `inner`'s rows under `cache_dir` (created on first write).
    pub fn new(inner: E, cache_dir: impl Into<PathBuf>) -> Self {
        let root: PathBuf = cache_dir.into();
        let key = hex(&Sha256::digest(inner.fingerprint().as_bytes()));
        CachedEmbedder {
            dir: root.join(&key[..16]),
            inner,
        }
    }

    /// The wrapped embedder.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    /// Folder holding this model's entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, text: &str) -> (PathBuf, [u8; 32]) {
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let h = hex(&digest);
        (self.dir.join(&h[..2]).join(format!("{h}.row")), digest)
    }

    /// Checksum of an entry: binds the row to its text, so a file copied under another name fails.
    fn checksum(text_hash: &[u8; 32], row: &[u8]) -> [u8; 8] {
        let mut h = Sha256::new();
        h.update(text_hash);
        h.update(row);
        let full: [u8; 32] = h.finalize().into();
        let mut out = [0u8; 8];
        out.copy_from_slice(&full[..8]);
        out
    }

    fn read_entry(&self, path: &Path, text_hash: &[u8; 32]) -> Option<Vec<f32>> {
        let bytes = std::fs::read(path).ok()?;
        let d = self.inner.dim();
        if bytes.len() != d * 4 + 8 {
            return None;
        }
        let (row_bytes, sum) = bytes.split_at(d * 4);
        if sum != Self::checksum(text_hash, row_bytes) {
            return None;
        }
        let row: Vec<f32> = row_bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        row.iter().all(|v| v.is_finite()).then_some(row)
    }
}

impl<E: Embedder> Embedder for CachedEmbedder<E> {
    fn embed(&self, texts: &[String]) -> Result<Array2<f32>, EmbedError> {
        let d = self.inner.dim();
        let mut out = Array2::<f32>::zeros((texts.len(), d));
        let mut missing: Vec<usize> = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let (path, text_hash) = self.entry(t);
            match self.read_entry(&path, &text_hash) {
                Some(row) => out.row_mut(i).assign(&ndarray::ArrayView1::from(&row[..])),
                None => missing.push(i),
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        // Duplicate texts among the misses are embedded once.
        let mut uniq: Vec<usize> = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for &i in &missing {
            seen.entry(texts[i].as_str()).or_insert_with(|| {
                uniq.push(i);
                uniq.len() - 1
            });
        }
        let todo: Vec<String> = uniq.iter().map(|&i| texts[i].clone()).collect();
        let fresh = self.inner.embed(&todo)?;
        if fresh.dim() != (todo.len(), d) {
            return Err(EmbedError::InvalidParam(format!(
                "inner embedder returned shape {:?} for {} texts of dim {d}",
                fresh.dim(),
                todo.len()
            )));
        }
        for (k, t) in todo.iter().enumerate() {
            let (path, text_hash) = self.entry(t);
            let mut bytes: Vec<u8> = fresh.row(k).iter().flat_map(|v| v.to_le_bytes()).collect();
            let sum = Self::checksum(&text_hash, &bytes);
            bytes.extend_from_slice(&sum);
            write_atomic(&path, &bytes)?;
        }
        for &i in &missing {
            let k = seen[texts[i].as_str()];
            out.row_mut(i).assign(&fresh.row(k));
        }
        Ok(out)
    }

    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn model_id(&self) -> String {
        self.inner.model_id()
    }

    fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }
}
