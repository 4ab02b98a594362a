//! `aactl features`: argv → the kernel's (or a root's) feature set
//! ([`crate::system::System::features`]) → the ABI file text on stdout or in a file, or the
//! difference between two sets ([`crate::system::Features::diff`]).

use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::system::{Features, FeaturesDiff, System};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::path::{Path, PathBuf};

/// The clap definition of `aactl features`.
pub(super) fn command() -> Command {
    Command::new("features")
        .about("Print, write or compare kernel feature ABIs (the file apparmor_parser -M reads)")
        .long_about(
            "Print the running kernel's AppArmor feature set (or, with --root, a snapshot's) \
             in the features-file format that `apparmor_parser --features-file`/`-M` and \
             `aactl check --features` read; -w writes it to a file instead. With --diff A B, \
             compare two feature sets, each a features file, a features folder, or a root \
             (a snapshot or an unpacked bug-report bundle): lists the features B adds and \
             removes, and the values that changed; exit 1 when they differ, 0 when equal.",
        )
        .arg(
            Arg::new("write")
                .short('w')
                .long("write")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .conflicts_with("diff")
                .help("Write the feature ABI to FILE (replaced atomically) instead of standard output"),
        )
        .arg(
            Arg::new("diff")
                .long("diff")
                .value_names(["A", "B"])
                .num_args(2)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Compare two feature sets (files, features folders or roots): what B adds and removes"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .requires("diff")
                .help("With --diff: the difference as JSON {added, removed, changed}"),
        )
}

/// A feature set named on the command line: a root (holds `proc/` or `sys/`),
/// a features folder, or a features file.
fn load(p: &Path) -> Result<Features, CliError> {
    let shown = escape_str(&p.display().to_string()).into_owned();
    if p.join("sys").is_dir() || p.join("proc").is_dir() {
        let sys = System::with_root(p);
        return sys
            .features()
            .map_err(|e| CliError(format!("{shown}: {}", crate::error::chain(&e))));
    }
    // the error names the path itself
    Features::load(p).map_err(|e| CliError(crate::error::chain(&e)))
}

/// Runs `aactl features`.
///
/// # Errors
/// The feature set cannot be read (no securityfs, a malformed file) or FILE cannot be written.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    if let Some(mut ab) = m.get_many::<PathBuf>("diff") {
        let (Some(a), Some(b)) = (ab.next(), ab.next()) else {
            return Err(CliError("--diff needs two feature sets".into()));
        };
        let d = load(a)?.diff(&load(b)?);
        if m.get_flag("json") {
            super::render::write_json(io, &d)?;
        } else {
            let written = write_diff(io, &d);
            super::render::finish_output(io, written)?;
        }
        return Ok(if d.is_empty() {
            Exit::Success
        } else {
            Exit::Failure
        });
    }
    let sys = super::system(m);
    let f = sys
        .features()
        .map_err(|e| CliError(crate::error::chain(&e)))?;
    let text = f.to_abi_text();
    match m.get_one::<PathBuf>("write") {
        Some(path) => {
            // a link planted where the file goes (a shared folder) is not followed
            if std::fs::symlink_metadata(path).is_ok_and(|md| md.file_type().is_symlink()) {
                return Err(CliError(format!(
                    "cannot write {}: it is a symbolic link (not followed; remove it or give \
                     its target)",
                    escape_str(&path.display().to_string())
                )));
            }
            let r = if path.exists() {
                crate::system::edit::atomic_write(path, text.as_bytes())
                    .map_err(|e| crate::error::chain(&e))
            } else {
                crate::system::edit::atomic_create(path, text.as_bytes(), 0o644)
                    .map_err(|e| crate::system::strerror(&e))
            };
            r.map_err(|e| {
                CliError(format!(
                    "cannot write {}: {e}",
                    escape_str(&path.display().to_string())
                ))
            })?;
            Ok(Exit::Success)
        }
        None => {
            let written = text
                .lines()
                .try_for_each(|l| writeln!(io.out, "{}", escape_str(l)));
            super::render::finish_output(io, written)?;
            Ok(Exit::Success)
        }
    }
}

fn write_diff(io: &mut Io<'_>, d: &FeaturesDiff) -> std::io::Result<()> {
    if d.is_empty() {
        return writeln!(io.out, "the feature sets are the same");
    }
    for p in &d.added {
        writeln!(io.out, "+ {}", escape_str(p))?;
    }
    for p in &d.removed {
        writeln!(io.out, "- {}", escape_str(p))?;
    }
    for c in &d.changed {
        let mut words: Vec<String> = c.added_words.iter().map(|w| format!("+{w}")).collect();
        words.extend(c.removed_words.iter().map(|w| format!("-{w}")));
        if words.is_empty() {
            writeln!(
                io.out,
                "~ {}: {} -> {}",
                escape_str(&c.path),
                escape_str(&c.before),
                escape_str(&c.after)
            )?;
        } else {
            writeln!(
                io.out,
                "~ {}: {}",
                escape_str(&c.path),
                escape_str(&words.join(" "))
            )?;
        }
    }
    writeln!(
        io.out,
        "{} added, {} removed, {} changed",
        d.added.len(),
        d.removed.len(),
        d.changed.len()
    )
}
