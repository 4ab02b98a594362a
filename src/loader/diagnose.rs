//! Decoding one `apparmor_parser` run: exit status, stderr and stdout become a
//! [`RunReport`] with typed [`LoadError`]s (the exit codes and messages are listed
//! in docs/loader.md).
//!
//! Rules (verified with 3.0.8; 6.0's wordings are recognised too):
//! - exit 0 is success **unless** error text was printed (then it is a failure);
//! - exit 1: syntax, semantic, usage or environment error, told apart by the text;
//! - exit 10 with no text: a compile worker died (the parent reports ECHILD);
//! - other small values: the errno of a file-level failure (2 = file missing);
//! - values ≥ 128: 256 − errno of a kernel write failure;
//! - killed by a signal: reported as such, never as a status.
//!
//! This is a parser of text: it takes bytes, never paths.

use super::command::Action;
use super::error::{KernelErrorKind, KernelOp, LoadError, ParserDiagnostic};
use super::runner::{RawOutput, Termination, signal_name};
use regex::Regex;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// A profile the parser reported as done (`--verbose`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileDone {
    /// What was done.
    pub op: KernelOp,
    /// The name as printed: short names for children and hats (`"hat"`, not
    /// `"parent//hat"`), children before their parent.
    pub name: String,
}

/// A file the parser skipped because `<base>/disable/<file>` exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The `disable` directory.
    pub dir: PathBuf,
    /// The file's base name.
    pub file: String,
}

/// Everything one run reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// How the process ended.
    pub termination: Termination,
    /// Profiles done (`--verbose` lines on stdout).
    pub done: Vec<ProfileDone>,
    /// Profile names (stdout of `--names`), in the parser's order.
    pub names: Vec<String>,
    /// Files skipped because of `disable/`.
    pub skipped: Vec<Skipped>,
    /// Files forced into complain mode by `force-complain/` (base names).
    pub forced_complain: Vec<String>,
    /// Warning lines, as printed.
    pub warnings: Vec<String>,
    /// Failures; empty means success.
    pub errors: Vec<LoadError>,
    /// Lines that were not recognised (kept so nothing is lost).
    pub other: Vec<String>,
}

impl RunReport {
    /// True when the run succeeded (no error of any kind).
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

static PARSER_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^AppArmor parser error(?: for (?P<file>.+?) in profile (?P<read>.+?))?(?: at line (?P<line>\d+))?: (?P<msg>.*)$",
    )
    .expect("static regex")
});
static UNABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:.*?: )?Unable to (?P<op>add|replace|remove) "(?P<name>.*)"\.\s+(?P<reason>.*)$"#,
    )
    .expect("static regex")
});
static DONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(?P<op>Addition|Replacement|Removal) succeeded for "(?P<name>.*)"\.$"#)
        .expect("static regex")
});
static CONVERTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^Warning converted to Error from profile (?P<prof>.*?) \((?P<file>.*)\): (?P<msg>.*)$",
    )
    .expect("static regex")
});
static UNKNOWN_ERRNO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Unknown error \((?P<n>-?\d+)\)").expect("static regex"));
static LEXER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Lexer found unexpected character: '(?P<ch>.*)' \(0x[0-9a-fA-F]+\) in state: (?P<state>\S+)$")
        .expect("static regex")
});

