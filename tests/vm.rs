//! The VM suite: our `aa-status` and `aactl` against Debian's reference
//! `aa-status` (3.0.8) on a live AppArmor kernel (Debian's cloud kernel under
//! qemu TCG), following ../shared/spec/vm-harness.md.
//!
//! The guest side is in `scripts/vm/` (kernel fetch, initramfs, guest `/init`,
//! step files and suites). This test only calls `scripts/vm/run` with
//! arguments and compares what came back, as data:
//! - boot 1 (`aavm.suite=status`): Debian's profiles and the test profiles
//!   loaded, processes started under enforce, complain, kill, unconfined-mode,
//!   hat, stacked and child-namespace labels; every aa-status option run with
//!   the reference and ours; the aactl inspection commands, live and on a
//!   snapshot; then the loader (`scripts/vm/guest/steps/loader.sh`): replace,
//!   load and unload of a Debian profile, enforce/complain and disable/enable
//!   in a copy of the profile folder, load errors, denials under an enforce and
//!   a complain profile read back with `aactl log kernel` (`--summary`,
//!   `--suggest`), and `remove-unknown`, each verified through securityfs;
//! - boot 2 (`apparmor=0`, `aavm.suite=disabled`): the "not enabled" exits.
//!
//! It prints one line `VM suite: N passed, M failed` and fails when M > 0.
//! Skips (fails under `AA_REQUIRE_ORACLES=1`) when not root, without qemu, or
//! when the kernel cannot be fetched.

use crate::common;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The aa-status options run on both binaries (`default` = no argument).
const STATUS_ARGS: &[&str] = &[
    "default",
    "json",
    "pretty-json",
    "verbose",
    "enabled",
    "profiled",
    "enforced",
    "complaining",
    "kill",
    "special-unconfined",
    "process-mixed",
];

/// Count options: their output is one number, compared byte for byte.
const COUNT_ARGS: &[&str] = &[
    "enabled",
    "profiled",
    "enforced",
    "complaining",
    "kill",
    "special-unconfined",
    "process-mixed",
];

/// One command run in the guest (`run ID CMD...` in scripts/vm/guest/lib.sh).
struct Check {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    rc: i32,
    /// Killed by the guest's per-command timeout (`RUN_TIMEOUT` in lib.sh).
    timed_out: bool,
}

impl Check {
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn describe(&self) -> String {
        if self.timed_out {
            return format!(
                "hung: killed by the guest's timeout; stderr {:?}",
                clip(&String::from_utf8_lossy(&self.stderr))
            );
        }
        format!(
            "rc {}, stdout {:?}, stderr {:?}",
            self.rc,
            clip(&self.out()),
            clip(&String::from_utf8_lossy(&self.stderr))
        )
    }
}

fn clip(s: &str) -> String {
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s.to_string()
    }
}

/// The unpacked `/results` of one boot.
struct Results {
    dir: PathBuf,
}

impl Results {
    fn check(&self, id: &str) -> Result<Check, String> {
        let d = self.dir.join("checks").join(id);
        let rc = std::fs::read_to_string(d.join("rc"))
            .map_err(|_| format!("check {id} did not run in the guest"))?;
        Ok(Check {
            stdout: std::fs::read(d.join("stdout")).unwrap_or_default(),
            stderr: std::fs::read(d.join("stderr")).unwrap_or_default(),
            rc: rc
                .trim()
                .parse()
                .map_err(|_| format!("check {id}: bad rc"))?,
            timed_out: d.join("timeout").exists(),
        })
    }
    fn note(&self, key: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join("notes").join(key))
            .ok()
            .map(|s| s.trim_end().to_string())
    }
    fn step_ms(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(self.dir.join("steps")) {
            for e in rd.flatten() {
                let name = e
                    .file_name()
                    .to_string_lossy()
                    .trim_end_matches(".ms")
                    .to_string();
                let v = std::fs::read_to_string(e.path()).unwrap_or_default();
                m.insert(name, v.trim().to_string());
            }
        }
        m
    }
}

/// Passed and failed checks, printed as they are decided.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<String>,
}

impl Tally {
    fn record(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("vm: ok      {name}");
            }
            Err(e) => {
                println!("vm: FAILED  {name}: {e}");
                self.failed.push(name.to_string());
            }
        }
    }
}

