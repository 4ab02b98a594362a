//! Typed errors of the loader: what `apparmor_parser` and the kernel report, decoded.
//!
//! Two layers:
//! - [`LoadError`]: what one `apparmor_parser` run reported (decoded from its exit
//!   status, stderr and stdout by [`crate::loader::diagnose()`]). A run may report several.
//! - [`LoaderError`]: what stops the loader itself before or around a run (parser
//!   binary missing, spawn failure, a profile file that cannot be read or edited,
//!   a profile that is not found, a kernel interface write that failed).

use serde::Serialize;
use std::path::PathBuf;

/// Where the parser located a syntax or semantic error.
///
/// Upstream prints `AppArmor parser error for FILE in profile READ at line N: MESSAGE`.
/// `FILE` is the file given on the command line; `READ`, despite the words "in
/// profile", is the file being **read** when the error happened (an include, for
/// example), not a profile name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParserDiagnostic {
    /// The file given on the command line (`for FILE`), when printed.
    pub file: Option<PathBuf>,
    /// The file being read when the error happened (upstream's "in profile" part).
    pub read_file: Option<PathBuf>,
    /// 1-based line number in `read_file`, when printed.
    pub line: Option<u32>,
    /// The profile, when the parser really names one (`Warning converted to Error
    /// from profile NAME (FILE)`); never taken from the misleading "in profile".
    pub profile: Option<String>,
    /// The parser's message, e.g. `Invalid capability bogus.`.
    pub message: String,
    /// The lexer state of a `Lexer found unexpected character` error (e.g. `MOUNT_MODE`).
    pub lexer_state: Option<String>,
    /// A hint of ours about the likely cause, when the message pattern is known.
    pub hint: Option<String>,
}

impl std::fmt::Display for ParserDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = self.read_file.as_ref().or(self.file.as_ref());
        match (place, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{}: {}", p.display(), l, self.message)?,
            (Some(p), None) => write!(f, "{}: {}", p.display(), self.message)?,
            (None, Some(l)) => write!(f, "line {}: {}", l, self.message)?,
            (None, None) => f.write_str(&self.message)?,
        }
        if let (Some(file), Some(read)) = (&self.file, &self.read_file) {
            if file != read {
                write!(f, " (while loading {})", file.display())?;
            }
        }
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// The operation a kernel write was doing (`Unable to add|replace|remove "NAME"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelOp {
    /// Write to `.load`.
    Add,
    /// Write to `.replace`.
    Replace,
    /// Write to `.remove`.
    Remove,
}

impl KernelOp {
    /// The verb as upstream prints it (`add`, `replace`, `remove`).
    pub fn as_str(self) -> &'static str {
        match self {
            KernelOp::Add => "add",
            KernelOp::Replace => "replace",
            KernelOp::Remove => "remove",
        }
    }
}

/// Why the kernel refused a policy write, from the errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelErrorKind {
    /// EACCES (exit 243): no policy admin rights (CAP_MAC_ADMIN, a policy namespace
    /// that does not allow it, a confined loader). Pitfall G-05.
    PermissionDenied,
    /// EPERM (exit 255): the operation is not permitted (e.g. `lock_policy` is set).
    NotPermitted,
    /// EEXIST (exit 239): `add` of a profile that is already loaded; use replace. G-04.
    AlreadyExists,
    /// ENOENT (exit 254): the profile (or the interface file) does not exist.
    NotFound,
    /// ENOSPC (exit 228): the kernel has no room for the policy.
    NoSpace,
    /// EPROTO: the blob does not conform to the kernel's protocol.
    Protocol,
    /// EPROTONOSUPPORT: the blob's version is not supported by the kernel.
    VersionNotSupported,
    /// Any other errno.
    Other,
}

impl KernelErrorKind {
    /// Classifies a positive errno value (Linux numbering).
    pub fn from_errno(errno: i32) -> Self {
        match errno {
            13 => KernelErrorKind::PermissionDenied,
            1 => KernelErrorKind::NotPermitted,
            17 => KernelErrorKind::AlreadyExists,
            2 => KernelErrorKind::NotFound,
            28 => KernelErrorKind::NoSpace,
            71 => KernelErrorKind::Protocol,
            93 => KernelErrorKind::VersionNotSupported,
            _ => KernelErrorKind::Other,
        }
    }

    /// A short explanation for people.
    pub fn describe(self) -> &'static str {
        match self {
            KernelErrorKind::PermissionDenied => {
                "access denied: policy admin privileges (CAP_MAC_ADMIN in the policy's namespace) are needed"
            }
            KernelErrorKind::NotPermitted => {
                "operation not permitted (is policy locked, or the loader confined?)"
            }
            KernelErrorKind::AlreadyExists => "profile already exists (use replace instead of add)",
            KernelErrorKind::NotFound => "profile does not exist",
            KernelErrorKind::NoSpace => "no space left for policy in the kernel",
            KernelErrorKind::Protocol => "profile does not conform to the kernel's protocol",
            KernelErrorKind::VersionNotSupported => {
                "profile version not supported by the kernel's AppArmor module"
            }
            KernelErrorKind::Other => "kernel refused the policy",
        }
    }
}

