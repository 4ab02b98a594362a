//! `remove-unknown` on a fake root (testdata/loader/root): the real parser answers
//! `--names`; the kernel writes are recorded (no AppArmor kernel here).

use crate::loader::{real_parser, td};
use crate::loader_cli::{aactl, s};
use apparmor::loader::unknown::{UnknownOptions, plan_remove_unknown};
use apparmor::loader::{
    Loader, LoaderError, ParserCommand, RawOutput, Recorded, RecordingRunner, Runner, SystemRunner,
};
use apparmor::system::System;
use std::path::Path;

/// Runs the parser for real, records kernel writes.
#[derive(Default)]
struct RealParserRecordedKernel(RecordingRunner);

impl Runner for RealParserRecordedKernel {
    fn run(&mut self, cmd: &ParserCommand) -> std::io::Result<RawOutput> {
        SystemRunner.run(cmd)
    }
    fn kernel_write(&mut self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.0.kernel_write(path, data)
    }
}

/// Runs `aactl remove-unknown --root ROOT --parser PARSER` (for real, no dry run).
fn remove_unknown(root: &Path, parser: &Path) -> (u8, String, String) {
    aactl(&["remove-unknown", "--root", s(root), "--parser", s(parser)])
}

/// Copies a tree (files, dirs, symlinks as symlinks) into a new temp dir.
fn copy_tree(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for e in walkdir::WalkDir::new(from).min_depth(1) {
        let e = e.unwrap();
        let dst = to.path().join(e.path().strip_prefix(from).unwrap());
        let ft = e.file_type();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dst).unwrap();
        } else if ft.is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
    to
}

fn plan(root: &Path, opts: UnknownOptions) -> Result<Vec<Vec<u8>>, LoaderError> {
    let parser =
        apparmor::loader::Parser::new(real_parser().unwrap()).base(root.join("etc/apparmor.d"));
    let system = System::with_root(root);
    let mut loader = Loader::new(parser, RealParserRecordedKernel::default());
    let dirs = [root.join("etc/apparmor.d")];
    let (_decision, plan) = plan_remove_unknown(&system, &mut loader, &dirs, opts)?;
    let mut runner = RealParserRecordedKernel::default();
    plan.execute(&system, &mut runner)?;
    let remove = system.securityfs().unwrap().join(".remove");
    Ok(runner
        .0
        .recorded
        .iter()
        .map(|r| match r {
            Recorded::KernelWrite { path, data } => {
                assert_eq!(path, &remove);
                data.clone()
            }
            Recorded::Run { .. } => panic!("plan runs no parser"),
        })
        .collect())
}

#[test]
fn removes_exactly_the_unknown_top_level_profiles() {
    if real_parser().is_none() {
        return;
    }
    let writes = plan(&td("root"), UnknownOptions::default()).unwrap();
    let want: [&[u8]; 6] = [
        b"unknown with space\0",
        b"stale-unconfined\0",
        b"stale-parent\0",
        b"odd (paren) name\0",
        b"back\\slash\0",
        b"disabled-on-disk\0",
    ];
    assert_eq!(writes, want);
}

#[test]
fn namespaces_and_prompt_only_when_asked() {
    if real_parser().is_none() {
        return;
    }
    let writes = plan(
        &td("root"),
        UnknownOptions {
            namespaces: true,
            prompt: true,
        },
    )
    .unwrap();
    let names: Vec<String> = writes
        .iter()
        .map(|w| String::from_utf8_lossy(&w[..w.len() - 1]).into_owned())
        .collect();
    assert!(names.contains(&"prompted".to_string()));
    assert!(names.contains(&":lxd-c1_<var-lib-lxd>:/usr/bin/man".to_string()));
    // Known namespaced profile (`:ns1://inns` from --names) is kept.
    assert!(!names.contains(&":ns1:inns".to_string()));
    assert_eq!(names.len(), 8);
}

