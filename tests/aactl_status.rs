//! `aactl status` on fake trees (System::with_root through `--root`): tables with escaped
//! names, the JSON document parsed back field by field, and exit status 2 with a message
//! naming the path when AppArmor cannot be inspected.

use crate::common;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The committed fake tree with stacks, namespaces, hats and awkward names.
pub fn mixed() -> PathBuf {
    common::repo().join("testdata/status-aactl/mixed")
}

/// Runs aactl in-process; returns (exit status, stdout, stderr).
pub use crate::common::aactl;

/// `aactl --root DIR ARGS…`.
pub fn on(dir: &Path, args: &[&str]) -> (u8, String, String) {
    let root = dir.to_str().expect("UTF-8 path");
    let mut v = vec!["--root", root];
    v.extend_from_slice(args);
    aactl(&v)
}

/// Fails when `s` holds a control character other than a newline.
pub fn assert_no_controls(s: &str) {
    if let Some(c) = s.chars().find(|c| c.is_control() && *c != '\n') {
        panic!("unescaped control character {c:?} in output:\n{s}");
    }
}

fn pids_of(rows: &[Value]) -> Vec<u64> {
    rows.iter().map(|x| x["pid"].as_u64().unwrap()).collect()
}

fn json_of(dir: &Path) -> Value {
    let (code, out, _) = on(dir, &["status", "--json"]);
    assert_eq!(code, 0);
    serde_json::from_str(&out).expect("valid JSON")
}

#[test]
fn tables_escape_names_and_count_by_namespace_and_mode() {
    let (code, out, err) = on(&mixed(), &["status"]);
    assert_eq!(code, 0, "stderr: {err}");
    assert_no_controls(&out);
    assert_no_controls(&err);
    assert!(out.contains("13 profiles are loaded."), "{out}");
    assert!(out.contains("10 processes are confined."), "{out}");
    assert!(
        out.contains("1 process is unconfined but has a profile defined"),
        "{out}"
    );
    assert!(out.contains("policy revision 7"));
    // Per-namespace count rows: NAMESPACE, ENFORCE, COMPLAIN, PROMPT, KILL, UNCONFINED,
    // FUTURISTIC (an unknown mode word gets its own column), TOTAL.
    let cells = |prefix: &str| -> Vec<String> {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(prefix) && l.matches('|').count() == 7)
            .unwrap_or_else(|| panic!("no count row {prefix} in\n{out}"));
        line.split('|').map(|c| c.trim().to_owned()).collect()
    };
    assert_eq!(
        cells("(current)"),
        ["(current)", "5", "2", "1", "1", "0", "1", "10"]
    );
    assert_eq!(
        cells(":lxd-c1:"),
        [":lxd-c1:", "1", "1", "0", "0", "0", "0", "2"]
    );
    assert_eq!(
        cells(":ns1//ns2:"),
        [":ns1//ns2:", "0", "0", "0", "0", "1", "0", "1"]
    );
    for escaped in [
        r"esc\x1b[31mred",
        r"tab\there",
        r"evil\n\x1b[2J",
        "my \"quoted\" profile",
        "/opt/ünïcødé/😺",
        "/tmp/a b/\"x\"",
    ] {
        assert!(out.contains(escaped), "{escaped} missing from\n{out}");
    }
    // The malformed line is reported on stderr with its path and line number.
    assert!(
        err.contains("profiles:14: not a \"NAME (MODE)\" line: not a profile line"),
        "{err}"
    );
    // Typed parameters and the features summary.
    assert!(
        out.lines()
            .any(|l| l.contains("path_max") && l.contains("2048"))
    );
    assert!(
        out.lines()
            .any(|l| l.contains("lock_policy") && l.contains("no"))
    );
    assert!(
        out.lines()
            .any(|l| l.contains("policy ABI versions") && l.contains("v5 v6 v7 v8"))
    );
    assert!(
        out.lines()
            .any(|l| l.contains("rule classes not supported") && l.contains("dbus"))
    );
}

