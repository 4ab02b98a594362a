//! Loader library against the real `apparmor_parser` (Debian 12: 3.0.8).
//!
//! The build machine's kernel has no AppArmor, so loads go to a fake apparmorfs
//! (`--subdomainfs` pointing at a temp dir whose `.replace` is a regular file, or a
//! symlink to a file that fails writes with a known errno), or are compiled only
//! (`--skip-kernel-load --skip-cache`). Captured stderr of other versions is decoded
//! from testdata/loader/captured.

use crate::common::{repo, require};
use apparmor::loader::*;
use std::path::{Path, PathBuf};

pub fn td(p: &str) -> PathBuf {
    repo().join("testdata/loader").join(p)
}

/// The real parser, or a skip (a failure in CI, where the apparmor package is installed).
pub fn real_parser() -> Option<PathBuf> {
    require(find_parser_from_env().ok(), "apparmor_parser")
}

fn compile_only(p: PathBuf) -> Parser {
    Parser::new(p)
        .skip_kernel_load(true)
        .skip_cache(true)
        .include(td("inc"))
}

fn one_syntax_error(r: &RunReport) -> &ParserDiagnostic {
    match &r.errors[..] {
        [LoadError::Syntax { diagnostic }] => diagnostic,
        other => panic!("expected one syntax error, got {other:?}"),
    }
}

#[test]
fn g01_lexer_error_is_structured() {
    let Some(p) = real_parser() else { return };
    let file = td("profiles/g01-mount-operator");
    let mut l = Loader::new(compile_only(p), SystemRunner);
    let r = l.run_file(Action::Replace, &file).unwrap();
    assert_eq!(r.termination, Termination::Exited(1));
    let d = one_syntax_error(&r);
    assert_eq!(d.file.as_deref(), Some(file.as_path()));
    assert_eq!(d.read_file.as_deref(), Some(file.as_path()));
    assert_eq!(d.line, Some(3));
    assert_eq!(d.lexer_state.as_deref(), Some("MOUNT_MODE"));
    assert!(
        d.message
            .starts_with("Lexer found unexpected character: '!'")
    );
    assert!(d.hint.as_deref().unwrap().contains("mount rule"), "{d:?}");
}

#[test]
fn g02_bare_include_line_gets_a_hint() {
    let Some(p) = real_parser() else { return };
    let file = td("profiles/g02-bare-include");
    let mut l = Loader::new(compile_only(p), SystemRunner);
    let d = one_syntax_error(&l.run_file(Action::Replace, &file).unwrap()).clone();
    assert_eq!(d.line, Some(5));
    assert_eq!(d.lexer_state.as_deref(), Some("INITIAL"));
    assert!(d.hint.unwrap().contains("include"));
}

#[test]
fn error_in_an_include_names_the_include_and_the_loaded_file() {
    let Some(p) = real_parser() else { return };
    let file = td("profiles/uses-broken-include");
    let mut l = Loader::new(compile_only(p), SystemRunner);
    let r = l.run_file(Action::Add, &file).unwrap();
    let d = one_syntax_error(&r);
    assert_eq!(d.file.as_deref(), Some(file.as_path()));
    assert_eq!(
        d.read_file.as_deref(),
        Some(td("inc/abstractions/broken").as_path())
    );
    assert_eq!(d.line, Some(3));
    assert_eq!(d.message, "Invalid capability bogus.");
    let shown = r.errors[0].to_string();
    assert!(
        shown.contains("inc/abstractions/broken:3: Invalid capability bogus."),
        "{shown}"
    );
    assert!(shown.contains("while loading"), "{shown}");
}

#[test]
fn unknown_include_and_missing_file() {
    let Some(p) = real_parser() else { return };
    let mut l = Loader::new(compile_only(p), SystemRunner);
    let d = one_syntax_error(
        &l.run_file(Action::Replace, &td("profiles/unknown-include"))
            .unwrap(),
    )
    .clone();
    assert_eq!(d.line, Some(2));
    assert!(d.message.contains("abstractions/nonexistent"));

    let missing = td("profiles/does-not-exist");
    let r = l.run_file(Action::Replace, &missing).unwrap();
    assert_eq!(r.termination, Termination::Exited(2));
    assert_eq!(r.errors, [LoadError::FileNotFound { file: missing }]);
}

