//! Atomic single-file output.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{FsError, Result};
use crate::stale;

/// Checks that `path` may be written as an output file: absent or a regular file, not a
/// symbolic link, and not one of `inputs`. Call it before expensive work so a bad output path
/// fails at once; [`AtomicFile::create`] checks it again.
pub fn check_output_file(path: &Path, inputs: &[&Path]) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(FsError::io(path, e)),
        Ok(m) => {
            let ft = m.file_type();
            if ft.is_symlink() {
                return Err(FsError::Symlink {
                    path: path.to_path_buf(),
                    target: fs::read_link(path).unwrap_or_default(),
                });
            }
            if !ft.is_file() {
                return Err(FsError::NotRegularFile {
                    path: path.to_path_buf(),
                    kind: kind_of(&ft),
                });
            }
        }
    }
    for input in inputs {
        if same_file(path, input) {
            return Err(FsError::SameAsInput {
                output: path.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
    }
    Ok(())
}

fn kind_of(ft: &fs::FileType) -> &'static str {
    if ft.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Whether `a` and `b` name the same existing file (after links), by device and inode where
/// the platform has them.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        ma.dev() == mb.dev() && ma.ino() == mb.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (ma, mb);
        matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

/// Writes `bytes` to `path` atomically: readers see the old file or the new one, never a part.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes).map_err(|e| FsError::io(path, e))?;
    f.commit()
}

/// A file being written: a hidden temporary sibling of the target, renamed over it by
/// [`commit`](Self::commit) and removed if dropped before that.
pub struct AtomicFile {
    target: PathBuf,
    tmp: PathBuf,
    file: Option<io::BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path` (see [`check_output_file`]; parent folders are created). New files
    /// get the usual mode (0666 less the umask); a replaced file keeps its permissions.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        check_output_file(path, &[])?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| FsError::NotRegularFile {
                path: path.to_path_buf(),
                kind: "not a file name",
            })?
            .to_string();
        let dir = parent_of(path);
        fs::create_dir_all(&dir).map_err(|e| FsError::io(&dir, e))?;
        stale::clean_stale(&dir, &name);
        let tmp = dir.join(stale::temp_name(&name));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| FsError::io(&tmp, e))?;
        if let Ok(m) = fs::metadata(path) {
            let _ = fs::set_permissions(&tmp, m.permissions());
        }
        Ok(AtomicFile {
            target: path.to_path_buf(),
            tmp,
            file: Some(io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The path this file will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let Some(w) = self.file.take() else {
            return Ok(());
        };
        let file = w
            .into_inner()
            .map_err(|e| FsError::io(&self.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| FsError::io(&self.tmp, e))?;
        drop(file);
        // The target may have turned into something else while we wrote: check again.
        check_output_file(&self.target, &[])?;
        fs::rename(&self.tmp, &self.target).map_err(|e| FsError::io(&self.target, e))?;
        sync_dir(&parent_of(&self.target));
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("file already committed")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes a rename durable. Best effort: some file systems refuse to sync a folder.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/a.txt");
        write_file(&p, b"one").unwrap();
        write_file(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
    }

    #[test]
    fn dropped_file_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.txt");
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.write_all(b"partial").unwrap();
        }
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn refuses_links_folders_fifos_and_inputs() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.csv");
        fs::write(&real, b"data").unwrap();
        let link = d.path().join("link.csv");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(
            write_file(&link, b"x"),
            Err(FsError::Symlink { .. })
        ));
        assert!(matches!(
            write_file(d.path(), b"x"),
            Err(FsError::NotRegularFile { .. })
        ));
        assert!(matches!(
            write_file(Path::new("/dev/null"), b"x"),
            Err(FsError::NotRegularFile { .. })
        ));
        assert!(matches!(
            check_output_file(&real, &[&link]),
            Err(FsError::SameAsInput { .. })
        ));
        assert_eq!(fs::read(&real).unwrap(), b"data");
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions_of_replaced_file() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.txt");
        fs::write(&p, b"x").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_file(&p, b"y").unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }
}
