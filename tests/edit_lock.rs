//! Concurrent edits of one profile file or one `local/` override by separate
//! `aactl` processes: every edit is kept (the edit lock serialises
//! read → edit → rename), and an undo after a failed reload undoes only its
//! own edit.

use crate::common::install_script;
use crate::loader_cli::fake_apparmorfs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const TWO: &str =
    "profile pa /usr/bin/pa {\n  /etc/a r,\n}\nprofile pb /usr/bin/pb {\n  /etc/b r,\n}\n";

/// A profile directory holding `two` (profiles `pa` and `pb`).
fn tree() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("apparmor.d");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join("two"), TWO).unwrap();
    (d, base)
}

/// Starts the aactl binary with `args` (a separate process, as two admins would).
fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `c`; its exit code, and its stdout and stderr together.
fn finish(c: Child) -> (i32, String) {
    let o = c.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn concurrent_mode_edits_of_two_profiles_in_one_file_are_both_kept() {
    for round in 0..20 {
        let (_d, base) = tree();
        let a = spawn(&["complain", "--base", s(&base), "--no-reload", "pa"]);
        let b = spawn(&["audit", "--base", s(&base), "--no-reload", "pb"]);
        let (ca, ea) = finish(a);
        let (cb, eb) = finish(b);
        assert_eq!((ca, cb), (0, 0), "round {round}: {ea}{eb}");
        let text = std::fs::read_to_string(base.join("two")).unwrap();
        assert_eq!(
            text,
            "profile pa /usr/bin/pa flags=(complain) {\n  /etc/a r,\n}\nprofile pb /usr/bin/pb flags=(audit) {\n  /etc/b r,\n}\n",
            "round {round}: an edit was lost"
        );
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["two"], "round {round}");
    }
}

#[test]
fn an_undo_after_a_failed_reload_keeps_a_concurrent_edit() {
    // aactl complain pa reloads with a stand-in parser that fails after a
    // while, so its edit is undone; meanwhile aactl audit pb edits the same
    // file. The undo must not take pb's audit flag with it.
    let d = tempfile::tempdir().unwrap();
    let parser = d.path().join("slow-failing-parser");
    install_script(&parser, "#!/bin/sh\nsleep 0.2\nexit 1\n");
    let fs = fake_apparmorfs();
    for round in 0..5 {
        let (_t, base) = tree();
        let a = spawn(&[
            "complain",
            "--base",
            s(&base),
            "--apparmorfs",
            s(fs.path()),
            "--parser",
            s(&parser),
            "pa",
        ]);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let b = spawn(&["audit", "--base", s(&base), "--no-reload", "pb"]);
        let (ca, ea) = finish(a);
        let (cb, eb) = finish(b);
        assert_eq!(ca, 1, "round {round}: the reload fails: {ea}");
        assert!(ea.contains("file restored"), "round {round}: {ea}");
        assert_eq!(cb, 0, "round {round}: {eb}");
        assert_eq!(
            std::fs::read_to_string(base.join("two")).unwrap(),
            "profile pa /usr/bin/pa {\n  /etc/a r,\n}\nprofile pb /usr/bin/pb flags=(audit) {\n  /etc/b r,\n}\n",
            "round {round}"
        );
    }
}

