//! The registry on disk: [`Registry`] (register, scan, resolve), the version records
//! ([`ModelVersion`], [`BrokenVersion`], [`VersionMetadata`]), the folder copy helpers and the
//! creation-time formatting.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{io, KnownNames, KnownVersions, RegistryError, Result};
use crate::uri::{validate_alias, validate_name, ModelUri, VersionSpec};

/// Name of the metadata file written into every version folder. A version folder without it
/// is incomplete (a registration that crashed) and is ignored.
pub const METADATA_FILE: &str = "registry.json";

/// Name of the file holding a model's aliases (`{"champion": 3}`), beside its versions.
pub const ALIASES_FILE: &str = "aliases.json";

/// Environment variable that overrides the default registry root.
pub const REGISTRY_ENV: &str = "BERTOPIC_REGISTRY";

/// Format version of [`METADATA_FILE`].
pub const METADATA_FORMAT: u32 = 1;

/// Contents of [`METADATA_FILE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionMetadata {
    /// Format of this file ([`METADATA_FORMAT`]).
    pub format: u32,
    /// The registered name.
    pub name: String,
    /// The version number.
    pub version: u64,
    /// Creation time, UTC, RFC 3339 (`2026-11-28T11:20:00Z`).
    pub created: String,
    /// Creation time in milliseconds since the Unix epoch.
    pub created_unix_ms: u64,
    /// The folder that was registered (absolute when it could be resolved).
    pub source: String,
    /// Metrics given at registration (for example `n_topics`, `outlier_fraction`, coherence).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

/// One registered version.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    /// The registered name.
    pub name: String,
    /// The version number.
    pub version: u64,
    /// The version folder (holds the model files and [`METADATA_FILE`]).
    pub path: PathBuf,
    /// Its metadata.
    pub metadata: VersionMetadata,
}

/// A version folder whose metadata cannot be read: listed apart so that one damaged version
/// never makes the others unusable.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenVersion {
    /// The registered name.
    pub name: String,
    /// The version number.
    pub version: u64,
    /// The version folder.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl ModelVersion {
    /// The URI of exactly this version.
    pub fn uri(&self) -> ModelUri {
        ModelUri {
            name: self.name.clone(),
            version: VersionSpec::Number(self.version),
        }
    }
}

/// A registry rooted at a folder. Cheap to create; every call reads the file system, so
/// several processes can share one root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    root: PathBuf,
}