/// A JSON value that keeps duplicate object keys (3.0.8 and 6.0 emit the
/// same exe twice in `processes` when it runs in two modes).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Number(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Json::Array(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, Json>()? {
                    v.push((k, x));
                }
                Ok(Json::Object(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Json {
    fn parse(text: &[u8]) -> Result<Json, String> {
        serde_json::from_slice(text).map_err(|e| format!("invalid JSON: {e}"))
    }
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(v) => v.iter().find(|(k, _)| k == key).map(|(_, x)| x),
            _ => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
    /// Every string and number anywhere in the value (keys included).
    fn scalars(&self, out: &mut BTreeSet<String>) {
        match self {
            Json::String(s) | Json::Number(s) => {
                out.insert(s.clone());
            }
            Json::Array(v) => v.iter().for_each(|x| x.scalars(out)),
            Json::Object(v) => v.iter().for_each(|(k, x)| {
                out.insert(k.clone());
                x.scalars(out)
            }),
            _ => {}
        }
    }
}

/// What an aa-status report says, as data.
#[derive(Debug, Default, PartialEq)]
struct Report {
    /// (mode, profile name)
    profiles: BTreeSet<(String, String)>,
    /// (mode, exe, pid, label); the label is the full label even where the
    /// text output prints it empty (label equal to exe).
    processes: BTreeSet<(String, String, String, String)>,
    /// "N profiles are loaded." / "N processes have profiles defined."
    totals: Option<(usize, usize)>,
}

impl Report {
    /// Parses the text report of 3.0.8 or 6.0 (`aa-status`, `--verbose`).
    fn from_text(text: &str) -> Result<Report, String> {
        let header = regex::Regex::new(
            r"^(\d+) (profiles|processes) (?:are in (\S+) mode|are unconfined but have a profile defined)\.$",
        )
        .expect("regex");
        let proc_line = regex::Regex::new(r"^   (.*) \((\d+)\) (.*)$").expect("regex");
        let mut r = Report::default();
        let (mut loaded, mut defined) = (None, None);
        // (kind, mode, announced count, listed count)
        let mut section: Option<(String, String, usize, usize)> = None;
        let mut sections = Vec::new();
        for line in text.lines() {
            if let Some(n) = line.strip_suffix(" profiles are loaded.") {
                loaded = n.parse().ok();
            } else if let Some(n) = line.strip_suffix(" processes have profiles defined.") {
                defined = n.parse().ok();
            } else if let Some(c) = header.captures(line) {
                sections.extend(section.take());
                let mode = c.get(3).map_or("unconfined", |m| m.as_str());
                section = Some((
                    c[2].to_string(),
                    mode.to_string(),
                    c[1].parse().unwrap_or(0),
                    0,
                ));
            } else if let Some(item) = line.strip_prefix("   ") {
                let Some((kind, mode, _, listed)) = section.as_mut() else {
                    return Err(format!("list line outside a section: {line:?}"));
                };
                *listed += 1;
                if kind == "profiles" {
                    r.profiles.insert((mode.clone(), item.to_string()));
                } else {
                    let c = proc_line
                        .captures(line)
                        .ok_or_else(|| format!("bad process line {line:?}"))?;
                    let label = if c[3].is_empty() { &c[1] } else { &c[3] };
                    r.processes.insert((
                        mode.clone(),
                        c[1].to_string(),
                        c[2].to_string(),
                        label.to_string(),
                    ));
                }
            } else if line != "apparmor module is loaded." {
                return Err(format!("unexpected line {line:?}"));
            }
        }
        sections.extend(section);
        for (kind, mode, announced, listed) in &sections {
            if announced != listed {
                return Err(format!(
                    "{kind} in {mode} mode: header says {announced}, {listed} listed"
                ));
            }
        }
        match (loaded, defined) {
            (Some(l), Some(d)) => r.totals = Some((l, d)),
            _ => return Err("missing the totals lines".into()),
        }
        Ok(r)
    }

    /// Parses `--json` / `--pretty-json` output (schema version "2").
    fn from_json(text: &[u8]) -> Result<Report, String> {
        Report::from_json_value(&Json::parse(text)?)
    }

    /// As [`Report::from_json`], from a parsed value.
    fn from_json_value(j: &Json) -> Result<Report, String> {
        if j.get("version").and_then(Json::as_str) != Some("2") {
            return Err("\"version\" is not \"2\"".into());
        }
        let mut r = Report::default();
        let Some(Json::Object(profiles)) = j.get("profiles") else {
            return Err("no \"profiles\" object".into());
        };
        for (name, mode) in profiles {
            let mode = mode.as_str().ok_or("profile mode is not a string")?;
            r.profiles.insert((mode.to_string(), name.clone()));
        }
        let Some(Json::Object(procs)) = j.get("processes") else {
            return Err("no \"processes\" object".into());
        };
        for (exe, list) in procs {
            let Json::Array(list) = list else {
                return Err(format!("processes[{exe:?}] is not an array"));
            };
            for p in list {
                let field = |k: &str| {
                    p.get(k)
                        .and_then(Json::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| format!("process of {exe:?} lacks string {k:?}"))
                };
                r.processes.insert((
                    field("status")?,
                    exe.clone(),
                    field("pid")?,
                    field("profile")?,
                ));
            }
        }
        Ok(r)
    }

    /// Differences between two reports (empty when equal as data).
    fn diff(&self, other: &Report, a: &str, b: &str) -> Result<(), String> {
        let mut msg = Vec::new();
        for x in self.profiles.difference(&other.profiles) {
            msg.push(format!("profile {x:?} only in {a}"));
        }
        for x in other.profiles.difference(&self.profiles) {
            msg.push(format!("profile {x:?} only in {b}"));
        }
        for x in self.processes.difference(&other.processes) {
            msg.push(format!("process {x:?} only in {a}"));
        }
        for x in other.processes.difference(&self.processes) {
            msg.push(format!("process {x:?} only in {b}"));
        }
        if let (Some(x), Some(y)) = (self.totals, other.totals) {
            if x != y {
                msg.push(format!(
                    "totals (profiles, processes) {a} {x:?} vs {b} {y:?}"
                ));
            }
        }
        if msg.is_empty() {
            Ok(())
        } else {
            msg.truncate(12);
            Err(msg.join("; "))
        }
    }
}

/// The profiles the kernel lists in `profiles` (as aa-status would split them).
fn kernel_profiles(snapshot: &Path) -> Result<BTreeSet<(String, String)>, String> {
    let p = snapshot.join("sys/kernel/security/apparmor/profiles");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let (name, mode) = line
            .strip_suffix(')')
            .and_then(|l| l.rsplit_once(" ("))
            .ok_or_else(|| format!("cannot split profiles line {line:?}"))?;
        set.insert((mode.to_string(), name.to_string()));
    }
    Ok(set)
}

fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// Runs `scripts/vm/run`; returns the results folder, or why it failed.
///
/// With `AA_VM_REUSE=1` the results of an earlier boot in `out` are compared
/// again without booting (for working on the comparisons).
fn boot(out: &Path, suite: &str, extra: &[&str]) -> Result<Results, String> {
    if std::env::var("AA_VM_REUSE").is_ok_and(|v| v == "1") && out.join("results/checks").is_dir() {
        println!("vm: reusing the results in {}", out.display());
        return Ok(Results {
            dir: out.join("results"),
        });
    }
    let mut cmd = Command::new(common::repo().join("scripts/vm/run"));
    cmd.arg("--out")
        .arg(out)
        .arg("--suite")
        .arg(suite)
        .args(extra);
    let t = std::time::Instant::now();
    let st = cmd
        .status()
        .map_err(|e| format!("cannot run scripts/vm/run: {e}"))?;
    println!(
        "vm: boot {suite}: {:.1} s (build + boot + guest steps)",
        t.elapsed().as_secs_f64()
    );
    if !st.success() {
        return Err(format!("scripts/vm/run --suite {suite} failed: {st}"));
    }
    Ok(Results {
        dir: out.join("results"),
    })
}

fn status_checks(r: &Results, t: &mut Tally) {
    // The guest's setup must have worked, or the comparisons mean little.
    for id in [
        "load-debian",
        "load-debian-compile-one",
        "load-vmtest",
        "mkdir-ns",
        "load-vmtest-ns",
        "load-vmtest-late",
    ] {
        t.record(
            &format!("setup {id}"),
            r.check(id).and_then(|c| ensure(c.rc == 0, || c.describe())),
        );
    }
    let snapshot = r.dir.join("snapshot");
    let kernel = kernel_profiles(&snapshot);
    t.record(
        "every profile of Debian's /etc/apparmor.d is loaded",
        kernel.as_ref().map_err(Clone::clone).and_then(|k| {
            let names = r.check("debian-policy-names")?.out();
            let missing: Vec<_> = names
                .lines()
                .filter(|n| !k.iter().any(|(_, name)| name == n))
                .collect();
            ensure(!names.is_empty() && missing.is_empty(), || {
                format!(
                    "not loaded: {missing:?} (of {} names)",
                    names.lines().count()
                )
            })
        }),
    );

    // The reference first: it must agree with the kernel's own list, and
    // must show each test process (so that the comparison covers them).
    let reference = r.check("aa-status-ref-default").and_then(|c| {
        ensure(c.rc == 0, || c.describe())?;
        Report::from_text(&c.out())
    });
    t.record(
        "reference aa-status lists the kernel's profiles",
        match (&reference, &kernel) {
            (Ok(rep), Ok(k)) => ensure(&rep.profiles == k, || {
                format!("reference {:?}\nkernel {:?}", rep.profiles, k)
            }),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        },
    );
    let mut pids = Vec::new();
    if let Ok(rd) = std::fs::read_dir(r.dir.join("notes")) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(what) = n.strip_prefix("pid-") {
                pids.push((what.to_string(), r.note(&n).unwrap_or_default()));
            }
        }
    }
    pids.sort();
    for (what, pid) in &pids {
        let label = r
            .check(&format!("label-{what}"))
            .map(|c| c.out().trim_end().to_string());
        let listed = reference
            .as_ref()
            .map(|rep| rep.processes.iter().any(|p| &p.2 == pid))
            .map_err(Clone::clone);
        // Plain unconfined processes are not listed; every other one is.
        let want = what != "unconfined";
        t.record(
            &format!("reference lists test process {what}"),
            match (label, listed) {
                (Ok(l), Ok(found)) => ensure(found == want, || {
                    format!("pid {pid} label {l:?}: listed {found}, expected {want}")
                }),
                (Err(e), _) | (_, Err(e)) => Err(e.clone()),
            },
        );
    }

    // Ours against the reference, option by option.
    for arg in STATUS_ARGS {
        let name = format!("aa-status {arg}");
        let res = (|| {
            let rf = r.check(&format!("aa-status-ref-{arg}"))?;
            let ours = r.check(&format!("aa-status-ours-{arg}"))?;
            let want = expected_rc(r, arg, &rf)?;
            ensure(want == ours.rc, || {
                format!(
                    "exit {} (expected {want}, reference {}); ours: {}",
                    ours.rc,
                    rf.rc,
                    ours.describe()
                )
            })?;
            match *arg {
                "default" | "verbose" => {
                    let a = Report::from_text(&rf.out()).map_err(|e| format!("reference: {e}"))?;
                    let b = Report::from_text(&ours.out()).map_err(|e| format!("ours: {e}"))?;
                    a.diff(&b, "reference", "ours")
                }
                "json" | "pretty-json" => {
                    let b = Report::from_json(&ours.stdout).map_err(|e| format!("ours: {e}"))?;
                    let a = match Report::from_json(&rf.stdout) {
                        Ok(a) => a,
                        Err(e) => {
                            // 3.0.8 prints invalid JSON when processes are in
                            // two or more modes (spec/aa-status-cases 01, 11):
                            // compare with its text report instead.
                            println!(
                                "vm: note: reference --{arg}: {e}; compared with its text report"
                            );
                            let c = r.check("aa-status-ref-default")?;
                            let mut a = Report::from_text(&c.out())?;
                            a.totals = None;
                            a
                        }
                    };
                    a.diff(&b, "reference", "ours")
                }
                _ => ensure(rf.stdout == ours.stdout, || {
                    format!("stdout {:?}, reference {:?}", ours.out(), rf.out())
                }),
            }
        })();
        t.record(&name, res);
    }
    // The count options agree with the lists (reference): a sanity check
    // that the counts measure what the report shows.
    if let Ok(rep) = &reference {
        for (arg, mode) in [
            ("enforced", "enforce"),
            ("complaining", "complain"),
            ("kill", "kill"),
            ("special-unconfined", "unconfined"),
        ] {
            let n = rep.profiles.iter().filter(|p| p.0 == mode).count();
            t.record(
                &format!("reference --{arg} equals its {mode} list"),
                r.check(&format!("aa-status-ref-{arg}"))
                    .and_then(|c| ensure(c.out().trim() == n.to_string(), || c.describe())),
            );
        }
    }

    if let Ok(rep) = &reference {
        upstream6_checks(r, t, rep);
    }
    aactl_checks(r, t, reference.ok());
}

