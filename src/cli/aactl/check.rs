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
use crate::diag::{Diagnostic, FileId, render_included};
use crate::policy::ParserVersion;
use crate::policy::check::{self, CheckOptions, Features};
use crate::policy::resolve::include::{Skip, dir_entries_with_errors, skip_entry};
use crate::policy::resolve::{ResolveError, Resolved, Resolver, SearchPath};
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

/// The files of one PATH argument, or why it could not be read.
enum Group {
    /// `expand`'s error message.
    Unreadable(PathBuf, String),
    /// Entries that could not be examined, skipped entries, and the range of its
    /// files in the job list.
    Files {
        errors: Vec<String>,
        ignored: Vec<PathBuf>,
        jobs: std::ops::Range<usize>,
    },
}

/// What checking one file gave.
enum Done {
    /// Not checked (a binary file, or a read error): the message.
    Unreadable(String),
    /// Resolved and checked: diagnostics in file order.
    Checked {
        resolved: Box<Resolved>,
        diagnostics: Vec<Diagnostic>,
    },
}

/// One checking thread's results: its resolver (the texts its diagnostics point
/// into) and, for each file it took, the file's index in the job list and result.
struct Worker {
    resolver: Resolver,
    done: Vec<(usize, Done)>,
}

/// Options that become known while the files are being read: the parser release,
/// when the installed parser is asked, arrives from another thread.
struct Pending {
    opts: std::sync::OnceLock<CheckOptions>,
    lock: std::sync::Mutex<()>,
    ready: std::sync::Condvar,
}

impl Pending {
    fn set(&self, opts: CheckOptions) {
        let _ = self.opts.set(opts);
        let _g = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.ready.notify_all();
    }

    fn get(&self) -> &CheckOptions {
        let mut g = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if let Some(o) = self.opts.get() {
                return o;
            }
            g = self
                .ready
                .wait(g)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// Checks the files of `jobs` it takes (the next one not taken, through `next`):
/// reads and resolves each, then, once the options are known, checks them.
fn work(
    search: &SearchPath,
    jobs: &[PathBuf],
    next: &std::sync::atomic::AtomicUsize,
    pending: &Pending,
    semantic: bool,
    bar: &crate::cli::progress::Progress,
    finished: &std::sync::atomic::AtomicUsize,
) -> Worker {
    use std::sync::atomic::Ordering;
    let mut resolver = Resolver::new(search.clone());
    let mut read = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(f) = jobs.get(i) else { break };
        // A binary file (an executable, an image) is not policy: one line instead
        // of a syntax error per byte run. The file is read once: a NUL byte in its
        // first 8 KiB makes it binary (when it cannot be read whole, the first 8 KiB
        // are read alone, so that a large binary file is still called binary).
        let binary = || {
            format!(
                "{}: not a text file (it holds NUL bytes); not checked",
                f.display()
            )
        };
        let r = match crate::policy::read_policy_file(f) {
            Ok(bytes) if bytes[..bytes.len().min(8192)].contains(&0) => Err(binary()),
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                Ok(resolver.resolve_text(f, text))
            }
            Err(_) if is_binary(f) => Err(binary()),
            Err(source) => Err(CliError::from_error(&ResolveError::Io {
                path: f.clone(),
                source,
            })
            .0),
        };
        read.push((i, r));
    }
    let opts = pending.get();
    let done = read
        .into_iter()
        .map(|(i, r)| {
            let d = match r {
                Ok(resolved) => {
                    let diagnostics =
                        check::diagnostics(&resolved, &resolver.sources, opts, semantic);
                    Done::Checked {
                        resolved: Box::new(resolved),
                        diagnostics,
                    }
                }
                Err(msg) => Done::Unreadable(msg),
            };
            bar.set(finished.fetch_add(1, Ordering::Relaxed) as u64 + 1);
            (i, d)
        })
        .collect();
    Worker { resolver, done }
}

