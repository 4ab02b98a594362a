//! Driving `apparmor_parser` to load, replace and remove policy (docs/loader.md).
//!
//! - [`Parser`]: a builder over the parser's options; [`Parser::command`] gives the
//!   exact [`ParserCommand`] (argv, no shell).
//! - [`find_parser`]: `PATH`, then `/sbin`, then `/usr/sbin` (a non-root `PATH` often
//!   lacks the sbin folders).
//! - [`Runner`]: the only way effects happen: [`SystemRunner`] spawns the parser and
//!   writes kernel files, [`RecordingRunner`] records them (tests, `--dry-run`).
//! - [`diagnose()`]: exit status + stderr + stdout → [`RunReport`] with typed [`LoadError`]s.
//! - [`Plan`]: an ordered list of [`Step`]s (commands, file edits, symlinks, kernel
//!   writes) that can be rendered (dry run) or executed.
//! - [`EditLock`]: held around every read → edit → replace of a profile file or
//!   `local/` override, so that concurrent `aactl` runs do not lose each other's edits.
//! - [`Loader`]: one file per parser invocation (multi-file exit codes are
//!   ambiguous), unloading by name through `.remove`.
//! - [`mode`]: enforce / complain / audit / disable / enable edits.
//! - [`unknown`]: which loaded profiles `remove-unknown` unloads.

pub mod command;
pub mod diagnose;
pub mod error;
pub mod locate;
pub mod mode;
pub mod plan;
pub mod runner;
pub mod unknown;

pub use crate::system::edit::EditLock;
pub use command::{
    Action, CacheOptions, Jobs, Parser, ParserCommand, Warning, parse_version, version_command,
};
pub use diagnose::{ProfileDone, RunReport, Skipped, diagnose};
pub use error::{
    KernelErrorKind, KernelOp, LoadError, LoaderError, ParserDiagnostic, VersionError,
};
pub use locate::{find_parser, find_parser_from_env, find_parser_in};
pub use plan::{Execution, Plan, Step, StepOutcome, atomic_write};
pub use runner::{Bounds, RawOutput, Recorded, RecordingRunner, Runner, SystemRunner, Termination};

use std::path::{Path, PathBuf};

/// How long `apparmor_parser --version` may take before it is killed and
/// its release counted as unknown (a real parser answers in milliseconds).
pub const VERSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How much of `apparmor_parser --version`'s output is read (the version is
/// on its first line).
pub const VERSION_OUTPUT_LIMIT: usize = 64 * 1024;

/// The default profile directory (`--base`).
pub const DEFAULT_PROFILE_DIR: &str = "/etc/apparmor.d";

/// The parser plus a runner: the high-level operations.
#[derive(Debug)]
pub struct Loader<R: Runner> {
    parser: Parser,
    runner: R,
}

impl<R: Runner> Loader<R> {
    /// A loader with these parser options (its action is overridden per call).
    pub fn new(parser: Parser, runner: R) -> Self {
        Loader { parser, runner }
    }

    /// The parser options.
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// The runner (e.g. to read a [`RecordingRunner`]'s record).
    pub fn runner(&self) -> &R {
        &self.runner
    }

    /// The runner, mutably (to execute a [`Plan`]).
    pub fn runner_mut(&mut self) -> &mut R {
        &mut self.runner
    }

    /// Gives the runner back.
    pub fn into_runner(self) -> R {
        self.runner
    }

    /// The command that does `action` on one `file`, with `--verbose` so every
    /// profile done is reported.
    pub fn command_for(&self, action: Action, file: &Path) -> ParserCommand {
        self.parser
            .clone()
            .action(action)
            .verbose(action != Action::Names)
            .command([file])
    }

    /// Runs `action` on one file (one invocation) and decodes the result.
    ///
    /// # Errors
    /// [`LoaderError::Spawn`] when the parser cannot be started. Parser-reported
    /// failures are in the report's `errors`.
    pub fn run_file(&mut self, action: Action, file: &Path) -> Result<RunReport, LoaderError> {
        let cmd = self.command_for(action, file);
        self.run_command(&cmd)
    }

