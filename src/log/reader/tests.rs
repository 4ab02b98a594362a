use super::group::empty_record;
use super::lines::{BufReadLines, LineMeta, LineSource, NextLine};
use crate::log::record::{EventType, Framing, Origin, Provenance, Record, Text};
use std::io;
use std::sync::Arc;

use super::*;

#[test]
fn groups_syscall_and_proctitle() {
    let log = "type=AVC msg=audit(1.5:7): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=3 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n\
type=SYSCALL msg=audit(1.5:7): arch=c000003e syscall=257 success=no exit=-13 pid=3 uid=0 auid=1000 comm=\"c\" exe=\"/usr/bin/c\"\n\
type=CWD msg=audit(1.5:7): cwd=\"/root\"\n\
type=PROCTITLE msg=audit(1.5:7): proctitle=636174002F78\n\
type=SYSCALL msg=audit(1.5:8): arch=c000003e syscall=1\n";
    let (recs, st) = parse_str(log, "t");
    assert_eq!(recs.len(), 1);
    let c = recs[0].context.as_ref().unwrap();
    assert_eq!(c.exe.as_ref().unwrap(), "/usr/bin/c");
    assert_eq!(c.cwd.as_ref().unwrap(), "/root");
    assert_eq!(c.proctitle.as_ref().unwrap(), "cat /x");
    assert_eq!(c.exit, Some(-13));
    assert_eq!(st.grouped, 3);
    assert_eq!(st.lines, 5);
}

#[test]
fn a_closed_event_takes_no_more_records() {
    // The first event ends with its PROCTITLE while an older event is
    // still open before it (so it is not released yet): what arrives
    // later with its id starts a new event all the same.
    let avc = |serial: u32, name: &str| {
        format!(
            "type=AVC msg=audit(1.5:{serial}): apparmor=\"DENIED\" operation=\"open\" \
             profile=\"p\" name=\"{name}\" requested_mask=\"r\" denied_mask=\"r\"\n"
        )
    };
    let log = [
        avc(6, "/old"),
        avc(7, "/a"),
        "type=SYSCALL msg=audit(1.5:7): arch=c000003e syscall=257 success=no exit=-13\n".into(),
        "type=PROCTITLE msg=audit(1.5:7): proctitle=636174\n".into(),
        avc(7, "/b"),
        "type=CWD msg=audit(1.5:7): cwd=\"/late\"\n".into(),
    ]
    .concat();
    let (recs, st) = parse_str(&log, "t");
    let names: Vec<_> = recs.iter().map(|r| r.name.clone().unwrap()).collect();
    assert_eq!(names, ["/old", "/a", "/b"]);
    let ctx = |i: usize| recs[i].context.as_ref().map(|c| c.records.clone());
    assert_eq!(ctx(1).unwrap(), ["SYSCALL", "PROCTITLE"]);
    // `/b` is an event of its own: the CWD is its context only
    assert_eq!(ctx(2).unwrap(), ["CWD"]);
    assert_eq!(st.grouped, 3);
}

