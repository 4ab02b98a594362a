//! spec/pitfalls.md C and D cases (and the B cases about suggestions) as
//! tests of the triage views.

use crate::triage_conformance::aactl;
use apparmor::log::LogReader;
use apparmor::log::reader::ReaderOptions;
use apparmor::triage::follow::FollowFile;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn log_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
    f
}

fn run(args: &[&str], text: &str) -> (u8, String, String) {
    let f = log_file(text);
    let mut a: Vec<&str> = args.to_vec();
    a.extend(["--profile-dir", "/nonexistent"]);
    let p = f.path().to_str().unwrap().to_owned();
    a.push(&p);
    aactl(&a)
}

const D01: &str = r#"apparmor="ALLOWED" operation="link" class="file" profile="startplasma" name="@{user_cache_dirs}/ksycoca5_de_LQ6f0J2qZg4vOKgw2NbXuW7iuVU=.isNSBz"  comm="startplasma-way" requested_mask="k" denied_mask="k" fsuid=1000 ouid=1000 target="@{user_cache_dirs}/#@{int}" FSUID="seeker" OUID="seeker""#;

// The D-01/D-02 reports quote the bare key lists without their log
// framing: whoever sent such a line is not known, so its rule is only
// suggested as trusted with --trust-userspace-records (the subject here is
// the rule itself; tests/log_provenance.rs covers the split).

#[test]
fn d01_values_with_equals_are_kept() {
    let (_, out, _) = run(&["log", "--suggest", "--trust-userspace-records"], D01);
    assert!(
        out.contains(
            "owner @\\{user_cache_dirs\\}/ksycoca5_de_LQ6f0J2qZg4vOKgw2NbXuW7iuVU=.isNSBz k,"
        ),
        "{out}"
    );
    let (_, out, _) = run(&["log", "--summary"], D01);
    assert!(out.contains("W7iuVU=.isNSBz"), "{out}");
}

const D02: &str = r#"apparmor="DENIED" operation="mknod" class="file" profile="pacdiff" name="/root/.cache/vim/swap/%etc%makepkg.conf.swx" comm="vim" requested_mask="c" denied_mask="c" fsuid=0 ouid=0"#;

#[test]
fn d02_owner_in_rule_and_event_view() {
    let (_, out, _) = run(&["log", "--suggest", "--trust-userspace-records"], D02);
    assert_eq!(
        out,
        "profile pacdiff {\n  owner /root/.cache/vim/swap/%etc%makepkg.conf.swx w,\n}\n"
    );
    let (_, out, _) = run(&["log", "--summary", "--format", "json"], D02);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["groups"][0]["owner"], true);
    assert_eq!(
        v["groups"][0]["rule"],
        "owner /root/.cache/vim/swap/%etc%makepkg.conf.swx w,"
    );
    let (_, out, _) = run(&["log", "--summary"], D02);
    assert!(out.contains("owner c"), "{out}");
}

#[test]
fn d04_journal_mode_never_touches_log_files() {
    let root = tempfile::tempdir().unwrap();
    let (_, _out, err) = aactl(&[
        "log",
        "journal",
        "--summary",
        "--root",
        root.path().to_str().unwrap(),
    ]);
    assert!(!err.contains("/var/log"), "{err}");
    assert!(!err.contains("no log file"), "{err}");
}

const D05: &str = "[  246.467043] audit: type=1400 audit(0000000000.000:0000): apparmor=\"ALLOWED\" operation=\"create\" class=\"net\" profile=\"dbus-session\" pid=2654 comm=\"dbus-daemon\" family=\"netlink\" sock_type=\"raw\" protocol=9 requested_mask=\"create\" denied_mask=\"create\"\n\
[  246.467050] audit: type=1400 audit(0000000000.000:0000): apparmor=\"ALLOWED\" operation=\"capable\" class=\"cap\" profile=\"dbus-session\" pid=2654 comm=\"dbus-daemon\" capability=12  capname=\"net_admin\"\n";

