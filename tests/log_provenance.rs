//! Provenance: records whose sender is not verified (any local user can
//! write them with logger(1)) are listed marked, suggested apart, and never
//! written to a profile's local override without `--trust-userspace-records`;
//! the kernel's records (auditd, kern.log `kernel:`, dmesg, the journal's
//! kernel transport) and the D-Bus daemon's (journald's trusted fields) still
//! are. See docs/log-schema.md and docs/triage.md.

use crate::common::aactl;
use crate::triage_follow::{lines_until, sigint, spawn_aactl};
use apparmor::log::Origin;
use apparmor::log::reader::{LogReader, ReaderOptions};
use apparmor::log::source::open_file;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// A kernel AVC key list for a file access of /usr/bin/foo.
fn keys(op: &str, name: &str, mask: &str) -> String {
    format!(
        "apparmor=\"DENIED\" operation=\"{op}\" class=\"file\" profile=\"/usr/bin/foo\" \
         name=\"{name}\" pid=4242 comm=\"foo\" requested_mask=\"{mask}\" denied_mask=\"{mask}\" \
         fsuid=0 ouid=0"
    )
}

/// The write to /etc/shadow the forged lines claim (`owner /etc/shadow w,`).
fn shadow() -> String {
    keys("open", "/etc/shadow", "w")
}

/// The exec of /tmp/evil the forged lines claim (`/tmp/evil mrix,`).
fn evil() -> String {
    keys("exec", "/tmp/evil", "x")
}

/// The lines anyone can write: another program's syslog tag in front of
/// kernel text (classic and RFC 3339 dates), a bare key list behind a
/// program's tag, and journald's audit form behind a program's tag.
fn forged() -> Vec<(&'static str, String)> {
    vec![
        (
            "classic syslog, kernel text, tag mallory[4242]",
            format!(
                "Nov 29 18:00:00 host mallory[4242]: audit: type=1400 audit(1764439200.001:901): {}",
                shadow()
            ),
        ),
        (
            "bare key list, tag dbus-daemon[99]",
            format!("Nov 29 18:00:00 host dbus-daemon[99]: {}", evil()),
        ),
        ("bare key list, no framing at all", evil()),
        (
            "RFC 3339 syslog, kernel text, tag mallory",
            format!(
                "2025-11-29T18:00:00.123456+01:00 host mallory: type=1400 audit(1764439200.002:902): {}",
                shadow()
            ),
        ),
        (
            "journald's audit form as text, tag audit[1]",
            format!("Nov 29 18:00:00 host audit[1]: AVC {}", shadow()),
        ),
    ]
}

/// The kernel's own lines (`/etc/hosts r`, read by the kernel's profile).
fn genuine() -> Vec<(&'static str, String)> {
    let k = keys("open", "/etc/hosts", "r");
    vec![
        (
            "auditd",
            format!("type=AVC msg=audit(1764439200.003:903): {k}"),
        ),
        (
            "auditd, node=",
            format!("node=host type=AVC msg=audit(1764439200.003:903): {k}"),
        ),
        (
            "kern.log, classic date",
            format!(
                "Nov 29 18:00:00 host kernel: [ 100.000001] audit: type=1400 audit(1764439200.004:904): {k}"
            ),
        ),
        (
            "kern.log, RFC 3339 date",
            format!(
                "2025-11-29T18:00:00.123456+01:00 host kernel: audit: type=1400 audit(1764439200.005:905): {k}"
            ),
        ),
        (
            "dmesg",
            format!("[  100.000002] audit: type=1400 audit(1764439200.006:906): {k}"),
        ),
    ]
}

/// A profile directory holding /usr/bin/foo (file usr.bin.foo).
fn profile_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("local")).unwrap();
    std::fs::write(
        d.path().join("usr.bin.foo"),
        "/usr/bin/foo {\n  /usr/bin/foo r,\n}\n",
    )
    .unwrap();
    d
}

/// The local override written for /usr/bin/foo ("" when none).
fn local(pd: &Path) -> String {
    std::fs::read_to_string(pd.join("local/usr.bin.foo")).unwrap_or_default()
}

