//! How aactl tells the installed apparmor_parser's release (`check` and
//! `log --suggest` without `--parser-version`, `status`): a stand-in parser
//! first on `PATH` that hangs, floods, fails or prints control characters
//! must not hang aactl or reach the terminal raw; aactl then warns in one
//! line and falls back to the newest release. Also the values
//! `--parser-version` refuses.

use crate::common::{aactl, install_script};
use apparmor::loader::{
    Loader, Parser, RawOutput, RecordingRunner, Termination, VERSION_OUTPUT_LIMIT, VersionError,
    parse_version,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A folder holding a stand-in `apparmor_parser` running `body` (sh), and a
/// small profile to check. The folder name may hold odd characters.
fn stand_in(name: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join(name);
    std::fs::create_dir(&bin).unwrap();
    install_script(
        &bin.join("apparmor_parser"),
        &format!("#!/bin/sh\n{body}\n"),
    );
    std::fs::write(
        t.path().join("p"),
        "profile p /usr/bin/p {\n  userns,\n  signal send set=(tstp),\n}\n",
    )
    .unwrap();
    (t, bin)
}

/// Runs the built aactl with `bin` first on `PATH`; (exit, stdout, stderr,
/// seconds taken).
fn run(bin: &Path, dir: &Path, args: &[&str]) -> (i32, String, String, f64) {
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", bin.display());
    let t = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let text = |b: &[u8]| {
        assert!(
            !b.iter()
                .any(|&c| (c < 0x20 && c != b'\n') || c == 0x7f || c == 0x9b),
            "raw control character in {:?}",
            String::from_utf8_lossy(b)
        );
        String::from_utf8(b.to_vec()).unwrap()
    };
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
        secs,
    )
}

/// stderr and the last stdout line, with the temporary folder replaced.
fn shown(dir: &Path, out: &str, err: &str) -> String {
    let d = dir.display().to_string();
    format!(
        "stderr:\n{}stdout (last line):\n{}\n",
        err.replace(&d, "[DIR]"),
        out.lines().last().unwrap_or("")
    )
}

/// A parser whose `--version` never ends: aactl check waits 5 s, kills it,
/// warns and checks for 6.0 (the `tstp` signal name is then accepted).
#[test]
fn hanging_parser_is_given_up_after_five_seconds() {
    let (t, bin) = stand_in("bin", "exec sleep 20");
    let (code, out, err, secs) = run(&bin, t.path(), &["check", "p"]);
    assert!(secs < 15.0, "took {secs} s");
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!(shown(t.path(), &out, &err), @r"
    stderr:
    aactl: warning: [DIR]/bin/apparmor_parser --version did not finish within 5 s; assuming apparmor_parser 6.0
    stdout (last line):
    1 file(s) checked, 0 invalid (for apparmor_parser 6.0)
    ");
}

/// The same for `log --suggest`; a child the parser left behind holding the
/// output pipe does not keep aactl waiting either.
#[test]
fn hanging_parser_does_not_stop_suggestions() {
    let (t, bin) = stand_in("bin", "sleep 20 &\nsleep 20");
    let log = t.path().join("log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1.1:1): apparmor=\"DENIED\" operation=\"userns_create\" class=\"namespace\" profile=\"p\" pid=1 comm=\"p\" requested=\"userns_create\" denied=\"userns_create\"\n",
    )
    .unwrap();
    let (code, out, err, secs) = run(&bin, t.path(), &["log", "--suggest", "log"]);
    assert!(secs < 15.0, "took {secs} s");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        format!(
            "aactl: warning: {}/apparmor_parser --version did not finish within 5 s; assuming apparmor_parser 6.0\n",
            bin.display()
        )
    );
    assert!(out.contains("userns create,"), "{out}");
}

/// Parsers that answer badly, each with its one warning line (or none).
#[test]
fn odd_parsers_give_one_warning_and_a_fallback() {
    let cases = [
        // a failing --version is not trusted, whatever it printed
        (
            "fails",
            "bin",
            "echo 'AppArmor parser version 4.1.0'; exit 3",
        ),
        // megabytes: only 64 KiB are read, then the pipe is closed
        (
            "floods",
            "bin",
            "yes 'AppArmor parser version 4.1.0' | head -c 50000000",
        ),
        ("no version", "bin", "echo 'hello'"),
        ("killed", "bin", "kill -9 $$"),
        // control characters after the version are not part of it
        (
            "escapes in the version",
            "bin",
            r"printf 'AppArmor parser version 4.1.0\033[31m\033]0;title\007\r\n'",
        ),
        // and a parser in a folder whose name has an escape sequence
        ("escape in the path", "b\x1b[2Jin", "exit 1"),
    ];
    let mut all = String::new();
    for (what, dir, body) in cases {
        let (t, bin) = stand_in(dir, body);
        let (code, out, err, secs) = run(&bin, t.path(), &["check", "p"]);
        assert!(secs < 15.0, "{what}: took {secs} s");
        all += &format!("== {what} (exit {code})\n{}", shown(t.path(), &out, &err));
    }
    insta::assert_snapshot!(all);
}

