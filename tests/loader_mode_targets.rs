//! How the mode commands find their targets: a file name of the profile
//! directory, did-you-mean for unknown names, absolute paths under `--root`.

use crate::loader_cli::{aactl, s};
use std::path::{Path, PathBuf};

/// A profile directory with Debian-style file names (not the profile names).
fn tree() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("etc/apparmor.d");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(
        base.join("usr.sbin.nscd"),
        "# nscd\n/usr/sbin/nscd {\n  /etc/nsswitch.conf r,\n}\n",
    )
    .unwrap();
    std::fs::write(base.join("usr.sbin.nmbd"), "/usr/sbin/nmbd {\n}\n").unwrap();
    std::fs::write(
        base.join("firefox"),
        "profile firefox /usr/lib/firefox/firefox {\n}\n",
    )
    .unwrap();
    (d, base)
}

fn edit_only(base: &Path, mode: &str, args: &[&str]) -> (u8, String, String) {
    let head = [mode, "--base", s(base), "--no-reload"];
    aactl(&[&head[..], args].concat())
}

#[test]
fn a_file_name_of_the_profile_directory_is_that_file() {
    let (_d, base) = tree();
    let (code, out, err) = edit_only(&base, "complain", &["usr.sbin.nscd"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "complain {}/usr.sbin.nscd: /usr/sbin/nscd: enforce -> complain; ok\n",
            base.display()
        )
    );
    assert!(
        std::fs::read_to_string(base.join("usr.sbin.nscd"))
            .unwrap()
            .contains("/usr/sbin/nscd flags=(complain) {")
    );
}