#[test]
fn json_document_field_by_field() {
    let j = json_of(&mixed());
    assert_eq!(j["schema"], json!(1));
    assert_eq!(j["kind"], json!("aactl-status"));
    assert_eq!(j["namespace"], json!("root"));
    assert_eq!(j["revision"], json!(7));
    assert!(
        j["securityfs"]
            .as_str()
            .unwrap()
            .ends_with("sys/kernel/security/apparmor")
    );
    let p = &j["profiles"];
    assert_eq!(p["total"], json!(13));
    assert_eq!(
        p["namespaces"],
        json!([
            {"namespace": null, "total": 10,
             "modes": {"complain": 2, "enforce": 5, "futuristic": 1, "kill": 1, "prompt": 1}},
            {"namespace": "lxd-c1", "total": 2, "modes": {"complain": 1, "enforce": 1}},
            {"namespace": "ns1//ns2", "total": 1, "modes": {"unconfined": 1}},
        ])
    );
    let profiles = p["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 13);
    let find = |ns: Value, name: &str| -> &Value {
        profiles
            .iter()
            .find(|x| x["namespace"] == ns && x["name"] == json!(name))
            .unwrap_or_else(|| panic!("profile {name} missing"))
    };
    assert_eq!(
        find(Value::Null, "my \"quoted\" profile"),
        &json!({"namespace": null, "name": "my \"quoted\" profile", "mode": "complain",
                "attach": "/usr/bin/my quoted*", "attach_kind": "text"})
    );
    assert_eq!(
        find(Value::Null, "esc\u{1b}[31mred")["mode"],
        json!("enforce")
    );
    assert_eq!(find(Value::Null, "tab\there")["mode"], json!("kill"));
    assert_eq!(find(Value::Null, "snap.foo.bar")["mode"], json!("prompt"));
    assert_eq!(find(Value::Null, "weird-mode")["mode"], json!("futuristic"));
    assert_eq!(
        find(Value::Null, "/usr/sbin/apache2//phpsysinfo")["attach"],
        json!("/usr/sbin/apache2//phpsysinfo")
    );
    assert_eq!(
        find(json!("lxd-c1"), "/usr/bin/man"),
        &json!({"namespace": "lxd-c1", "name": "/usr/bin/man", "mode": "enforce",
                "attach": "/usr/bin/man", "attach_kind": "text"})
    );
    assert_eq!(
        find(json!("ns1//ns2"), "deep")["attach"],
        json!("/usr/bin/deep")
    );
    assert_eq!(
        find(json!("lxd-c1"), "nvidia_modprobe")["attach"],
        Value::Null
    );
    // Sorted by namespace (own first), then name bytewise.
    let order: Vec<(Value, Value)> = profiles
        .iter()
        .map(|x| (x["namespace"].clone(), x["name"].clone()))
        .collect();
    assert_eq!(order[0], (Value::Null, json!("/opt/ünïcødé/😺")));
    assert_eq!(order[12], (json!("ns1//ns2"), json!("deep")));
    assert_eq!(
        p["malformed"],
        json!([{"line": 14, "text": "not a profile line"}])
    );

    let procs = j["processes"].as_array().unwrap();
    assert_eq!(
        pids_of(procs),
        [100, 101, 102, 105, 106, 108, 109, 110, 113, 114]
    );
    assert!(procs.iter().all(|x| x["state"] == json!("confined")));
    let p105 = &procs[3];
    assert_eq!(
        p105,
        &json!({"pid": 105, "comm": "evil\n\u{1b}[2J", "exe": "/tmp/a b/\"x\"",
                "label": "my \"quoted\" profile (complain)", "state": "confined",
                "mode": "complain",
                "stack": [{"namespace": null, "profile": "my \"quoted\" profile",
                           "mode": "complain"}],
                "exe_profile": null})
    );

    let with_profile = j["unconfined_with_profile"].as_array().unwrap();
    assert_eq!(pids_of(with_profile), [116]);
    assert_eq!(with_profile[0]["exe_profile"], json!("/usr/sbin/apache2"));
    assert_eq!(with_profile[0]["comm"], json!("apache2"));

    assert_eq!(
        j["parameters"],
        json!({"audit": "normal", "audit_header": true, "debug": false, "enabled": true,
               "export_binary": true, "hash_policy": true, "lock_policy": false,
               "logsyscall": false, "mode": "enforce", "paranoid_load": true,
               "path_max": 2048, "rawdata_compression_level": 3})
    );
    assert_eq!(j["unreadable_parameters"], json!([]));
    let f = &j["features"];
    assert_eq!(f["policy_abi"], json!(["v5", "v6", "v7", "v8"]));
    assert_eq!(f["domain_version"], json!("1.2"));
    assert_eq!(f["stacking"], json!(true));
    assert_eq!(f["rule_classes"]["file"], json!(true));
    assert_eq!(f["rule_classes"]["network"], json!(true));
    assert_eq!(f["rule_classes"]["dbus"], json!(false));
    assert_eq!(f["rule_classes"]["unix"], json!(false));
    assert_eq!(
        f["rule_classes"].as_object().unwrap().len(),
        apparmor::cli::aactl::status::RULE_CLASSES.len()
    );
    assert!(
        f["top_level"]
            .as_array()
            .unwrap()
            .contains(&json!("network_v8"))
    );
}

/// A minimal tree: mounts, `enabled`, `profiles`, one process.
fn minimal(dir: &Path) {
    let w = |rel: &str, text: &str| {
        let p = dir.join(rel);
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
}

#[test]
fn missing_parts_are_null_not_fatal() {
    let d = tempfile::tempdir().unwrap();
    minimal(d.path());
    let j = json_of(d.path());
    assert_eq!(j["features"], Value::Null);
    assert_eq!(j["revision"], Value::Null);
    assert_eq!(j["namespace"], Value::Null);
    assert_eq!(j["profiles"]["profiles"][0]["attach"], Value::Null);
    assert_eq!(j["processes"][0]["exe"], Value::Null);
    assert_eq!(j["processes"][0]["pid"], json!(42));
    let (code, out, _) = on(d.path(), &["status"]);
    assert_eq!(code, 0);
    assert!(out.contains("Features: unreadable."));
}

#[test]
fn cannot_inspect_exits_2_naming_the_path() {
    let check = |dir: &Path, what: &str| {
        for args in [&["status"][..], &["status", "--json"], &["ps"]] {
            let (code, out, err) = on(dir, args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert_eq!(out, "", "{args:?}");
            assert!(err.starts_with("aactl: "), "{err}");
            assert!(err.contains(what), "{args:?}: {err:?} lacks {what:?}");
        }
    };
    let d = tempfile::tempdir().unwrap();
    minimal(d.path());
    let params = d.path().join("sys/module/apparmor/parameters/enabled");

    std::fs::write(&params, "N\n").unwrap();
    check(d.path(), "AppArmor is disabled");
    check(d.path(), &params.display().to_string());

    std::fs::write(&params, "Y\n").unwrap();
    std::fs::write(d.path().join("proc/mounts"), "proc /proc proc rw 0 0\n").unwrap();
    check(
        d.path(),
        &d.path().join("proc/mounts").display().to_string(),
    );
    std::fs::write(
        d.path().join("proc/mounts"),
        "securityfs /sys/kernel/security securityfs rw 0 0\n",
    )
    .unwrap();

    std::fs::remove_file(&params).unwrap();
    check(d.path(), "is missing");
    std::fs::remove_dir_all(d.path().join("sys/module")).unwrap();
    check(
        d.path(),
        &d.path().join("sys/module/apparmor").display().to_string(),
    );
}

#[test]
fn unreadable_profiles_exits_2_for_status_only() {
    let d = tempfile::tempdir().unwrap();
    minimal(d.path());
    let profiles = d.path().join("sys/kernel/security/apparmor/profiles");
    std::fs::remove_file(&profiles).unwrap();
    std::os::unix::fs::symlink("/nonexistent/profiles", &profiles).unwrap();
    let (code, out, err) = on(d.path(), &["status"]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(err.contains(&profiles.display().to_string()), "{err}");
    // ps still lists processes; per-profile modes are unknown.
    let (code, out, err) = on(d.path(), &["ps", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning"), "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        j["processes"][0]["stack"],
        json!([{"namespace": null, "profile": "a", "mode": null}])
    );
}

/// `aactl snapshot` of a tree, then `aactl status`/`ps` on the snapshot: the same answer
/// (paths of the root aside).
#[test]
fn same_answer_from_a_snapshot() {
    let d = tempfile::tempdir().unwrap();
    let snap = d.path().join("snap");
    let (code, _, err) = on(&mixed(), &["snapshot", snap.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for args in [&["status", "--json"][..], &["ps", "--json"]] {
        let strip = |dir: &Path| {
            let (code, out, err) = on(dir, args);
            assert_eq!(code, 0, "{err}");
            let mut v: Value = serde_json::from_str(&out).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("root");
            o.remove("securityfs");
            if let Some(p) = o.get_mut("profiles").and_then(|p| p.as_object_mut()) {
                p.remove("path");
            }
            v
        };
        let (a, b) = (strip(&mixed()), strip(&snap));
        if args[0] == "status" {
            // A snapshot keeps what these commands read; compare the parts it promises.
            for k in ["profiles", "processes", "parameters", "revision"] {
                assert_eq!(a[k], b[k], "{args:?}: {k}");
            }
        } else {
            assert_eq!(a, b, "{args:?}");
        }
    }
}

/// On the status helper's `basic` tree, `aactl status` agrees with the aa-status model on
/// the profiles (names and modes) and on the processes with a mode.
#[test]
fn agrees_with_the_aa_status_model() {
    let root = common::repo().join("testdata/status/basic/root");
    let model =
        apparmor::inspect::aa_status::collect(&apparmor::system::System::with_root(&root)).unwrap();
    let j = json_of(&root);
    let mut ours: Vec<(String, String)> = j["profiles"]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap();
            let full = match p["namespace"].as_str() {
                Some(ns) => format!(":{ns}:{name}"),
                None => name.to_owned(),
            };
            (full, p["mode"].as_str().unwrap().to_owned())
        })
        .collect();
    let mut theirs: Vec<(String, String)> = model
        .loaded
        .profiles
        .iter()
        .map(|p| (p.name.clone(), p.mode.to_string()))
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
    // aa-status lists confined processes and unconfined ones whose exe has a profile; ours
    // has them in two lists.
    let mut ours: Vec<(u64, String)> = j["processes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(j["unconfined_with_profile"].as_array().unwrap())
        .map(|p| {
            (
                p["pid"].as_u64().unwrap(),
                p["mode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut theirs: Vec<(u64, String)> = model
        .processes
        .iter()
        .map(|p| (u64::from(p.pid), p.mode.to_string()))
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
    assert!(!ours.is_empty());
}

/// No policy loaded is a state to report, not an error (aa-status exits 2 here).
#[test]
fn no_policy_loaded() {
    let d = tempfile::tempdir().unwrap();
    minimal(d.path());
    std::fs::write(d.path().join("sys/kernel/security/apparmor/profiles"), "").unwrap();
    let (code, out, err) = on(d.path(), &["status"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        out.contains("0 profiles are loaded.\n\n1 process is confined."),
        "{out}"
    );
    let j = json_of(d.path());
    assert_eq!(j["profiles"]["total"], json!(0));
    assert_eq!(j["profiles"]["namespaces"], json!([]));
    assert_eq!(j["profiles"]["profiles"], json!([]));
    // The process's profile is not in the (empty) list: its own mode is unknown.
    let (_, out, _) = on(d.path(), &["ps", "--json"]);
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["processes"][0]["stack"][0]["mode"], Value::Null);
    assert_eq!(p["processes"][0]["mode"], json!("enforce"));
}

/// The snapshot of a live Debian 12 kernel (testdata/systems/debian12-vm, captured by the VM
/// suite; see its README): the facts recorded there, through `aactl status` and `aactl ps`.
#[test]
fn real_debian12_snapshot() {
    let root = common::repo().join("testdata/systems/debian12-vm");
    let j = json_of(&root);
    assert_eq!(j["profiles"]["total"], json!(45));
    assert_eq!(j["profiles"]["malformed"], json!([]));
    let ns = &j["profiles"]["namespaces"];
    assert_eq!(ns[1]["namespace"], json!("vmns"));
    assert_eq!(ns[1]["modes"], json!({"complain": 1, "enforce": 1}));
    let expect = [
        (170, "vmtest-enforce (enforce)", "enforce"),
        (171, "vmtest-complain (complain)", "complain"),
        (172, "vmtest-kill (kill)", "kill"),
        (173, "vmtest-unconfined (unconfined)", "unconfined"),
        (174, "vmtest with space (enforce)", "enforce"),
        (175, "vmtest-hat//sub (enforce)", "enforce"),
        (176, "vmtest-complain//&vmtest-enforce (mixed)", "mixed"),
        (177, "vmtest-enforce//&vmtest-hat (enforce)", "enforce"),
        (178, ":vmns:vmtest-ns (enforce)", "enforce"),
        (
            179,
            "vmtest-enforce//&:vmns:vmtest-ns-complain (mixed)",
            "mixed",
        ),
        (180, "nscd (complain)", "complain"),
    ];
    let procs = j["processes"].as_array().unwrap();
    assert_eq!(procs.len(), expect.len());
    for (p, (pid, label, mode)) in procs.iter().zip(expect) {
        assert_eq!(
            (&p["pid"], &p["label"], &p["mode"], &p["exe"]),
            (
                &json!(pid),
                &json!(label),
                &json!(mode),
                &json!("/bin/busybox")
            )
        );
    }
    let modes = |p: &Value| -> Vec<(Value, Value, Value)> {
        p["stack"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["namespace"].clone(),
                    s["profile"].clone(),
                    s["mode"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        modes(&procs[6]),
        [
            (Value::Null, json!("vmtest-complain"), json!("complain")),
            (Value::Null, json!("vmtest-enforce"), json!("enforce"))
        ]
    );
    assert_eq!(
        modes(&procs[9]),
        [
            (Value::Null, json!("vmtest-enforce"), json!("enforce")),
            (
                json!("vmns"),
                json!("vmtest-ns-complain"),
                json!("complain")
            )
        ]
    );
    assert_eq!(
        j["unconfined_with_profile"],
        json!([{"pid": 182, "comm": "busybox-vmtest", "exe": "/usr/bin/busybox-vmtest",
                "label": "unconfined", "state": "unconfined", "mode": "unconfined",
                "stack": [{"namespace": null, "profile": "unconfined", "mode": "unconfined"}],
                "exe_profile": "/usr/bin/busybox-vmtest"}])
    );
    // ps: everything else (init, kernel threads, 183) is unconfined.
    let (code, out, _) = on(&root, &["ps", "--json"]);
    assert_eq!(code, 0);
    let ps: Value = serde_json::from_str(&out).unwrap();
    for p in ps["processes"].as_array().unwrap() {
        let pid = p["pid"].as_u64().unwrap();
        if !(170..=180).contains(&pid) {
            assert_eq!(p["state"], json!("unconfined"), "pid {pid}");
        }
    }
}
