//! `aactl fmt [--check] [--diff] PATH…`: argv → [`crate::policy::format`] over files and
//! profile folders → rewritten files (atomic, under the edit lock) or diffs.

use super::{CliError, Exit};
use crate::cli::Io;
use crate::policy::format::format_str;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::path::{Path, PathBuf};

/// The clap definition of `aactl fmt`.
pub(super) fn command() -> Command {
    Command::new("fmt")
        .about("Format profile files: one rule per line, consistent indentation, comments kept")
        .long_about(
            "Format profile files and include fragments in place: one item per line, two \
             spaces of indentation per level, blanks inside a rule collapsed, `#include` \
             written `include`. Every comment and every group of blank lines is kept, and \
             nothing is reordered, so the formatted file compiles to the same policy. A \
             folder is formatted recursively (hidden files, package-manager leftovers, \
             symbolic links and the abi, cache, disable and force-complain folders are skipped). \
             A file with a syntax error is left alone and reported (exit 2). Files are \
             replaced atomically, under the same lock as the mode commands.",
        )
        .arg(
            Arg::new("check")
                .long("check")
                .action(ArgAction::SetTrue)
                .help("Write nothing; print the diff of each file that is not formatted and exit 1 if there is one"),
        )
        .arg(
            Arg::new("diff")
                .long("diff")
                .action(ArgAction::SetTrue)
                .help("Write nothing; print the diff of each file that is not formatted"),
        )
        .arg(
            Arg::new("paths")
                .value_name("PATH")
                .required(true)
                .num_args(1..)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Profile files or folders"),
        )
}

/// Folders of a profile directory that hold no policy text (`abi` holds feature ABIs).
const SKIPPED_DIRS: &[&str] = &["abi", "cache", "disable", "force-complain"];

/// The files under `path`: itself when it is a file (a symlink given by name is
/// followed), else its regular files recursively (symbolic links not followed), sorted.
fn collect(path: &Path, out: &mut Vec<PathBuf>, top: bool) -> std::io::Result<()> {
    let md = if top {
        std::fs::metadata(path)?
    } else {
        std::fs::symlink_metadata(path)?
    };
    if md.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    if !md.is_dir() {
        if top {
            // named on the command line: a FIFO or device is said, not skipped
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file or folder",
            ));
        }
        return Ok(());
    }
    let mut names: Vec<_> = std::fs::read_dir(path)?
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for n in names {
        let s = n.to_string_lossy();
        if crate::loader::is_skipped_name(&s) || SKIPPED_DIRS.contains(&s.as_ref()) {
            continue;
        }
        collect(&path.join(&n), out, false)?;
    }
    Ok(())
}

/// What happened to one file.
enum Outcome {
    Same,
    Changed,
    Failed,
}

/// Runs `aactl fmt`.
///
/// # Errors
/// A PATH cannot be read at all (missing); per-file problems are reported and give exit 2.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let check = m.get_flag("check");
    let write = !check && !m.get_flag("diff");
    let mut files = Vec::new();
    for p in m.get_many::<PathBuf>("paths").into_iter().flatten() {
        collect(p, &mut files, true).map_err(|e| {
            CliError(format!(
                "{}: {}",
                crate::escape::escape_str(&p.display().to_string()),
                crate::system::strerror(&e)
            ))
        })?;
    }
    let (mut changed, mut failed) = (0usize, 0usize);
    for f in &files {
        match one(f, write, io) {
            Outcome::Same => {}
            Outcome::Changed => changed += 1,
            Outcome::Failed => failed += 1,
        }
    }
    let _ = io.out.flush();
    if failed > 0 {
        return Ok(Exit::Error);
    }
    if check && changed > 0 {
        let _ = writeln!(
            io.err,
            "aactl: {changed} of {} {} not formatted",
            files.len(),
            if files.len() == 1 {
                "file is"
            } else {
                "files are"
            }
        );
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}

fn one(f: &Path, write: bool, io: &mut Io<'_>) -> Outcome {
    let shown = f.display().to_string();
    let fail = |io: &mut Io<'_>, why: String| {
        let _ = writeln!(
            io.err,
            "aactl: {}: {}; left as is",
            crate::escape::escape_str(&shown),
            crate::escape::escape_str(&why)
        );
        Outcome::Failed
    };
    let _lock = if write {
        match crate::system::edit::EditLock::acquire(&[f]) {
            Ok(l) => Some(l),
            Err(e) => return fail(io, crate::error::chain(&e)),
        }
    } else {
        None
    };
    let bytes = match crate::policy::read_policy_file(f) {
        Ok(b) => b,
        Err(e) => return fail(io, crate::system::strerror(&e)),
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return fail(io, "not UTF-8 text".into());
    };
    let out = match format_str(text) {
        Ok(o) => o,
        Err(e) => return fail(io, e.to_string()),
    };
    if out == text {
        return Outcome::Same;
    }
    if !write {
        for l in crate::policy::edit::unified_diff(&shown, &shown, text, &out).lines() {
            let _ = writeln!(io.out, "{}", crate::escape::escape_str(l));
        }
        return Outcome::Changed;
    }
    if let Err(e) = crate::system::edit::replace_if_unchanged(f, &bytes, out.as_bytes()) {
        return fail(io, crate::error::chain(&e));
    }
    let _ = writeln!(io.out, "formatted {}", crate::escape::escape_str(&shown));
    Outcome::Changed
}
