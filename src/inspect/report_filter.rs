//! Filters on the status report (`aactl status --mode/--namespace/--profile/
//! --profile-regex`): they keep the profiles, and the processes confined by
//! them, that every given condition selects, and recount the namespaces.

use super::process::PsRow;
use super::report::{NamespaceCounts, ProfileRow, StatusReport};
use crate::label::Mode;
use regex::Regex;
use std::collections::BTreeMap;

/// What `aactl status` keeps. Every condition given must hold; lists match
/// any of their values. The empty filter keeps everything.
#[derive(Debug, Clone, Default)]
pub struct StatusFilter {
    /// Profile modes (`enforce`, `complain`, …).
    pub modes: Vec<Mode>,
    /// Policy namespaces (relative to the reader, as listed: `ns1`,
    /// `ns1//ns2`).
    pub namespaces: Vec<String>,
    /// Profile names, exact: a name matches itself and its children
    /// (`NAME//hat`); written `:NS:NAME` it also names the namespace.
    pub profiles: Vec<String>,
    /// Profiles whose name (or `:NS:NAME`) this regex finds (unanchored).
    pub profile_regex: Option<Regex>,
}

impl StatusFilter {
    /// True when the filter keeps everything.
    pub fn is_empty(&self) -> bool {
        self.modes.is_empty()
            && self.namespaces.is_empty()
            && self.profiles.is_empty()
            && self.profile_regex.is_none()
    }

    /// Does the profile `name` of namespace `ns` (`None`: the reader's own)
    /// in mode `mode` (`None`: not known) pass?
    pub fn keeps(&self, ns: Option<&str>, name: &str, mode: Option<&Mode>) -> bool {
        if !self.modes.is_empty() && !mode.is_some_and(|m| self.modes.contains(m)) {
            return false;
        }
        if !self.namespaces.is_empty()
            && !ns.is_some_and(|n| self.namespaces.iter().any(|w| w == n))
        {
            return false;
        }
        let qualified = ns.map(|n| format!(":{n}:{name}"));
        let names = || std::iter::once(name).chain(qualified.as_deref());
        if !self.profiles.is_empty()
            && !names().any(|n| {
                self.profiles.iter().any(|w| {
                    n == w
                        || n.strip_prefix(w.as_str())
                            .is_some_and(|r| r.starts_with("//"))
                })
            })
        {
            return false;
        }
        if let Some(re) = &self.profile_regex
            && !names().any(|n| re.is_match(n))
        {
            return false;
        }
        true
    }

    /// Does a process pass: one profile of its stack passes (with that
    /// profile's own mode, else the label's)?
    fn keeps_process(&self, p: &PsRow) -> bool {
        p.stack.iter().any(|s| {
            self.keeps(
                s.namespace.as_deref(),
                &s.profile,
                s.mode.as_ref().or(p.mode.as_ref()),
            )
        })
    }

    /// Keeps in `r` what the filter selects: profiles (recounting
    /// [`super::report::ProfilesSection::namespaces`] and `total`), confined processes,
    /// and unconfined processes whose executable's profile passes (as a
    /// profile of the reader's namespace in mode `unconfined`, the mode the
    /// process runs in).
    pub fn apply(&self, r: &mut StatusReport) {
        if self.is_empty() {
            return;
        }
        r.profiles
            .profiles
            .retain(|p| self.keeps(p.namespace.as_deref(), &p.name, Some(&p.mode)));
        r.profiles.total = r.profiles.profiles.len();
        r.profiles.namespaces = count_namespaces(&r.profiles.profiles);
        r.processes.retain(|p| self.keeps_process(p));
        r.unconfined_with_profile.retain(|p| {
            p.exe_profile
                .as_deref()
                .is_some_and(|e| self.keeps(None, e, Some(&Mode::Unconfined)))
        });
    }
}

/// Profile counts per namespace of `rows` (sorted by namespace, as the report lists them).
pub(super) fn count_namespaces(rows: &[ProfileRow]) -> Vec<NamespaceCounts> {
    let mut namespaces: Vec<NamespaceCounts> = Vec::new();
    for r in rows {
        if namespaces.last().is_none_or(|n| n.namespace != r.namespace) {
            namespaces.push(NamespaceCounts {
                namespace: r.namespace.clone(),
                total: 0,
                modes: BTreeMap::new(),
            });
        }
        if let Some(n) = namespaces.last_mut() {
            n.total += 1;
            *n.modes.entry(r.mode.as_str().to_owned()).or_default() += 1;
        }
    }
    namespaces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_match_exactly_with_children() {
        let f = StatusFilter {
            profiles: vec!["man".into()],
            ..StatusFilter::default()
        };
        assert!(f.keeps(None, "man", None));
        assert!(f.keeps(None, "man//filter", None));
        assert!(!f.keeps(None, "man_filter", None));
        assert!(!f.keeps(None, "/usr/bin/man", None));
        assert!(f.keeps(Some("ns"), "man", None));
        let q = StatusFilter {
            profiles: vec![":ns:man".into()],
            ..StatusFilter::default()
        };
        assert!(q.keeps(Some("ns"), "man", None) && !q.keeps(None, "man", None));
        let m = StatusFilter {
            modes: vec![Mode::Complain],
            namespaces: vec!["ns".into()],
            ..StatusFilter::default()
        };
        assert!(m.keeps(Some("ns"), "a", Some(&Mode::Complain)));
        assert!(!m.keeps(None, "a", Some(&Mode::Complain)));
        assert!(!m.keeps(Some("ns"), "a", Some(&Mode::Enforce)));
        let re = StatusFilter {
            profile_regex: Some(Regex::new("^vmtest-(en|co)").unwrap()),
            ..StatusFilter::default()
        };
        assert!(re.keeps(None, "vmtest-enforce", None));
        assert!(!re.keeps(None, "vmtest-kill", None));
        assert!(re.keeps(Some("vmns"), "vmtest-complain", None));
    }
}