impl Registry {
    /// A registry at `root` (created on the first registration).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Registry { root: root.into() }
    }

    /// The default root: `$BERTOPIC_REGISTRY`, else `$XDG_DATA_HOME/bertopic/registry`, else
    /// `~/.local/share/bertopic/registry` (`.bertopic-registry` when there is no home).
    pub fn default_root() -> PathBuf {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(r) = env(REGISTRY_ENV) {
            return r;
        }
        if let Some(d) = env("XDG_DATA_HOME") {
            return d.join("bertopic/registry");
        }
        match env("HOME") {
            Some(h) => h.join(".local/share/bertopic/registry"),
            None => PathBuf::from(".bertopic-registry"),
        }
    }

    /// A registry at `root` when given, else at [`default_root`](Self::default_root).
    pub fn open(root: Option<&Path>) -> Self {
        Registry::new(root.map_or_else(Self::default_root, Path::to_path_buf))
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Copies the model folder `source` into the registry as the next version of `name` and
    /// returns it. Atomic (a temporary copy renamed into place) and safe to call concurrently:
    /// each call gets its own version number.
    pub fn register(
        &self,
        name: &str,
        source: &Path,
        metrics: BTreeMap<String, f64>,
    ) -> Result<ModelVersion> {
        validate_name(name)?;
        if !source.is_dir() {
            return Err(RegistryError::SourceNotFound(source.to_path_buf()));
        }
        let dir = self.root.join(name);
        // The copy is staged in a hidden folder that a killed registration leaves behind;
        // the next registration removes those of dead processes.
        let staging = bertopic_fs::StagingDir::new(&dir, "version")?;
        let v = self.register_via(name, source, &dir, staging.path(), metrics)?;
        staging.keep();
        Ok(v)
    }

    fn register_via(
        &self,
        name: &str,
        source: &Path,
        dir: &Path,
        tmp: &Path,
        metrics: BTreeMap<String, f64>,
    ) -> Result<ModelVersion> {
        copy_into(source, tmp)?;
        // Claim a number: create_dir succeeds for exactly one claimant of each number.
        let mut version = self.max_claimed(dir)? + 1;
        let target = loop {
            let candidate = dir.join(version.to_string());
            match fs::create_dir(&candidate) {
                Ok(()) => break candidate,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => version += 1,
                Err(e) => return Err(io(&candidate, e)),
            }
        };
        let created_unix_ms = now_ms();
        let metadata = VersionMetadata {
            format: METADATA_FORMAT,
            name: name.to_string(),
            version,
            created: rfc3339(created_unix_ms / 1000),
            created_unix_ms,
            source: fs::canonicalize(source)
                .unwrap_or_else(|_| source.to_path_buf())
                .display()
                .to_string(),
            metrics,
        };
        let meta_path = tmp.join(METADATA_FILE);
        let json = serde_json::to_vec_pretty(&metadata).map_err(|e| RegistryError::Metadata {
            path: meta_path.clone(),
            reason: e.to_string(),
        })?;
        bertopic_fs::write_file(&meta_path, &json)?;
        // The claimed folder is empty, and renaming a folder over an empty one replaces it in
        // one step on Unix; elsewhere remove the placeholder first.
        if let Err(e) = fs::rename(tmp, &target) {
            if target.is_dir() && fs::remove_dir(&target).is_ok() {
                fs::rename(tmp, &target).map_err(|e| io(&target, e))?;
            } else {
                return Err(io(&target, e));
            }
        }
        Ok(ModelVersion {
            name: name.to_string(),
            version,
            path: target,
            metadata,
        })
    }

    /// Highest version number claimed under `dir`, complete or not (0 when none).
    fn max_claimed(&self, dir: &Path) -> Result<u64> {
        let mut max = 0;
        for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let entry = entry.map_err(|e| io(dir, e))?;
            if let Some(v) = version_number(&entry.file_name().to_string_lossy()) {
                max = max.max(v);
            }
        }
        Ok(max)
    }

    /// Registered names, sorted. An absent root holds no names.
    pub fn names(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.root, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io(&self.root, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && validate_name(&name).is_ok() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// The complete versions of `name`, ascending. Unknown names are an error; versions whose
    /// metadata is unreadable are left out (see [`scan`](Self::scan)).
    pub fn versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        Ok(self.scan(name)?.0)
    }

    /// The complete versions of `name` and, apart, the versions whose metadata is damaged.
    pub fn scan(&self, name: &str) -> Result<(Vec<ModelVersion>, Vec<BrokenVersion>)> {
        validate_name(name)?;
        let dir = self.root.join(name);
        if !dir.is_dir() {
            return Err(RegistryError::UnknownName {
                name: name.to_string(),
                root: self.root.clone(),
                known: KnownNames(self.names()?),
            });
        }
        let mut out = Vec::new();
        let mut broken = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let Some(version) = version_number(&entry.file_name().to_string_lossy()) else {
                continue;
            };
            let meta_path = entry.path().join(METADATA_FILE);
            let raw = match fs::read(&meta_path) {
                Ok(r) => r,
                // Claimed but not (yet) renamed into place: not a version.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => {
                    broken.push(BrokenVersion {
                        name: name.to_string(),
                        version,
                        path: entry.path(),
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            match serde_json::from_slice::<VersionMetadata>(&raw) {
                Ok(metadata) => out.push(ModelVersion {
                    name: name.to_string(),
                    version,
                    path: entry.path(),
                    metadata,
                }),
                Err(e) => broken.push(BrokenVersion {
                    name: name.to_string(),
                    version,
                    path: entry.path(),
                    reason: format!("{METADATA_FILE} is not valid: {e}"),
                }),
            }
        }
        out.sort_by_key(|v| v.version);
        broken.sort_by_key(|v| v.version);
        Ok((out, broken))
    }

    /// Damaged versions of every name (see [`scan`](Self::scan)).
    pub fn broken(&self) -> Result<Vec<BrokenVersion>> {
        let mut out = Vec::new();
        for name in self.names()? {
            out.extend(self.scan(&name)?.1);
        }
        Ok(out)
    }

    /// Every registered version of every name, by name then version.
    pub fn list(&self) -> Result<Vec<ModelVersion>> {
        let mut out = Vec::new();
        for name in self.names()? {
            out.extend(self.versions(&name)?);
        }
        Ok(out)
    }

    /// The highest version of `name`. When that version is damaged, this is an error naming it
    /// rather than a silent fall-back to an older model.
    pub fn latest(&self, name: &str) -> Result<ModelVersion> {
        let (mut ok, broken) = self.scan(name)?;
        let newest_ok = ok.last().map_or(0, |v| v.version);
        if let Some(b) = broken.iter().rfind(|b| b.version > newest_ok) {
            return Err(broken_error(b));
        }
        ok.pop().ok_or_else(|| RegistryError::UnknownName {
            name: name.to_string(),
            root: self.root.clone(),
            known: KnownNames(self.names().unwrap_or_default()),
        })
    }

    /// One version of `name`.
    pub fn version(&self, name: &str, version: u64) -> Result<ModelVersion> {
        let (all, broken) = self.scan(name)?;
        if let Some(b) = broken.iter().find(|b| b.version == version) {
            return Err(broken_error(b));
        }
        let available = all.iter().map(|v| v.version).collect();
        all.into_iter()
            .find(|v| v.version == version)
            .ok_or_else(|| RegistryError::UnknownVersion {
                name: name.to_string(),
                version,
                available: KnownVersions(available),
            })
    }

    /// The version a URI points at.
    pub fn resolve(&self, uri: &ModelUri) -> Result<ModelVersion> {
        match &uri.version {
            VersionSpec::Latest => self.latest(&uri.name),
            VersionSpec::Number(n) => self.version(&uri.name, *n),
            VersionSpec::Alias(a) => {
                let aliases = self.aliases(&uri.name)?;
                match aliases.get(a) {
                    Some(&v) => self.version(&uri.name, v),
                    None => Err(RegistryError::UnknownAlias {
                        name: uri.name.clone(),
                        alias: a.clone(),
                        known: alias_list(aliases.keys()),
                    }),
                }
            }
        }
    }

    /// The aliases of `name` (alias → version), empty when none was set.
    pub fn aliases(&self, name: &str) -> Result<BTreeMap<String, u64>> {
        validate_name(name)?;
        let path = self.root.join(name).join(ALIASES_FILE);
        match fs::read(&path) {
            Ok(raw) => serde_json::from_slice(&raw).map_err(|e| RegistryError::Metadata {
                path,
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(io(&path, e)),
        }
    }

    /// Points `alias` of `name` at `version` (which must exist), moving it from another
    /// version if needed; returns the version it pointed at before.
    pub fn set_alias(&self, name: &str, alias: &str, version: u64) -> Result<Option<u64>> {
        validate_alias(alias)?;
        self.version(name, version)?;
        self.edit_aliases(name, |a| a.insert(alias.to_string(), version))
    }

    /// Removes `alias` of `name`; returns the version it pointed at.
    pub fn remove_alias(&self, name: &str, alias: &str) -> Result<Option<u64>> {
        self.edit_aliases(name, |a| a.remove(alias))
    }

    /// Deletes version `version` of `name`. A version an alias points at is refused unless
    /// `force`, which removes those aliases too; returns the aliases removed. The folder is
    /// first renamed away (readers never see a half-deleted model), then removed.
    pub fn delete_version(&self, name: &str, version: u64, force: bool) -> Result<Vec<String>> {
        let v = self.version(name, version)?;
        let pointing: Vec<String> = self
            .aliases(name)?
            .into_iter()
            .filter(|(_, n)| *n == version)
            .map(|(a, _)| a)
            .collect();
        if !pointing.is_empty() && !force {
            return Err(RegistryError::Aliased {
                name: name.to_string(),
                version,
                aliases: alias_list(pointing.iter()),
            });
        }
        if !pointing.is_empty() {
            self.edit_aliases(name, |a| {
                a.retain(|_, n| *n != version);
            })?;
        }
        let dir = self.root.join(name);
        let staging = bertopic_fs::StagingDir::new(&dir, "deleted")?;
        let gone = staging.path().join("v");
        fs::rename(&v.path, &gone).map_err(|e| io(&v.path, e))?;
        drop(staging);
        Ok(pointing)
    }

    /// Read-modify-write of the aliases file under the name's lock (concurrent promotions
    /// wait for each other instead of losing one).
    fn edit_aliases<T>(
        &self,
        name: &str,
        f: impl FnOnce(&mut BTreeMap<String, u64>) -> T,
    ) -> Result<T> {
        validate_name(name)?;
        let dir = self.root.join(name);
        let path = dir.join(ALIASES_FILE);
        let start = std::time::Instant::now();
        let _lock = loop {
            match bertopic_fs::OutputLock::acquire(&path, &dir, ALIASES_FILE) {
                Ok(l) => break l,
                Err(bertopic_fs::FsError::Locked { .. })
                    if start.elapsed() < std::time::Duration::from_secs(10) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let mut aliases = self.aliases(name)?;
        let out = f(&mut aliases);
        let json = serde_json::to_vec_pretty(&aliases).map_err(|e| RegistryError::Metadata {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        bertopic_fs::write_file(&path, &json)?;
        Ok(out)
    }

    /// Parses `uri` ([`ModelUri`]) and returns the folder of the version it points at.
    pub fn resolve_str(&self, uri: &str) -> Result<PathBuf> {
        Ok(self.resolve(&uri.parse()?)?.path)
    }
}

fn alias_list<'a>(aliases: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = aliases.map(String::as_str).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn broken_error(b: &BrokenVersion) -> RegistryError {
    RegistryError::Metadata {
        path: b.path.join(METADATA_FILE),
        reason: b.reason.clone(),
    }
}

/// `"12"` → 12; anything else (temporary folders, stray files) → None.
fn version_number(file_name: &str) -> Option<u64> {
    if file_name.is_empty() || !file_name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    file_name.parse().ok().filter(|&v| v > 0)
}

/// Copies the contents of folder `src` into the existing folder `dst`.
fn copy_into(src: &Path, dst: &Path) -> Result<()> {
    for entry in fs::read_dir(src).map_err(|e| io(src, e))? {
        let entry = entry.map_err(|e| io(src, e))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        if from.is_dir() {
            copy_dir(&from, &to)?;
        } else {
            fs::copy(&from, &to).map_err(|e| io(&from, e))?;
            fs::File::open(&to)
                .and_then(|f| f.sync_all())
                .map_err(|e| io(&to, e))?;
        }
    }
    Ok(())
}

/// Copies the folder `src` (recursively; symbolic links are followed) into the new folder `dst`.
fn copy_dir(src: &Path, dst: &Path) -> Result<()> {
    fs::create_dir(dst).map_err(|e| io(dst, e))?;
    copy_into(src, dst)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar, UTC), the timestamp
/// format of registry metadata and monitoring records.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days since 1970-01-01 → civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn model_dir(tag: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::write(
            d.path().join("model.json"),
            format!("{{\"tag\":\"{tag}\"}}"),
        )
        .unwrap();
        fs::write(d.path().join("model.safetensors"), b"weights").unwrap();
        fs::create_dir(d.path().join("extra")).unwrap();
        fs::write(d.path().join("extra/notes.txt"), b"n").unwrap();
        d
    }

    #[test]
    fn damaged_version_is_named_and_the_others_stay_usable() {
        let root = tempfile::tempdir().unwrap();
        let reg = Registry::new(root.path());
        let a = model_dir("a");
        for _ in 0..3 {
            reg.register("m", a.path(), BTreeMap::new()).unwrap();
        }
        fs::write(root.path().join("m/2").join(METADATA_FILE), "{ nope").unwrap();
        let (ok, broken) = reg.scan("m").unwrap();
        assert_eq!(ok.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].version, 2);
        assert_eq!(reg.list().unwrap().len(), 2);
        assert_eq!(reg.latest("m").unwrap().version, 3);
        assert!(matches!(
            reg.version("m", 2),
            Err(RegistryError::Metadata { .. })
        ));
        // The newest damaged: `latest` names it instead of silently serving version 1.
        fs::write(root.path().join("m/3").join(METADATA_FILE), "").unwrap();
        assert!(matches!(
            reg.latest("m"),
            Err(RegistryError::Metadata { .. })
        ));
        assert_eq!(reg.version("m", 1).unwrap().version, 1);
    }

    #[test]
    fn killed_registration_leftovers_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let reg = Registry::new(root.path());
        let stale = root
            .path()
            .join(format!("m/.version.bertopic-tmp-{}-0", 0x7fff_fff0u32));
        fs::create_dir_all(&stale).unwrap();
        fs::write(stale.join("model.safetensors"), vec![0u8; 1024]).unwrap();
        reg.register("m", model_dir("a").path(), BTreeMap::new())
            .unwrap();
        assert!(!stale.exists());
        let names: Vec<_> = fs::read_dir(root.path().join("m"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["1"]);
    }

    #[test]
    fn versions_increment_and_latest_resolves() {
        let root = tempfile::tempdir().unwrap();
        let reg = Registry::new(root.path().join("reg"));
        assert!(reg.names().unwrap().is_empty(), "absent root holds nothing");
        let (a, b) = (model_dir("a"), model_dir("b"));
        let mut metrics = BTreeMap::new();
        metrics.insert("n_topics".to_string(), 4.0);
        let v1 = reg.register("papers", a.path(), metrics.clone()).unwrap();
        let v2 = reg.register("papers", b.path(), BTreeMap::new()).unwrap();
        let o1 = reg
            .register("other-model_2.x", a.path(), BTreeMap::new())
            .unwrap();
        assert_eq!((v1.version, v2.version, o1.version), (1, 2, 1));
        assert_eq!(v1.path, root.path().join("reg/papers/1"));
        assert_eq!(reg.names().unwrap(), vec!["other-model_2.x", "papers"]);

        let latest = reg.resolve_str("models:/papers/latest").unwrap();
        assert_eq!(latest, v2.path);
        let json = fs::read_to_string(latest.join("model.json")).unwrap();
        assert!(json.contains("\"b\""), "latest is the second copy: {json}");
        assert!(
            latest.join("extra/notes.txt").is_file(),
            "sub-folders copied"
        );
        let first = reg.resolve_str("models:/papers/1").unwrap();
        assert!(fs::read_to_string(first.join("model.json"))
            .unwrap()
            .contains("\"a\""));

        let meta: VersionMetadata =
            serde_json::from_slice(&fs::read(first.join(METADATA_FILE)).unwrap()).unwrap();
        assert_eq!(meta.version, 1);
        assert_eq!(meta.name, "papers");
        assert_eq!(meta.metrics, metrics);
        assert_eq!(meta.format, METADATA_FORMAT);
        assert!(meta
            .source
            .ends_with(&*a.path().file_name().unwrap().to_string_lossy()));
        assert_eq!(meta.created.len(), 20, "{}", meta.created);

        let all = reg.list().unwrap();
        let ids: Vec<(String, u64)> = all.iter().map(|v| (v.name.clone(), v.version)).collect();
        assert_eq!(
            ids,
            vec![
                ("other-model_2.x".into(), 1),
                ("papers".into(), 1),
                ("papers".into(), 2)
            ]
        );
        // No temporary folders are left behind.
        let leftovers: Vec<_> = fs::read_dir(root.path().join("reg/papers"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn incomplete_versions_are_skipped_and_numbers_not_reused() {
        let root = tempfile::tempdir().unwrap();
        let reg = Registry::new(root.path());
        let m = model_dir("m");
        reg.register("x", m.path(), BTreeMap::new()).unwrap();
        // A crashed registration: version 2 claimed, never completed.
        fs::create_dir(root.path().join("x/2")).unwrap();
        assert_eq!(reg.latest("x").unwrap().version, 1);
        let v = reg.register("x", m.path(), BTreeMap::new()).unwrap();
        assert_eq!(v.version, 3);
        assert_eq!(reg.latest("x").unwrap().version, 3);
        let e = reg.version("x", 2).unwrap_err();
        assert!(
            matches!(e, RegistryError::UnknownVersion { version: 2, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("versions: 1, 3"), "{e}");
    }

    #[test]
    fn concurrent_registrations_get_distinct_versions() {
        let root = tempfile::tempdir().unwrap();
        let reg = Arc::new(Registry::new(root.path()));
        let m = Arc::new(model_dir("c"));
        let n = 12;
        let barrier = Arc::new(std::sync::Barrier::new(n));
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (reg, m, barrier) = (reg.clone(), m.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    reg.register("shared", m.path(), BTreeMap::new())
                        .unwrap()
                        .version
                })
            })
            .collect();
        let mut got: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, (1..=n as u64).collect::<Vec<_>>());
        let listed: Vec<u64> = reg
            .versions("shared")
            .unwrap()
            .iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(listed, got);
        for v in reg.versions("shared").unwrap() {
            assert_eq!(v.metadata.version, v.version, "metadata matches its folder");
            assert!(v.path.join("model.safetensors").is_file());
        }
    }

    #[test]
    fn unknown_names_and_versions_are_typed_errors() {
        let root = tempfile::tempdir().unwrap();
        let reg = Registry::new(root.path());
        let e = reg.resolve_str("models:/nope/latest").unwrap_err();
        assert!(matches!(e, RegistryError::UnknownName { .. }), "{e}");
        assert!(e.to_string().contains("holds no models"), "{e}");
        let m = model_dir("m");
        reg.register("yes", m.path(), BTreeMap::new()).unwrap();
        let e = reg.resolve_str("models:/nope/1").unwrap_err();
        assert!(e.to_string().contains("registered: yes"), "{e}");
        let e = reg.resolve_str("models:/yes/5").unwrap_err();
        assert!(
            matches!(e, RegistryError::UnknownVersion { version: 5, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("versions: 1"), "{e}");
        let e = reg
            .register("yes", &root.path().join("missing"), BTreeMap::new())
            .unwrap_err();
        assert!(matches!(e, RegistryError::SourceNotFound(_)), "{e}");
        for bad in ["", ".hidden", "a/b", "a b", "ü"] {
            let e = reg.register(bad, m.path(), BTreeMap::new()).unwrap_err();
            assert!(
                matches!(e, RegistryError::InvalidName { .. }),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_865_999), "2026-11-28T11:39:59Z");
    }
}
