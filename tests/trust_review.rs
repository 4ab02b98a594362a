//! Findings of a hostile review and of a first-use trial, each pinned: names
//! that would inject policy text, write destinations others control, locks
//! others hold, inputs without a size limit, and answers that name what is
//! gone.

use crate::common::{aactl, aactl_lossy, repo};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A root with the minimum autodep reads, and `name` as a program in
/// usr/bin.
fn autodep_root(name: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    for sub in [
        "etc/apparmor.d/tunables",
        "etc/apparmor.d/abstractions",
        "usr/bin",
    ] {
        std::fs::create_dir_all(r.join(sub)).unwrap();
    }
    std::fs::write(r.join("etc/apparmor.d/tunables/global"), "").unwrap();
    std::fs::write(r.join("etc/apparmor.d/abstractions/base"), "").unwrap();
    std::fs::write(r.join("usr/bin").join(name), "\x7fELF").unwrap();
    d
}

#[test]
fn autodep_refuses_names_that_would_become_policy() {
    for name in [
        "x>\n  file,\n  capability,\n  #",
        "a\x1b[2Jb",
        "a#b",
        "q\"x",
    ] {
        let d = autodep_root(name);
        let prog = format!("/usr/bin/{name}");
        let (code, out, err) = aactl_lossy(&["--root", s(d.path()), "autodep", &prog]);
        assert_eq!(code, 2, "{name:?}: {err}");
        assert!(err.contains("refused"), "{name:?}: {err}");
        assert!(!err.contains('\x1b') && !out.contains('\x1b'), "{err}");
        let written: Vec<_> = std::fs::read_dir(d.path().join("etc/apparmor.d"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .collect();
        assert!(written.is_empty(), "{name:?}: a profile was written");
    }
    // an ordinary name still works, and a dry run says where it would write
    let d = autodep_root("tool");
    let (code, out, err) = aactl(&["--root", s(d.path()), "autodep", "tool", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/usr/bin/tool mr,"), "{out}");
    assert!(
        err.contains("would write") && err.contains("usr.bin.tool"),
        "{err}"
    );
    // a name not in the root says so
    let (code, _, err) = aactl(&["--root", s(d.path()), "autodep", "nosuchprog"]);
    assert_ne!(code, 0);
    assert!(err.contains("inside --root"), "{err}");
}

#[test]
fn snapshot_refuses_a_destination_others_control() {
    let d = tempfile::tempdir().unwrap();
    let root = repo().join("testdata/systems/debian12-vm");
    // writable by others
    let open = d.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, _, err) = aactl(&["--root", s(&root), "snapshot", s(&open)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("others may write into it"), "{err}");
    // a link
    let link = d.path().join("link");
    std::os::unix::fs::symlink(d.path().join("elsewhere"), &link).unwrap();
    let (code, _, err) = aactl(&["--root", s(&root), "snapshot", s(&link)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!d.path().join("elsewhere").exists());
    // a new folder is fine
    let (code, _, err) = aactl(&["--root", s(&root), "snapshot", s(&d.path().join("new"))]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn features_write_does_not_follow_a_planted_link() {
    let d = tempfile::tempdir().unwrap();
    let root = repo().join("testdata/systems/debian12-vm");
    let victim = d.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = d.path().join("features");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let (code, _, err) = aactl(&["--root", s(&root), "features", "-w", s(&link)]);
    assert_ne!(code, 0);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn fmt_names_a_fifo_given_on_the_command_line() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (code, _, err) = aactl(&["fmt", "--check", s(&fifo)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn edits_give_up_on_a_lock_held_elsewhere() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("p");
    std::fs::write(&p, "profile p {\n  /x   r,\n}\n").unwrap();
    // another process holds the folder's lock for longer than the wait
    let mut holder = std::process::Command::new("flock")
        .arg(d.path())
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let (code, _, err) = aactl(&["fmt", s(&p)]);
    let waited = started.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("edit lock"), "{err}");
    assert!(waited.as_secs() < 25, "{waited:?}");
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "profile p {\n  /x   r,\n}\n"
    );
}

#[test]
fn answers_larger_than_the_cap_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let big = d.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len((256 << 20) + 10).unwrap();
    let log = d.path().join("audit.log");
    std::fs::write(&log, "").unwrap();
    let (code, _, err) = aactl(&[
        "triage",
        "--profile-dir",
        s(d.path()),
        "--answers",
        s(&big),
        s(&log),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("larger than 256 MiB"), "{err}");
}

#[test]
fn ps_pid_that_fails_another_filter_is_not_missing() {
    let root = repo().join("testdata/systems/sid-vm");
    let (code, out, err) = aactl(&["--root", s(&root), "ps", "--pid", "1", "--mode", "kill"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("no process"), "{err}");
    assert!(!out.contains(" 1 "), "{out}");
    let (code, _, err) = aactl(&["--root", s(&root), "ps", "--pid", "999999"]);
    assert_eq!(code, 1);
    assert!(err.contains("no process with pid 999999"), "{err}");
    // the namespace as status writes it
    let (_, a, _) = aactl(&["--root", s(&root), "ps", "--namespace", "vmns"]);
    let (_, b, _) = aactl(&["--root", s(&root), "ps", "--namespace", ":vmns:"]);
    assert_eq!(a, b);
    assert!(a.lines().count() > 1, "{a}");
}

#[test]
fn summary_groups_one_access_whatever_the_class_spelling() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("audit.log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1700000000.000:1): apparmor=\"DENIED\" operation=\"capable\" class=\"cap\" profile=\"p\" pid=1 comm=\"c\" capability=12 capname=\"net_admin\"\n\
         type=AVC msg=audit(1700000001.000:2): apparmor=\"DENIED\" operation=\"capable\" profile=\"p\" pid=1 comm=\"c\" capability=12 capname=\"net_admin\"\n",
    )
    .unwrap();
    let (code, out, err) = aactl(&["log", "--summary", "--json", s(&log)]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let groups = v["groups"].as_array().expect(&out);
    assert_eq!(groups.len(), 1, "{out}");
    assert_eq!(groups[0]["class"], "cap", "{out}");
    assert_eq!(groups[0]["count"], 2, "{out}");
}

#[test]
fn disable_under_root_links_as_the_tree_sees_it() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("etc/apparmor.d");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("usr.bin.x"), "/usr/bin/x {\n  /etc/x r,\n}\n").unwrap();
    let (code, out, err) = aactl(&["--root", s(d.path()), "disable", "usr.bin.x", "--no-reload"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_link(dir.join("disable/usr.bin.x")).unwrap(),
        Path::new("/etc/apparmor.d/usr.bin.x")
    );
}
