//! Tracking errors.

use std::path::PathBuf;

/// A tracking failure. Messages name the MLflow call or the file involved; credentials never
/// appear in them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrackError {
    /// The server answered a call with a client error (4xx other than 401/403/429).
    #[error("MLflow {call} failed: HTTP {status} {code}: {message}")]
    Rejected {
        /// The REST call, e.g. `POST runs/log-batch`.
        call: String,
        /// HTTP status.
        status: u16,
        /// MLflow's `error_code` (e.g. `RESOURCE_DOES_NOT_EXIST`), or empty.
        code: String,
        /// MLflow's message (or the start of the body).
        message: String,
    },
    /// The server refused our credentials (401/403).
    #[error(
        "MLflow {call} was refused (HTTP {status}): check MLFLOW_TRACKING_TOKEN or \
         MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD for {uri}"
    )]
    Unauthorized {
        /// The REST call.
        call: String,
        /// 401 or 403.
        status: u16,
        /// The tracking server.
        uri: String,
    },
    /// The server kept failing (5xx/429) or could not be reached, after every retry.
    #[error("MLflow {call} at {uri} failed after {attempts} attempt(s): {reason}")]
    Unavailable {
        /// The REST call.
        call: String,
        /// The tracking server.
        uri: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        reason: String,
    },
    /// The server's answer was not what MLflow's API documents.
    #[error("MLflow {call}: unexpected answer: {reason}")]
    Protocol {
        /// The REST call.
        call: String,
        /// What was wrong.
        reason: String,
    },
    /// A tracking URI we cannot write to.
    #[error("tracking URI {uri:?}: {reason}")]
    Uri {
        /// The URI as given.
        uri: String,
        /// Why it is not supported.
        reason: String,
    },
    /// Bad input from the caller (an empty key, a path outside the run, …).
    #[error("{0}")]
    Invalid(String),
    /// A file-store entry that MLflow's layout does not allow (or that is damaged).
    #[error("{path}: {reason}")]
    Store {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing through bertopic-fs failed.
    #[error(transparent)]
    Fs(#[from] bertopic_fs::FsError),
}

impl TrackError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrackError::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether retrying later might succeed (the server was down or overloaded), as opposed to
    /// a request the server will always refuse.
    pub fn is_transient(&self) -> bool {
        matches!(self, TrackError::Unavailable { .. })
    }

    /// MLflow's `error_code` of a rejected call (`RESOURCE_ALREADY_EXISTS`, …).
    pub fn mlflow_code(&self) -> Option<&str> {
        match self {
            TrackError::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// `Result` with [`TrackError`].
pub type Result<T, E = TrackError> = std::result::Result<T, E>;