#[test]
fn an_unknown_name_suggests_the_closest_name_or_file() {
    let (_d, base) = tree();
    let b = base.display();
    for (typed, meant) in [
        ("usr.sbin.ncsd", "usr.sbin.nscd"),
        ("nscd", "/usr/sbin/nscd"),
        ("firefx", "firefox"),
    ] {
        let (code, out, err) = edit_only(&base, "complain", &[typed]);
        assert_eq!(code, 1, "{typed}: {out}");
        assert_eq!(
            err,
            format!(
                "aactl: complain {typed}: profile {typed} not found in {b}; did you mean: {meant}\n"
            )
        );
    }
    // Nothing near: no suggestion.
    let (code, _, err) = edit_only(&base, "complain", &["zzzzzz"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!("aactl: complain zzzzzz: profile zzzzzz not found in {b}\n")
    );
}

#[test]
fn under_root_an_absolute_profile_path_is_the_roots_file() {
    let (d, base) = tree();
    let root = d.path();
    // A name the host does not have: before, it was looked for on the host.
    std::fs::write(
        base.join("aactl-root-only"),
        "profile rootonly /usr/bin/rootonly {\n}\n",
    )
    .unwrap();
    // A link inside the root with an absolute target: followed inside the root.
    std::fs::create_dir_all(root.join("srv")).unwrap();
    std::os::unix::fs::symlink("/etc/apparmor.d/usr.sbin.nscd", root.join("srv/nscd")).unwrap();
    for (target, file) in [
        ("/etc/apparmor.d/aactl-root-only", "aactl-root-only"),
        ("/srv/nscd", "usr.sbin.nscd"),
    ] {
        let (code, out, err) = aactl(&[
            "--root",
            s(root),
            "complain",
            "--no-reload",
            "--dry-run",
            target,
        ]);
        assert_eq!(code, 0, "{target}: {err}");
        let f = base.join(file);
        assert!(
            out.starts_with(&format!("--- {0}\n+++ {0}\n", f.display())),
            "{target}: {out}"
        );
    }
    let (code, out, err) = aactl(&[
        "--root",
        s(root),
        "complain",
        "--no-reload",
        "/etc/apparmor.d/aactl-root-only",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("rootonly: enforce -> complain; ok"), "{out}");
    assert!(
        std::fs::read_to_string(base.join("aactl-root-only"))
            .unwrap()
            .contains("flags=(complain)")
    );
}

/// A profile already in the asked mode is not rewritten (its flags keep their
/// spacing), so a dry run shows no edit.
#[test]
fn flags_already_as_asked_are_left_byte_for_byte() {
    let (_d, base) = tree();
    let text = "profile t /usr/bin/t flags=(complain,attach_disconnected) {\n}\n";
    std::fs::write(base.join("t"), text).unwrap();
    let (code, out, err) = edit_only(&base, "complain", &["--dry-run", "t"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "");
    let (code, out, err) = edit_only(&base, "complain", &["t"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("t: complain,attach_disconnected -> complain,attach_disconnected; ok"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(base.join("t")).unwrap(), text);
}

/// Applies the unified diff `diff` (as `--dry-run` prints it, other lines
/// ignored) to `before`.
fn apply(before: &str, diff: &str) -> String {
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut next = 0; // index of the next old line not yet copied
    for line in diff.split_inclusive('\n') {
        if let Some(h) = line.strip_prefix("@@ -") {
            let start: usize = h
                .split([',', ' '])
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap();
            let start = start.saturating_sub(1);
            out.extend(old[next..start].iter().copied());
            next = start;
        } else if line.starts_with("---") || line.starts_with("+++") {
        } else if let Some(l) = line.strip_prefix('+') {
            out.push_str(l);
        } else if line.starts_with('-') {
            next += 1;
        } else if let Some(l) = line.strip_prefix(' ') {
            out.push_str(l);
            next += 1;
        }
    }
    out.extend(old[next..].iter().copied());
    out
}

/// Over every profile file of Debian 13's tree, complain then enforce: the dry
/// run's diff, applied to the file, gives exactly what `--no-reload` writes, and
/// it marks one removed and one added line per profile whose flags change.
#[test]
fn dry_run_diff_is_the_edit_over_debian_tree() {
    let Some(p) = crate::common::platform("trixie") else {
        return;
    };
    let checked = dry_run_diffs_over(&p.path("/etc/apparmor.d"), &["complain", "enforce"]);
    assert!(checked > 100, "{checked}");
}

/// The same over this host's own tree (Debian 12's profiles on the test machines; read
/// only, the files are copied), with audit and its removal as well.
#[test]
fn dry_run_diff_is_the_edit_over_the_hosts_tree() {
    let tree = Path::new("/etc/apparmor.d");
    if !tree.is_dir() {
        println!("SKIP: no /etc/apparmor.d on this host");
        return;
    }
    let checked = dry_run_diffs_over(tree, &["complain", "enforce", "audit", "enforce"]);
    assert!(checked > 0, "{checked}");
}

/// Copies the regular files of `tree` into a temp dir and, file by file, runs each of
/// `modes` with `--dry-run` and then for real (`--no-reload`): the diff applied to the
/// file before is the file after, and it has one `-`/`+` pair per profile whose flags
/// changed. Returns how many diffs were checked.
fn dry_run_diffs_over(tree: &Path, modes: &[&str]) -> usize {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("apparmor.d");
    std::fs::create_dir_all(&base).unwrap();
    let mut files = Vec::new();
    for e in std::fs::read_dir(tree).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), base.join(e.file_name())).unwrap();
            files.push(base.join(e.file_name()));
        }
    }
    files.sort();
    let mut checked = 0;
    for f in &files {
        for &mode in modes {
            let before = std::fs::read_to_string(f).unwrap();
            let (code, diff, _) = edit_only(&base, mode, &["--dry-run", s(f)]);
            if code != 0 {
                continue; // no profile in it, or it does not parse
            }
            let (code, out, err) = edit_only(&base, mode, &["--json", s(f)]);
            assert_eq!(code, 0, "{}: {err}", f.display());
            let after = std::fs::read_to_string(f).unwrap();
            assert_eq!(apply(&before, &diff), after, "{}: {diff}", f.display());
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            let changed = v["results"][0]["changes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["before"] != c["after"])
                .count();
            let minus = diff
                .lines()
                .filter(|l| l.starts_with('-') && !l.starts_with("---"))
                .count();
            let plus = diff
                .lines()
                .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
                .count();
            assert_eq!((minus, plus), (changed, changed), "{}: {diff}", f.display());
            checked += 1;
        }
    }
    println!(
        "{}: {checked} dry-run diffs checked over {} files",
        tree.display(),
        files.len()
    );
    checked
}
