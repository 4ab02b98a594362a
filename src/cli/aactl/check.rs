//! `aactl check [-I DIR]... [--base DIR] [--syntax-only] [--Werror] [--features FILE]
//! [--parser-version X.Y] [--format text|json | --json] PATH...`
//!
//! With `--format json` (or `--json`) one JSON document, `kind` `"aactl-check"` (members in
//! aactl(1), JSON OUTPUT).
//!
//! Parses and resolves profile files (a directory is walked as
//! apparmor_parser walks /etc/apparmor.d: its regular files, non-recursively,
//! skipping dot files, README and package-manager leftovers) and reports
//! diagnostics, for the language of one `apparmor_parser` release (by default the
//! installed parser's, 6.0 when none is installed). Exit 0 when all are valid, 1 when any is invalid, 2 for usage
//! or I/O errors.

use super::{CliError, Exit};
use crate::cli::Io;
use crate::diag::{Diagnostic, render_included};
use crate::policy::ParserVersion;
use crate::policy::check::{self, CheckOptions, Features};
use crate::policy::resolve::include::{Skip, dir_entries_with_errors, skip_entry};
use crate::policy::resolve::{Resolver, SearchPath};
use crate::system::strerror;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::path::{Path, PathBuf};

/// The clap definition of `aactl check`.
pub(super) fn command() -> Command {
    Command::new("check")
        .about("Check profile files: syntax, includes, variables and semantics")
        .arg(
            Arg::new("include")
                .short('I')
                .long("include")
                // apparmor_parser's own spelling.
                .alias("Include")
                .value_name("DIR")
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Search DIR for <...> includes (in order, before the base directory)"),
        )
        .arg(
            Arg::new("base")
                .short('d')
                // -b as apparmor_parser spells it; -d as the other aactl commands.
                .short_alias('b')
                .long("base")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help(
                    "Base directory for includes [default: /etc/apparmor.d, under --root if given]",
                ),
        )
        .arg(
            Arg::new("syntax-only")
                .long("syntax-only")
                .action(ArgAction::SetTrue)
                .help("Check grammar, includes and variables only (no semantic checks)"),
        )
        .arg(
            Arg::new("werror")
                .long("Werror")
                .action(ArgAction::SetTrue)
                .help("Treat warnings as errors"),
        )
        .arg(
            Arg::new("features")
                .long("features")
                .visible_alias("abi")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help(
                    "Kernel feature ABI to check against: a features file or a \
                     features directory (like apparmor_parser -M) [default: the \
                     running kernel's, or the snapshot's under --root; none when \
                     neither has one]",
                ),
        )
        .arg(
            Arg::new("parser-version")
                .long("parser-version")
                .value_name("X.Y")
                .value_parser(clap::value_parser!(ParserVersion))
                .help(
                    "Check for the language of this apparmor_parser release: 3.0, 4.1, 5.0 \
                     or 6.0 (a full version such as 4.1.0 is accepted) [default: the \
                     installed parser's, 6.0 when there is none or it does not answer; \
                     the summary line names the release used]",
                ),
        )
        .arg(super::format_arg(
            "Output format: text, or json (one document, kind \"aactl-check\")",
        ))
        .arg(super::json_flag())
        .arg(
            Arg::new("paths")
                .value_name("PATH")
                .required(true)
                .num_args(1..)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Profile files or directories of profiles"),
        )
}

/// The files to check for each PATH argument, or an I/O error message.
/// Also returns the entries skipped with apparmor_parser's "Ignoring" message.
/// Entries of a directory that could not be examined (symlink loops) come
/// back as messages in the third list.
#[allow(clippy::type_complexity)]
fn expand(path: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>, Vec<String>), String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {}", p.display(), strerror(&e));
    let md = std::fs::metadata(path).map_err(|e| io(path, e))?;
    if md.is_dir() {
        let (u, i, errs) = dir_entries_with_errors(path).map_err(|e| io(path, e))?;
        let errs = errs.into_iter().map(|(p, e)| io(&p, e)).collect();
        Ok((u, i, errs))
    } else {
        Ok((vec![path.to_path_buf()], Vec::new(), Vec::new()))
    }
}