#[test]
fn replace_into_fake_apparmorfs_reports_every_profile() {
    let Some(p) = real_parser() else { return };
    let fs = tempfile::tempdir().unwrap();
    for f in [".load", ".replace", ".remove"] {
        std::fs::write(fs.path().join(f), "").unwrap();
    }
    let mut l = Loader::new(
        Parser::new(p).apparmorfs(fs.path()).skip_cache(true),
        SystemRunner,
    );
    let r = l.run_file(Action::Replace, &td("profiles/foo")).unwrap();
    assert!(r.ok(), "{r:?}");
    let names: Vec<_> = r.done.iter().map(|d| d.name.as_str()).collect();
    // Children before their parent, short names: the parser's own order.
    assert_eq!(names, ["child", "hat", "foo"]);
    assert!(r.done.iter().all(|d| d.op == KernelOp::Replace));
    // The blob really went to .replace.
    assert!(std::fs::metadata(fs.path().join(".replace")).unwrap().len() > 0);
}

/// The errno a write to `target` fails with, measured independently of the parser.
fn write_errno(target: &Path) -> Option<i32> {
    use std::io::Write;
    match std::fs::OpenOptions::new().write(true).open(target) {
        Err(e) => e.raw_os_error(),
        Ok(mut f) => f.write(b"x").err().and_then(|e| e.raw_os_error()),
    }
}

#[test]
fn kernel_write_failures_decode_256_minus_errno() {
    let Some(p) = real_parser() else { return };
    let simple = td("base/e1");
    let mut checked = 0;
    for target in ["/dev/full", "/proc/sys/kernel/osrelease", "/proc/version"] {
        let Some(errno) = write_errno(Path::new(target)) else {
            continue;
        };
        checked += 1;
        let fs = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(target, fs.path().join(".replace")).unwrap();
        let mut l = Loader::new(
            Parser::new(&p).apparmorfs(fs.path()).skip_cache(true),
            SystemRunner,
        );
        let r = l.run_file(Action::Replace, &simple).unwrap();
        assert_eq!(r.termination, Termination::Exited(256 - errno), "{target}");
        match &r.errors[..] {
            [
                LoadError::Kernel {
                    op,
                    profile,
                    errno: e,
                    kind,
                    ..
                },
            ] => {
                assert_eq!(*op, KernelOp::Replace);
                assert_eq!(profile, "e1");
                assert_eq!(*e, errno, "{target}");
                assert_eq!(*kind, KernelErrorKind::from_errno(errno));
            }
            other => panic!("{target}: {other:?}"),
        }
    }
    // Not a pass by default: at least one target (/dev/full: ENOSPC) failed a write.
    assert!(checked > 0, "no target refused a write");
}

#[test]
fn missing_interface_file_is_not_found() {
    let Some(p) = real_parser() else { return };
    let fs = tempfile::tempdir().unwrap();
    let mut l = Loader::new(
        Parser::new(p).apparmorfs(fs.path()).skip_cache(true),
        SystemRunner,
    );
    let r = l.run_file(Action::Add, &td("base/e1")).unwrap();
    assert_eq!(r.termination, Termination::Exited(254));
    assert!(matches!(
        r.errors[..],
        [LoadError::Kernel {
            op: KernelOp::Add,
            kind: KernelErrorKind::NotFound,
            errno: 2,
            ..
        }]
    ));
}

#[test]
fn disable_and_force_complain_are_reported() {
    let Some(p) = real_parser() else { return };
    let base = td("base");
    let mut l = Loader::new(
        Parser::new(p)
            .base(&base)
            .skip_kernel_load(true)
            .skip_cache(true),
        SystemRunner,
    );
    let r = l.run_file(Action::Replace, &base.join("d1")).unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].file, "d1");
    assert!(r.done.is_empty());
    let r = l.run_file(Action::Replace, &base.join("c1")).unwrap();
    assert_eq!(r.forced_complain, ["c1"]);
    assert_eq!(r.done[0].name, "c1");
}

