//! Every profile mode: `aactl kill`, `aactl prompt`, `aactl mode MODE` on temp
//! profile trees (only the named profile's flags change, links, release gates),
//! and the edited files reloaded by each release's real apparmor_parser (3.0.8
//! on the host, 4.1.0 and 5.0.2 from the reference userlands) wherever that
//! release accepts the flag, and refused by it wherever our gate refuses.

use crate::common::{Platform, platform, repo};
use crate::loader::real_parser;
use crate::loader_cli::{aactl, fake_apparmorfs, s};
use apparmor::loader::mode::{IndexedFile, ModeChange, edit_flags};
use apparmor::policy::ParserVersion;
use std::path::{Path, PathBuf};

const FOO: &str = "# foo's comment\nprofile foo /usr/bin/foo flags=(complain, attach_disconnected) {  # head\n  /etc/foo r,\n  ^hat flags=(complain) {\n    /tmp/** rw,\n  }\n}\n";
const BAR: &str = "/usr/bin/bar {\n  /etc/bar r,\n}\n";

fn tree() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("apparmor.d");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join("foo"), FOO).unwrap();
    std::fs::write(base.join("bar"), BAR).unwrap();
    (d, base)
}

/// `aactl ARGS… --base BASE --no-reload --parser /nonexistent` (file edits only).
fn edit_only(base: &Path, args: &[&str]) -> (u8, String, String) {
    let tail = ["--base", s(base), "--no-reload", "--parser", "/nonexistent"];
    aactl(&[args, &tail[..]].concat())
}

fn read(base: &Path, f: &str) -> String {
    std::fs::read_to_string(base.join(f)).unwrap()
}

