//! The profile generation part of the VM suite (guest step `genprof`):
//! `aactl genprof` starts a profile for a small `#!/bin/sh` program in
//! complain mode and runs it, `aactl triage --json` gives the plan of its
//! records from the ring buffer, the shell answers it, `aactl triage
//! --answers --set-mode enforce` writes the rules and switches to enforce
//! mode; the program then runs under the profile with no denial.

use super::{Kernel, Results, Tally, ensure};

const PROFILE: &str = "/usr/local/bin/aa-demo";

/// The AppArmor records of the demo profile (and its hats) in the ring buffer.
fn records<'a>(dmesg: &'a str, event: &str) -> Vec<&'a str> {
    let ev = format!("apparmor=\"{event}\"");
    let exact = format!("profile=\"{PROFILE}\"");
    let hat = format!("profile=\"{PROFILE}//");
    dmesg
        .lines()
        .filter(|l| l.contains(&ev) && (l.contains(&exact) || l.contains(&hat)))
        .collect()
}

pub(super) fn genprof_checks(_k: &Kernel, r: &Results, t: &mut Tally) {
    t.record(
        "genprof: starting profile written and loaded in complain mode, program run",
        (|| {
            let c = r.check("genprof-run")?;
            ensure(c.rc == 0, || format!("genprof-run: {}", c.describe()))?;
            let m = r.check("genprof-run-mode")?;
            ensure(m.out().trim() == "complain", || {
                format!("mode after genprof: {}", m.describe())
            })
        })(),
    );
    if let Ok(c) = r.check("genprof-plan") {
        println!(
            "vm: genprof plan for {PROFILE}:\n{}",
            String::from_utf8_lossy(&c.stdout)
        );
    }
    t.record(
        "genprof: the plan from the ring buffer has proposals for the program",
        (|| {
            let c = r.check("genprof-plan")?;
            ensure(c.rc == 0, || format!("genprof-plan: {}", c.describe()))?;
            let j: serde_json::Value = serde_json::from_slice(&c.stdout)
                .map_err(|e| format!("genprof-plan: invalid JSON ({e}): {}", c.describe()))?;
            let props = j["proposals"].as_array().cloned().unwrap_or_default();
            ensure(
                props.iter().any(|p| {
                    p["candidates"][0]
                        .as_str()
                        .is_some_and(|c| c.contains("/etc/aa-demo.conf"))
                }),
                || format!("no proposal for /etc/aa-demo.conf: {}", c.describe()),
            )
        })(),
    );
    let profile = r
        .check("genprof-profile")
        .map(|c| c.out())
        .unwrap_or_default();
    println!("vm: the generated profile:\n{profile}");
    t.record(
        "genprof: answers applied, profile file in enforce mode with the rules",
        (|| {
            let c = r.check("genprof-apply")?;
            ensure(c.rc == 0, || format!("genprof-apply: {}", c.describe()))?;
            ensure(
                !profile.contains("complain") && profile.contains("/etc/aa-demo.conf r,"),
                || format!("generated profile:\n{profile}"),
            )
        })(),
    );
    t.record(
        "genprof: the kernel has the profile in enforce mode",
        (|| {
            let m = r.check("genprof-mode")?;
            ensure(m.out().trim() == "enforce", || {
                format!("mode after --set-mode enforce: {}", m.describe())
            })
        })(),
    );
    let dmesg = r
        .check("genprof-dmesg")
        .map(|c| c.out())
        .unwrap_or_default();
    t.record(
        "genprof: the program runs under the enforce-mode profile, exit 0, output written",
        (|| {
            let c = r.check("genprof-enforced")?;
            ensure(c.rc == 0, || format!("genprof-enforced: {}", c.describe()))?;
            let o = r.check("genprof-enforced-out")?;
            ensure(o.out() == "hello\n", || {
                format!("output file: {}", o.describe())
            })
        })(),
    );
    t.record(
        "genprof: complain-mode records logged, no DENIED record for the profile",
        (|| {
            ensure(dmesg.contains("name=\"aa-demo-fence-2\""), || {
                "the second fence's load record is not in the ring buffer".to_owned()
            })?;
            ensure(!records(&dmesg, "ALLOWED").is_empty(), || {
                "no ALLOWED record of the complain-mode run".to_owned()
            })?;
            let denied = records(&dmesg, "DENIED");
            ensure(denied.is_empty(), || {
                format!("DENIED records:\n{}", denied.join("\n"))
            })
        })(),
    );
}