#[test]
fn werror_prints_the_converted_warning() {
    let Some(p) = real_parser() else { return };
    let features = Path::new("/usr/share/apparmor-features/features");
    let Some(features) = require(
        features.exists().then_some(features),
        "Debian features file",
    ) else {
        return;
    };
    let mut l = Loader::new(
        compile_only(p)
            .features_file(features)
            .werror(Warning::RuleNotEnforced),
        SystemRunner,
    );
    let r = l
        .run_file(Action::Replace, &td("profiles/dbus-rule"))
        .unwrap();
    let d = one_syntax_error(&r);
    assert!(d.message.contains("dbus rules not enforced"), "{d:?}");
    assert!(d.message.contains("profile w"), "{d:?}");
    assert_eq!(d.profile.as_deref(), Some("w"));
}

#[test]
fn names_keep_spaces_and_namespaces() {
    let Some(p) = real_parser() else { return };
    let mut l = Loader::new(Parser::new(p), SystemRunner);
    let r = l.names(&[td("profiles/names")]).unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.names, ["with space", "with space//h", ":ns1://inns"]);
}

#[test]
fn missing_parser_is_a_clear_error() {
    let mut l = Loader::new(Parser::new("/nonexistent/apparmor_parser"), SystemRunner);
    let e = l.run_file(Action::Replace, &td("base/e1")).unwrap_err();
    assert!(matches!(e, LoaderError::ParserNotFound { .. }));
    assert_eq!(
        e.to_string(),
        "apparmor_parser not found (looked in: /nonexistent/apparmor_parser); install the apparmor package or give its path"
    );
}

#[test]
fn killed_by_signal_is_reported_as_such() {
    // G-07: a parser killed by SIGTERM prints nothing; we must not call that success.
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_parser(dir.path(), "kill -TERM $$");
    let mut l = Loader::new(Parser::new(&fake), SystemRunner);
    let r = l.run_file(Action::Replace, &td("base/e1")).unwrap();
    assert_eq!(r.termination, Termination::Signaled(15));
    assert_eq!(
        r.errors,
        [LoadError::KilledBySignal {
            signal: 15,
            name: "SIGTERM".into()
        }]
    );
}

type Want<'a> = Option<(KernelOp, &'a str, KernelErrorKind, i32)>;

/// Writes an executable `apparmor_parser` shell script with `body` into `dir`
/// (through `install(1)`: see [`crate::common::install_script`], no ETXTBSY).
pub fn fake_parser(dir: &Path, body: &str) -> PathBuf {
    let fake = dir.join("apparmor_parser");
    crate::common::install_script(&fake, &format!("#!/bin/sh\n{body}\n"));
    fake
}

fn captured(name: &str) -> RawOutput {
    let stderr = std::fs::read(td(&format!("captured/{name}.stderr"))).unwrap();
    let status = std::fs::read_to_string(td(&format!("captured/{name}.status"))).unwrap();
    let (how, n) = status.trim().split_once(' ').unwrap();
    let n: i32 = n.parse().unwrap();
    RawOutput {
        termination: if how == "signal" {
            Termination::Signaled(n)
        } else {
            Termination::Exited(n)
        },
        stdout: Vec::new(),
        stderr,
    }
}

