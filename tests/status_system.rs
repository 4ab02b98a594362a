//! `System` on the committed fixture (testdata/status/basic/root), `aactl snapshot` round
//! trips, and bad input: nothing crashes, nothing valid is dropped.

use crate::common;
use crate::status_fake::run_in_process;
use apparmor::inspect::aa_status as status;
use apparmor::label::Mode;
use apparmor::system::{Enabled, FeatureNode, ProcessScan, System};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

fn basic() -> PathBuf {
    common::repo().join("testdata/status/basic/root")
}

fn no_canon() -> ProcessScan {
    ProcessScan {
        canonicalize_exe: false,
        ..ProcessScan::default()
    }
}

#[test]
fn system_reads_the_fixture() {
    let sys = System::with_root(basic());
    assert!(sys.module_present());
    assert_eq!(
        sys.securityfs().unwrap(),
        basic().join("sys/kernel/security/apparmor")
    );
    assert_eq!(sys.enabled(), Enabled::Yes);
    let params = sys.parameters().unwrap();
    assert_eq!(params.enabled, Some(true));
    assert_eq!(params.mode, Some(Mode::Enforce));
    assert_eq!(params.path_max, Some(2048));
    assert_eq!(sys.revision().unwrap(), 12);

    let list = sys.profiles().unwrap();
    let names: Vec<(&str, Mode)> = list.profiles().map(|(n, m)| (n, m.clone())).collect();
    assert_eq!(names.len(), 7);
    assert!(names.contains(&("snap.prompt.app", Mode::Prompt)));
    assert!(names.contains(&(":lxd:/usr/bin/man", Mode::Enforce)));

    let policy = sys.policy().unwrap();
    let all = policy.walk();
    assert_eq!(all.len(), 7);
    let hat = all
        .iter()
        .find(|(_, p)| p.name == "/usr/sbin/cupsd//third_party")
        .unwrap();
    assert_eq!(hat.1.mode, Some(Mode::Enforce));
    let man = all.iter().find(|(ns, _)| ns == "lxd").unwrap();
    assert_eq!(man.1.name, "/usr/bin/man");
    let ids = sys.identities(["snap.prompt.app", "/usr/bin/evince", ":lxd:/usr/bin/man"]);
    assert_eq!(
        ids.get("snap.prompt.app").map(String::as_str),
        Some("uid:1000")
    );
    assert_eq!(ids.len(), 1);

    let f = sys.features().unwrap();
    assert_eq!(
        f.to_feature_string(),
        "domain {stack {yes\n}\nversion {1.2\n}\n}\nfile {mask {create read write exec\n}\n}\n"
    );
    assert!(matches!(f.get("domain"), Some(FeatureNode::Dir(_))));

    let procs = sys.processes(&no_canon()).unwrap();
    let pids: Vec<u32> = procs.iter().map(|p| p.pid).collect();
    assert!(pids.contains(&1) && pids.contains(&901) && pids.contains(&2));
    let p300 = procs.iter().find(|p| p.pid == 300).unwrap();
    assert_eq!(p300.exe.as_deref(), Some("/usr/bin/q\"x"));
    assert_eq!(p300.comm.as_deref(), Some("q\"x"));
    assert_eq!(
        p300.label().unwrap().unwrap().name(),
        "name with \"quotes\""
    );
    let k = procs.iter().find(|p| p.pid == 2).unwrap();
    assert_eq!(k.exe, None, "kernel thread has no exe");
}

#[test]
fn aa_status_on_the_fixture() {
    let sys = System::with_root(basic());
    let (out, err, code) = run_in_process(&sys, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "apparmor module is loaded.
7 profiles are loaded.
3 profiles are in enforce mode.
   /usr/sbin/cupsd
   /usr/sbin/cupsd//third_party
   :lxd:/usr/bin/man
1 profiles are in complain mode.
   /usr/bin/evince
1 profiles are in prompt mode.
   snap.prompt.app (uid:1000)
1 profiles are in kill mode.
   name with \"quotes\"
1 profiles are in unconfined mode.
   /usr/bin/bash
9 processes have profiles defined.
3 processes are in enforce mode.
   /usr/sbin/cupsd (100) 
   /usr/lib/cups/backend/foo (101) /usr/sbin/cupsd//third_party
   /usr/bin/man (800) :lxd:/usr/bin/man
1 processes are in complain mode.
   /usr/bin/evince (200) 
1 processes are in prompt mode.
   /usr/bin/prompt-app (700) snap.prompt.app
1 processes are in kill mode.
   /usr/bin/q\"x (300) name with \"quotes\"
2 processes are unconfined but have a profile defined.
   /usr/bin/bash (500) 
   /usr/bin/bash (901) 
1 processes are in mixed mode.
   /usr/bin/mixed (600) /usr/sbin/cupsd//&snap.prompt.app
"
    );
    let (out, _, code) = run_in_process(&sys, &["--count", "--filter.mode=^\\(enforce\\|kill\\)$"]);
    assert_eq!(
        (out.as_str(), code),
        ("apparmor module is loaded.\n4\n4\n", 0)
    );
    let (out, _, _) = run_in_process(&sys, &["--json", "--show=processes", "--filter.exe=bash"]);
    assert_eq!(
        out,
        "{\"version\": \"2\", \"processes\": {\"/usr/bin/bash\": [{\"profile\": \"/usr/bin/bash\", \"pid\": \"500\", \"status\": \"unconfined\"}, {\"profile\": \"/usr/bin/bash\", \"pid\": \"901\", \"status\": \"unconfined\"}]}}\n"
    );
}

