//! Names of our temporary entries and the removal of those whose writer is gone.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Marks every temporary entry we create; nothing else carries it.
pub(crate) const TMP_TAG: &str = ".bertopic-tmp-";
pub(crate) const LOCK_TAG: &str = ".bertopic-lock";

static SEQ: AtomicU64 = AtomicU64::new(0);

/// `.{name}.bertopic-tmp-{pid}-{seq}`: hidden, unique within the process, and carrying the pid
/// so a later run can tell whether its writer is still alive.
pub(crate) fn temp_name(name: &str) -> String {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    format!(".{name}{TMP_TAG}{}-{seq}", std::process::id())
}

/// Whether `entry` is a temporary or lock entry that this crate makes.
pub(crate) fn is_ours_internal(entry: &str) -> bool {
    entry.starts_with('.') && (entry.contains(TMP_TAG) || entry.ends_with(LOCK_TAG))
}

/// The pid in a temporary entry's name made for `name`, if it is one.
fn temp_pid(entry: &str, name: &str) -> Option<u32> {
    let rest = entry
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix(TMP_TAG)?;
    rest.split('-').next()?.parse().ok()
}

/// Whether process `pid` exists. Unknown platforms answer "alive", so nothing is removed.
pub(crate) fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Removes temporary entries for `name` in `dir` left by processes that no longer exist
/// (a killed or crashed writer). Best effort: a failure leaves the entry for the next run.
pub(crate) fn clean_stale(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(entry_name) = file_name.to_str() else {
            continue;
        };
        let Some(pid) = temp_pid(entry_name, name) else {
            continue;
        };
        if alive(pid) {
            continue;
        }
        let path = entry.path();
        let is_dir = fs::symlink_metadata(&path)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        let _ = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_carry_the_pid() {
        let t = temp_name("model");
        assert_eq!(temp_pid(&t, "model"), Some(std::process::id()));
        assert_eq!(temp_pid(&t, "mode"), None);
        assert!(is_ours_internal(&t));
        assert!(!is_ours_internal("model.json"));
        assert!(is_ours_internal(".model.bertopic-lock"));
    }

    #[test]
    fn stale_entries_of_dead_processes_go() {
        let d = tempfile::tempdir().unwrap();
        // pid 0x7fff_fff0 does not exist on any ordinary system.
        let dead = d.path().join(format!(".m{TMP_TAG}{}-0", 0x7fff_fff0u32));
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join("model.json"), b"x").unwrap();
        let live = d.path().join(temp_name("m"));
        fs::write(&live, b"x").unwrap();
        let other = d.path().join("notes.txt");
        fs::write(&other, b"x").unwrap();
        clean_stale(d.path(), "m");
        assert!(!dead.exists());
        assert!(live.exists());
        assert!(other.exists());
    }
}
