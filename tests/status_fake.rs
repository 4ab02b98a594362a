//! Generated fake systems (scripts/fake-system): thousands of profiles and processes with
//! awkward names (spaces, quotes, backslashes, UTF-8, control characters, newlines, stacks,
//! namespaces, hats, prompt mode, odd processes).
//!
//! * As root: ours and Debian's `/usr/sbin/aa-status` 3.0.8 run in the same private mount
//!   namespace over the same tree and must agree on everything both print correctly (3.0.8
//!   has no prompt section, prints control characters raw and writes invalid JSON).
//! * Without root: the same kind of tree read in-process through `System::with_root`.

use crate::common;
use apparmor::cli::Io;
use apparmor::system::System;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    common::repo().join("scripts/fake-system")
}

/// Header line → multiset of entry lines, for the sections of a text report. Entries with
/// control characters (raw, as 3.0.8 prints them) or our escapes are dropped: they are not
/// printed correctly by both.
fn sections(report: &str) -> BTreeMap<String, BTreeMap<String, usize>> {
    let header = |l: &str| {
        l.chars().next().is_some_and(|c| c.is_ascii_digit())
            && (l.contains(" profiles ") || l.contains(" processes "))
            && l.ends_with('.')
    };
    let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in report.split('\n') {
        if header(line) {
            cur = Some(line.to_owned());
            out.entry(line.to_owned()).or_default();
            continue;
        }
        let Some(entry) = line.strip_prefix("   ") else {
            continue;
        };
        let escaped = ["\\x", "\\n", "\\t", "\\r", "\\u{"]
            .iter()
            .any(|e| entry.contains(e));
        if escaped || entry.chars().any(char::is_control) {
            continue;
        }
        let Some(h) = &cur else { continue };
        if is_process(h) && !looks_like_process(entry) {
            continue;
        }
        *out.get_mut(h).unwrap().entry(entry.to_owned()).or_default() += 1;
    }
    out
}

fn is_process(h: &str) -> bool {
    h.contains(" processes ")
}

/// `EXE (PID) [LABEL]`.
fn looks_like_process(entry: &str) -> bool {
    entry.match_indices(" (").any(|(i, _)| {
        entry[i + 2..]
            .split_once(") ")
            .is_some_and(|(p, _)| p.parse::<u32>().is_ok())
    })
}

fn read(dir: &Path, name: &str, ext: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(dir.join(format!("{name}.{ext}"))).unwrap_or_default())
        .into_owned()
}

#[test]
fn generated_system_agrees_with_debian_3_0_8() {
    let debian = Path::new("/usr/sbin/aa-status");
    if common::require(
        debian.exists().then_some(()),
        "Debian's /usr/sbin/aa-status",
    )
    .is_none()
    {
        return;
    }
    if common::require(
        crate::compliance::can_unshare().then_some(()),
        "root with unshare -m",
    )
    .is_none()
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let out = tmp.path().join("out");
    let ours = env!("CARGO_BIN_EXE_aa-status");
    let legacy = [
        "profiled",
        "enforced",
        "complaining",
        "kill",
        "special-unconfined",
        "process-mixed",
    ];
    let mut specs = vec![
        format!("deb-default={}", debian.display()),
        format!("ours-default={ours}"),
        format!("ours-json={ours},--json"),
        format!("ours-pretty={ours},--pretty-json"),
    ];
    for l in legacy {
        specs.push(format!("deb-{l}={},--{l}", debian.display()));
        specs.push(format!("ours-{l}={ours},--{l}"));
    }
    let st = Command::new("python3")
        .arg(script())
        .arg("run")
        .arg(&root)
        .arg(&out)
        .args(["--gen", "3000", "5000", "7", "1"])
        .args(&specs)
        .status()
        .unwrap();
    assert!(st.success());

    for l in legacy {
        let d = read(&out, &format!("deb-{l}"), "stdout");
        let o = read(&out, &format!("ours-{l}"), "stdout");
        assert_eq!(d, o, "--{l}");
        assert!(d.trim().parse::<usize>().is_ok(), "--{l} printed {d:?}");
        assert_eq!(read(&out, &format!("ours-{l}"), "rc").trim(), "0");
    }
    let d = read(&out, "deb-default", "stdout");
    let o = read(&out, "ours-default", "stdout");
    assert_eq!(read(&out, "deb-default", "rc").trim(), "0");
    assert_eq!(read(&out, "ours-default", "rc").trim(), "0");
    let (ds, os) = (sections(&d), sections(&o));
    let mut compared = 0;
    let mut entries = 0;
    for (h, dset) in &ds {
        let Some(oset) = os.get(h) else {
            panic!("section {h:?} of 3.0.8 is missing from ours");
        };
        assert_eq!(dset, oset, "section {h:?}");
        compared += 1;
        entries += dset.values().sum::<usize>();
    }
    assert!(compared >= 10, "only {compared} sections in common");
    assert!(entries > 2000, "only {entries} entries compared");
    // Ours escapes what 3.0.8 prints raw: no control characters but the line ends.
    assert!(!o.chars().any(|c| c.is_control() && c != '\n'));
    // JSON is valid and lists as many processes as the text report.
    for name in ["ours-json", "ours-pretty"] {
        let j: serde_json::Value = serde_json::from_str(&read(&out, name, "stdout")).unwrap();
        let n: usize = j["processes"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_array().unwrap().len())
            .sum();
        let total: usize = o
            .lines()
            .find_map(|l| l.strip_suffix(" processes have profiles defined."))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(n, total, "{name}");
    }
    println!(
        "fake system (3000 profiles, 5000 processes): {compared} sections, {entries} entries equal to Debian 3.0.8"
    );
}

