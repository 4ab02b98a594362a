//! `aactl features`: the ABI written from a fake system's securityfs reads back
//! equal, compiles a profile with `apparmor_parser -M FILE` exactly as the
//! features folder does, and `--diff` lists what a newer kernel adds.

use crate::common;
use apparmor::system::{Features, System};
use std::path::Path;
use std::process::Command;

fn systems() -> Vec<std::path::PathBuf> {
    ["debian12-vm", "debian13-vm", "sid-vm"]
        .iter()
        .map(|n| common::repo().join("testdata/systems").join(n))
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn written_abi_reads_back_and_compiles() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("t");
    std::fs::write(
        &profile,
        "profile t /usr/bin/t {\n  /etc/t r,\n  network inet stream,\n  signal send set=term,\n  capability chown,\n}\n",
    )
    .unwrap();
    for root in systems() {
        let file = tmp.path().join(format!(
            "{}.abi",
            root.file_name().unwrap().to_string_lossy()
        ));
        let (code, _, err) = common::aactl(&["--root", s(&root), "features", "-w", s(&file)]);
        assert_eq!(code, 0, "{err}");
        let text = std::fs::read_to_string(&file).unwrap();
        let (_, printed, _) = common::aactl(&["--root", s(&root), "features"]);
        assert_eq!(printed, text);
        let live = System::with_root(&root).features().unwrap();
        // the kernel's text format, byte for byte, and a round trip
        assert_eq!(text, live.to_feature_string());
        let back = Features::load(&file).unwrap();
        assert!(live.diff(&back).is_empty() && back.diff(&live).is_empty());
        assert_eq!(back.to_abi_text(), text);
        assert_eq!(Features::parse(&back.to_abi_text()).unwrap(), back);
        let (code, _, err) = common::aactl(&["check", "--features", s(&file), s(&profile)]);
        assert_eq!(code, 0, "{err}");
        // apparmor_parser: the file compiles as the folder does
        if Path::new("/usr/sbin/apparmor_parser").exists() {
            let dir = live_dir(&root);
            let out = |m: &Path| {
                let o = Command::new("/usr/sbin/apparmor_parser")
                    .args(["--config-file", "/dev/null", "-M", s(m), "-QS", s(&profile)])
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                o.stdout
            };
            assert_eq!(out(&file), out(&dir), "{}", root.display());
        }
        for suite in ["trixie", "sid"] {
            let Some(p) = common::platform(suite) else {
                continue;
            };
            let o = p
                .command("apparmor_parser")
                .args([
                    "--config-file",
                    "/dev/null",
                    "-M",
                    s(&file),
                    "-QT",
                    s(&profile),
                ])
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{suite}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

fn live_dir(root: &Path) -> std::path::PathBuf {
    root.join("sys/kernel/security/apparmor/features")
}

#[test]
fn diff_between_kernels() {
    let [a, b, _] = &systems()[..] else { panic!() };
    let (code, out, err) = common::aactl(&["features", "--diff", s(a), s(b)]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("+ namespaces/mask\n"), "{out}");
    assert!(out.lines().last().unwrap().ends_with("changed"), "{out}");
    let (code, json, _) = common::aactl(&["features", "--diff", s(a), s(b), "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        v["added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "namespaces/mask")
    );
    // a root, its features folder and the written file are the same set
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("abi");
    common::aactl(&["--root", s(b), "features", "-w", s(&file)]);
    for other in [live_dir(b), file.clone()] {
        let (code, out, _) = common::aactl(&["features", "--diff", s(b), s(&other)]);
        assert_eq!((code, out.as_str()), (0, "the feature sets are the same\n"));
    }
    let (code, _, err) = common::aactl(&["features", "--diff", s(a), "/nonexistent"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent"), "{err}");
}