#[test]
fn captured_outputs_decode_to_typed_errors() {
    use KernelErrorKind::*;
    let cases: [(&str, Action, Want); 6] = [
        (
            "g04-already-exists",
            Action::Add,
            Some((KernelOp::Add, "/usr/bin/lxc-start", AlreadyExists, 17)),
        ),
        (
            "g05-access-denied-6x",
            Action::Replace,
            Some((
                KernelOp::Replace,
                "mount-namespace-capture-helper",
                PermissionDenied,
                13,
            )),
        ),
        (
            "kernel-osrelease-3.0.8",
            Action::Replace,
            Some((KernelOp::Replace, "simple", PermissionDenied, 13)),
        ),
        (
            "kernel-current-3.0.8",
            Action::Replace,
            Some((KernelOp::Replace, "simple", NotPermitted, 1)),
        ),
        (
            "kernel-full-3.0.8",
            Action::Replace,
            Some((KernelOp::Replace, "simple", NoSpace, 28)),
        ),
        (
            "kernel-version-3.0.8",
            Action::Replace,
            Some((KernelOp::Replace, "simple", Other, 5)),
        ),
    ];
    for (name, action, want) in cases {
        let r = diagnose(action, &[], &captured(name));
        let (op, prof, kind, errno) = want.unwrap();
        assert_eq!(
            r.errors,
            [LoadError::Kernel {
                op,
                profile: prof.into(),
                errno,
                kind,
                message: r
                    .errors
                    .first()
                    .map(|e| match e {
                        LoadError::Kernel { message, .. } => message.clone(),
                        _ => String::new(),
                    })
                    .unwrap_or_default(),
            }],
            "{name}"
        );
    }
    // G-05's message is not doubled with the program name.
    let r = diagnose(Action::Replace, &[], &captured("g05-access-denied-6x"));
    assert!(r.errors[0].to_string().contains("policy admin"));
    assert!(!r.errors[0].to_string().contains("apparmor_parser: Access"));

    let r = diagnose(Action::Replace, &[], &captured("no-apparmorfs-3.0.8"));
    assert_eq!(r.errors, [LoadError::NoApparmorFs]);
    let r = diagnose(Action::Replace, &[], &captured("unknown-option-3.0.8"));
    assert_eq!(
        r.errors,
        [LoadError::Usage {
            message: "unrecognized option '--bogus'".into()
        }]
    );
    let r = diagnose(Action::Remove, &[], &captured("remove-worker-crash-3.0.8"));
    assert_eq!(r.errors, [LoadError::WorkerDied]);
}

#[test]
fn recording_runner_sees_exact_effects_of_a_mode_plan() {
    use apparmor::loader::mode::{ModeChange, ProfileIndex, plan_change};
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("d");
    std::fs::create_dir_all(base.join("force-complain")).unwrap();
    std::fs::copy(td("profiles/foo"), base.join("foo")).unwrap();
    std::os::unix::fs::symlink(base.join("foo"), base.join("force-complain/foo")).unwrap();
    let mut index = ProfileIndex::scan(&base).unwrap();
    let resolved = index.resolve("/usr/bin/foo", &base).unwrap();
    assert_eq!(resolved[0].profiles, ["foo"]);
    let parser = Parser::new("/sbin/apparmor_parser")
        .base(&base)
        .include(&base);
    let plans = plan_change(
        ModeChange::Enforce,
        &base,
        &resolved,
        &index,
        &parser,
        true,
        false,
    )
    .unwrap();
    assert_eq!(plans.len(), 1);
    let steps = &plans[0].plan.steps;
    assert_eq!(
        steps[0],
        Step::RemoveLink {
            link: base.join("force-complain/foo")
        }
    );
    assert!(matches!(&steps[1], Step::Edit { path, .. } if path == &base.join("foo")));
    // The parser's answer is scripted: a kernel refusal on reload.
    let mut rec = RecordingRunner::new().then(RawOutput::exited(
        243,
        "",
        "apparmor_parser: Unable to replace \"foo\".  Permission denied; attempted to load a profile while confined?\n",
    ));
    let outcomes = plans[0]
        .plan
        .execute(&apparmor::system::System::host(), &mut rec)
        .unwrap();
    let cmds = rec.commands();
    assert_eq!(cmds.len(), 1);
    let b = base.display();
    assert_eq!(
        cmds[0].display(),
        format!("/sbin/apparmor_parser --replace --Include={b} --base={b} --verbose -- {b}/foo")
    );
    let StepOutcome::Ran(report) = outcomes.last().unwrap() else {
        panic!()
    };
    assert!(matches!(
        report.errors[..],
        [LoadError::Kernel {
            kind: KernelErrorKind::PermissionDenied,
            ..
        }]
    ));
    // The edit and the link removal happened before the reload.
    assert!(
        !std::fs::read_to_string(base.join("foo"))
            .unwrap()
            .contains("flags=(complain) {\n  /etc")
    );
    assert!(std::fs::symlink_metadata(base.join("force-complain/foo")).is_err());
}
