//! Suggested rules in the language of an older `apparmor_parser`.
//!
//! [`for_release`] turns a rule built for the newest language into one the
//! given release accepts, found by running each release's parser on every
//! rule kind and option triage writes:
//!
//! * 3.0 has no permissions and no address or port conditionals on
//!   `network` rules: a fine-grained network rule becomes the coarser
//!   `network FAMILY [TYPE],` (it allows more than the record needed);
//! * 3.0 has no `userns`, `io_uring` or `mqueue` rules: such a record
//!   gives no rule (say why) rather than a rule the parser rejects;
//! * 3.0 does not know the mount options `symfollow`, `nosymfollow`,
//!   `nostrictatime`, `lazytime` and `nolazytime`: no rule (dropping an
//!   option from an exact `options=` list would not allow the mount);
//! * 3.0 and 4.1 spell the signals `tstp` and `poll` as `stp` and `io`
//!   (the same signals, the older names).
//!
//! Everything else triage writes (file, capability, unix with peers, dbus,
//! ptrace, mount, umount, pivot_root, change_profile) is accepted by every
//! release from 3.0 on.

use super::{Draft, NoRule};
use crate::policy::ParserVersion;
use crate::policy::ast::{Arg, CondValue, Rule, RuleEntry};

/// Mount options that apparmor_parser 3.0 rejects.
const MOUNT_OPTIONS_SINCE_4: &[&str] = &[
    "symfollow",
    "nosymfollow",
    "nostrictatime",
    "lazytime",
    "nolazytime",
];

/// Signal names that releases before 5.0 know only by their older names.
const NEW_SIGNAL_NAMES: &[(&str, &str)] = &[("tstp", "stp"), ("poll", "io")];

/// `d` as release `v` of apparmor_parser accepts it: unchanged, made
/// coarser, or no rule with the reason (see the module doc).
///
/// # Errors
/// [`NoRule`] when release `v` has no rule for the access.
pub fn for_release(d: Draft, v: ParserVersion) -> Result<Draft, NoRule> {
    let Draft::Rule(mut e) = d else {
        return Ok(d);
    };
    let needs = |kind: &str, since: &str| {
        NoRule(format!(
            "{kind} rules need apparmor_parser {since} or later (writing for {})",
            v.as_str()
        ))
    };
    if v < ParserVersion::V4_1 {
        match &mut e.rule {
            Rule::Network(c) => {
                c.perms = None;
                c.args.retain(|a| matches!(a, Arg::Word(_)));
            }
            Rule::Userns(_) => return Err(needs("userns", "4.1")),
            Rule::IoUring(_) => return Err(needs("io_uring", "4.1")),
            Rule::Mqueue(_) => return Err(needs("mqueue", "4.1")),
            Rule::Mount(c) | Rule::Remount(c) => {
                for w in c
                    .conds()
                    .filter(|c| c.name == "options")
                    .flat_map(|c| c.values())
                {
                    if MOUNT_OPTIONS_SINCE_4.contains(&w.text.as_str()) {
                        return Err(NoRule(format!(
                            "mount option {} needs apparmor_parser 4.1 or later (writing for {})",
                            w.text,
                            v.as_str()
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    if v < ParserVersion::V5_0 {
        old_signal_names(&mut e);
    }
    Ok(Draft::Rule(e))
}

/// Renames `set=` signals to the spelling releases before 5.0 know.
fn old_signal_names(e: &mut RuleEntry) {
    let Rule::Signal(c) = &mut e.rule else {
        return;
    };
    for a in &mut c.args {
        let Arg::Cond(cond) = a else {
            continue;
        };
        if cond.name != "set" {
            continue;
        }
        let words = match &mut cond.value {
            CondValue::Single(w) => std::slice::from_mut(w),
            CondValue::List(ws) => ws.as_mut_slice(),
            _ => continue,
        };
        for w in words {
            if let Some((_, old)) = NEW_SIGNAL_NAMES.iter().find(|(new, _)| w.text == *new) {
                w.text = (*old).to_owned();
            }
        }
    }
}