/// Notes on stderr a file that is skipped (apparmor_parser's `Ignoring: 'PATH'`).
fn ignoring(io: &mut Io<'_>, path: &Path) {
    let _ = writeln!(
        io.err,
        "Ignoring: '{}'",
        crate::escape::escape_str(&path.display().to_string())
    );
}

/// The folders includes may be read from: the `-I` folders, the base, the folders named
/// on the command line (or holding the files named), and under `--root` the whole root.
/// An include whose real path is elsewhere (`include "/etc/shadow"`, a planted link out
/// of the tree) is reported (R0010) and not read; `-I DIR` allows another folder.
fn include_limit(m: &ArgMatches, include_dirs: &[PathBuf], base: Option<&Path>) -> Vec<PathBuf> {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let mut within: Vec<PathBuf> = include_dirs.iter().filter_map(|d| canon(d)).collect();
    within.extend(base.and_then(canon));
    let sys = super::system(m);
    if !sys.is_host() {
        within.extend(canon(sys.root()));
    }
    for p in m.get_many::<PathBuf>("paths").into_iter().flatten() {
        let dir = if p.is_dir() {
            Some(p.as_path())
        } else {
            p.parent().map(|d| {
                if d.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    d
                }
            })
        };
        within.extend(dir.and_then(canon));
    }
    within
}

/// True when the first 8 KiB of the regular file `path` hold a NUL byte (how `grep` and
/// `diff` tell binary files; profiles never contain one). Unreadable files answer false
/// and are reported by the parse.
fn is_binary(path: &Path) -> bool {
    use std::io::Read;
    let Ok(f) = crate::system::fs::open_read(Path::new("/"), path, false) else {
        return false;
    };
    let mut head = Vec::with_capacity(8192);
    f.take(8192).read_to_end(&mut head).is_ok() && head.contains(&0)
}

