//! Summaries of runs of records made on the log reader's parser threads
//! ([`ReaderOptions::fold`](crate::log::ReaderOptions::fold)) and merged into a
//! [`Summary`] in input order: the merge gives the summary that adding the records one by
//! one gives (`tests/log_parallel.rs` compares the two).
//!
//! What makes that exact: a group's counts, times and event kinds add up in any order; its
//! rule is its first record's, and a run's groups are merged in the order they first appear
//! in the run, each taking its first record's rule only when the summary does not hold the
//! group yet; the commands and pids a group keeps are the first [`MAX_SAMPLES`] distinct
//! ones, so a run keeps its distinct commands (with counts) and pids in the order they first
//! appear; and whether a group is made at all ([`Summary::max_groups`],
//! [`Summary::max_bytes`]) only gets harder as the summary grows, so the decision taken at a
//! group's first record holds for all its records.

use super::filter::RecordFilter;
use super::group::{Group, GroupKey, KeyParts, MAX_SAMPLES, Summary, rule_text, tally};
use crate::log::reader::BlockFold;
use crate::log::{EventType, Record, Text};
use std::any::Any;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

/// A [`BlockFold`] that makes a [`RunSummary`] of the records `filter` keeps; merge its
/// runs with [`SummaryFold::merge`].
#[derive(Debug)]
pub struct SummaryFold {
    /// The filter of the view (see [`RecordFilter::apply_into`]).
    filter: RecordFilter,
    /// The keys of the groups the summary holds: a run does not work out the rule of a group
    /// it finds here (a group's rule is its first record's, worked out once).
    known: RwLock<hashbrown::HashSet<GroupKey>>,
}

impl SummaryFold {
    /// A fold of the records `filter` keeps.
    pub fn new(filter: RecordFilter) -> Self {
        SummaryFold {
            filter,
            known: RwLock::default(),
        }
    }

    /// Merges `run` into `summary`, the summary of every record before the run (giving what
    /// adding the run's records one by one gives), and notes the groups it made.
    pub fn merge(&self, summary: &mut Summary, run: &RunSummary) {
        let made = summary.merge_run(run);
        if !made.is_empty()
            && let Ok(mut known) = self.known.write()
        {
            known.extend(made.into_iter().map(|i| run.groups[i].0.clone()));
        }
    }
}

impl BlockFold for SummaryFold {
    fn fold(&self, records: &[&Record]) -> Arc<dyn Any + Send + Sync> {
        let mut run = RunSummary::default();
        let mut profiles = Vec::new();
        let mut target = Vec::new();
        for r in records {
            run.seen += 1;
            if self.filter.apply_into(r, &mut profiles) {
                run.add(r, &profiles, &mut target, &self.known);
            }
        }
        let mut groups: Vec<(GroupKey, (usize, RunGroup))> = run.index.drain().collect();
        groups.sort_by_key(|(_, (order, _))| *order);
        run.groups = groups.into_iter().map(|(k, (_, g))| (k, g)).collect();
        Arc::new(run)
    }
}

/// The groups of a run of records, unbounded (a run is one block of the log), in the order
/// they first appear.
#[derive(Debug, Default)]
pub struct RunSummary {
    /// Records given to the filter.
    pub seen: u64,
    /// Records the filter kept (each added once, whatever its profiles).
    pub kept: u64,
    /// In the order they first appear (filled from `index` at the end of the fold).
    groups: Vec<(GroupKey, RunGroup)>,
    /// The groups with the order of their first appearance.
    index: hashbrown::HashMap<GroupKey, (usize, RunGroup)>,
}

/// A group of a run: as [`Group`], with every distinct command (and its count) and the
/// first `2 * MAX_SAMPLES` distinct pids, each in the order first seen.
#[derive(Debug)]
struct RunGroup {
    count: u64,
    untrusted: u64,
    first: Option<(u64, u32)>,
    last: Option<(u64, u32)>,
    comms: Vec<(Text, u64)>,
    pids: Vec<u64>,
    events: BTreeSet<EventType>,
    /// The first record's rule; `None` when the summary had the group already when the run
    /// was made (its rule is the summary's).
    rule: Option<Result<String, String>>,
}

impl RunGroup {
    fn add(&mut self, r: &Record) {
        tally(
            r,
            &mut self.count,
            &mut self.untrusted,
            &mut self.first,
            &mut self.last,
        );
        if let Some(c) = &r.comm {
            match self.comms.iter_mut().find(|(x, _)| x == c) {
                Some((_, n)) => *n += 1,
                None => self.comms.push((c.clone(), 1)),
            }
        }
        // a summary's group keeps at most MAX_SAMPLES pids: of the run's first
        // 2 * MAX_SAMPLES distinct ones at least MAX_SAMPLES are not among them, so the
        // later ones change nothing
        if let Some(p) = r.pid
            && self.pids.len() < 2 * MAX_SAMPLES
            && !self.pids.contains(&p)
        {
            self.pids.push(p);
        }
        self.events.insert(r.event);
    }
}