/// Options 3.0.8 lacks, checked against the reference's data.
fn upstream6_checks(r: &Results, t: &mut Tally, rep: &Report) {
    let json_ok = |id: &str| -> Result<Json, String> {
        let c = r.check(id)?;
        ensure(c.rc == 0, || c.describe())?;
        Json::parse(&c.stdout)
    };
    t.record(
        "aa-status --count --json (6.0) counts as the reference lists",
        json_ok("aa-status-ours6-count-json").and_then(|j| {
            let want = Json::Object(vec![
                ("version".into(), Json::String("2".into())),
                (
                    "profile_count".into(),
                    Json::Number(rep.profiles.len().to_string()),
                ),
                (
                    "process_count".into(),
                    Json::Number(rep.processes.len().to_string()),
                ),
            ]);
            ensure(j == want, || format!("{j:?}, expected {want:?}"))
        }),
    );
    t.record(
        "aa-status --show=profiles --json (6.0): the reference's profiles, no processes",
        json_ok("aa-status-ours6-show-profiles-json").and_then(|j| {
            ensure(j.get("processes").is_none(), || "has \"processes\"".into())?;
            let mut with_procs = j.clone();
            if let Json::Object(v) = &mut with_procs {
                v.push(("processes".into(), Json::Object(Vec::new())));
            }
            let got = Report::from_json_value(&with_procs)?;
            ensure(got.profiles == rep.profiles, || {
                format!(
                    "profiles differ: {:?}",
                    got.profiles
                        .symmetric_difference(&rep.profiles)
                        .collect::<Vec<_>>()
                )
            })
        }),
    );
    t.record(
        "aa-status --filter.mode=mixed --json (6.0): the reference's mixed processes",
        json_ok("aa-status-ours6-filter-mixed-json").and_then(|j| {
            let got = Report::from_json_value(&j)?;
            let want: BTreeSet<_> = rep
                .processes
                .iter()
                .filter(|p| p.0 == "mixed")
                .cloned()
                .collect();
            ensure(
                !want.is_empty() && got.processes == want && got.profiles.is_empty(),
                || {
                    format!(
                        "got {:?} / {:?}, expected processes {want:?}",
                        got.profiles, got.processes
                    )
                },
            )
        }),
    );
}

