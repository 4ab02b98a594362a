//! Our `aa-status` against upstream 6.0's recorded results on every fake system of
//! ../shared/spec/aa-status-cases (run with the cases' own runner, as root, inside
//! `unshare -m`). Every invocation must match `out-6.0` byte for byte (stdout, stderr, exit
//! status) unless it is listed in [`DEVIATIONS`], where the expected difference is checked
//! precisely. COMPATIBILITY.md gives the same list for users.

use crate::common;
use crate::status_json::{self, J};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One invocation's recorded result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub rc: String,
}

/// The result of invocation `name` recorded in `dir`.
pub fn load(dir: &Path, name: &str) -> Outcome {
    let read = |ext: &str| std::fs::read(dir.join(format!("{name}.{ext}"))).unwrap_or_default();
    Outcome {
        stdout: read("stdout"),
        stderr: read("stderr"),
        rc: String::from_utf8_lossy(&read("rc")).trim().to_owned(),
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// How a deviating invocation is checked.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// Upstream's JSON is invalid (unescaped names) or repeats a key: compare as data
    /// (upstream read tolerantly with repeated keys merged); stderr and exit status exact.
    JsonAsData,
    /// Upstream's `--pretty-json` fails (exit 42) because its own JSON is invalid: ours
    /// exits 0 with valid JSON equal as data to upstream's `--json` of the same case.
    PrettyWhereUpstreamFails,
    /// A bare `unconfined` line: upstream discards every profile (exit 42, or empty JSON);
    /// we warn about that line like any other malformed line and list the rest.
    BareUnconfinedLine,
    /// Identities: upstream matches profile names as a prefix of directory names (wrong
    /// identity for `fire`, none for names with `/`); we match the kernel's mangled names.
    Identities,
}

/// Every intentional deviation from upstream 6.0: (case, invocation, check, reason).
pub const DEVIATIONS: &[(&str, &str, Check, &str)] = &[
    (
        "01-basic",
        "json",
        Check::JsonAsData,
        "same exe in two modes: upstream repeats the key, we merge",
    ),
    (
        "01-basic",
        "pretty-json",
        Check::JsonAsData,
        "same exe in two modes: upstream repeats the key, we merge",
    ),
    (
        "01-basic",
        "two-options",
        Check::JsonAsData,
        "same exe in two modes: upstream repeats the key, we merge",
    ),
    (
        "09-weird-profile-names",
        "json",
        Check::JsonAsData,
        "upstream does not escape \" and \\ in JSON strings",
    ),
    (
        "09-weird-profile-names",
        "pretty-json",
        Check::PrettyWhereUpstreamFails,
        "upstream cannot parse its own invalid JSON (exit 42)",
    ),
    (
        "10-unparseable-profile-lines",
        "default",
        Check::BareUnconfinedLine,
        "bare 'unconfined' line: warn and continue",
    ),
    (
        "10-unparseable-profile-lines",
        "json",
        Check::BareUnconfinedLine,
        "bare 'unconfined' line: warn and continue",
    ),
    (
        "10-unparseable-profile-lines",
        "pretty-json",
        Check::BareUnconfinedLine,
        "bare 'unconfined' line: warn and continue",
    ),
    (
        "10-unparseable-profile-lines",
        "profiled",
        Check::BareUnconfinedLine,
        "bare 'unconfined' line: warn and continue",
    ),
    (
        "10-unparseable-profile-lines",
        "enforced",
        Check::BareUnconfinedLine,
        "bare 'unconfined' line: warn and continue",
    ),
    (
        "10-unparseable-profile-lines",
        "complaining",
        Check::BareUnconfinedLine,
        "bare 'unconfined' line: warn and continue",
    ),
    (
        "10-unparseable-profile-lines",
        "process-mixed",
        Check::BareUnconfinedLine,
        "bare 'unconfined' line: warn and continue",
    ),
    (
        "20-identities-6.0",
        "default",
        Check::Identities,
        "identity lookup by mangled directory name, not by name prefix",
    ),
];

fn json_data(s: &[u8], upstream: bool) -> Result<J, String> {
    let t = text(s);
    if upstream {
        status_json::upstream(&t)
    } else {
        status_json::ours(&t)
    }
}

/// Checks a listed deviation of `ours` from the reference result `up`.
pub fn check_deviation(
    check: Check,
    case_dir: &Path,
    name: &str,
    up: &Outcome,
    ours: &Outcome,
) -> Result<(), String> {
    let eq = |what: &str, a: &[u8], b: &[u8]| -> Result<(), String> {
        if a == b {
            Ok(())
        } else {
            Err(format!("{what}: expected {:?}, got {:?}", text(a), text(b)))
        }
    };
    match check {
        Check::JsonAsData => {
            eq("stderr", &up.stderr, &ours.stderr)?;
            eq("rc", up.rc.as_bytes(), ours.rc.as_bytes())?;
            let u = json_data(&up.stdout, true)?;
            let o = json_data(&ours.stdout, false)?;
            if u != o {
                return Err(format!(
                    "JSON data differs:\nupstream {u:?}\nours     {o:?}"
                ));
            }
            Ok(())
        }
        Check::PrettyWhereUpstreamFails => {
            eq("upstream rc", b"42", up.rc.as_bytes())?;
            eq("rc", b"0", ours.rc.as_bytes())?;
            eq("stderr", b"", &ours.stderr)?;
            let u = load(&case_dir.join("out-6.0"), "json");
            let u = json_data(&u.stdout, true)?;
            let o = json_data(&ours.stdout, false)?;
            if u != o {
                return Err(format!(
                    "JSON data differs:\nupstream {u:?}\nours     {o:?}"
                ));
            }
            if !ours.stdout.starts_with(b"{\n\t\"version\":\t\"2\",\n") {
                return Err("not in cJSON layout".into());
            }
            Ok(())
        }
        Check::BareUnconfinedLine => {
            let mut expected_err = text(&up.stderr)
                .replace('\t', "\\t")
                .replace("Failed to retrieve profiles from kernel: 42....\n", "");
            expected_err.push_str("Error: failed profile name split of 'unconfined\n'.\n");
            eq("stderr", expected_err.as_bytes(), &ours.stderr)?;
            eq("rc", b"0", ours.rc.as_bytes())?;
            let listing = "apparmor module is loaded.\n2 profiles are loaded.\n1 profiles are in enforce mode.\n   /usr/bin/good\n1 profiles are in complain mode.\n   /usr/bin/good2\n0 profiles are in prompt mode.\n0 profiles are in kill mode.\n0 profiles are in unconfined mode.\n0 processes have profiles defined.\n0 processes are in enforce mode.\n0 processes are in complain mode.\n0 processes are in prompt mode.\n0 processes are in kill mode.\n0 processes are unconfined but have a profile defined.\n0 processes are in mixed mode.\n";
            let expected_out: Option<&str> = match name {
                "default" => Some(listing),
                "profiled" => Some("2\n"),
                "enforced" | "complaining" => Some("1\n"),
                "process-mixed" => Some("0\n"),
                _ => None,
            };
            match expected_out {
                Some(e) => eq("stdout", e.as_bytes(), &ours.stdout),
                None => {
                    let o = json_data(&ours.stdout, false)?;
                    let want = J::Obj(vec![
                        ("version".into(), J::Str("2".into())),
                        (
                            "profiles".into(),
                            J::Obj(vec![
                                ("/usr/bin/good".into(), J::Str("enforce".into())),
                                ("/usr/bin/good2".into(), J::Str("complain".into())),
                            ]),
                        ),
                        ("processes".into(), J::Obj(vec![])),
                    ]);
                    if o == want {
                        Ok(())
                    } else {
                        Err(format!("JSON data {o:?}"))
                    }
                }
            }
        }
        Check::Identities => {
            eq("stderr", &up.stderr, &ours.stderr)?;
            eq("rc", up.rc.as_bytes(), ours.rc.as_bytes())?;
            let expected = text(&up.stdout)
                .replace("   /usr/bin/foo\n", "   /usr/bin/foo (never-shown)\n")
                .replace("   fire (from-fire.fox)\n", "   fire (fire-own)\n");
            eq("stdout", expected.as_bytes(), &ours.stdout)
        }
    }
}

/// Copies the cases to a temporary folder and runs the runner with `binary`, writing
/// `OUTNAME` results. Returns the copy (kept alive by the returned guard).
pub fn run_cases(
    cases: &Path,
    binary: &Path,
    outname: &str,
) -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("aa-status-cases");
    let st = Command::new("cp")
        .arg("-a")
        .arg(cases)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(st.success(), "cp failed");
    let mut names: Vec<String> = std::fs::read_dir(&copy)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("invocations").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // The runner builds each case's tree and copies the binary with the
    // caller's umask, and its nobody-* invocations read that tree as uid
    // 65534: with a umask like 077 (a hardened root shell) they would see
    // nothing, so the runner gets the usual 022.
    let out = Command::new("bash")
        .arg("-c")
        .arg("umask 022 && exec bash \"$0\" \"$@\"")
        .arg(copy.join("run-case.sh"))
        .args(names.iter().map(|n| copy.join(n)))
        .env("AA_STATUS", binary)
        .env("OUTNAME", outname)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "run-case.sh failed: {}",
        text(&out.stderr)
    );
    (tmp, copy, names)
}

