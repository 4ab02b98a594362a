//! Profile modes on the live kernel (guest step `modes`): `aactl kill`
//! switches an enforce profile to kill mode and reloads it, a read no rule
//! allows kills the task and is logged `apparmor="KILLED"`, `aactl log`
//! reads it as a killed record; back in enforce the same read is only
//! denied; `aactl prompt` is refused by the 3.0.8 guest before any edit.

use super::{Kernel, Results, Tally, clip, ensure};
use apparmor::policy::ParserVersion;

const SECRET: &str = "/tmp/vmkill/secret";

/// The mode securityfs lists for `name` in check `id`.
fn mode_of(r: &Results, id: &str, name: &str) -> Result<String, String> {
    let c = r.check(id)?;
    c.out()
        .lines()
        .filter_map(|l| l.rsplit_once(" ("))
        .find(|(n, _)| *n == name)
        .map(|(_, m)| m.trim_end_matches(')').to_string())
        .ok_or_else(|| format!("{id}: {name} is not loaded: {}", clip(&c.out())))
}

pub(super) fn modes_checks(k: &Kernel, r: &Results, t: &mut Tally) {
    t.record(
        "modes: aactl kill edits the flag and reloads; securityfs lists kill",
        (|| {
            let l = r.check("modes-load")?;
            ensure(l.rc == 0, || format!("load: {}", l.describe()))?;
            let c = r.check("modes-kill")?;
            let j: serde_json::Value = serde_json::from_slice(&c.stdout)
                .map_err(|e| format!("invalid JSON ({e}): {}", c.describe()))?;
            ensure(c.rc == 0 && j["ok"] == true, || c.describe())?;
            ensure(
                j["results"][0]["changes"][0]["mode_after"] == "kill",
                || c.describe(),
            )?;
            let f = r.check("modes-kill-file")?.out();
            ensure(f.contains("profile vmkill flags=(kill) {"), || f.clone())?;
            let m = mode_of(r, "modes-kill-verify", "vmkill")?;
            ensure(m == "kill", || format!("vmkill is in mode {m}"))
        })(),
    );
    t.record(
        "modes: aactl status counts the kill-mode profile",
        (|| {
            let c = r.check("modes-kill-status")?;
            let j: serde_json::Value = serde_json::from_slice(&c.stdout)
                .map_err(|e| format!("invalid JSON ({e}): {}", c.describe()))?;
            let listed = j["profiles"]["profiles"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|p| p["name"] == "vmkill" && p["mode"] == "kill")
            });
            ensure(c.rc == 0 && listed, || clip(&c.out()))?;
            // vmtest-kill may have been unloaded by the loader step's remove-unknown
            let n = &j["profiles"]["namespaces"][0]["modes"]["kill"];
            ensure(n.as_u64().is_some_and(|n| n >= 1), || {
                format!("kill count {n}: {}", clip(&c.out()))
            })
        })(),
    );
    t.record(
        "modes: in kill mode the denied read kills the task (SIGKILL, nothing read)",
        (|| {
            let c = r.check("modes-kill-denied")?;
            ensure(c.rc == 137 && c.stdout.is_empty(), || c.describe())
        })(),
    );
    let dmesg = r.check("modes-dmesg").map(|c| c.out()).unwrap_or_default();
    let killed: Vec<&str> = dmesg
        .lines()
        .filter(|l| l.contains("profile=\"vmkill\"") && l.contains(SECRET))
        .collect();
    println!("vm ({}): records of the kill-mode read:", k.linux);
    for l in &killed {
        println!("    {l}");
    }
    t.record(
        "modes: the kernel logs the read as apparmor=\"KILLED\"",
        ensure(
            killed
                .iter()
                .any(|l| l.contains("apparmor=\"KILLED\"") && l.contains("operation=\"open\"")),
            || format!("dmesg: {}", clip(&killed.join("\n"))),
        ),
    );
    t.record(
        "modes: aactl log kernel reads it as a killed record",
        (|| {
            let c = r.check("modes-log")?;
            ensure(c.rc == 0, || c.describe())?;
            let hit = c.out().lines().any(|l| {
                serde_json::from_str::<serde_json::Value>(l).is_ok_and(|j| {
                    j["event"] == "AA_RECORD_KILLED"
                        && j["profile"] == "vmkill"
                        && j["name"] == SECRET
                        && j["denied_mask"] == "r"
                })
            });
            ensure(hit, || clip(&c.out()))
        })(),
    );
    t.record(
        "modes: back in enforce the read is denied and the task survives",
        (|| {
            let c = r.check("modes-enforce")?;
            ensure(c.rc == 0, || c.describe())?;
            let m = mode_of(r, "modes-enforce-verify", "vmkill")?;
            ensure(m == "enforce", || format!("vmkill is in mode {m}"))?;
            let d = r.check("modes-enforce-denied")?;
            // busybox cat reports the EACCES and exits 1
            ensure(d.rc == 1 && d.stdout.is_empty(), || d.describe())
        })(),
    );
    if k.aa == ParserVersion::V3_0 {
        t.record(
            "modes: aactl prompt is refused for the guest's 3.0.8 parser, file untouched",
            (|| {
                let c = r.check("modes-prompt")?;
                ensure(
                    c.rc == 2
                        && String::from_utf8_lossy(&c.stderr)
                            .contains("the prompt mode needs AppArmor 4.1 or later"),
                    || c.describe(),
                )?;
                let f = r.check("modes-prompt-file")?.out();
                ensure(f.contains("profile vmkill {"), || f.clone())
            })(),
        );
    } else {
        t.record(
            "modes: aactl prompt edits and reloads with the guest's parser",
            (|| {
                let c = r.check("modes-prompt")?;
                ensure(c.rc == 0, || c.describe())?;
                let f = r.check("modes-prompt-file")?.out();
                ensure(f.contains("profile vmkill flags=(prompt) {"), || f.clone())?;
                // kernels with prompting name the mode `user`
                let m = mode_of(r, "modes-prompt-verify", "vmkill")?;
                ensure(m == "user" || m == "prompt", || {
                    format!("vmkill is in mode {m}")
                })
            })(),
        );
        t.record(
            "modes: aactl mode default_allow reloads; the kernel lists it as unconfined",
            (|| {
                let c = r.check("modes-default-allow")?;
                ensure(c.rc == 0, || c.describe())?;
                let m = mode_of(r, "modes-default-allow-verify", "vmkill")?;
                ensure(m == "unconfined", || format!("vmkill is in mode {m}"))
            })(),
        );
    }
    if k.aa == ParserVersion::V3_0 {
        t.record(
            "modes: aactl mode default_allow is refused for the guest's 3.0.8 parser",
            (|| {
                let c = r.check("modes-default-allow")?;
                ensure(c.rc == 2, || c.describe())
            })(),
        );
    }
    t.record(
        "modes: unload",
        (|| {
            let c = r.check("modes-unload")?;
            ensure(c.rc == 0, || c.describe())
        })(),
    );
}

