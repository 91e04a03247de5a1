//! Everything the binary prints: messages on standard error, results on standard output, and
//! the final error report. Writing to a closed pipe ends the program quietly (like other Unix
//! tools); a full disk is an error, never a panic.

use std::io::{self, Write};

/// Result of a command.
pub(crate) type CliResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Message verbosity from the global flags.
#[derive(Clone, Copy)]
pub(crate) struct Out {
    pub(crate) quiet: bool,
    pub(crate) verbose: bool,
}

impl Out {
    /// A progress or summary line (hidden by --quiet).
    pub(crate) fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln_safe(msg.as_ref());
        }
    }

    /// A detail line (only with --verbose).
    pub(crate) fn detail(&self, msg: impl AsRef<str>) {
        if self.verbose && !self.quiet {
            eprintln_safe(msg.as_ref());
        }
    }
}

/// Standard output could not be written.
#[derive(Debug)]
pub(crate) struct StdoutError(io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

/// Writes `bytes` to standard output.
pub(crate) fn stdout(bytes: &[u8]) -> CliResult {
    let mut o = io::stdout().lock();
    o.write_all(bytes)
        .and_then(|()| o.flush())
        .map_err(|e| Box::new(StdoutError(e)) as Box<dyn std::error::Error>)
}

/// Standard output for streaming commands (JSON Lines out, batch by batch): remembers the
/// first failed write, so that a reader that closed the pipe ends the command quietly.
pub(crate) struct StdoutStream {
    out: io::Stdout,
    failed: Option<io::ErrorKind>,
}

impl StdoutStream {
    pub(crate) fn new() -> Self {
        StdoutStream {
            out: io::stdout(),
            failed: None,
        }
    }

    /// The command's result, with a failed write to standard output reported as a
    /// [`StdoutError`] (so a closed pipe exits 0, like `head` closing it).
    pub(crate) fn finish<T, E: std::error::Error + 'static>(self, r: Result<T, E>) -> CliResult<T> {
        match (r, self.failed) {
            (Ok(t), _) => Ok(t),
            (Err(_), Some(kind)) => Err(Box::new(StdoutError(io::Error::from(kind)))),
            (Err(e), None) => Err(Box::new(e)),
        }
    }
}

impl Write for StdoutStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf).inspect_err(|e| {
            self.failed.get_or_insert(e.kind());
        })
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush().inspect_err(|e| {
            self.failed.get_or_insert(e.kind());
        })
    }
}

/// Writes `text` and a newline to standard output.
pub(crate) fn println(text: &str) -> CliResult {
    let mut s = String::with_capacity(text.len() + 1);
    s.push_str(text);
    s.push('\n');
    stdout(s.as_bytes())
}

/// A warning on standard error (shown even with --quiet).
pub(crate) fn warn(msg: impl AsRef<str>) {
    eprintln_safe(&format!("warning: {}", msg.as_ref()));
}

/// `eprintln!` panics when standard error is gone; a lost message must not crash the job.
fn eprintln_safe(msg: &str) {
    let mut e = io::stderr().lock();
    let _ = writeln!(e, "{msg}");
}

/// Reports a command's error on standard error and returns the exit code: 0 for a closed
/// standard output (the reader has all it wanted), 1 otherwise.
pub(crate) fn report(err: &(dyn std::error::Error + 'static)) -> u8 {
    if let Some(StdoutError(e)) = err.downcast_ref::<StdoutError>() {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return 0;
        }
    }
    eprintln_safe(&format!("error: {err}"));
    let mut src = err.source();
    while let Some(s) = src {
        eprintln_safe(&format!("  caused by: {s}"));
        src = s.source();
    }
    if let Some(hint) = hint(err) {
        eprintln_safe(&format!("hint: {hint}"));
    }
    1
}

/// Flags that resolve an error, where the library's message cannot know them.
fn hint(err: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    use bertopic::fs::FsError;
    let fs = match err.downcast_ref::<bertopic::BertopicError>() {
        Some(bertopic::BertopicError::Output(e)) => Some(e),
        _ => err.downcast_ref::<FsError>(),
    }?;
    match fs {
        FsError::ForeignEntries { .. } => Some(
            "pass --allow-other-files to write the model beside those files (they stay untouched), or choose another --output",
        ),
        _ => None,
    }
}
