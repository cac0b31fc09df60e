//! Where the workspace is, found at run time.
//!
//! A path compiled in with `env!("CARGO_MANIFEST_DIR")` would make a binary built in one
//! checkout read and write that checkout when run in another (a shared target directory,
//! a copied tree). So, as rust-analyzer's xtask does, the root is looked up when the task
//! runs: `--root` if given; else the `CARGO_MANIFEST_DIR` that `cargo run` (and so
//! `cargo xtask`) sets for the process; else the current directory. From the latter two
//! the root is the nearest directory, going up, whose `Cargo.toml` declares a
//! `[workspace]`.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The environment variable `cargo run` sets to the manifest directory of the package it
/// runs (here `<root>/xtask`).
pub(crate) const MANIFEST_DIR_VAR: &str = "CARGO_MANIFEST_DIR";

/// The workspace root: `explicit` (`--root`) as given; otherwise the nearest directory at
/// or above `manifest_dir` (the run-time `CARGO_MANIFEST_DIR`), or if that is unset or
/// empty, above `current_dir`, whose `Cargo.toml` has a `[workspace]` table.
///
/// # Errors
/// [`Error::Usage`] naming the directory searched from when no workspace manifest is
/// found there or above; [`Error::Io`] when a `Cargo.toml` on the way cannot be read.
pub(crate) fn find(
    explicit: Option<PathBuf>,
    manifest_dir: Option<OsString>,
    current_dir: &Path,
) -> Result<PathBuf, Error> {
    if let Some(root) = explicit {
        return Ok(root);
    }
    let start = manifest_dir
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_relative() {
                current_dir.join(dir)
            } else {
                dir
            }
        })
        .unwrap_or_else(|| current_dir.to_owned());
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        match fs::read_to_string(&manifest) {
            Ok(text) if declares_workspace(&text) => return Ok(dir.to_owned()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&manifest, e)),
        }
    }
    Err(Error::Usage(format!(
        "no Cargo.toml with a [workspace] table in {} or above: run cargo xtask inside the \
         attend-rs workspace, or pass --root",
        start.display()
    )))
}

/// Whether a manifest has a `[workspace]` table (or one of its sub-tables, which implies
/// it). Looks at table headers only: a `workspace = true` key is a member's, not a root's.
fn declares_workspace(manifest: &str) -> bool {
    manifest.lines().any(|line| {
        let line = line.trim_start();
        line.strip_prefix('[')
            .map(|rest| rest.trim_start())
            .is_some_and(|rest| {
                rest.strip_prefix("workspace")
                    .is_some_and(|after| after.trim_start().starts_with([']', '.']))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `<tmp>/ws/Cargo.toml` (a workspace) and `<tmp>/ws/member/Cargo.toml` (a member).
    fn layout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        fs::create_dir_all(ws.join("member/src")).unwrap();
        fs::write(
            ws.join("Cargo.toml"),
            "# comment\n[workspace]\nmembers = [\"member\"]\n",
        )
        .unwrap();
        fs::write(
            ws.join("member/Cargo.toml"),
            "[package]\nname = \"member\"\n[dependencies]\nx = { workspace = true }\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn explicit_root_wins_without_looking() {
        let dir = layout();
        let elsewhere = dir.path().join("nowhere");
        let root = find(
            Some(elsewhere.clone()),
            Some(dir.path().join("ws/member").into()),
            dir.path(),
        )
        .unwrap();
        assert_eq!(root, elsewhere);
    }

    #[test]
    fn run_time_manifest_dir_leads_to_its_workspace() {
        let dir = layout();
        let root = find(None, Some(dir.path().join("ws/member").into()), dir.path()).unwrap();
        assert_eq!(root, dir.path().join("ws"));
        // Relative to the current directory.
        let root = find(None, Some("ws/member".into()), dir.path()).unwrap();
        assert_eq!(root, dir.path().join("ws"));
    }

    #[test]
    fn without_manifest_dir_the_current_directory_is_searched() {
        let dir = layout();
        let deep = dir.path().join("ws/member/src");
        assert_eq!(find(None, None, &deep).unwrap(), dir.path().join("ws"));
        assert_eq!(
            find(None, Some(OsString::new()), &deep).unwrap(),
            dir.path().join("ws")
        );
    }

    #[test]
    fn outside_any_workspace_is_a_usage_error_naming_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        let err = find(None, None, dir.path()).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(&*dir.path().to_string_lossy()) && message.contains("--root"),
            "{message}"
        );
    }

    #[test]
    fn workspace_tables_are_recognised_by_their_headers() {
        assert!(declares_workspace("[workspace]\n"));
        assert!(declares_workspace("  [ workspace ]\n"));
        assert!(declares_workspace("[workspace.package]\nversion = \"1\"\n"));
        assert!(!declares_workspace("[package]\nname = \"w\"\n"));
        assert!(!declares_workspace(
            "[dependencies]\nx = { workspace = true }\n"
        ));
        assert!(!declares_workspace("[workspaces]\n"));
        assert!(!declares_workspace("# [workspace]\n"));
    }

    #[test]
    fn this_checkout_is_found_from_the_xtask_directory() {
        let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = find(None, Some(xtask_dir.into()), Path::new("/")).unwrap();
        assert!(root.join("xtask/Cargo.toml").is_file());
        assert!(root.join("schemas").is_dir());
    }
}