/// One failure reported by an `apparmor_parser` run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum LoadError {
    /// A syntax or semantic error in policy text (exit 1), or a warning turned into
    /// an error by `--Werror`.
    #[error("parser error: {diagnostic}")]
    Syntax {
        /// Where and what.
        diagnostic: ParserDiagnostic,
    },
    /// `File NAME not found, skipping...` (exit 2).
    #[error("file {} not found", file.display())]
    FileNotFound {
        /// The file as the parser printed it.
        file: PathBuf,
    },
    /// Another file-level failure: the parser exited with a small positive errno.
    #[error("file-level failure: errno {errno}{}", if output.is_empty() { String::new() } else { format!(": {output}") })]
    FileLevel {
        /// The errno (the exit status).
        errno: i32,
        /// The parser's unrecognised stderr lines.
        output: String,
    },
    /// The kernel refused a write to `.load`, `.replace` or `.remove`.
    /// The exit status is 256 − errno.
    #[error("unable to {} \"{profile}\": {} (errno {errno}; parser said: {message})", op.as_str(), kind.describe())]
    Kernel {
        /// What was attempted.
        op: KernelOp,
        /// The profile name as printed (empty when only the exit status was known).
        profile: String,
        /// Positive errno value.
        errno: i32,
        /// Classification of `errno`.
        kind: KernelErrorKind,
        /// The parser's own wording (differs between versions).
        message: String,
    },
    /// No apparmorfs found (`Warning: unable to find a suitable fs in /proc/mounts`).
    #[error(
        "no AppArmor filesystem found (is securityfs mounted and AppArmor enabled? name it with --apparmorfs DIR)"
    )]
    NoApparmorFs,
    /// A features or ABI file could not be used (`Failed to load features from ...`).
    #[error("features: {message}")]
    Features {
        /// The parser's message.
        message: String,
    },
    /// Bad command line (unknown option, too many actions); a bug of the caller.
    #[error("apparmor_parser usage: {message}")]
    Usage {
        /// The parser's message (printed once even though 3.0.8 prints it twice).
        message: String,
    },
    /// The parser was killed by a signal: no exit status exists.
    #[error("apparmor_parser was killed by signal {signal} ({name})")]
    KilledBySignal {
        /// Signal number.
        signal: i32,
        /// Signal name (`SIGTERM`, …), or `unknown`.
        name: String,
    },
    /// A compile worker (a forked child of the parser) died abnormally: the parser
    /// then exits 10 (ECHILD) and prints nothing (verified with 3.0.8).
    #[error("an apparmor_parser worker process died (exit 10, ECHILD)")]
    WorkerDied,
    /// Error text was printed although the exit status was 0.
    #[error("apparmor_parser reported an error but exited 0: {message}")]
    ErrorOnSuccess {
        /// The error line.
        message: String,
    },
    /// A failure status with no recognised message.
    #[error("apparmor_parser failed with exit status {status}{}", if output.is_empty() { String::new() } else { format!(": {output}") })]
    Failed {
        /// The exit status.
        status: i32,
        /// The parser's unrecognised stderr lines, joined by `; `.
        output: String,
    },
}

