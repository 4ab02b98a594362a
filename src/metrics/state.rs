//! The runtime state as metric values: one look at the host ([`collect_state`]).

use crate::inspect::process::{ProfileModes, State, row};
use crate::label::Label;
use crate::system::{Enabled, ProcessScan, System, fs};
use std::collections::BTreeMap;

/// The profile modes every exposition carries for the reader's own namespace, zero when no
/// profile is in them (so that an alert on `mode="complain"` sees the zero, not a gap).
pub const PROFILE_MODES: &[&str] = &["enforce", "complain", "kill", "unconfined", "prompt"];

/// The process label modes every exposition carries, zero when no process is in them.
const PROCESS_MODES: &[&str] = &[
    "enforce",
    "complain",
    "kill",
    "unconfined",
    "prompt",
    "mixed",
];

/// How many distinct policy namespaces, and how many distinct mode words, get their own
/// series; the rest are counted under `other` (a host with thousands of containers, each
/// with its own namespace, or a kernel printing words this crate does not know).
const MAX_NAMESPACES: usize = 64;
const MAX_MODES: usize = 16;
/// Label values longer than this many bytes are counted under `other`.
const MAX_VALUE_LEN: usize = 256;

/// One look at the host's AppArmor state, as metric values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateMetrics {
    /// AppArmor is enabled and its securityfs directory mounted (`apparmor_enabled`).
    pub enabled: bool,
    /// `/proc/sys/kernel/osrelease` under the root, `None` when unreadable.
    pub kernel_release: Option<String>,
    /// The version `apparmor_parser --version` prints (given by the caller: reading it
    /// runs a program), `None` when unknown.
    pub parser_version: Option<String>,
    /// (namespace, mode) → loaded profiles (`apparmor_profiles`). The namespace is relative
    /// to the reader, nested levels joined by `//`; empty for the reader's own. Modes of
    /// [`PROFILE_MODES`] are present for the reader's namespace even when zero.
    pub profiles: BTreeMap<(String, String), u64>,
    /// Label mode → processes (`apparmor_processes`): `enforce`, `complain`, `kill`,
    /// `prompt`, `mixed` (a stack in different modes), `unconfined`; a process whose label
    /// has no mode is counted under its state, `hidden` (the label is not visible from the
    /// reader's namespace), `unreadable` (kernel threads, vanished tasks) or `invalid`
    /// (another security module's text).
    pub processes: BTreeMap<String, u64>,
    /// Unconfined processes whose executable has a loaded profile: it was loaded after they
    /// started (`apparmor_processes_unconfined_with_profile`).
    pub unconfined_with_profile: u64,
    /// The policy revision counter (securityfs `revision`), `None` when absent.
    pub revision: Option<u64>,
    /// What could not be read: (stage, reason). Stages: `enabled`, `profiles`,
    /// `processes`, `revision`. Each counts in `apparmor_scrape_errors_total`.
    pub errors: Vec<(&'static str, String)>,
}

/// Whether AppArmor is on, off (not an error), or cannot be told (an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Toggle {
    /// Enabled: profiles and processes were read.
    On,
    /// Disabled or absent: nothing else to read.
    Off,
    /// Whether it is enabled could not be told (permission).
    Unknown,
}

fn toggle(e: Enabled) -> Toggle {
    match e {
        Enabled::Yes | Enabled::PrivateOnly => Toggle::On,
        Enabled::NoPermission => Toggle::Unknown,
        Enabled::DisabledAtBoot | Enabled::NotAvailable | Enabled::NoPolicyInterface => Toggle::Off,
    }
}

/// A label value: `text` unless it is longer than [`MAX_VALUE_LEN`] or `seen` already holds
/// `max` other values, then `other`.
fn bounded(text: &str, seen: &mut Vec<String>, max: usize) -> String {
    if text.len() > MAX_VALUE_LEN {
        return "other".to_owned();
    }
    if seen.iter().any(|s| s == text) {
        return text.to_owned();
    }
    if seen.len() < max {
        seen.push(text.to_owned());
        return text.to_owned();
    }
    "other".to_owned()
}

