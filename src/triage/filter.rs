//! Filters shared by every triage view (`--profile NAME`, `--profile-regex
//! REGEX`, `--operation`, `--class`, `--since/--until`, `--boot`, `--mode`,
//! `--pid`, `--comm`). Times people type are read by
//! [`crate::log::time::parse_time`].

use super::classify::{Category, category, profiles_into};
use crate::log::{EventType, Record};
use regex::Regex;

/// Which event kinds a view keeps (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeSet {
    /// `DENIED` and `KILLED`.
    pub denied: bool,
    /// `ALLOWED` (complain mode) and `AUTO`.
    pub allowed: bool,
    /// `AUDIT`.
    pub audit: bool,
    /// Everything else (`STATUS`, `HINT`, `ERROR`).
    pub other: bool,
}

impl Default for ModeSet {
    /// Denied and allowed: the accesses the policy did not grant (complain
    /// mode logs them as `ALLOWED`), which are the ones a rule is needed for.
    fn default() -> Self {
        ModeSet {
            denied: true,
            allowed: true,
            audit: false,
            other: false,
        }
    }
}

impl ModeSet {
    /// Parses `denied`, `allowed`, `audit`, `all` (comma-separated lists
    /// allowed: `denied,audit`).
    ///
    /// # Errors
    /// The unknown word.
    pub fn parse(s: &str) -> Result<ModeSet, String> {
        let mut m = ModeSet {
            denied: false,
            allowed: false,
            audit: false,
            other: false,
        };
        for w in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match w {
                "denied" => m.denied = true,
                "allowed" => m.allowed = true,
                "audit" => m.audit = true,
                "all" => {
                    m = ModeSet {
                        denied: true,
                        allowed: true,
                        audit: true,
                        other: true,
                    }
                }
                other => {
                    return Err(format!(
                        "unknown mode {other:?} (expected denied, allowed, audit or all)"
                    ));
                }
            }
        }
        Ok(m)
    }

    /// True when `e` is kept.
    pub fn keeps(&self, e: EventType) -> bool {
        match e {
            EventType::Denied | EventType::Killed => self.denied,
            EventType::Allowed | EventType::Auto => self.allowed,
            EventType::Audit => self.audit,
            EventType::Invalid => false,
            _ => self.other,
        }
    }
}

/// A record filter. Every condition given must hold; lists match any of
/// their values.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Keep records attributed to a profile matching this regex (searched,
    /// not anchored); attributions to other profiles of a stack are dropped.
    pub profile: Option<Regex>,
    /// Operations (`open`, `capable`, …), exact.
    pub operations: Vec<String>,
    /// Classes: the kernel's `class=` (`file`, `net`, `cap`, …) or our
    /// [`Category`] name (`file`, `network`, `capability`, `exec`, …).
    pub classes: Vec<String>,
    /// Keep records at or after this time (seconds since the epoch).
    /// Records without a usable timestamp are dropped when set.
    pub since: Option<u64>,
    /// Keep records at or before this time (seconds since the epoch).
    pub until: Option<u64>,
    /// For `since`/`until` on a record without an audit timestamp: the zone
    /// its syslog prefix time is read in and the current time (the year of a
    /// prefix that has none), see [`crate::log::time::prefix_timestamp`].
    /// `None`: such records are dropped when a time bound is set.
    pub prefix_clock: Option<(jiff::tz::TimeZone, jiff::Timestamp)>,
    /// Event kinds.
    pub mode: ModeSet,
    /// Subject pids.
    pub pids: Vec<u64>,
    /// Commands (`comm=`), exact.
    pub comms: Vec<String>,
}

/// The regex of `--profile NAME`: NAME itself and its children
/// (`NAME//hat`, `NAME//null-…`), nothing else.
pub fn profile_and_children(name: &str) -> Regex {
    let re = format!("^(?:{})(?://.*)?$", regex::escape(name));
    // an escaped literal always compiles; the fallback matches nothing
    Regex::new(&re).unwrap_or_else(|_| Regex::new("[^\\s\\S]").expect("valid"))
}

impl RecordFilter {
    /// The profiles of `r` this filter keeps (see [`super::profiles_of`]); `None`
    /// when the record is filtered out. A record naming no profile yields
    /// `Some(vec![])` unless a profile regex is set.
    pub fn apply(&self, r: &Record) -> Option<Vec<String>> {
        let mut profs = Vec::new();
        self.apply_into(r, &mut profs).then_some(profs)
    }

    /// [`RecordFilter::apply`] with the profiles written into `profs` (emptied first):
    /// returns whether the record is kept. For a caller filtering many records with one
    /// list.
    pub fn apply_into(&self, r: &Record, profs: &mut Vec<String>) -> bool {
        profs.clear();
        self.keeps(r).is_some() && {
            profiles_into(r, profs);
            if let Some(re) = &self.profile {
                profs.retain(|p| re.is_match(p));
                !profs.is_empty()
            } else {
                true
            }
        }
    }

    /// The conditions other than the profile's (`None`: the record is dropped).
    fn keeps(&self, r: &Record) -> Option<()> {
        if !self.mode.keeps(r.event) {
            return None;
        }
        if !self.operations.is_empty() {
            let op = r.operation.as_ref()?.to_str_lossy();
            if !self.operations.iter().any(|o| *o == op) {
                return None;
            }
        }
        if !self.classes.is_empty() {
            let cat = category(r);
            let class = r.class.as_ref().map(|c| c.to_str_lossy());
            let hit = self.classes.iter().any(|c| {
                class.as_deref() == Some(c.as_str())
                    || cat.as_str() == c
                    || (c == "file" && cat == Category::Exec)
                    || kernel_class_of(cat).contains(&c.as_str())
            });
            if !hit {
                return None;
            }
        }
        if self.since.is_some() || self.until.is_some() {
            let t = match r.timestamp() {
                Some((t, _)) => t,
                None => {
                    let (tz, now) = self.prefix_clock.as_ref()?;
                    let p = r.provenance.prefix_time.as_deref()?;
                    crate::log::time::prefix_timestamp(p, *now, tz)?
                }
            };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
                return None;
            }
        }
        if !self.pids.is_empty() && !r.pid.is_some_and(|p| self.pids.contains(&p)) {
            return None;
        }
        if !self.comms.is_empty() {
            let c = r.comm.as_ref()?.to_str_lossy();
            if !self.comms.iter().any(|x| *x == c) {
                return None;
            }
        }
        Some(())
    }
}

/// The boot time of the host (`btime` of `/proc/stat` text), for `--boot`
/// on file sources.
pub fn boot_time(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// The kernel's `class=` names of a category, so that `--class cap` also
/// finds the capability records of kernels that write no `class=` field.
fn kernel_class_of(cat: Category) -> &'static [&'static str] {
    match cat {
        Category::Capability => &["cap"],
        Category::Network | Category::Unix => &["net"],
        Category::Userns => &["namespace"],
        Category::Mqueue => &["posix_mqueue"],
        Category::Rlimit => &["rlimits"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot() {
        assert_eq!(boot_time("cpu 1 2\nbtime 1234\n"), Some(1234));
    }

    #[test]
    fn modes() {
        let m = ModeSet::parse("denied").unwrap();
        assert!(m.keeps(EventType::Killed) && !m.keeps(EventType::Allowed));
        assert!(ModeSet::parse("all").unwrap().keeps(EventType::Status));
        assert!(ModeSet::parse("bogus").is_err());
    }
}
