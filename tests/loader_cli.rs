//! `aactl load|replace|unload` end to end, with the real apparmor_parser and a fake apparmorfs.

use crate::loader::{fake_parser, real_parser, td};
use std::path::Path;

/// Runs aactl in-process; returns (exit status, stdout, stderr).
pub use crate::common::aactl;

pub fn fake_apparmorfs() -> tempfile::TempDir {
    let fs = tempfile::tempdir().unwrap();
    for f in [".load", ".replace", ".remove"] {
        std::fs::write(fs.path().join(f), "").unwrap();
    }
    fs
}

/// `p` as `&str`, for aactl argument lists (test paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn replace_reports_per_profile_and_fails_for_the_bad_file() {
    let Some(p) = real_parser() else { return };
    let fs = fake_apparmorfs();
    let good = td("profiles/foo");
    let bad = td("profiles/uses-broken-include");
    let inc = td("inc");
    let (code, out, err) = aactl(&[
        "replace",
        "--parser",
        s(&p),
        "--apparmorfs",
        s(fs.path()),
        "-K",
        "-I",
        s(&inc),
        s(&good),
        s(&bad),
        "--json",
    ]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["action"], "replace");
    assert_eq!(v["ok"], false);
    assert_eq!(v["parser_version"], "3.0.8");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["ok"], true);
    let names: Vec<_> = r[0]["report"]["done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["child", "hat", "foo"]);
    assert_eq!(r[1]["ok"], false);
    let e = &r[1]["report"]["errors"][0];
    assert_eq!(e["error"], "syntax");
    assert_eq!(e["diagnostic"]["line"], 3);
    assert_eq!(
        e["diagnostic"]["read_file"],
        s(&td("inc/abstractions/broken"))
    );
    assert_eq!(e["diagnostic"]["file"], s(&bad));
    // The exact argv is part of the result.
    let argv = r[1]["command"].as_array().unwrap();
    assert_eq!(argv.last().unwrap(), s(&bad));
    assert!(argv.iter().any(|a| a == "--replace"));
}

#[test]
fn load_of_a_directory_text_output() {
    let Some(p) = real_parser() else { return };
    let base = td("base");
    let (code, out, err) = aactl(&[
        "load",
        "--parser",
        s(&p),
        "--base",
        s(&base),
        "-Q",
        "-K",
        s(&base),
    ]);
    assert_eq!(code, 0, "{err}");
    let b = base.display();
    assert_eq!(
        out,
        format!(
            "load {b}/c1: ok (c1; complain mode forced by force-complain/)\n\
             load {b}/d1: ok (skipped: disabled)\n\
             load {b}/e1: ok (e1)\n"
        )
    );
}

#[test]
fn dry_run_runs_nothing_and_shows_exact_commands() {
    let fs = fake_apparmorfs();
    let (code, out, err) = aactl(&[
        "unload",
        "--parser",
        "/nonexistent/apparmor_parser",
        "--apparmorfs",
        s(fs.path()),
        "--base",
        "/etc/apparmor.d",
        "--dry-run",
        s(&td("profiles/foo")),
        "name with space",
        "/usr/bin/env",
    ]);
    assert_eq!(code, 0, "{err}");
    let fsd = fs.path().display();
    assert_eq!(
        out,
        format!(
            "$ /nonexistent/apparmor_parser --remove --Include=/etc/apparmor.d --base=/etc/apparmor.d --subdomainfs={fsd} --verbose -- {}\n\
             write 'name with space\\0' > {fsd}/.remove\n\
             write '/usr/bin/env\\0' > {fsd}/.remove\n",
            td("profiles/foo").display()
        )
    );
    assert_eq!(std::fs::read(fs.path().join(".remove")).unwrap(), b"");
}