#[test]
fn d05_dmesg_records_and_zero_timestamps() {
    let (_, out, _) = run(&["log", "--suggest", "--parser-version", "6.0"], D05);
    assert_eq!(
        out,
        "profile dbus-session {\n  capability net_admin,\n  network (create) netlink raw,\n}\n"
    );
    // both records counted, the zero audit time is not a time
    let (_, out, _) = run(&["log", "--summary", "--format", "json"], D05);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 2);
    assert!(v["groups"][0].get("first").is_none(), "{out}");
    // a time filter drops records that have no usable time
    let (_, out, _) = run(&["log", "--summary", "--since", "@1"], D05);
    assert!(out.contains("no matching records"), "{out}");
    // and an empty host says where it looked
    let root = tempfile::tempdir().unwrap();
    let (_, _, err) = aactl(&["log", "--summary", "--root", root.path().to_str().unwrap()]);
    assert!(err.contains("no AppArmor records found"), "{err}");
    assert!(err.contains("audit.log"), "{err}");
}

const D07: &str = "type=AVC msg=audit(1726652567.206:4): apparmor=\"STATUS\" info=\"AppArmor Filesystem Enabled\" pid=1 comm=\"swapper/0\"\n\
type=AVC msg=audit(1726652593.383:1632): apparmor=\"ALLOWED\" operation=\"open\" class=\"file\" profile=\"resolvconf\" name=\"/etc/resolvconf.conf\" pid=2364 comm=\"resolvconf\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0FSUID=\"root\" OUID=\"root\"\n\
type=AVC msg=audit(1726652593.393:1633): apparmor=\"ALLOWED\" operation=\"open\" class=\"file\" profile=\"resolvconf\" name=\"/etc/resolvconf.conf\" pid=2365 comm=\"resolvconf\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0FSUID=\"root\" OUID=\"root\"\n";

#[test]
fn d07_identical_events_counted_status_behind_a_flag() {
    let (_, out, _) = run(&["log", "--summary", "--format", "json"], D07);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let g = &v["groups"][0];
    assert_eq!(g["count"], 2, "{out}");
    assert_eq!(g["pids"], serde_json::json!([2364, 2365]));
    assert_eq!(g["first"], "2024-09-18T09:43:13.383Z");
    assert_eq!(g["last"], "2024-09-18T09:43:13.393Z");
    assert_eq!(v["groups"].as_array().unwrap().len(), 1);
    let (_, out, _) = run(&["log", "--summary", "--mode", "all"], D07);
    assert!(out.contains("AppArmor Filesystem Enabled"), "{out}");
    assert!(out.contains("STATUS"), "{out}");
    let (_, out, _) = run(&["log", "--summary"], D07);
    assert!(out.contains(" 2 "), "{out}");
}

const D08: &str = r#"type=AVC msg=audit(1727368762.784:21150): apparmor="DENIED" operation="open" class="file" profile="briar-desktop" name="/dev/urandom" pid=88450 comm="java" requested_mask="wc" denied_mask="wc" fsuid=1001 ouid=0FSUID="user" OUID="root""#;

#[test]
fn d08_base_abstraction_paths_are_not_hidden() {
    let (_, out, _) = run(&["log", "--summary"], D08);
    assert!(out.contains("/dev/urandom"), "{out}");
    let (_, out, _) = run(&["log", "--suggest"], D08);
    assert_eq!(out, "profile briar-desktop {\n  /dev/urandom w,\n}\n");
    let (_, out, _) = run(&["log", "--comm", "java", "--profile-regex", "^briar"], D08);
    assert!(out.contains("/dev/urandom"), "{out}");
    let (_, out, _) = run(&["log", "--comm", "python"], D08);
    assert!(out.is_empty(), "{out}");
}

