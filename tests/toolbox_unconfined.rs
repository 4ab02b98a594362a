//! `aactl unconfined` on fake trees: socket tables in `/proc/net` and `/proc/PID/net`,
//! descriptors `socket:[INODE]` in `/proc/PID/fd`, the three scopes, attachment matching
//! against the loaded (`policy/`) and on-disk profiles, JSON field by field, escaping, and
//! reads confined to the root.

use crate::common;
use serde_json::{Value, json};
use std::os::unix::fs::symlink;
use std::path::Path;

fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn link(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    symlink(target, p).unwrap();
}

const TCP_HEAD: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

fn tcp_line(n: u32, addr: [u8; 4], port: u16, st: u8, inode: u64) -> String {
    let a = u32::from_ne_bytes(addr);
    format!(
        "  {n}: {a:08X}:{port:04X} 00000000:0000 {st:02X} 00000000:00000000 00:00000000 00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0\n"
    )
}

/// A process: pid, label text, exe, socket inodes, cmdline.
fn process(root: &Path, pid: u32, label: &str, exe: &str, inodes: &[u64], cmdline: &[&str]) {
    put(root, &format!("proc/{pid}/attr/current"), label);
    put(root, &format!("proc/{pid}/comm"), &format!("p{pid}\n"));
    link(root, &format!("proc/{pid}/exe"), exe);
    link(root, &format!("proc/{pid}/ns/net"), "net:[4026531840]");
    std::fs::create_dir_all(root.join(format!("proc/{pid}/fd"))).unwrap();
    link(root, &format!("proc/{pid}/fd/0"), "/dev/null");
    for (i, ino) in inodes.iter().enumerate() {
        link(
            root,
            &format!("proc/{pid}/fd/{}", i + 3),
            &format!("socket:[{ino}]"),
        );
    }
    let mut c = cmdline.join("\0");
    c.push('\0');
    put(root, &format!("proc/{pid}/cmdline"), &c);
}

fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    put(r, "sys/module/apparmor/parameters/enabled", "Y\n");
    put(
        r,
        "proc/mounts",
        "securityfs /sys/kernel/security securityfs rw 0 0\n",
    );
    let sfs = "sys/kernel/security/apparmor";
    put(
        r,
        &format!("{sfs}/profiles"),
        "web (enforce)\n/usr/sbin/sshd (enforce)\nlax (unconfined)\nhidden (enforce)\n",
    );
    for (dir, name, attach) in [
        ("web.1", "web", "/usr/sbin/web*"),
        ("usr.sbin.sshd.2", "/usr/sbin/sshd", "<unknown>"),
        ("lax.3", "lax", "lax"),
        ("hidden.4", "hidden", "<unknown>"),
    ] {
        put(
            r,
            &format!("{sfs}/policy/profiles/{dir}/name"),
            &format!("{name}\n"),
        );
        put(r, &format!("{sfs}/policy/profiles/{dir}/mode"), "enforce\n");
        put(
            r,
            &format!("{sfs}/policy/profiles/{dir}/attach"),
            &format!("{attach}\n"),
        );
    }
    // The profile files: one not loaded (`app`), one loaded whose kernel attach reads
    // `<unknown>` (`hidden`), two whose attachments tie (`t1`, `t2`).
    put(r, "etc/apparmor.d/tunables/global", "@{opt}=/opt\n");
    put(
        r,
        "etc/apparmor.d/app",
        "include <tunables/global>\nprofile app @{opt}/app/bin/* {\n}\n",
    );
    put(
        r,
        "etc/apparmor.d/hidden",
        "profile hidden /usr/libexec/hid* {\n}\n",
    );
    put(
        r,
        "etc/apparmor.d/ties",
        "profile t1 /srv/a*/x {\n}\nprofile t2 /srv/a*/? {\n}\n",
    );
    let mut tcp = TCP_HEAD.to_owned();
    tcp += &tcp_line(0, [0, 0, 0, 0], 22, 0x0A, 1001);
    tcp += &tcp_line(1, [10, 0, 0, 1], 40000, 0x01, 1002);
    tcp += &tcp_line(2, [127, 0, 0, 1], 8080, 0x0A, 1005);
    put(r, "proc/net/tcp", &tcp);
    put(
        r,
        "proc/net/udp",
        &(TCP_HEAD.to_owned() + &tcp_line(0, [0, 0, 0, 0], 53, 0x07, 1003)),
    );
    put(
        r,
        "proc/net/unix",
        "Num       RefCount Protocol Flags    Type St Inode Path\n\
         0000000000000000: 00000002 00000000 00010000 0001 01 1004 /run/web\x1b[31m.sock\n",
    );
    process(r, 1, "unconfined\n", "/sbin/init", &[], &["/sbin/init"]);
    process(
        r,
        10,
        "unconfined\n",
        "/usr/sbin/sshd",
        &[1001],
        &["sshd: /usr/sbin/sshd"],
    );
    process(r, 11, "unconfined\n", "/usr/sbin/web-2", &[1004], &["web"]);
    process(r, 12, "web (enforce)\n", "/usr/sbin/web", &[1005], &["web"]);
    process(
        r,
        13,
        "unconfined\n",
        "/usr/bin/client",
        &[1002, 9999],
        &["client"],
    );
    process(r, 15, "unconfined\n", "/opt/app/bin/app", &[1003], &["app"]);
    process(
        r,
        16,
        "lax (unconfined)\n",
        "/usr/bin/lax",
        &[1005],
        &["lax"],
    );
    process(
        r,
        17,
        ":ns:unconfined\n",
        "/usr/sbin/sshd",
        &[1001],
        &["sshd"],
    );
    process(
        r,
        18,
        "unconfined\n",
        "/usr/bin/python3.11",
        &[1005],
        &["/usr/bin/python3", "/usr/sbin/daemon-x", "--port", "8080"],
    );
    process(
        r,
        20,
        "unconfined\n",
        "/usr/libexec/hidd",
        &[1001],
        &["hidd"],
    );
    process(r, 21, "unconfined\n", "/srv/ab/x", &[1001], &["x"]);
    // Another network namespace: its listening socket is only in its own tables.
    process(
        r,
        19,
        "unconfined\n",
        "/usr/bin/ns-server",
        &[2001],
        &["ns-server"],
    );
    std::fs::remove_file(r.join("proc/19/ns/net")).unwrap();
    link(r, "proc/19/ns/net", "net:[4026532000]");
    put(
        r,
        "proc/19/net/tcp",
        &(TCP_HEAD.to_owned() + &tcp_line(0, [0, 0, 0, 0], 443, 0x0A, 2001)),
    );
    d
}