#[test]
fn json_dry_run_gives_every_verdict() {
    let Some(p) = real_parser() else { return };
    let (code, out, err) = aactl(&[
        "remove-unknown",
        "--root",
        s(&td("root")),
        "--parser",
        s(&p),
        "--dry-run",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let verdict = |name: &str| {
        v["decision"]["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))["keep"]
            .clone()
    };
    assert_eq!(verdict("/usr/bin/known"), "known");
    assert_eq!(verdict("/usr/bin/known//null-/bin/ls"), "child");
    assert_eq!(verdict("unknown"), "known");
    assert_eq!(verdict("nvidia_modprobe"), "known");
    assert_eq!(verdict("nvidia_modprobe//kmod"), "known");
    assert_eq!(verdict("stale-parent//child"), "child");
    assert_eq!(verdict("prompted"), "prompt");
    assert_eq!(verdict(":ns1:inns"), "known");
    assert_eq!(verdict(":lxd-c1_<var-lib-lxd>:/usr/bin/man"), "namespace");
    assert_eq!(
        verdict("libvirt-0a1b2c3d-1111-2222-3333-444455556666"),
        "libvirt"
    );
    assert_eq!(verdict("unknown with space"), serde_json::Value::Null);
    assert_eq!(v["decision"]["malformed"][0], "garbage-without-mode");
    assert_eq!(v["plan"]["steps"].as_array().unwrap().len(), 6);
    assert!(v["removed"].as_array().unwrap().is_empty());
}

#[test]
fn real_run_writes_remove_and_reports_kernel_refusals() {
    let Some(p) = real_parser() else { return };
    let root = copy_tree(&td("root"));
    let fs = root.path().join("sys/kernel/security/apparmor");
    std::fs::write(fs.join(".remove"), "").unwrap();
    let (code, out, err) = remove_unknown(root.path(), &p);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("removed 'unknown with space'\nremoved 'stale-unconfined'\n"),
        "{out}"
    );
    // The fake .remove file is overwritten from offset 0 by each write: the last
    // name (NUL-terminated) is at its start.
    assert!(
        std::fs::read(fs.join(".remove"))
            .unwrap()
            .starts_with(b"disabled-on-disk\0")
    );
    // A kernel that refuses (here: no .remove file → ENOENT) gives exit 1.
    std::fs::remove_file(fs.join(".remove")).unwrap();
    let (code, _out, err) = remove_unknown(root.path(), &p);
    assert_eq!(code, 1);
    assert!(
        err.contains("unable to remove \"unknown with space\""),
        "{err}"
    );
}

#[test]
fn broken_profile_dir_or_unreadable_list_removes_nothing() {
    let Some(p) = real_parser() else { return };
    let root = copy_tree(&td("root"));
    let dir = root.path().join("etc/apparmor.d");
    std::fs::write(
        dir.join("broken"),
        "profile broken {\n  capability bogus,\n}\n",
    )
    .unwrap();
    let (code, out, err) = remove_unknown(root.path(), &p);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("broken:2: Invalid capability bogus."), "{err}");
    std::fs::remove_file(dir.join("broken")).unwrap();
    // profiles unreadable (a directory here; EACCES for non-root in real life, H-02).
    let list = root.path().join("sys/kernel/security/apparmor/profiles");
    std::fs::remove_file(&list).unwrap();
    std::fs::create_dir(&list).unwrap();
    let (code, out, err) = remove_unknown(root.path(), &p);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("profiles"), "{err}");
}

#[test]
fn no_policy_loaded_is_not_an_error() {
    // Upstream 3.0.8 fails with "Unable to read apparmorfs profiles file".
    let Some(p) = real_parser() else { return };
    let root = copy_tree(&td("root"));
    std::fs::write(
        root.path().join("sys/kernel/security/apparmor/profiles"),
        "",
    )
    .unwrap();
    let (code, out, err) = remove_unknown(root.path(), &p);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
}

#[test]
fn unreadable_profiles_list_as_non_root_is_a_distinct_error() {
    // H-02: as uid 65534 the kernel's `profiles` file gives EACCES; that is
    // "cannot read", not "AppArmor disabled", and nothing is removed.
    use std::os::unix::fs::PermissionsExt;
    let Some(p) = real_parser() else { return };
    let ready = crate::common::is_root() && Path::new("/usr/bin/setpriv").exists();
    if crate::common::require(ready.then_some(()), "root and setpriv (EACCES test)").is_none() {
        return;
    }
    let root = copy_tree(&td("root"));
    for e in walkdir::WalkDir::new(root.path()) {
        let e = e.unwrap();
        if e.file_type().is_symlink() {
            continue;
        }
        let mode = if e.file_type().is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let list = root.path().join("sys/kernel/security/apparmor/profiles");
    std::fs::set_permissions(&list, std::fs::Permissions::from_mode(0o600)).unwrap();
    // uid 65534 runs a copy in the (0755) tree: the build's own aactl may sit
    // under a folder it cannot enter (a checkout in /root, say).
    let aactl = root.path().join("aactl");
    crate::common::install_executable(Path::new(env!("CARGO_BIN_EXE_aactl")), &aactl);
    let out = std::process::Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&aactl)
        .args([
            "remove-unknown",
            "--root",
            s(root.path()),
            "--parser",
            s(&p),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains("needs root"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_profile_directory_is_named_by_aactl() {
    // The debian12-vm snapshot has a securityfs but no etc/apparmor.d.
    let root = crate::common::repo().join("testdata/systems/debian12-vm");
    let (code, out, err) = aactl(&[
        "remove-unknown",
        "--dry-run",
        "--root",
        s(&root),
        "--parser",
        "/bin/true",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err,
        format!(
            "aactl: profile directory {}/etc/apparmor.d not found (use -d DIR)\n",
            root.display()
        )
    );
    assert!(out.is_empty(), "{out}");
}
