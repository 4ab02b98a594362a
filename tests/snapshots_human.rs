//! Snapshots (insta) of aactl's human-facing output: the built binary run on the
//! repository's fixtures, with `TZ=UTC`, `LC_ALL=C`, `NO_COLOR=1`, `COLUMNS=200` and stdin
//! null; temporary directories are replaced by `[TMP]`. Snapshots live in tests/snapshots/.
//!
//! After an intended change of output, update the snapshots (and the generated man pages,
//! tests/status_man.rs and tests/man_aactl.rs) with the one command
//!
//! ```text
//! INSTA_UPDATE=always cargo test --test integration -- snapshots_human status_man man_aactl
//! ```
//!
//! then read `git diff tests/snapshots man` and commit. (`cargo insta` is not needed.) Under
//! `CI=true` insta writes nothing and a missing or different snapshot fails.

use crate::common;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs the built aactl in the repository with a fixed environment; returns one text with
/// the exit status, stdout and stderr, `tmp` (when given) replaced by `[TMP]`.
fn run(args: &[&str], tmp: Option<&Path>) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args(args)
        .current_dir(common::repo())
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .output()
        .expect("run aactl");
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match tmp {
        Some(t) => text.replace(t.to_str().expect("UTF-8 temp path"), "[TMP]"),
        None => text,
    }
}

/// A temporary copy of testdata/triage/profiles (the mode commands and --write edit it).
fn profiles_copy() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let src = common::repo().join("testdata/triage/profiles");
    for e in walkdir::WalkDir::new(&src) {
        let e = e.unwrap();
        let to = d.path().join(e.path().strip_prefix(&src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
    d
}

macro_rules! snap {
    ($name:literal, $args:expr) => {
        insta::assert_snapshot!($name, run($args, None))
    };
    ($name:literal, $args:expr, $tmp:expr) => {
        insta::assert_snapshot!($name, run($args, Some($tmp)))
    };
}

const VM: &str = "testdata/systems/debian12-vm";
/// The mode commands' parser, named so the dry-run does not depend on the host's PATH.
const PARSER: &str = "--parser=/usr/sbin/apparmor_parser";
const LOG: &str = "testdata/triage/cupsd.log";

#[test]
fn tables() {
    snap!("status", &["--root", VM, "status"]);
    snap!("ps", &["--root", VM, "ps"]);
    snap!("ps_confined", &["--root", VM, "ps", "--confined"]);
    snap!("log", &["log", LOG]);
    snap!("log_summary", &["log", "--summary", LOG]);
    snap!("log_stats", &["log", "--stats", LOG]);
}

#[test]
fn check_diagnostics() {
    for (name, file) in [
        ("syntax", "testdata/policy/invalid/syntax.sd"),
        ("semantic", "testdata/policy/semantic/file.sd"),
        ("include", "testdata/policy/invalid/include.sd"),
    ] {
        // pinned to one release: the default is the installed parser's
        let base = [
            "check",
            "--parser-version",
            "6.0",
            "--base",
            "/nonexistent",
            file,
        ];
        insta::assert_snapshot!(format!("check_{name}"), run(&base, None));
        let json = [&base[..], &["--format", "json"]].concat();
        insta::assert_snapshot!(format!("check_{name}_json"), run(&json, None));
    }
}

/// One file of newer constructs checked for each parser release: what each
/// release rejects, with codes naming the release that introduced it.
#[test]
fn check_parser_versions() {
    let file = "testdata/policy/releases/newer.sd";
    for v in ["3.0", "4.1", "5.0"] {
        let args = [
            "check",
            "--parser-version",
            v,
            "--base",
            "/nonexistent",
            file,
        ];
        insta::assert_snapshot!(format!("check_parser_version_{v}"), run(&args, None));
    }
}

#[test]
fn suggestions() {
    snap!("suggest", &["log", "--suggest", LOG]);
    snap!(
        "suggest_profile_dir",
        &[
            "log",
            "--suggest",
            "--profile-dir",
            "testdata/triage/profiles",
            LOG
        ]
    );
    let d = profiles_copy();
    let dir = d.path().to_str().unwrap();
    snap!(
        "suggest_write_dry_run",
        &[
            "log",
            "--suggest",
            "--write",
            "--dry-run",
            "--profile-dir",
            dir,
            LOG
        ],
        d.path()
    );
}

#[test]
fn mode_dry_runs() {
    let d = profiles_copy();
    let dir = d.path().to_str().unwrap();
    for mode in ["complain", "enforce", "audit"] {
        insta::assert_snapshot!(
            format!("mode_{mode}_dry_run"),
            run(
                &[mode, "--dry-run", "-d", dir, PARSER, "/usr/sbin/cupsd"],
                Some(d.path())
            )
        );
    }
}

#[test]
fn common_mistakes() {
    let d = profiles_copy();
    let dir = d.path().to_str().unwrap();
    snap!(
        "error_missing_log_file",
        &["log", "testdata/triage/missing.log"]
    );
    snap!(
        "error_missing_check_file",
        &["check", "testdata/policy/missing.sd"]
    );
    snap!(
        "error_unknown_profile",
        &[
            "complain",
            "--dry-run",
            "-d",
            dir,
            PARSER,
            "no-such-profile"
        ],
        d.path()
    );
    snap!("error_bad_option", &["status", "--no-such-option"]);
    snap!(
        "error_missing_root",
        &["--root", "testdata/no-such-root", "status"]
    );
}