fn json_of(root: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--root", root.to_str().unwrap(), "unconfined", "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = common::aactl(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "", "no warning expected");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["kind"], json!("aactl-unconfined"));
    j
}

fn pids(j: &Value) -> Vec<u64> {
    j["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect()
}

fn by_pid(j: &Value, pid: u64) -> Value {
    j["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == json!(pid))
        .cloned()
        .unwrap_or_else(|| panic!("pid {pid} missing"))
}

#[test]
fn listening_all_and_paranoid() {
    let d = tree();
    let j = json_of(d.path(), &[]);
    assert_eq!(j["scope"], json!("listening"));
    // 12 is confined; 13 only has a connected and an unknown socket; 1 has none.
    assert_eq!(pids(&j), [10, 11, 15, 16, 17, 18, 19, 20, 21]);
    let j = json_of(d.path(), &["--all"]);
    assert_eq!(pids(&j), [10, 11, 13, 15, 16, 17, 18, 19, 20, 21]);
    let p13 = by_pid(&j, 13);
    assert_eq!(p13["sockets"][0]["socket"]["state"], json!("ESTAB"));
    assert_eq!(p13["sockets"][1], json!({"inode": 9999, "socket": null}));
    let j = json_of(d.path(), &["--paranoid"]);
    assert_eq!(pids(&j), [1, 10, 11, 13, 15, 16, 17, 18, 19, 20, 21]);
    assert_eq!(by_pid(&j, 1)["sockets"], json!([]));
}

#[test]
fn the_profile_that_would_attach() {
    let d = tree();
    let j = json_of(d.path(), &[]);
    // A loaded profile named by the path (the kernel reports `<unknown>` as its
    // attachment): "unconfined but has a profile".
    let p10 = by_pid(&j, 10);
    assert_eq!(
        p10["attach"],
        json!({"profile": "/usr/sbin/sshd", "loaded": true, "file": null, "conflicts_with": []})
    );
    assert_eq!(p10["has_profile"], json!(true));
    assert_eq!(
        p10["sockets"],
        json!([{"inode": 1001, "socket": {"protocol": "tcp", "local": "0.0.0.0:22",
               "state": "LISTEN", "listening": true, "inode": 1001}}])
    );
    // A loaded profile by its attachment pattern.
    assert_eq!(by_pid(&j, 11)["attach"]["profile"], json!("web"));
    assert_eq!(by_pid(&j, 11)["has_profile"], json!(true));
    // Only on disk (variables expanded): not loaded.
    let p15 = by_pid(&j, 15);
    let file = d.path().join("etc/apparmor.d/app");
    assert_eq!(
        p15["attach"],
        json!({"profile": "app", "loaded": false, "file": file, "conflicts_with": []})
    );
    assert_eq!(p15["has_profile"], json!(false));
    // The kernel reports `<unknown>`: the file's attachment is used, the profile is loaded.
    let p20 = by_pid(&j, 20);
    assert_eq!(p20["attach"]["profile"], json!("hidden"));
    assert_eq!(p20["attach"]["loaded"], json!(true));
    // Two attachments with the same literal prefix: a conflict, no profile.
    let p21 = by_pid(&j, 21);
    assert_eq!(p21["attach"]["profile"], json!("t1"));
    assert_eq!(p21["attach"]["conflicts_with"], json!(["t2"]));
    assert_eq!(p21["has_profile"], json!(false));
    // A profile in the unconfined mode; another namespace's unconfined: nothing to attach.
    assert_eq!(by_pid(&j, 16)["label"], json!("lax (unconfined)"));
    assert_eq!(by_pid(&j, 16)["attach"], json!(null));
    assert_eq!(by_pid(&j, 17)["attach"], json!(null));
    // The socket of another network namespace, from /proc/19/net.
    assert_eq!(
        by_pid(&j, 19)["sockets"][0]["socket"]["local"],
        json!("0.0.0.0:443")
    );
    assert_eq!(
        by_pid(&j, 18)["cmdline"],
        json!(["/usr/bin/python3", "/usr/sbin/daemon-x", "--port", "8080"])
    );
}

#[test]
fn the_table_escapes_and_names_interpreted_scripts() {
    let d = tree();
    let (code, out, err) = common::aactl(&["--root", d.path().to_str().unwrap(), "unconfined"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains('\x1b'), "{out}");
    assert!(out.contains("/run/web\\x1b[31m.sock"), "{out}");
    assert!(
        out.contains("/usr/sbin/sshd (loaded, not applied)"),
        "{out}"
    );
    assert!(out.contains("app (not loaded)"), "{out}");
    assert!(out.contains("conflicting attachments: t1, t2"), "{out}");
    assert!(out.contains("lax (unconfined)"), "{out}");
    assert!(
        out.contains("/usr/bin/python3.11 (/usr/bin/python3 /usr/sbin/daemon-x --port 8080)"),
        "{out}"
    );
    assert!(out.contains("tcp 0.0.0.0:22 LISTEN"), "{out}");
}

#[test]
fn nothing_listed_and_reads_stay_in_the_root() {
    let d = tree();
    let r = d.path();
    // Only a confined process: the sentence, exit 0.
    for pid in [1, 10, 11, 13, 15, 16, 17, 18, 19, 20, 21] {
        std::fs::remove_dir_all(r.join(format!("proc/{pid}"))).unwrap();
    }
    let (code, out, _) = common::aactl(&["--root", r.to_str().unwrap(), "unconfined"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "no unconfined process holds a listening socket\n")
    );
    // A table that is a link out of the root is read inside it (here: missing), a FIFO is
    // refused, a profile file linking out of the root is not read and is warned about.
    std::fs::remove_file(r.join("proc/net/tcp")).unwrap();
    link(r, "proc/net/tcp", "/proc/net/tcp");
    let _ = std::fs::remove_file(r.join("proc/net/udp"));
    rustix::fs::mknodat(
        rustix::fs::CWD,
        r.join("proc/net/udp"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    link(r, "etc/apparmor.d/outside", "/etc/hostname");
    process(r, 30, "unconfined\n", "/usr/bin/x", &[1001, 1003], &["x"]);
    let (code, out, err) = common::aactl(&[
        "--root",
        r.to_str().unwrap(),
        "unconfined",
        "--all",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        by_pid(&j, 30)["sockets"],
        json!([{"inode": 1001, "socket": null}, {"inode": 1003, "socket": null}])
    );
    assert!(err.contains("etc/apparmor.d/outside"), "{err}");
}

/// The table as a person sees it (pinned: tests/snapshots/).
#[test]
fn table_snapshot() {
    let d = tree();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args(["--root", d.path().to_str().unwrap(), "unconfined", "--all"])
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .replace(d.path().to_str().unwrap(), "[TMP]");
    insta::assert_snapshot!("aactl_unconfined_all", text);
}