/// pitfalls C-01: the file is moved away, nothing exists for a while, a
/// new file appears; then the new file is truncated. Every record is seen
/// exactly once.
#[test]
fn c01_follow_survives_rotation_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let line = |n: u32| {
        format!(
            "type=AVC msg=audit(1700000000.{n:03}:{n}): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/f{n}\" pid={n} comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=1\n"
        )
    };
    std::fs::write(&path, line(0)).unwrap(); // before following: not reported
    let stop = Arc::new(AtomicBool::new(false));
    let mut src = FollowFile::new(path.clone(), false, stop.clone());
    src.poll = Duration::from_millis(20);
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let mut r = LogReader::new(
            src,
            ReaderOptions {
                group: false,
                ..ReaderOptions::default()
            },
        );
        for rec in r.by_ref() {
            let rec = rec.unwrap();
            tx.send(rec.pid.unwrap()).unwrap();
        }
    });
    let append = |s: &str| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .unwrap();
        f.write_all(s.as_bytes()).unwrap();
    };
    let wait = |want: u64| -> u64 {
        let t = Instant::now();
        loop {
            if let Ok(p) = rx.recv_timeout(Duration::from_millis(50)) {
                return p;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "timed out waiting for {want}"
            );
        }
    };
    // the follower has opened the file and moved to its end (line 0 stays unreported)
    crate::common::wait_until_following(std::process::id(), &path);
    append(&line(1));
    assert_eq!(wait(1), 1);
    // a line written in two parts is one record
    let l2 = line(2);
    append(&l2[..40]);
    std::thread::sleep(Duration::from_millis(80));
    append(&l2[40..]);
    assert_eq!(wait(2), 2);
    // rotation: the old file gets one more line after the move, then vanishes
    std::fs::rename(&path, dir.path().join("audit.log.1")).unwrap();
    let mut old = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("audit.log.1"))
        .unwrap();
    old.write_all(line(3).as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(150)); // window with no audit.log
    append(&line(4));
    assert_eq!(wait(3), 3);
    assert_eq!(wait(4), 4);
    // truncation
    std::fs::write(&path, "").unwrap();
    // Line 5 is written once the follower has seen the file shrink (it is
    // back at offset 0): written earlier, it would make the file as long as
    // before (line 5 is as long as line 4), which no follower can tell from
    // an unchanged file.
    crate::common::wait_for_offset(std::process::id(), &path, "truncation seen", |pos| pos == 0);
    append(&line(5));
    assert_eq!(wait(5), 5);
    stop.store(true, Ordering::SeqCst);
    h.join().unwrap();
    assert!(rx.try_recv().is_err(), "no duplicates");
}

#[test]
fn b_cases_without_rules_are_reported() {
    let text = "type=AVC msg=audit(1494272099.261:3455): apparmor=\"DENIED\" operation=\"ptrace\" profile=\"/bin/netstat\" pid=1962 comm=\"netstat\" target=\"\"\n\
type=AVC msg=audit(1494272099.261:3456): apparmor=\"DENIED\" operation=\"ptrace\" profile=\"/bin/netstat\" pid=1962 comm=\"netstat\" target=8022C0FF81A0FFFF8022C0FF81A0FFFF1080CBFF81A0FFFF\n\
Mar 03 07:48:21 examplehost.internal kernel: audit: type=1400 audit(1772549301.213:78826): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"firefox\" pid=16417 comm=\"vaapitest\" requested_mask=\"wr\" denied_mask=\"wr\" fsuid=1000 ouid=0\n\
2026-05-26T19:47:43.396634-04:00 philippe-OMEN-25L kernel: audit: type=1400 audit(1779839263.395:472): apparmor=\"DENIED\" operation=\"change_onexec\" class=\"file\" info=\"label not found\" error=-2 profile=\"/usr/lib/snapd/snap-confine\" name=\"snap.firefox.firefox\" pid=6209 comm=\"snap-confine\"\n\
[ 1597.774866] audit: type=1400 audit(1284061896.005:28): apparmor=\"DENIED\" operation=\"change_hat\" info=\"unconfined\" error=-1 pid=2698 comm=\"syscall_ptrace\"\n";
    // the syslog lines tagged kernel: are not the kernel's outside kern.log:
    // trusted here, as the upstream utils take every line
    let (code, out, err) = run(&["log", "--suggest", "--trust-userspace-records"], text);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "/bin/netstat {\n}\n\n/usr/lib/snapd/snap-confine {\n}\n\nprofile firefox {\n}\n"
    );
    assert!(
        err.contains("/bin/netstat ptrace: ptrace record without a denied mask (1×)"),
        "{err}"
    );
    // the hex target decodes to kernel pointers: flagged, never a rule
    assert!(
        err.contains(
            "/bin/netstat ptrace: ptrace target is binary data (a kernel bug), not a label (1×)"
        ),
        "{err}"
    );
    assert!(err.contains("file record without a file name"), "{err}");
    assert!(
        err.contains("target profile snap.firefox.firefox is not loaded"),
        "{err}"
    );
    assert!(
        err.contains("unconfined task attempted change_hat"),
        "{err}"
    );
}