fn aactl_checks(r: &Results, t: &mut Tally, reference: Option<Report>) {
    let rep = reference.unwrap_or_default();
    let run_ok = |id: &str| -> Result<Check, String> {
        let c = r.check(id)?;
        ensure(c.rc == 0, || c.describe())?;
        Ok(c)
    };
    // Text: every loaded profile name and every listed pid appears.
    t.record(
        "aactl status",
        run_ok("aactl-status").and_then(|c| {
            let out = c.out();
            let missing: Vec<_> = rep
                .profiles
                .iter()
                .filter(|p| !out.contains(p.1.as_str()))
                .map(|p| &p.1)
                .collect();
            ensure(missing.is_empty(), || {
                format!("profiles not shown: {missing:?}")
            })
        }),
    );
    t.record(
        "aactl ps",
        run_ok("aactl-ps").and_then(|c| {
            let out = c.out();
            let missing: Vec<_> = rep
                .processes
                .iter()
                .filter(|p| {
                    !out.split_whitespace().any(|w| w == p.2)
                        || !label_parts(&p.3).iter().all(|x| out.contains(x.as_str()))
                })
                .collect();
            ensure(missing.is_empty(), || {
                format!("processes not shown: {missing:?}")
            })
        }),
    );
    // JSON: valid, and holds every profile/mode and pid/label as values.
    t.record(
        "aactl status --json",
        run_ok("aactl-status-json").and_then(|c| {
            let mut s = BTreeSet::new();
            Json::parse(&c.stdout)?.scalars(&mut s);
            let missing: Vec<_> = rep
                .profiles
                .iter()
                .filter(|p| {
                    // A child namespace's profile `:ns:name` is the pair
                    // `"namespace": "ns"`, `"name": "name"` in the JSON.
                    let name = p.1.strip_prefix(':').and_then(|x| x.split_once(':'));
                    !s.contains(&p.0)
                        || !(s.contains(&p.1)
                            || name.is_some_and(|(ns, n)| s.contains(ns) && s.contains(n)))
                })
                .collect();
            ensure(missing.is_empty(), || {
                format!("profiles not in JSON: {missing:?}")
            })
        }),
    );
    t.record(
        "aactl ps --json",
        run_ok("aactl-ps-json").and_then(|c| {
            let mut s = BTreeSet::new();
            Json::parse(&c.stdout)?.scalars(&mut s);
            let missing: Vec<_> = rep
                .processes
                .iter()
                .filter(|p| {
                    !s.contains(&p.2)
                        || !(s.contains(&p.3)
                            || label_parts(&p.3)
                                .iter()
                                .all(|x| s.iter().any(|v| v.contains(x.as_str()))))
                })
                .collect();
            ensure(missing.is_empty(), || {
                format!("processes not in JSON: {missing:?}")
            })
        }),
    );
    // A snapshot gives the same answer as the live system. The commands
    // themselves (and any other short-lived process) run with PIDs above
    // every long-lived one, so entries for such PIDs are left out of both
    // sides: a text line with a number token above the highest long-lived
    // PID, a JSON object whose "pid" is not a long-lived PID.
    let stable = stable_pids(r);
    let max_stable = stable.iter().max().copied().unwrap_or(0);
    // A table row whose PID (first cell) was long-lived but ended meanwhile.
    let ended = |l: &str| {
        l.split('|')
            .next()
            .and_then(|c| c.trim().parse::<u64>().ok())
            .is_some_and(|p| p <= max_stable && !stable.contains(&p))
    };
    t.record("aactl snapshot", run_ok("aactl-snapshot").map(drop));
    for (live, snap) in [
        ("aactl-status", "aactl-root-status"),
        ("aactl-status-json", "aactl-root-status-json"),
        ("aactl-ps", "aactl-root-ps"),
        ("aactl-ps-json", "aactl-root-ps-json"),
    ] {
        let name = format!("aactl --root snapshot: {} same as live", &live[6..]);
        t.record(
            &name,
            (|| {
                let a = run_ok(live)?;
                let b = run_ok(snap)?;
                if live.ends_with("json") {
                    let x = drop_transient(strip_root(Json::parse(&a.stdout)?), &stable);
                    let y = drop_transient(strip_root(Json::parse(&b.stdout)?), &stable);
                    ensure(x == y, || {
                        format!("live {:?}\nsnapshot {:?}", clip(&a.out()), clip(&b.out()))
                    })
                } else {
                    // Rows compared cell by cell (column widths follow the
                    // longest cell); the snapshot's folder prefix and a
                    // kworker's current work queue (`kworker/0:2-events`) are
                    // not part of the answer.
                    let keep = |c: &Check| -> Vec<String> {
                        c.out()
                            .replace("/tmp/snap/", "/")
                            .lines()
                            .filter(|l| {
                                !l.split(|ch: char| !ch.is_ascii_digit())
                                    .filter_map(|w| w.parse::<u64>().ok())
                                    .any(|n| n > max_stable)
                            })
                            .filter(|l| !l.chars().all(|ch| matches!(ch, '-' | '+' | ' ')))
                            .filter(|l| !ended(l))
                            .map(|l| {
                                l.split('|')
                                    .map(|cell| {
                                        let cell = cell.trim();
                                        match cell.strip_prefix("kworker/") {
                                            Some(k) => k.split('-').next().unwrap_or(k),
                                            None => cell,
                                        }
                                    })
                                    .collect::<Vec<_>>()
                                    .join("|")
                            })
                            .collect()
                    };
                    ensure(keep(&a) == keep(&b), || {
                        format!("live {:?}\nsnapshot {:?}", clip(&a.out()), clip(&b.out()))
                    })
                }
            })(),
        );
    }
}

/// Profiles listed in securityfs `profiles` (`NAME (MODE)` lines): name → mode.
fn listed(c: &Check) -> BTreeMap<String, String> {
    c.out()
        .lines()
        .filter_map(|l| l.rsplit_once(" ("))
        .map(|(n, m)| (n.to_string(), m.trim_end_matches(')').to_string()))
        .collect()
}

/// The JSON document an `aactl ... --json` check printed.
fn json_out(c: &Check) -> Result<serde_json::Value, String> {
    serde_json::from_slice(&c.stdout).map_err(|e| format!("invalid JSON ({e}): {}", c.describe()))
}

