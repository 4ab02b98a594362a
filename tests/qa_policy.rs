//! QA of `aactl check`, the mode commands and the loader against hostile and
//! odd input: special files, control characters, odd names. Each case must
//! end (no hang), give a diagnostic and the documented exit code.

use apparmor::cli::{Io, aactl};
use apparmor::loader::{Action, ParserCommand};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Runs `aactl ARGS` in-process on a thread; panics if it takes over 60 s.
fn run(args: &[&str]) -> (u8, String, String) {
    let argv: Vec<std::ffi::OsString> = std::iter::once("aactl")
        .chain(args.iter().copied())
        .map(std::ffi::OsString::from)
        .collect();
    run_os(argv)
}

fn run_os(argv: Vec<std::ffi::OsString>) -> (u8, String, String) {
    let what = format!("{argv:?}");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = {
            let mut io = Io::new(&mut out, &mut err);
            aactl::run(argv, &mut io)
        };
        let _ = tx.send((
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        ));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what}: hung or panicked"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn mkfifo(p: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("mkfifo");
    assert!(st.success());
}

#[test]
fn special_files_do_not_hang() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().display().to_string();
    let fifo = d.path().join("fifo");
    mkfifo(&fifo);
    let fifo_s = fifo.display().to_string();
    // a FIFO given directly: an I/O error (exit 2) naming the file, no hang
    let (c, _, err) = run(&["check", "--base", &base, "--", &fifo_s]);
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("not a regular file (a FIFO)"), "{err}");
    // included FIFO and /dev/zero: a diagnostic at the include's file:line:column
    let inc = write(
        d.path(),
        "inc",
        &format!("include \"{fifo_s}\"\nprofile a {{}}\n"),
    );
    let (c, out, _) = run(&["check", "--base", &base, "--syntax-only", &inc]);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("a FIFO"), "{out}");
    assert!(out.contains("inc:1:1"), "{out}");
    let zero = write(
        d.path(),
        "zero",
        "\n  include \"/dev/zero\"\nprofile a {}\n",
    );
    // outside the policy tree: not read at all (R0010)
    let (c, out, _) = run(&["check", "--base", &base, "--syntax-only", &zero]);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("R0010"), "{out}");
    assert!(out.contains("zero:2:3"), "{out}");
    // allowed with -I, then refused as a device
    let (c, out, _) = run(&[
        "check",
        "--base",
        &base,
        "-I",
        "/dev",
        "--syntax-only",
        &zero,
    ]);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("a character device"), "{out}");
    assert!(out.contains("zero:2:3"), "{out}");
    // JSON stays valid and carries the location
    let (c, out, _) = run(&["check", "--base", &base, "--format", "json", &zero]);
    assert_eq!(c, 1);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    let diag = &v["files"][0]["diagnostics"][0];
    assert_eq!(diag["line"], 2);
    assert_eq!(diag["column"], 3);
    // a FIFO inside a directory given as PATH is skipped, as apparmor_parser does
    let dir = d.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    mkfifo(&dir.join("p"));
    write(&dir, "ok", "profile ok {}\n");
    let (c, out, err) = run(&["check", "--base", &base, &dir.display().to_string()]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(out.contains("1 file(s) checked"), "{out}");
}

#[test]
fn proc_files_are_read_bounded() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().display().to_string();
    let p = write(
        d.path(),
        "p",
        "include \"/proc/self/status\"\nprofile a {}\n",
    );
    let (c, out, _) = run(&["check", "--base", &base, "--syntax-only", &p]);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("R0010"), "{out}");
    assert!(!out.contains("VmPeak"), "{out}");
    let (c, out, _) = run(&["check", "--base", &base, "-I", "/proc", "--syntax-only", &p]);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("/status:1:"), "{out}");
}

#[test]
fn control_characters_are_escaped_in_text_output() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().display().to_string();
    // a file name with ESC and a newline, text with ESC, BEL and a C1 CSI
    let name = d.path().join("e\u{1b}[31mx\nz");
    std::fs::write(
        &name,
        "profile a {\n /x \u{9b}31m\u{1b}[2J\u{7},\n}\nprofile b {\n /x r\n}\n",
    )
    .unwrap();
    let argv = ["aactl", "check", "--base", &base, "--syntax-only", "--"]
        .iter()
        .map(std::ffi::OsString::from)
        .chain(std::iter::once(name.clone().into_os_string()))
        .collect();
    let (c, out, err) = run_os(argv);
    assert_eq!(c, 1, "{out}{err}");
    for bad in ['\u{1b}', '\u{9b}', '\u{7}'] {
        assert!(!out.contains(bad), "raw {bad:?} in output:\n{out}");
    }
    assert!(out.contains("e\\x1b[31mx\\nz:2:5"), "{out}");
    assert!(out.contains("e\\x1b[31mx\\nz:6:1"), "{out}");
    // the caret still stands under the offending token
    let lines: Vec<&str> = out.lines().collect();
    let i = lines.iter().position(|l| l.starts_with("2 |")).unwrap();
    let col = |l: &str, pat: char| l.char_indices().position(|(_, c)| c == pat).unwrap();
    assert_eq!(col(lines[i], '\u{fffd}'), col(lines[i + 1], '^'), "{out}");
}