#[test]
fn empty_record_empties_every_field() {
    // every field set (texts inline and on the heap); the struct
    // literal names them all, so a new field must be added here
    let t = |s: &str| Text::from(s);
    let mut r = Record {
        event: EventType::Denied,
        epoch_msec: Some(5),
        audit_id: Some(Text::from_bytes(&[b'x'; 1])),
        operation: Some(Text::from_bytes(&[b'x'; 8])),
        class: Some(Text::from_bytes(&[b'x'; 15])),
        requested_mask: Some(Text::from_bytes(&[b'x'; 22])),
        denied_mask: Some(Text::from_bytes(&[b'x'; 29])),
        profile: Some(Text::from_bytes(&[b'x'; 36])),
        peer_profile: Some(Text::from_bytes(&[b'x'; 3])),
        peer: Some(Text::from_bytes(&[b'x'; 10])),
        name: Some(Text::from_bytes(&[b'x'; 17])),
        comm: Some(Text::from_bytes(&[b'x'; 24])),
        name2: Some(Text::from_bytes(&[b'x'; 31])),
        namespace: Some(Text::from_bytes(&[b'x'; 38])),
        attribute: Some(Text::from_bytes(&[b'x'; 5])),
        info: Some(Text::from_bytes(&[b'x'; 12])),
        peer_info: Some(Text::from_bytes(&[b'x'; 19])),
        active_hat: Some(Text::from_bytes(&[b'x'; 26])),
        net_addr: Some(Text::from_bytes(&[b'x'; 33])),
        peer_addr: Some(Text::from_bytes(&[b'x'; 40])),
        net_family: Some(Text::from_bytes(&[b'x'; 7])),
        net_sock_type: Some(Text::from_bytes(&[b'x'; 14])),
        net_protocol: Some(Text::from_bytes(&[b'x'; 21])),
        net_local_addr: Some(Text::from_bytes(&[b'x'; 28])),
        net_foreign_addr: Some(Text::from_bytes(&[b'x'; 35])),
        dbus_bus: Some(Text::from_bytes(&[b'x'; 2])),
        dbus_path: Some(Text::from_bytes(&[b'x'; 9])),
        dbus_interface: Some(Text::from_bytes(&[b'x'; 16])),
        dbus_member: Some(Text::from_bytes(&[b'x'; 23])),
        signal: Some(Text::from_bytes(&[b'x'; 30])),
        fs_type: Some(Text::from_bytes(&[b'x'; 37])),
        flags: Some(Text::from_bytes(&[b'x'; 4])),
        src_name: Some(Text::from_bytes(&[b'x'; 11])),
        execpath: Some(Text::from_bytes(&[b'x'; 18])),
        audit_type: Some(Text::from_bytes(&[b'x'; 25])),
        epoch: Some(7),
        audit_sub_id: Some(7),
        fsuid: Some(7),
        ouid: Some(7),
        task: Some(7),
        parent: Some(7),
        magic_token: Some(7),
        error_code: Some(7),
        pid: Some(7),
        peer_pid: Some(7),
        net_local_port: Some(7),
        net_foreign_port: Some(7),
        extra: vec![(t("k"), t("v"))],
        enrichment: vec![(t("K"), t("v"))],
        header: vec![(t("pid"), t("1"))],
        context: Some(Box::default()),
        framing: Framing::Auditd,
        provenance: Provenance {
            source: Arc::from("src"),
            line: 9,
            cursor: Some("c".into()),
            realtime_usec: Some(1),
            prefix_time: Some("t".into()),
            host: Some("h".into()),
            origin: Origin::Kernel,
        },
        problem: Some("p".into()),
        rendered: Default::default(),
    };
    r.rendered.push(3, |out| {
        out.extend_from_slice(b"line 12 x");
        (5, 2)
    });
    let mut out = Vec::new();
    r.rendered.write_lines(&mut out, 40);
    assert_eq!(out, b"line 43 x\n");
    empty_record(&mut r);
    assert_eq!(r.rendered.records(), 0);
    let mut want = Record::default();
    want.provenance.source = Arc::from("src");
    assert_eq!(r, want);
}

#[test]
fn syscall_fields_read_past_skipped_keys() {
    // the kernel's layout (a0 … pid passed over without tokenising),
    // and layouts where that must not happen: a quoted value among
    // them, a key out of order, two spaces
    let avc = "type=AVC msg=audit(1.5:7): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=3 comm=\"c\"\n";
    for (tail, uid, auid) in [
        (
            "a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=4 auid=1000 uid=7 gid=0",
            7,
            1000,
        ),
        (
            "a0=\"1 uid=5\" a1=2 a2=3 a3=4 items=1 ppid=1 pid=4 auid=1000 uid=7",
            7,
            1000,
        ),
        (
            "a0=1 a1=2 uid=9 a2=3 a3=4 items=1 ppid=1 pid=4 auid=1000",
            9,
            1000,
        ),
        (
            "a0=1 a1=2 a2=3 a3=4 items=1 ppid=1  pid=4 auid=8 uid=7",
            7,
            8,
        ),
        (
            "a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=4auid=2 auid=3 uid=7",
            7,
            3,
        ),
    ] {
        let log = format!(
            "{avc}type=SYSCALL msg=audit(1.5:7): arch=c000003e syscall=2 success=no exit=-13 {tail} comm=\"c\" exe=\"/bin/c\"\n"
        );
        let (recs, _) = parse_str(&log, "t");
        let c = recs[0].context.as_ref().unwrap();
        assert_eq!(
            (c.uid, c.auid, c.exit),
            (Some(uid), Some(auid), Some(-13)),
            "{tail}"
        );
        assert_eq!(c.exe.as_ref().unwrap(), "/bin/c", "{tail}");
    }
}

#[test]
fn repeated_context_keys_all_read() {
    // the scan of a CWD/PATH/PROCTITLE record stops early only when its
    // key does not come again
    let log = "type=AVC msg=audit(1.5:7): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=3 comm=\"c\"\n\
type=CWD msg=audit(1.5:7): cwd=\"/a\" x=1 cwd=\"/b\"\n\
type=PATH msg=audit(1.5:7): item=0 name=\"/p\" nametype=NORMAL\tname=\"/q\" cap_fp=0\n\
type=PATH msg=audit(1.5:7): item=1 name=\"/r\" xname=1 nametype=NORMAL\n\
type=PROCTITLE msg=audit(1.5:7): proctitle=6C73 a=proctitle= proctitle=636174\n";
    let (recs, _) = parse_str(log, "t");
    let c = recs[0].context.as_ref().unwrap();
    assert_eq!(c.cwd.as_ref().unwrap(), "/b");
    let paths: Vec<String> = c.paths.iter().map(|p| p.to_string()).collect();
    assert_eq!(paths, ["/p", "/q", "/r"]);
    assert_eq!(c.proctitle.as_ref().unwrap(), "cat");
}

