//! `aactl fmt`: behaviour on small files, and the equivalence run: every
//! profile of Debian's trees (3.0.8 on the host, 4.1 and 5.0.2 in the
//! reference userlands) and of upstream's shipped profiles compiles (`-QS`)
//! to byte-identical binary policy before and after formatting the whole tree,
//! and formatting again changes nothing.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::Command;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn check_diff_and_write() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("usr.bin.foo");
    let src = "# head\n#include <tunables/global>\n\n\n/usr/bin/foo   {\n    /etc/foo    r,  # why\n\n\n  #include <abstractions/base>\n}\n";
    std::fs::write(&f, src).unwrap();
    let (code, out, err) = common::aactl(&["fmt", "--check", s(&f)]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("-#include <tunables/global>\n+include <tunables/global>"),
        "{out}"
    );
    assert!(err.contains("1 of 1 file is not formatted"), "{err}");
    let (code, out2, _) = common::aactl(&["fmt", "--diff", s(&f)]);
    assert_eq!((code, &out2), (0, &out));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), src);
    let (code, out, err) = common::aactl(&["fmt", s(tmp.path())]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("formatted "), "{out}");
    let done = std::fs::read_to_string(&f).unwrap();
    assert_eq!(
        done,
        "# head\ninclude <tunables/global>\n\n/usr/bin/foo {\n  /etc/foo r, # why\n\n  include <abstractions/base>\n}\n"
    );
    let (code, out, _) = common::aactl(&["fmt", "--check", s(&f)]);
    assert_eq!((code, out.as_str()), (0, ""));
    // a file with a syntax error is left alone (exit 2), the others are formatted
    let bad = tmp.path().join("bad");
    std::fs::write(&bad, "profile x {\n  /a rw\n").unwrap();
    let (code, _, err) = common::aactl(&["fmt", s(&bad)]);
    assert_eq!(code, 2);
    assert!(err.contains("left as is"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "profile x {\n  /a rw\n"
    );
}

/// The top-level profile files of a tree (what the parser loads from a folder).
fn profile_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !apparmor::loader::is_skipped_name(n))
        .collect();
    v.sort();
    v
}

use crate::common::copy_tree;

/// Formats a copy of `tree`, compiles every profile file of both with
/// `parser -QS -b TREE`, and returns (identical, failing identically to compile).
fn equivalence(what: &str, tree: &Path, parser: &dyn Fn() -> Command) -> (usize, usize) {
    let tmp = tempfile::tempdir().unwrap();
    let (orig, fmt) = (tmp.path().join("orig"), tmp.path().join("fmt"));
    copy_tree(tree, &orig);
    copy_tree(tree, &fmt);
    let (code, _, err) = common::aactl(&["fmt", s(&fmt)]);
    assert_eq!(code, 0, "{what}: {err}");
    let (code, out, _) = common::aactl(&["fmt", "--check", s(&fmt)]);
    assert_eq!(code, 0, "{what}: formatting twice changes:\n{out}");
    let (mut same, mut both_fail) = (0, 0);
    for f in profile_files(&orig) {
        let run = |dir: &PathBuf| {
            let o = parser()
                .args(["-QS", "-b", s(dir)])
                .arg(dir.join(&f))
                .env("LC_ALL", "C")
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr).replace(s(dir), "TREE");
            (o.status.code(), o.stdout, err)
        };
        let (a, b) = (run(&orig), run(&fmt));
        assert!(
            a == b,
            "{what}: {f} compiles differently after formatting\n{}\n{}",
            a.2,
            b.2
        );
        if a.0 == Some(0) {
            same += 1;
        } else {
            both_fail += 1;
        }
    }
    eprintln!("{what}: {same} profile files byte-identical, {both_fail} fail identically");
    assert!(same > 0, "{what}: nothing compiled");
    (same, both_fail)
}

#[test]
fn host_tree_compiles_the_same_with_3_0_8() {
    let parser = Path::new("/usr/sbin/apparmor_parser");
    let found = parser.exists() && Path::new("/etc/apparmor.d").is_dir();
    if common::require(
        found.then_some(()),
        "apparmor_parser 3.0.8 and /etc/apparmor.d",
    )
    .is_none()
    {
        return;
    }
    let (same, _) = equivalence("host 3.0.8", Path::new("/etc/apparmor.d"), &|| {
        Command::new(parser)
    });
    assert!(same >= 20);
}

#[test]
fn release_trees_compile_the_same() {
    for suite in ["trixie", "sid"] {
        let Some(p) = common::platform(suite) else {
            continue;
        };
        let cmd = || p.command("apparmor_parser");
        let (same, fail) = equivalence(suite, &p.path("/etc/apparmor.d"), &cmd);
        assert_eq!(fail, 0, "{suite}: its own tree compiles");
        assert!(same >= 100);
        if suite == "sid" && Path::new("/etc/apparmor.d").is_dir() {
            // Debian 12's tree with the newest parser (4.1.0 is left out: it compiles
            // usr.bin.totem and usr.bin.pidgin to a different binary on every run)
            let (same, fail) = equivalence("host tree, 5.0.2", Path::new("/etc/apparmor.d"), &cmd);
            assert_eq!(fail, 0);
            assert!(same >= 20);
        }
    }
}

#[test]
fn upstream_profiles_compile_the_same_with_5_0_2() {
    let Some(shared) = common::shared() else {
        return;
    };
    let Some(p) = common::platform("sid") else {
        return;
    };
    let tree = shared.join("corpus/profiles-upstream");
    let (same, _) = equivalence("upstream, 5.0.2", &tree, &|| p.command("apparmor_parser"));
    assert!(same >= 150);
}