/// `aactl log --suggest --write --profile-dir PD [EXTRA] LOG` with `text` as LOG.
fn write(pd: &Path, text: &str, extra: &[&str]) -> (u8, String, String) {
    let f = pd.join("kern.log");
    std::fs::write(&f, text).unwrap();
    let mut a = vec!["log", "--suggest", "--write", "--profile-dir"];
    a.push(pd.to_str().unwrap());
    a.extend(extra);
    a.push(f.to_str().unwrap());
    aactl(&a)
}

#[test]
fn forged_lines_are_never_written_without_the_opt_in() {
    for (what, line) in forged() {
        let pd = profile_dir();
        let before = std::fs::read_to_string(pd.path().join("usr.bin.foo")).unwrap();
        let (code, out, err) = write(pd.path(), &format!("{line}\n"), &[]);
        assert_eq!(code, 0, "{what}: {err}");
        assert_eq!(local(pd.path()), "", "{what}: written without the opt-in");
        assert_eq!(
            std::fs::read_to_string(pd.path().join("usr.bin.foo")).unwrap(),
            before,
            "{what}: profile changed"
        );
        assert!(out.is_empty(), "{what}: {out}");
        assert!(
            err.contains("aactl: 1 rule(s) not written: only records whose sender is not verified"),
            "{what}: {err}"
        );
        assert!(err.contains("--trust-userspace-records"), "{what}: {err}");
        // --dry-run shows nothing of it either
        let (_, out, _) = write(pd.path(), &format!("{line}\n"), &["--dry-run"]);
        assert!(
            !out.contains("/etc/shadow") && !out.contains("/tmp/evil"),
            "{what}: {out}"
        );

        // with the opt-in, the rule is written
        let (code, _, err) = write(
            pd.path(),
            &format!("{line}\n"),
            &["--trust-userspace-records"],
        );
        assert_eq!(code, 0, "{what}: {err}");
        let l = local(pd.path());
        assert!(
            l.contains("owner /etc/shadow w,\n") || l.contains("/tmp/evil mrix,\n"),
            "{what}: not written with the opt-in: {l}"
        );
        assert!(!err.contains("not written"), "{what}: {err}");
    }
}

/// A syslog line tagged `kernel:` is the kernel's only in a kernel-facility
/// file: in `syslog`, `messages` or a pipe anyone can write it (`logger -t
/// kernel`), and it is not written without the opt-in.
#[test]
fn kernel_tag_outside_kern_log_is_untrusted() {
    for (what, line) in &genuine()[2..4] {
        for name in ["syslog", "messages", "syslog.1"] {
            let pd = profile_dir();
            let f = pd.path().join(name);
            std::fs::write(&f, format!("{line}\n")).unwrap();
            let args = ["log", "--suggest", "--write", "--profile-dir"];
            let mut a: Vec<&str> = args.to_vec();
            a.push(pd.path().to_str().unwrap());
            a.push(f.to_str().unwrap());
            let (code, _, err) = aactl(&a);
            assert_eq!(code, 0, "{what} in {name}: {err}");
            assert_eq!(local(pd.path()), "", "{what} in {name}: written");
            assert!(err.contains("not written"), "{what} in {name}: {err}");
        }
    }
}

#[test]
fn kernel_lines_are_still_written() {
    for (what, line) in genuine() {
        let pd = profile_dir();
        let (code, _, err) = write(pd.path(), &format!("{line}\n"), &[]);
        assert_eq!(code, 0, "{what}: {err}");
        assert!(
            local(pd.path()).contains("owner /etc/hosts r,\n"),
            "{what}: {err}"
        );
        assert!(!err.contains("not written"), "{what}: {err}");
    }
}

#[test]
fn mixed_log_writes_only_what_the_kernel_supports() {
    let mut text = String::new();
    for (_, l) in forged().into_iter().chain(genuine()) {
        text.push_str(&l);
        text.push('\n');
    }
    // the kernel also reports a read of /etc/shadow: `r` is the kernel's,
    // the forged `w` on the same path stays apart
    text.push_str(&format!(
        "type=AVC msg=audit(1764439200.007:907): {}\n",
        keys("open", "/etc/shadow", "r")
    ));
    let pd = profile_dir();
    let (code, _, err) = write(pd.path(), &text, &[]);
    assert_eq!(code, 0, "{err}");
    let l = local(pd.path());
    assert!(l.contains("owner /etc/hosts r,\n"), "{l}");
    assert!(l.contains("owner /etc/shadow r,\n"), "{l}");
    assert!(!l.contains(" w,") && !l.contains("evil"), "{l}");
    assert!(err.contains("aactl: 2 rule(s) not written"), "{err}");
}

