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
use crate::policy::check::needs_newer;

/// Signal names that releases before 5.0 know only by their older names.
const NEW_SIGNAL_NAMES: &[(&str, &str)] = &[("tstp", "stp"), ("poll", "io")];

/// `d` as release `v` of apparmor_parser accepts it: unchanged, made
/// coarser, or no rule with the reason (see the module doc). Whether a
/// release knows a construct is decided by the checker's release gates
/// ([`needs_newer`]), the same that `aactl check --parser-version` applies.
///
/// # Errors
/// [`NoRule`] when release `v` has no rule for the access.
pub fn for_release(d: Draft, v: ParserVersion) -> Result<Draft, NoRule> {
    let Draft::Rule(mut e) = d else {
        return Ok(d);
    };
    if v < ParserVersion::V4_1 {
        if let Rule::Network(c) = &mut e.rule {
            c.perms = None;
            c.args.retain(|a| matches!(a, Arg::Word(_)));
        }
    }
    if v < ParserVersion::V5_0 {
        old_signal_names(&mut e);
    }
    match needs_newer(&e, v) {
        Some(why) => Err(NoRule(why)),
        None => Ok(Draft::Rule(e)),
    }
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