#[test]
fn b_cases_with_rules() {
    let text = "2026-02-11T17:49:21.719707+01:00 sec-questing-amd64 dbus-daemon[3217]: apparmor=\"DENIED\" operation=\"dbus_method_call\"  bus=\"session\" name=\"org.freedesktop.DBus\" path=\"/org/freedesktop/DBus\" interface=\"org.freedesktop.DBus\" member=\"Hello\" mask=\"send\" pid=1234 profile=\"random_test\"\n\
type=AVC msg=audit(1562529588.082:3153): apparmor=\"DENIED\" operation=\"open\" profile=\"unbalanced_parenthesis\" name=\"/dev/shm/test(me\" pid=888 comm=\"cat\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 ouid=1000\n\
type=AVC msg=audit(1562529588.082:3154): apparmor=\"DENIED\" operation=\"open\" profile=\"unbalanced_parenthesis\" name=2F746D702F612A3F5B5D7B7D5E225C2062 pid=888 comm=\"cat\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 ouid=1000\n\
2025-02-15T11:55:40.057652+01:00 zeta kernel: [  369.104368] audit: type=1400 audit(1739616850.365:11): apparmor=\"ALLOWED\" operation=\"open\" class=\"file\" profile=\"/home/adm/test.sh\" name=\"/etc/\" pid=908 comm=\"ls\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 ouid=0\n";
    // (the dbus-daemon line is a syslog line: its sender is not verified)
    let (_, out, _) = run(&["log", "--suggest", "--trust-userspace-records"], text);
    assert_eq!(
        out,
        "/home/adm/test.sh {\n  /etc/ r,\n}\n\n\
profile random_test {\n  dbus send bus=session path=/org/freedesktop/DBus interface=org.freedesktop.DBus member=Hello,\n}\n\n\
profile unbalanced_parenthesis {\n  owner /dev/shm/test(me r,\n  owner \"/tmp/a\\*\\?\\[\\]\\{\\}\\^\\\"\\\\ b\" r,\n}\n"
    );
    // what we print parses back
    let p = apparmor::policy::parse_str(&out, apparmor::diag::FileId(0));
    assert!(p.is_ok(), "{:?}", p.diagnostics);
}

/// pitfalls A-15: a record of a stacked label counts for each profile of
/// the stack; a namespaced profile keeps its namespace.
#[test]
fn stacked_labels_are_attributed_to_each_profile() {
    let text = r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" class="file" label="cri-containerd.apparmor.d//&:ns1:inner" name="/etc/shadow" pid=5 comm="cat" requested_mask="r" denied_mask="r" fsuid=0 ouid=0
audit: type=1400 audit(1.2:4): apparmor="DENIED" operation="signal" profile="cri-containerd.apparmor.d" comm="bao" requested_mask="send" denied_mask="send" signal=urg peer="cri-containerd.apparmor.d//&unconfined""#;
    let (_, out, _) = run(&["log", "--suggest"], text);
    assert!(
        out.contains("profile :ns1:inner {\n  owner /etc/shadow r,\n}"),
        "{out}"
    );
    assert!(out.contains("profile cri-containerd.apparmor.d {\n  signal send set=urg peer=cri-containerd.apparmor.d//&unconfined,\n  owner /etc/shadow r,\n}"), "{out}");
    let (_, out, _) = run(&["log", "--summary", "--profile", ":ns1:inner"], text);
    assert!(out.contains(":ns1:inner (1 record"), "{out}");
    assert!(!out.contains("cri-containerd.apparmor.d ("), "{out}");
}

