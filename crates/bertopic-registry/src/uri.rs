//! Model URIs (`models:/NAME/latest`, `models:/NAME/<version>`, `models:/NAME@alias`):
//! [`ModelUri`], [`VersionSpec`], their parsing and display, and the name rules
//! ([`validate_name`], [`validate_alias`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{RegistryError, Result};

/// Scheme prefix of model URIs.
pub const URI_SCHEME: &str = "models:/";

/// The accepted URI forms, quoted in errors.
pub(crate) const URI_FORMS: &str =
    "models:/NAME/latest, models:/NAME/<version> (version 1, 2, …) or models:/NAME@alias";

/// Checks a model name: 1–128 of `[A-Za-z0-9._-]`, not starting with `.` (hidden and
/// temporary folders start with `.`).
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |reason| {
        Err(RegistryError::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 128 {
        return bad("it is longer than 128 characters");
    }
    if name.starts_with('.') {
        return bad("it starts with `.`");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return bad("it contains a character other than letters, digits, `.`, `_`, `-`");
    }
    Ok(())
}

/// Checks an alias the way MLflow does: 1–255 of `[A-Za-z0-9_-]`, not `latest` and not of the
/// form `v<number>` (both would read as version references).
pub fn validate_alias(alias: &str) -> Result<()> {
    let bad = |reason| {
        Err(RegistryError::InvalidAlias {
            alias: alias.to_string(),
            reason,
        })
    };
    if alias.is_empty() || alias.len() > 255 {
        return bad("it must be 1 to 255 characters long");
    }
    if !alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    {
        return bad("it contains a character other than letters, digits, `_`, `-`");
    }
    let lower = alias.to_ascii_lowercase();
    if lower == "latest" {
        return bad("`latest` is reserved for the newest version");
    }
    if lower.len() > 1 && lower.starts_with('v') && lower[1..].bytes().all(|b| b.is_ascii_digit()) {
        return bad("`v<number>` is reserved for version numbers");
    }
    Ok(())
}

/// Which version a [`ModelUri`] asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VersionSpec {
    /// The highest registered version.
    Latest,
    /// One version number (from 1).
    Number(u64),
    /// The version an alias (`champion`, …) points at.
    Alias(String),
}

/// A parsed model URI: `models:/NAME/latest`, `models:/NAME/<version>` or `models:/NAME@alias`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelUri {
    /// The registered name.
    pub name: String,
    /// The version asked for.
    pub version: VersionSpec,
}

impl ModelUri {
    /// Whether `s` is meant as a model URI (starts with `models:`), so callers can tell it from
    /// a folder path before parsing.
    pub fn is_uri(s: &str) -> bool {
        s.starts_with("models:")
    }
}

impl FromStr for ModelUri {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| RegistryError::MalformedUri {
            uri: s.to_string(),
            reason: reason.to_string(),
        };
        let rest = s
            .strip_prefix(URI_SCHEME)
            .ok_or_else(|| bad("it does not start with `models:/`"))?;
        if let Some((name, alias)) = rest.split_once('@') {
            validate_name(name).map_err(|e| bad(&e.to_string()))?;
            validate_alias(alias).map_err(|e| bad(&e.to_string()))?;
            return Ok(ModelUri {
                name: name.to_string(),
                version: VersionSpec::Alias(alias.to_string()),
            });
        }
        let mut parts = rest.split('/');
        let (name, version) = match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some(v), None) => (n, v),
            (Some(_), None, _) => return Err(bad("the version is missing")),
            _ => return Err(bad("it has more than two parts after `models:/`")),
        };
        validate_name(name).map_err(|e| bad(&e.to_string()))?;
        let version = if version == "latest" {
            VersionSpec::Latest
        } else {
            match version.parse::<u64>() {
                Ok(0) => return Err(bad("versions start at 1")),
                Ok(n) if version.bytes().all(|b| b.is_ascii_digit()) => VersionSpec::Number(n),
                _ => {
                    return Err(bad(&format!(
                        "`{version}` is neither `latest` nor a version number"
                    )))
                }
            }
        };
        Ok(ModelUri {
            name: name.to_string(),
            version,
        })
    }
}

impl fmt::Display for ModelUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            VersionSpec::Latest => write!(f, "{URI_SCHEME}{}/latest", self.name),
            VersionSpec::Number(n) => write!(f, "{URI_SCHEME}{}/{n}", self.name),
            VersionSpec::Alias(a) => write!(f, "{URI_SCHEME}{}@{a}", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parsing() {
        let u: ModelUri = "models:/papers/latest".parse().unwrap();
        assert_eq!(u.version, VersionSpec::Latest);
        assert_eq!(u.to_string(), "models:/papers/latest");
        let u: ModelUri = "models:/p.v2/12".parse().unwrap();
        assert_eq!(
            (u.name.as_str(), u.version.clone()),
            ("p.v2", VersionSpec::Number(12))
        );
        assert_eq!(u.to_string(), "models:/p.v2/12");
        for bad in [
            "papers/latest",
            "models:papers/latest",
            "models:/papers",
            "models:/papers/",
            "models:/papers/0",
            "models:/papers/-1",
            "models:/papers/+1",
            "models:/papers/newest",
            "models:/papers/1/extra",
            "models://1",
            "models:/.x/1",
            "models:/papers@",
            "models:/papers@latest",
            "models:/papers@v3",
            "models:/papers@a/b",
            "models:/@champion",
        ] {
            let e = bad.parse::<ModelUri>().unwrap_err();
            assert!(
                matches!(e, RegistryError::MalformedUri { .. }),
                "{bad}: {e}"
            );
            let msg = e.to_string();
            assert!(
                msg.contains("models:/NAME/latest") && msg.contains("models:/NAME/<version>"),
                "{msg}"
            );
        }
        let u: ModelUri = "models:/papers@champion".parse().unwrap();
        assert_eq!(u.version, VersionSpec::Alias("champion".into()));
        assert_eq!(u.to_string(), "models:/papers@champion");
        assert!(ModelUri::is_uri("models:/x/1"));
        assert!(!ModelUri::is_uri("runs/x"));
    }
}
