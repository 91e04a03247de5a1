//! A local, file-based model registry with MLflow-style names.
//!
//! A registry is a folder (the *root*). Registering a saved model folder under a name copies it
//! to `<root>/<NAME>/<version>/`, versions counting 1, 2, 3, … per name, together with a small
//! metadata file ([`METADATA_FILE`]: version, creation time, source path, metrics). Models are
//! then addressed by URI: `models:/NAME/latest`, `models:/NAME/<version>` or, after
//! [`Registry::set_alias`], `models:/NAME@alias` (MLflow's aliases, which replaced stages).
//!
//! Writes are atomic: the copy is made in a temporary folder beside the versions and renamed
//! into place, so readers never see half a model. Version numbers are claimed with
//! `create_dir`, which fails with `AlreadyExists` for every process but one, so concurrent
//! registrations (threads or processes) always get distinct versions.
//!
//! ```
//! use bertopic_registry::{ModelUri, Registry};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = tempfile::tempdir()?;
//! let model = tempfile::tempdir()?;
//! std::fs::write(model.path().join("model.json"), "{}")?;
//!
//! let registry = Registry::new(root.path());
//! let v1 = registry.register("papers", model.path(), Default::default())?;
//! let v2 = registry.register("papers", model.path(), Default::default())?;
//! assert_eq!((v1.version, v2.version), (1, 2));
//!
//! let uri: ModelUri = "models:/papers/latest".parse()?;
//! let latest = registry.resolve(&uri)?;
//! assert_eq!(latest.version, 2);
//! assert!(latest.path.join("model.json").is_file());
//! assert!(registry.resolve_str("models:/papers/7").is_err());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod error;
mod store;
mod uri;

pub use error::{KnownNames, KnownVersions, RegistryError, Result};
pub use store::{
    rfc3339, BrokenVersion, ModelVersion, Registry, VersionMetadata, ALIASES_FILE, METADATA_FILE,
    METADATA_FORMAT, REGISTRY_ENV,
};
pub use uri::{validate_alias, validate_name, ModelUri, VersionSpec, URI_SCHEME};