/// `status` never gets as far as the parser on this host (no AppArmor), so
/// the library answers are checked directly, through a recording runner.
#[test]
fn query_version_errors() {
    let ask = |out: RawOutput| {
        Loader::new(
            Parser::new("/x/apparmor_parser"),
            RecordingRunner::new().then(out),
        )
        .query_version()
    };
    let ok = RawOutput::exited(0, "AppArmor parser version 5.0.2\nCopyright\n", "");
    assert_eq!(ask(ok).unwrap(), "5.0.2");
    let e = ask(RawOutput::exited(1, "AppArmor parser version 5.0.2\n", "")).unwrap_err();
    assert!(matches!(
        e,
        VersionError::Failed {
            termination: Termination::Exited(1),
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "/x/apparmor_parser --version failed (exit status 1)"
    );
    let killed = RawOutput {
        termination: Termination::Signaled(9),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    assert_eq!(
        ask(killed).unwrap_err().to_string(),
        "/x/apparmor_parser --version failed (killed by SIGKILL)"
    );
    let e = ask(RawOutput::exited(0, "version 5\n", "")).unwrap_err();
    assert!(matches!(e, VersionError::NoVersion { .. }), "{e}");
    let long = "AppArmor parser version 5.0.2\n".repeat(VERSION_OUTPUT_LIMIT);
    let e = ask(RawOutput::exited(0, &long, "")).unwrap_err();
    assert!(matches!(e, VersionError::TooLong { .. }), "{e}");
    // a version that does not start with a number has no release line
    let mut l = Loader::new(
        Parser::new("/x/apparmor_parser"),
        RecordingRunner::new().then(RawOutput::exited(0, "AppArmor parser version x1\n", "")),
    );
    assert!(matches!(
        l.query_parser_version(),
        Err(VersionError::NoVersion { .. })
    ));
}

#[test]
fn parse_version_keeps_only_version_characters() {
    assert_eq!(
        parse_version("AppArmor parser version 3.0.8\nCopyright\n").as_deref(),
        Some("3.0.8")
    );
    assert_eq!(
        parse_version("AppArmor parser version 4.1.0~beta5-1ubuntu2 extra").as_deref(),
        Some("4.1.0~beta5-1ubuntu2")
    );
    assert_eq!(
        parse_version("AppArmor parser version 4.1.0\x1b[31mRED\x07\r").as_deref(),
        Some("4.1.0")
    );
    assert_eq!(parse_version("AppArmor parser version \x1b[2J"), None);
    let long = format!("AppArmor parser version {}", "9".repeat(1000));
    assert_eq!(parse_version(&long).map(|v| v.len()), Some(64));
}

/// The bounded run itself: a process that outlives the timeout is killed
/// and reported as timed out, well before its own end.
#[test]
fn bounded_run_times_out() {
    use apparmor::loader::{Bounds, Runner, SystemRunner, version_command};
    let (_t, bin) = stand_in("bin", "exec sleep 20");
    let bounds = Bounds {
        timeout: Duration::from_millis(300),
        max_stdout: 100,
    };
    let t = Instant::now();
    let e = SystemRunner
        .run_bounded(&version_command(bin.join("apparmor_parser")), bounds)
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

/// Values `--parser-version` refuses: one line naming the value and what is
/// expected, then clap's pointer to --help; exit 2.
#[test]
fn bad_parser_versions_are_usage_errors() {
    for v in ["2", "2.13", "abc", "4.1.0~rc1", "4.1.", "", "4..1"] {
        for cmd in [
            &["check", "--parser-version", v, "x"][..],
            &["log", "--suggest", "--parser-version", v, "/dev/null"],
        ] {
            let (code, out, err) = aactl(cmd);
            assert_eq!(code, 2, "{cmd:?}: {err}");
            assert!(out.is_empty());
            let first = err.lines().next().unwrap();
            assert_eq!(
                first,
                format!(
                    "aactl: invalid value '{v}' for '--parser-version <X.Y>': not a parser version (expected 3.0, 4.1, 5.0 or 6.0, or a full version such as 4.1.0)"
                ),
                "{cmd:?}"
            );
        }
    }
}

/// The JSON of `--suggest` names the release the rules are written for.
#[test]
fn suggest_json_names_the_release() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1.1:1): apparmor=\"DENIED\" operation=\"signal\" profile=\"p\" pid=1 comm=\"p\" requested_mask=\"send\" denied_mask=\"send\" signal=tstp peer=\"q\"\n",
    )
    .unwrap();
    let log = log.to_str().unwrap();
    let (code, out, err) = aactl(&["log", "--suggest", "--parser-version", "4.1", "--json", log]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["parser_version"], "4.1");
    assert_eq!(v["profiles"][0]["rules"][0], "signal send set=stp peer=q,");
}
