//! Finding the `apparmor_parser` binary: `PATH` first, then `/sbin` and `/usr/sbin`,
//! which a non-root `PATH` often lacks; a missing parser is an error naming where we
//! looked.
//!
//! Order: every directory of `PATH`, then `/sbin`, then `/usr/sbin`. A caller with a
//! configured path uses it as is ([`crate::loader::Parser::new`]); a missing parser is
//! [`LoaderError::ParserNotFound`] listing every place that was tried.

use super::LoaderError;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The parser's file name.
pub const PARSER_NAME: &str = "apparmor_parser";

/// Directories searched after `PATH`, in order.
pub const STANDARD_DIRS: [&str; 2] = ["/sbin", "/usr/sbin"];

/// Finds `apparmor_parser` in the directories of `path_var` (a `PATH`-style,
/// colon-separated list; `None` or empty entries are skipped), then in
/// [`STANDARD_DIRS`]. A candidate must be a regular file (after following
/// symlinks) with an execute bit.
///
/// # Errors
/// [`LoaderError::ParserNotFound`] with every directory that was searched.
pub fn find_parser(path_var: Option<&OsStr>) -> Result<PathBuf, LoaderError> {
    let standard: Vec<&Path> = STANDARD_DIRS.iter().map(Path::new).collect();
    find_parser_in(path_var, &standard)
}

/// Like [`find_parser`] with other fallback directories than [`STANDARD_DIRS`].
///
/// # Errors
/// [`LoaderError::ParserNotFound`] with every directory that was searched.
pub fn find_parser_in(
    path_var: Option<&OsStr>,
    fallback: &[&Path],
) -> Result<PathBuf, LoaderError> {
    let mut searched: Vec<PathBuf> = Vec::new();
    let from_path = path_var
        .map(|p| std::env::split_paths(p).collect::<Vec<_>>())
        .unwrap_or_default();
    let dirs = from_path
        .into_iter()
        .filter(|d| !d.as_os_str().is_empty())
        .chain(fallback.iter().map(|p| p.to_path_buf()));
    for dir in dirs {
        if searched.contains(&dir) {
            continue;
        }
        let candidate = dir.join(PARSER_NAME);
        searched.push(dir);
        if is_executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(LoaderError::ParserNotFound { searched })
}

/// Finds the parser using this process's `PATH` (see [`find_parser`]).
///
/// # Errors
/// [`LoaderError::ParserNotFound`].
pub fn find_parser_from_env() -> Result<PathBuf, LoaderError> {
    find_parser(std::env::var_os("PATH").as_deref())
}

/// True when `p` is a regular file (symlinks followed) with any execute bit.
pub fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parser_names_every_directory() {
        // H-01 / G-10: no parser anywhere → the error lists PATH, then the fallbacks.
        let dir = tempfile::tempdir().unwrap();
        let path = std::env::join_paths([dir.path(), Path::new(""), Path::new("/nonexistent-aa")])
            .unwrap();
        let e = find_parser_in(Some(&path), &[Path::new("/nonexistent-sbin")]).unwrap_err();
        let LoaderError::ParserNotFound { searched } = &e else {
            panic!("{e}")
        };
        assert_eq!(
            searched,
            &[
                dir.path().to_path_buf(),
                PathBuf::from("/nonexistent-aa"),
                PathBuf::from("/nonexistent-sbin")
            ]
        );
        assert_eq!(
            e.to_string(),
            format!(
                "apparmor_parser not found (looked in: {}, /nonexistent-aa, /nonexistent-sbin); install the apparmor package or give its path",
                dir.path().display()
            )
        );
        // With the real fallbacks, the standard directories are searched after PATH.
        if let Err(LoaderError::ParserNotFound { searched }) = find_parser(Some(&path)) {
            assert_eq!(
                searched[2..],
                [PathBuf::from("/sbin"), PathBuf::from("/usr/sbin")]
            );
        }
    }

    #[test]
    fn path_comes_first_and_needs_exec_bit() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join(PARSER_NAME);
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o644)).unwrap();
        let found = find_parser(Some(dir.path().as_os_str()));
        assert_ne!(found.as_deref().ok(), Some(fake.as_path()));
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_parser(Some(dir.path().as_os_str())).unwrap(), fake);
    }
}
