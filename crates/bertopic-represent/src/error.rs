//! Typed errors of the represent stage.

/// Everything that can go wrong while building or using a topic representation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepresentError {
    /// A parameter is out of range; the message says which and what is allowed.
    #[error("invalid parameter: {0}")]
    InvalidParams(String),
    /// Documents and labels (or other paired inputs) have different lengths.
    #[error("{what}: got {left} and {right}; give one per document")]
    LengthMismatch {
        /// What was paired.
        what: &'static str,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },
    /// No documents were given.
    #[error("no documents: c-TF-IDF needs at least one document")]
    NoDocuments,
    /// The analyzer produced no terms at all.
    #[error(
        "empty vocabulary: the analyzer found no terms (documents contain only stop words or \
         tokens shorter than 2 characters?); check the language and stop-word settings"
    )]
    EmptyVocabulary,
    /// `min_df` / `max_df` / `max_features` removed every term.
    #[error("after pruning no terms remain ({0}); lower min_df or raise max_df")]
    NoTermsAfterPruning(String),
    /// Array shapes do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// The caller's embedding closure failed.
    #[error("embedding failed: {0}")]
    Embedding(String),
    /// A (deserialised) representation is internally inconsistent.
    #[error("corrupt topic representation: {0}; refit or reload the model")]
    Corrupt(String),
    /// No API key for an endpoint that needs one.
    #[error("no API key for {0}: set GROQ_API_KEY or pass api_key")]
    MissingApiKey(String),
    /// The LLM endpoint answered with an HTTP error status.
    #[error("LLM endpoint answered HTTP {status}: {body}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// Network failure or timeout talking to the LLM endpoint.
    #[error("LLM request failed: {0} (check the endpoint URL and network, or raise the timeout)")]
    Transport(String),
    /// The LLM answer could not be understood.
    #[error("unusable LLM response: {0}")]
    BadResponse(String),
}

impl RepresentError {
    /// Whether retrying the same HTTP request may succeed (429, 5xx, network errors).
    pub fn is_retryable(&self) -> bool {
        match self {
            RepresentError::Http { status, .. } => *status == 429 || *status >= 500,
            RepresentError::Transport(_) => true,
            _ => false,
        }
    }
}