    /// Runs one prepared command and decodes it.
    ///
    /// # Errors
    /// [`LoaderError::Spawn`].
    pub fn run_command(&mut self, cmd: &ParserCommand) -> Result<RunReport, LoaderError> {
        let raw = self
            .runner
            .run(cmd)
            .map_err(|e| spawn_error(&cmd.program, e))?;
        Ok(diagnose(cmd.action, &cmd.files, &raw))
    }

    /// The parser's version (`3.0.8`), from one `--version` run bounded by
    /// [`VERSION_TIMEOUT`] and [`VERSION_OUTPUT_LIMIT`] (see
    /// [`parse_version`] for what counts as a version).
    ///
    /// # Errors
    /// [`VersionError`]: the parser could not be started, did not finish in
    /// time (it was killed), printed too much, failed, or printed no version.
    pub fn query_version(&mut self) -> Result<String, VersionError> {
        let program = self.parser.program().to_owned();
        let bounds = Bounds {
            timeout: VERSION_TIMEOUT,
            max_stdout: VERSION_OUTPUT_LIMIT,
        };
        let raw = match self.runner.run_bounded(&version_command(&program), bounds) {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(VersionError::TimedOut {
                    program,
                    seconds: VERSION_TIMEOUT.as_secs(),
                });
            }
            Err(source) => return Err(VersionError::Spawn { program, source }),
        };
        if raw.stdout.len() >= VERSION_OUTPUT_LIMIT {
            return Err(VersionError::TooLong {
                program,
                limit: VERSION_OUTPUT_LIMIT,
            });
        }
        if raw.termination != Termination::Exited(0) {
            return Err(VersionError::Failed {
                program,
                termination: raw.termination,
            });
        }
        parse_version(&String::from_utf8_lossy(&raw.stdout))
            .ok_or(VersionError::NoVersion { program })
    }

    /// [`Loader::query_version`], `None` on any error.
    pub fn version(&mut self) -> Option<String> {
        self.query_version().ok()
    }

    /// The language release line of this parser ([`ParserVersion`]: `4.1.0` →
    /// 4.1), from [`Loader::query_version`]. Callers that check or write
    /// policy for "the installed parser" fall back to
    /// [`ParserVersion::LATEST`] on an error.
    ///
    /// # Errors
    /// [`VersionError`], also [`VersionError::NoVersion`] when the version
    /// does not start with a number.
    ///
    /// [`ParserVersion`]: crate::policy::ParserVersion
    /// [`ParserVersion::LATEST`]: crate::policy::ParserVersion::LATEST
    pub fn query_parser_version(&mut self) -> Result<crate::policy::ParserVersion, VersionError> {
        let v = self.query_version()?;
        crate::policy::ParserVersion::from_release(&v).ok_or_else(|| VersionError::NoVersion {
            program: self.parser.program().to_owned(),
        })
    }

    /// [`Loader::query_parser_version`], `None` on any error.
    pub fn parser_version(&mut self) -> Option<crate::policy::ParserVersion> {
        self.query_parser_version().ok()
    }

    /// The fully qualified names of the profiles in `paths` (files or directories),
    /// from one `--names` run: children as `parent//child`, namespaced profiles as
    /// `:ns://name` (the parser's form, not the kernel's `:ns:name`). Files skipped
    /// through `disable/` contribute nothing, as upstream.
    ///
    /// # Errors
    /// [`LoaderError::Spawn`]; parse failures are in the report.
    pub fn names(&mut self, paths: &[PathBuf]) -> Result<RunReport, LoaderError> {
        let cmd = self.parser.clone().action(Action::Names).command(paths);
        self.run_command(&cmd)
    }

    /// A plan to unload the loaded profile `name` by writing it to
    /// `<apparmorfs>/.remove` (children go with their parent; `:ns:name` addresses
    /// a child namespace).
    pub fn remove_by_name_plan(apparmorfs: &Path, name: &str) -> Step {
        Step::KernelRemove {
            path: apparmorfs.join(".remove"),
            name: name.to_owned(),
        }
    }
}

