//! Atomic folder output: a new folder written beside the target and swapped in whole.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{FsError, Result};
use crate::file::{parent_of, sync_dir, write_file};
use crate::lock::OutputLock;
use crate::stale;

/// What to do when the output folder holds entries that bertopic did not write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirPolicy {
    /// Refuse with [`FsError::ForeignEntries`] (the default).
    #[default]
    OursOnly,
    /// Write our files into the folder beside the other entries, each file atomically; the other
    /// entries are never moved, changed or removed.
    AllowOtherFiles,
}

enum Mode {
    /// A fresh folder `staging` replaces (or becomes) the target at commit.
    Swap { staging: PathBuf, existed: bool },
    /// Files go straight into the existing folder, one atomic file at a time: an empty folder
    /// (kept as the user made it, permissions and owner included) or one with other entries.
    InPlace,
}

/// A folder output in progress. Holds the output's lock from [`begin`](Self::begin) until it is
/// dropped, so call `begin` before the expensive work: a bad or busy output fails at once.
pub struct DirWriter {
    target: PathBuf,
    parent: PathBuf,
    owned: Vec<String>,
    mode: Mode,
    committed: bool,
    _lock: OutputLock,
}

impl DirWriter {
    /// Starts writing folder `dir`, whose files will be among `owned` (the names our writers
    /// produce there). An existing folder is replaced only if every entry in it is in `owned`;
    /// other entries follow `policy`. A symbolic link or a non-folder at `dir` is refused.
    pub fn begin(dir: &Path, owned: &[&str], policy: DirPolicy) -> Result<DirWriter> {
        let (parent, name) = split(dir)?;
        fs::create_dir_all(&parent).map_err(|e| FsError::io(&parent, e))?;
        let lock = OutputLock::acquire(dir, &parent, &name)?;
        stale::clean_stale(&parent, &name);
        let owned: Vec<String> = owned.iter().map(|s| s.to_string()).collect();
        let mode = match fs::symlink_metadata(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Mode::Swap {
                staging: PathBuf::new(),
                existed: false,
            },
            Err(e) => return Err(FsError::io(dir, e)),
            Ok(m) if m.file_type().is_symlink() => {
                return Err(FsError::Symlink {
                    path: dir.to_path_buf(),
                    target: fs::read_link(dir).unwrap_or_default(),
                })
            }
            Ok(m) if !m.is_dir() => {
                return Err(FsError::NotAFolder {
                    path: dir.to_path_buf(),
                })
            }
            Ok(_) => {
                let (ours, foreign) = classify(dir, &owned)?;
                if !foreign.is_empty() && policy == DirPolicy::OursOnly {
                    return Err(foreign_error(dir, foreign));
                }
                if ours.is_empty() || !foreign.is_empty() {
                    probe_writable(dir)?;
                    Mode::InPlace
                } else {
                    Mode::Swap {
                        staging: PathBuf::new(),
                        existed: true,
                    }
                }
            }
        };
        let mode = match mode {
            Mode::Swap { existed, .. } => {
                let staging = parent.join(stale::temp_name(&name));
                fs::create_dir(&staging).map_err(|e| FsError::io(&staging, e))?;
                if existed {
                    // The new folder takes the old one's permissions.
                    if let Ok(m) = fs::metadata(dir) {
                        let _ = fs::set_permissions(&staging, m.permissions());
                    }
                }
                Mode::Swap { staging, existed }
            }
            m => m,
        };
        Ok(DirWriter {
            target: dir.to_path_buf(),
            parent,
            owned,
            mode,
            committed: false,
            _lock: lock,
        })
    }

    /// The folder being written.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Where a file named `name` is being written now (inside the staging folder until
    /// [`commit`](Self::commit)).
    pub fn path_of(&self, name: &str) -> PathBuf {
        match &self.mode {
            Mode::Swap { staging, .. } => staging.join(name),
            Mode::InPlace => self.target.join(name),
        }
    }

