//! QA: hostile and malformed input for `aactl log` (plain, `--summary`,
//! `--suggest`, `--write --dry-run`). Each test is the regression test of
//! one fix.

use apparmor::log::{EventType, ParsedLine, parse_line};
use std::io::Write;

use crate::common::aactl_lossy as aactl;

fn temp_log(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
    f
}

/// Lines that merely mention `apparmor="DENIED"` without being records.
const GARBAGE: &[&str] = &[
    r#"type=AVC msg=audit(garbage apparmor="DENIED" operation="#,
    r#"random apparmor="DENIED" text"#,
    r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" name="/x"#,
    r#"kernel: audit(17 apparmor="DENIED" operation="open" name="/x""#,
    r#"type=AVC msg=audit(1.2:3): apparmor="DENIED""#,
    r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="#,
];

#[test]
fn garbage_lines_are_invalid_records() {
    for g in GARBAGE {
        match parse_line(g.as_bytes()) {
            ParsedLine::AppArmor(r) => {
                assert_eq!(r.event, EventType::Invalid, "{g}");
                assert!(r.problem.is_some(), "{g}");
            }
            _ => panic!("{g}: must be counted as an invalid AppArmor record"),
        }
    }
    // a real record next to them still parses
    let ok = r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" name="/x" pid=1"#;
    match parse_line(ok.as_bytes()) {
        ParsedLine::AppArmor(r) => assert_eq!(r.event, EventType::Denied),
        _ => panic!("real record lost"),
    }
}

#[test]
fn garbage_lines_hidden_counted_and_flagged() {
    let f = temp_log(&(GARBAGE.join("\n") + "\n"));
    let p = f.path().to_str().unwrap();
    let (code, out, err) = aactl(&["log", "--file", p, "--stats"]);
    assert!(
        !out.contains("DENIED"),
        "garbage shown as denials (exit {code}):\n{out}"
    );
    let all = format!("{out}{err}");
    assert!(
        all.contains(&format!("{} invalid", GARBAGE.len())),
        "stats:\n{all}"
    );
    let (_, out, _) = aactl(&["log", "--file", p, "--invalid", "--format", "json"]);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(lines.len(), GARBAGE.len(), "{out}");
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["event"], "AA_RECORD_INVALID", "{l}");
        assert!(v["problem"].is_string(), "{l}");
    }
}