#[test]
fn threaded_scan_gives_the_same_processes_in_the_same_order() {
    let sys = System::with_root(basic());
    let one = sys.processes(&no_canon()).unwrap();
    for threads in [0, 2, 3] {
        let many = sys
            .processes(&ProcessScan {
                threads,
                ..no_canon()
            })
            .unwrap();
        assert_eq!(one, many, "threads = {threads}");
    }
}

#[test]
fn snapshot_round_trip() {
    let src = System::with_root(basic());
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("snap");
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = {
        let mut io = apparmor::cli::Io::new(&mut out, &mut err);
        apparmor::cli::aactl::run(
            vec![
                "aactl".into(),
                "--root".into(),
                basic().into_os_string(),
                "snapshot".into(),
                dest.clone().into_os_string(),
            ],
            &mut io,
        )
    };
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    assert!(String::from_utf8_lossy(&out).contains("7 profiles, 12 processes"));
    let snap = System::with_root(&dest);
    assert_eq!(
        src.profiles().unwrap().lines,
        snap.profiles().unwrap().lines
    );
    assert_eq!(src.policy().unwrap(), snap.policy().unwrap());
    assert_eq!(src.features().unwrap(), snap.features().unwrap());
    assert_eq!(src.revision().unwrap(), snap.revision().unwrap());
    assert_eq!(src.parameters().unwrap(), snap.parameters().unwrap());
    let sorted = |s: &System| {
        let mut v = s.processes(&no_canon()).unwrap();
        v.sort_by_key(|p| p.pid);
        v
    };
    assert_eq!(sorted(&src), sorted(&snap));
    let (a, b) = (
        status::collect(&src).unwrap(),
        status::collect(&snap).unwrap(),
    );
    assert_eq!(a.loaded.profiles, b.loaded.profiles);
    let key = |s: &status::Status| {
        let mut v = s.processes.clone();
        v.sort_by_key(|p| p.pid);
        v
    };
    assert_eq!(key(&a), key(&b));
    // aa-status prints the same report on both.
    assert_eq!(run_in_process(&src, &[]), run_in_process(&snap, &[]));
    // A second snapshot into the same folder is refused.
    let mut io_out = Vec::new();
    let mut io_err = Vec::new();
    let mut io = apparmor::cli::Io::new(&mut io_out, &mut io_err);
    let code = apparmor::cli::aactl::run(
        vec![
            "aactl".into(),
            "--root".into(),
            basic().into_os_string(),
            "snapshot".into(),
            dest.into_os_string(),
        ],
        &mut io,
    );
    assert_eq!(code, 2);
    assert!(String::from_utf8_lossy(&io_err).contains("not empty"));
}

/// Copies the fixture into a temporary folder to break it.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(basic())
        .arg(&root)
        .status()
        .unwrap();
    assert!(st.success());
    (tmp, root)
}

fn sfs(root: &Path) -> PathBuf {
    root.join("sys/kernel/security/apparmor")
}

#[test]
fn bad_input_exit_codes() {
    let (_t, root) = scratch();
    let sys = System::with_root(&root);
    // profiles missing: upstream's message without newline, exit 4.
    std::fs::rename(sfs(&root).join("profiles"), root.join("profiles.bak")).unwrap();
    let (out, err, code) = run_in_process(&sys, &[]);
    assert_eq!(code, 4);
    assert_eq!(out, "apparmor module is loaded.\n");
    assert_eq!(
        err,
        format!(
            "Could not open {}: No such file or directory",
            sfs(&root).join("profiles").display()
        )
    );
    // profiles is a directory: read error = no policy (exit 2), JSON empty (exit 0).
    std::fs::create_dir(sfs(&root).join("profiles")).unwrap();
    let (_, err, code) = run_in_process(&sys, &["--profiled"]);
    assert_eq!(
        (err.as_str(), code),
        ("No policy loaded into the kernel\n", 2)
    );
    // (confined processes are still listed, as upstream 6.0 does)
    let (out, _, code) = run_in_process(&sys, &["--json", "--show=profiles"]);
    assert_eq!(code, 0);
    assert_eq!(out, "{\"version\": \"2\", \"profiles\": {}}\n");
    let (out, _, _) = run_in_process(&sys, &["--json"]);
    assert!(
        out.contains("\"processes\": {\"/usr/bin/man\": [{"),
        "{out}"
    );
    std::fs::remove_dir(sfs(&root).join("profiles")).unwrap();
    std::fs::rename(root.join("profiles.bak"), sfs(&root).join("profiles")).unwrap();
    // No securityfs line: exit 3.
    std::fs::write(root.join("proc/mounts"), "proc /proc proc rw 0 0\n").unwrap();
    let (_, err, code) = run_in_process(&sys, &["--json"]);
    assert_eq!(
        (err.as_str(), code),
        ("apparmor filesystem is not mounted.\n", 3)
    );
    let (_, _, code) = run_in_process(&sys, &["--enabled"]);
    assert_eq!(code, 1);
    // No module: exit 1.
    std::fs::remove_dir_all(root.join("sys/module/apparmor")).unwrap();
    let (_, err, code) = run_in_process(&sys, &["--quiet"]);
    assert_eq!((err.as_str(), code), ("", 1));
    let (_, err, code) = run_in_process(&sys, &[]);
    assert_eq!((err.as_str(), code), ("apparmor not present.\n", 1));
    // A filter that does not compile: exit 42.
    let (_, err, code) = run_in_process(&sys, &["--filter.pid=\\("]);
    assert_eq!(
        (err.as_str(), code),
        ("Error: failed to compile ps filter '\\('\n", 42)
    );
}

