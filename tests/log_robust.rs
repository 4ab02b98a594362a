//! Robustness of the log reader and `aactl log`: arbitrary bytes, binary
//! files, truncated lines, 1 MiB and oversized lines, invalid UTF-8, gzip
//! and rotated files, a file rotated while being read. No panic, clear
//! messages, processing continues.

use apparmor::log::reader::{BufReadLines, LogReader, ReaderOptions};
use apparmor::log::render::{text_line, to_json};
use apparmor::log::source::{open_file, rotated_set};
use apparmor::log::{EventType, parse_line, parse_str};
use proptest::prelude::*;
use std::io::Write;
use std::path::Path;

const AVC: &str = r#"type=AVC msg=audit(1700000000.123:45): apparmor="DENIED" operation="open" class="file" profile="/usr/bin/foo" name="/etc/shadow" pid=1234 comm="foo" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#;
const SYSLOG: &str = r#"Nov 29 18:00:00 myhost kernel: [ 1234.567890] audit: type=1107 audit(1700000000.123:45): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='apparmor="DENIED" operation="dbus_method_call" bus="system" path="/x" label="foo" peer_label="unconfined" exe="/usr/bin/dbus-daemon"'"#;

use crate::common::aactl_lossy as aactl;

fn exercise(bytes: &[u8]) {
    let p = parse_line(bytes);
    let _ = apparmor::log::render::test_multi(&p);
    if let apparmor::log::ParsedLine::AppArmor(r) = p {
        let _ = text_line(&r);
        let _ = to_json(&r).to_string();
    }
    let mut r = LogReader::new(
        BufReadLines::new(bytes, "p"),
        ReaderOptions {
            keep_invalid: true,
            ..ReaderOptions::default()
        },
    );
    for rec in r.by_ref().flatten() {
        let t = text_line(&rec);
        assert!(
            !t.bytes().any(|b| b < 0x20),
            "control byte in text output: {t:?}"
        );
        let _ = to_json(&rec).to_string();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn never_panics_on_damaged_records(
        cut in 0usize..400,
        pos in 0usize..400,
        junk in proptest::collection::vec(any::<u8>(), 0..12),
        which in 0usize..2,
    ) {
        let base = if which == 0 { AVC } else { SYSLOG }.as_bytes();
        let mut v = base[..cut.min(base.len())].to_vec();
        let p = pos.min(v.len());
        v.splice(p..p, junk);
        exercise(&v);
        let mut two = v.clone();
        two.push(b'\n');
        two.extend_from_slice(base);
        exercise(&two);
    }
}

#[test]
fn every_truncation_of_a_record_is_safe() {
    for base in [AVC, SYSLOG] {
        for i in 0..base.len() {
            exercise(&base.as_bytes()[..i]);
        }
    }
    // a last line without a newline is still read
    let (r, st) = parse_str(&format!("hello\n{AVC}"), "t");
    assert_eq!((r.len(), st.lines), (1, 2));
}

#[test]
fn long_lines() {
    let big = "a".repeat(1 << 20);
    let line = AVC.replace("/etc/shadow", &format!("/{big}"));
    let (r, _) = parse_str(&line, "t");
    assert_eq!(r[0].name.as_ref().unwrap().as_bytes().len(), (1 << 20) + 1);

    // over the limit: skipped, counted, the next line still read
    let mut text = "x".repeat(3000);
    text.push('\n');
    text.push_str(AVC);
    let mut rd = LogReader::new(
        BufReadLines::new(text.as_bytes(), "t"),
        ReaderOptions {
            max_line: 1000,
            ..ReaderOptions::default()
        },
    );
    let recs: Vec<_> = rd.by_ref().flatten().collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].provenance.line, 2);
    assert_eq!(rd.stats().oversized, 1);
}