/// Escape sequences in names never reach the terminal.
#[test]
fn names_are_escaped() {
    // comm and name hex-encoded with ESC and BEL
    let text = "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=2F781B5B316D07 pid=1 comm=1B5D303B7069776E6564 requested_mask=\"r\" denied_mask=\"r\"\n";
    for args in [
        &["log", "--summary"][..],
        &["log", "--suggest"][..],
        &["log", "--profile", "p"][..],
    ] {
        let (_, out, err) = run(args, text);
        assert!(
            !out.contains('\x1b') && !out.contains('\x07'),
            "{args:?}: {out:?}"
        );
        assert!(!err.contains('\x1b'), "{args:?}: {err:?}");
    }
}

const MIX: &str = "type=AVC msg=audit(1700000000.000:1): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/bin/a\" name=\"/etc/a\" pid=10 comm=\"a\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=1\n\
type=AVC msg=audit(1700000100.000:2): apparmor=\"DENIED\" operation=\"capable\" class=\"cap\" profile=\"/usr/bin/a\" pid=11 comm=\"a2\" capability=12 capname=\"net_admin\"\n\
type=AVC msg=audit(1700000200.000:3): apparmor=\"ALLOWED\" operation=\"exec\" class=\"file\" profile=\"/usr/bin/b\" name=\"/usr/bin/tool\" pid=12 comm=\"b\" requested_mask=\"x\" denied_mask=\"x\" fsuid=0 ouid=0\n\
type=AVC msg=audit(1700000300.000:4): apparmor=\"AUDIT\" operation=\"open\" class=\"file\" profile=\"/usr/bin/b\" name=\"/etc/b\" pid=13 comm=\"b\" requested_mask=\"r\" fsuid=0 ouid=0\n";

fn count(args: &[&str]) -> u64 {
    let mut a = vec!["log", "--summary", "--format", "json"];
    a.extend_from_slice(args);
    let (code, out, err) = run(&a, MIX);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["records"].as_u64().unwrap()
}

#[test]
fn filters_on_every_view() {
    assert_eq!(count(&[]), 3); // denied and allowed by default
    assert_eq!(count(&["--mode", "denied"]), 2);
    assert_eq!(count(&["--mode", "allowed"]), 1);
    assert_eq!(count(&["--mode", "audit"]), 1);
    assert_eq!(count(&["--mode", "all"]), 4);
    assert_eq!(count(&["--profile-regex", "b$"]), 1);
    assert_eq!(count(&["--operation", "capable"]), 1);
    assert_eq!(count(&["--class", "cap"]), 1);
    assert_eq!(count(&["--class", "capability"]), 1);
    assert_eq!(count(&["--class", "exec"]), 1);
    assert_eq!(count(&["--class", "file"]), 2);
    assert_eq!(count(&["--pid", "10", "--pid", "12"]), 2);
    assert_eq!(count(&["--comm", "a2"]), 1);
    assert_eq!(count(&["--since", "@1700000100"]), 2);
    assert_eq!(count(&["--until", "2023-11-14 22:13:20"]), 1);
    assert_eq!(
        count(&["--since", "@1700000050", "--until", "@1700000150"]),
        1
    );
    // --boot on a file: records since the host's boot time
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("proc")).unwrap();
    std::fs::write(root.path().join("proc/stat"), "cpu 1\nbtime 1700000150\n").unwrap();
    assert_eq!(
        count(&["--boot", "--root", root.path().to_str().unwrap()]),
        1
    );
    // the same filters on the record listing and on suggestions
    let (_, out, _) = run(&["log", "--pid", "12"], MIX);
    assert_eq!(out.lines().count(), 1, "{out}");
    // (the AUDIT record of /etc/b gets its rule too, as the utils write it)
    let (_, out, _) = run(&["log", "--suggest", "--profile", "/usr/bin/b"], MIX);
    assert_eq!(out, "/usr/bin/b {\n  /etc/b r,\n  /usr/bin/tool mrix,\n}\n");
    let (_, out, _) = run(
        &["log", "--suggest", "--format", "json", "--class", "cap"],
        MIX,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["profiles"][0]["rules"][0], "capability net_admin,");
    // bad values are usage errors
    let (code, _, err) = run(&["log", "--summary", "--since", "soon"], MIX);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&["log", "--summary", "--profile-regex", "("], MIX);
    assert_eq!(code, 2);
}