#[test]
fn bad_names_and_odd_processes() {
    let (_t, root) = scratch();
    let sys = System::with_root(&root);
    let mut profiles = std::fs::read(sfs(&root).join("profiles")).unwrap();
    profiles.extend_from_slice(b"bad\xffutf8 (enforce)\nunconfined\nno mode here\n\x1b[2Jclear (complain)\nlast-no-newline (enforce)");
    std::fs::write(sfs(&root).join("profiles"), profiles).unwrap();
    // exe targets: invalid UTF-8, a newline, a dangling relative text; attr unreadable (dir),
    // attr holding another LSM's context; a vanished process (attr is a dangling symlink).
    let mk = |pid: &str, attr: Option<&[u8]>, exe: Option<&[u8]>| {
        let d = root.join("proc").join(pid);
        std::fs::create_dir_all(d.join("attr")).unwrap();
        if let Some(a) = attr {
            std::fs::write(d.join("attr/current"), a).unwrap();
        }
        if let Some(e) = exe {
            std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(e), d.join("exe")).unwrap();
        }
    };
    mk(
        "1000",
        Some(b"/usr/bin/evince (complain)\n"),
        Some(b"/usr/bin/x\xfey"),
    );
    mk(
        "1001",
        Some(b"/usr/bin/evince (complain)\n"),
        Some(b"/usr/bin/new\nline"),
    );
    mk(
        "1002",
        Some(b"system_u:system_r:foo_t:s0\n"),
        Some(b"/usr/bin/selinux"),
    );
    mk("1003", None, Some(b"/usr/bin/vanished"));
    std::os::unix::fs::symlink("/nonexistent/attr", root.join("proc/1003/attr/current")).unwrap();
    mk("1004", None, Some(b"/usr/bin/attrdir"));
    std::fs::create_dir(root.join("proc/1004/attr/current")).unwrap();
    mk(
        "1005",
        Some(b"/usr/bin/evince (complain)\n"),
        Some(b"relative/path"),
    );
    mk("1006", Some(b"weird (newmode)\n"), Some(b"/usr/bin/weird"));

    let (out, err, code) = run_in_process(&sys, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        err,
        "Error: failed profile name split of 'unconfined\n'.\nError: failed profile name split of 'no mode here\n'.\n"
    );
    assert!(out.contains("10 profiles are loaded.\n"));
    assert!(out.contains("   bad\u{fffd}utf8\n"));
    assert!(out.contains("   \\x1b[2Jclear\n"));
    assert!(out.contains("   last-no-newline\n"));
    assert!(out.contains("   /usr/bin/x\u{fffd}y (1000) /usr/bin/evince\n"));
    assert!(out.contains("   /usr/bin/new\\nline (1001) /usr/bin/evince\n"));
    assert!(out.contains("   relative/path (1005) /usr/bin/evince\n"));
    for hidden in ["selinux", "vanished", "attrdir", "weird"] {
        assert!(!out.contains(hidden), "{hidden} listed:\n{out}");
    }
    // An unknown mode is counted in the total, never dropped from the data.
    assert!(out.contains("13 processes have profiles defined.\n"));
    let all = status::collect(&sys).unwrap();
    assert!(
        all.processes
            .iter()
            .any(|p| p.mode == Mode::Unknown("newmode".into()))
    );
    // JSON stays valid.
    let (json, _, _) = run_in_process(&sys, &["--pretty-json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["profiles"].get("\u{1b}[2Jclear").is_some());
    assert!(v["processes"].get("/usr/bin/new\nline").is_some());
}

#[test]
fn host_scan_survives_processes_exiting() {
    // Processes start and exit while /proc is scanned: never an error.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let churn = std::thread::spawn(move || {
        let mut n = 0;
        while !s2.load(std::sync::atomic::Ordering::Relaxed) && n < 400 {
            let _ = std::process::Command::new("true").status();
            n += 1;
        }
    });
    let sys = System::host();
    for _ in 0..20 {
        let procs = sys.processes(&ProcessScan::default()).unwrap();
        assert!(!procs.is_empty());
        let _ = status::confined_processes(&sys, &[]).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();
}
