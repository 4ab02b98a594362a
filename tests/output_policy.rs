//! One standard-output policy for every aactl subcommand: with stdout on /dev/full each
//! prints `aactl: cannot write to standard output: No space left on device` once and exits
//! 2; error causes are printed once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs aactl with stdout on /dev/full; returns (status, stderr).
fn into_full(args: &[&str]) -> (i32, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(full)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A profile tree for the mode commands: `foo` in complain mode.
fn mode_tree(dir: &Path) -> PathBuf {
    let base = dir.join("apparmor.d");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(
        base.join("foo"),
        "profile foo /usr/bin/foo flags=(complain) {\n  /etc/passwd r,\n}\n",
    )
    .unwrap();
    base
}

#[test]
fn every_subcommand_reports_a_full_stdout_once_and_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let snap = d.path().join("snap");
    let base = mode_tree(d.path());
    let profile = "testdata/loader/profiles/g02-bare-include";
    let root = "testdata/systems/debian12-vm";
    let log = "testdata/triage/cupsd.log";
    let cases: Vec<Vec<&str>> = vec![
        vec!["status", "--root", root],
        vec!["status", "--json", "--root", root],
        vec!["ps", "--root", root],
        vec!["ps", "--json", "--root", root],
        vec!["snapshot", snap.to_str().unwrap(), "--root", root],
        vec!["log", "--file", log],
        vec!["log", "--json", "--file", log],
        vec!["log", "--summary", "--file", log],
        vec!["log", "--suggest", "--file", log],
        vec!["check", profile],
        vec!["check", "--format", "json", profile],
        vec!["load", "--dry-run", profile],
        vec!["load", "--dry-run", "--json", profile],
        vec!["replace", "--dry-run", profile],
        vec![
            "enforce",
            "--base",
            base.to_str().unwrap(),
            "--no-reload",
            "--parser",
            "/nonexistent",
            "foo",
        ],
        vec!["metrics", "--root", root, "--log", log],
        vec!["metrics", "--openmetrics", "--root", root, "--no-log"],
        vec!["--help"],
        vec!["--version"],
    ];
    for args in &cases {
        let (code, err) = into_full(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(
            err.matches("cannot write to standard output").count(),
            1,
            "{args:?}: {err}"
        );
        assert!(
            err.ends_with("aactl: cannot write to standard output: No space left on device\n"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn check_prints_a_missing_features_file_cause_once() {
    let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args(["check", "--features", "/nonexistent", "x"])
        .current_dir(repo())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}