/// The error for a parser that could not be started: a missing program is
/// [`LoaderError::ParserNotFound`] naming it, anything else
/// [`LoaderError::Spawn`].
pub fn spawn_error(program: &Path, e: std::io::Error) -> LoaderError {
    if e.kind() == std::io::ErrorKind::NotFound {
        LoaderError::ParserNotFound {
            searched: vec![program.to_owned()],
        }
    } else {
        LoaderError::Spawn {
            program: program.to_owned(),
            source: e,
        }
    }
}

/// True when `p` is taken for a profile file by `aactl unload` and the mode commands: a directory, or an
/// existing regular file with no execute bit (a program path such as
/// `/usr/bin/man` is a profile *name*).
pub fn is_profile_file(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => true,
        Ok(m) => m.is_file() && m.permissions().mode() & 0o111 == 0,
        Err(_) => false,
    }
}

/// Names upstream skips in profile directories: hidden files, editor and package
/// manager leftovers, `README`.
pub fn is_skipped_name(name: &str) -> bool {
    const SUFFIXES: [&str; 13] = [
        "~",
        ".dpkg-new",
        ".dpkg-old",
        ".dpkg-dist",
        ".dpkg-bak",
        ".dpkg-remove",
        ".pacsave",
        ".pacnew",
        ".rpmnew",
        ".rpmsave",
        ".orig",
        ".rej",
        ".swp",
    ];
    name.starts_with('.') || name == "README" || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The profile files directly in `dir` (not recursive, as the parser does with a
/// directory argument): regular files (symlinks followed) whose names are not
/// [`is_skipped_name`], sorted bytewise.
///
/// # Errors
/// [`LoaderError::Io`] when the directory cannot be read.
pub fn profile_files(dir: &Path) -> Result<Vec<PathBuf>, LoaderError> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(1)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if e.depth() == 0 => {
                let source: std::io::Error = e.into();
                // walkdir's error repeats the path: keep the OS error alone.
                let source = match source.raw_os_error() {
                    Some(n) => std::io::Error::from_raw_os_error(n),
                    None => source,
                };
                if source.kind() == std::io::ErrorKind::NotFound
                    || source.raw_os_error() == Some(20)
                {
                    return Err(LoaderError::ProfileDirNotFound {
                        dir: dir.to_owned(),
                    });
                }
                return Err(LoaderError::Io {
                    path: dir.to_owned(),
                    source,
                });
            }
            // A dangling link or an unreadable entry is not a profile file.
            Err(_) => continue,
        };
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && !is_skipped_name(&name) {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}

/// Expands `paths`: directories into their [`profile_files`], files kept as given.
///
/// # Errors
/// [`LoaderError::Io`] for a directory that cannot be read.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoaderError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            out.extend(profile_files(p)?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Checks, before the parser is run on it, that `p` names something the parser can
/// read: a directory that can be listed, or a regular file that can be opened for
/// reading (links followed). The parser itself is not trusted with this: run quietly,
/// some releases report a missing file with nothing but a status a caller may miss.
///
/// # Errors
/// [`LoaderError::Io`] naming `p`, with the OS error (`No such file or directory`,
/// `Permission denied`) or `not a regular file` (a FIFO, a device, a socket).
pub fn check_profile_path(p: &Path) -> Result<(), LoaderError> {
    let err = |source| LoaderError::Io {
        path: p.to_path_buf(),
        source,
    };
    let md = std::fs::metadata(p).map_err(err)?;
    if md.is_dir() {
        std::fs::read_dir(p).map_err(err)?;
        return Ok(());
    }
    if !md.is_file() {
        return Err(err(std::io::Error::other("not a regular file")));
    }
    std::fs::File::open(p).map_err(err)?;
    Ok(())
}
