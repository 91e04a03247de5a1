use std::path::PathBuf;

/// Everything that can go wrong in the pipeline, by stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BertopicError {
    #[error(transparent)]
    /// Reading or cleaning the documents failed.
    Preprocess(#[from] crate::preprocess::PreprocessError),
    #[error(transparent)]
    /// Loading the embedding model or embedding failed.
    Embed(#[from] crate::embed::EmbedError),
    #[error(transparent)]
    /// The dimensionality reduction (UMAP) failed.
    Reduce(#[from] crate::reduce::ReduceError),
    #[error(transparent)]
    /// The clustering (HDBSCAN) failed.
    Cluster(#[from] crate::cluster::ClusterError),
    #[error(transparent)]
    /// Topic words (c-TF-IDF, MMR, KeyBERT, labels) could not be computed.
    Represent(#[from] crate::represent::RepresentError),
    #[error(transparent)]
    /// A coherence score could not be computed.
    Coherence(#[from] crate::coherence::CoherenceError),
    /// Experiment tracking or MLflow's registry failed (the model itself is saved).
    #[error(transparent)]
    Track(#[from] crate::tracking::TrackError),
    /// The local model registry refused or failed; the message says what to do.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// A drift signal could not be computed (`bertopic monitor`); the message says what to do.
    #[error(transparent)]
    Drift(#[from] crate::drift::DriftError),
    /// Bad input to `bertopic monitor` (empty batch, wrong embedding width, ...).
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    /// A parameter is out of range; the message says which and what is allowed.
    #[error("invalid parameter: {0}")]
    InvalidParams(String),
    /// A pipeline or tuning parameter failed its one check
    /// ([`BertopicParams::check`](crate::BertopicParams::check)); the error names the field.
    #[error("invalid parameter: {0}")]
    Param(#[from] ParamError),
    /// Inputs disagree with each other (for example embeddings rows vs documents).
    #[error("{0}")]
    Mismatch(String),
    /// The operation needs an embedding model but none was configured or loadable.
    #[error("no embedder configured: {0}")]
    NoEmbedder(String),
    /// Models to merge were fitted on embeddings of different models.
    #[error(
        "{model} was fitted on embeddings of {found}, {first} on {expected}: only models of one \
         embedding model can be merged (their topic embeddings are not comparable)"
    )]
    EmbeddingModelMismatch {
        /// The model that differs (folder or position).
        model: String,
        /// The first (base) model.
        first: String,
        /// The base model's embedding model.
        expected: String,
        /// The differing model's embedding model.
        found: String,
    },
    /// A row of a manual topic assignment file is unusable.
    #[error("{path} line {line}: {reason}")]
    BadAssignment {
        /// The assignment file.
        path: PathBuf,
        /// Its line (1 = the header).
        line: u64,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A label of a supervised fit's label column is unusable.
    #[error("{path} row {row}, column `{column}`: {reason}")]
    BadLabel {
        /// The corpus.
        path: PathBuf,
        /// The 1-based record number (header excluded), as in `document_topics.csv`.
        row: usize,
        /// The label column.
        column: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A supervised fit's label column holds no known label.
    #[error(
        "{path}: no document has a label in column `{column}` (the column is missing, or every \
         value is empty or unknown): name the column that holds the labels"
    )]
    NoLabels {
        /// The corpus.
        path: PathBuf,
        /// The label column asked for.
        column: String,
    },
    #[error("topic {0} does not exist in this model")]
    /// The topic id is not one of this model's topics.
    UnknownTopic(i64),
    #[error("I/O error on {path}: {source}")]
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        #[source]
        /// The underlying error.
        source: std::io::Error,
    },
    /// An output could not be written safely (refused target, busy output, I/O).
    #[error(transparent)]
    Output(#[from] bertopic_fs::FsError),
    /// A CSV report could not be produced.
    #[error("cannot write CSV: {0}")]
    Csv(#[source] csv::Error),
    /// A saved model folder is unreadable, corrupted or of an unknown format.
    #[error("model at {path} cannot be loaded: {reason}")]
    ModelFormat {
        /// The model folder or file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
}

impl BertopicError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BertopicError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = BertopicError> = std::result::Result<T, E>;

/// Bad input to [`monitor`](crate::monitor::monitor). Each message says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// No documents.
    #[error("the batch is empty: there are no documents to monitor; pass a batch of at least 2 documents")]
    EmptyBatch,
    /// Too few documents for the statistics.
    #[error("the batch has {docs} document(s); monitoring needs at least 2 (the embedding test compares two samples): pass a larger batch")]
    TooFewDocuments {
        /// Documents in the batch.
        docs: usize,
    },
    /// Batch embeddings of another width than the model's.
    #[error("the batch embeddings have {batch} dimensions but the model was trained on {model}-dimensional embeddings ({model_id}): embed the batch with the model's embedding model")]
    DimensionMismatch {
        /// Columns of the batch embeddings.
        batch: usize,
        /// Columns of the training embeddings.
        model: usize,
        /// The model's embedding model.
        model_id: String,
    },
    /// Embedding rows and documents disagree.
    #[error(
        "{docs} documents but {rows} embedding rows: give one embedding per document, in order"
    )]
    RowMismatch {
        /// Documents.
        docs: usize,
        /// Embedding rows.
        rows: usize,
    },
    /// A thresholds file that is not a valid [`DriftConfig`](crate::drift::DriftConfig).
    #[error("{path}: not a valid monitoring configuration: {reason}. Every key is optional; see the README's Monitoring section for the keys and their defaults")]
    BadConfig {
        /// The configuration file.
        path: PathBuf,
        /// The parse or validation error (it names the key).
        reason: String,
    },
    /// A history line that is not a [`HistoryEntry`](crate::monitor::HistoryEntry).
    #[error("{path} line {line} is not a monitoring record ({reason}); remove or fix that line")]
    BadHistory {
        /// The history file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parse error.
        reason: String,
    },
}

/// A parameter that [`BertopicParams::check`](crate::BertopicParams::check) (or a tuning or
/// representation check) refused: which field, and a message that says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParamError {
    field: &'static str,
    message: String,
}

impl ParamError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        ParamError {
            field,
            message: message.into(),
        }
    }

    /// The refused field, as its path in [`BertopicParams`](crate::BertopicParams)
    /// (`umap.n_neighbors`, `representation.diversity`) or in
    /// [`TuneParams`](crate::tune::TuneParams) (`tune.max_trials`).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What is wrong and what is allowed.
    pub fn message(&self) -> &str {
        &self.message
    }
}