    /// Writes (or rewrites) file `name` atomically. `name` must be one of the owned names.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        if !self.owned.iter().any(|o| o == name) || name.contains(['/', '\\']) {
            return Err(FsError::NotRegularFile {
                path: self.target.join(name),
                kind: "not one of the files this output may hold",
            });
        }
        write_file(&self.path_of(name), bytes)
    }

    /// Puts the folder in place. Readers see the old folder or the new one, never a mix; on
    /// Linux the swap is one `renameat2(RENAME_EXCHANGE)`.
    pub fn commit(mut self) -> Result<()> {
        self.committed = true;
        let Mode::Swap { staging, existed } = &self.mode else {
            sync_dir(&self.target);
            return Ok(());
        };
        let staging = staging.clone();
        if *existed {
            // Somebody may have put a file into the folder while we worked: then move our
            // files in one by one instead and leave theirs alone.
            let (_, foreign) = classify(&self.target, &self.owned)?;
            if !foreign.is_empty() {
                for entry in fs::read_dir(&staging).map_err(|e| FsError::io(&staging, e))? {
                    let entry = entry.map_err(|e| FsError::io(&staging, e))?;
                    let dst = self.target.join(entry.file_name());
                    fs::rename(entry.path(), &dst).map_err(|e| FsError::io(&dst, e))?;
                }
                let _ = fs::remove_dir_all(&staging);
                sync_dir(&self.target);
                return Ok(());
            }
            exchange(&staging, &self.target)?;
            // `staging` now holds the previous model, all of it ours.
            let _ = fs::remove_dir_all(&staging);
        } else {
            fs::rename(&staging, &self.target).map_err(|e| FsError::io(&self.target, e))?;
        }
        sync_dir(&self.parent);
        Ok(())
    }
}

impl Drop for DirWriter {
    fn drop(&mut self) {
        if let (false, Mode::Swap { staging, .. }) = (self.committed, &self.mode) {
            let _ = fs::remove_dir_all(staging);
        }
    }
}

/// A hidden temporary folder in `parent`, for a writer that renames it into place itself (the
/// registry claims version numbers that way). Removed when dropped unless [`keep`](Self::keep)
/// was called; left-overs of dead processes are removed when the next one is made.
pub struct StagingDir {
    path: PathBuf,
    keep: bool,
}