/// Decodes one run of `action` on `files` (the paths exactly as passed to the
/// parser; used to split `for FILE in profile READ` safely when names contain
/// those words).
pub fn diagnose(action: Action, files: &[PathBuf], raw: &RawOutput) -> RunReport {
    let mut r = RunReport {
        termination: raw.termination,
        done: Vec::new(),
        names: Vec::new(),
        skipped: Vec::new(),
        forced_complain: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
        other: Vec::new(),
    };
    let stdout = String::from_utf8_lossy(&raw.stdout);
    for line in stdout.lines() {
        if action == Action::Names {
            if !line.is_empty() {
                r.names.push(line.to_owned());
            }
        } else if let Some(c) = DONE.captures(line) {
            let op = match &c["op"] {
                "Addition" => KernelOp::Add,
                "Replacement" => KernelOp::Replace,
                _ => KernelOp::Remove,
            };
            r.done.push(ProfileDone {
                op,
                name: c["name"].to_owned(),
            });
        } else if !line.trim().is_empty() {
            r.other.push(line.to_owned());
        }
    }
    let stderr = String::from_utf8_lossy(&raw.stderr);
    let status = match raw.termination {
        Termination::Exited(c) => Some(c),
        Termination::Signaled(_) => None,
    };
    let mut usage_seen: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let line = line.trim_end();
        if line.is_empty() || line == "Use --subdomainfs to override." {
            continue;
        }
        if line.starts_with("Cache read/write disabled:") {
            // Harmless noise on hosts without AppArmor: the parser cannot use its cache.
            continue;
        }
        if line.starts_with("AppArmor parser error") {
            r.errors.push(LoadError::Syntax {
                diagnostic: parse_parser_error(line, files),
            });
        } else if let Some(c) = CONVERTED.captures(line) {
            r.errors.push(LoadError::Syntax {
                diagnostic: ParserDiagnostic {
                    file: Some(PathBuf::from(&c["file"])),
                    read_file: None,
                    line: None,
                    profile: Some(c["prof"].to_owned()),
                    message: format!(
                        "{} (profile {}; warning turned into an error)",
                        &c["msg"], &c["prof"]
                    ),
                    lexer_state: None,
                    hint: None,
                },
            });
        } else if let Some(c) = UNABLE.captures(line) {
            let op = match &c["op"] {
                "add" => KernelOp::Add,
                "replace" => KernelOp::Replace,
                _ => KernelOp::Remove,
            };
            let reason = strip_program_prefix(&c["reason"]);
            let errno = errno_from_reason(reason)
                .or_else(|| status.filter(|s| *s >= 128).map(|s| 256 - s))
                .unwrap_or(0);
            r.errors.push(LoadError::Kernel {
                op,
                profile: c["name"].to_owned(),
                errno,
                kind: KernelErrorKind::from_errno(errno),
                message: reason.to_owned(),
            });
        } else if let Some(rest) = line.strip_prefix("File ") {
            if let Some(name) = rest.strip_suffix(" not found, skipping...") {
                r.errors.push(LoadError::FileNotFound {
                    file: PathBuf::from(name),
                });
            } else {
                r.other.push(line.to_owned());
            }
        } else if line.starts_with("Warning: unable to find a suitable fs") {
            r.errors.push(LoadError::NoApparmorFs);
        } else if line.starts_with("Failed to load features")
            || line.starts_with("Kernel features abi not found")
            || line.contains("Failed to load policy-features")
            || line.contains("Failed to load kernel features")
        {
            r.errors.push(LoadError::Features {
                message: line.to_owned(),
            });
        } else if is_usage_line(line) {
            // 3.0.8 scans options twice and prints getopt's complaint twice.
            let msg = strip_program_prefix(line).to_owned();
            if !usage_seen.contains(&msg) {
                usage_seen.push(msg.clone());
                r.errors.push(LoadError::Usage { message: msg });
            }
        } else if let Some(rest) = line.strip_prefix("Skipping profile in ") {
            match rest.split_once(": ") {
                Some((dir, file)) => r.skipped.push(Skipped {
                    dir: PathBuf::from(dir),
                    file: file.to_owned(),
                }),
                None => r.other.push(line.to_owned()),
            }
        } else if let Some(rest) = line.strip_prefix("Warning: found ") {
            match rest.split_once(" in ") {
                Some((file, tail)) if tail.ends_with(", forcing complain mode") => {
                    r.forced_complain.push(file.to_owned())
                }
                _ => r.warnings.push(line.to_owned()),
            }
        } else if line.starts_with("Multiple definitions for profile") {
            r.errors.push(LoadError::Syntax {
                diagnostic: ParserDiagnostic {
                    file: (files.len() == 1).then(|| files[0].clone()),
                    read_file: None,
                    line: None,
                    profile: None,
                    message: line.to_owned(),
                    lexer_state: None,
                    hint: None,
                },
            });
        } else if line.starts_with("Warning") {
            r.warnings.push(line.to_owned());
        } else {
            r.other.push(line.to_owned());
        }
    }
    match raw.termination {
        Termination::Signaled(sig) => r.errors.push(LoadError::KilledBySignal {
            signal: sig,
            name: signal_name(sig).to_owned(),
        }),
        Termination::Exited(0) => {
            if r.errors.is_empty() {
                if let Some(l) = r
                    .other
                    .iter()
                    .find(|l| l.to_ascii_lowercase().contains("error"))
                {
                    r.errors
                        .push(LoadError::ErrorOnSuccess { message: l.clone() });
                }
            }
        }
        Termination::Exited(code) if r.errors.is_empty() => {
            let output = r.other.join("; ");
            r.errors.push(match code {
                10 if output.is_empty() => LoadError::WorkerDied,
                c if (128..256).contains(&c) => {
                    let errno = 256 - c;
                    LoadError::Kernel {
                        op: match action {
                            Action::Add => KernelOp::Add,
                            Action::Remove => KernelOp::Remove,
                            _ => KernelOp::Replace,
                        },
                        profile: String::new(),
                        errno,
                        kind: KernelErrorKind::from_errno(errno),
                        message: output,
                    }
                }
                c if (2..128).contains(&c) => LoadError::FileLevel { errno: c, output },
                c => LoadError::Failed { status: c, output },
            });
        }
        Termination::Exited(_) => {}
    }
    r
}

