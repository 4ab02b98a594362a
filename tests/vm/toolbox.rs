//! The toolbox part of the VM suite (guest step `toolbox`): `aactl exec` puts the
//! command under the profile (at exec, at once, stacked, in a namespace; a denied write
//! is logged against it; a missing profile and a refused change are named), the
//! library's `runtime::spawn_under` does the same for a child, `aactl unconfined` lists
//! a listening busybox `nc` without a profile and not one under a profile, and names the
//! profile that attaches to one started before it was loaded; `aactl features --write`
//! gives a file `apparmor_parser -M` compiles with.

use super::{Kernel, Results, Tally, ensure};
use serde_json::Value;

/// `check`'s stdout is exactly one label line `want`.
fn label_is(r: &Results, id: &str, want: &str) -> Result<(), String> {
    let c = r.check(id)?;
    ensure(c.rc == 0 && c.out().trim_end() == want, || {
        format!("{id}: want {want:?}: {}", c.describe())
    })
}

fn unconfined_json(r: &Results, id: &str) -> Result<Vec<Value>, String> {
    let c = r.check(id)?;
    ensure(c.rc == 0, || format!("{id}: {}", c.describe()))?;
    let j: Value = serde_json::from_slice(&c.stdout)
        .map_err(|e| format!("{id}: invalid JSON ({e}): {}", c.describe()))?;
    Ok(j["processes"].as_array().cloned().unwrap_or_default())
}

fn pid_note(r: &Results, key: &str) -> Result<u64, String> {
    r.note(key)
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("note {key} missing"))
}

