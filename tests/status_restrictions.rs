//! `aactl status` and `snapshot` with the unprivileged-user restriction
//! sysctls (`kernel.apparmor_restrict_unprivileged_*`) on fake roots, and the
//! audit subsystem's state (`auditctl -s`) asked of stand-in programs: the
//! C locale, a failure's message, a hang cut by the time limit.

use crate::common::{aactl, repo};
use apparmor::system::audit::{AuditQueryError, query_audit_status_with};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::copy_tree;

/// The committed Debian 12 VM snapshot, plus the sysctls `values` (name suffix, value).
fn root_with(dir: &Path, values: &[(&str, &str)]) -> PathBuf {
    let root = dir.join("root");
    copy_tree(&repo().join("testdata/systems/debian12-vm"), &root);
    let k = root.join("proc/sys/kernel");
    std::fs::create_dir_all(&k).unwrap();
    for (n, v) in values {
        std::fs::write(k.join(format!("apparmor_restrict_unprivileged_{n}")), v).unwrap();
    }
    root
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const UBUNTU: &[(&str, &str)] = &[
    ("userns", "1\n"),
    ("unconfined", "0\n"),
    ("io_uring", "0\n"),
];

#[test]
fn status_shows_the_restrictions_in_text_and_json() {
    let d = tempfile::tempdir().unwrap();
    let root = root_with(d.path(), UBUNTU);
    let (code, out, err) = aactl(&["--root", s(&root), "status"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[2],
        "Unprivileged-user restrictions (kernel.apparmor_restrict_unprivileged_*): io_uring 0, unconfined 0, userns 1."
    );
    // never the host's audit state for another root
    assert!(!out.contains("Audit"), "{out}");
    let (code, out, _) = aactl(&["--root", s(&root), "status", "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        j["sysctls"],
        serde_json::json!({
            "kernel.apparmor_restrict_unprivileged_io_uring": 0,
            "kernel.apparmor_restrict_unprivileged_unconfined": 0,
            "kernel.apparmor_restrict_unprivileged_userns": 1
        })
    );
    assert_eq!(j["audit"], serde_json::Value::Null);
}

#[test]
fn no_restrictions_no_line() {
    let d = tempfile::tempdir().unwrap();
    let root = root_with(d.path(), &[]);
    let (code, out, _) = aactl(&["--root", s(&root), "status"]);
    assert_eq!(code, 0);
    assert!(!out.contains("restrictions"), "{out}");
    let (_, out, _) = aactl(&["--root", s(&root), "status", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["sysctls"], serde_json::json!({}));
}

#[test]
fn odd_values_are_kept_and_escaped() {
    let d = tempfile::tempdir().unwrap();
    let root = root_with(
        d.path(),
        &[("userns", "2\n"), ("userns_complain", "x\u{1b}[2J\n")],
    );
    let (_, out, _) = aactl(&["--root", s(&root), "status"]);
    assert!(
        out.contains("userns 2, userns_complain x\\x1b[2J."),
        "{out}"
    );
    let (_, out, _) = aactl(&["--root", s(&root), "status", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        j["sysctls"]["kernel.apparmor_restrict_unprivileged_userns_complain"],
        "x\u{1b}[2J"
    );
}

#[test]
fn snapshot_keeps_the_restrictions() {
    let d = tempfile::tempdir().unwrap();
    let root = root_with(d.path(), UBUNTU);
    let snap = d.path().join("snap");
    let (code, _, err) = aactl(&["--root", s(&root), "snapshot", s(&snap)]);
    assert_eq!(code, 0, "{err}");
    for (n, v) in UBUNTU {
        let f = snap.join(format!(
            "proc/sys/kernel/apparmor_restrict_unprivileged_{n}"
        ));
        assert_eq!(std::fs::read_to_string(f).unwrap(), *v);
    }
    let a = aactl(&["--root", s(&root), "status", "--json"]).1;
    let b = aactl(&["--root", s(&snap), "status", "--json"]).1;
    let ja: serde_json::Value = serde_json::from_str(&a).unwrap();
    let jb: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(ja["sysctls"], jb["sysctls"]);
}

/// A stand-in `auditctl` (a `#!/bin/sh` script) with `body`.
fn stand_in(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("auditctl");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn auditctl_is_asked_with_s_in_the_c_locale() {
    let d = tempfile::tempdir().unwrap();
    // prints the status only when asked exactly `-s` with LC_ALL=C
    let p = stand_in(
        d.path(),
        r#"[ "$*" = "-s" ] && [ "$LC_ALL" = C ] || { echo "bad call: $* LC_ALL=$LC_ALL" >&2; exit 3; }
printf 'enabled 1\nfailure 1\npid 612\nrate_limit 0\nbacklog_limit 8192\nlost 41\nbacklog 2\nbacklog_wait_time 60000\nbacklog_wait_time_actual 0\nloginuid_immutable 0 unlocked\n'"#,
    );
    let st = query_audit_status_with(&p, Duration::from_secs(10)).unwrap();
    assert_eq!(
        (st.pid, st.lost, st.backlog),
        (Some(612), Some(41), Some(2))
    );
    assert!(st.problems()[0].contains("lost 41 audit records"));
}

#[test]
fn auditctl_failure_and_hang() {
    let d = tempfile::tempdir().unwrap();
    let p = stand_in(
        d.path(),
        "echo 'You must be root to run this program.' >&2; exit 4",
    );
    let e = query_audit_status_with(&p, Duration::from_secs(10)).unwrap_err();
    assert!(matches!(e, AuditQueryError::Failed { .. }), "{e}");
    assert!(
        e.to_string()
            .ends_with("-s failed: You must be root to run this program."),
        "{e}"
    );

    let d2 = tempfile::tempdir().unwrap();
    let p = stand_in(d2.path(), "exec sleep 30");
    let t = Instant::now();
    let e = query_audit_status_with(&p, Duration::from_millis(300)).unwrap_err();
    assert!(matches!(e, AuditQueryError::TimedOut { .. }), "{e}");
    assert!(t.elapsed() < Duration::from_secs(5));

    let d3 = tempfile::tempdir().unwrap();
    let p = stand_in(d3.path(), "echo 'audit support not in kernel'");
    let e = query_audit_status_with(&p, Duration::from_secs(10)).unwrap_err();
    assert!(matches!(e, AuditQueryError::Parse { .. }), "{e}");
}