fn is_usage_line(line: &str) -> bool {
    line.contains("unrecognized option")
        || line.contains("invalid option")
        || line.contains("option requires an argument")
        || line.contains("doesn't allow an argument")
        || line.contains("Too many actions given")
        || line.contains("is ambiguous")
}

/// Drops a leading `…apparmor_parser: ` (6.0 repeats the program name inside the reason).
fn strip_program_prefix(s: &str) -> &str {
    match s.find("apparmor_parser: ") {
        Some(i) if !s[..i].contains(' ') => &s[i + "apparmor_parser: ".len()..],
        _ => s,
    }
}

/// The errno named by the reason text of an `Unable to …` line.
fn errno_from_reason(reason: &str) -> Option<i32> {
    if let Some(c) = UNKNOWN_ERRNO.captures(reason) {
        return c["n"].parse::<i32>().ok().map(i32::abs);
    }
    let r = reason.to_ascii_lowercase();
    Some(if r.contains("already exists") {
        17
    } else if r.contains("doesn't exist") || r.contains("does not exist") {
        2
    } else if r.contains("access denied") || r.contains("while confined") {
        13
    } else if r.contains("permission denied") {
        1
    } else if r.contains("conform to protocol") {
        71
    } else if r.contains("version not supported") {
        93
    } else if r.contains("no space") {
        28
    } else {
        return None;
    })
}

/// Parses one `AppArmor parser error…` line: the file, line and message, whether the
/// error names a profile (`in profile X`) or only a file (docs/loader.md).
pub fn parse_parser_error(line: &str, files: &[PathBuf]) -> ParserDiagnostic {
    // Prefer the files we passed, in case a name contains " in profile ".
    let mut file = None;
    let mut rest = None;
    for f in files {
        let prefix = format!("AppArmor parser error for {} in profile ", f.display());
        if let Some(r) = line.strip_prefix(&prefix) {
            file = Some(f.clone());
            rest = Some(r);
            break;
        }
    }
    let (file, read, lineno, msg) = match (file, rest) {
        (Some(f), Some(rest)) => {
            static TAIL: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r"^(?P<read>.+?)(?: at line (?P<line>\d+))?: (?P<msg>.*)$")
                    .expect("static regex")
            });
            match TAIL.captures(rest) {
                Some(c) => (
                    Some(f),
                    Some(PathBuf::from(&c["read"])),
                    c.name("line").and_then(|m| m.as_str().parse().ok()),
                    c["msg"].to_owned(),
                ),
                None => (Some(f), None, None, rest.to_owned()),
            }
        }
        _ => match PARSER_ERROR.captures(line) {
            Some(c) => (
                c.name("file").map(|m| PathBuf::from(m.as_str())),
                c.name("read").map(|m| PathBuf::from(m.as_str())),
                c.name("line").and_then(|m| m.as_str().parse().ok()),
                c["msg"].to_owned(),
            ),
            None => (None, None, None, line.to_owned()),
        },
    };
    let (lexer_state, hint) = match LEXER.captures(&msg) {
        Some(c) => {
            let state = c["state"].to_owned();
            let hint = match (&c["ch"], state.as_str()) {
                ("<", "INITIAL") => Some(
                    "a line starting with `<…>` looks like an include without the `include` keyword"
                        .to_owned(),
                ),
                (ch, st) if st.ends_with("_MODE") && st != "INITIAL" => Some(format!(
                    "`{ch}` is not understood by this parser in a {} rule; the syntax may be newer than the parser",
                    st.trim_end_matches("_MODE").to_ascii_lowercase()
                )),
                _ => None,
            };
            (Some(state), hint)
        }
        None => (None, None),
    };
    ParserDiagnostic {
        file,
        read_file: read,
        line: lineno,
        profile: None,
        message: msg,
        lexer_state,
        hint,
    }
}