/// The audit subsystem's state through a stand-in `auditctl` in the guest
/// (`lost` 5, then 9, 13, … at each call).
pub(super) fn audit_checks(r: &Results, t: &mut Tally) {
    t.record(
        "audit: aactl status --json carries auditctl -s (stand-in), lost named",
        (|| {
            let c = r.check("modes-audit-status")?;
            let j: serde_json::Value = serde_json::from_slice(&c.stdout)
                .map_err(|e| format!("invalid JSON ({e}): {}", c.describe()))?;
            let a = &j["audit"];
            ensure(
                c.rc == 0
                    && a["status"]["lost"] == 5
                    && a["status"]["backlog_limit"] == 64
                    && a["problems"][0]
                        .as_str()
                        .is_some_and(|p| p.contains("lost 5 audit records")),
                || clip(&a.to_string()),
            )
        })(),
    );
    t.record(
        "audit: aactl status prints the audit line and the lost records",
        (|| {
            let c = r.check("modes-audit-status-text")?;
            let o = c.out();
            ensure(
                c.rc == 0
                    && o.contains("Audit (auditctl -s): enabled 1, no audit daemon, lost 9, backlog 0 of 64, rate_limit 0.")
                    && o.contains("AppArmor records may be missing: the kernel has lost 9 audit records"),
                || clip(&o),
            )
        })(),
    );
    t.record(
        "audit: aactl log warns that records may be missing",
        (|| {
            let c = r.check("modes-audit-log")?;
            let e = String::from_utf8_lossy(&c.stderr);
            ensure(
                c.rc == 0
                    && !c.stdout.is_empty()
                    && e.contains("aactl: warning: AppArmor records may be missing: the kernel has lost 13 audit records"),
                || c.describe(),
            )
        })(),
    );
}