/// Runs `aactl check`.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let include_dirs: Vec<PathBuf> = m
        .get_many::<PathBuf>("include")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    // The default base is the host's /etc/apparmor.d, under --root when one is given (as
    // for the loader commands).
    let base = m.get_one::<PathBuf>("base").cloned().or_else(|| {
        let d = super::system(m).path("/etc/apparmor.d");
        d.is_dir().then_some(d)
    });
    let json = super::wants_json(m);
    let semantic = !m.get_flag("syntax-only");
    let opts = CheckOptions {
        features: match m.get_one::<PathBuf>("features") {
            Some(p) => Some(Features::load(p).map_err(|e| CliError::from_error(&e))?),
            // what the running kernel (or the snapshot under --root) enforces,
            // when it can be read; else no not-enforced warnings at all
            None => super::system(m).features().ok(),
        },
        werror: m.get_flag("werror"),
        version: match m.get_one::<ParserVersion>("parser-version") {
            Some(v) => *v,
            None => super::installed_parser_release(io.err),
        },
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let within = include_limit(m, &include_dirs, base.as_deref());
    let mut resolver = Resolver::new(SearchPath {
        include_dirs,
        base,
        cwd,
        within,
    });
    let mut io_error = false;
    let mut invalid = 0usize;
    let mut checked = 0usize;
    let mut reports = Vec::new();
    let mut unreadable: Vec<serde_json::Value> = Vec::new();
    for p in m.get_many::<PathBuf>("paths").into_iter().flatten() {
        let files = match expand(p) {
            Ok((f, ignored, errs)) => {
                for e in errs {
                    io_error = true;
                    let _ = writeln!(io.err, "aactl check: {}", crate::escape::escape_str(&e));
                }
                for i in ignored {
                    ignoring(io, &i);
                }
                f
            }
            Err(e) => {
                io_error = true;
                let _ = writeln!(io.err, "aactl: {}", crate::escape::escape_str(&e));
                unreadable.push(serde_json::json!({"path": p.display().to_string(), "error": e}));
                continue;
            }
        };
        let bar = if json {
            crate::cli::progress::Progress::none()
        } else {
            crate::cli::progress::Progress::files(&io.term, files.len())
        };
        for (done, f) in files.into_iter().enumerate() {
            bar.set(done as u64);
            if let Some(name) = f.file_name() {
                if skip_entry(&name.to_string_lossy()) == Skip::Noisy {
                    bar.suspend(|| ignoring(io, &f));
                }
            }
            // A binary file (an executable, an image) is not policy: one line instead
            // of a syntax error per byte run.
            if is_binary(&f) {
                io_error = true;
                let msg = format!(
                    "{}: not a text file (it holds NUL bytes); not checked",
                    f.display()
                );
                bar.suspend(|| writeln!(io.err, "aactl: {}", crate::escape::escape_str(&msg)))
                    .ok();
                unreadable.push(serde_json::json!({"path": f.display().to_string(), "error": msg}));
                continue;
            }
            let resolved = match resolver.resolve_file(&f) {
                Ok(r) => r,
                Err(e) => {
                    io_error = true;
                    let msg = CliError::from_error(&e).0;
                    bar.suspend(|| writeln!(io.err, "aactl: {}", crate::escape::escape_str(&msg)))
                        .ok();
                    unreadable
                        .push(serde_json::json!({"path": f.display().to_string(), "error": msg}));
                    continue;
                }
            };
            checked += 1;
            let diagnostics = check::diagnostics(&resolved, &resolver.sources, &opts, semantic);
            let ok = !diagnostics.iter().any(Diagnostic::is_error);
            if !ok {
                invalid += 1;
            }
            if json {
                reports.push(serde_json::json!({
                    "path": f.display().to_string(),
                    "valid": ok,
                    "profiles": resolved.profile_names(),
                    "diagnostics": diagnostics
                        .iter()
                        .map(|d| {
                            let mut v = d.to_json(&resolver.sources);
                            let chain = resolved.include_chain(d.span.file);
                            if let (false, Some(o)) = (chain.is_empty(), v.as_object_mut()) {
                                let sites: Vec<serde_json::Value> = chain
                                    .iter()
                                    .filter_map(|s| resolver.sources.locate(*s))
                                    .map(|(p, line, _)| {
                                        serde_json::json!({"path": p.display().to_string(), "line": line})
                                    })
                                    .collect();
                                o.insert("included_from".into(), sites.into());
                            }
                            v
                        })
                        .collect::<Vec<_>>(),
                }));
            } else {
                let color = io.term.color;
                bar.suspend(|| {
                    for d in &diagnostics {
                        let chain = resolved.include_chain(d.span.file);
                        let text = render_included(d, &resolver.sources, color, &chain);
                        let _ = writeln!(io.out, "{text}\n");
                    }
                    let _ = io.out.flush();
                });
            }
        }
        bar.finish();
    }
    if json {
        let doc = serde_json::json!({
            "schema": super::ps::SCHEMA,
            "kind": "aactl-check",
            "parser_version": opts.version.as_str(),
            "valid": invalid == 0 && !io_error,
            "unreadable": unreadable,
            "checked": checked,
            "invalid": invalid,
            "files": reports,
        });
        let _ = writeln!(io.out, "{doc}");
    } else if checked > 0 || !io_error {
        // nothing could be read: the messages on stderr say why; a "0 checked" line would
        // read like a clean result
        let _ = writeln!(
            io.out,
            "{checked} file(s) checked, {invalid} invalid (for apparmor_parser {})",
            opts.version
        );
    }
    Ok(if io_error {
        Exit::Error
    } else if invalid > 0 {
        Exit::Failure
    } else {
        Exit::Success
    })
}
