use std::path::{Path, PathBuf};

/// Result with [`FsError`].
pub type Result<T> = std::result::Result<T, FsError>;

/// Why an output could not be written. Every variant names the path and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    /// An operating-system error on `path`.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The output exists and is not a regular file (a folder, device, FIFO or socket).
    #[error("{path} is {kind}, not a regular file: bertopic only replaces regular files it can rewrite; choose a file path")]
    NotRegularFile {
        /// The output.
        path: PathBuf,
        /// What it is ("a folder", "a device", …).
        kind: &'static str,
    },
    /// The output folder exists and is not a folder.
    #[error("{path} exists and is not a folder: choose a new or empty folder for the output")]
    NotAFolder {
        /// The output.
        path: PathBuf,
    },
    /// The output is a symbolic link; bertopic does not write through links silently.
    #[error("{path} is a symbolic link to {target}: bertopic does not write through links; pass {target} itself")]
    Symlink {
        /// The link.
        path: PathBuf,
        /// Where it points.
        target: PathBuf,
    },
    /// The output is one of the run's inputs.
    #[error("{output} is the input {input}: writing it would destroy the input; choose another output path")]
    SameAsInput {
        /// The output path.
        output: PathBuf,
        /// The input it is the same file as.
        input: PathBuf,
    },
    /// The output folder holds entries that bertopic did not write.
    #[error("{dir} holds files bertopic did not write ({}): they are left untouched and nothing was written; choose a new or empty folder, or allow writing beside them", list_entries(.entries, *.more))]
    ForeignEntries {
        /// The output folder.
        dir: PathBuf,
        /// Up to ten of the other entries' names.
        entries: Vec<String>,
        /// How many more there are.
        more: usize,
    },
    /// Another process is writing the same output.
    #[error("{path} is being written by another bertopic process{}: wait for it to finish, or choose another output", holder.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked {
        /// The output.
        path: PathBuf,
        /// The process that holds the lock, when known.
        holder: Option<u32>,
    },
}

impl FsError {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        FsError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

fn list_entries(entries: &[String], more: usize) -> String {
    let mut s = entries.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}
