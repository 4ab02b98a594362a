//! Audit records counted by profile, event, class and operation, with bounded label values.

use crate::log::{EventType, Origin, Record};
use std::collections::{BTreeMap, BTreeSet};

/// Label values longer than this many bytes are counted under `other`.
const MAX_VALUE_LEN: usize = 256;

/// The bounds on the label values of `apparmor_records_total`.
///
/// The first `profiles` distinct profiles seen get their own `profile` value, later ones are
/// counted as `profile="other"`; `classes` and `operations` bound the `class` and
/// `operation` values the same way (the kernel uses a few dozen of each); a value longer
/// than 256 bytes is always `other`. Once `series` distinct (profile, event, class,
/// operation) combinations exist, a record of a new combination is counted under
/// `profile="other", class="other", operation="other"` with its event. So the family never
/// has more than `series` plus one series per event kind (eight), whatever the log holds.
/// Every record that lost a value this way also counts in `apparmor_records_folded_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Distinct `profile` values (default 200).
    pub profiles: usize,
    /// Distinct `class` values (default 64).
    pub classes: usize,
    /// Distinct `operation` values (default 64).
    pub operations: usize,
    /// Distinct series before the catch-all (default 2,000).
    pub series: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            profiles: 200,
            classes: 64,
            operations: 64,
            series: 2000,
        }
    }
}

/// Which records are counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RecordTrust {
    /// Only records the kernel sent ([`Origin::Kernel`]); the others are counted apart, in
    /// `apparmor_records_unverified_total{provenance}`: any local user can write a syslog
    /// line or journal entry that reads like a denial.
    #[default]
    KernelOnly,
    /// Every record, whoever sent it (`--trust-userspace-records`).
    All,
}

/// The labels of one `apparmor_records_total` series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// The subject label as logged (a stack `a//&b`, `:ns:name`, a hat `p//hat`), bytes
    /// that are not UTF-8 replaced; empty when the record names none; `other` when folded.
    pub profile: String,
    /// The event kind in lower case: `denied`, `allowed`, `audit`, `killed`, `auto`,
    /// `hint`, `status`, `error`.
    pub event: &'static str,
    /// `class=` (`file`, `net`, `cap`, …), empty when absent, `other` when folded.
    pub class: String,
    /// `operation=` (`open`, `exec`, `capable`, …), empty when absent, `other` when folded.
    pub operation: String,
}

/// What [`RecordCounts::count`] did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Counted under its own label values.
    Exact,
    /// Counted, with at least one label value replaced by `other`.
    Folded,
    /// Not counted in `apparmor_records_total`: its sender is not the kernel (and
    /// [`RecordTrust::KernelOnly`]), or it is not a valid record.
    Skipped,
}

/// Running counts of audit records (memory bounded by [`Limits`]).
#[derive(Debug, Clone, Default)]
pub struct RecordCounts {
    limits: Limits,
    trust: RecordTrust,
    series: BTreeMap<SeriesKey, u64>,
    profiles: BTreeSet<String>,
    classes: BTreeSet<String>,
    operations: BTreeSet<String>,
    folded: u64,
    unverified: BTreeMap<&'static str, u64>,
}

/// The lower-case event word of `e`; `None` for an invalid record.
pub(crate) fn event_word(e: EventType) -> Option<&'static str> {
    Some(match e {
        EventType::Invalid => return None,
        EventType::Audit => "audit",
        EventType::Allowed => "allowed",
        EventType::Denied => "denied",
        EventType::Hint => "hint",
        EventType::Status => "status",
        EventType::Error => "error",
        EventType::Killed => "killed",
        EventType::Auto => "auto",
    })
}

/// The value to count under: `text` when it fits and is known or there is room, else
/// `other` (and `folded` is set).
fn bounded(text: String, seen: &mut BTreeSet<String>, max: usize, folded: &mut bool) -> String {
    if text.len() > MAX_VALUE_LEN {
        *folded = true;
        return "other".to_owned();
    }
    if seen.contains(&text) {
        return text;
    }
    if seen.len() < max {
        seen.insert(text.clone());
        return text;
    }
    *folded = true;
    "other".to_owned()
}

impl RecordCounts {
    /// Empty counts with these bounds, counting the records `trust` admits.
    pub fn new(limits: Limits, trust: RecordTrust) -> Self {
        RecordCounts {
            limits,
            trust,
            ..RecordCounts::default()
        }
    }

