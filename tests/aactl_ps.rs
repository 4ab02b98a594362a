//! `aactl ps` on the committed fake tree: states, stacks with per-profile modes and
//! namespaces, filters, escaped tables, JSON parsed back field by field.

use crate::aactl_status::{assert_no_controls, mixed, on};
use serde_json::{Value, json};

fn ps_json(args: &[&str]) -> Vec<Value> {
    let mut v = vec!["ps", "--json"];
    v.extend_from_slice(args);
    let (code, out, err) = on(&mixed(), &v);
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(j["schema"], json!(1));
    assert_eq!(j["kind"], json!("aactl-ps"));
    j["processes"].as_array().unwrap().clone()
}

fn pids(rows: &[Value]) -> Vec<u64> {
    rows.iter().map(|r| r["pid"].as_u64().unwrap()).collect()
}

fn by_pid(rows: &[Value], pid: u64) -> &Value {
    rows.iter()
        .find(|r| r["pid"] == json!(pid))
        .unwrap_or_else(|| panic!("pid {pid} missing"))
}

#[test]
fn every_process_with_state_mode_and_stack() {
    // kernel threads (kthreadd, pid 2) only when asked for
    assert_eq!(
        pids(&ps_json(&[])),
        [
            1, 100, 101, 102, 103, 104, 105, 106, 108, 109, 110, 111, 112, 113, 114, 115, 116
        ]
    );
    let rows = ps_json(&["--kernel-threads"]);
    assert_eq!(
        pids(&rows),
        [
            1, 2, 100, 101, 102, 103, 104, 105, 106, 108, 109, 110, 111, 112, 113, 114, 115, 116
        ]
    );
    assert_eq!(
        by_pid(&rows, 101),
        &json!({"pid": 101, "comm": "a", "exe": "/usr/bin/a",
                "label": "lxc-container-default//&snap.foo.bar (mixed)",
                "state": "confined", "mode": "mixed",
                "stack": [
                    {"namespace": null, "profile": "lxc-container-default", "mode": "enforce"},
                    {"namespace": null, "profile": "snap.foo.bar", "mode": "prompt"}],
                "exe_profile": null})
    );
    assert_eq!(
        by_pid(&rows, 102)["stack"],
        json!([
            {"namespace": null, "profile": "lxc-container-default", "mode": "enforce"},
            {"namespace": "lxd-c1", "profile": "/usr/bin/man", "mode": "enforce"}])
    );
    assert_eq!(
        by_pid(&rows, 100)["stack"],
        json!([{"namespace": null, "profile": "/usr/sbin/apache2//HANDLING_UNTRUSTED_INPUT",
                "mode": "enforce"}])
    );
    let r103 = by_pid(&rows, 103);
    assert_eq!(r103["state"], json!("unconfined"));
    assert_eq!(r103["mode"], json!("unconfined"));
    assert_eq!(
        r103["stack"],
        json!([{"namespace": "lxd-c1", "profile": "unconfined", "mode": "unconfined"}])
    );
    assert_eq!(
        by_pid(&rows, 110)["stack"][0]["namespace"],
        json!("ns1//ns2")
    );
    assert_eq!(by_pid(&rows, 110)["mode"], json!("unconfined"));
    assert_eq!(by_pid(&rows, 110)["state"], json!("confined"));
    let hidden = by_pid(&rows, 104);
    assert_eq!(
        (&hidden["state"], &hidden["mode"], &hidden["label"]),
        (&json!("hidden"), &Value::Null, &json!("---"))
    );
    assert_eq!(hidden["stack"], json!([]));
    let kthread = by_pid(&rows, 2);
    assert_eq!(
        kthread,
        &json!({"pid": 2, "comm": "kthreadd", "exe": null, "label": null,
                "state": "unreadable", "mode": null, "stack": [], "exe_profile": null,
                "kernel_thread": true, "reason": "No such file or directory"})
    );
    let foreign = by_pid(&rows, 112);
    assert_eq!(foreign["state"], json!("invalid"));
    assert_eq!(foreign["label"], json!("system_u:system_r:foo_t:s0"));
    assert_eq!(foreign["stack"], json!([]));
    let empty = by_pid(&rows, 111);
    assert_eq!(
        (&empty["label"], &empty["state"]),
        (&json!(""), &json!("unconfined"))
    );
    // Awkward names come back exactly (invalid UTF-8 as U+FFFD).
    assert_eq!(by_pid(&rows, 105)["comm"], json!("evil\n\u{1b}[2J"));
    assert_eq!(by_pid(&rows, 106)["comm"], json!("😺"));
    assert_eq!(
        by_pid(&rows, 106)["stack"][0]["profile"],
        json!("/opt/ünïcødé/😺")
    );
    assert_eq!(
        by_pid(&rows, 109)["stack"][0]["profile"],
        json!("esc\u{1b}[31mred")
    );
    assert_eq!(by_pid(&rows, 114)["stack"][0]["mode"], json!("kill"));
    assert_eq!(by_pid(&rows, 115)["comm"], json!("bad\u{fffd}name"));
    assert_eq!(by_pid(&rows, 113)["mode"], json!("prompt"));
    assert_eq!(by_pid(&rows, 108)["mode"], json!("futuristic"));
    // Unconfined, but its executable has a profile (loaded after it started).
    assert_eq!(by_pid(&rows, 116)["state"], json!("unconfined"));
    assert_eq!(
        by_pid(&rows, 116)["exe_profile"],
        json!("/usr/sbin/apache2")
    );
    assert_eq!(by_pid(&rows, 1)["exe_profile"], Value::Null);
    assert_eq!(by_pid(&rows, 103)["exe_profile"], Value::Null);
}