pub(super) fn toolbox_checks(_k: &Kernel, r: &Results, t: &mut Tally) {
    t.record(
        "exec: the command runs under the profile",
        label_is(r, "toolbox-exec", "vmexec (enforce)"),
    );
    t.record(
        "exec -i: changed at once, the command runs under the profile",
        label_is(r, "toolbox-exec-immediate", "vmexec (enforce)"),
    );
    t.record(
        "exec --stack: the stacked label",
        label_is(r, "toolbox-exec-stack", "vmexec//&vmexec2 (enforce)"),
    );
    t.record(
        "exec -n: a profile of a child namespace",
        (|| {
            let c = r.check("toolbox-exec-ns")?;
            ensure(c.rc == 0 && c.out().contains("vmtest-ns"), || {
                format!("toolbox-exec-ns: {}", c.describe())
            })
        })(),
    );
    t.record(
        "exec without -p: the command runs unchanged",
        label_is(r, "toolbox-exec-plain", "unconfined"),
    );
    t.record(
        "exec: a denied write is refused and logged against the profile",
        (|| {
            let c = r.check("toolbox-exec-denied")?;
            ensure(c.rc != 0, || {
                format!("toolbox-exec-denied: {}", c.describe())
            })?;
            let d = r.check("toolbox-exec-dmesg")?.out();
            ensure(
                d.lines().any(|l| {
                    l.contains("apparmor=\"DENIED\"")
                        && l.contains("profile=\"vmexec\"")
                        && l.contains("name=\"/tmp/vmexec-denied\"")
                }),
                || "no DENIED record of vmexec for /tmp/vmexec-denied in dmesg".into(),
            )
        })(),
    );
    t.record(
        "exec: a profile that is not loaded is named (exit 2)",
        (|| {
            let c = r.check("toolbox-exec-missing")?;
            let err = String::from_utf8_lossy(&c.stderr);
            ensure(
                c.rc == 2 && err.contains("profile 'vm-no-such-profile' is not loaded"),
                || format!("toolbox-exec-missing: {}", c.describe()),
            )
        })(),
    );
    t.record(
        "exec: a change the confinement does not allow is 'not permitted'",
        (|| {
            let c = r.check("toolbox-exec-notpermitted")?;
            let err = String::from_utf8_lossy(&c.stderr);
            ensure(
                c.rc == 2 && err.contains("not permitted to change to profile 'vmexec'"),
                || format!("toolbox-exec-notpermitted: {}", c.describe()),
            )
        })(),
    );
    if r.check("toolbox-spawn").is_ok() {
        t.record(
            "runtime::spawn_under: the child runs under the profile, the parent does not",
            (|| {
                let c = r.check("toolbox-spawn")?;
                let out = c.out();
                ensure(
                    c.rc == 0
                        && out.lines().any(|l| l == "vmexec (enforce)")
                        && out.lines().any(|l| l == "parent: unconfined"),
                    || format!("toolbox-spawn: {}", c.describe()),
                )
            })(),
        );
    }
    t.record(
        "unconfined: the three nc listened (ports 7001-7003 in /proc/net)",
        {
            let polls = r.note("toolbox-listen-polls").unwrap_or_default();
            ensure(polls.trim() != "600", || {
                "the ports never all listened".into()
            })
        },
    );
    t.record(
        "unconfined: the unconfined nc is listed, the confined one is not",
        (|| {
            let rows = unconfined_json(r, "toolbox-unconfined-json")?;
            let (free, held) = (
                pid_note(r, "toolbox-nc-unconfined")?,
                pid_note(r, "toolbox-nc-confined")?,
            );
            let row = rows
                .iter()
                .find(|p| p["pid"].as_u64() == Some(free))
                .ok_or_else(|| format!("pid {free} (nc -l -p 7001) not listed: {rows:?}"))?;
            ensure(
                row["sockets"].as_array().is_some_and(|s| {
                    s.iter().any(|s| {
                        s["socket"]["local"]
                            .as_str()
                            .is_some_and(|l| l.ends_with(":7001"))
                            && s["socket"]["state"] == "LISTEN"
                    })
                }),
                || format!("pid {free}: no LISTEN socket on 7001: {row}"),
            )?;
            ensure(
                !rows.iter().any(|p| p["pid"].as_u64() == Some(held)),
                || format!("the confined nc (pid {held}) is listed"),
            )
        })(),
    );
    t.record(
        "unconfined: a profile loaded after the start attaches by pattern (has_profile)",
        (|| {
            let rows = unconfined_json(r, "toolbox-unconfined-json")?;
            let late = pid_note(r, "toolbox-nc-late")?;
            let row = rows
                .iter()
                .find(|p| p["pid"].as_u64() == Some(late))
                .ok_or_else(|| format!("pid {late} (vmnc-late) not listed"))?;
            ensure(
                row["attach"]["profile"] == "vmnc-late" && row["has_profile"] == true,
                || format!("pid {late}: {row}"),
            )
        })(),
    );
    t.record(
        "unconfined: --all and --paranoid list at least as much; the table runs",
        (|| {
            let n = unconfined_json(r, "toolbox-unconfined-json")?.len();
            let all = unconfined_json(r, "toolbox-unconfined-all-json")?.len();
            let par = unconfined_json(r, "toolbox-unconfined-paranoid-json")?.len();
            ensure(n <= all && all <= par, || format!("{n} <= {all} <= {par}"))?;
            let etc = unconfined_json(r, "toolbox-unconfined-etc-json")?;
            let free = pid_note(r, "toolbox-nc-unconfined")?;
            ensure(etc.iter().any(|p| p["pid"].as_u64() == Some(free)), || {
                format!("with /etc/apparmor.d: pid {free} not listed")
            })?;
            let c = r.check("toolbox-unconfined")?;
            ensure(
                c.rc == 0 && c.out().contains("vmnc-late (loaded, not applied)"),
                || format!("toolbox-unconfined: {}", c.describe()),
            )
        })(),
    );
    t.record(
        "features --write: apparmor_parser -M compiles with the written ABI",
        (|| {
            let w = r.check("toolbox-features-write")?;
            ensure(w.rc == 0, || {
                format!("toolbox-features-write: {}", w.describe())
            })?;
            let c = r.check("toolbox-features-compile")?;
            let bytes: u64 = c.out().trim().parse().unwrap_or(0);
            ensure(c.rc == 0 && bytes > 0, || {
                format!("toolbox-features-compile: {}", c.describe())
            })
        })(),
    );
}