/// `@{Vn}` defined from two copies of `@{Vn-1}`: 2^n text or lookups.
fn exponential_vars(n: usize, braces: bool) -> String {
    let mut s = String::from("@{V0}=x y\n");
    for i in 1..n {
        if braces {
            s += &format!("@{{V{i}}}={{@{{V{0}}},@{{V{0}}}}}\n", i - 1);
        } else {
            s += &format!("@{{V{i}}}=@{{V{0}}} @{{V{0}}}\n", i - 1);
        }
    }
    s + &format!("profile a {{\n  /@{{V{}}} r,\n}}\n", n - 1)
}

#[test]
fn exponential_variables_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().display().to_string();
    for braces in [true, false] {
        let p = write(d.path(), "exp", &exponential_vars(30, braces));
        let t = std::time::Instant::now();
        let (c, out, _) = run(&["check", "--base", &base, "--syntax-only", &p]);
        assert_eq!(c, 1, "{out}");
        assert!(out.contains("Variable expansion too large"), "{out}");
        assert!(out.contains("exp:32:3"), "{out}");
        // bounded: a budget, not 2^30 steps (generous for debug builds)
        assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    }
    // a short chain still expands
    let p = write(d.path(), "ok", &exponential_vars(6, false));
    let (c, out, _) = run(&["check", "--base", &base, "--syntax-only", &p]);
    assert_eq!(c, 0, "{out}");
}

#[test]
fn dry_run_commands_round_trip_through_a_shell() {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let d = tempfile::tempdir().unwrap();
    let names: [&[u8]; 4] = [
        b"-leading dash",
        b"new\nline\x1b[31m",
        b"bad\xffutf8 'q' \\n",
        b"c1\xc2\x9bcsi",
    ];
    for name in names {
        let p = d.path().join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(&p, "profile n {\n}\n").unwrap();
        let argv = ["aactl", "load", "-Q", "--dry-run", "--"]
            .iter()
            .map(std::ffi::OsString::from)
            .chain(std::iter::once(p.clone().into_os_string()))
            .collect();
        let (c, out, err) = run_os(argv);
        assert_eq!(c, 0, "{out}{err}");
        let line = out
            .lines()
            .find(|l| l.starts_with("$ "))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(
            !line.contains(['\n', '\u{1b}', '\u{9b}', '\u{fffd}']),
            "{line}"
        );
        // the last word, given to bash, must be exactly the file name
        let word = line.rsplit_once(" -- ").expect("-- before files").1;
        let got = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("printf %s {word}"))
            .output()
            .expect("bash");
        assert_eq!(
            got.stdout,
            p.clone().into_os_string().into_vec(),
            "{word} did not round-trip"
        );
    }
}

#[test]
fn symlink_loops_in_a_directory() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().display().to_string();
    let dir = d.path().join("sl");
    std::fs::create_dir(&dir).unwrap();
    write(&dir, "ok", "profile ok {}\n");
    // a link to an ancestor directory is a directory: skipped, as apparmor_parser does
    std::os::unix::fs::symlink("../sl", dir.join("up")).unwrap();
    let dir_s = dir.display().to_string();
    let (c, out, err) = run(&["check", "--base", &base, &dir_s]);
    assert_eq!(c, 0, "{out}{err}");
    // links that point at each other: apparmor_parser fails (exit 40); we give
    // an I/O error naming each one (exit 2) and still check the rest
    std::os::unix::fs::symlink("l2", dir.join("l1")).unwrap();
    std::os::unix::fs::symlink("l1", dir.join("l2")).unwrap();
    let (c, out, err) = run(&["check", "--base", &base, &dir_s]);
    assert_eq!(c, 2, "{out}{err}");
    assert!(
        err.contains("sl/l1: Too many levels of symbolic links"),
        "{err}"
    );
    assert!(err.contains("sl/l2: "), "{err}");
    assert!(out.contains("1 file(s) checked, 0 invalid"), "{out}");
}