/// Makes the results of several threads read as one resolver's would. A resolver
/// numbers the texts it reads in order, an include once, when first read, and
/// diagnostics are sorted by that number (then by offset). Each thread has its own
/// resolver, so its numbers differ from those one resolver reading every file in
/// order gives; this numbers the texts as that resolver would, sorts each file's
/// diagnostics again (stably, so ties keep their order) and shows each include
/// under the path it would first have been read through.
fn renumber(workers: &mut [Worker]) {
    use std::collections::HashMap;
    // (worker, position in its `done`) of each file, in file order
    let mut order: Vec<(usize, usize, usize)> = workers
        .iter()
        .enumerate()
        .flat_map(|(w, wk)| {
            wk.done
                .iter()
                .enumerate()
                .map(move |(k, (i, _))| (*i, w, k))
        })
        .collect();
    order.sort_unstable();
    let mut next = 0u64;
    // real path of an include → (its number, the thread and id it was first read as)
    let mut first: HashMap<PathBuf, (u64, usize, FileId)> = HashMap::new();
    let mut numbers: Vec<HashMap<FileId, u64>> = Vec::new();
    let mut slot = vec![usize::MAX; order.len()];
    for (n, &(_, w, k)) in order.iter().enumerate() {
        let Done::Checked { resolved, .. } = &workers[w].done[k].1 else {
            continue;
        };
        let mut map = HashMap::new();
        map.insert(resolved.file, next);
        next += 1;
        for (id, _) in &resolved.included_from {
            let Some(key) = workers[w].resolver.include_key(*id) else {
                continue;
            };
            let e = first.entry(key.to_path_buf()).or_insert_with(|| {
                next += 1;
                (next - 1, w, *id)
            });
            map.insert(*id, e.0);
        }
        slot[n] = numbers.len();
        numbers.push(map);
    }
    // an include shown under the path its first reader read it through
    let mut renames: Vec<(usize, FileId, PathBuf)> = Vec::new();
    for (n, &(_, w, k)) in order.iter().enumerate() {
        let Done::Checked { resolved, .. } = &workers[w].done[k].1 else {
            continue;
        };
        for (id, _) in &resolved.included_from {
            let Some(key) = workers[w].resolver.include_key(*id) else {
                continue;
            };
            if let Some(&(_, fw, fid)) = first.get(key) {
                let shown = workers[fw].resolver.sources.get(fid).map(|s| &s.path);
                let mine = workers[w].resolver.sources.get(*id).map(|s| &s.path);
                if let (Some(shown), false) = (shown, shown == mine) {
                    renames.push((w, *id, shown.clone()));
                }
            }
        }
        let map = &numbers[slot[n]];
        if let Done::Checked { diagnostics, .. } = &mut workers[w].done[k].1 {
            diagnostics.sort_by_key(|d| {
                (
                    map.get(&d.span.file).copied().unwrap_or(u64::MAX),
                    d.span.file,
                    d.span.start,
                )
            });
        }
    }
    for (w, id, path) in renames {
        workers[w].resolver.sources.set_path(id, path);
    }
}

/// Threads to check `jobs` files with: one per core, at most 8, no more than files.
fn threads(jobs: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8)
        .min(jobs)
        .max(1)
}