/// Hex-encoded hostile profile names and paths: the suggestions re-parse
/// (ours and, when installed, apparmor_parser) as exactly one profile per
/// logged profile, and no byte of a bidi control or escape reaches the text.
#[test]
fn hostile_names_in_suggestions_reparse_without_injection() {
    let names: &[&[u8]] = &[
        b"/tmp/a\"b",
        b"/tmp/a,b",
        b"/tmp/x, /etc/shadow rw, /y",
        b"/tmp/{a,b}",
        b"/tmp/n\nl",
        b"/tmp/@{HOME}",
        b"/tmp/sp ace",
        b"/tmp/x} profile evil { /** rwx, ",
        b"/tmp/bidi\xe2\x80\xae\x1b[31m",
    ];
    let profs: &[&[u8]] = &[
        b"p\"q",
        b"p,q",
        b"p{q",
        b"p} profile evil {",
        b"p\nq",
        b"/usr/bin/a b",
        b"p(q)=r#s",
        b"/usr/bin/fo\x1b[31mo\xe2\x80\xae",
    ];
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
    let mut log = String::new();
    let mut id = 0;
    for p in profs {
        for n in names {
            id += 1;
            log.push_str(&format!(
                "type=AVC msg=audit(1.2:{id}): apparmor=\"DENIED\" operation=\"open\" profile={} name={} comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0 pid=1\n",
                hex(p),
                hex(n)
            ));
        }
    }
    let f = temp_log(&log);
    let (code, out, err) = aactl(&["log", "--file", f.path().to_str().unwrap(), "--suggest"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.chars().any(|c| (c.is_control() && c != '\n')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
        "raw control or bidi character in:\n{out}"
    );
    let parsed = apparmor::policy::parse_str(&out, apparmor::diag::FileId(0));
    assert!(parsed.is_ok(), "{out}\n{:?}", parsed.diagnostics);
    assert_eq!(parsed.ast.profiles().len(), profs.len(), "{out}");
    // the reference parser agrees, block by block
    if std::path::Path::new("/sbin/apparmor_parser").exists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        std::fs::write(&path, &out).unwrap();
        let o = std::process::Command::new("/sbin/apparmor_parser")
            .args(["-N", "-K", "-I", "/nonexistent"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            o.stdout
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count(),
            // "p\nq" is listed on two lines
            profs.len() + 1,
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

/// Profile names like `../../etc/passwd` never pick the file written: only
/// the profile file found in the directory and its `local/` file change.
/// Two profiles of one file share its local file: one plan, so the second
/// write does not undo the first (it lost the first profile's rules and
/// include line).
#[test]
fn write_targets_only_the_profile_dir_and_merges_profiles_of_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let pd = dir.path().join("apparmor.d");
    std::fs::create_dir(&pd).unwrap();
    let profile = "profile \"../../etc/passwd\" {\n}\n/etc/apparmor.d/../x {\n}\n";
    std::fs::write(pd.join("evil"), profile).unwrap();
    let rec = |id: u32, prof: &str, name: &str| {
        format!(
            "type=AVC msg=audit(1.2:{id}): apparmor=\"DENIED\" operation=\"open\" profile=\"{prof}\" name=\"{name}\" comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0 pid=1\n"
        )
    };
    let log = temp_log(
        &[
            rec(3, "../../etc/passwd", "/tmp/a"),
            rec(4, "/etc/apparmor.d/../x", "/tmp/b"),
            rec(5, "../evil", "/tmp/c"),
        ]
        .concat(),
    );
    let args = |dry: bool| {
        let mut v = vec![
            "log".to_owned(),
            "--file".into(),
            log.path().to_str().unwrap().into(),
            "--suggest".into(),
            "--write".into(),
            "--profile-dir".into(),
            pd.to_str().unwrap().into(),
        ];
        if dry {
            v.push("--dry-run".into());
        }
        v
    };
    let listing = || {
        let mut v: Vec<String> = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .flatten()
            .map(|e| e.path().display().to_string())
            .collect();
        v.sort();
        v
    };
    let before = listing();
    let a = args(true);
    let (_, out, err) = aactl(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(listing(), before, "dry run wrote something");
    assert_eq!(std::fs::read_to_string(pd.join("evil")).unwrap(), profile);
    for l in out.lines().filter(|l| l.starts_with("+++ ")) {
        let p = l.trim_start_matches("+++ ");
        assert!(
            p == pd.join("evil").to_str().unwrap() || p == pd.join("local/evil").to_str().unwrap(),
            "targets {p}"
        );
    }
    assert!(err.contains("../evil: no profile file"), "{err}");
    let a = args(false);
    let _ = aactl(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let local = std::fs::read_to_string(pd.join("local/evil")).unwrap();
    assert!(
        local.contains("owner /tmp/a r,") && local.contains("owner /tmp/b r,"),
        "{local}"
    );
    assert!(!local.contains("/tmp/c"), "{local}");
    let text = std::fs::read_to_string(pd.join("evil")).unwrap();
    assert_eq!(
        text.matches("include if exists <local/evil>").count(),
        2,
        "{text}"
    );
    let mut expected: Vec<String> = before;
    expected.push(pd.join("local").display().to_string());
    expected.push(pd.join("local/evil").display().to_string());
    expected.sort();
    assert_eq!(listing(), expected);
}

/// Auto-detection never opens a FIFO (opening one blocks until a writer
/// appears): auditd's log, syslog and rotated siblings that are FIFOs are
/// skipped, the regular kern.log is read. A directory given explicitly is
/// a clear error.
#[test]
fn auto_detection_skips_fifos_and_directories_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let log = root.join("var/log");
    std::fs::create_dir_all(log.join("audit")).unwrap();
    for f in ["audit/audit.log", "syslog", "kern.log.1"] {
        let st = std::process::Command::new("mkfifo")
            .arg(log.join(f))
            .status()
            .unwrap();
        assert!(st.success());
    }
    std::fs::write(
        log.join("kern.log"),
        "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=1\n",
    )
    .unwrap();
    let r = root.to_str().unwrap().to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(aactl(&["log", "--root", &r]));
    });
    let (code, out, err) = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("aactl log blocked on a FIFO during auto-detection");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("name=/x"), "{out}\n{err}");
    // explicit directory
    let d = log.to_str().unwrap();
    let (code, _, err) = aactl(&["log", "--file", d]);
    assert_ne!(code, 0);
    assert!(err.contains("is a directory"), "{err}");
}

/// Audit ids past u64 are a malformed id (no epoch 0 or serial 0 made up);
/// times after year 9999 are not printed (RFC 3339 has four-digit years);
/// u64::MAX itself is kept.
#[test]
fn huge_audit_ids_and_out_of_range_times() {
    let rec = |id: &str| {
        format!(
            "type=AVC msg=audit({id}): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=1\n"
        )
    };
    let log = temp_log(
        &[
            rec("99999999999999999999999.999:99999999999999999999999"),
            rec("18446744073709551615.999:18446744073709551615"),
            rec("9223372036854775807.999:1"),
            rec("253402300800.000:1"),
            rec("253402300799.000:1"),
        ]
        .concat(),
    );
    let p = log.path().to_str().unwrap();
    let (code, out, err) = aactl(&["log", "--file", p, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v.len(), 5, "{out}");
    assert!(
        v[0].get("epoch").is_none() && v[0].get("audit_sub_id").is_none(),
        "{}",
        v[0]
    );
    assert_eq!(v[0]["problem"], "malformed audit id");
    assert_eq!(v[1]["audit_sub_id"].as_u64(), Some(u64::MAX));
    for r in &v[1..4] {
        assert!(r.get("time").is_none(), "{r}");
    }
    assert_eq!(v[4]["time"], "9999-12-31T23:59:59.000Z");
    for view in ["--summary", "--suggest"] {
        let (code, out, err) = aactl(&["log", "--file", p, view]);
        assert_eq!(code, 0, "{view}: {err}");
        assert!(!out.contains("292277026596"), "{out}");
    }
    let (_, out, _) = aactl(&["log", "--file", p]);
    assert!(
        !out.contains("10000-01-01") && !out.contains("292277026596"),
        "{out}"
    );
}

/// Many distinct groups with long names: the summary keeps at most
/// `max_bytes` of names (the group count alone did not bound memory) and
/// counts the records it could not group.
#[test]
fn summary_bounds_bytes_of_distinct_long_names() {
    use apparmor::triage::group::Summary;
    let mut s = Summary::new(1_000_000);
    s.max_bytes = 4 << 20;
    let long = "a".repeat(256 << 10);
    for i in 0..64 {
        let line = format!(
            "type=AVC msg=audit(1.2:{i}): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/{i}{long}\" comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0 pid=1"
        );
        let (recs, _) = apparmor::log::parse_str(&line, "t");
        for r in &recs {
            s.add(r, &["p".to_string()]);
        }
    }
    assert_eq!(s.records, 64);
    assert!(s.bytes <= s.max_bytes, "{} > {}", s.bytes, s.max_bytes);
    assert!(s.len() >= 4 && s.len() < 64, "{} groups", s.len());
    assert_eq!(s.overflow_records, 64 - s.len() as u64);
}

/// Escape sequences, control and bidi characters in comm, name and profile
/// (quoted and hex-encoded) never reach the terminal raw in text, tables or
/// suggestions; JSON stays valid and carries the decoded value.
#[test]
fn hostile_bytes_are_escaped_in_every_view() {
    let log = temp_log(concat!(
        "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/bin/fo\x1b[31mo\u{202e}\" name=\"/tmp/a\x1b]0;x\x07b\" comm=\"c\x1b[2Jd\u{2066}\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0 pid=1\n",
        "type=AVC msg=audit(1.2:4): apparmor=\"DENIED\" operation=\"open\" profile=666F6F1B5B306D name=2F746D702F1B5B33316D78E280AE comm=1B5B324A requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0 pid=1\n",
    ));
    let p = log.path().to_str().unwrap();
    let bad = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    for view in [&[][..], &["--summary"][..], &["--suggest"][..]] {
        let mut a = vec!["log", "--file", p];
        a.extend_from_slice(view);
        let (code, out, err) = aactl(&a);
        assert_eq!(code, 0, "{view:?}: {err}");
        assert!(out.contains("\\x1b"), "{view:?}: {out}");
        assert!(!out.chars().any(bad), "{view:?}: raw character in\n{out}");
        assert!(!err.chars().any(bad), "{view:?}: raw character in\n{err}");
    }
    let (_, out, _) = aactl(&["log", "--file", p, "--format", "json"]);
    let v: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v[0]["comm"], "c\x1b[2Jd\u{2066}");
    assert_eq!(v[1]["name"], "/tmp/\x1b[31mx\u{202e}");
    assert_eq!(v[1]["profile"], "foo\x1b[0m");
}

/// `--follow` on a FIFO or a directory: a clear error at once (it used to
/// block on the FIFO's open and give "Invalid argument" for a directory).
#[test]
fn follow_refuses_fifos_and_directories() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for p in [fifo, dir.path().to_path_buf()] {
        let s = p.to_str().unwrap().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(aactl(&["log", "--follow", "--file", &s]));
        });
        let (code, _, err) = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("aactl log --follow blocked");
        assert_ne!(code, 0);
        assert!(err.contains("not a regular file"), "{err}");
    }
}

/// A 10 MB single line: every view finishes; the summary table cuts the
/// cell (it used to print the 10 MB name padded into every row's width).
#[test]
fn ten_megabyte_line_is_cut_in_tables() {
    let name = "a".repeat(10_000_000);
    let log = temp_log(&format!(
        "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/{name}\" comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0 pid=1\ntype=AVC msg=audit(1.2:4): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/short\" comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0 pid=1\n"
    ));
    let p = log.path().to_str().unwrap();
    let (code, out, err) = aactl(&["log", "--file", p, "--summary"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.len() < 100_000, "summary is {} bytes", out.len());
    assert!(
        out.contains("bytes)") && out.contains("/short"),
        "{}",
        &out[..out.len().min(2000)]
    );
    let (code, out, _) = aactl(&["log", "--file", p, "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2);
}
