//! The status part of the VM suite: the reference aa-status and ours on the
//! live kernel, option by option; aactl's inspection commands, live and on a
//! snapshot; the `apparmor=0` boot.

use super::report::{Json, Report, kernel_profiles};
use super::{Check, Kernel, Results, Tally, clip, ensure};
use apparmor::policy::ParserVersion;
use std::collections::BTreeSet;

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

pub(super) fn status_checks(k: &Kernel, r: &Results, t: &mut Tally) {
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
        kernel.as_ref().map_err(Clone::clone).and_then(|listed| {
            let names = r.check("debian-policy-names")?.out();
            // `apparmor_parser -N` (3.0.8, 4.1 and 5.0 alike) names a profile
            // of a namespace `:ns://name`; the kernel lists `:ns:name`.
            let missing: Vec<_> = names
                .lines()
                .map(
                    |n| match n.strip_prefix(':').and_then(|x| x.split_once("://")) {
                        Some((ns, name)) => format!(":{ns}:{name}"),
                        None => n.to_string(),
                    },
                )
                .filter(|n| !listed.iter().any(|(_, name)| name == n))
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
            let (rf, ours) = same_exit(r, arg)?;
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
    if k.aa >= ParserVersion::V4_1 {
        reference6_checks(r, t);
    }
    aactl_checks(k, r, t, reference.ok());
}

/// The options 4.1 and 5.0 share with upstream 6.0, run by the reference
/// too (guest checks `aa-status-ref6-*`): the same output, as data for JSON,
/// byte for byte for counts and text.
fn reference6_checks(r: &Results, t: &mut Tally) {
    for (id, how) in [
        ("count", "bytes"),
        ("count-json", "json"),
        ("show-profiles-json", "json"),
        ("show-processes", "text"),
        ("filter-mixed-json", "json"),
        ("filter-enforce", "text"),
    ] {
        t.record(
            &format!("aa-status {id} (6.0 option): same as the reference"),
            (|| {
                let rf = r.check(&format!("aa-status-ref6-{id}"))?;
                let ours = r.check(&format!("aa-status-ours6-{id}"))?;
                ensure(rf.rc == ours.rc, || {
                    format!("exit {}, reference {}: {}", ours.rc, rf.rc, ours.describe())
                })?;
                match how {
                    "json" => {
                        let a = Json::parse(&rf.stdout).map_err(|e| format!("reference: {e}"))?;
                        let b = Json::parse(&ours.stdout).map_err(|e| format!("ours: {e}"))?;
                        if a == b {
                            return Ok(());
                        }
                        // Where the reference repeats a key (an exe in two
                        // modes), ours has one key with every entry.
                        let (a, b) = (Report::from_json_value(&a), Report::from_json_value(&b));
                        match (a, b) {
                            (Ok(a), Ok(b)) => a.diff(&b, "reference", "ours"),
                            _ => Err(format!(
                                "ours {}\nreference {}",
                                ours.describe(),
                                rf.describe()
                            )),
                        }
                    }
                    _ => ensure(rf.stdout == ours.stdout, || {
                        format!(
                            "stdout {:?}, reference {:?}",
                            clip(&ours.out()),
                            clip(&rf.out())
                        )
                    }),
                }
            })(),
        );
    }
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

fn aactl_checks(k: &Kernel, r: &Results, t: &mut Tally, reference: Option<Report>) {
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
                .filter(|p| {
                    // A child namespace's profile `:ns:name` is a row with
                    // the cells `:ns:` and `name`.
                    match p.1.strip_prefix(':').and_then(|x| x.split_once(':')) {
                        Some((ns, name)) => !out.lines().any(|l| {
                            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                            cells.contains(&format!(":{ns}:").as_str()) && cells.contains(&name)
                        }),
                        None => !out.contains(p.1.as_str()),
                    }
                })
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
    // The rule classes the live kernel announces: userns (a word of
    // namespaces/mask) and io_uring from 6.12 on; POSIX mqueue on none.
    t.record(
        "aactl status --json: the kernel's rule classes (userns, io_uring, mqueue)",
        run_ok("aactl-status-json").and_then(|c| {
            let j: serde_json::Value =
                serde_json::from_slice(&c.stdout).map_err(|e| format!("invalid JSON: {e}"))?;
            let classes = &j["features"]["rule_classes"];
            let newer = k.mediates_userns();
            let want = serde_json::json!({"userns": newer, "io_uring": newer, "mqueue": false});
            let got = serde_json::json!({
                "userns": classes["userns"],
                "io_uring": classes["io_uring"],
                "mqueue": classes["mqueue"],
            });
            t.say(&format!("aactl status --json rule classes: {classes}"));
            ensure(got == want, || format!("{got}, expected {want}"))
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
    // Live, the installed parser is shown (the release's own); a snapshot
    // has none, so that line and the "parser" member are left out of the
    // comparison below.
    t.record(
        "aactl status shows the release's parser",
        (|| {
            let c = run_ok("aactl-status")?;
            let want = format!("(policy language {}).", k.aa.as_str());
            ensure(
                c.out()
                    .lines()
                    .any(|l| l.starts_with("Parser: /sbin/apparmor_parser ") && l.ends_with(&want)),
                || format!("no parser line for {}: {}", k.aa.as_str(), clip(&c.out())),
            )
        })(),
    );
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
                            .filter(|l| !l.starts_with("Parser: "))
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
            v.into_iter()
                .filter(|(k, _)| k != "root" && k != "parser")
                .collect(),
        )),
        x => x,
    }
}

pub(super) fn disabled_checks(k: &Kernel, r: &Results, t: &mut Tally) {
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
    // 3.0.8's --json exits 0 printing nothing when the filesystem is not
    // there; 4.1 and 5.0 exit 3 like the text report (as upstream 6.0).
    t.record(
        "apparmor=0: reference --json exit status (3.0.8: 0, 4.1+: 3)",
        r.check("aa-status-ref-json").and_then(|c| {
            let want = if k.aa >= ParserVersion::V4_1 { 3 } else { 0 };
            ensure(c.rc == want && c.stdout.is_empty(), || c.describe())
        }),
    );
    for arg in STATUS_ARGS {
        t.record(
            &format!("apparmor=0: aa-status {arg}"),
            (|| {
                let (rf, ours) = same_exit(r, arg)?;
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

/// The reference's and our aa-status run with `arg` (in that order), once
/// our exit code is the one expected from the reference's.
fn same_exit(r: &Results, arg: &str) -> Result<(Check, Check), String> {
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
    Ok((rf, ours))
}
