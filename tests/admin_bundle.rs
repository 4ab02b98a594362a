//! `aactl snapshot --archive`: a bug-report bundle of a fake system, unpacked,
//! reads back through `--root` as the original does; entries are safe; the
//! manifest, `--records`, `--loaded-only` and `--redact` do what they say.

use crate::common;
use apparmor::system::System;
use std::path::{Component, Path};

use crate::common::copy_tree;

fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The basic fixture plus a profile directory, a log, kernel settings and a command line.
fn fake_system(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("src");
    copy_tree(&common::repo().join("testdata/status/basic/root"), &root);
    put(
        &root,
        "etc/apparmor.d/usr.sbin.cupsd",
        "include <tunables/global>\n/usr/sbin/cupsd {\n  include <abstractions/base>\n  include if exists <local/usr.sbin.cupsd>\n  ^third_party {\n  }\n}\n",
    );
    put(
        &root,
        "etc/apparmor.d/usr.bin.notloaded",
        "profile notloaded /usr/bin/notloaded {\n  /etc/x r,\n}\n",
    );
    put(
        &root,
        "etc/apparmor.d/abstractions/base",
        "  /etc/ld.so.cache r,\n",
    );
    put(
        &root,
        "etc/apparmor.d/tunables/global",
        "@{HOME}=/home/*/\n",
    );
    put(
        &root,
        "etc/apparmor.d/local/usr.sbin.cupsd",
        "/home/alice/printers/** r,\n",
    );
    std::fs::create_dir_all(root.join("etc/apparmor.d/disable")).unwrap();
    std::os::unix::fs::symlink(
        "/etc/apparmor.d/usr.bin.notloaded",
        root.join("etc/apparmor.d/disable/usr.bin.notloaded"),
    )
    .unwrap();
    put(&root, "etc/apparmor.d/cache/blob", "binary cache");
    let rec = |n: u32, name: &str| {
        format!(
            "Dec  7 10:00:0{n} host kernel: [  1.0{n}] audit: type=1400 audit(1700000000.10{n}:{n}): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/sbin/cupsd\" name=\"{name}\" pid=10{n} comm=\"cupsd\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
        )
    };
    let mut log = String::new();
    log.push_str(&rec(1, "/etc/one"));
    log.push_str("Dec  7 10:00:02 host systemd[1]: Started something.\n");
    log.push_str(&rec(3, "/home/alice/secret"));
    log.push_str(&rec(4, "/etc/four"));
    put(&root, "var/log/kern.log", &log);
    put(&root, "proc/sys/kernel/osrelease", "6.12.0-test-amd64\n");
    put(
        &root,
        "proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        "1\n",
    );
    put(
        &root,
        "proc/cmdline",
        "BOOT_IMAGE=/vmlinuz root=/dev/sda1 secret=hunter2\n",
    );
    root
}

fn aactl(args: &[&str]) -> (u8, String, String) {
    common::aactl(args)
}