    /// Counts one record.
    pub fn count(&mut self, r: &Record) -> Counted {
        let Some(event) = event_word(r.event) else {
            return Counted::Skipped;
        };
        if self.trust == RecordTrust::KernelOnly && r.provenance.origin != Origin::Kernel {
            *self
                .unverified
                .entry(r.provenance.origin.as_str())
                .or_default() += 1;
            return Counted::Skipped;
        }
        let text = |t: &Option<crate::log::Text>| {
            t.as_ref()
                .map(|t| t.to_str_lossy().into_owned())
                .unwrap_or_default()
        };
        let mut folded = false;
        let mut key = SeriesKey {
            profile: bounded(
                text(&r.profile),
                &mut self.profiles,
                self.limits.profiles,
                &mut folded,
            ),
            event,
            class: bounded(
                text(&r.class),
                &mut self.classes,
                self.limits.classes,
                &mut folded,
            ),
            operation: bounded(
                text(&r.operation),
                &mut self.operations,
                self.limits.operations,
                &mut folded,
            ),
        };
        if !self.series.contains_key(&key) && self.series.len() >= self.limits.series {
            folded = true;
            key = SeriesKey {
                profile: "other".to_owned(),
                event,
                class: "other".to_owned(),
                operation: "other".to_owned(),
            };
        }
        *self.series.entry(key).or_default() += 1;
        if folded {
            self.folded += 1;
            Counted::Folded
        } else {
            Counted::Exact
        }
    }

    /// Every series with its count, ordered by profile, event, class, operation.
    pub fn series(&self) -> impl Iterator<Item = (&SeriesKey, u64)> {
        self.series.iter().map(|(k, v)| (k, *v))
    }

    /// Records counted with a label value replaced by `other`.
    pub fn folded(&self) -> u64 {
        self.folded
    }

    /// Records not counted because of their sender, by provenance (`trusted-helper`,
    /// `untrusted`).
    pub fn unverified(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.unverified.iter().map(|(k, v)| (*k, *v))
    }

    /// All records counted in `apparmor_records_total`.
    pub fn total(&self) -> u64 {
        self.series.values().sum()
    }

    /// The bounds in use.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(profile: &str, op: &str, origin: Origin) -> Record {
        let mut r = Record {
            event: EventType::Denied,
            profile: Some(profile.into()),
            operation: Some(op.into()),
            class: Some("file".into()),
            ..Record::default()
        };
        r.provenance.origin = origin;
        r
    }

    #[test]
    fn only_kernel_records_count_by_default() {
        let mut c = RecordCounts::new(Limits::default(), RecordTrust::KernelOnly);
        assert_eq!(c.count(&rec("a", "open", Origin::Kernel)), Counted::Exact);
        assert_eq!(
            c.count(&rec("a", "open", Origin::Untrusted)),
            Counted::Skipped
        );
        assert_eq!(
            c.count(&rec("a", "open", Origin::TrustedHelper)),
            Counted::Skipped
        );
        assert_eq!(c.total(), 1);
        assert_eq!(
            c.unverified().collect::<Vec<_>>(),
            [("trusted-helper", 1), ("untrusted", 1)]
        );
        let mut all = RecordCounts::new(Limits::default(), RecordTrust::All);
        all.count(&rec("a", "open", Origin::Untrusted));
        assert_eq!(all.total(), 1);
    }

    #[test]
    fn series_stay_within_the_bound() {
        let limits = Limits {
            profiles: 3,
            classes: 64,
            operations: 2,
            series: 4,
        };
        let mut c = RecordCounts::new(limits, RecordTrust::KernelOnly);
        for i in 0..1000 {
            c.count(&rec(
                &format!("p{i}"),
                &format!("op{}", i % 7),
                Origin::Kernel,
            ));
        }
        assert_eq!(c.total(), 1000);
        assert!(c.series().count() <= limits.series + 9);
        let profiles: BTreeSet<&str> = c.series().map(|(k, _)| k.profile.as_str()).collect();
        assert!(profiles.len() <= 4, "{profiles:?}");
        assert!(profiles.contains("other"));
        assert!(c.folded() >= 997);
        assert_eq!(
            c.count(&rec(&"x".repeat(300), "op0", Origin::Kernel)),
            Counted::Folded
        );
    }
}