#[test]
fn many_diagnostics_on_a_large_binary_file_render_quickly() {
    // 1 MiB of pseudo-random bytes without NUL (a NUL makes it a binary file,
    // refused in one line, checked below): thousands of diagnostics. Rendering
    // each one used to rescan the whole file (minutes); `run` fails after 60 s.
    let d = tempfile::tempdir().unwrap();
    let base = d.path().display().to_string();
    let mut x: u32 = 12345;
    let bytes: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((x >> 16) as u8).max(1)
        })
        .collect();
    let p = d.path().join("bin");
    std::fs::write(&p, &bytes).unwrap();
    let p = p.display().to_string();
    let nul = d.path().join("nul");
    std::fs::write(&nul, [&bytes[..100], b"\0", &bytes[100..]].concat()).unwrap();
    let (c, out, err) = run(&["check", "--base", &base, &nul.display().to_string()]);
    assert_eq!(c, 2, "{out}{err}");
    assert!(err.contains("not a text file"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let (c, out, _) = run(&["check", "--base", &base, "--syntax-only", &p]);
    assert_eq!(c, 1);
    let (cj, json, _) = run(&[
        "check",
        "--base",
        &base,
        "--syntax-only",
        "--format",
        "json",
        &p,
    ]);
    assert_eq!(cj, 1);
    // text and JSON name the same file and line for every diagnostic (JSON
    // columns count bytes, text columns characters: documented)
    let v: serde_json::Value = serde_json::from_str(json.trim()).expect("json");
    let diags = v["files"][0]["diagnostics"].as_array().unwrap();
    assert!(diags.len() > 100, "{}", diags.len());
    let locs: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> "))
        .collect();
    assert_eq!(locs.len(), diags.len());
    for (l, d) in locs.iter().zip(diags) {
        let want = format!("{p}:{}:", d["line"]);
        assert!(l.starts_with(&want), "{l} vs {want}");
    }
}

/// `aactl check --features` on Debian 12's kernel (network_v8, no af_unix, no
/// dbus): like apparmor_parser 3.0.8 -M on the same directory, only dbus rules
/// are reported not enforced (network_v8 provides network; the unix rule is
/// downgraded to a network rule). A copy without any network feature reports all three.
#[test]
fn check_features_network_v8_is_network() {
    let feats = crate::common::repo()
        .join("testdata/systems/debian12-vm/sys/kernel/security/apparmor/features");
    let dir = tempfile::tempdir().unwrap();
    let prof = write(
        dir.path(),
        "t",
        "profile t {\n  network inet stream,\n  unix (send) type=stream,\n  mount,\n  signal,\n  ptrace,\n  pivot_root,\n  dbus,\n}\n",
    );
    let f = feats.to_str().unwrap();
    let (code, out, err) = run(&["check", "--features", f, &prof]);
    assert_eq!(code, 0, "{out}{err}");
    let all = format!("{out}{err}");
    let warned: Vec<&str> = all.lines().filter(|l| l.contains("not enforced")).collect();
    assert_eq!(warned.len(), 1, "{all}");
    assert!(warned[0].contains("dbus rules not enforced"), "{all}");

    let no_net = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&feats).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "network_v8" {
            copy_tree(&e.path(), &no_net.path().join(e.file_name()));
        }
    }
    let (_, out, err) = run(&[
        "check",
        "--features",
        no_net.path().to_str().unwrap(),
        &prof,
    ]);
    let all = format!("{out}{err}");
    for w in [
        "network rules not enforced",
        "extended network unix socket rules not enforced",
        "dbus rules not enforced",
    ] {
        assert!(all.contains(w), "{w}: {all}");
    }
    assert!(!all.contains("mount rules"), "{all}");

    // The reference agrees (where installed).
    if let Some(p) = crate::loader::real_parser() {
        for (fd, want) in [(f, 1usize), (no_net.path().to_str().unwrap(), 3)] {
            let e = reference_warnings(&p, fd, &prof);
            assert_eq!(e.matches("not enforced").count(), want, "{fd}: {e}");
        }
    }
}

/// pivot_root rules follow the `mount` feature (as apparmor_parser 3.0.8 decides),
/// not `namespaces/pivot_root`.
#[test]
fn check_features_pivot_root_follows_mount() {
    let feats = crate::common::repo()
        .join("testdata/systems/debian12-vm/sys/kernel/security/apparmor/features");
    let dir = tempfile::tempdir().unwrap();
    let prof = write(dir.path(), "t", "profile t {\n  pivot_root,\n}\n");
    for (drop, warns) in [("mount", true), ("namespaces/pivot_root", false)] {
        let copy = tempfile::tempdir().unwrap();
        copy_tree(&feats, copy.path());
        let gone = copy.path().join(drop);
        if gone.is_dir() {
            std::fs::remove_dir_all(&gone).unwrap();
        } else {
            std::fs::remove_file(&gone).unwrap();
        }
        let fd = copy.path().to_str().unwrap();
        let (_, out, err) = run(&["check", "--features", fd, &prof]);
        let all = format!("{out}{err}");
        assert_eq!(all.contains("not enforced"), warns, "without {drop}: {all}");
        if let Some(p) = crate::loader::real_parser() {
            let e = reference_warnings(&p, fd, &prof);
            assert_eq!(
                e.contains("not enforce"),
                warns,
                "parser without {drop}: {e}"
            );
        }
    }
}

/// What Debian's apparmor_parser writes to stderr when it compiles `prof`
/// (no kernel load) for the features file or folder `features` with the
/// rule-not-enforced warning on. Run as the loader runs the parser
/// ([`ParserCommand::to_command`]: the C locale, so that its English wording
/// can be matched whatever the language).
fn reference_warnings(parser: &Path, features: &str, prof: &str) -> String {
    let cmd = ParserCommand {
        program: parser.to_path_buf(),
        action: Action::Replace,
        args: ["-Q", "-K", "--warn=rule-not-enforced", "-M", features, prof]
            .map(Into::into)
            .to_vec(),
        files: vec![prof.into()],
    };
    let o = cmd.to_command().output().unwrap();
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}
