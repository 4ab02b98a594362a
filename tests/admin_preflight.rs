//! The checks made before anything reaches the parser or the kernel: AppArmor enabled
//! (the check `status` makes) for every command that needs it, and each profile file
//! readable and regular.

use crate::common::aactl;
use crate::loader::fake_parser;
use crate::loader_cli::s;
use std::path::{Path, PathBuf};

/// A fake root: `enabled` holds `enabled` (none when `None`), `proc/mounts` lists
/// securityfs when `mounted`; a profile directory with one profile `t`, and a parser
/// that leaves a mark when run.
struct Root {
    dir: tempfile::TempDir,
    parser: PathBuf,
}

impl Root {
    fn new(enabled: Option<&str>, mounted: bool) -> Root {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let params = r.join("sys/module/apparmor/parameters");
        std::fs::create_dir_all(&params).unwrap();
        if let Some(e) = enabled {
            std::fs::write(params.join("enabled"), format!("{e}\n")).unwrap();
        }
        std::fs::create_dir_all(r.join("sys/kernel/security/apparmor")).unwrap();
        std::fs::create_dir_all(r.join("proc")).unwrap();
        let mut mounts = String::from("proc /proc proc rw 0 0\n");
        if mounted {
            mounts.push_str("securityfs /sys/kernel/security securityfs rw 0 0\n");
        }
        std::fs::write(r.join("proc/mounts"), mounts).unwrap();
        std::fs::create_dir_all(r.join("etc/apparmor.d")).unwrap();
        std::fs::write(r.join("etc/apparmor.d/t"), "profile t /usr/bin/t {\n}\n").unwrap();
        let bin = r.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let mark = r.join("parser-ran");
        let parser = fake_parser(&bin, &format!("touch '{}'\nexit 0", mark.display()));
        Root { dir, parser }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn profile(&self) -> PathBuf {
        self.path().join("etc/apparmor.d/t")
    }

    fn parser_ran(&self) -> bool {
        self.path().join("parser-ran").exists()
    }
}

/// Every command that loads, unloads or reloads exits 2 with the cause and runs
/// nothing, leaving the profile file as it was, on a root where AppArmor is disabled
/// and on one where its filesystem is not mounted.
#[test]
fn commands_that_need_apparmor_stop_with_the_cause() {
    let cases = [
        (Some("N"), true, "AppArmor is disabled: "),
        (
            Some("Y"),
            false,
            "AppArmor is enabled but its filesystem is not mounted",
        ),
        (None, true, "AppArmor is not available: "),
    ];
    for (enabled, mounted, cause) in cases {
        for cmd in [
            "load",
            "replace",
            "unload",
            "enforce",
            "complain",
            "audit",
            "disable",
            "enable",
            "remove-unknown",
        ] {
            let root = Root::new(enabled, mounted);
            let before = std::fs::read(root.profile()).unwrap();
            let profile = root.profile();
            let mut args = vec![cmd, "--root", s(root.path()), "--parser", s(&root.parser)];
            match cmd {
                "remove-unknown" => {}
                // taken as given
                "load" | "replace" | "unload" => args.push(s(&profile)),
                // taken inside the root
                _ => args.push("/etc/apparmor.d/t"),
            }
            let (code, out, err) = aactl(&args);
            assert_eq!(code, 2, "{cmd} {enabled:?} {mounted}: {out}{err}");
            assert_eq!(out, "", "{cmd}");
            assert!(err.starts_with(&format!("aactl: {cause}")), "{cmd}: {err}");
            assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
            assert!(err.contains(s(root.path())), "{cmd}: names the path: {err}");
            assert!(!root.parser_ran(), "{cmd}: the parser ran");
            assert_eq!(std::fs::read(root.profile()).unwrap(), before, "{cmd}");
        }
    }
}

/// What needs no kernel still works on such a root: a dry run, a compile-only load,
/// an edit without reload.
#[test]
fn what_needs_no_kernel_still_works_without_apparmor() {
    let root = Root::new(Some("N"), true);
    let (r, p, f) = (s(root.path()), s(&root.parser), root.profile());
    let (code, out, err) = aactl(&["load", "--root", r, "--parser", p, "--dry-run", s(&f)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("--add"), "{out}");
    let (code, _, err) = aactl(&["load", "--root", r, "--parser", p, "-Q", s(&f)]);
    assert_eq!(code, 0, "{err}");
    assert!(root.parser_ran());
    let (code, out, err) = aactl(&["complain", "--root", r, "--no-reload", "/etc/apparmor.d/t"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("t: enforce -> complain; ok"), "{out}");
}

/// A missing file, a FIFO or a device is one line naming the path, status 2, and the
/// parser is not run for any target, even when it would say nothing (`-q`).
#[test]
fn profile_files_are_checked_before_the_parser() {
    let root = Root::new(Some("Y"), true);
    let (r, p) = (s(root.path()), s(&root.parser));
    let missing = root.path().join("nosuch");
    let fifo = root.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    for cmd in ["load", "replace"] {
        let good = root.profile();
        let (code, out, err) = aactl(&[
            cmd,
            "--root",
            r,
            "--parser",
            p,
            "-q",
            s(&missing),
            s(&good),
            s(&fifo),
            "/dev/null",
        ]);
        assert_eq!(code, 2, "{cmd}: {out}{err}");
        assert_eq!(out, "");
        assert_eq!(
            err,
            format!(
                "aactl: {cmd} {}: No such file or directory\n\
                 aactl: {cmd} {}: not a regular file\n\
                 aactl: {cmd} /dev/null: not a regular file\n",
                missing.display(),
                fifo.display()
            )
        );
        assert!(!root.parser_ran(), "{cmd}");
    }
    // A directory is a set of profile files: accepted.
    let (code, _, err) = aactl(&[
        "load",
        "--root",
        r,
        "--parser",
        p,
        "--dry-run",
        s(&root.path().join("etc/apparmor.d")),
    ]);
    assert_eq!(code, 0, "{err}");
}