/// The file an error is about, when known: the read file, else the command-line file.
pub fn error_file(e: &LoadError) -> Option<&Path> {
    match e {
        LoadError::Syntax { diagnostic } => diagnostic
            .read_file
            .as_deref()
            .or(diagnostic.file.as_deref()),
        LoadError::FileNotFound { file } => Some(file),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(action: Action, code: i32, out: &str, err: &str) -> RunReport {
        diagnose(
            action,
            &[PathBuf::from("usesbroken")],
            &RawOutput::exited(code, out, err),
        )
    }

    #[test]
    fn in_profile_is_the_file_being_read() {
        let r = run(
            Action::Replace,
            1,
            "",
            "AppArmor parser error for usesbroken in profile /tmp/inc/abstractions/broken at line 2: Invalid capability bogus.\n",
        );
        let LoadError::Syntax { diagnostic: d } = &r.errors[0] else {
            panic!("{r:?}")
        };
        assert_eq!(d.file.as_deref(), Some(Path::new("usesbroken")));
        assert_eq!(
            d.read_file.as_deref(),
            Some(Path::new("/tmp/inc/abstractions/broken"))
        );
        assert_eq!(d.line, Some(2));
        assert_eq!(d.message, "Invalid capability bogus.");
        assert_eq!(
            d.to_string(),
            "/tmp/inc/abstractions/broken:2: Invalid capability bogus. (while loading usesbroken)"
        );
    }

    #[test]
    fn error_text_on_exit_zero_is_failure() {
        let r = run(
            Action::Replace,
            0,
            "",
            "AppArmor parser error at line 3: x\n",
        );
        assert!(!r.ok());
        let r = run(Action::Replace, 0, "", "something: fatal error here\n");
        assert!(matches!(r.errors[0], LoadError::ErrorOnSuccess { .. }));
        let r = run(
            Action::Replace,
            0,
            "",
            "Cache read/write disabled: interface file missing. (Kernel needs AppArmor 2.4 compatibility patch.)\n",
        );
        assert!(r.ok(), "{r:?}");
    }

    #[test]
    fn kernel_status_without_text_uses_256_minus_errno() {
        for (code, kind) in [
            (243, KernelErrorKind::PermissionDenied),
            (239, KernelErrorKind::AlreadyExists),
            (228, KernelErrorKind::NoSpace),
            (254, KernelErrorKind::NotFound),
            (255, KernelErrorKind::NotPermitted),
        ] {
            let r = run(Action::Replace, code, "", "");
            match &r.errors[..] {
                [LoadError::Kernel { kind: k, errno, .. }] => {
                    assert_eq!(*k, kind);
                    assert_eq!(*errno, 256 - code);
                }
                e => panic!("{code}: {e:?}"),
            }
        }
    }

    #[test]
    fn usage_printed_twice_is_reported_once() {
        let r = run(
            Action::Replace,
            1,
            "",
            "apparmor_parser: unrecognized option '--bogus'\napparmor_parser: unrecognized option '--bogus'\n",
        );
        assert_eq!(r.errors.len(), 1);
    }

    #[test]
    fn signal_and_worker_death() {
        let raw = RawOutput {
            termination: Termination::Signaled(15),
            stdout: vec![],
            stderr: vec![],
        };
        let r = diagnose(Action::Replace, &[], &raw);
        assert_eq!(
            r.errors[0].to_string(),
            "apparmor_parser was killed by signal 15 (SIGTERM)"
        );
        assert!(matches!(
            run(Action::Remove, 10, "", "").errors[0],
            LoadError::WorkerDied
        ));
    }
}
