//! Hostile input for the runtime-state readers, `aa-status`, `aactl status`, `aactl ps`:
//! FIFOs, devices, symlink loops, malformed files. Each test is a regression test for a bug
//! found by QA; every run is bounded by a timeout so that a hang fails instead of blocking CI.

use apparmor::cli::Io;
use apparmor::system::System;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// `apparmor/` under the fake securityfs.
pub const SFS: &str = "sys/kernel/security/apparmor";

/// A minimal fake root: module parameters, one securityfs mount, three profiles, a
/// `policy/` tree with one profile, a small `features/` tree and two processes.
pub fn fake_root() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    let w = |rel: &str, text: &[u8]| {
        let p = r.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "proc/mounts",
        b"proc /proc proc rw 0 0\nsecurityfs /sys/kernel/security securityfs rw 0 0\n",
    );
    w("proc/sys/kernel/osrelease", b"6.1.0-fake\n");
    for (k, v) in [("enabled", "Y"), ("mode", "enforce"), ("audit", "normal")] {
        w(
            &format!("sys/module/apparmor/parameters/{k}"),
            format!("{v}\n").as_bytes(),
        );
    }
    w(
        &format!("{SFS}/profiles"),
        b"/usr/bin/a (enforce)\n/usr/bin/b (complain)\nc (kill)\n",
    );
    w(&format!("{SFS}/revision"), b"3\n");
    w(
        &format!("{SFS}/policy/profiles/usr.bin.a.1/name"),
        b"/usr/bin/a\n",
    );
    w(
        &format!("{SFS}/policy/profiles/usr.bin.a.1/mode"),
        b"enforce\n",
    );
    w(&format!("{SFS}/features/domain/stack"), b"yes\n");
    w(&format!("{SFS}/features/domain/version"), b"1.2\n");
    for (pid, label, exe) in [
        (10, "/usr/bin/a (enforce)\n", "/usr/bin/a"),
        (11, "unconfined\n", "/bin/sh"),
    ] {
        w(&format!("proc/{pid}/attr/current"), label.as_bytes());
        w(&format!("proc/{pid}/comm"), b"x\n");
        std::os::unix::fs::symlink(exe, r.join(format!("proc/{pid}/exe"))).unwrap();
    }
    d
}

/// Runs `f` on a thread and fails the test when it takes longer than 20 s (a hang).
pub fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what}: no answer within 20 s (hang)"))
}

/// `aactl ARGS --root ROOT` in process: (stdout, stderr, exit code).
pub fn aactl(root: &Path, args: &[&str]) -> (String, String, u8) {
    let mut argv: Vec<OsString> = vec!["aactl".into()];
    argv.extend(args.iter().map(OsString::from));
    argv.push("--root".into());
    argv.push(root.into());
    let what = format!("aactl {args:?}");
    bounded(&what, move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = apparmor::cli::aactl::run(argv, &mut Io::new(&mut out, &mut err));
        (
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
            code,
        )
    })
}

/// `aa-status ARGS` on `root` in process: (stdout, stderr, exit code).
pub fn aa_status(root: &Path, args: &[&str]) -> (String, String, u8) {
    let sys = System::with_root(root);
    let mut argv: Vec<OsString> = vec!["aa-status".into()];
    argv.extend(args.iter().map(OsString::from));
    let what = format!("aa-status {args:?}");
    bounded(&what, move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code =
            apparmor::cli::aa_status::run_with(argv, &sys, &mut Io::new(&mut out, &mut err)).code();
        (
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
            code,
        )
    })
}

fn mkfifo(p: &Path) {
    let _ = std::fs::remove_file(p);
    let st = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(st.success());
}

fn all_views(root: &Path) -> Vec<(String, (String, String, u8))> {
    let mut v = Vec::new();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["ps"],
        &["ps", "--json"],
    ] {
        v.push((format!("aactl {args:?}"), aactl(root, args)));
    }
    for args in [&[][..], &["--json"], &["--verbose"]] {
        v.push((format!("aa-status {args:?}"), aa_status(root, args)));
    }
    v
}