/// Unpacks `archive` into `into`, checking every entry's name.
fn unpack(archive: &Path, into: &Path) -> Vec<String> {
    std::fs::create_dir_all(into).unwrap();
    let f = std::fs::File::open(archive).unwrap();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut names = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().into_owned();
        assert!(
            p.components().all(|c| matches!(c, Component::Normal(_))),
            "unsafe entry {p:?}"
        );
        names.push(p.to_string_lossy().into_owned());
        assert!(e.unpack_in(into).unwrap());
    }
    names
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn archive_round_trip_through_root() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fake_system(tmp.path());
    let out = tmp.path().join("report.tar.gz");
    let (code, stdout, stderr) = aactl(&[
        "--root",
        s(&root),
        "snapshot",
        "--archive",
        s(&out),
        "--records",
        "2",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("7 profiles, 12 processes, 5 policy files, 2 records"),
        "{stdout}"
    );
    // never replaced
    let (code, _, stderr) = aactl(&["--root", s(&root), "snapshot", "--archive", s(&out)]);
    assert_eq!(code, 2);
    assert!(stderr.contains("exists"), "{stderr}");

    let x = tmp.path().join("x");
    let names = unpack(&out, &x);
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("report/") || n == "report")
    );
    let b = x.join("report");
    // every --root reader reads the bundle as the original
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["ps"],
        &["features"],
    ] {
        let a = aactl(&[&["--root", s(&root)], args].concat());
        let c = aactl(&[&["--root", s(&b)], args].concat());
        assert_eq!(a.0, c.0, "{args:?}");
        assert_eq!(
            a.1.replace(s(&root), "ROOT"),
            c.1.replace(s(&b), "ROOT"),
            "{args:?}"
        );
    }
    // the restriction sysctl is shown for the bundle as for the original
    let (_, st, _) = aactl(&["--root", s(&b), "status"]);
    assert!(
        st.contains(
            "Unprivileged-user restrictions (kernel.apparmor_restrict_unprivileged_*): userns 1."
        ),
        "{st}"
    );
    let (src, snap) = (System::with_root(&root), System::with_root(&b));
    assert_eq!(
        crate::status_fake::run_in_process(&src, &[]),
        crate::status_fake::run_in_process(&snap, &[])
    );
    // the last two records, read back by aactl log under the root
    let log = std::fs::read_to_string(b.join("var/log/kern.log")).unwrap();
    assert_eq!(log.lines().count(), 2);
    assert!(log.contains("/home/alice/secret") && log.contains("/etc/four"));
    let (code, logged, err) = aactl(&["--root", s(&b), "log", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(logged.lines().count(), 2, "{logged}");
    // kernel settings, policy (cache left out, links kept as links), parser version
    assert_eq!(
        std::fs::read_to_string(b.join("proc/sys/kernel/osrelease")).unwrap(),
        "6.12.0-test-amd64\n"
    );
    assert!(
        b.join("proc/sys/kernel/apparmor_restrict_unprivileged_userns")
            .is_file()
    );
    assert!(
        std::fs::read_to_string(b.join("proc/cmdline"))
            .unwrap()
            .contains("hunter2")
    );
    assert!(b.join("etc/apparmor.d/usr.bin.notloaded").is_file());
    assert!(!b.join("etc/apparmor.d/cache").exists());
    let link = b.join("etc/apparmor.d/disable/usr.bin.notloaded");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // the manifest lists every entry with what may be private
    let m: apparmor::triage::bundle::Manifest =
        serde_json::from_slice(&std::fs::read(b.join("aactl-bundle/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m.records, 2);
    assert_eq!(m.kernel_release.as_deref(), Some("6.12.0-test-amd64"));
    assert!(!m.redacted);
    for n in &names {
        let rel = n.strip_prefix("report/").unwrap_or("");
        if rel.is_empty() || rel == "aactl-bundle/manifest.json" {
            continue;
        }
        assert!(
            m.entries.iter().any(|e| e.path == rel),
            "{rel} not in the manifest"
        );
    }
    let private = |p: &str| m.entries.iter().find(|e| e.path == p).unwrap().private;
    assert!(private("proc/100/comm") && private("var/log/kern.log") && private("proc/cmdline"));
    assert!(!private("sys/kernel/security/apparmor/profiles"));
}

#[test]
fn loaded_only_and_redact() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fake_system(tmp.path());
    let out = tmp.path().join("r.tgz");
    let (code, _, stderr) = aactl(&[
        "--root",
        s(&root),
        "snapshot",
        "--archive",
        s(&out),
        "--loaded-only",
        "--redact",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let x = tmp.path().join("x");
    unpack(&out, &x);
    let b = x.join("r");
    let pd = b.join("etc/apparmor.d");
    assert!(pd.join("usr.sbin.cupsd").is_file());
    assert!(!pd.join("usr.bin.notloaded").exists());
    assert!(pd.join("abstractions/base").is_file() && pd.join("tunables/global").is_file());
    // /home/NAME hashed the same way everywhere; globs and the command line
    let local = std::fs::read_to_string(pd.join("local/usr.sbin.cupsd")).unwrap();
    let log = std::fs::read_to_string(b.join("var/log/kern.log")).unwrap();
    assert!(
        !local.contains("alice") && !log.contains("alice"),
        "{local}{log}"
    );
    let hashed = &local[..local.find("/printers").unwrap()];
    assert!(
        hashed.starts_with("/home/~") && log.contains(hashed),
        "{local}{log}"
    );
    assert_eq!(
        std::fs::read_to_string(pd.join("tunables/global")).unwrap(),
        "@{HOME}=/home/*/\n"
    );
    let cmdline = std::fs::read_to_string(b.join("proc/cmdline")).unwrap();
    assert!(cmdline.starts_with("sha256:") && !cmdline.contains("hunter2"));
    let m: apparmor::triage::bundle::Manifest =
        serde_json::from_slice(&std::fs::read(b.join("aactl-bundle/manifest.json")).unwrap())
            .unwrap();
    assert!(m.redacted && m.loaded_only);
    assert_eq!(m.records, 3);
}
