use super::file::maybe_gz;
use crate::log::record::Origin;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::*;

/// Hands over its data one byte in the first read, then the rest (a
/// pipe whose writer wrote one byte first).
struct Trickle(Vec<u8>, usize);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if self.1 == 0 { 1 } else { buf.len() };
        let n = n.min(self.0.len() - self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
        self.1 += n;
        Ok(n)
    }
}

#[test]
fn gzip_detected_when_the_first_read_has_one_byte() {
    use std::io::Write;
    let text = b"type=AVC msg=audit(1.5:7): apparmor=\"DENIED\"\n";
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text).unwrap();
    let gz = e.finish().unwrap();
    for (data, want) in [
        (gz.clone(), &text[..]),
        // a plain text starting with 0x1f: kept as it is
        (b"\x1fplain\n".to_vec(), &b"\x1fplain\n"[..]),
        (b"\x1f".to_vec(), &b"\x1f"[..]),
    ] {
        let r = maybe_gz(Box::new(BufReader::new(Trickle(data, 0)))).unwrap();
        let mut out = Vec::new();
        { r }.read_to_end(&mut out).unwrap();
        assert_eq!(out, want);
    }
}

#[test]
fn journal_json_entry() {
    let j = br#"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1700000000123456","_AUDIT_ID":"45","MESSAGE":"AVC apparmor=\"DENIED\" operation=\"open\""}"#;
    let mut b = Vec::new();
    let t = TrustedSenders::default();
    let m = journal_entry(j, &mut b, 1, &t).unwrap();
    assert_eq!(b, br#"AVC apparmor="DENIED" operation="open""#);
    assert_eq!(m.cursor.as_deref(), Some("s=1;i=2"));
    assert_eq!(m.audit_id.unwrap().serial, 45);
    assert_eq!(m.audit_id.unwrap().msec, 123);
    let j = br#"{"MESSAGE":[65,86,67,32,255]}"#;
    let m = journal_entry(j, &mut b, 2, &t).unwrap();
    assert_eq!(b, b"AVC \xff");
    // no transport, no sender: nobody vouches for it
    assert_eq!(m.origin, Some(Origin::Untrusted));
}

#[test]
fn journal_origin_from_trusted_fields_only() {
    let t = TrustedSenders {
        bus_uids: vec![0, 102],
    };
    let origin = |fields: &str| {
        let j = format!(r#"{{{fields},"MESSAGE":"apparmor=\"DENIED\" operation=\"open\""}}"#);
        journal_entry(j.as_bytes(), &mut Vec::new(), 1, &t)
            .unwrap()
            .origin
    };
    for (fields, want) in [
        (r#""_TRANSPORT":"kernel""#, Origin::Kernel),
        (
            r#""_TRANSPORT":"kernel","SYSLOG_FACILITY":"0""#,
            Origin::Kernel,
        ),
        // written to /dev/kmsg by user space (facility user)
        (
            r#""_TRANSPORT":"kernel","SYSLOG_FACILITY":"1""#,
            Origin::Untrusted,
        ),
        (r#""_TRANSPORT":"audit""#, Origin::Kernel),
        (
            r#""_TRANSPORT":"syslog","_COMM":"dbus-daemon","_EXE":"/usr/bin/dbus-daemon","_UID":"102""#,
            Origin::TrustedHelper,
        ),
        (
            r#""_TRANSPORT":"journal","_COMM":"dbus-broker","_EXE":"/usr/bin/dbus-broker","_UID":"0""#,
            Origin::TrustedHelper,
        ),
        (
            r#""_TRANSPORT":"stdout","_COMM":"dbus-daemon","_UID":"102""#,
            Origin::TrustedHelper,
        ),
        // a session bus (the user's own daemon)
        (
            r#""_TRANSPORT":"syslog","_COMM":"dbus-daemon","_EXE":"/usr/bin/dbus-daemon","_UID":"1000""#,
            Origin::Untrusted,
        ),
        // logger -t dbus-daemon: the identifier is the sender's claim
        (
            r#""_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"dbus-daemon","_COMM":"logger","_EXE":"/usr/bin/logger","_UID":"1000""#,
            Origin::Untrusted,
        ),
        (
            r#""_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"dbus-daemon","_COMM":"logger","_UID":"102""#,
            Origin::Untrusted,
        ),
        // a renamed process (prctl) whose executable is another
        (
            r#""_TRANSPORT":"syslog","_COMM":"dbus-daemon","_EXE":"/tmp/x","_UID":"102""#,
            Origin::Untrusted,
        ),
        (
            r#""_COMM":"dbus-daemon","_EXE":"/usr/bin/dbus-daemon""#,
            Origin::Untrusted,
        ),
        (r#""_TRANSPORT":"syslog""#, Origin::Untrusted),
    ] {
        assert_eq!(origin(fields), Some(want), "{fields}");
    }
}

#[test]
fn bus_uids_from_passwd() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("etc")).unwrap();
    std::fs::write(
        d.path().join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nmessagebus:x:102:104::/nonexistent:/usr/sbin/nologin\nuser:x:1000:1000::/home/user:/bin/sh\ndbus:x:81:81::/:/sbin/nologin\nbroken\n",
    )
    .unwrap();
    assert_eq!(TrustedSenders::of_host(d.path()).bus_uids, vec![0, 102, 81]);
    assert_eq!(
        TrustedSenders::of_host(&d.path().join("missing")).bus_uids,
        vec![0]
    );
}

#[test]
fn journal_args_have_no_shell() {
    let a = JournalLines::args(
        &JournalQuery {
            boot: Some(String::new()),
            since: Some("1 hour ago".into()),
            ..Default::default()
        },
        Path::new("/"),
    );
    assert!(a.contains(&"--boot".to_string()));
    assert!(a.contains(&"--since=1 hour ago".to_string()));
    assert!(a.contains(&"_TRANSPORT=audit".to_string()));
    assert!(a.contains(&"_COMM=dbus-daemon".to_string()));
}