#[test]
fn unload_by_name_writes_remove_with_nul() {
    let fs = fake_apparmorfs();
    let (code, _out, err) = aactl(&[
        "unload",
        "--apparmorfs",
        s(fs.path()),
        "--name",
        "--parser",
        "/nonexistent",
        "unknown with space",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(fs.path().join(".remove")).unwrap(),
        b"unknown with space\0"
    );
    let (code, out, err) = aactl(&[
        "unload",
        "--apparmorfs",
        s(fs.path()),
        "--namespace",
        "lxd-c1",
        "--dry-run",
        "--parser",
        "/nonexistent",
        "/usr/bin/man",
        ":other:x",
    ]);
    assert_eq!(code, 0, "{err}");
    let fsd = fs.path().display();
    assert_eq!(
        out,
        format!(
            "write ':lxd-c1:/usr/bin/man\\0' > {fsd}/.remove\nwrite ':other:x\\0' > {fsd}/.remove\n"
        )
    );
}

#[test]
fn unload_through_a_control_file_that_is_not_a_file_is_refused() {
    // A .remove that is a symlink (here to /dev/full) is never written through, and
    // one that is a folder is refused before anything is written (the kernel's answers
    // to a write are covered by the loader library tests).
    type Make = fn(&std::path::Path);
    let cases: [(Make, &str); 2] = [
        (
            |p| std::os::unix::fs::symlink("/dev/full", p).unwrap(),
            "is a symlink (refused)",
        ),
        (
            |p| std::fs::create_dir(p).unwrap(),
            "not a regular file (refused)",
        ),
    ];
    for (make, want) in cases {
        let fs = tempfile::tempdir().unwrap();
        make(&fs.path().join(".remove"));
        let (code, out, err) = aactl(&[
            "unload",
            "--apparmorfs",
            s(fs.path()),
            "--parser",
            "/nonexistent",
            "--name",
            "x",
        ]);
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains(want), "{err}");
        assert!(err.contains(".remove"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn missing_parser_exits_2_naming_the_path() {
    let file = td("base/e1");
    let (code, out, err) = aactl(&["load", "-Q", "--parser", "/nonexistent/ap", s(&file)]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "aactl: apparmor_parser not found (looked in: /nonexistent/ap); install the apparmor package or give its path\n"
    );
}

#[test]
fn already_exists_gets_a_replace_hint() {
    // G-04: a fake parser script prints what 3.0.8 prints for EEXIST (no kernel here).
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_parser(
        dir.path(),
        "echo 'apparmor_parser: Unable to add \"e1\".  Profile already exists' >&2\nexit 239",
    );
    let fs = fake_apparmorfs();
    let (code, _out, err) = aactl(&[
        "load",
        "--parser",
        s(&fake),
        "--apparmorfs",
        s(fs.path()),
        s(&td("base/e1")),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("profile already exists"), "{err}");
    assert!(err.contains("use `aactl replace`"), "{err}");
}

#[test]
fn unload_by_name_checks_the_loaded_list() {
    let root = crate::common::repo().join("testdata/systems/debian12-vm");
    let (code, out, err) = aactl(&[
        "unload",
        "--dry-run",
        "--root",
        s(&root),
        "nosuch",
        "vmtest-hat//sub",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        out,
        format!(
            "write 'vmtest-hat//sub\\0' > {}/sys/kernel/security/apparmor/.remove\n",
            root.display()
        )
    );
    assert_eq!(err, "aactl: unload nosuch: not loaded\n");
    // Every name loaded: exit 0.
    let (code, _, err) = aactl(&["unload", "--dry-run", "--root", s(&root), "vmtest-kill"]);
    assert_eq!(code, 0, "{err}");
    // A real run reports the name as not loaded and writes nothing for it.
    let fs = fake_apparmorfs();
    std::fs::write(fs.path().join("profiles"), "other (enforce)\n").unwrap();
    let (code, out, err) = aactl(&["unload", "--apparmorfs", s(fs.path()), "--json", "nosuch"]);
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"][0]["error"], "not loaded");
    assert_eq!(std::fs::read(fs.path().join(".remove")).unwrap(), b"");
}

/// Each loader command has only the options that apply to it.
#[test]
fn options_fit_each_command() {
    let help = |c: &str| {
        let (code, out, err) = aactl(&[c, "--help"]);
        assert_eq!(code, 0, "{c}: {err}");
        out
    };
    for c in ["unload", "disable"] {
        let h = help(c);
        for o in [
            "--skip-kernel-load",
            "--write-cache",
            "--cache-loc",
            "--complain",
            "--skip-cache",
            "--features-file",
            "--warn",
            "--jobs",
            "Load into",
            "--watch",
        ] {
            assert!(!h.contains(o), "{c} lists {o}:\n{h}");
        }
        assert!(h.contains("Unload from policy namespace NS"), "{c}:\n{h}");
        let (code, _, _) = aactl(&[c, "-Q", "x"]);
        assert_eq!(code, 2, "{c} -Q is a usage error");
    }
    assert!(help("unload").contains(":NS:NAME"));
    for c in ["enforce", "complain", "audit", "enable"] {
        let h = help(c);
        for o in [
            "--skip-kernel-load",
            "--write-cache",
            "--cache-loc",
            "--complain ",
            "Compile only",
        ] {
            assert!(!h.contains(o), "{c} lists {o}:\n{h}");
        }
        assert!(h.contains("Reload into policy namespace NS"), "{c}");
        assert!(h.contains("--watch <SECONDS>"), "{c}");
    }
    for c in ["load", "replace"] {
        let h = help(c);
        for o in [
            "-Q, --skip-kernel-load",
            "-W, --write-cache",
            "--cache-loc",
            "--complain",
            "-I, --include",
            "-d, --base",
            "-M, --features-file",
            "Load into policy namespace NS",
        ] {
            assert!(h.contains(o), "{c} lacks {o}:\n{h}");
        }
    }
    // The warning classes are listed once per help, not under --werror too.
    for c in ["load", "replace", "enforce", "complain", "audit", "enable"] {
        // help is wrapped to the width: compare words
        let h = help(c).split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(h.matches("rule-not-enforced").count(), 1, "{c}:\n{h}");
        assert!(h.contains("CLASS as"), "{c}");
    }
    let (code, _, err) = aactl(&["load", "--werror", "nosuch", "x"]);
    assert_eq!(code, 2, "{err}");
}

/// apparmor_parser's messages are decoded whatever the user's language:
/// with `LANGUAGE=de` (and a non-C locale) gettext would translate them
/// (Debian's apparmor package ships the catalogs) and the typed errors and
/// the parser version would be lost, so aactl runs the parser in the C locale.
#[test]
fn parser_messages_are_read_whatever_the_language() {
    let Some(p) = real_parser() else { return };
    let fs = fake_apparmorfs();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args(["replace", "--parser", s(&p), "--apparmorfs", s(fs.path())])
        .args([
            "-K",
            "-I",
            s(&td("inc")),
            s(&td("profiles/uses-broken-include")),
        ])
        .arg("--json")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .env("LANGUAGE", "de:fr:es")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["parser_version"], "3.0.8", "{v}");
    let e = &v["results"][0]["report"]["errors"][0];
    assert_eq!(e["error"], "syntax", "{v}");
    assert_eq!(e["diagnostic"]["line"], 3, "{v}");
}
