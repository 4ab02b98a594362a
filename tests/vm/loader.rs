//! The loader part of the VM suite (guest steps `loader` and `userns`): load,
//! replace, unload, mode changes, load errors, denials read back with
//! `aactl log kernel`, remove-unknown; user namespace mediation.

use super::{Check, Kernel, Results, Tally, clip, ensure};
use std::collections::{BTreeMap, BTreeSet};

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
pub(super) fn loader_checks(k: &Kernel, r: &Results, t: &mut Tally) {
    // A small shipped profile file and its profiles (Debian 12's usr.bin.man).
    let (file, man) = k.replace;
    // 1. replace, load of a loaded file, unload, load.
    t.record(
        &format!(
            "loader: replace {file}, its {} profiles in securityfs",
            man.len()
        ),
        (|| {
            let j = json_ok(&r.check("loader-replace")?)?;
            let done: BTreeSet<&str> = j["results"][0]["report"]["done"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["name"].as_str())
                .collect();
            // The parser names a child profile by its own name only.
            let own = |n: &str| n.rsplit("//").next().unwrap_or(n).to_string();
            ensure(
                man.iter().all(|(n, _)| done.contains(own(n).as_str())),
                || format!("replaced: {done:?}"),
            )?;
            expect_listed(r, "loader-replace-verify", man, true)
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
        &format!("loader: unload {file}, its profiles gone from securityfs"),
        (|| {
            json_ok(&r.check("loader-unload")?)?;
            expect_listed(r, "loader-unload-verify", man, false)
        })(),
    );
    t.record(
        &format!("loader: load {file} again, listed"),
        (|| {
            json_ok(&r.check("loader-reload")?)?;
            expect_listed(r, "loader-reload-verify", man, true)
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
    let known: &[(&str, Option<&str>)] = &[(man[0].0, None), ("klogd", None)];
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
                planned.iter().all(|n| {
                    !n.starts_with(':') && !man.iter().any(|m| m.0 == *n) && *n != "klogd"
                }),
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
    t.record(
        "loader: aactl metrics counts the kernel's records",
        (|| {
            let c = r.check("loader-metrics")?;
            let o = c.out();
            ensure(
                c.rc == 0 && o.lines().any(|l| l == "apparmor_enabled 1"),
                || c.describe(),
            )?;
            ensure(
                o.contains("apparmor_profiles{namespace=\"\",mode=\"enforce\"}"),
                || format!("no enforce profiles: {}", clip(&o)),
            )?;
            // the counter of (profile, event) summed over classes, equal to
            // the ring buffer's records of that kind for the profile
            let counted = |profile: &str, event: &str| -> u64 {
                let head =
                    format!("apparmor_records_total{{profile=\"{profile}\",event=\"{event}\",");
                o.lines()
                    .filter(|l| l.starts_with(&head) && l.contains("operation=\"open\""))
                    .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                    .sum::<f64>() as u64
            };
            let logged = |kind: &str, profile: &str| -> u64 {
                aa_lines
                    .iter()
                    .filter(|l| {
                        l.contains(&format!("apparmor=\"{kind}\""))
                            && l.contains(&format!("profile=\"{profile}\""))
                            && l.contains("operation=\"open\"")
                    })
                    .count() as u64
            };
            for (profile, event, kind) in [
                ("vmdeny-enforce", "denied", "DENIED"),
                ("vmdeny-complain", "allowed", "ALLOWED"),
            ] {
                let (n, want) = (counted(profile, event), logged(kind, profile));
                ensure(want >= 1 && n == want, || {
                    format!(
                        "{profile}: {n} {event} counted, {want} in the ring buffer: {}",
                        clip(&o)
                    )
                })?;
            }
            Ok(())
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

/// The `userns` step: `unshare -U` under a profile without `userns,`. Linux
/// 6.12+ announces userns mediation (`namespaces/mask` holds `userns_create`)
/// and, with a policy compiled for it (the pinned features of 4.1 and 5.0),
/// denies it and logs `operation="userns_create"`; our log reader finds the
/// record and suggests a `userns` rule. 6.1 mediates nothing of it.
pub(super) fn userns_checks(k: &Kernel, r: &Results, t: &mut Tally) {
    t.record(
        "userns: the deny profile loads",
        r.check("userns-load")
            .and_then(|c| ensure(c.rc == 0, || c.describe())),
    );
    if !k.mediates_userns() {
        t.record(
            "userns: not mediated (no namespaces/mask): unshare -U under a profile succeeds",
            (|| {
                let f = r.check("userns-features")?;
                ensure(f.rc != 0, || {
                    format!("namespaces/mask exists: {}", f.describe())
                })?;
                let c = r.check("userns-deny")?;
                ensure(c.rc == 0, || c.describe())
            })(),
        );
        return;
    }
    t.record(
        "userns: namespaces/mask announces userns_create",
        r.check("userns-features").and_then(|c| {
            ensure(
                c.rc == 0 && c.out().split_whitespace().any(|w| w == "userns_create"),
                || c.describe(),
            )
        }),
    );
    t.record(
        "userns: unshare -U denied without a userns rule, allowed with one and unconfined",
        (|| {
            let d = r.check("userns-deny")?;
            ensure(
                d.rc != 0 && String::from_utf8_lossy(&d.stderr).contains("Permission denied"),
                || format!("deny: {}", d.describe()),
            )?;
            for id in ["userns-load-allow", "userns-allow", "userns-unconfined"] {
                let c = r.check(id)?;
                ensure(c.rc == 0, || format!("{id}: {}", c.describe()))?;
            }
            Ok(())
        })(),
    );
    let dmesg = r.check("userns-dmesg").map(|c| c.out()).unwrap_or_default();
    let line = dmesg
        .lines()
        .find(|l| l.contains("operation=\"userns_create\"") && l.contains("vmuserns-deny"));
    if let Some(l) = line {
        t.say(&format!("userns denial: {l}"));
    }
    t.record(
        "userns: the ring buffer holds the userns_create denial",
        ensure(
            line.is_some_and(|l| {
                l.contains("apparmor=\"DENIED\"") && l.contains("class=\"namespace\"")
            }),
            || {
                format!(
                    "no DENIED userns_create record of vmuserns-deny in dmesg ({} lines)",
                    dmesg.lines().count()
                )
            },
        ),
    );
    t.record(
        "userns: aactl log kernel finds the denial, --suggest a userns rule",
        (|| {
            let c = r.check("userns-log")?;
            ensure(c.rc == 0, || c.describe())?;
            let found = c.out().lines().any(|l| {
                serde_json::from_str::<serde_json::Value>(l).is_ok_and(|j| {
                    j["event"] == "AA_RECORD_DENIED"
                        && j["operation"] == "userns_create"
                        && j["profile"] == "vmuserns-deny"
                })
            });
            ensure(found, || format!("records: {}", clip(&c.out())))?;
            let s = r.check("userns-log-suggest")?;
            let o = s.out();
            let block = o
                .find("profile vmuserns-deny {")
                .map(|i| &o[i..])
                .map(|b| &b[..b.find("\n}").unwrap_or(b.len())]);
            ensure(
                s.rc == 0
                    && block.is_some_and(|b| b.lines().any(|l| l.trim().starts_with("userns"))),
                || s.describe(),
            )
        })(),
    );
}