#[test]
fn listing_marks_untrusted_records_text_and_json() {
    let mut text = String::new();
    let mut want = Vec::new();
    for (_, l) in forged() {
        text.push_str(&format!("{l}\n"));
        want.push("untrusted");
    }
    for (_, l) in genuine() {
        text.push_str(&format!("{l}\n"));
        want.push("kernel");
    }
    text.push_str(
        "type=USER_AVC msg=audit(1764439200.008:908): pid=1 uid=102 auid=4294967295 ses=4294967295 \
         subj=unconfined msg='apparmor=\"DENIED\" operation=\"dbus_method_call\" bus=\"system\" \
         path=\"/org/x\" interface=\"org.x\" member=\"M\" mask=\"send\" name=\"org.x\" pid=5 \
         label=\"/usr/bin/foo\" peer_pid=6 peer_label=\"unconfined\" exe=\"/usr/bin/dbus-daemon\" \
         sauid=102 hostname=? addr=? terminal=?'\n",
    );
    want.push("trusted-helper");
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("kern.log");
    std::fs::write(&f, &text).unwrap();
    let f = f.to_str().unwrap();

    let (code, out, _) = aactl(&["log", "--no-group", f]);
    assert_eq!(code, 0);
    let marked: Vec<bool> = out.lines().map(|l| l.contains(" (untrusted) ")).collect();
    let expected: Vec<bool> = want.iter().map(|w| *w == "untrusted").collect();
    assert_eq!(marked, expected, "{out}");

    let (_, out, _) = aactl(&["log", "--no-group", "--format", "json", f]);
    let got: Vec<String> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["version"], 2);
            v["provenance"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(got, want, "{out}");
}

#[test]
fn suggest_shows_untrusted_rules_apart() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("kern.log");
    let mut text = String::new();
    for (_, l) in forged().into_iter().chain(genuine()) {
        text.push_str(&format!("{l}\n"));
    }
    std::fs::write(&f, &text).unwrap();
    let f = f.to_str().unwrap();
    let (code, out, _) = aactl(&["log", "--suggest", "--profile-dir", "/nonexistent", f]);
    assert_eq!(code, 0);
    let (trusted, untrusted) = out.split_once("# UNTRUSTED: ").expect(&out);
    assert_eq!(trusted, "/usr/bin/foo {\n  owner /etc/hosts r,\n}\n\n");
    assert!(
        untrusted.ends_with("/usr/bin/foo {\n  owner /etc/shadow w,\n  /tmp/evil mrix,\n}\n"),
        "{untrusted}"
    );
    // the whole output is still policy (the heading is comments)
    let p = apparmor::policy::parse_str(&out, apparmor::diag::FileId(0));
    assert!(p.is_ok(), "{out}");

    let (_, out, _) = aactl(&[
        "log",
        "--suggest",
        "--format",
        "json",
        "--profile-dir",
        "/nonexistent",
        f,
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["profiles"][0]["rules"],
        serde_json::json!(["owner /etc/hosts r,"])
    );
    assert_eq!(
        v["untrusted_profiles"][0]["rules"],
        serde_json::json!(["owner /etc/shadow w,", "/tmp/evil mrix,"])
    );

    // trusted explicitly: one block, as the upstream utils print it
    let (_, out, _) = aactl(&[
        "log",
        "--suggest",
        "--trust-userspace-records",
        "--profile-dir",
        "/nonexistent",
        f,
    ]);
    assert_eq!(
        out,
        "/usr/bin/foo {\n  owner /etc/hosts r,\n  owner /etc/shadow w,\n  /tmp/evil mrix,\n}\n"
    );
}