#[test]
fn binary_file_gives_a_message_and_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("core.bin");
    let mut data: Vec<u8> = b"\x7fELF\0\0\0\x01\x02\xff\xfe".to_vec();
    data.extend((0..4096u32).map(|i| (i * 7 % 256) as u8));
    data.push(b'\n');
    data.extend_from_slice(AVC.as_bytes());
    data.extend_from_slice(b"\n\0\0\x1d\xff\n");
    std::fs::write(&p, &data).unwrap();
    let (code, out, err) = aactl(&["log", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("name=/etc/shadow"));
    assert!(err.contains("NUL bytes"), "{err}");
    // With a journal file's header the file goes to journalctl, which refuses this
    // one: an error naming the file, never text parsed out of a binary journal.
    let j = dir.path().join("system.journal");
    let mut journal = b"LPKSHHRH".to_vec();
    journal.extend_from_slice(&data[8..]);
    std::fs::write(&j, &journal).unwrap();
    let (code, out, err) = aactl(&["log", j.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(out, "");
    assert!(err.contains("journalctl"), "{err}");
}

#[test]
fn invalid_utf8_is_escaped_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.log");
    // comm is hex for ESC [ 3 1 m 0xFF, the name has raw invalid bytes
    let mut line = AVC
        .replace(r#"comm="foo""#, "comm=1B5B33316DFF")
        .into_bytes();
    line.extend_from_slice(b" extra=\"\xc3\x28\"\n");
    std::fs::write(&p, &line).unwrap();
    let (code, out, _) = aactl(&["log", p.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains(r"comm=\x1b[31m\xff"), "{out}");
    assert!(!out.contains('\x1b'));
    let (_, json, _) = aactl(&["log", "--format", "json", p.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["comm"], "\u{1b}[31m\\xff");
    assert_eq!(v["extra"]["extra"], "\\xc3(");
}

#[test]
fn gzip_and_rotated_files() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("audit.log");
    std::fs::write(&base, format!("{}\n", AVC.replace(":45)", ":3)"))).unwrap();
    std::fs::write(
        dir.path().join("audit.log.1"),
        format!("{}\n", AVC.replace(":45)", ":2)")),
    )
    .unwrap();
    let gz = std::fs::File::create(dir.path().join("audit.log.2.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
    writeln!(enc, "{}", AVC.replace(":45)", ":1)")).unwrap();
    enc.finish().unwrap();
    let set = rotated_set(&base);
    let names: Vec<_> = set
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["audit.log.2.gz", "audit.log.1", "audit.log"]);
    let (code, out, err) = aactl(&[
        "log",
        "--rotated",
        "--format",
        "json",
        base.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let serials: Vec<u64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["audit_sub_id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(serials, [1, 2, 3]);
}

#[test]
fn file_rotated_while_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.log");
    let mut text = String::new();
    for i in 1..=2000 {
        text.push_str(&AVC.replace(":45)", &format!(":{i})")));
        text.push('\n');
    }
    std::fs::write(&p, &text).unwrap();
    let src = open_file(&p).unwrap();
    let mut r = LogReader::new(src, ReaderOptions::default());
    let first = r.next().unwrap().unwrap();
    assert_eq!(first.audit_sub_id, Some(1));
    // logrotate: move away, create a new empty file, then truncate the old one
    std::fs::rename(&p, dir.path().join("audit.log.1")).unwrap();
    std::fs::write(&p, "").unwrap();
    let rest: Vec<_> = r.by_ref().collect();
    assert!(rest.iter().all(Result::is_ok));
    assert_eq!(rest.len(), 1999, "the open file is read to its end");
    // a file truncated under the reader just ends early, without error
    std::fs::write(&p, &text).unwrap();
    let mut r = LogReader::new(open_file(&p).unwrap(), ReaderOptions::default());
    assert!(r.next().unwrap().is_ok());
    std::fs::File::create(&p).unwrap();
    assert!(r.all(|x| x.is_ok()));
}

#[test]
fn missing_file_is_a_clear_error_and_others_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.log");
    std::fs::write(&good, format!("{AVC}\n")).unwrap();
    let missing = dir.path().join("nope.log");
    let (code, out, err) = aactl(&["log", missing.to_str().unwrap(), good.to_str().unwrap()]);
    // input that cannot be read: exit 2 (aactl(1), EXIT STATUS)
    assert_eq!(code, 2);
    assert_eq!(out.lines().count(), 1);
    assert!(err.contains("nope.log: No such file"), "{err}");
    assert!(Path::new(&good).exists());
}

#[test]
fn json_keys_are_the_documented_schema() {
    let doc = std::fs::read_to_string(crate::common::repo().join("docs/log-schema.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.log");
    let lines = [
        AVC.to_string(),
        "type=SYSCALL msg=audit(1700000000.123:45): arch=c000003e syscall=257 success=no exit=-13 exe=\"/bin/x\"".into(),
        SYSLOG.to_string(),
        r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="sendmsg" class="net" profile="foo" pid=1 comm="a" saddr=10.0.0.1 src=5 daddr=10.0.0.2 dest=80 family="inet" sock_type="stream" protocol=6 requested="send" denied="send" capability=3"#.into(),
        "type=AVC msg=audit(1.2:4): apparmor=\"KILLED\" operation=\"open\" profile=\"p\" name=\"/x\" ouid=0\x1dFSUID=\"root\"".into(),
    ];
    std::fs::write(&p, lines.join("\n")).unwrap();
    let (_, out, _) = aactl(&["log", "--format", "json", p.to_str().unwrap()]);
    let mut n = 0;
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["version"], 2);
        assert!(v["provenance"].is_string(), "{l}");
        for k in v.as_object().unwrap().keys() {
            assert!(doc.contains(&format!("`{k}`")), "key {k} not documented");
        }
        n += 1;
    }
    assert_eq!(n, 4);
    assert!(out.contains("\"event\":\"AA_RECORD_KILLED\""));
    let _ = EventType::Killed;
}

#[test]
fn auto_detection_under_a_root() {
    // syslog only: the record is found there
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/log")).unwrap();
    std::fs::write(
        dir.path().join("var/log/syslog"),
        format!(
            "Nov 29 18:00:00 myhost kernel: audit: {}\n",
            AVC.replacen("type=AVC msg=", "type=1400 ", 1)
        ),
    )
    .unwrap();
    let root = dir.path().to_str().unwrap();
    let (code, out, err) = aactl(&["--root", root, "log", "--stats"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}{err}");
    assert!(err.contains("read syslog"), "{err}");

    // nothing anywhere: say where we looked, with auditd's trap explained
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(empty.path().join("run")).unwrap();
    std::fs::create_dir_all(empty.path().join("proc/77")).unwrap();
    std::fs::write(empty.path().join("run/auditd.pid"), "77").unwrap();
    let (code, out, err) = aactl(&["--root", empty.path().to_str().unwrap(), "log"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("no AppArmor records found"), "{err}");
    assert!(err.contains("audit/audit.log: missing"), "{err}");
    assert!(err.contains("auditd is running (pid 77)"), "{err}");
    assert!(err.contains("kernel ring buffer: skipped"), "{err}");
}

#[test]
fn kernel_ring_buffer_source_runs() {
    let (code, _out, err) = aactl(&["log", "kernel", "--stats"]);
    // no AppArmor on the build host's kernel: no records, but a clean run,
    // or a clear message when the ring buffer is not readable
    match code {
        0 => assert!(err.contains("total:"), "{err}"),
        2 => assert!(err.contains("kernel ring buffer"), "{err}"),
        c => panic!("exit {c}: {err}"),
    }
}

#[test]
fn journalctl_failure_is_reported() {
    // a boot id journalctl does not know makes it fail; its message reaches the user
    let (code, out, err) = aactl(&["log", "journal", "--boot=not-a-boot-id"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("journalctl"), "{err}");
}
