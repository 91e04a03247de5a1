//! Appending one line to a small log file (a JSON Lines history) safely.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{FsError, Result};
use crate::file::{parent_of, write_file};
use crate::lock::OutputLock;

/// How long [`append_line`] waits for another appender before giving up.
const WAIT: Duration = Duration::from_secs(10);

/// Appends `line` (a newline is added; it must not contain one) to the file at `path`, creating
/// it when missing. Under the output lock the file is read, extended and rewritten atomically
/// ([`write_file`]), so a reader sees the old lines or all of them plus the new one, a crash
/// never leaves half a line, and two concurrent appenders both land (the second waits up to
/// 10 s for the first, then fails with [`FsError::Locked`]). Meant for small logs: each
/// append rewrites the whole file.
///
/// ```
/// let d = tempfile::tempdir().unwrap();
/// let log = d.path().join("history.jsonl");
/// bertopic_fs::append_line(&log, r#"{"run":1}"#).unwrap();
/// bertopic_fs::append_line(&log, r#"{"run":2}"#).unwrap();
/// assert_eq!(std::fs::read_to_string(&log).unwrap(), "{\"run\":1}\n{\"run\":2}\n");
/// ```
pub fn append_line(path: &Path, line: &str) -> Result<()> {
    if line.contains('\n') {
        return Err(FsError::io(
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a line to append must not contain a newline",
            ),
        ));
    }
    let name =
        path.file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| FsError::NotRegularFile {
                path: path.to_path_buf(),
                kind: "not a file name",
            })?;
    let parent = parent_of(path);
    let start = Instant::now();
    let _lock = loop {
        match OutputLock::acquire(path, &parent, name) {
            Ok(l) => break l,
            Err(FsError::Locked { .. }) if start.elapsed() < WAIT => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    };
    let mut bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(FsError::io(path, e)),
    };
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    write_file(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_create_and_complete_a_torn_last_line() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("m.jsonl");
        fs::write(&log, "a").unwrap();
        append_line(&log, "b").unwrap();
        assert_eq!(fs::read_to_string(&log).unwrap(), "a\nb\n");
        assert!(append_line(&log, "c\nd").is_err());
        assert_eq!(fs::read_to_string(&log).unwrap(), "a\nb\n");
        // Nothing but the log is left in the folder (no lock, no temporary file).
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn concurrent_appenders_all_land() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("m.jsonl");
        std::thread::scope(|s| {
            for t in 0..4 {
                let log = &log;
                s.spawn(move || {
                    for i in 0..10 {
                        append_line(log, &format!("{t}-{i}")).unwrap();
                    }
                });
            }
        });
        assert_eq!(fs::read_to_string(&log).unwrap().lines().count(), 40);
    }
}