#[test]
fn filters() {
    assert_eq!(
        pids(&ps_json(&["--confined"])),
        [100, 101, 102, 105, 106, 108, 109, 110, 113, 114]
    );
    assert_eq!(pids(&ps_json(&["--mode", "mixed"])), [101]);
    assert_eq!(pids(&ps_json(&["--mode", "kill,prompt"])), [113, 114]);
    assert_eq!(pids(&ps_json(&["-m", "kill", "-m", "user"])), [113, 114]);
    assert_eq!(
        pids(&ps_json(&["--mode", "unconfined"])),
        [1, 103, 110, 111, 115, 116]
    );
    assert_eq!(
        pids(&ps_json(&["--mode", "unconfined", "--confined"])),
        [110]
    );
    // A profile matches its hats; a stacked profile matches through the stack.
    assert_eq!(pids(&ps_json(&["--profile", "/usr/sbin/apache2"])), [100]);
    assert_eq!(
        pids(&ps_json(&["--profile", "lxc-container-default"])),
        [101, 102]
    );
    assert_eq!(
        pids(&ps_json(&["--profile", ":lxd-c1:/usr/bin/man"])),
        [102]
    );
    assert_eq!(
        pids(&ps_json(&["-p", "snap.foo.bar", "-p", "deep"])),
        [101, 110, 113]
    );
    assert_eq!(pids(&ps_json(&["--namespace", "lxd-c1"])), [102, 103]);
    assert_eq!(
        pids(&ps_json(&["--namespace", "lxd-c1", "--confined"])),
        [102]
    );
    assert_eq!(
        pids(&ps_json(&["--profile", "nothing-like-it"])),
        Vec::<u64>::new()
    );
}

