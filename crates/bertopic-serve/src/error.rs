//! Errors of the server and of each request, with the HTTP status each maps to.

use std::net::SocketAddr;

use axum::http::StatusCode;
use bertopic::registry::RegistryError;
use bertopic::BertopicError;

/// A failure to start the server, or of one request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The request is malformed or asks for something impossible (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// No such model, job, topic or file (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with work in progress (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// The body, upload or document list is over a limit (HTTP 413).
    #[error("{0}")]
    TooLarge(String),
    /// A facade error: bad input is a 400, the rest a 500.
    #[error(transparent)]
    Bertopic(#[from] BertopicError),
    /// A registry error: unknown names, versions and aliases are 404s, malformed ones 400s.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Anything else that went wrong on the server's side (HTTP 500).
    #[error("internal error: {0}")]
    Internal(String),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}; pick another --port or stop what uses it")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is invalid (checked before anything starts).
    #[error("invalid server configuration: {0}")]
    Config(String),
}

/// `Result` with [`ServeError`].
pub type Result<T, E = ServeError> = std::result::Result<T, E>;

impl ServeError {
    /// The HTTP status a request failing with this error gets.
    pub fn status(&self) -> StatusCode {
        match self {
            ServeError::BadRequest(_) | ServeError::Config(_) => StatusCode::BAD_REQUEST,
            ServeError::NotFound(_) => StatusCode::NOT_FOUND,
            ServeError::Conflict(_) => StatusCode::CONFLICT,
            ServeError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServeError::Registry(e) => match e {
                RegistryError::UnknownName { .. }
                | RegistryError::UnknownVersion { .. }
                | RegistryError::UnknownAlias { .. } => StatusCode::NOT_FOUND,
                RegistryError::InvalidName { .. }
                | RegistryError::InvalidAlias { .. }
                | RegistryError::MalformedUri { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ServeError::Bertopic(e) => match e {
                BertopicError::Preprocess(_)
                | BertopicError::Monitor(_)
                | BertopicError::InvalidParams(_)
                | BertopicError::Param(_)
                | BertopicError::Mismatch(_)
                | BertopicError::UnknownTopic(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ServeError::Internal(_) | ServeError::Bind { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<tokio::task::JoinError> for ServeError {
    fn from(e: tokio::task::JoinError) -> Self {
        // A panic in blocking work must not take the server down; the request gets a 500.
        ServeError::Internal(format!("the request's work stopped unexpectedly: {e}"))
    }
}
