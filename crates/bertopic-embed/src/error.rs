//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while resolving a model, encoding texts or touching `.npy` / cache files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    /// No source could provide the model; `tried` lists every place that was looked at and why it failed.
    #[error("model `{spec}` not found; tried:\n{tried}\nfetch it first (`bertopic fetch-model --model {spec}`, or `bertopic_embed::fetch_model` from Rust), or pass a local sentence-transformers folder")]
    ModelNotFound {
        /// The spec that was asked for.
        spec: String,
        /// One line per attempted source.
        tried: String,
    },
    /// The model folder lacks a file or has one that cannot be parsed.
    #[error("invalid model folder {dir}: {reason}")]
    InvalidModel {
        /// The folder.
        dir: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The weights file is truncated, corrupt or fails its known checksum.
    #[error("corrupt model weights {path}: {reason}; delete the folder and fetch the model again")]
    CorruptWeights {
        /// The weights file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The tokenizer failed.
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    /// The neural network failed (shape mismatch, missing tensor, ...).
    #[error("model error: {0}")]
    Model(#[from] candle_core::Error),
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParam(String),
    /// The requested device cannot run the encoder (a binary without the `cuda` feature, no
    /// such GPU, or a setting the device does not support).
    #[error("cannot embed on {device}: {reason}")]
    DeviceUnavailable {
        /// The device asked for, e.g. `cuda:0`.
        device: String,
        /// Why, and what to do.
        reason: String,
    },
    /// A precomputed embedding matrix does not match the texts.
    #[error("precomputed embeddings have {rows} rows but {texts} texts were given")]
    RowMismatch {
        /// Rows in the stored matrix.
        rows: usize,
        /// Texts asked for.
        texts: usize,
    },
    /// An `.npy` file is malformed or of an unsupported kind.
    #[error("bad .npy file {path}: {reason}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An output file could not be written safely (refused target, I/O).
    #[error(transparent)]
    Output(#[from] bertopic_fs::FsError),
    /// A download or external command (pip, unzip) failed.
    #[error("fetch failed: {0}")]
    Fetch(String),
    /// A file-system error, with the path involved.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl EmbedError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EmbedError::Io {
            path: path.into(),
            source,
        }
    }
}