#[test]
fn profiles_fifo_does_not_hang() {
    let d = fake_root();
    let p = d.path().join(SFS).join("profiles");
    mkfifo(&p);
    for (what, (_, err, code)) in all_views(d.path()) {
        if what.starts_with("aactl [\"ps\"") {
            assert_eq!(code, 0, "{what}: {err}");
            assert!(err.contains("not a regular file"), "{what}: {err}");
        } else if what.starts_with("aactl") {
            assert_eq!(code, 2, "{what}: {err}");
            assert!(err.contains(&p.display().to_string()), "{what}: {err}");
            assert!(err.contains("not a regular file"), "{what}: {err}");
        } else {
            assert_eq!(code, 4, "{what}: {err}");
            assert!(err.contains("Could not open"), "{what}: {err}");
        }
    }
}

#[test]
fn profiles_device_is_refused() {
    let d = fake_root();
    let p = d.path().join(SFS).join("profiles");
    std::fs::remove_file(&p).unwrap();
    // Under a root, /dev/zero is the root's own (absent here): the link cannot reach the
    // host's device.
    std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
    let (_, err, code) = aactl(d.path(), &["status"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
    let (_, err, code) = aa_status(d.path(), &[]);
    assert_eq!(code, 4, "{err}");
}

#[test]
fn fifos_elsewhere_do_not_hang() {
    let d = fake_root();
    let r = d.path();
    mkfifo(&r.join("proc/10/attr/current"));
    mkfifo(&r.join("proc/10/comm"));
    mkfifo(&r.join("sys/module/apparmor/parameters/audit"));
    mkfifo(&r.join(SFS).join("revision"));
    mkfifo(&r.join(SFS).join("features/domain/version"));
    mkfifo(&r.join(SFS).join("policy/profiles/usr.bin.a.1/mode"));
    for (what, (out, err, code)) in all_views(r) {
        assert_eq!(code, 0, "{what}: {err}");
        assert!(!out.is_empty(), "{what}");
    }
    // The process with a FIFO attribute is unreadable, not "unconfined".
    let (out, _, _) = aactl(r, &["ps", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let p10 = v["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == 10)
        .expect("pid 10 listed");
    assert!(p10["label"].is_null(), "{p10}");
    // /proc/mounts as a FIFO: no securityfs found, no hang.
    mkfifo(&r.join("proc/mounts"));
    let (_, _, code) = aactl(r, &["status"]);
    assert_eq!(code, 2);
    let (_, _, code) = aa_status(r, &[]);
    assert_eq!(code, 3);
}

#[test]
fn symlink_loops_in_features_and_policy_are_not_followed() {
    let d = fake_root();
    let s = d.path().join(SFS);
    let sym = |target: &str, link: PathBuf| std::os::unix::fs::symlink(target, link).unwrap();
    // Each `..` link doubled the walk: 2^40 directories before ELOOP stopped it.
    for i in 0..3 {
        sym("..", s.join(format!("features/loop{i}")));
        sym(".", s.join(format!("features/domain/self{i}")));
        sym("..", s.join(format!("policy/profiles/usr.bin.a.1/loop{i}")));
        sym("../..", s.join(format!("policy/profiles/loop{i}.9")));
    }
    std::fs::create_dir_all(s.join("policy/namespaces")).unwrap();
    sym("..", s.join("policy/namespaces/ns"));
    // Deep nesting is read (up to a bound) without overflowing the stack.
    let mut deep = s.join("features/deep");
    for _ in 0..300 {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("leaf"), "v\n").unwrap();

    for (what, (out, err, code)) in all_views(d.path()) {
        assert_eq!(code, 0, "{what}: {err}");
        assert!(!out.is_empty(), "{what}");
    }
    let sys = System::with_root(d.path());
    let f = bounded("features", move || sys.features().unwrap());
    assert_eq!(f.value("domain/version"), Some("1.2"));
    assert!(!f.supports("loop0"));
    assert!(f.supports("deep/d/d/d"));
    let sys = System::with_root(d.path());
    let p = bounded("policy", move || sys.policy().unwrap());
    assert_eq!(p.profiles.len(), 1, "{p:?}");
    assert!(p.namespaces.is_empty());
}

#[test]
fn aactl_reports_a_profiles_directory_instead_of_an_empty_policy() {
    let d = fake_root();
    let p = d.path().join(SFS).join("profiles");
    std::fs::remove_file(&p).unwrap();
    std::fs::create_dir(&p).unwrap();
    let want = format!("cannot read {}: Is a directory", p.display());
    for args in [&["status"][..], &["status", "--json"]] {
        let (out, err, code) = aactl(d.path(), args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(&want), "{args:?}: {err}");
    }
    // ps still lists processes; the warning is strerror text, no "(os error N)".
    std::fs::remove_dir(&p).unwrap();
    let (out, err, code) = aactl(d.path(), &["ps"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/usr/bin/a"), "{out}");
    assert!(err.contains("No such file or directory;"), "{err}");
    assert!(!err.contains("os error"), "{err}");
    // aa-status keeps upstream's behaviour (tests/compliance.rs case 08).
}

#[test]
fn bracket_equivalence_and_collating_classes_are_the_character() {
    use apparmor::inspect::aa_status::filter::Filter;
    // `[[=a=]]` was translated to `[\a]` (BEL), `[[.n.]]` to `[\n]` (newline).
    let f = Filter::new("[[=a=]]").unwrap();
    assert!(f.is_match("a") && !f.is_match("\x07"));
    let f = Filter::new("x[[.n.]]").unwrap();
    assert!(f.is_match("xn") && !f.is_match("x\n"));
    let f = Filter::new("[[.-.]]").unwrap();
    assert!(f.is_match("-") && !f.is_match("a"));
    // Unknown class names do not compile (regcomp: REG_ECTYPE); they used to match `f`/`o`.
    assert!(Filter::new("[[:foo:]]").is_err());
    assert!(Filter::new("[[:alpha:]]").unwrap().is_match("q"));
    let d = fake_root();
    let (out, err, code) = aa_status(d.path(), &["--filter.profiles=[[:foo:]]"]);
    assert_eq!(code, 42, "{out}{err}");
    assert!(err.contains("failed to compile profiles filter"), "{err}");
    let (out, _, code) = aa_status(d.path(), &["--filter.profiles=^[[=c=]]$"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("1 profiles are in kill mode.\n   c\n"),
        "{out}"
    );
}

#[test]
fn hostile_filters_terminate() {
    let d = fake_root();
    let nested = r"\(x*\)*".repeat(2000);
    let intervals = r"x\{1000\}".repeat(50);
    let long = "y".repeat(100_000);
    for f in [
        nested.as_str(),
        intervals.as_str(),
        long.as_str(),
        r"\(a*\)*b",
        "*",
        "^*",
    ] {
        let arg = format!("--filter.profiles={f}");
        let (_, err, code) = aa_status(d.path(), &[&arg]);
        assert!(code == 0 || code == 42, "{code} {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A standard output that fails every write and flush with EPIPE (`pipe`) or ENOSPC.
struct Failing {
    pipe: bool,
}

impl Failing {
    fn error(&self) -> std::io::Error {
        std::io::Error::from_raw_os_error(if self.pipe { 32 } else { 28 })
    }
}

impl std::io::Write for Failing {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(self.error())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Err(self.error())
    }
}

fn aactl_into(root: &Path, args: &[&str], pipe: bool) -> (String, u8) {
    let mut argv: Vec<OsString> = vec!["aactl".into()];
    argv.extend(args.iter().map(OsString::from));
    argv.push("--root".into());
    argv.push(root.into());
    let mut out = Failing { pipe };
    let mut err = Vec::new();
    let code = apparmor::cli::aactl::run(argv, &mut Io::new(&mut out, &mut err));
    (String::from_utf8_lossy(&err).into_owned(), code)
}

#[test]
fn aactl_output_to_a_closed_pipe_is_quiet_and_a_full_disk_is_reported() {
    let d = fake_root();
    let snap = d.path().join("snap");
    let snap = snap.to_str().unwrap();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["ps"],
        &["ps", "--json"],
    ] {
        // Was: "aactl: Broken pipe (os error 32)" and exit 2 for `aactl ps | head -1`.
        let (err, code) = aactl_into(d.path(), args, true);
        assert_eq!((code, err.as_str()), (0, ""), "{args:?}");
        let (err, code) = aactl_into(d.path(), args, false);
        assert_eq!(code, 2, "{args:?}");
        assert_eq!(
            err, "aactl: cannot write to standard output: No space left on device\n",
            "{args:?}"
        );
    }
    // The snapshot's closing line was written with its error ignored.
    let (err, code) = aactl_into(d.path(), &["snapshot", snap], false);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot write to standard output"), "{err}");
}

#[test]
fn snapshot_errors_say_write_and_name_the_path() {
    let d = fake_root();
    // A destination below a regular file cannot be created.
    let dest = d.path().join("proc/mounts/snap");
    let (_, err, code) = aactl(d.path(), &["snapshot", dest.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        format!("aactl: cannot write {}: Not a directory\n", dest.display())
    );
    // A hostile source (FIFO profiles) is refused by name, without hanging.
    let p = d.path().join(SFS).join("profiles");
    mkfifo(&p);
    let dest = tempfile::tempdir().unwrap();
    let dest = dest.path().join("s");
    let (_, err, code) = aactl(d.path(), &["snapshot", dest.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("cannot read {}", p.display())),
        "{err}"
    );
}

#[test]
fn a_mount_point_with_dotdot_stays_inside_the_root() {
    let outer = tempfile::tempdir().unwrap();
    // A decoy apparmor directory outside the root, next to it.
    let d = outer.path().join("root");
    std::fs::create_dir(&d).unwrap();
    let src = fake_root();
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", src.path().display()))
        .arg(&d)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::create_dir_all(outer.path().join("decoy/apparmor")).unwrap();
    std::fs::write(
        outer.path().join("decoy/apparmor/profiles"),
        "/outside (enforce)\n",
    )
    .unwrap();
    std::fs::write(
        d.join("proc/mounts"),
        "securityfs /../decoy securityfs rw 0 0\nsecurityfs /sys/kernel/../kernel/security securityfs rw 0 0\n",
    )
    .unwrap();
    let sys = System::with_root(&d);
    assert_eq!(sys.path("/../decoy"), d.join("decoy"));
    assert_eq!(sys.path("/a/./b/../c"), d.join("a/c"));
    assert_eq!(sys.securityfs().unwrap(), d.join(SFS));
    let (out, err, code) = aa_status(&d, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("/outside"), "{out}");
    assert!(out.contains("3 profiles are loaded."), "{out}");
}

#[test]
fn unreadable_features_are_explained_with_the_path() {
    let d = fake_root();
    let f = d.path().join(SFS).join("features");
    std::fs::remove_dir_all(&f).unwrap();
    mkfifo(&f);
    let want = format!(
        "aactl: warning: cannot read {}: not a regular file (a FIFO)\n",
        f.display()
    );
    let (out, err, code) = aactl(d.path(), &["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Features: unreadable."), "{out}");
    assert_eq!(err, want);
    let (out, err, code) = aactl(d.path(), &["status", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, want);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["features"].is_null());
    assert!(v.get("features_error").is_none());
    // No features/ at all (a minimal snapshot): no warning.
    std::fs::remove_file(&f).unwrap();
    let (out, err, code) = aactl(d.path(), &["status"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(out.contains("Features: unreadable."), "{out}");
}

mod label_fuzz {
    use apparmor::label::{Label, Mode, split_con};
    use proptest::prelude::*;

    /// Strings made of the label syntax's own pieces, so that odd combinations are frequent.
    fn labelish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just(":".to_owned()),
            Just("//".to_owned()),
            Just("//&".to_owned()),
            Just("&".to_owned()),
            Just(" (".to_owned()),
            Just(")".to_owned()),
            Just("(".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\u{0}".to_owned()),
            Just("unconfined".to_owned()),
            Just("enforce".to_owned()),
            Just("user".to_owned()),
            Just("é".to_owned()),
            "[a-z/]{0,3}",
        ];
        prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn label_parsing_never_panics(s in labelish()) {
            let _ = split_con(&s);
            if let Ok(l) = Label::split_con(&s) {
                for c in l.components() {
                    let _ = (c.base(), c.is_hat(), c.is_unconfined(), c.namespace_path());
                    let _ = c.path().count();
                }
                let _ = (l.is_stack(), l.is_unconfined());
            }
            if let Ok(l) = Label::parse(&s) {
                let _ = l.components();
            }
            let l = Label::new(s.clone(), Some(Mode::from_word(&s)));
            let _ = (l.components(), l.is_stack());
            // Every line is either a profile or a malformed line: nothing is dropped.
            let list = apparmor::system::ProfilesList::parse("p".into(), &s);
            prop_assert_eq!(list.lines.len(), s.split_inclusive('\n').count());
        }
    }
}
