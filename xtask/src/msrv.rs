//! `cargo xtask msrv`: checks the workspace with the Rust it declares as its minimum
//! (`rust-version` in the root `Cargo.toml`), so the declaration cannot silently go stale.

use std::path::Path;
use std::process::Command;

/// Runs `cargo +<rust-version> check --workspace --locked` when that toolchain is installed;
/// otherwise fails saying so (nothing is downloaded: the check must not pass without running).
pub fn msrv(root: &Path) -> Result<(), String> {
    let manifest_path = root.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("cannot read {}: {e}", manifest_path.display()))?;
    let version = rust_version(&manifest).ok_or_else(|| {
        format!(
            "{} declares no `rust-version`: add it under [workspace.package]",
            manifest_path.display()
        )
    })?;
    let listed = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map_err(|e| {
            format!("cannot run `rustup toolchain list` ({e}): the MSRV check needs rustup")
        })?;
    let listed = String::from_utf8_lossy(&listed.stdout);
    if !listed.lines().any(|l| is_toolchain(l, &version)) {
        return Err(format!(
            "the MSRV check did not run: Rust {version} (the declared rust-version) is not \
             installed here. Install it with `rustup toolchain install {version} --profile \
             minimal`, then run `cargo xtask msrv` again"
        ));
    }
    // Its own target dir: another compiler shares no artifacts with the main builds.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("msrv");
    let mut cmd = Command::new("cargo");
    cmd.arg(format!("+{version}"))
        .args(["check", "--workspace", "--locked"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        // The outer `cargo xtask` may pin its own toolchain and compiler for children.
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("CARGO");
    eprintln!("xtask: {cmd:?}");
    match cmd.status() {
        Ok(s) if s.success() => {
            eprintln!("xtask: the workspace builds with Rust {version}, its declared rust-version");
            Ok(())
        }
        Ok(s) => Err(format!(
            "the workspace does not build with Rust {version}, its declared rust-version ({s}): \
             raise rust-version to the Rust it needs, or avoid the newer feature"
        )),
        Err(e) => Err(format!("cannot run {cmd:?}: {e}")),
    }
}

/// The `rust-version = "…"` of a manifest (the first one: the workspace's, in the root).
fn rust_version(manifest: &str) -> Option<String> {
    manifest.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        if key.trim() != "rust-version" {
            return None;
        }
        let v = value.trim().trim_matches('"');
        (!v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.')).then(|| v.to_string())
    })
}

/// Whether a `rustup toolchain list` line names the toolchain `version` (`1.94-x86_64-…`,
/// `1.94.0-x86_64-…`, with or without a `(default)` note).
fn is_toolchain(line: &str, version: &str) -> bool {
    let name = line.split_whitespace().next().unwrap_or("");
    let Some(rest) = name.strip_prefix(version) else {
        return false;
    };
    rest.starts_with('-')
        || (rest.starts_with('.') && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_workspace_rust_version() {
        let m = "[workspace.package]\nversion = \"0.1.0\"\nrust-version = \"1.94\"\n";
        assert_eq!(rust_version(m).as_deref(), Some("1.94"));
        // `rust-version.workspace = true` in a member is not a version.
        assert_eq!(rust_version("rust-version.workspace = true\n"), None);
    }

    #[test]
    fn matches_toolchain_names() {
        assert!(is_toolchain("1.94-x86_64-unknown-linux-gnu", "1.94"));
        assert!(is_toolchain(
            "1.94.0-x86_64-unknown-linux-gnu (default)",
            "1.94"
        ));
        assert!(!is_toolchain("1.95.0-x86_64-unknown-linux-gnu", "1.94"));
        assert!(!is_toolchain("1.940-x86_64-unknown-linux-gnu", "1.94"));
        assert!(!is_toolchain(
            "stable-x86_64-unknown-linux-gnu (active, default)",
            "1.94"
        ));
    }
}
