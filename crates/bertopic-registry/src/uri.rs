//! Model URIs (`models:/NAME/latest`, `models:/NAME/<version>`): [`ModelUri`], [`VersionSpec`],
//! their parsing and display, and the name rules ([`validate_name`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{RegistryError, Result};

/// Scheme prefix of model URIs.
pub const URI_SCHEME: &str = "models:/";

/// The accepted URI forms, quoted in errors.
pub(crate) const URI_FORMS: &str =
    "models:/NAME/latest or models:/NAME/<version> (version 1, 2, …)";

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

/// Which version a [`ModelUri`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VersionSpec {
    /// The highest registered version.
    Latest,
    /// One version number (from 1).
    Number(u64),
}

/// A parsed model URI: `models:/NAME/latest` or `models:/NAME/<version>`.
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
        match self.version {
            VersionSpec::Latest => write!(f, "{URI_SCHEME}{}/latest", self.name),
            VersionSpec::Number(n) => write!(f, "{URI_SCHEME}{}/{n}", self.name),
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
            (u.name.as_str(), u.version),
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
        assert!(ModelUri::is_uri("models:/x/1"));
        assert!(!ModelUri::is_uri("runs/x"));
    }
}