/// Every `report.errors` entry of every result of an `aactl` JSON document.
fn json_errors(j: &serde_json::Value) -> Vec<serde_json::Value> {
    j["results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| {
            r["report"]["errors"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// `c` exited 0 and printed `"ok": true`.
fn json_ok(c: &Check) -> Result<serde_json::Value, String> {
    let j = json_out(c)?;
    ensure(c.rc == 0 && j["ok"] == true, || {
        format!("expected success: {}", c.describe())
    })?;
    Ok(j)
}

/// Whether `names` are all listed (`present`) or all absent, with their modes.
fn expect_listed(
    r: &Results,
    id: &str,
    names: &[(&str, Option<&str>)],
    present: bool,
) -> Result<(), String> {
    let c = r.check(id)?;
    ensure(c.rc == 0, || format!("{id}: {}", c.describe()))?;
    let l = listed(&c);
    for (name, mode) in names {
        match (present, l.get(*name)) {
            (true, None) => return Err(format!("{id}: {name} is not loaded")),
            (true, Some(m)) if mode.is_some_and(|w| w != m) => {
                return Err(format!("{id}: {name} is in mode {m}, expected {mode:?}"));
            }
            (false, Some(m)) => return Err(format!("{id}: {name} ({m}) is still loaded")),
            _ => {}
        }
    }
    Ok(())
}

/// The loader on the live kernel (issue 7; guest step `loader`).
fn loader_checks(r: &Results, t: &mut Tally) {
    const MAN: &[(&str, Option<&str>)] = &[
        ("/usr/bin/man", Some("enforce")),
        ("man_filter", Some("enforce")),
        ("man_groff", Some("enforce")),
    ];
    // 1. replace, load of a loaded file, unload, load.
    t.record(
        "loader: replace usr.bin.man, its 3 profiles in securityfs",
        (|| {
            let j = json_ok(&r.check("loader-replace")?)?;
            let done: BTreeSet<&str> = j["results"][0]["report"]["done"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["name"].as_str())
                .collect();
            ensure(MAN.iter().all(|(n, _)| done.contains(n)), || {
                format!("replaced: {done:?}")
            })?;
            expect_listed(r, "loader-replace-verify", MAN, true)
        })(),
    );
    t.record(
        "loader: load of a loaded profile fails with already_exists (errno 17)",
        (|| {
            let c = r.check("loader-load-exists")?;
            let j = json_out(&c)?;
            ensure(c.rc != 0 && j["ok"] == false, || c.describe())?;
            let errs = json_errors(&j);
            ensure(
                !errs.is_empty()
                    && errs.iter().all(|e| {
                        e["error"] == "kernel" && e["errno"] == 17 && e["kind"] == "already_exists"
                    }),
                || format!("errors: {errs:?}"),
            )
        })(),
    );
    t.record(
        "loader: unload usr.bin.man, its profiles gone from securityfs",
        (|| {
            json_ok(&r.check("loader-unload")?)?;
            expect_listed(r, "loader-unload-verify", MAN, false)
        })(),
    );
    t.record(
        "loader: load usr.bin.man again, listed",
        (|| {
            json_ok(&r.check("loader-reload")?)?;
            expect_listed(r, "loader-reload-verify", MAN, true)
        })(),
    );
    // 2. enforce, complain (klogd is flags=(complain) in Debian).
    t.record(
        "loader: enforce klogd in a profile dir copy, mode file enforce",
        (|| {
            json_ok(&r.check("loader-enforce")?)?;
            let m = r.check("loader-enforce-mode")?.out();
            ensure(m.trim() == "enforce", || format!("mode {m:?}"))
        })(),
    );
    t.record(
        "loader: enforce edits only the flags of the profile line",
        (|| {
            let d = r.check("loader-enforce-diff")?.out();
            let changed: Vec<&str> = d
                .lines()
                .filter(|l| {
                    (l.starts_with('-') && !l.starts_with("---"))
                        || (l.starts_with('+') && !l.starts_with("+++"))
                })
                .collect();
            ensure(
                changed
                    == [
                        "-profile klogd /{usr/,}{bin,sbin}/klogd flags=(complain) {",
                        "+profile klogd /{usr/,}{bin,sbin}/klogd {",
                    ],
                || format!("diff: {d}"),
            )
        })(),
    );
    t.record(
        "loader: complain klogd, mode file complain, file back byte for byte",
        (|| {
            json_ok(&r.check("loader-complain")?)?;
            let m = r.check("loader-complain-mode")?.out();
            ensure(m.trim() == "complain", || format!("mode {m:?}"))?;
            let d = r.check("loader-complain-diff")?;
            ensure(d.rc == 0 && d.stdout.is_empty(), || {
                format!("file differs from Debian's: {}", d.describe())
            })
        })(),
    );
    // 3. disable, enable.
    t.record(
        "loader: disable klogd, disable/ link made, profile gone",
        (|| {
            json_ok(&r.check("loader-disable")?)?;
            let l = r.check("loader-disable-link")?;
            ensure(l.out().trim() == "/tmp/aad/sbin.klogd", || l.describe())?;
            expect_listed(r, "loader-disable-verify", &[("klogd", None)], false)
        })(),
    );
    t.record(
        "loader: enable klogd, loaded again in complain",
        (|| {
            json_ok(&r.check("loader-enable")?)?;
            let m = r.check("loader-enable-mode")?.out();
            ensure(m.trim() == "complain", || format!("mode {m:?}"))?;
            expect_listed(
                r,
                "loader-enable-verify",
                &[("klogd", Some("complain"))],
                true,
            )
        })(),
    );
    // 5. Load errors with file and line.
    for (id, file, what) in [
        ("loader-bad-syntax", "/tmp/vmbad/syntax", "syntax error"),
        (
            "loader-bad-include",
            "/tmp/vmbad/include",
            "vm-no-such-file",
        ),
    ] {
        t.record(
            &format!("loader: load error reported with file and line ({id})"),
            (|| {
                let c = r.check(id)?;
                let j = json_out(&c)?;
                ensure(c.rc != 0 && j["ok"] == false, || c.describe())?;
                let errs = json_errors(&j);
                let d = &errs.first().ok_or("no error reported")?["diagnostic"];
                ensure(
                    d["file"] == file
                        && d["line"] == 3
                        && d["message"].as_str().is_some_and(|m| m.contains(what)),
                    || format!("errors: {errs:?}"),
                )
            })(),
        );
    }
    t.record(
        "loader: profiles with load errors are not loaded",
        expect_listed(
            r,
            "loader-bad-verify",
            &[("vmbad-syntax", None), ("vmbad-include", None)],
            false,
        ),
    );
    // 6. Denials read back from the ring buffer.
    denial_checks(r, t);
    // 4. remove-unknown.
    let unknown: &[(&str, Option<&str>)] = &[
        ("vmtest-enforce", None),
        ("vmtest with space", None),
        ("vmtest-hat", None),
        ("vmdeny-enforce", None),
    ];
    let ns: &[(&str, Option<&str>)] = &[(":vmns:vmtest-ns", None)];
    let known: &[(&str, Option<&str>)] = &[("/usr/bin/man", None), ("klogd", None)];
    t.record(
        "loader: remove-unknown --dry-run lists the unknown profiles, removes nothing",
        (|| {
            let j = json_ok(&r.check("loader-ru-dry")?)?;
            let planned: BTreeSet<&str> = j["plan"]["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["step"] == "kernel_remove")
                .filter_map(|s| s["name"].as_str())
                .collect();
            for (n, _) in unknown {
                ensure(planned.contains(n), || {
                    format!("{n} not in the plan: {planned:?}")
                })?;
            }
            ensure(
                planned
                    .iter()
                    .all(|n| !n.starts_with(':') && !n.contains("man") && *n != "klogd"),
                || format!("a child-namespace or known profile in the plan: {planned:?}"),
            )?;
            let verdicts = j["decision"]["verdicts"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            ensure(
                verdicts
                    .iter()
                    .any(|v| v["name"] == ":vmns:vmtest-ns" && v["keep"] == "namespace"),
                || format!("no keep=namespace verdict for :vmns:vmtest-ns: {verdicts:?}"),
            )?;
            expect_listed(r, "loader-ru-dry-verify", unknown, true)
        })(),
    );
    t.record(
        "loader: remove-unknown removes profiles not in /etc/apparmor.d, keeps vmns",
        (|| {
            json_ok(&r.check("loader-ru")?)?;
            expect_listed(r, "loader-ru-verify", unknown, false)?;
            expect_listed(r, "loader-ru-verify", ns, true)?;
            expect_listed(r, "loader-ru-verify", known, true)
        })(),
    );
    t.record(
        "loader: remove-unknown --namespaces removes the vmns profiles",
        (|| {
            json_ok(&r.check("loader-ru-ns")?)?;
            expect_listed(r, "loader-ru-ns-verify", ns, false)?;
            expect_listed(r, "loader-ru-ns-verify", known, true)
        })(),
    );
}

/// Step 6 of the loader step: a read denied under `vmdeny-enforce` and allowed
/// (logged) under `vmdeny-complain`, found by `aactl log kernel`. Prints the
/// ring buffer's AppArmor lines and our `--summary` and `--suggest` outputs.
fn denial_checks(r: &Results, t: &mut Tally) {
    const ENF: &str = "/tmp/vmdeny/enforce-secret";
    const CMP: &str = "/tmp/vmdeny/complain-secret";
    t.record(
        "loader: load the denial profiles, listed in their modes",
        (|| {
            json_ok(&r.check("loader-deny-load")?)?;
            expect_listed(
                r,
                "loader-deny-load-verify",
                &[
                    ("vmdeny-enforce", Some("enforce")),
                    ("vmdeny-complain", Some("complain")),
                ],
                true,
            )
        })(),
    );
    t.record(
        "loader: read denied in enforce mode, allowed in complain mode",
        (|| {
            let e = r.check("loader-deny-enforce")?;
            ensure(e.rc != 0 && e.stdout.is_empty(), || {
                format!("enforce: {}", e.describe())
            })?;
            let c = r.check("loader-deny-complain")?;
            ensure(c.rc == 0 && c.out() == "complain\n", || {
                format!("complain: {}", c.describe())
            })
        })(),
    );
    let dmesg = r.check("loader-dmesg").map(|c| c.out()).unwrap_or_default();
    let aa_lines: Vec<&str> = dmesg
        .lines()
        .filter(|l| l.contains("apparmor=\"DENIED\"") || l.contains("apparmor=\"ALLOWED\""))
        .collect();
    println!(
        "vm: ring buffer AppArmor denials seen by the guest ({}; whole dmesg in {}):",
        aa_lines.len(),
        r.dir.join("checks/loader-dmesg/stdout").display()
    );
    for l in &aa_lines {
        println!("    {l}");
    }
    t.record(
        "loader: the ring buffer holds the DENIED and ALLOWED records",
        ensure(
            aa_lines.iter().any(|l| {
                l.contains("apparmor=\"DENIED\"")
                    && l.contains("profile=\"vmdeny-enforce\"")
                    && l.contains(ENF)
            }) && aa_lines.iter().any(|l| {
                l.contains("apparmor=\"ALLOWED\"")
                    && l.contains("profile=\"vmdeny-complain\"")
                    && l.contains(CMP)
            }),
            || format!("dmesg: {}", clip(&aa_lines.join("\n"))),
        ),
    );
    t.record(
        "loader: aactl log kernel finds both records",
        (|| {
            let c = r.check("loader-log")?;
            ensure(c.rc == 0, || c.describe())?;
            let recs: Vec<serde_json::Value> = c
                .out()
                .lines()
                .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
                .collect::<Result<_, _>>()?;
            let has = |event: &str, profile: &str, name: &str| {
                recs.iter().any(|j| {
                    j["event"] == event
                        && j["profile"] == profile
                        && j["name"] == name
                        && j["operation"] == "open"
                        && j["denied_mask"] == "r"
                        && j["source"] == "dmesg"
                })
            };
            ensure(
                has("AA_RECORD_DENIED", "vmdeny-enforce", ENF)
                    && has("AA_RECORD_ALLOWED", "vmdeny-complain", CMP),
                || format!("records: {}", clip(&c.out())),
            )
        })(),
    );
    for (id, what) in [
        ("loader-log-summary", "--summary"),
        ("loader-log-suggest", "--suggest"),
    ] {
        if let Ok(c) = r.check(id) {
            println!("vm: aactl log kernel {what} (rc {}):", c.rc);
            for l in c.out().lines() {
                println!("    {l}");
            }
        }
    }
    t.record(
        "loader: aactl log kernel --summary groups both profiles",
        (|| {
            let c = r.check("loader-log-summary")?;
            let o = c.out();
            ensure(
                c.rc == 0
                    && ["vmdeny-enforce", "vmdeny-complain", ENF, CMP]
                        .iter()
                        .all(|w| o.contains(w)),
                || c.describe(),
            )
        })(),
    );
    t.record(
        "loader: aactl log kernel --suggest prints the allowing rules",
        (|| {
            let c = r.check("loader-log-suggest")?;
            let o = c.out();
            let block = |p: &str, path: &str| {
                let start = o.find(&format!("profile {p} {{"))?;
                let body = &o[start..];
                let body = &body[..body.find("\n}").unwrap_or(body.len())];
                body.lines()
                    .any(|l| {
                        let l = l.trim();
                        l == format!("{path} r,") || l == format!("owner {path} r,")
                    })
                    .then_some(())
            };
            ensure(
                c.rc == 0
                    && block("vmdeny-enforce", ENF).is_some()
                    && block("vmdeny-complain", CMP).is_some(),
                || c.describe(),
            )
        })(),
    );
}

/// PIDs that lived through the whole suite: those in the guest's own snapshot
/// (taken before the aa-status and aactl steps; kernel threads, init, the
/// test processes) and still alive after `aactl snapshot`.
fn stable_pids(r: &Results) -> BTreeSet<u64> {
    let mut stable: BTreeSet<u64> = std::fs::read_dir(r.dir.join("snapshot/proc"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // Without the PIDs still alive after `aactl snapshot` (`ls /proc`), a
    // process (an idle kworker the kernel reaps after 5 min) that ended
    // between the live reads and the snapshot would be a difference.
    if let Ok(c) = r.check("aactl-pids-after")
        && c.rc == 0
    {
        let after: BTreeSet<u64> = c
            .out()
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        stable.retain(|p| after.contains(p));
    }
    stable
}

/// Removes, at any depth, objects whose "pid" member (string or number) is
/// not a long-lived PID.
fn drop_transient(j: Json, stable: &BTreeSet<u64>) -> Json {
    let transient = |x: &Json| match x.get("pid") {
        Some(Json::String(p) | Json::Number(p)) => {
            p.parse::<u64>().is_ok_and(|p| !stable.contains(&p))
        }
        _ => false,
    };
    match j {
        Json::Array(v) => Json::Array(
            v.into_iter()
                .filter(|x| !transient(x))
                .map(|x| drop_transient(x, stable))
                .collect(),
        ),
        Json::Object(v) => Json::Object(
            v.into_iter()
                .filter(|(_, x)| !transient(x))
                .map(|(k, x)| (k, drop_transient(x, stable)))
                .collect(),
        ),
        x => x,
    }
}

/// The exit status upstream 6.0 gives where the reference 3.0.8 gave
/// `rf.rc`. They differ in two documented ways (spec/aa-status-cases/README.md,
/// exit-status table), both 3.0.8 bugs fixed in 6.0:
/// - `--json` when status cannot be read (no module, no filesystem,
///   unreadable `profiles`): 3.0.8 exits 0 and prints nothing; 6.0 exits with
///   the same status as the text report (cases 02, 03, 04, 06, 07);
/// - `--pretty-json` when 3.0.8's own compact JSON is invalid: 3.0.8 cannot
///   re-parse it and exits 42 printing nothing; 6.0 exits 0 (cases 01, 11, 12).
fn expected_rc(r: &Results, arg: &str, rf: &Check) -> Result<i32, String> {
    match arg {
        "json" if rf.rc == 0 && rf.stdout.is_empty() => {
            let d = r.check("aa-status-ref-default")?;
            ensure(d.rc != 0, || {
                "reference --json printed nothing but exited 0".into()
            })?;
            Ok(d.rc)
        }
        "pretty-json" if rf.rc == 42 && rf.stdout.is_empty() => {
            let j = r.check("aa-status-ref-json")?;
            ensure(j.rc == 0 && Json::parse(&j.stdout).is_err(), || {
                "reference --pretty-json exited 42 though its --json is valid".into()
            })?;
            Ok(0)
        }
        _ => Ok(rf.rc),
    }
}

/// The profile names of a label (`a//&:ns:b` → `a`, `b`): what a table or
/// JSON must show for a process, however it lays out stacks and namespaces.
fn label_parts(label: &str) -> Vec<String> {
    label
        .split("//&")
        .map(
            |part| match part.strip_prefix(':').and_then(|r| r.split_once(':')) {
                Some((_, name)) => name.to_string(),
                None => part.to_string(),
            },
        )
        .collect()
}

/// Drops a top-level "root" member (the folder read), which differs by design.
/// Leaves out the top-level `root`, takes the snapshot folder off paths, and
/// cuts a kworker's `comm` at its work queue (`kworker/0:2-events`), which
/// changes between two reads.
fn strip_root(j: Json) -> Json {
    fn norm(j: Json) -> Json {
        match j {
            Json::String(s) => {
                let s = match s.strip_prefix("/tmp/snap/") {
                    Some(rest) => format!("/{rest}"),
                    None => s,
                };
                Json::String(match s.strip_prefix("kworker/") {
                    Some(k) => format!("kworker/{}", k.split('-').next().unwrap_or(k)),
                    None => s,
                })
            }
            Json::Array(v) => Json::Array(v.into_iter().map(norm).collect()),
            Json::Object(v) => Json::Object(v.into_iter().map(|(k, x)| (k, norm(x))).collect()),
            x => x,
        }
    }
    match j {
        Json::Object(v) => norm(Json::Object(
            v.into_iter().filter(|(k, _)| k != "root").collect(),
        )),
        x => x,
    }
}

fn disabled_checks(r: &Results, t: &mut Tally) {
    t.record(
        "apparmor=0: parameters/enabled is N",
        r.check("info-enabled")
            .and_then(|c| ensure(c.out().trim() == "N", || c.describe())),
    );
    t.record(
        "apparmor=0: reference --enabled exits 1",
        r.check("aa-status-ref-enabled")
            .and_then(|c| ensure(c.rc == 1, || c.describe())),
    );
    for arg in STATUS_ARGS {
        t.record(
            &format!("apparmor=0: aa-status {arg}"),
            (|| {
                let rf = r.check(&format!("aa-status-ref-{arg}"))?;
                let ours = r.check(&format!("aa-status-ours-{arg}"))?;
                let want = expected_rc(r, arg, &rf)?;
                ensure(want == ours.rc, || {
                    format!(
                        "exit {} (expected {want}, reference {}); ours: {}",
                        ours.rc,
                        rf.rc,
                        ours.describe()
                    )
                })?;
                // Counts print nothing on stdout in both. The text report's
                // messages are the same lines, but 6.0 moved "apparmor
                // filesystem is not mounted." to stderr (case 04, out-6.0).
                if COUNT_ARGS.contains(arg) {
                    ensure(rf.stdout == ours.stdout, || {
                        format!("stdout {:?}, reference {:?}", ours.out(), rf.out())
                    })
                } else if matches!(*arg, "default" | "verbose") {
                    let lines = |c: &Check| {
                        let mut v = c.stdout.clone();
                        v.extend_from_slice(&c.stderr);
                        String::from_utf8_lossy(&v)
                            .lines()
                            .map(str::to_string)
                            .collect::<BTreeSet<_>>()
                    };
                    ensure(lines(&rf) == lines(&ours), || {
                        format!("ours {}; reference {}", ours.describe(), rf.describe())
                    })
                } else {
                    Ok(())
                }
            })(),
        );
    }
}

#[test]
fn vm_suite() {
    if common::require(common::is_root().then_some(()), "root (VM suite)").is_none() {
        return;
    }
    let qemu = Command::new("qemu-system-x86_64").arg("--version").output();
    if common::require(
        qemu.ok().filter(|o| o.status.success()),
        "qemu-system-x86_64 (VM suite)",
    )
    .is_none()
    {
        return;
    }
    let kernel = Command::new(common::repo().join("scripts/vm/fetch-kernel")).output();
    if common::require(
        kernel.ok().filter(|o| o.status.success()),
        "Debian's cloud kernel (scripts/vm/fetch-kernel, VM suite)",
    )
    .is_none()
    {
        return;
    }
    let start = std::time::Instant::now();
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("vm-suite");
    let bins = [
        format!("aa-status={}", env!("CARGO_BIN_EXE_aa-status")),
        format!("aactl={}", env!("CARGO_BIN_EXE_aactl")),
    ];
    let mut t = Tally::default();

    let status = boot(
        &base.join("status"),
        "status",
        &["--bin", &bins[0], "--bin", &bins[1]],
    );
    t.record(
        "boot status suite",
        status.as_ref().map(drop).map_err(Clone::clone),
    );
    if let Ok(r) = &status {
        println!(
            "vm: kernel {}, guest boot {} ms, steps (ms) {:?}",
            r.note("kernel").unwrap_or_default(),
            r.note("boot_ms").unwrap_or_default(),
            r.step_ms()
        );
        status_checks(r, &mut t);
        loader_checks(r, &mut t);
    }

    let initrd = base.join("status/initrd.gz");
    let initrd = initrd.to_string_lossy().into_owned();
    let disabled = boot(
        &base.join("disabled"),
        "disabled",
        &["--initrd", &initrd, "--append", "apparmor=0"],
    );
    t.record(
        "boot apparmor=0",
        disabled.as_ref().map(drop).map_err(Clone::clone),
    );
    if let Ok(r) = &disabled {
        disabled_checks(r, &mut t);
    }

    println!("vm: total {:.1} s", start.elapsed().as_secs_f64());
    let summary = format!("VM suite: {} passed, {} failed", t.passed, t.failed.len());
    // Straight to the process's stderr, past libtest's capture, so that the
    // line is in every CI log, passing or not.
    let _ = writeln!(std::io::stderr(), "{summary}");
    assert!(t.failed.is_empty(), "VM suite failures: {:?}", t.failed);
}

/// The committed real snapshot (testdata/systems/debian12-vm, captured by
/// scripts/vm/capture-snapshot) is whole and self-consistent: the kernel's
/// `profiles` list matches the `policy/` tree (names and modes, namespaces
/// included), every process has its comm and label, every label names loaded
/// profiles, and the module parameters say AppArmor is enabled. Runs
/// everywhere (no VM).
#[test]
fn snapshot_debian12_vm_is_consistent() {
    let snap = common::repo().join("testdata/systems/debian12-vm");
    let aa = snap.join("sys/kernel/security/apparmor");
    let listed = kernel_profiles(&snap).expect("profiles list");
    assert!(listed.len() >= 40, "only {} profiles", listed.len());

    // policy/: PREFIX is "" in the root namespace, ":ns:" (":a//b:" nested)
    // below. On the live 6.1 kernel a child profile's `name` file holds only
    // its own name (`sub`, `libvirt_leaseshelper`), not `parent//child`:
    // the full name is built from the parents.
    fn walk_ns(dir: &Path, prefix: &str, out: &mut BTreeSet<(String, String)>) {
        fn walk_profiles(dir: &Path, prefix: &str, out: &mut BTreeSet<(String, String)>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                let name = std::fs::read_to_string(p.join("name")).expect("name");
                let mode = std::fs::read_to_string(p.join("mode")).expect("mode");
                assert!(p.join("attach").exists(), "{} lacks attach", p.display());
                let full = format!("{prefix}{}", name.trim_end());
                out.insert((mode.trim_end().to_string(), full.clone()));
                walk_profiles(&p.join("profiles"), &format!("{full}//"), out);
            }
        }
        walk_profiles(&dir.join("profiles"), prefix, out);
        for e in std::fs::read_dir(dir.join("namespaces"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let ns = e.file_name().to_string_lossy().into_owned();
            let inner = if prefix.is_empty() {
                format!(":{ns}:")
            } else {
                format!("{}//{ns}:", prefix.trim_end_matches(':'))
            };
            walk_ns(&e.path(), &inner, out);
        }
    }
    let mut tree = BTreeSet::new();
    walk_ns(&aa.join("policy"), "", &mut tree);
    assert_eq!(listed, tree, "profiles list vs policy/ tree");

    let names: BTreeSet<&str> = listed.iter().map(|p| p.1.as_str()).collect();
    let mut confined = 0;
    for e in std::fs::read_dir(snap.join("proc"))
        .expect("proc")
        .flatten()
    {
        if e.file_name()
            .to_str()
            .is_none_or(|n| n.parse::<u32>().is_err())
        {
            continue;
        }
        let p = e.path();
        assert!(p.join("comm").is_file(), "{} lacks comm", p.display());
        let label = std::fs::read_to_string(p.join("attr/current")).expect("attr/current");
        assert!(label.ends_with('\n'), "{}: label lacks \\n", p.display());
        if let Ok(new) = std::fs::read_to_string(p.join("attr/apparmor/current")) {
            assert_eq!(new, label, "{}: attr/apparmor/current", p.display());
        }
        let label = label.trim_end();
        if label == "unconfined" {
            continue;
        }
        confined += 1;
        let (stack, _mode) = label.rsplit_once(" (").expect("label with mode");
        let mut ns = String::new();
        for part in stack.split("//&") {
            let full = match part.strip_prefix(':').and_then(|r| r.split_once(':')) {
                Some((n, name)) => {
                    ns = format!(":{n}:");
                    format!("{ns}{name}")
                }
                None => format!("{ns}{part}"),
            };
            assert!(
                names.contains(full.as_str()),
                "{}: {full:?} not loaded",
                p.display()
            );
        }
    }
    assert!(confined >= 10, "only {confined} confined processes");
    let enabled = std::fs::read_to_string(snap.join("sys/module/apparmor/parameters/enabled"));
    assert_eq!(enabled.expect("enabled").trim(), "Y");
    assert!(aa.join("features/domain/stack").is_file(), "features tree");
    let mounts = std::fs::read_to_string(snap.join("proc/mounts")).expect("mounts");
    assert!(mounts.contains("securityfs /sys/kernel/security securityfs"));
}

/// `aactl snapshot` keeps the reader's namespace (`.ns_name`): on the live
/// kernel `aactl status --json` said `"namespace": "root"` and the same command
/// on the guest's snapshot `null` (VM check "aactl --root snapshot:
/// status-json same as live"). Checked here on a fixture tree, without a VM.
#[test]
fn aactl_snapshot_keeps_the_namespace_name() {
    let fixture = common::repo().join("testdata/status-aactl/mixed");
    let d = tempfile::tempdir().unwrap();
    let snap = d.path().join("snap");
    let status = |root: &Path| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
            .arg("--root")
            .arg(root)
            .args(["status", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
        .arg("--root")
        .arg(&fixture)
        .arg("snapshot")
        .arg(&snap)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let live = status(&fixture)["namespace"].clone();
    assert!(live.is_string(), "fixture has .ns_name: {live}");
    assert_eq!(status(&snap)["namespace"], live);
}