impl StagingDir {
    /// Creates `parent/.{name}.bertopic-tmp-{pid}-{n}` (and `parent` if needed).
    pub fn new(parent: &Path, name: &str) -> Result<StagingDir> {
        fs::create_dir_all(parent).map_err(|e| FsError::io(parent, e))?;
        stale::clean_stale(parent, name);
        let path = parent.join(stale::temp_name(name));
        fs::create_dir(&path).map_err(|e| FsError::io(&path, e))?;
        Ok(StagingDir { path, keep: false })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the removal on drop (call after renaming the folder away).
    pub fn keep(mut self) -> PathBuf {
        self.keep = true;
        self.path.clone()
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// The folder's parent and name; `.`, `..` and paths ending in them are resolved first.
fn split(dir: &Path) -> Result<(PathBuf, String)> {
    let plain = dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| *n != "." && *n != "..");
    if let Some(name) = plain {
        return Ok((parent_of(dir), name.to_string()));
    }
    let abs = fs::canonicalize(dir).map_err(|e| FsError::io(dir, e))?;
    match (abs.parent(), abs.file_name().and_then(|n| n.to_str())) {
        (Some(p), Some(n)) => Ok((p.to_path_buf(), n.to_string())),
        _ => Err(FsError::NotAFolder {
            path: dir.to_path_buf(),
        }),
    }
}

/// Entries of `dir` split into ours (in `owned`) and foreign; our temporary entries are neither.
fn classify(dir: &Path, owned: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    let mut ours = Vec::new();
    let mut foreign = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| FsError::io(dir, e))? {
        let entry = entry.map_err(|e| FsError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if stale::is_ours_internal(&name) {
            continue;
        }
        let regular = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if regular && owned.contains(&name) {
            ours.push(name);
        } else {
            foreign.push(name);
        }
    }
    foreign.sort();
    Ok((ours, foreign))
}

fn foreign_error(dir: &Path, foreign: Vec<String>) -> FsError {
    let more = foreign.len().saturating_sub(10);
    FsError::ForeignEntries {
        dir: dir.to_path_buf(),
        entries: foreign.into_iter().take(10).collect(),
        more,
    }
}

/// Fails now, not after the work, when files cannot be created in `dir`.
fn probe_writable(dir: &Path) -> Result<()> {
    let probe = dir.join(stale::temp_name("probe"));
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| FsError::io(dir, e))?;
    let _ = fs::remove_file(&probe);
    Ok(())
}

/// Swaps two folders atomically where the kernel can; elsewhere in two renames.
fn exchange(a: &Path, b: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let ca = CString::new(a.as_os_str().as_bytes()).map_err(|e| FsError::io(a, e.into()))?;
        let cb = CString::new(b.as_os_str().as_bytes()).map_err(|e| FsError::io(b, e.into()))?;
        // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        // Old kernels and some file systems lack the exchange: fall through to two renames.
        if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
            return Err(FsError::io(b, e));
        }
    }
    let parent = parent_of(b);
    let name = b
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let old = parent.join(stale::temp_name(&name));
    fs::rename(b, &old).map_err(|e| FsError::io(b, e))?;
    if let Err(e) = fs::rename(a, b) {
        // Put the old folder back rather than leave nothing.
        let _ = fs::rename(&old, b);
        return Err(FsError::io(b, e));
    }
    fs::rename(&old, a).map_err(|e| FsError::io(a, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNED: &[&str] = &["model.json", "topics.csv"];

    fn write_model(dir: &Path, body: &[u8]) -> Result<()> {
        let w = DirWriter::begin(dir, OWNED, DirPolicy::OursOnly)?;
        w.write("model.json", body)?;
        w.write("topics.csv", body)?;
        w.commit()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn new_then_replaced_whole() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("m");
        write_model(&m, b"1").unwrap();
        write_model(&m, b"2").unwrap();
        assert_eq!(fs::read(m.join("model.json")).unwrap(), b"2");
        assert_eq!(
            names(d.path()),
            vec!["m"],
            "no staging, lock or old folder left"
        );
    }

    #[test]
    fn foreign_entries_refused_and_untouched() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("m");
        fs::create_dir(&m).unwrap();
        fs::write(m.join("notes.txt"), b"mine").unwrap();
        fs::create_dir(m.join(".git")).unwrap();
        match write_model(&m, b"1") {
            Err(FsError::ForeignEntries { entries, .. }) => {
                assert_eq!(entries, vec![".git", "notes.txt"])
            }
            _ => panic!("must refuse"),
        }
        assert_eq!(names(&m), vec![".git", "notes.txt"]);
        assert_eq!(names(d.path()), vec!["m"]);
        // Allowed explicitly: ours go beside theirs.
        let w = DirWriter::begin(&m, OWNED, DirPolicy::AllowOtherFiles).unwrap();
        w.write("model.json", b"1").unwrap();
        w.commit().unwrap();
        assert_eq!(names(&m), vec![".git", "model.json", "notes.txt"]);
    }

    #[test]
    fn dot_resolves_to_the_folder() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("notes.txt"), b"mine").unwrap();
        let dot = d.path().join(".");
        assert!(matches!(
            write_model(&dot, b"1"),
            Err(FsError::ForeignEntries { .. })
        ));
        assert_eq!(names(d.path()), vec!["notes.txt"]);
    }

    #[test]
    fn busy_output_fails_fast() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("m");
        let _w = DirWriter::begin(&m, OWNED, DirPolicy::OursOnly).unwrap();
        assert!(matches!(
            DirWriter::begin(&m, OWNED, DirPolicy::OursOnly),
            Err(FsError::Locked { .. })
        ));
    }

    #[test]
    fn abandoned_write_leaves_old_model() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("m");
        write_model(&m, b"1").unwrap();
        {
            let w = DirWriter::begin(&m, OWNED, DirPolicy::OursOnly).unwrap();
            w.write("model.json", b"2").unwrap();
        }
        assert_eq!(fs::read(m.join("model.json")).unwrap(), b"1");
        assert_eq!(names(d.path()), vec!["m"]);
    }

    #[cfg(unix)]
    #[test]
    fn empty_existing_folder_is_kept_and_links_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("m");
        fs::create_dir(&m).unwrap();
        fs::set_permissions(&m, fs::Permissions::from_mode(0o750)).unwrap();
        write_model(&m, b"1").unwrap();
        assert_eq!(
            fs::metadata(&m).unwrap().permissions().mode() & 0o777,
            0o750
        );
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&m, &link).unwrap();
        assert!(matches!(
            write_model(&link, b"2"),
            Err(FsError::Symlink { .. })
        ));
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(m.join("model.json")).unwrap(), b"1");
    }
}