#[test]
fn concurrent_suggest_writes_into_one_local_override_are_both_kept() {
    let line = |n: u32, profile: &str, path: &str| {
        format!(
            "type=AVC msg=audit(1.2:{n}): apparmor=\"DENIED\" operation=\"open\" profile=\"{profile}\" name=\"{path}\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
        )
    };
    let logs = tempfile::tempdir().unwrap();
    let log_a = logs.path().join("a.log");
    let log_b = logs.path().join("b.log");
    std::fs::write(&log_a, line(1, "pa", "/etc/xa")).unwrap();
    std::fs::write(&log_b, line(2, "pb", "/etc/xb")).unwrap();
    for round in 0..20 {
        let (_d, base) = tree();
        let write = |log: &Path| {
            spawn(&[
                "log",
                "--suggest",
                "--write",
                "--profile-dir",
                s(&base),
                s(log),
            ])
        };
        let a = write(&log_a);
        let b = write(&log_b);
        let (ca, ea) = finish(a);
        let (cb, eb) = finish(b);
        assert_eq!((ca, cb), (0, 0), "round {round}: {ea}{eb}");
        let local = std::fs::read_to_string(base.join("local/two")).unwrap();
        assert!(
            local.contains("\nowner /etc/xa r,\n") && local.contains("\nowner /etc/xb r,\n"),
            "round {round}: a write was lost: {local}"
        );
        assert_eq!(
            local.matches("# Site-specific").count(),
            1,
            "round {round}: {local}"
        );
        let text = std::fs::read_to_string(base.join("two")).unwrap();
        assert_eq!(
            text,
            "profile pa /usr/bin/pa {\n  /etc/a r,\n  include if exists <local/two>\n}\nprofile pb /usr/bin/pb {\n  /etc/b r,\n  include if exists <local/two>\n}\n",
            "round {round}"
        );
    }
}

#[test]
fn a_mode_change_and_a_suggest_write_of_one_file_are_both_kept() {
    // Two different edit paths on one profile file: complain edits pa's
    // head, --write adds the include line to pb.
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("b.log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1.2:1): apparmor=\"DENIED\" operation=\"open\" profile=\"pb\" name=\"/etc/xb\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
    )
    .unwrap();
    for round in 0..10 {
        let (_d, base) = tree();
        let a = spawn(&["complain", "--base", s(&base), "--no-reload", "pa"]);
        let b = spawn(&[
            "log",
            "--suggest",
            "--write",
            "--profile-dir",
            s(&base),
            s(&log),
        ]);
        let (ca, ea) = finish(a);
        let (cb, eb) = finish(b);
        assert_eq!((ca, cb), (0, 0), "round {round}: {ea}{eb}");
        assert_eq!(
            std::fs::read_to_string(base.join("two")).unwrap(),
            "profile pa /usr/bin/pa flags=(complain) {\n  /etc/a r,\n}\nprofile pb /usr/bin/pb {\n  /etc/b r,\n  include if exists <local/two>\n}\n",
            "round {round}"
        );
    }
}

#[test]
fn a_file_changed_after_planning_is_not_overwritten() {
    // A writer that does not take the lock (an editor) changes the file
    // between the plan and its execution: the edit is refused, not lost.
    use apparmor::loader::{LoaderError, Plan, RecordingRunner, Step};
    let (_d, base) = tree();
    let f = base.join("two");
    let plan = Plan {
        steps: vec![Step::Edit {
            path: f.clone(),
            before: TWO.to_owned(),
            after: TWO.replace("pa /usr/bin/pa {", "pa /usr/bin/pa flags=(complain) {"),
        }],
    };
    std::fs::write(&f, format!("# edited meanwhile\n{TWO}")).unwrap();
    let mut runner = RecordingRunner::default();
    let ex = plan.execute_or_rollback(&apparmor::system::System::host(), &mut runner);
    assert!(ex.failed);
    let e = ex.error.unwrap();
    assert!(matches!(e, LoaderError::Changed { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: changed by another program since it was read; not overwritten (run the command again)",
            f.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        format!("# edited meanwhile\n{TWO}")
    );
    // A new local override that appeared meanwhile is not replaced either.
    let c = apparmor::triage::write::FileChange {
        path: base.join("local/two"),
        before: None,
        after: "/etc/x r,\n".into(),
    };
    std::fs::create_dir_all(base.join("local")).unwrap();
    std::fs::write(base.join("local/two"), "/etc/mine r,\n").unwrap();
    let e = c.apply(&apparmor::system::System::host()).unwrap_err();
    assert!(e.to_string().contains("changed by another program"), "{e}");
    assert_eq!(
        std::fs::read_to_string(base.join("local/two")).unwrap(),
        "/etc/mine r,\n"
    );
}