/// A source that only copies lines ([`LineSource::next_line`]): its
/// lines are never marked plain, so the reader checks each one.
struct Copying<S>(S);

impl<S: LineSource> LineSource for Copying<S> {
    fn next_line(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<NextLine>> {
        self.0.next_line(buf, max)
    }
    fn name(&self) -> &str {
        self.0.name()
    }
}

#[test]
fn plain_lines_counted_like_checked_ones() {
    // ~3 MiB (many reads and buffer moves) with NUL and non-UTF-8
    // bytes at varying places, incl. runs of clean reads between them
    let mut log = Vec::new();
    for i in 0..12_000u64 {
        // a fixed scatter of the odd bytes (multiplicative hash of i)
        let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        log.extend_from_slice(format!("type=AVC msg=audit(1.5:{i}): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x{i}\" pid=3 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0").as_bytes());
        match x % 97 {
            0 => log.push(0),
            1 => log.push(0xff),
            2 => log.extend_from_slice("é".as_bytes()),
            3 if i % 3 == 0 => log.extend_from_slice(&[0, 0xfe]),
            _ => {}
        }
        log.extend_from_slice(format!(" {}\n", "y".repeat((x % 300) as usize)).as_bytes());
    }
    let read = |threads: usize, copying: bool| {
        let opts = ReaderOptions {
            threads,
            ..ReaderOptions::default()
        };
        let src = BufReadLines::new_bulk(&log[..], "t");
        if copying {
            let mut r = LogReader::new(Copying(src), opts);
            while r.next_ref().is_some() {}
            r.stats().clone()
        } else {
            let mut r = LogReader::new(src, opts);
            while r.next_ref().is_some() {}
            r.stats().clone()
        }
    };
    let want = read(1, true);
    assert!(
        want.binary_lines > 50 && want.non_utf8_lines > 100,
        "{want:?}"
    );
    for threads in [1, 3] {
        let got = read(threads, false);
        assert_eq!(
            (got.binary_lines, got.non_utf8_lines, got.lines, got.records),
            (
                want.binary_lines,
                want.non_utf8_lines,
                want.lines,
                want.records
            ),
            "{threads} threads"
        );
    }
}

struct Scripted(Vec<Option<&'static str>>, u64);

impl LineSource for Scripted {
    fn next_line(&mut self, buf: &mut Vec<u8>, _max: usize) -> io::Result<Option<NextLine>> {
        if self.0.is_empty() {
            return Ok(None);
        }
        self.1 += 1;
        Ok(Some(match self.0.remove(0) {
            Some(l) => {
                buf.clear();
                buf.extend_from_slice(l.as_bytes());
                NextLine::Line(LineMeta {
                    line: self.1,
                    ..LineMeta::default()
                })
            }
            None => NextLine::Idle,
        }))
    }
    fn name(&self) -> &str {
        "scripted"
    }
}

#[test]
fn idle_source_releases_pending_and_resumes() {
    let avc = "type=AVC msg=audit(1.5:7): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\"";
    let avc2 = "type=AVC msg=audit(1.5:8): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/y\"";
    let mut r = LogReader::new(
        Scripted(vec![Some(avc), None, None, Some(avc2), None], 0),
        ReaderOptions::default(),
    );
    assert_eq!(r.next().unwrap().unwrap().audit_sub_id, Some(7));
    assert!(r.next().is_none(), "idle, nothing pending");
    assert_eq!(r.next().unwrap().unwrap().audit_sub_id, Some(8));
    assert!(r.next().is_none(), "end");
}

#[test]
fn joins_multiline_user_avc() {
    let log = "Jun 20 17:57:06 ns1 kernel: [4835959.046111] audit: type=1107 audit(1561053426.749:186): pid=640 uid=103 auid=4294967295 ses=4294967295 msg='apparmor=\"ALLOWED\" operation=\"dbus_method_call\" bus=\"system\" label=\"x\"\n    exe=\"/usr/bin/dbus-daemon\" sauid=103 hostname=? addr=? terminal=?'\nnext\n";
    let (recs, st) = parse_str(log, "t");
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].comm.as_ref().unwrap(), "/usr/bin/dbus-daemon");
    assert_eq!(st.joined, 1);
    assert_eq!(st.lines, 3);
}
