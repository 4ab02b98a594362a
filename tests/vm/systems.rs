//! The committed real snapshots (testdata/systems/*, captured from the VM
//! suite's guests by scripts/vm/capture-snapshot): consistency, and what each
//! kernel announces. Run everywhere (no VM).

use super::report::kernel_profiles;
use crate::common;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every snapshot under testdata/systems with the kernel it was captured
/// from; a folder missing here fails [`every_system_snapshot_is_consistent`].
const SYSTEMS: &[(&str, &str)] = &[
    ("debian12-vm", "6.1"),
    ("debian13-vm", "6.12"),
    ("sid-vm", "7.2"),
];

/// The snapshot folders under testdata/systems, sorted.
fn systems() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::repo().join("testdata/systems"))
        .expect("testdata/systems")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// Each committed real snapshot is whole and self-consistent: the kernel's
/// `profiles` list matches the `policy/` tree (names and modes, namespaces
/// included), every process has its comm and label, every label names loaded
/// profiles, and the module parameters say AppArmor is enabled.
#[test]
fn every_system_snapshot_is_consistent() {
    let all = systems();
    assert!(all.len() >= SYSTEMS.len(), "{all:?}");
    for snap in &all {
        let name = snap.file_name().unwrap().to_string_lossy();
        assert!(
            SYSTEMS.iter().any(|(n, _)| *n == name),
            "{name}: not in SYSTEMS (tests/vm/systems.rs)"
        );
        check_consistent(snap);
    }
}

/// What `aactl status --json` reads from each snapshot's features: userns
/// mediation (a word of `namespaces/mask` from 6.12 on) and io_uring only on
/// 6.12 and later, POSIX mqueue on none; stacking everywhere.
#[test]
fn system_snapshots_announce_their_kernels_features() {
    for (name, linux) in SYSTEMS {
        let root = common::repo().join("testdata/systems").join(name);
        let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
            .arg("--root")
            .arg(&root)
            .args(["status", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {out:?}");
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let f = &j["features"];
        let newer = *linux != "6.1";
        let classes = &f["rule_classes"];
        assert_eq!(classes["userns"], newer, "{name} ({linux}): userns");
        assert_eq!(classes["io_uring"], newer, "{name} ({linux}): io_uring");
        assert_eq!(classes["mqueue"], false, "{name} ({linux}): mqueue");
        assert_eq!(f["stacking"], true, "{name}");
        let top = f["top_level"].as_array().unwrap();
        assert_eq!(
            top.iter().any(|t| t == "io_uring"),
            newer,
            "{name}: features/io_uring"
        );
    }
}

fn check_consistent(snap: &Path) {
    let aa = snap.join("sys/kernel/security/apparmor");
    let listed = kernel_profiles(snap).expect("profiles list");
    assert!(
        listed.len() >= 40,
        "{}: only {} profiles",
        snap.display(),
        listed.len()
    );

    // policy/: PREFIX is "" in the root namespace, ":ns:" (":a//b:" nested)
    // below. On the live 6.1 kernel a child profile's `name` file holds only
    // its own name (`sub`, `libvirt_leaseshelper`), not `parent//child`:
    // the full name is built from the parents.
    fn walk_ns(dir: &Path, prefix: &str, out: &mut BTreeSet<(String, String)>) {
        fn walk_profiles(dir: &Path, prefix: &str, out: &mut BTreeSet<(String, String)>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                let name = std::fs::read_to_string(p.join("name")).expect("name");
                let mode = std::fs::read_to_string(p.join("mode")).expect("mode");
                assert!(p.join("attach").exists(), "{} lacks attach", p.display());
                let full = format!("{prefix}{}", name.trim_end());
                out.insert((mode.trim_end().to_string(), full.clone()));
                walk_profiles(&p.join("profiles"), &format!("{full}//"), out);
            }
        }
        walk_profiles(&dir.join("profiles"), prefix, out);
        for e in std::fs::read_dir(dir.join("namespaces"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let ns = e.file_name().to_string_lossy().into_owned();
            let inner = if prefix.is_empty() {
                format!(":{ns}:")
            } else {
                format!("{}//{ns}:", prefix.trim_end_matches(':'))
            };
            walk_ns(&e.path(), &inner, out);
        }
    }
    let mut tree = BTreeSet::new();
    walk_ns(&aa.join("policy"), "", &mut tree);
    assert_eq!(
        listed,
        tree,
        "{}: profiles list vs policy/ tree",
        snap.display()
    );

    let names: BTreeSet<&str> = listed.iter().map(|p| p.1.as_str()).collect();
    let mut confined = 0;
    for e in std::fs::read_dir(snap.join("proc"))
        .expect("proc")
        .flatten()
    {
        if e.file_name()
            .to_str()
            .is_none_or(|n| n.parse::<u32>().is_err())
        {
            continue;
        }
        let p = e.path();
        assert!(p.join("comm").is_file(), "{} lacks comm", p.display());
        let label = std::fs::read_to_string(p.join("attr/current")).expect("attr/current");
        assert!(label.ends_with('\n'), "{}: label lacks \\n", p.display());
        if let Ok(new) = std::fs::read_to_string(p.join("attr/apparmor/current")) {
            assert_eq!(new, label, "{}: attr/apparmor/current", p.display());
        }
        let label = label.trim_end();
        if label == "unconfined" {
            continue;
        }
        confined += 1;
        let (stack, _mode) = label.rsplit_once(" (").expect("label with mode");
        let mut ns = String::new();
        for part in stack.split("//&") {
            let full = match part.strip_prefix(':').and_then(|r| r.split_once(':')) {
                Some((n, name)) => {
                    ns = format!(":{n}:");
                    format!("{ns}{name}")
                }
                None => format!("{ns}{part}"),
            };
            assert!(
                names.contains(full.as_str()),
                "{}: {full:?} not loaded",
                p.display()
            );
        }
    }
    assert!(
        confined >= 10,
        "{}: only {confined} confined processes",
        snap.display()
    );
    let enabled = std::fs::read_to_string(snap.join("sys/module/apparmor/parameters/enabled"));
    assert_eq!(enabled.expect("enabled").trim(), "Y");
    assert!(aa.join("features/domain/stack").is_file(), "features tree");
    let mounts = std::fs::read_to_string(snap.join("proc/mounts")).expect("mounts");
    assert!(mounts.contains("securityfs /sys/kernel/security securityfs"));
}

/// `aactl snapshot` keeps the reader's namespace (`.ns_name`): on the live
/// kernel `aactl status --json` said `"namespace": "root"` and the same command
/// on the guest's snapshot `null` (VM check "aactl --root snapshot:
/// status-json same as live"). Checked here on a fixture tree, without a VM.
#[test]
fn aactl_snapshot_keeps_the_namespace_name() {
    let fixture = common::repo().join("testdata/status-aactl/mixed");
    let d = tempfile::tempdir().unwrap();
    let snap = d.path().join("snap");
    let status = |root: &Path| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
            .arg("--root")
            .arg(root)
            .args(["status", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
        .arg("--root")
        .arg(&fixture)
        .arg("snapshot")
        .arg(&snap)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let live = status(&fixture)["namespace"].clone();
    assert!(live.is_string(), "fixture has .ns_name: {live}");
    assert_eq!(status(&snap)["namespace"], live);
}
