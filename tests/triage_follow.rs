//! `aactl log --follow FILE`: records appear as they are written, across a
//! rotation; Ctrl-C (SIGINT) ends it cleanly with the final summary.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn line(n: u32) -> String {
    format!(
        "type=AVC msg=audit(1700000000.{n:03}:{n}): apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/bin/f\" name=\"/data/f{n}\" pid={n} comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=1\n"
    )
}

/// A following aactl, killed and reaped when the test ends without having
/// waited for it (a failed assertion must not leave it following forever).
pub(crate) struct Aactl(pub(crate) Child);

impl Drop for Aactl {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `aactl ARGS` (stdin and stderr null); its stdout lines arrive on
/// the receiver, sent by the returned reader thread.
pub(crate) fn spawn_aactl(cmd: &mut Command) -> (Aactl, Receiver<String>, JoinHandle<()>) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            tx.send(l.unwrap()).unwrap();
        }
    });
    (Aactl(child), rx, reader)
}

/// The lines received up to and including the first that contains `want`;
/// panics after 60 s without one.
pub(crate) fn lines_until(rx: &Receiver<String>, want: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let t = Instant::now();
    while !seen.iter().any(|l: &String| l.contains(want)) {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(l);
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no line with {want}: {seen:?}"
        );
    }
    seen
}

/// Sends SIGINT to `child` (through kill(1)); the status of kill.
pub(crate) fn sigint(child: &Child) -> ExitStatus {
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
}

#[test]
fn follow_prints_records_and_a_final_summary_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    std::fs::write(&path, line(1)).unwrap(); // existing content is not repeated
    let (mut child, rx, reader) = spawn_aactl(
        Command::new(env!("CARGO_BIN_EXE_aactl"))
            .args([
                "log",
                "--follow",
                "--summary",
                "--profile-dir",
                "/nonexistent",
            ])
            .arg(&path),
    );
    // Every line printed, so that none can be checked for /data/f1 at the end.
    let mut seen = Vec::new();
    let append = |s: &str| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .unwrap();
        f.write_all(s.as_bytes()).unwrap();
    };
    // aactl has opened the file and moved to its end (line 1 is old content)
    crate::common::wait_until_following(child.0.id(), &path);
    append(&line(2));
    seen.extend(lines_until(&rx, "/data/f2"));
    // rotation: line 3 goes to a new file at once (the follower reads a
    // replaced file from its start, and waits while the path is missing)
    std::fs::rename(&path, dir.path().join("audit.log.1")).unwrap();
    append(&line(3));
    seen.extend(lines_until(&rx, "/data/f3"));
    assert!(sigint(&child.0).success());
    // the summary: one profile, two groups
    seen.extend(lines_until(&rx, "/usr/bin/f (2 records, 2 groups"));
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    assert!(seen.iter().all(|l| !l.contains("/data/f1")), "{seen:?}");
}

/// `--follow --format json` is an NDJSON stream of records only: no closing
/// summary object after Ctrl-C.
#[test]
fn follow_json_stream_holds_records_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    std::fs::write(&path, line(1)).unwrap(); // old content, not repeated
    let (mut child, rx, reader) = spawn_aactl(
        Command::new(env!("CARGO_BIN_EXE_aactl"))
            .args(["log", "--follow", "--format", "json"])
            .arg(&path),
    );
    crate::common::wait_until_following(child.0.id(), &path);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(line(2).as_bytes()).unwrap();
    let mut seen = lines_until(&rx, "/data/f2");
    assert!(sigint(&child.0).success());
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    for l in &seen {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v.get("version").is_some(), "not a record: {l}");
    }
}

/// Without a source, `--follow` follows the live file of the detected
/// place (auditd's log, not its rotated copy).
#[test]
fn follow_auto_detects_the_live_file() {
    let root = tempfile::tempdir().unwrap();
    let logdir = root.path().join("var/log/audit");
    std::fs::create_dir_all(&logdir).unwrap();
    std::fs::write(logdir.join("audit.log.1"), line(1)).unwrap();
    // old content of the live file is not shown either
    std::fs::write(logdir.join("audit.log"), line(6)).unwrap();
    let (mut child, rx, reader) = spawn_aactl(
        Command::new(env!("CARGO_BIN_EXE_aactl"))
            .args(["log", "--follow", "--root"])
            .arg(root.path())
            .args(["--profile-dir", "/nonexistent"]),
    );
    crate::common::wait_until_following(child.0.id(), &logdir.join("audit.log"));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(logdir.join("audit.log"))
        .unwrap();
    f.write_all(line(7).as_bytes()).unwrap();
    let seen = lines_until(&rx, "/data/f7");
    assert!(
        seen.iter()
            .all(|l| !l.contains("/data/f1") && !l.contains("/data/f6")),
        "{seen:?}"
    );
    sigint(&child.0);
    assert!(child.0.wait().unwrap().success());
    reader.join().unwrap();
}

/// The journal is followed with `journalctl --follow`; when journalctl
/// exits, it is started again after the last cursor (a fake journalctl on
/// PATH records its arguments). SIGINT to aactl alone ends it even though
/// journalctl (here `sleep`) is still running: the follower kills it.
#[test]
fn follow_resumes_the_journal_by_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let args_log = dir.path().join("args");
    let entry = |c: &str, n: u32| {
        format!(
            "{{\"__CURSOR\":\"{c}\",\"__REALTIME_TIMESTAMP\":\"170000000{n}000000\",\"_TRANSPORT\":\"kernel\",\"MESSAGE\":\"audit: type=1400 audit(170000000{n}.000:{n}): apparmor=\\\"DENIED\\\" operation=\\\"open\\\" profile=\\\"/j\\\" name=\\\"/j{n}\\\" pid={n} comm=\\\"c\\\" requested_mask=\\\"r\\\" denied_mask=\\\"r\\\"\"}}"
        )
    };
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\ncase \"$*\" in\n*--after-cursor=c2*) echo '{}'; exec sleep 30 ;;\n*--after-cursor=*) exec sleep 30 ;;\n*) echo '{}'; echo '{}' ;;\nesac\n",
        args_log.display(),
        entry("c3", 3),
        entry("c1", 1),
        entry("c2", 2)
    );
    crate::common::install_script(&dir.path().join("journalctl"), &script);
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (mut child, rx, reader) = spawn_aactl(
        Command::new(env!("CARGO_BIN_EXE_aactl"))
            .args([
                "log",
                "journal",
                "--follow",
                "--summary",
                "--profile-dir",
                "/nonexistent",
            ])
            .env("PATH", path),
    );
    let seen = lines_until(&rx, "/j3");
    sigint(&child.0);
    assert!(child.0.wait().unwrap().success());
    reader.join().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(
        rest.iter().any(|l| l.contains("/j (3 records, 3 groups")),
        "{rest:?}"
    );
    let calls = std::fs::read_to_string(&args_log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].contains("--follow") && !calls[0].contains("--after-cursor"));
    assert!(calls[1].contains("--follow") && calls[1].contains("--after-cursor=c2"));
    assert_eq!(seen.iter().filter(|l| l.contains("/j1")).count(), 1);
}
