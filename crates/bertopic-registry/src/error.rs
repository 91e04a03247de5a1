//! [`RegistryError`], the crate's [`Result`] alias, and the helpers that make its messages
//! readable ([`KnownNames`], [`KnownVersions`]).

use std::fmt;
use std::path::PathBuf;

use crate::uri::URI_FORMS;

/// Everything that can go wrong in the registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A model name with characters the registry does not accept.
    #[error(
        "invalid model name `{name}`: {reason}; use 1–128 letters, digits, `.`, `_` or `-`, \
         not starting with `.`"
    )]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An alias the registry (and MLflow) does not accept.
    #[error("invalid alias `{alias}`: {reason}")]
    InvalidAlias {
        /// The alias given.
        alias: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No version of the model carries that alias.
    #[error("model `{name}` has no alias `{alias}` (aliases: {known}); set one with `bertopic registry promote {name} VERSION --alias {alias}`")]
    UnknownAlias {
        /// The name asked for.
        name: String,
        /// The alias asked for.
        alias: String,
        /// The model's aliases, comma-separated (or "none").
        known: String,
    },
    /// Deleting a version that an alias points at, without `force`.
    #[error("model `{name}` version {version} is aliased as {aliases}: move the alias first (`bertopic registry promote`) or delete with --force, which removes the alias too")]
    Aliased {
        /// The name.
        name: String,
        /// The version.
        version: u64,
        /// Its aliases, comma-separated.
        aliases: String,
    },
    /// A string that is not a model URI of an accepted form.
    #[error("malformed model URI `{uri}`: {reason}; expected {URI_FORMS}")]
    MalformedUri {
        /// The string given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No model of that name is registered.
    #[error("no model named `{name}` in the registry at {root} ({known}); register one with `bertopic train ... --register {name}`")]
    UnknownName {
        /// The name asked for.
        name: String,
        /// The registry root searched.
        root: PathBuf,
        /// The registered names, for the message.
        known: KnownNames,
    },
    /// The name exists but not that version.
    #[error("model `{name}` has no version {version} (versions: {available})")]
    UnknownVersion {
        /// The name asked for.
        name: String,
        /// The version asked for.
        version: u64,
        /// The registered versions, for the message.
        available: KnownVersions,
    },
    /// The folder to register does not exist or is not a folder.
    #[error("cannot register {0}: not a folder (save the model first)")]
    SourceNotFound(PathBuf),
    /// A file-system operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A registration could not be written safely.
    #[error(transparent)]
    Output(#[from] bertopic_fs::FsError),
    /// A metadata file is unreadable.
    #[error("registry metadata {path} is unreadable: {reason}; this version cannot be used (other versions can): register the model again, or remove the version folder")]
    Metadata {
        /// The metadata file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Registered names, shown in [`RegistryError::UnknownName`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownNames(pub Vec<String>);

impl fmt::Display for KnownNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            write!(f, "it holds no models")
        } else {
            write!(f, "registered: {}", self.0.join(", "))
        }
    }
}

/// Registered versions, shown in [`RegistryError::UnknownVersion`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownVersions(pub Vec<u64>);

impl fmt::Display for KnownVersions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "none");
        }
        let v: Vec<String> = self.0.iter().map(u64::to_string).collect();
        write!(f, "{}", v.join(", "))
    }
}

/// Result alias of this crate.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// An [`RegistryError::Io`] on `path`.
pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> RegistryError {
    RegistryError::Io {
        path: path.into(),
        source,
    }
}
