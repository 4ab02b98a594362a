//! Regression tests for small robustness fixes: aa-status JSON keys, the
//! policy variable resolver, option bounds and date checks, `--root`
//! checks, and one-line error messages.

use crate::common::aactl;
use crate::qa_status::{SFS, aa_status, fake_root};

#[test]
fn aa_status_json_has_each_profile_key_once() {
    // Two names that read the same once invalid UTF-8 is replaced, and a
    // name listed twice (in one mode, then in two modes).
    let d = fake_root();
    std::fs::write(
        d.path().join(SFS).join("profiles"),
        b"a\xff (enforce)\na\xfe (enforce)\nb (complain)\nb (complain)\nc (enforce)\nc (complain)\n",
    )
    .unwrap();
    let (out, err, code) = aa_status(d.path(), &["--json", "--show=profiles"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "{\"version\": \"2\", \"profiles\": {\"a\u{fffd}\": \"enforce\", \"c\": \"enforce\", \"b\": \"complain\"}}\n"
    );
    let (out, _, code) = aa_status(d.path(), &["--pretty-json", "--show=profiles"]);
    assert_eq!(code, 0);
    for key in ["\"a\u{fffd}\"", "\"b\"", "\"c\""] {
        assert_eq!(out.matches(key).count(), 1, "{key} in {out}");
    }
    // The counts and the text report still list every line, as upstream.
    let (out, _, _) = aa_status(d.path(), &["--json", "--count", "--show=profiles"]);
    assert_eq!(out, "{\"version\": \"2\", \"profile_count\": 6}\n");
    let (out, _, _) = aa_status(d.path(), &["--show=profiles"]);
    assert!(out.contains("6 profiles are loaded.\n"), "{out}");
    assert!(out.contains("3 profiles are in enforce mode.\n"), "{out}");
}

/// A profile using `@{V0}`, where `@{Vi}` holds `x@{Vi+1}` and the last one
/// `end` (or, with `cycle`, the last one refers back to `@{V0}`).
fn variable_chain(n: usize, cycle: bool) -> String {
    let mut s = String::new();
    for i in 0..n {
        let value = if i + 1 < n {
            format!("x@{{V{}}}", i + 1)
        } else if cycle {
            "@{V0}".to_owned()
        } else {
            "end".to_owned()
        };
        s += &format!("@{{V{i}}}={value}\n");
    }
    s + "profile a {\n  /@{V0} r,\n}\n"
}

#[test]
fn a_long_variable_chain_is_not_recursion() {
    let d = tempfile::tempdir().unwrap();
    let chain = d.path().join("chain");
    for n in [40, 1000] {
        std::fs::write(&chain, variable_chain(n, false)).unwrap();
        let (code, out, err) = aactl(&["check", "--syntax-only", chain.to_str().unwrap()]);
        assert_eq!(code, 0, "{n}: {out}{err}");
    }
    // apparmor_parser agrees for 40 (when installed)
    if let Ok(p) = apparmor::loader::find_parser_from_env() {
        std::fs::write(&chain, variable_chain(40, false)).unwrap();
        let st = std::process::Command::new(p)
            .args(["-Q", "-K"])
            .arg(&chain)
            .output()
            .unwrap();
        assert!(st.status.success(), "{st:?}");
    }
    // a real cycle, however long, is still reported
    std::fs::write(&chain, variable_chain(50, true)).unwrap();
    let (code, out, _) = aactl(&["check", "--syntax-only", chain.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is referenced recursively"), "{out}");
    // past the bound: a distinct message, not "recursively"
    std::fs::write(&chain, variable_chain(1100, false)).unwrap();
    let (code, out, _) = aactl(&["check", "--syntax-only", chain.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is nested too deeply"), "{out}");
    assert!(!out.contains("recursively"), "{out}");
}

#[test]
fn a_long_run_of_variable_openers_is_checked_in_linear_time() {
    // 400 KB of `@{` in a rule, in a variable's value, and before a
    // closing brace (every `@{` then reaches the same `}`). Each took 2.5 to
    // 7 s in a debug build when every `@{` searched for its `}` or scanned
    // the name up to it; now about 0.1 s.
    let run = "@{".repeat(200_000);
    let d = tempfile::tempdir().unwrap();
    for (what, text) in [
        ("rule", format!("profile a {{\n  /{run} r,\n}}\n")),
        (
            "rule, closed",
            format!("profile a {{\n  /x{run}b}} r,\n}}\n"),
        ),
        (
            "value, closed",
            format!("@{{X}}={run}}}\nprofile a {{\n  /@{{X}} r,\n}}\n"),
        ),
        ("name", format!("profile {run} {{\n}}\n")),
    ] {
        let f = d.path().join("p");
        std::fs::write(&f, &text).unwrap();
        let t = std::time::Instant::now();
        let (code, _, err) = aactl(&["check", f.to_str().unwrap()]);
        let took = t.elapsed();
        assert!(code <= 1, "{what}: {err}");
        assert!(
            took < std::time::Duration::from_secs(2),
            "{what}: {took:?} for {} bytes",
            text.len()
        );
    }
}

/// A log file with one record before and one after 1700000150 (epoch).
fn two_record_log(dir: &std::path::Path) -> std::path::PathBuf {
    let line = |t: u64, n: u32| {
        format!(
            "type=AVC msg=audit({t}.000:{n}): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"p\" name=\"/etc/f{n}\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
        )
    };
    let f = dir.join("audit.log");
    std::fs::write(&f, line(1_700_000_100, 1) + &line(1_700_000_200, 2)).unwrap();
    f
}

#[test]
fn threads_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let log = two_record_log(d.path());
    let log = log.to_str().unwrap();
    for n in ["100000", "65"] {
        let (code, out, err) = aactl(&["log", "--threads", n, log]);
        assert_eq!(code, 2, "{n}: {err}");
        assert!(out.is_empty());
        assert!(
            err.starts_with(&format!(
                "aactl: invalid value '{n}' for '--threads <N>': {n} is not in 0..=64\n"
            )),
            "{err}"
        );
    }
    for n in ["0", "1", "64"] {
        let (code, out, err) = aactl(&["log", "--threads", n, log]);
        assert_eq!(code, 0, "{n}: {err}");
        assert_eq!(out.lines().count(), 2, "{n}: {out}");
    }
}

#[test]
fn boot_does_not_take_a_file_as_its_id() {
    let d = tempfile::tempdir().unwrap();
    let log = two_record_log(d.path());
    let log = log.to_str().unwrap();
    // the host booted between the two records
    std::fs::create_dir_all(d.path().join("proc")).unwrap();
    std::fs::write(d.path().join("proc/stat"), "cpu 1\nbtime 1700000150\n").unwrap();
    let root = d.path().to_str().unwrap();
    for args in [
        &["log", "--boot", log, "--root", root][..],
        &["log", "-b", log, "--root", root],
        &["log", "--summary", "--boot", log, "--root", root],
    ] {
        let (code, out, err) = aactl(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!out.contains("/etc/f1"), "{args:?}: {out}");
        assert!(out.contains("/etc/f2"), "{args:?}: {out}");
    }
    // an id is given with `=`, and is for the journal only
    let (code, _, err) = aactl(&["log", "--boot=-1", log, "--root", root]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs the journal"), "{err}");
}

#[test]
fn impossible_dates_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let log = two_record_log(d.path());
    let log = log.to_str().unwrap();
    for (arg, want) in [
        (
            "2023-02-30",
            "aactl: --since: invalid date \"2023-02-30\": 2023-02 has days 1 to 28\n",
        ),
        (
            "2023-04-31 10:00",
            "aactl: --since: invalid date \"2023-04-31 10:00\": 2023-04 has days 1 to 30\n",
        ),
        (
            "2023-01-01 24:00",
            "aactl: --since: invalid time \"2023-01-01 24:00\": hours go to 23, minutes and seconds to 59\n",
        ),
    ] {
        let (code, out, err) = aactl(&["log", "--since", arg, log]);
        assert_eq!(code, 2, "{arg}: {err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(err, want);
    }
    let (code, out, err) = aactl(&["log", "--since", "2024-02-29", log]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "both records are older: {out}");
}

/// A relative time as the help shows it, `--since -1h` (a separate argument
/// starting with a hyphen), is a time, not an unknown option.
#[test]
fn since_takes_a_relative_time_as_its_own_argument() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("audit.log");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let line = |t: u64, name: &str| {
        format!(
            "type=AVC msg=audit({t}.000:1): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"{name}\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
        )
    };
    std::fs::write(&log, line(now - 60, "/recent") + &line(now - 7200, "/old")).unwrap();
    let log = log.to_str().unwrap();
    for (flag, want, not) in [
        ("--since", "/recent", "/old"),
        ("--until", "/old", "/recent"),
    ] {
        let (code, out, err) = aactl(&["log", flag, "-1h", log]);
        assert_eq!(code, 0, "{flag}: {err}");
        assert!(out.contains(want) && !out.contains(not), "{flag}: {out}");
    }
}

#[test]
fn a_missing_root_is_an_input_error_for_every_command() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("f");
    std::fs::write(&file, "profile f {\n}\n").unwrap();
    let f = file.to_str().unwrap();
    let commands: [&[&str]; 16] = [
        &["status"],
        &["ps"],
        &["log"],
        &["log", f],
        &["check", f],
        &["snapshot", "/nonexistent-out"],
        &["load", "--dry-run", f],
        &["replace", "--dry-run", f],
        &["unload", "--dry-run", "x"],
        &["enforce", "--no-reload", "x"],
        &["complain", "--no-reload", "x"],
        &["audit", "--no-reload", "x"],
        &["disable", "--dry-run", "x"],
        &["enable", "--no-reload", "x"],
        &["remove-unknown", "--dry-run"],
        &["log", "--summary", f],
    ];
    for (root, why) in [
        ("/nonexistent-root", "no such directory"),
        (f, "not a directory"),
    ] {
        for c in commands {
            // before and after the subcommand
            for args in [
                [&["--root", root][..], c].concat(),
                [c, &["--root", root][..]].concat(),
            ] {
                let (code, out, err) = aactl(&args);
                assert_eq!(code, 2, "{args:?}: {out}{err}");
                assert_eq!(err, format!("aactl: --root {root}: {why}\n"), "{args:?}");
            }
        }
    }
}

/// Runs the aactl binary unprivileged: as nobody through `setpriv` when we
/// are root (root reads any file), else as we are. `None` (a skip) when root
/// has no `setpriv`.
fn aactl_unprivileged(args: &[&str]) -> Option<(i32, String, String)> {
    let bin = env!("CARGO_BIN_EXE_aactl");
    let mut cmd = if crate::common::is_root() {
        let ok = std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        crate::common::require(ok.then_some(()), "setpriv (to drop root)")?;
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        std::process::Command::new(bin)
    };
    let o = cmd.args(args).output().unwrap();
    Some((
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ))
}

#[test]
fn unreadable_and_unwritable_files_are_named_with_the_reason() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    let d = tempfile::tempdir().unwrap();
    mode(d.path(), 0o755);
    // b: profile pa unreadable; w: readable profile pw, folder not writable
    let b = d.path().join("b");
    let w = d.path().join("w");
    for (dir, name) in [(&b, "pa"), (&w, "pw")] {
        std::fs::create_dir(dir).unwrap();
        std::fs::write(dir.join(name), format!("profile {name} {{\n}}\n")).unwrap();
        mode(&dir.join(name), 0o644);
    }
    mode(&b.join("pa"), 0o000);
    mode(&w, 0o555);
    let log = two_record_log(d.path());
    std::fs::write(
        &log,
        "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"pa\" name=\"/etc/x\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=1\n",
    )
    .unwrap();
    mode(&log, 0o644);
    let unreadable_log = d.path().join("secret.log");
    std::fs::write(&unreadable_log, "x\n").unwrap();
    mode(&unreadable_log, 0o000);
    let s = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let (bs, ws, pa, pw) = (s(&b), s(&w), s(&b.join("pa")), s(&w.join("pw")));
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "complain".into(),
                "--no-reload".into(),
                "--base".into(),
                bs.clone(),
                "pa".into(),
            ],
            // `pa` is also a file name of the profile directory: taken as that file
            format!("aactl: complain pa: {pa}: Permission denied\n"),
        ),
        (
            vec![
                "complain".into(),
                "--no-reload".into(),
                "--base".into(),
                bs.clone(),
                pa.clone(),
            ],
            format!("aactl: complain {pa}: Permission denied\n"),
        ),
        (
            vec![
                "complain".into(),
                "--no-reload".into(),
                "--base".into(),
                ws.clone(),
                pw.clone(),
            ],
            format!("aactl: complain {pw}: Permission denied\n"),
        ),
        (
            vec!["check".into(), pa.clone()],
            format!("aactl: could not read {pa}: Permission denied\n"),
        ),
        (
            vec!["log".into(), s(&unreadable_log)],
            format!("aactl: {}: Permission denied\n", s(&unreadable_log)),
        ),
        (
            vec![
                "log".into(),
                "--suggest".into(),
                "--write".into(),
                "--profile-dir".into(),
                bs.clone(),
                s(&log),
            ],
            format!(
                "aactl: pa: no profile file in {bs} defines it (cannot read {pa}: Permission denied); nothing written\naactl: nothing to write\n"
            ),
        ),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let Some((code, _, err)) = aactl_unprivileged(&args) else {
            return;
        };
        assert!(code == 1 || code == 2, "{args:?}: {code} {err}");
        assert_eq!(err, want, "{args:?}");
        assert!(
            !err.contains("os error") && !err.contains(".aactl-"),
            "{err}"
        );
    }
    // nothing was left behind or changed
    assert_eq!(std::fs::read_dir(&w).unwrap().count(), 1);
    mode(&w, 0o755);
    mode(&b.join("pa"), 0o644);
}

/// When the filters leave nothing, `log` says how many records it read
/// instead of printing nothing at all.
#[test]
fn log_says_when_the_filters_left_nothing() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("audit.log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1700000000.000:1): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
    )
    .unwrap();
    let (code, out, err) = aactl(&["log", "--profile", "nomatch", log.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err,
        "aactl: none of the 1 record(s) read matched the filters\n"
    );
}

/// `--class` takes the kernel's class names too (`cap`, `net`), also for
/// records of kernels that write no `class=` field.
#[test]
fn class_filter_takes_the_kernels_names() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("audit.log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1700000000.000:1): apparmor=\"DENIED\" operation=\"capable\" profile=\"p\" pid=1 comm=\"c\" capability=12 capname=\"net_admin\"\n",
    )
    .unwrap();
    let log = log.to_str().unwrap();
    for (class, n) in [("cap", 1), ("capability", 1), ("net", 0), ("file", 0)] {
        let (code, out, err) = aactl(&["log", "--class", class, log]);
        assert_eq!(code, 0, "{class}: {err}");
        assert_eq!(out.lines().count(), n, "{class}: {out}");
    }
}