/// Reads the state of `sys`. Never fails: what cannot be read is left out and named in
/// [`StateMetrics::errors`]. `parser_version` is passed through to the info metric.
///
/// Reads the module parameters, the `profiles` list, every `/proc/PID` (label and `exe`
/// link; not `comm`) and `revision`; not the `policy/` tree or the features.
pub fn collect_state(sys: &System, parser_version: Option<String>) -> StateMetrics {
    let mut m = StateMetrics {
        parser_version,
        kernel_release: fs::read_limited(
            sys.root(),
            sys.path("/proc/sys/kernel/osrelease"),
            fs::limits::PAGE,
        )
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .filter(|s| !s.is_empty()),
        ..StateMetrics::default()
    };
    match toggle(sys.enabled()) {
        Toggle::On => m.enabled = true,
        Toggle::Off => return m,
        Toggle::Unknown => {
            m.errors.push((
                "enabled",
                format!(
                    "permission denied: {}",
                    sys.parameter_path("enabled").display()
                ),
            ));
            return m;
        }
    }
    for mode in PROFILE_MODES {
        m.profiles.insert((String::new(), (*mode).to_owned()), 0);
    }
    for mode in PROCESS_MODES {
        m.processes.insert((*mode).to_owned(), 0);
    }
    let modes: ProfileModes = match crate::inspect::read_profiles(sys) {
        Ok(list) => {
            let mut namespaces = Vec::new();
            let mut words: Vec<String> = PROFILE_MODES.iter().map(|s| (*s).to_owned()).collect();
            for (name, mode) in list.profiles() {
                let label = Label::new(name.to_owned(), None);
                let comp = label.components();
                let ns = match comp.first() {
                    Some(c) if comp.len() == 1 => c.namespace.unwrap_or(""),
                    _ => "",
                };
                let ns = if ns.is_empty() {
                    String::new()
                } else {
                    bounded(ns, &mut namespaces, MAX_NAMESPACES)
                };
                let word = bounded(mode.as_str(), &mut words, MAX_MODES);
                *m.profiles.entry((ns, word)).or_default() += 1;
            }
            list.profiles()
                .map(|(n, mode)| (n.to_owned(), mode.clone()))
                .collect()
        }
        Err(e) => {
            m.errors.push(("profiles", crate::error::chain(&e)));
            ProfileModes::new()
        }
    };
    // exe only matters for unconfined processes (those with a profile for
    // their executable are counted); comm not at all
    let scan = ProcessScan {
        comm: false,
        exe_only_unconfined: true,
        ..ProcessScan::default()
    };
    let mut words: Vec<String> = PROCESS_MODES.iter().map(|s| (*s).to_owned()).collect();
    let mut unconfined_with_profile = 0;
    let mut processes: BTreeMap<String, u64> = BTreeMap::new();
    // One process at a time: nothing of the 20,000 rows of a busy host is kept.
    let scanned = sys.scan_processes(&scan, |p| {
        let r = row(p.pid, None, p.exe, p.context, &modes);
        let word = match (&r.mode, r.state) {
            (Some(mode), _) => bounded(mode.as_str(), &mut words, MAX_MODES),
            (None, state) => state.as_str().to_owned(),
        };
        *processes.entry(word).or_default() += 1;
        if r.state == State::Unconfined && r.exe_profile.is_some() {
            unconfined_with_profile += 1;
        }
    });
    match scanned {
        Ok(()) => {
            for (k, v) in processes {
                *m.processes.entry(k).or_default() += v;
            }
            m.unconfined_with_profile = unconfined_with_profile;
        }
        Err(e) => m.errors.push(("processes", crate::error::chain(&e))),
    }
    match sys.securityfs() {
        Ok(sfs) => match sys.revision_at(sfs.join("revision")) {
            Ok(n) => m.revision = Some(n),
            Err(e)
                if e.io_error()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) => {}
            Err(e) => m.errors.push(("revision", crate::error::chain(&e))),
        },
        Err(e) => m.errors.push(("revision", crate::error::chain(&e))),
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_beyond_the_bound_are_other() {
        let mut seen = Vec::new();
        assert_eq!(bounded("a", &mut seen, 2), "a");
        assert_eq!(bounded("b", &mut seen, 2), "b");
        assert_eq!(bounded("c", &mut seen, 2), "other");
        assert_eq!(bounded("a", &mut seen, 2), "a");
        assert_eq!(bounded(&"x".repeat(300), &mut Vec::new(), 2), "other");
    }

    #[test]
    fn a_root_without_apparmor_reads_as_disabled() {
        let d = tempfile::tempdir().unwrap();
        let m = collect_state(&System::with_root(d.path()), None);
        assert!(!m.enabled);
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        assert!(m.profiles.is_empty());
    }
}