#[test]
fn table_is_escaped_and_shows_one_line_per_stacked_profile() {
    let (code, out, err) = on(&mixed(), &["ps", "--all"]);
    assert_eq!(code, 0, "{err}");
    assert_no_controls(&out);
    let lines: Vec<&str> = out.lines().collect();
    let cells = |l: &str| -> Vec<String> { l.split('|').map(|c| c.trim().to_owned()).collect() };
    let i = lines
        .iter()
        .position(|l| cells(l)[0] == "101")
        .expect("row 101");
    assert_eq!(
        cells(lines[i]),
        [
            "101",
            "a",
            "/usr/bin/a",
            "mixed",
            "lxc-container-default",
            "enforce"
        ]
    );
    assert_eq!(
        cells(lines[i + 1]),
        ["", "", "", "", "snap.foo.bar", "prompt"]
    );
    let row = |pid: &str| {
        lines
            .iter()
            .map(|l| cells(l))
            .find(|c| c[0] == pid)
            .unwrap_or_else(|| panic!("row {pid}"))
    };
    assert_eq!(
        row("105"),
        [
            "105",
            r"evil\n\x1b[2J",
            "/tmp/a b/\"x\"",
            "complain",
            "my \"quoted\" profile",
            "complain"
        ]
    );
    assert_eq!(row("104")[4], "(hidden)");
    // why the label is unreadable: this snapshot has no attribute file for it
    assert_eq!(row("2")[4], "(unreadable: No such file or directory)");
    assert_eq!(row("112")[4], "(invalid: system_u:system_r:foo_t:s0)");
    assert_eq!(row("103")[4], ":lxd-c1:unconfined");
    assert_eq!(row("109")[4], r"esc\x1b[31mred");
    assert_eq!(row("114")[4], r"tab\there");
    assert_eq!(row("115")[1], "bad\u{fffd}name");
    assert_eq!(
        row("116")[4],
        "unconfined (profile /usr/sbin/apache2 not applied)"
    );
}

#[test]
fn bad_mode_word_is_a_filter_not_an_error() {
    // Unknown words are kept (a newer kernel's mode), so they filter like any other.
    assert_eq!(pids(&ps_json(&["--mode", "futuristic"])), [108]);
}

#[test]
fn pid_exe_and_unconfined_with_profile_select() {
    assert_eq!(
        pids(&ps_json(&["--pid", "101", "--pid", "103"])),
        [101, 103]
    );
    assert_eq!(pids(&ps_json(&["--pid", "101,2"])), [2, 101]);
    assert_eq!(pids(&ps_json(&["--exe", "/usr/bin/a"])), [101]);
    assert_eq!(pids(&ps_json(&["--unconfined-with-profile"])), [116]);
    // a pid that is not there: said on stderr, exit 1, the others still listed
    let (code, out, err) = on(&mixed(), &["ps", "--pid", "101", "--pid", "99999"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err, "aactl: no process with pid 99999\n");
    assert!(out.contains(" 101 "), "{out}");
    // --unconfined-with-profile and --confined contradict each other
    let (code, _, err) = on(&mixed(), &["ps", "--confined", "--unconfined-with-profile"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
}

/// The fake systems of real kernels: kernel threads (no executable, unconfined) are left
/// out unless asked for, and the unconfined process with a profile is found.
#[test]
fn kernel_threads_of_a_real_snapshot() {
    let root = crate::common::repo().join("testdata/systems/debian12-vm");
    let run = |args: &[&str]| {
        let mut v = vec!["ps", "--json"];
        v.extend_from_slice(args);
        let (code, out, err) = on(&root, &v);
        assert_eq!(code, 0, "{err}");
        let j: Value = serde_json::from_str(&out).unwrap();
        j["processes"].as_array().unwrap().clone()
    };
    let default = run(&[]);
    let all = run(&["--kernel-threads"]);
    assert!(default.len() < all.len(), "{} {}", default.len(), all.len());
    assert!(default.iter().all(|r| r["kernel_thread"].is_null()));
    assert!(pids(&default).contains(&1) && !pids(&default).contains(&2));
    assert_eq!(by_pid(&all, 2)["kernel_thread"], json!(true));
    assert_eq!(
        pids(&run(&["--unconfined-with-profile"])),
        [182],
        "busybox-vmtest started before its profile was loaded"
    );
}