/// An error of the loader itself (not of one parser run).
#[derive(Debug, thiserror::Error)]
pub enum LoaderError {
    /// No `apparmor_parser` binary was found.
    #[error("apparmor_parser not found (looked in: {}); install the apparmor package or give its path", .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    ParserNotFound {
        /// Every directory or file that was tried, in order.
        searched: Vec<PathBuf>,
    },
    /// The parser could not be started.
    #[error("cannot run {}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file or directory could not be read, written or linked.
    #[error("{}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A profile directory that aactl was to read does not exist (or is no directory).
    #[error("profile directory {} not found (use -d DIR)", dir.display())]
    ProfileDirNotFound {
        /// The directory.
        dir: PathBuf,
    },
    /// A requested profile is in no file of the profile directory.
    #[error(
        "profile {name} not found in {}{}",
        dir.display(),
        suggestion.as_ref().map(|s| format!("; did you mean: {s}")).unwrap_or_default()
    )]
    ProfileNotFound {
        /// The profile name, path or program given.
        name: String,
        /// The directory that was searched.
        dir: PathBuf,
        /// The closest profile name or profile file name, when one is near
        /// ([`crate::diag::suggest::closest`]).
        suggestion: Option<String>,
    },
    /// A requested profile is in no readable file of the profile directory,
    /// and some files could not be read (it may be in one of them).
    #[error(
        "profile {name} not found in {}: cannot read {}{}",
        dir.display(),
        unreadable.first().map(|(p, why)| format!("{}: {why}", p.display())).unwrap_or_default(),
        match unreadable.len() {
            0 | 1 => String::new(),
            n => format!(" (and {} more files)", n - 1),
        }
    )]
    ProfileNotFoundUnreadable {
        /// The profile name, path or program given.
        name: String,
        /// The directory that was searched.
        dir: PathBuf,
        /// The files that could not be read, and why (`Permission denied`).
        unreadable: Vec<(PathBuf, String)>,
    },
    /// The target apparmor_parser release does not accept the mode flag a
    /// mode change would write (`prompt` and `default_allow` before 4.1).
    #[error(
        "the {mode} mode needs AppArmor {} or later; apparmor_parser {} rejects the flag",
        introduced.as_str(),
        target.as_str()
    )]
    ModeNotAccepted {
        /// The mode (`prompt`, `default_allow`, …).
        mode: &'static str,
        /// The release line that introduced it.
        introduced: crate::policy::ParserVersion,
        /// The release line edited for.
        target: crate::policy::ParserVersion,
    },
    /// A profile file could not be parsed or edited.
    #[error("{}: {message}", path.display())]
    Edit {
        /// The profile file.
        path: PathBuf,
        /// What went wrong (with line when known).
        message: String,
    },
    /// A file to be replaced no longer holds the text the edit was computed
    /// from (another program wrote it in between); it was left as it is.
    #[error(
        "{}: changed by another program since it was read; not overwritten (run the command again)",
        path.display()
    )]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// A write to the kernel interface (`.remove`) failed.
    #[error("unable to remove \"{name}\" via {}: {}", path.display(), kind.describe())]
    KernelWrite {
        /// The interface file.
        path: PathBuf,
        /// The profile name.
        name: String,
        /// Classification of the errno.
        kind: KernelErrorKind,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A parser run the loader depends on failed (e.g. `--names` on the profile
    /// directories: acting on an incomplete list would remove known profiles).
    #[error("apparmor_parser failed: {}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Parser {
        /// What the parser reported.
        errors: Vec<LoadError>,
    },
    /// Loaded policy could not be read (e.g. EACCES on `profiles` as non-root).
    #[error("cannot read loaded policy: {0}")]
    Runtime(String),
}

/// Why the release of an `apparmor_parser` could not be told
/// ([`crate::loader::Loader::query_version`]). A parser that prints more
/// than it should or exits with an error is not trusted with its version.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// The program could not be started.
    #[error("cannot run {}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `--version` did not finish in time; the process was killed.
    #[error("{} --version did not finish within {seconds} s", program.display())]
    TimedOut {
        /// The program.
        program: PathBuf,
        /// The time allowed, in seconds.
        seconds: u64,
    },
    /// `--version` exited with a status other than 0, or was killed.
    #[error("{} --version failed ({})", program.display(), describe_termination(*termination))]
    Failed {
        /// The program.
        program: PathBuf,
        /// How it ended.
        termination: super::Termination,
    },
    /// `--version` printed more than the bytes read of it.
    #[error("{} --version printed more than {limit} bytes", program.display())]
    TooLong {
        /// The program.
        program: PathBuf,
        /// The bytes read ([`crate::loader::VERSION_OUTPUT_LIMIT`]).
        limit: usize,
    },
    /// `--version` printed no `AppArmor parser version X.Y…` line.
    #[error("{} --version printed no version", program.display())]
    NoVersion {
        /// The program.
        program: PathBuf,
    },
}

fn describe_termination(t: super::Termination) -> String {
    match t {
        super::Termination::Exited(c) => format!("exit status {c}"),
        super::Termination::Signaled(s) => match super::runner::signal_name(s) {
            "unknown" => format!("killed by signal {s}"),
            name => format!("killed by {name}"),
        },
    }
}

impl From<crate::system::edit::EditError> for LoaderError {
    fn from(e: crate::system::edit::EditError) -> Self {
        use crate::system::edit::EditError;
        match e {
            EditError::Changed { path } => LoaderError::Changed { path },
            EditError::Io { path, source } => LoaderError::Io { path, source },
            // (non_exhaustive within the crate: every variant is listed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::chain;

    /// A type that prints its cause itself and also returns it as source.
    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct Both {
        path: String,
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn chain_prints_each_cause_once_without_os_error_numbers() {
        let denied = || std::io::Error::from_raw_os_error(13);
        // the cause only as source
        let e = LoaderError::Io {
            path: "/p".into(),
            source: denied(),
        };
        assert_eq!(chain(&e), "/p: Permission denied");
        // the cause in the text and as source
        let e = Both {
            path: "/q".into(),
            source: denied(),
        };
        assert_eq!(chain(&e), "/q: Permission denied");
        // an I/O error alone
        assert_eq!(chain(&denied()), "Permission denied");
        // two levels: a loader error around a type that prints its cause
        let e = LoaderError::Io {
            path: "/r".into(),
            source: std::io::Error::other(Both {
                path: "/s".into(),
                source: denied(),
            }),
        };
        assert!(!chain(&e).contains("os error"), "{}", chain(&e));
    }
}
