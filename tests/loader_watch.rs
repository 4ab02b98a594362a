//! `--watch SECONDS` on the mode and load commands: a fake log file is appended
//! to while the watch runs (no live kernel here); only the records of the
//! loaded profiles (hats and children included) are shown, with the rules
//! that would allow them.

use crate::loader::{real_parser, td};
use crate::loader_cli::{aactl, fake_apparmorfs, s};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const LINES: &str = "\
Nov 29 21:00:01 host kernel: [  100.000001] audit: type=1400 audit(1764450001.001:101): apparmor=\"DENIED\" operation=\"open\" profile=\"foo//hat\" name=\"/etc/shadow\" pid=123 comm=\"foo\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0
Nov 29 21:00:01 host kernel: [  100.000002] audit: type=1400 audit(1764450001.002:102): apparmor=\"DENIED\" operation=\"open\" profile=\"food\" name=\"/etc/food\" pid=124 comm=\"food\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0
Nov 29 21:00:01 host kernel: [  100.000003] audit: type=1400 audit(1764450001.003:103): apparmor=\"ALLOWED\" operation=\"mknod\" profile=\"foo\" name=\"/tmp/x\" pid=125 comm=\"foo\" requested_mask=\"c\" denied_mask=\"c\" fsuid=0 ouid=0
";

/// Runs `aactl ARGS... --watch 4 --log-source LOG TARGET` (in this process)
/// and appends [`LINES`] to `log` as soon as the watch follows it (has it open
/// at its end): appended earlier, they would be old content to the watch.
fn watch_4s_while_appending(log: &Path, args: &[&str], target: &str) -> (u8, String, String) {
    let watch = ["--watch", "4", "--log-source", s(log), target];
    let path = log.to_owned();
    let len = std::fs::metadata(log).unwrap().len();
    assert!(len > 0, "the log must hold old content");
    let done = Arc::new(AtomicBool::new(false));
    let done2 = done.clone();
    // Appends once the log is open at its end; gives up when aactl returned.
    let t = std::thread::spawn(move || {
        let me = std::process::id();
        while !crate::common::open_offsets(me, &path).contains(&len) {
            if done2.load(Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(LINES.as_bytes()).unwrap();
        true
    });
    let r = aactl(&[args, &watch[..]].concat());
    done.store(true, Ordering::SeqCst);
    assert!(t.join().unwrap(), "the watch never followed the log: {r:?}");
    r
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("apparmor.d");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::copy(td("profiles/foo"), base.join("foo")).unwrap();
    let log = d.path().join("kern.log");
    // Old content is not shown: the watch starts at the end.
    std::fs::write(&log, LINES.replace("/etc/shadow", "/etc/old")).unwrap();
    (d, base, log)
}

#[test]
fn complain_watch_shows_the_profiles_records_and_rules() {
    let (_d, base, log) = setup();
    let fs = fake_apparmorfs();
    let (code, out, err) = watch_4s_while_appending(
        &log,
        &[
            "complain",
            "--base",
            s(&base),
            "--apparmorfs",
            s(fs.path()),
            "--parser",
            "/bin/true",
        ],
        "foo",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "watched {} for 4 s: 2 record(s) of foo\n",
            log.display()
        )),
        "{out}"
    );
    assert!(out.contains("profile=foo//hat"), "{out}");
    assert!(out.contains("name=/etc/shadow"), "{out}");
    assert!(out.contains("name=/tmp/x"), "{out}");
    assert!(!out.contains("food"), "another profile: {out}");
    assert!(!out.contains("/etc/old"), "written before the watch: {out}");
    let rules = &out[out.find("suggested rules:\n").expect(&out)..];
    assert!(rules.contains("/etc/shadow r,"), "{rules}");
    assert!(rules.contains("/tmp/x"), "{rules}");
}

#[test]
fn replace_watch_json() {
    let Some(p) = real_parser() else { return };
    let (_d, base, log) = setup();
    let fs = fake_apparmorfs();
    let (code, out, err) = watch_4s_while_appending(
        &log,
        &[
            "replace",
            "--parser",
            s(&p),
            "--apparmorfs",
            s(fs.path()),
            "-K",
            "--json",
        ],
        s(&base.join("foo")),
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let w = &v["watch"];
    assert_eq!(w["profiles"], serde_json::json!(["foo"]));
    assert_eq!(w["seconds"], 4);
    let recs = w["records"].as_array().unwrap();
    assert_eq!(recs.len(), 2, "{w}");
    assert!(
        w["suggestions"]
            .as_str()
            .unwrap()
            .contains("/etc/shadow r,"),
        "{w}"
    );
}

#[test]
fn dry_run_does_not_watch() {
    let (_d, base, log) = setup();
    let (code, out, err) = aactl(&[
        "complain",
        "--base",
        s(&base),
        "--parser",
        "/usr/sbin/apparmor_parser",
        "--dry-run",
        "--watch",
        "30",
        "--log-source",
        s(&log),
        "foo",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("watched"), "{out}");
}

#[test]
fn nothing_loaded_means_no_watch() {
    let (_d, base, log) = setup();
    let fs = fake_apparmorfs();
    let t = std::time::Instant::now();
    let (code, out, err) = aactl(&[
        "complain",
        "--base",
        s(&base),
        "--apparmorfs",
        s(fs.path()),
        "--parser",
        "/bin/true",
        "--watch",
        "30",
        "--log-source",
        s(&log),
        "nosuch",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(!out.contains("watched"), "{out}");
    assert!(t.elapsed() < Duration::from_secs(20));
}
