//! First-use problems of `aactl` (exit codes, JSON conventions, messages, preflight, wording),
//! each pinned by a test.

use crate::aactl_status::{aactl, mixed, on};

/// Input that cannot be read exits 2 with a message naming the path, for `log` (plain and
/// triage views) and `check`; `check` prints no "0 file(s) checked" line then.
#[test]
fn unreadable_input_exits_2_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let missing = dir.path().join("nonexistent");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["log", missing],
        vec!["log", d],
        vec!["log", "--format", "json", missing],
        vec!["log", "--summary", missing],
        vec!["log", "--suggest", missing],
        vec!["check", missing],
    ] {
        let (code, out, err) = aactl(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        let path = args.last().unwrap();
        assert!(err.contains(path), "{args:?}: {err}");
        assert!(!out.contains("file(s) checked"), "{args:?}: {out}");
    }
    // one readable file and one missing: still 2, and the summary counts the one read
    let good = dir.path().join("good");
    std::fs::write(&good, "profile good { }\n").unwrap();
    let (code, out, err) = aactl(&["check", good.to_str().unwrap(), missing]);
    assert_eq!(code, 2, "{err}");
    assert!(out.contains("1 file(s) checked, 0 invalid"), "{out}");
}

/// `ps --mode WORD` keeps unknown words (newer kernels) but warns, suggesting the closest mode.
#[test]
fn ps_unknown_mode_warns() {
    let (code, out, err) = on(&mixed(), &["ps", "--mode", "enforced"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("aactl: warning: no known mode 'enforced'; did you mean 'enforce'?"),
        "{err}"
    );
    assert!(!out.contains("enforce)"), "{out}");
    let (_, _, err) = on(&mixed(), &["ps", "--mode", "bogus"]);
    assert!(err.contains("no known mode 'bogus'"), "{err}");
    assert!(!err.contains("did you mean"), "{err}");
    for known in ["enforce", "complain,kill", "user", "mixed"] {
        let (code, _, err) = on(&mixed(), &["ps", "--mode", known]);
        assert_eq!(code, 0);
        assert_eq!(err, "", "{known}");
    }
}

/// `aactl status` tables: singular and plural counts, `(pattern)` for the kernel's
/// `<unknown>` attachment (null plus `attach_kind` in JSON), labels without the repeated mode.
#[test]
fn status_wording_and_pattern_attachments() {
    let (code, out, err) = on(&mixed(), &["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("13 profiles are loaded."), "{out}");
    assert!(out.contains("10 processes are confined."), "{out}");
    assert!(
        out.contains(
            "1 process is unconfined but has a profile defined (restart it to confine it)."
        ),
        "{out}"
    );
    assert!(!out.contains("<unknown>"), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("lxc-container-default") && l.contains("| enforce"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.ends_with("| (pattern)"), "{line}");
    // the LABEL column has no " (MODE)" suffix: the MODE column shows it
    let procs = out.split("processes are confined.").nth(1).unwrap();
    let procs = procs.split("\n\n").next().unwrap();
    assert!(procs.contains("| mixed"), "{procs}");
    assert!(!procs.contains("(mixed)"), "{procs}");
    assert!(!procs.contains("(enforce)"), "{procs}");

    let (_, out, _) = on(&mixed(), &["status", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let profiles = j["profiles"]["profiles"].as_array().unwrap();
    let lxc = profiles
        .iter()
        .find(|p| p["name"] == "lxc-container-default")
        .unwrap();
    assert_eq!(lxc["attach"], serde_json::Value::Null);
    assert_eq!(lxc["attach_kind"], "pattern");
    for p in profiles {
        match p["attach_kind"].as_str() {
            Some("text") => assert!(p["attach"].is_string(), "{p}"),
            Some("pattern") | None => assert!(p["attach"].is_null(), "{p}"),
            Some(other) => panic!("{other}"),
        }
    }
    // the raw label stays in JSON
    assert!(
        j["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["label"].as_str().is_some_and(|l| l.ends_with(" (mixed)")))
    );
}

/// One profile and one process: singular wording.
#[test]
fn status_singular_counts() {
    let d = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "proc/mounts",
        "securityfs /sys/kernel/security securityfs rw 0 0\n",
    );
    w("sys/module/apparmor/parameters/enabled", "Y\n");
    w("sys/kernel/security/apparmor/profiles", "a (enforce)\n");
    w("proc/42/attr/current", "a (enforce)\n");
    w("proc/42/comm", "a\n");
    let (code, out, err) = on(d.path(), &["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("1 profile is loaded, all in the current policy namespace."),
        "{out}"
    );
    assert!(out.contains("1 process is confined."), "{out}");
}

/// `aactl snapshot` on a host without AppArmor fails (exit 2, nothing written) unless
/// `--force`, which writes what there is and warns.
#[test]
fn snapshot_needs_apparmor_unless_forced() {
    let host = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(host.path().join("proc/1")).unwrap();
    std::fs::write(host.path().join("proc/1/comm"), "init\n").unwrap();
    std::fs::write(host.path().join("proc/mounts"), "proc /proc proc rw 0 0\n").unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let dest = out_dir.path().join("snap");
    let dest_s = dest.to_str().unwrap();
    let (code, out, err) = on(host.path(), &["snapshot", dest_s]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.starts_with("aactl: AppArmor is not available: "),
        "{err}"
    );
    assert!(err.contains("sys/module/apparmor"), "{err}");
    assert_eq!(out, "");
    assert!(!dest.exists());

    let (code, out, err) = on(host.path(), &["snapshot", "--force", dest_s]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.starts_with("aactl: warning: AppArmor is not available"),
        "{err}"
    );
    assert!(out.contains("0 profiles, 1 process\n"), "{out}");
    assert!(dest.join("proc/1/comm").is_file());

    // with AppArmor there, no warning
    let dest2 = out_dir.path().join("snap2");
    let (code, _, err) = on(&mixed(), &["snapshot", dest2.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
}

/// `--root DIR` says what it changes, and `check` resolves `<...>` includes in
/// DIR/etc/apparmor.d by default (as the loader commands do).
#[test]
fn root_help_is_accurate_and_check_uses_it() {
    let (code, out, _) = aactl(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("/etc/apparmor.d are read under it"), "{out}");
    let (_, out, _) = aactl(&["check", "--help"]);
    assert!(out.contains("/etc/apparmor.d are read under it"), "{out}");

    let root = tempfile::tempdir().unwrap();
    let abs = root.path().join("etc/apparmor.d/abstractions");
    std::fs::create_dir_all(&abs).unwrap();
    std::fs::write(abs.join("aactl-ux-test"), "  /tmp/x r,\n").unwrap();
    let prof = root.path().join("prof");
    std::fs::write(
        &prof,
        "profile p {\n  #include <abstractions/aactl-ux-test>\n}\n",
    )
    .unwrap();
    let p = prof.to_str().unwrap();
    let (code, out, err) = on(root.path(), &["check", p]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = aactl(&["check", p]);
    assert_ne!(code, 0, "{out}{err}");
}

/// Every message of aactl starts with "aactl: ": usage errors, I/O errors of check and log.
#[test]
fn messages_start_with_aactl() {
    for args in [
        &["check", "/nonexistent-aactl-ux"][..],
        &["log", "/nonexistent-aactl-ux"],
        &["log", "--summary", "/nonexistent-aactl-ux"],
        &["check", "--bogus", "x"],
        &["nosuchcommand"],
        &["--root", "/nonexistent-aactl-ux", "status"],
    ] {
        let (code, _, err) = aactl(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.starts_with("aactl: "), "{args:?}: {err}");
        for l in err.lines() {
            assert!(
                !l.starts_with("error:")
                    && !l.starts_with("aactl log:")
                    && !l.starts_with("aactl check:"),
                "{args:?}: {err}"
            );
        }
    }
}

/// `check --format json` is one document with `schema` and `kind`; unreadable paths are listed
/// in it; `--json` is `--format json` on check and log.
#[test]
fn check_json_document_and_json_alias() {
    let d = tempfile::tempdir().unwrap();
    let good = d.path().join("good");
    std::fs::write(&good, "profile good { }\n").unwrap();
    let missing = d.path().join("missing");
    let (g, m) = (good.to_str().unwrap(), missing.to_str().unwrap());
    for flags in [&["--format", "json"][..], &["--json"]] {
        let mut args = vec!["check", "--base", "/nonexistent"];
        args.extend_from_slice(flags);
        args.extend([g, m]);
        let (code, out, err) = aactl(&args);
        assert_eq!(code, 2, "{err}");
        assert_eq!(out.lines().count(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["kind"], "aactl-check");
        assert_eq!(v["valid"], false);
        assert_eq!(v["checked"], 1);
        assert_eq!(v["invalid"], 0);
        assert_eq!(v["files"][0]["path"], g);
        assert_eq!(v["files"][0]["valid"], true);
        assert_eq!(v["unreadable"][0]["path"], m);
        assert!(
            v["unreadable"][0]["error"]
                .as_str()
                .unwrap()
                .contains("No such file")
        );
    }
    let (code, _, err) = aactl(&["check", "--json", "--format", "text", g]);
    assert_eq!(code, 2, "{err}");

    let log = d.path().join("log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1700000000.123:42): apparmor=\"DENIED\" operation=\"open\" \
         profile=\"p\" name=\"/etc/shadow\" pid=1 comm=\"cat\" requested_mask=\"r\" \
         denied_mask=\"r\" fsuid=0 ouid=0\n",
    )
    .unwrap();
    let l = log.to_str().unwrap();
    let (code, a, err) = aactl(&["log", "--json", l]);
    assert_eq!(code, 0, "{err}");
    let (_, b, _) = aactl(&["log", "--format", "json", l]);
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_str(a.trim()).unwrap();
    assert_eq!(v["profile"], "p");
    let (code, a, err) = aactl(&["log", "--summary", "--json", l]);
    assert_eq!(code, 0, "{err}");
    assert!(serde_json::from_str::<serde_json::Value>(a.trim()).unwrap()["groups"].is_array());
}