impl RunSummary {
    /// Adds `r` (kept by the filter) attributed to `profiles`, as [`Summary::add`] does;
    /// `target` is a buffer to reuse, `known` the groups the summary holds.
    fn add(
        &mut self,
        r: &Record,
        profiles: &[String],
        target: &mut Vec<u8>,
        known: &RwLock<hashbrown::HashSet<GroupKey>>,
    ) {
        self.kept += 1;
        let parts = KeyParts::of(r, target);
        let none = ["(none)".to_string()];
        let profs: &[String] = if profiles.is_empty() { &none } else { profiles };
        for p in profs {
            let k = parts.key(p, target);
            if let Some((_, g)) = self.index.get_mut(&k) {
                g.add(r);
                continue;
            }
            let mut g = RunGroup {
                count: 0,
                untrusted: 0,
                first: None,
                last: None,
                comms: Vec::new(),
                pids: Vec::new(),
                events: BTreeSet::new(),
                // (read one key at a time: the reading thread adds keys between runs)
                rule: (!known.read().is_ok_and(|s| s.contains(&k))).then(|| rule_text(r)),
            };
            g.add(r);
            let order = self.index.len();
            self.index.insert(k.to_key(), (order, g));
        }
    }
}

impl Summary {
    /// Merges a run's groups (records that came after every record added so far), giving
    /// what adding the run's records one by one gives. Returns the indexes (in the run) of
    /// the groups it made.
    fn merge_run(&mut self, run: &RunSummary) -> Vec<usize> {
        self.records += run.kept;
        let mut made = Vec::new();
        for (i, (k, g)) in run.groups.iter().enumerate() {
            if let Some(s) = self.groups_mut().get_mut(k) {
                absorb(s, g);
                continue;
            }
            // a group the summary held when the run was made is still there
            let Some(rule) = &g.rule else { continue };
            if self.len() < self.max_groups && self.bytes < self.max_bytes {
                let size = k.as_ref().size(rule);
                if self.bytes + size <= self.max_bytes {
                    self.bytes += size;
                    let mut s = Group {
                        rule: Some(rule.clone()),
                        ..Group::default()
                    };
                    absorb(&mut s, g);
                    self.groups_mut().insert(k.clone(), s);
                    made.push(i);
                    continue;
                }
            }
            self.overflow_records += g.count;
        }
        made
    }
}

/// Adds a run's group to a summary's group, as adding its records one by one does.
fn absorb(s: &mut Group, g: &RunGroup) {
    s.count += g.count;
    s.untrusted += g.untrusted;
    if let Some(t) = g.first
        && s.first.is_none_or(|f| t < f)
    {
        s.first = Some(t);
    }
    if let Some(t) = g.last
        && s.last.is_none_or(|l| t > l)
    {
        s.last = Some(t);
    }
    for (c, n) in &g.comms {
        s.count_comm(c, *n);
    }
    for &p in &g.pids {
        s.note_pid(p);
    }
    s.events.extend(g.events.iter().copied());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of a few profiles, files, commands and pids, some with a second profile
    /// stacked, in an order where groups come and go.
    fn records() -> Vec<Record> {
        let mut log = String::new();
        for i in 0..400u32 {
            let prof = ["/usr/bin/a", "/usr/bin/b", "/usr/bin/a//&/usr/bin/c"][(i % 3) as usize];
            let file = i * 7 % 13;
            let comm = format!("c{}", i * 5 % 23);
            let pid = 100 + i * 11 % 37;
            let ev = ["DENIED", "ALLOWED"][(i % 2) as usize];
            log.push_str(&format!(
                "type=AVC msg=audit(1700000{:03}.{:03}:{i}): apparmor=\"{ev}\" operation=\"open\" \
                 class=\"file\" profile=\"{prof}\" name=\"/srv/f{file}\" pid={pid} comm=\"{comm}\" \
                 requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
                (i * 37) % 1000,
                i % 1000
            ));
        }
        crate::log::parse_str(&log, "t").0
    }

    /// Folding runs of any length and merging them gives the summary of adding the records
    /// one by one, also when the group and byte bounds are reached.
    #[test]
    fn merged_runs_equal_records_added_one_by_one() {
        let recs = records();
        let filter = RecordFilter::default();
        for (max_groups, max_bytes) in [(200_000, 1 << 20), (5, 1 << 20), (200, 150)] {
            let mut want = Summary::new(max_groups);
            want.max_bytes = max_bytes;
            let mut profs = Vec::new();
            for r in &recs {
                if filter.apply_into(r, &mut profs) {
                    want.add(r, &profs);
                }
            }
            // the bounds are reached (or not) as meant
            assert_eq!(
                want.overflow_records > 0,
                max_groups != 200_000,
                "{max_groups}"
            );
            assert!(
                want.groups_mut()
                    .values()
                    .any(|g| g.more_pids || g.other_comms > 0)
            );
            for run_len in [1, 3, 17, 400] {
                let fold = SummaryFold::new(filter.clone());
                let mut got = Summary::new(max_groups);
                got.max_bytes = max_bytes;
                for chunk in recs.chunks(run_len) {
                    let refs: Vec<&Record> = chunk.iter().collect();
                    let run = fold.fold(&refs);
                    let run = run.downcast_ref::<RunSummary>().expect("a run summary");
                    fold.merge(&mut got, run);
                }
                let ctx = format!("bounds {max_groups}/{max_bytes}, runs of {run_len}");
                assert_eq!(
                    serde_json::to_string(&got.to_json()).unwrap(),
                    serde_json::to_string(&want.to_json()).unwrap(),
                    "{ctx}"
                );
                assert_eq!(
                    (got.records, got.overflow_records, got.bytes),
                    (want.records, want.overflow_records, want.bytes),
                    "{ctx}"
                );
            }
        }
    }
}