/// Generates a tree on disk (no root needed) and returns it.
pub fn generate(profiles: usize, procs: usize, seed: u32) -> Option<tempfile::TempDir> {
    let python = Command::new("python3").arg("--version").output().is_ok();
    common::require(python.then_some(()), "python3")?;
    let tmp = tempfile::tempdir().unwrap();
    let st = Command::new("python3")
        .arg(script())
        .arg("gen")
        .arg(tmp.path())
        .args([
            "--profiles",
            &profiles.to_string(),
            "--procs",
            &procs.to_string(),
            "--seed",
            &seed.to_string(),
            "--awkward",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    Some(tmp)
}

pub fn run_in_process(sys: &System, args: &[&str]) -> (String, String, u8) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = {
        let mut io = Io::new(&mut out, &mut err);
        let argv = std::iter::once("aa-status")
            .chain(args.iter().copied())
            .map(Into::into)
            .collect();
        apparmor::cli::aa_status::run_with(argv, sys, &mut io).code()
    };
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        code,
    )
}

#[test]
fn awkward_tree_in_process() {
    let Some(tree) = generate(400, 1000, 3) else {
        return;
    };
    let sys = System::with_root(tree.path());
    let (out, err, code) = run_in_process(&sys, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(out.contains("400 profiles are loaded.\n"));
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'));
    assert!(
        out.contains("   ctl\\x1b[31m9"),
        "escaped ESC in a profile name"
    );
    assert!(
        out.contains("   tab\\there10"),
        "escaped TAB in a profile name"
    );
    assert!(
        out.contains("   /usr/bin/new\\nline"),
        "escaped newline in an exe"
    );
    assert!(out.contains("   name with \"quotes\" 2\n"));
    assert!(out.contains("   /usr/bin/ünïcödé-😺-4\n"));
    assert!(out.contains(" prompt mode.\n"));
    // Every profiles line is counted once, whatever its name.
    let listed: usize = out
        .lines()
        .filter_map(|l| l.strip_suffix(" mode."))
        .filter(|l| l.contains(" profiles are in "))
        .map(|l| l.split(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(listed, 400);
    let (json, _, code) = run_in_process(&sys, &["--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["profiles"].as_object().unwrap().len(), 400);
    assert!(
        v["profiles"]
            .as_object()
            .unwrap()
            .contains_key("ctl\u{1b}[31m9")
    );
    let (pretty, _, _) = run_in_process(&sys, &["--pretty-json"]);
    let p: serde_json::Value = serde_json::from_str(&pretty).unwrap();
    assert_eq!(p, v, "--pretty-json and --json carry the same data");
}