#[test]
fn kill_edits_only_the_named_profile_and_keeps_the_rest() {
    let (_d, base) = tree();
    let (code, out, err) = edit_only(&base, &["kill", "foo"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "kill {}: foo: complain,attach_disconnected -> kill,attach_disconnected; ok\n",
            base.join("foo").display()
        )
    );
    // the hat keeps its own flag; the comment and the other file are untouched
    assert_eq!(
        read(&base, "foo"),
        FOO.replace("(complain, attach", "(kill, attach")
    );
    assert_eq!(read(&base, "bar"), BAR);
    // a program path finds the profile through its attachment
    let (code, out, err) = edit_only(&base, &["kill", "/usr/bin/bar"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("bar: enforce -> kill; ok"), "{out}");
    assert_eq!(
        read(&base, "bar"),
        "/usr/bin/bar flags=(kill) {\n  /etc/bar r,\n}\n"
    );
    // back to enforce: the mode flag goes, the other flag stays
    let (code, _, err) = edit_only(&base, &["enforce", "foo"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        read(&base, "foo")
            .contains("profile foo /usr/bin/foo flags=(attach_disconnected) {  # head")
    );
}

#[test]
fn mode_sets_every_mode_and_replaces_the_previous_one() {
    let (_d, base) = tree();
    for (mode, flag) in [
        ("unconfined", "unconfined"),
        ("kill", "kill"),
        ("prompt", "prompt"),
        ("default-allow", "default_allow"),
        ("default_allow", "default_allow"),
        ("complain", "complain"),
    ] {
        let (code, out, err) = edit_only(&base, &["mode", mode, "foo"]);
        assert_eq!(code, 0, "{mode}: {err}");
        assert!(out.starts_with(&format!("{flag} ")), "{out}");
        let f = IndexedFile::read(&base.join("foo")).unwrap();
        let p = f.profiles.iter().find(|p| p.name == "foo").unwrap();
        assert_eq!(p.flags, [flag, "attach_disconnected"], "{mode}");
        let hat = f.profiles.iter().find(|p| p.name == "foo//hat").unwrap();
        assert_eq!(hat.flags, ["complain"]);
    }
    // a mode that is already set: the file is kept byte for byte
    let before = read(&base, "foo");
    let (code, out, _) = edit_only(&base, &["mode", "complain", "foo"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("complain,attach_disconnected -> complain,attach_disconnected"),
        "{out}"
    );
    assert_eq!(read(&base, "foo"), before);
}

#[test]
fn unknown_mode_is_a_usage_error() {
    let (_d, base) = tree();
    let (code, _, err) = edit_only(&base, &["mode", "audit", "foo"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("possible values: enforce, complain, kill, unconfined, prompt, default_allow"),
        "{err}"
    );
    assert_eq!(read(&base, "foo"), FOO);
}

#[test]
fn enforcing_a_profile_in_unconfined_mode_needs_force() {
    let (_d, base) = tree();
    assert_eq!(edit_only(&base, &["mode", "unconfined", "bar"]).0, 0);
    let (code, _, err) = edit_only(&base, &["mode", "enforce", "bar"]);
    assert_eq!(code, 1);
    assert!(err.contains("flagged unconfined"), "{err}");
    assert!(read(&base, "bar").contains("flags=(unconfined)"));
    let (code, _, err) = edit_only(&base, &["mode", "enforce", "--force", "bar"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&base, "bar"), BAR);
}

#[test]
fn prompt_and_default_allow_are_refused_for_3_0_before_any_edit() {
    let (_d, base) = tree();
    for args in [
        &["prompt", "--parser-version", "3.0", "foo"][..],
        &["mode", "default_allow", "--parser-version", "3.0.8", "foo"],
        &[
            "mode",
            "prompt",
            "--parser-version",
            "3.0",
            "--dry-run",
            "foo",
        ],
    ] {
        let (code, out, err) = edit_only(&base, args);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty());
        let mode = if args.contains(&"default_allow") {
            "default_allow"
        } else {
            "prompt"
        };
        assert_eq!(
            err,
            format!(
                "aactl: the {mode} mode needs AppArmor 4.1 or later; apparmor_parser 3.0 \
                 rejects the flag (--parser-version; give --parser-version to edit for \
                 another release)\n"
            )
        );
        assert_eq!(read(&base, "foo"), FOO);
    }
    // kill and unconfined are known to every release
    for m in ["kill", "unconfined"] {
        let (code, _, err) = edit_only(&base, &["mode", m, "--parser-version", "3.0", "foo"]);
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, err) = edit_only(
        &base,
        &["mode", "prompt", "--parser-version", "4.1", "--json", "foo"],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["action"], "prompt");
    assert_eq!(v["parser_release"], "4.1");
    assert_eq!(v["results"][0]["changes"][0]["mode_before"], "unconfined");
    assert_eq!(v["results"][0]["changes"][0]["mode_after"], "prompt");
}

#[test]
fn new_modes_remove_the_disable_and_force_complain_links() {
    let (_d, base) = tree();
    for dir in ["disable", "force-complain"] {
        std::fs::create_dir_all(base.join(dir)).unwrap();
        std::os::unix::fs::symlink(base.join("foo"), base.join(dir).join("foo")).unwrap();
    }
    let (code, out, err) = aactl(&[
        "kill",
        "--base",
        s(&base),
        "--no-reload",
        "--parser",
        "/nonexistent",
        "--dry-run",
        "foo",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("force-complain/foo") && out.contains("disable/foo"),
        "{out}"
    );
    assert!(base.join("disable/foo").symlink_metadata().is_ok());
    assert_eq!(edit_only(&base, &["kill", "foo"]).0, 0);
    assert!(base.join("disable/foo").symlink_metadata().is_err());
    assert!(base.join("force-complain/foo").symlink_metadata().is_err());
}

#[test]
fn mode_change_words_and_release_gates() {
    for m in ModeChange::MODES {
        assert_eq!(ModeChange::from_mode(m.as_str()), Some(m));
    }
    assert_eq!(
        ModeChange::from_mode("default-allow"),
        Some(ModeChange::DefaultAllow)
    );
    assert_eq!(ModeChange::from_mode("audit"), None);
    assert!(ModeChange::Kill.accepted_by(ParserVersion::V3_0).is_ok());
    assert!(ModeChange::Prompt.accepted_by(ParserVersion::V3_0).is_err());
    assert!(
        ModeChange::DefaultAllow
            .accepted_by(ParserVersion::V4_1)
            .is_ok()
    );
}

/// A parser to run: the host's, or a release's through scripts/platforms/run
/// (a wrapper script, since aactl takes one program path).
struct Release {
    name: &'static str,
    version: ParserVersion,
    program: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

fn wrapper(p: &Platform) -> (PathBuf, tempfile::TempDir) {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let w = d.path().join("apparmor_parser");
    std::fs::write(
        &w,
        format!(
            "#!/bin/sh\nAA_PLATFORMS_DIR='{}' exec '{}' {} apparmor_parser \"$@\"\n",
            p.root.parent().unwrap().display(),
            repo().join("scripts/platforms/run").display(),
            p.suite
        ),
    )
    .unwrap();
    std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o755)).unwrap();
    (w, d)
}

fn releases() -> Vec<Release> {
    let mut out = Vec::new();
    if let Some(p) = real_parser() {
        out.push(Release {
            name: "host",
            version: ParserVersion::V3_0,
            program: p,
            _dir: None,
        });
    }
    for (suite, version) in [
        ("trixie", ParserVersion::V4_1),
        ("sid", ParserVersion::V5_0),
    ] {
        if let Some(p) = platform(suite) {
            let (w, d) = wrapper(&p);
            out.push(Release {
                name: suite,
                version,
                program: w,
                _dir: Some(d),
            });
        }
    }
    out
}

#[test]
fn every_accepted_mode_reloads_with_each_releases_parser() {
    // The host parser must be 3.0 for the expectations below.
    for r in releases() {
        let asked = std::process::Command::new(&r.program)
            .arg("--version")
            .output()
            .unwrap();
        let first = String::from_utf8_lossy(&asked.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_owned();
        if r.name == "host" && !first.contains(" 3.0") {
            eprintln!("SKIP: host parser is not 3.0: {first}");
            continue;
        }
        for m in ModeChange::MODES {
            let (_d, base) = tree();
            let fs = fake_apparmorfs();
            // no --parser-version: the release is asked of the parser itself
            let (code, out, err) = aactl(&[
                "mode",
                m.as_str(),
                "--base",
                s(&base),
                "--apparmorfs",
                s(fs.path()),
                "-K",
                "--parser",
                s(&r.program),
                "--json",
                "foo",
            ]);
            let accepted = r.version >= m.introduced();
            if accepted {
                assert_eq!(code, 0, "{} {}: {out} {err}", r.name, m.as_str());
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["results"][0]["ok"], true, "{} {}", r.name, m.as_str());
                assert!(std::fs::metadata(fs.path().join(".replace")).unwrap().len() > 0);
            } else {
                assert_eq!(code, 2, "{} {}: {out}", r.name, m.as_str());
                assert!(
                    err.contains(&format!("apparmor_parser {} rejects", r.version.as_str())),
                    "{err}"
                );
                assert_eq!(read(&base, "foo"), FOO);
            }
        }
    }
}

#[test]
fn the_gate_matches_what_each_parser_rejects() {
    // Our gate, seen from the other side: a file with the refused flag
    // written anyway is rejected by exactly the releases we refuse it for.
    for r in releases() {
        for m in ModeChange::MODES {
            let d = tempfile::tempdir().unwrap();
            let f = d.path().join("foo");
            let (text, _) = edit_flags(&f, FOO, "foo", m).unwrap();
            std::fs::write(&f, text).unwrap();
            let o = std::process::Command::new(&r.program)
                .args(["-QK", "-b"])
                .arg(d.path())
                .arg(&f)
                .output()
                .unwrap();
            let accepted = r.version >= m.introduced();
            assert_eq!(
                o.status.success(),
                accepted,
                "{} {}: {}",
                r.name,
                m.as_str(),
                String::from_utf8_lossy(&o.stderr)
            );
            if !accepted {
                assert!(
                    String::from_utf8_lossy(&o.stderr).contains("Invalid profile flag"),
                    "{}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
}
