//! One writer per output: an advisory lock file beside the output.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{FsError, Result};
use crate::stale::LOCK_TAG;

/// Exclusive right to write one output, held until dropped. The lock is the kernel's
/// (`flock`), so a killed holder releases it; the lock file is removed on release.
pub struct OutputLock {
    path: PathBuf,
    file: Option<File>,
}

impl OutputLock {
    /// Locks `target` (a file or folder path; it need not exist) or fails at once with
    /// [`FsError::Locked`] naming the holder.
    pub fn acquire(target: &Path, parent: &Path, name: &str) -> Result<OutputLock> {
        let path = parent.join(format!(".{name}{LOCK_TAG}"));
        // The holder unlinks the file before unlocking, so a lock taken on an unlinked file
        // is worthless: retry until the locked file is the one at `path`.
        for _ in 0..100 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| FsError::io(&path, e))?;
            match try_lock(&file) {
                Ok(true) => {}
                Ok(false) => {
                    let mut s = String::new();
                    let _ = file.read_to_string(&mut s);
                    return Err(FsError::Locked {
                        path: target.to_path_buf(),
                        holder: s.trim().parse().ok(),
                    });
                }
                Err(e) => return Err(FsError::io(&path, e)),
            }
            if same_inode(&file, &path) {
                let _ = file.set_len(0);
                let _ = file.rewind();
                let _ = write!(file, "{}", std::process::id());
                return Ok(OutputLock {
                    path,
                    file: Some(file),
                });
            }
        }
        Err(FsError::Locked {
            path: target.to_path_buf(),
            holder: None,
        })
    }
}

/// Non-blocking exclusive `flock`: `Ok(false)` when another open file holds it. (`File::try_lock`
/// would do, but needs Rust 1.89.)
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: the descriptor belongs to `file`, which is open for the whole call.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

#[cfg(not(unix))]
fn try_lock(_: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(unix)]
fn same_inode(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Unlink while still holding the lock (see `acquire`), then unlock by closing.
        let _ = fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_fails_fast_and_the_file_goes() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("out");
        let a = OutputLock::acquire(&target, d.path(), "out").unwrap();
        match OutputLock::acquire(&target, d.path(), "out") {
            Err(FsError::Locked { holder, .. }) => assert_eq!(holder, Some(std::process::id())),
            _ => panic!("second lock must fail"),
        }
        drop(a);
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
        let _b = OutputLock::acquire(&target, d.path(), "out").unwrap();
    }
}