/// Runs `aactl check`.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    use std::sync::atomic::AtomicUsize;
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
    let features = match m.get_one::<PathBuf>("features") {
        Some(p) => Some(Features::load(p).map_err(|e| CliError::from_error(&e))?),
        // what the running kernel (or the snapshot under --root) enforces,
        // when it can be read; else no not-enforced warnings at all
        None => super::system(m).features().ok(),
    };
    let werror = m.get_flag("werror");
    let given = m.get_one::<ParserVersion>("parser-version").copied();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let within = include_limit(m, &include_dirs, base.as_deref());
    let search = SearchPath {
        include_dirs,
        base,
        cwd,
        within,
    };
    // the files of every PATH, in order (read before any file is checked; nothing is
    // written until all are checked, then everything in the order of the files)
    let mut groups = Vec::new();
    let mut jobs: Vec<PathBuf> = Vec::new();
    for p in m.get_many::<PathBuf>("paths").into_iter().flatten() {
        groups.push(match expand(p) {
            Ok((f, ignored, errors)) => {
                let start = jobs.len();
                jobs.extend(f);
                Group::Files {
                    errors,
                    ignored,
                    jobs: start..jobs.len(),
                }
            }
            Err(e) => Group::Unreadable(p.clone(), e),
        });
    }
    let bar = if json {
        crate::cli::progress::Progress::none()
    } else {
        crate::cli::progress::Progress::files(&io.term, jobs.len())
    };
    // The installed parser is asked for its release while the files are read (the
    // release only matters to the checks after that).
    let pending = Pending {
        opts: std::sync::OnceLock::new(),
        lock: std::sync::Mutex::new(()),
        ready: std::sync::Condvar::new(),
    };
    let mut ask = None;
    let opts = |version| CheckOptions {
        features: features.clone(),
        werror,
        version,
    };
    match given {
        Some(v) => pending.set(opts(v)),
        None => ask = Some(opts),
    }
    let (next, finished) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let (mut workers, warning) = std::thread::scope(|s| {
        let asking = ask.map(|opts| {
            let pending = &pending;
            s.spawn(move || {
                let mut err = Vec::new();
                let asked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    super::installed_parser_release(&mut err)
                }));
                match asked {
                    Ok(v) => {
                        pending.set(opts(v));
                        err
                    }
                    // the checking threads must not wait for ever: they get the default,
                    // and the panic goes on to the main thread with the join
                    Err(p) => {
                        pending.set(opts(ParserVersion::LATEST));
                        std::panic::resume_unwind(p)
                    }
                }
            })
        });
        let run = || work(&search, &jobs, &next, &pending, semantic, &bar, &finished);
        let others: Vec<_> = (1..threads(jobs.len())).map(|_| s.spawn(run)).collect();
        let mut workers = vec![run()];
        for h in others {
            match h.join() {
                Ok(w) => workers.push(w),
                Err(e) => std::panic::resume_unwind(e),
            }
        }
        let warning = match asking.map(|h| h.join()) {
            Some(Ok(err)) => err,
            Some(Err(e)) => std::panic::resume_unwind(e),
            None => Vec::new(),
        };
        (workers, warning)
    });
    bar.finish();
    let _ = io.err.write_all(&warning);
    let version = pending.get().version;
    if workers.len() > 1 {
        renumber(&mut workers);
    }
    // where each file's result is: (worker, position)
    let mut at = vec![(0usize, 0usize); jobs.len()];
    for (w, wk) in workers.iter().enumerate() {
        for (k, (i, _)) in wk.done.iter().enumerate() {
            at[*i] = (w, k);
        }
    }
    let mut io_error = false;
    let mut invalid = 0usize;
    let mut checked = 0usize;
    let mut reports = Vec::new();
    let mut unreadable: Vec<serde_json::Value> = Vec::new();
    for g in groups {
        let range = match g {
            Group::Unreadable(p, e) => {
                io_error = true;
                let _ = writeln!(io.err, "aactl: {}", crate::escape::escape_str(&e));
                unreadable.push(serde_json::json!({"path": p.display().to_string(), "error": e}));
                continue;
            }
            Group::Files {
                errors,
                ignored,
                jobs: range,
            } => {
                for e in errors {
                    io_error = true;
                    let _ = writeln!(io.err, "aactl check: {}", crate::escape::escape_str(&e));
                }
                for i in ignored {
                    ignoring(io, &i);
                }
                range
            }
        };
        for i in range {
            let f = &jobs[i];
            if let Some(name) = f.file_name() {
                if skip_entry(&name.to_string_lossy()) == Skip::Noisy {
                    ignoring(io, f);
                }
            }
            let (w, k) = at[i];
            let sources = &workers[w].resolver.sources;
            let (resolved, diagnostics) = match &workers[w].done[k].1 {
                Done::Unreadable(msg) => {
                    io_error = true;
                    let _ = writeln!(io.err, "aactl: {}", crate::escape::escape_str(msg));
                    unreadable
                        .push(serde_json::json!({"path": f.display().to_string(), "error": msg}));
                    continue;
                }
                Done::Checked {
                    resolved,
                    diagnostics,
                } => (resolved, diagnostics),
            };
            checked += 1;
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
                            let mut v = d.to_json(sources);
                            let chain = resolved.include_chain(d.span.file);
                            if let (false, Some(o)) = (chain.is_empty(), v.as_object_mut()) {
                                let sites: Vec<serde_json::Value> = chain
                                    .iter()
                                    .filter_map(|s| sources.locate(*s))
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
                for d in diagnostics {
                    let chain = resolved.include_chain(d.span.file);
                    let text = render_included(d, sources, color, &chain);
                    let _ = writeln!(io.out, "{text}\n");
                }
                let _ = io.out.flush();
            }
        }
    }
    if json {
        let doc = serde_json::json!({
            "schema": super::ps::SCHEMA,
            "kind": "aactl-check",
            "parser_version": version.as_str(),
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
            "{checked} file(s) checked, {invalid} invalid (for apparmor_parser {version})"
        );
    }
    // aactl ends after one command: freeing every resolved file, rule by rule, would
    // only cost time (about a twentieth of a check of a large tree)
    std::mem::forget(workers);
    Ok(if io_error {
        Exit::Error
    } else if invalid > 0 {
        Exit::Failure
    } else {
        Exit::Success
    })
}
