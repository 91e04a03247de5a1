//! bertopic-fs: the one place where bertopic writes files.
//!
//! Every writer in the workspace (saved models, CSV reports, `.npy` files, the embedding cache,
//! the model registry) goes through this crate, so the rules hold everywhere:
//!
//! - **Atomic**: a file is written to a uniquely named temporary sibling, synced and renamed over
//!   the target ([`write_file`], [`AtomicFile`]); a folder is written as a new sibling and swapped
//!   in by renaming *the folder* ([`DirWriter`]), never by moving a user's entries around.
//! - **Ours only**: a folder is replaced only when every entry in it is a file our writers make;
//!   otherwise the write is refused with the names of the other entries
//!   ([`FsError::ForeignEntries`]), unless the caller explicitly allows writing beside them
//!   ([`DirPolicy::AllowOtherFiles`]), which never touches those entries.
//! - **No surprises**: symlinks are not followed, devices, FIFOs and folders are not replaced by
//!   files, and an output that is one of the run's inputs is refused ([`check_output_file`]).
//! - **One writer per output**: a lock beside each output folder makes a concurrent writer fail
//!   fast ([`FsError::Locked`]).
//! - **Nothing left behind**: temporary files and folders carry the writing process's id and are
//!   removed on the next write when that process is gone.
//!
//! ```
//! use bertopic_fs::{write_file, DirPolicy, DirWriter};
//!
//! let root = tempfile::tempdir().unwrap();
//! write_file(&root.path().join("a.csv"), b"x,y\n1,2\n").unwrap();
//!
//! let model = root.path().join("model");
//! let w = DirWriter::begin(&model, &["model.json", "topics.csv"], DirPolicy::OursOnly).unwrap();
//! w.write("model.json", b"{}").unwrap();
//! w.write("topics.csv", b"Topic\n0\n").unwrap();
//! w.commit().unwrap();
//! assert_eq!(std::fs::read(model.join("model.json")).unwrap(), b"{}");
//!
//! // A folder holding somebody else's file is not replaced.
//! std::fs::write(model.join("notes.txt"), b"mine").unwrap();
//! let err = DirWriter::begin(&model, &["model.json", "topics.csv"], DirPolicy::OursOnly);
//! assert!(matches!(err, Err(bertopic_fs::FsError::ForeignEntries { .. })));
//! ```
#![warn(missing_docs)]

mod append;
mod digest;
mod dir;
mod error;
mod file;
mod lock;
pub mod npy;
mod stale;

pub use append::append_line;
pub use digest::hex;
pub use dir::{DirPolicy, DirWriter, StagingDir};
pub use error::{FsError, Result};
pub use file::{check_output_file, same_file, write_file, AtomicFile};
pub use lock::OutputLock;