/// True when we can run the cases: root and a working `unshare -m`.
pub fn can_unshare() -> bool {
    common::is_root()
        && Command::new("unshare")
            .args(["-m", "--propagation", "private", "true"])
            .status()
            .is_ok_and(|s| s.success())
}

#[test]
fn aa_status_cases_match_upstream_6_0() {
    let Some(shared) = common::shared() else {
        return;
    };
    if common::require(can_unshare().then_some(()), "root with unshare -m").is_none() {
        return;
    }
    let cases = shared.join("spec/aa-status-cases");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_aa-status"));
    let (_guard, copy, names) = run_cases(&cases, &bin, "out-ours");

    let mut total = 0;
    let mut exact = 0;
    let mut deviations_ok = 0;
    let mut failures = Vec::new();
    let mut seen_deviations = std::collections::HashSet::new();
    for case in &names {
        let dir = copy.join(case);
        let mut invs: Vec<String> = std::fs::read_dir(dir.join("out-6.0"))
            .unwrap()
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_string_lossy()
                    .strip_suffix(".cmd")
                    .map(str::to_owned)
            })
            .collect();
        invs.sort();
        for inv in invs {
            total += 1;
            let up = load(&dir.join("out-6.0"), &inv);
            let ours = load(&dir.join("out-ours"), &inv);
            let dev = DEVIATIONS
                .iter()
                .find(|(c, n, _, _)| c == case && *n == inv);
            if up == ours {
                exact += 1;
                if dev.is_some() {
                    failures.push(format!(
                        "{case}/{inv}: listed as a deviation but matches upstream exactly"
                    ));
                }
                continue;
            }
            match dev {
                Some((_, _, check, reason)) => {
                    seen_deviations.insert((case.clone(), inv.clone()));
                    match check_deviation(*check, &dir, &inv, &up, &ours) {
                        Ok(()) => {
                            deviations_ok += 1;
                            println!("deviation {case}/{inv}: {reason} (checked)");
                        }
                        Err(e) => failures.push(format!("{case}/{inv} ({reason}): {e}")),
                    }
                }
                None => failures.push(format!(
                    "{case}/{inv}: differs\n  stdout upstream {:?}\n  stdout ours     {:?}\n  stderr upstream {:?}\n  stderr ours     {:?}\n  rc {} vs {}",
                    text(&up.stdout),
                    text(&ours.stdout),
                    text(&up.stderr),
                    text(&ours.stderr),
                    up.rc,
                    ours.rc
                )),
            }
        }
    }
    println!(
        "aa-status cases: {exact}/{total} invocations match 6.0 byte for byte; {deviations_ok} listed deviations checked"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        exact + deviations_ok,
        total,
        "every invocation is either exact or a checked deviation"
    );
}