/// A root with an `etc/passwd` naming the system bus account (uid 102), and
/// a fake journalctl on PATH printing `entries` (JSON lines).
fn fake_journal(entries: &[String]) -> (tempfile::TempDir, String) {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("root/etc")).unwrap();
    std::fs::write(
        d.path().join("root/etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nmessagebus:x:102:104::/nonexistent:/usr/sbin/nologin\n\
         mallory:x:1000:1000::/home/mallory:/bin/sh\n",
    )
    .unwrap();
    let data = d.path().join("entries.json");
    std::fs::write(&data, entries.join("\n") + "\n").unwrap();
    crate::common::install_script(
        &d.path().join("journalctl"),
        &format!("#!/bin/sh\nexec cat '{}'\n", data.display()),
    );
    let path = format!(
        "{}:{}",
        d.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (d, path)
}

/// A `journalctl -o json` entry with `fields` and MESSAGE `msg`.
fn entry(n: u32, fields: &str, msg: &str) -> String {
    let msg = serde_json::Value::String(msg.into());
    format!(
        "{{\"__CURSOR\":\"c{n}\",\"__REALTIME_TIMESTAMP\":\"176443920000{n}000\",{fields},\"MESSAGE\":{msg}}}"
    )
}

#[test]
fn journal_senders_are_judged_by_trusted_fields() {
    let dbus = "apparmor=\"DENIED\" operation=\"dbus_method_call\" bus=\"system\" path=\"/org/x\" \
                interface=\"org.x\" member=\"M\" mask=\"send\" name=\"org.x\" pid=5 \
                label=\"/usr/bin/foo\" peer_pid=6 peer_label=\"unconfined\"";
    let entries = [
        // logger -t dbus-daemon, run by mallory: the identifier is a claim
        entry(
            1,
            r#""_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"dbus-daemon","_COMM":"logger","_EXE":"/usr/bin/logger","_UID":"1000","_PID":"4242""#,
            &shadow(),
        ),
        // mallory's own process named dbus-daemon (a session bus, or a copy)
        entry(
            2,
            r#""_TRANSPORT":"stdout","SYSLOG_IDENTIFIER":"dbus-daemon","_COMM":"dbus-daemon","_EXE":"/home/mallory/dbus-daemon","_UID":"1000""#,
            &evil(),
        ),
        // the kernel transport
        entry(
            3,
            r#""_TRANSPORT":"kernel","SYSLOG_FACILITY":"0","SYSLOG_IDENTIFIER":"kernel""#,
            &format!(
                "audit: type=1400 audit(1764439200.009:909): {}",
                keys("open", "/etc/hosts", "r")
            ),
        ),
        // the system bus daemon itself
        entry(
            4,
            r#""_TRANSPORT":"stdout","SYSLOG_IDENTIFIER":"dbus-daemon","_COMM":"dbus-daemon","_EXE":"/usr/bin/dbus-daemon","_UID":"102""#,
            dbus,
        ),
    ];
    let (d, path) = fake_journal(&entries);
    let root = d.path().join("root");
    let pd = profile_dir();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_aactl"))
            .args(["log", "journal", "--root"])
            .arg(&root)
            .args(args)
            .env("PATH", &path)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    };
    let (code, out, err) = run(&["--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let got: Vec<String> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["provenance"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        got,
        ["untrusted", "untrusted", "kernel", "trusted-helper"],
        "{out}"
    );

    let pdir = pd.path().to_str().unwrap();
    let (code, _, err) = run(&["--suggest", "--write", "--profile-dir", pdir]);
    assert_eq!(code, Some(0), "{err}");
    let l = local(pd.path());
    assert!(l.contains("owner /etc/hosts r,\n"), "{l}");
    assert!(
        l.contains(
            "dbus send bus=system path=/org/x interface=org.x member=M peer=(label=unconfined),\n"
        ),
        "{l}"
    );
    assert!(
        !l.contains("/etc/shadow") && !l.contains("/tmp/evil"),
        "{l}"
    );
    assert!(err.contains("aactl: 2 rule(s) not written"), "{err}");

    let (code, _, err) = run(&[
        "--suggest",
        "--write",
        "--trust-userspace-records",
        "--profile-dir",
        pdir,
    ]);
    assert_eq!(code, Some(0), "{err}");
    let l = local(pd.path());
    assert!(
        l.contains("owner /etc/shadow w,\n") && l.contains("/tmp/evil mrix,\n"),
        "{l}"
    );
}

#[test]
fn corpus_dbus_syslog_cases_are_apart_without_the_opt_in() {
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let dir = shared.join("corpus/libapparmor-logs");
    for c in ["testcase_dbus_01", "testcase_dbus_12"] {
        let input = dir.join(format!("{c}.in"));
        let (code, out, _) = aactl(&[
            "log",
            "--suggest",
            "--profile-dir",
            "/nonexistent",
            input.to_str().unwrap(),
        ]);
        assert_eq!(code, 0);
        let (before, after) = out.split_once("# UNTRUSTED: ").expect(&out);
        assert_eq!(before, "", "{c}");
        assert!(after.contains("dbus send bus=session"), "{c}: {out}");
    }
}

#[test]
fn parallel_reader_gives_the_same_provenance() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("kern.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let lines: Vec<String> = forged()
        .into_iter()
        .chain(genuine())
        .map(|(_, l)| l)
        .collect();
    // a few MB: blocks of 256 KiB on several threads; a new audit serial
    // for each round (`:901` becomes `:17901`)
    for i in 0..12_000 {
        let l = lines[i % lines.len()].replace(":90", &format!(":{}90", i / lines.len()));
        writeln!(f, "{l}").unwrap();
    }
    drop(f);
    let read = |threads| {
        let opts = ReaderOptions {
            threads,
            ..ReaderOptions::default()
        };
        LogReader::new(open_file(&p).unwrap(), opts)
            .map(|r| r.unwrap())
            .collect::<Vec<_>>()
    };
    let one = read(1);
    assert_eq!(one, read(4));
    let untrusted = one
        .iter()
        .filter(|r| r.provenance.origin == Origin::Untrusted)
        .count();
    assert_eq!(
        untrusted,
        12_000 / lines.len() * forged().len(),
        "of {}",
        one.len()
    );
}

#[test]
fn watch_keeps_untrusted_rules_apart() {
    let text = format!("{}\n{}\n", genuine()[2].1, forged()[0].1);
    let src =
        apparmor::log::reader::BufReadLines::new(std::io::Cursor::new(text), "/var/log/kern.log");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let w = apparmor::watch::watch(
        Box::new(src),
        stop,
        std::time::Duration::from_secs(60),
        &["/usr/bin/foo".to_string()],
    );
    assert_eq!(w.records.len(), 2);
    assert_eq!(
        w.suggestions.render(),
        "/usr/bin/foo {\n  owner /etc/hosts r,\n}\n"
    );
    assert_eq!(
        w.suggestions.render_untrusted(),
        "/usr/bin/foo {\n  owner /etc/shadow w,\n}\n"
    );
}

#[test]
fn follow_marks_and_separates_untrusted_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kern.log");
    std::fs::write(&path, "Nov 29 17:59:59 host kernel: old line\n").unwrap();
    let (mut child, rx, reader) = spawn_aactl(
        Command::new(env!("CARGO_BIN_EXE_aactl"))
            .args([
                "log",
                "--follow",
                "--suggest",
                "--profile-dir",
                "/nonexistent",
            ])
            .arg(&path),
    );
    crate::common::wait_until_following(child.0.id(), &path);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    writeln!(f, "{}\n{}", forged()[0].1, genuine()[2].1).unwrap();
    let seen = lines_until(&rx, "/etc/hosts");
    assert!(sigint(&child.0).success());
    assert!(child.0.wait().unwrap().success());
    reader.join().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    let shadow = seen
        .iter()
        .find(|l| l.contains("/etc/shadow"))
        .expect("listed");
    assert!(shadow.contains(" DENIED (untrusted) "), "{shadow}");
    let hosts = seen.iter().find(|l| l.contains("/etc/hosts")).unwrap();
    assert!(!hosts.contains("untrusted"), "{hosts}");
    let rest = rest.join("\n");
    // the summary counts the untrusted record of its group
    let row = rest
        .lines()
        .find(|l| l.contains("| /etc/shadow "))
        .expect(&rest);
    assert!(row.starts_with(" 1 (1 untrusted) "), "{rest}");
    let row = rest.lines().find(|l| l.contains("| /etc/hosts ")).unwrap();
    assert!(row.starts_with(" 1 "), "{rest}");
    // then the suggestions, the untrusted one apart
    let (_, suggested) = rest.split_once("\n/usr/bin/foo {").expect(&rest);
    let (trusted, untrusted) = suggested.split_once("# UNTRUSTED: ").expect(&rest);
    assert_eq!(trusted, "\n  owner /etc/hosts r,\n}\n\n", "{rest}");
    assert!(
        untrusted.ends_with("/usr/bin/foo {\n  owner /etc/shadow w,\n}"),
        "{rest}"
    );
}
