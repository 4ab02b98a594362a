//! Grouping records: by profile, then class, operation, target and mask,
//! with counts, first and last time, and the commands and pids involved.
//!
//! Memory is bounded: only groups are kept (never records), each group
//! keeps at most [`MAX_SAMPLES`] distinct commands and pids (the rest are
//! counted), and at most [`Summary::max_groups`] groups holding at most
//! [`Summary::max_bytes`] of names exist; records that would open a group
//! beyond that are counted in
//! [`Summary::overflow_records`].

use super::classify::{Category, category, effective_mask};
use crate::log::{EventType, Record, Text};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

/// Distinct commands and pids kept per group.
pub const MAX_SAMPLES: usize = 8;

/// Default bound on the number of groups.
pub const DEFAULT_MAX_GROUPS: usize = 200_000;

/// Default bound on the bytes the groups' keys and rule texts hold
/// together (256 MiB): the group count alone does not bound memory when
/// every record names a distinct path of up to 16 MiB.
pub const DEFAULT_MAX_GROUP_BYTES: usize = 256 << 20;

/// What a group is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    /// The profile the records are attributed to (`name`, `a//hat`, `:ns:name`;
    /// `(none)` when the record names none).
    pub profile: String,
    /// The kernel's `class=`, else our [`Category`] name.
    pub class: String,
    /// `operation=` (empty when absent).
    pub operation: Text,
    /// The object: path, capability, peer, address, … (see [`target_of`]).
    pub target: Text,
    /// The denied (else requested) mask (empty when absent).
    pub mask: Text,
    /// A file access by the file's owner (`fsuid == ouid`, or an
    /// `owner::` mask): the suggested rule carries `owner`, and the summary
    /// keeps such accesses apart from the others.
    pub owner: bool,
}

/// One group of records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// Records in the group.
    pub count: u64,
    /// Records in the group whose sender is not verified
    /// ([`Origin::Untrusted`](crate::log::Origin::Untrusted)).
    pub untrusted: u64,
    /// Earliest audit timestamp (seconds, milliseconds), if any record had one.
    pub first: Option<(u64, u32)>,
    /// Latest audit timestamp.
    pub last: Option<(u64, u32)>,
    /// Commands (`comm=`) with counts, at most [`MAX_SAMPLES`].
    pub comms: BTreeMap<Text, u64>,
    /// Records whose command did not fit in `comms`.
    pub other_comms: u64,
    /// Pids seen, at most [`MAX_SAMPLES`].
    pub pids: BTreeSet<u64>,
    /// True when more pids were seen than kept.
    pub more_pids: bool,
    /// Event kinds seen (DENIED, ALLOWED, …).
    pub events: BTreeSet<EventType>,
    /// The rule that would allow the group's first record (canonical
    /// text), or why there is none.
    pub rule: Option<Result<String, String>>,
}

impl Group {
    fn add(&mut self, r: &Record) {
        tally(
            r,
            &mut self.count,
            &mut self.untrusted,
            &mut self.first,
            &mut self.last,
        );
        if let Some(c) = &r.comm {
            self.count_comm(c, 1);
        }
        if let Some(p) = r.pid {
            self.note_pid(p);
        }
        self.events.insert(r.event);
    }

    /// Counts `n` records of command `c`: in `comms` when it is there or there is room
    /// ([`MAX_SAMPLES`]), else in `other_comms`.
    pub(super) fn count_comm(&mut self, c: &Text, n: u64) {
        if let Some(x) = self.comms.get_mut(c) {
            *x += n;
        } else if self.comms.len() < MAX_SAMPLES {
            self.comms.insert(c.clone(), n);
        } else {
            self.other_comms += n;
        }
    }

    /// Notes pid `p`: kept when there is room ([`MAX_SAMPLES`]), else `more_pids`.
    pub(super) fn note_pid(&mut self, p: u64) {
        if !self.pids.contains(&p) {
            if self.pids.len() < MAX_SAMPLES {
                self.pids.insert(p);
            } else {
                self.more_pids = true;
            }
        }
    }
}

/// Counts `r` into a group's record count, untrusted count, and first and last times.
pub(super) fn tally(
    r: &Record,
    count: &mut u64,
    untrusted: &mut u64,
    first: &mut Option<(u64, u32)>,
    last: &mut Option<(u64, u32)>,
) {
    *count += 1;
    if !r.provenance.origin.is_trusted() {
        *untrusted += 1;
    }
    if let Some(t) = r.timestamp() {
        if first.is_none_or(|f| t < f) {
            *first = Some(t);
        }
        if last.is_none_or(|l| t > l) {
            *last = Some(t);
        }
    }
}

fn txt(t: &Option<Text>) -> Option<&[u8]> {
    t.as_ref().map(Text::as_bytes)
}

/// The object of an access, as shown in a summary: the path for files and
/// exec, the capability name, `FAMILY TYPE LADDR:LPORT -> FADDR:FPORT` for
/// network, the addresses for unix sockets, `BUS PATH INTERFACE.MEMBER` or
/// the name for D-Bus, `SIGNAL -> PEER` for signals, the peer for ptrace,
/// `SRC -> MOUNTPOINT` for mounts, the target for change_profile, the queue
/// name, … Empty when the record names nothing.
pub fn target_of(r: &Record, cat: Category) -> Text {
    let mut out = Vec::new();
    target_into(r, cat, &mut out);
    Text::from_bytes(&out)
}

/// [`target_of`] written into `out` (emptied first).
fn target_into(r: &Record, cat: Category, out: &mut Vec<u8>) {
    out.clear();
    let mut push = |b: &[u8]| {
        if !out.is_empty() && !b.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(b);
    };
    let addr = |a: Option<&[u8]>, p: Option<u64>| -> Option<Vec<u8>> {
        match (a, p) {
            (None, None) => None,
            (a, p) => {
                let mut v = a.unwrap_or(b"*").to_vec();
                if let Some(p) = p {
                    v.extend_from_slice(format!(":{p}").as_bytes());
                }
                Some(v)
            }
        }
    };
    match cat {
        Category::File | Category::Exec | Category::Capability | Category::Mqueue => {
            if let Some(n) = txt(&r.name) {
                push(n);
            }
            if let (Category::File, Some(t)) = (cat, txt(&r.name2)) {
                push(b"->");
                push(t);
            }
        }
        Category::Network => {
            for f in [&r.net_family, &r.net_sock_type] {
                if let Some(v) = txt(f) {
                    push(v);
                }
            }
            let l = addr(txt(&r.net_local_addr), r.net_local_port);
            let f = addr(txt(&r.net_foreign_addr), r.net_foreign_port);
            if let Some(l) = &l {
                push(l);
            }
            if let Some(f) = &f {
                push(b"->");
                push(f);
            }
        }
        Category::Unix => {
            if let Some(v) = txt(&r.net_sock_type) {
                push(v);
            }
            if let Some(v) = txt(&r.net_addr) {
                push(v);
            }
            if let Some(v) = txt(&r.peer_addr) {
                push(b"->");
                push(v);
            }
            if let Some(v) = txt(&r.peer).or(txt(&r.peer_profile)) {
                push(b"peer");
                push(v);
            }
        }
        Category::Dbus => {
            for f in [&r.dbus_bus, &r.dbus_path] {
                if let Some(v) = txt(f) {
                    push(v);
                }
            }
            match (txt(&r.dbus_interface), txt(&r.dbus_member)) {
                (Some(i), Some(m)) => push(&[i, b".", m].concat()),
                (Some(i), None) => push(i),
                (None, Some(m)) => push(m),
                (None, None) => {}
            }
            if r.dbus_path.is_none()
                && let Some(n) = txt(&r.name)
            {
                push(n);
            }
            if let Some(p) = txt(&r.peer_profile) {
                push(b"peer");
                push(p);
            }
        }
        Category::Signal => {
            if let Some(v) = txt(&r.signal) {
                push(v);
            }
            if let Some(v) = txt(&r.peer) {
                push(b"->");
                push(v);
            }
        }
        Category::Ptrace | Category::IoUring => {
            if let Some(v) = txt(&r.peer).or(txt(&r.peer_profile)) {
                push(v);
            }
        }
        Category::ChangeProfile | Category::ChangeHat => {
            if let Some(v) = txt(&r.name2).or(txt(&r.name)) {
                push(v);
            }
        }
        Category::Mount | Category::Umount | Category::PivotRoot => {
            if let Some(v) = txt(&r.fs_type) {
                push(v);
            }
            if let Some(v) = txt(&r.src_name) {
                push(v);
                push(b"->");
            }
            if let Some(v) = txt(&r.name) {
                push(v);
            }
            if let Some(v) = txt(&r.flags) {
                push(&[b"(", v, b")"].concat());
            }
        }
        Category::Userns | Category::Rlimit | Category::Other => {
            if let Some(v) = txt(&r.name).or(txt(&r.info)) {
                push(v);
            }
        }
    }
}

/// The rule for one record as text (see [`super::suggest::rule_for`]).
pub(super) fn rule_text(r: &Record) -> Result<String, String> {
    match super::suggest::rule_for(r) {
        Ok(super::suggest::Draft::File {
            owner,
            path,
            perms,
            exec,
        }) => Ok(super::suggest::file_entry(&path, owner, &perms, exec).to_string()),
        Ok(super::suggest::Draft::Rule(e)) => Ok(e.to_string()),
        Err(e) => Err(e.0),
    }
}

/// A [`GroupKey`] borrowed from a record, to find its group without building the key: it
/// hashes as the key does (the fields in the same order, texts as their bytes) and
/// compares equal to it field by field.
pub(super) struct KeyRef<'a> {
    profile: &'a str,
    class: &'a str,
    operation: &'a [u8],
    target: &'a [u8],
    mask: &'a [u8],
    owner: bool,
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        // as the derived `Hash` of `GroupKey`: `str`, then `Text` (its bytes), then `bool`
        self.profile.hash(h);
        self.class.hash(h);
        self.operation.hash(h);
        self.target.hash(h);
        self.mask.hash(h);
        self.owner.hash(h);
    }
}

impl hashbrown::Equivalent<GroupKey> for KeyRef<'_> {
    fn equivalent(&self, k: &GroupKey) -> bool {
        self.owner == k.owner
            && self.profile == k.profile
            && self.class == k.class
            && self.operation == k.operation.as_bytes()
            && self.target == k.target.as_bytes()
            && self.mask == k.mask.as_bytes()
    }
}

/// The parts of a record's [`GroupKey`] but the profile and the target (written into a
/// buffer of the caller's, see [`KeyParts::of`]).
pub(super) struct KeyParts<'r> {
    class: std::borrow::Cow<'r, str>,
    operation: &'r [u8],
    mask: &'r [u8],
    owner: bool,
}

impl<'r> KeyParts<'r> {
    /// The parts of `r`'s key; its target is written into `target`.
    pub(super) fn of(r: &'r Record, target: &mut Vec<u8>) -> Self {
        let cat = category(r);
        // The kernel's class name, also for a record that carries none (older
        // kernels, user-space records), so that `class="cap"` and a bare `capable`
        // record of the same access fall into one group.
        let class = match (&r.class, cat.kernel_class()) {
            (_, Some(k)) => std::borrow::Cow::Borrowed(k),
            (Some(c), None) if cat != Category::Exec => c.to_str_lossy(),
            _ => std::borrow::Cow::Borrowed(cat.as_str()),
        };
        target_into(r, cat, target);
        let mask = effective_mask(r);
        let owner = cat == Category::File
            && match mask.and_then(Text::as_str).and_then(|m| m.split_once("::")) {
                Some((l, _)) => !l.is_empty(),
                None => r.fsuid.is_some() && r.fsuid == r.ouid,
            };
        KeyParts {
            class,
            operation: r.operation.as_ref().map_or(&[][..], Text::as_bytes),
            mask: mask.map_or(&[][..], Text::as_bytes),
            owner,
        }
    }

    /// The key of the group of `profile`, `target` being what [`KeyParts::of`] wrote.
    pub(super) fn key<'a>(&'a self, profile: &'a str, target: &'a [u8]) -> KeyRef<'a> {
        KeyRef {
            profile,
            class: &self.class,
            operation: self.operation,
            target,
            mask: self.mask,
            owner: self.owner,
        }
    }
}

impl GroupKey {
    /// The key as a [`KeyRef`].
    pub(super) fn as_ref(&self) -> KeyRef<'_> {
        KeyRef {
            profile: &self.profile,
            class: &self.class,
            operation: self.operation.as_bytes(),
            target: self.target.as_bytes(),
            mask: self.mask.as_bytes(),
            owner: self.owner,
        }
    }
}

impl KeyRef<'_> {
    /// The bytes [`Summary::max_bytes`] counts for a group of this key and `rule`.
    pub(super) fn size(&self, rule: &Result<String, String>) -> usize {
        self.profile.len()
            + self.class.len()
            + self.operation.len()
            + self.target.len()
            + self.mask.len()
            + rule.as_ref().map_or_else(String::len, String::len)
    }

    /// The owned key.
    pub(super) fn to_key(&self) -> GroupKey {
        GroupKey {
            profile: self.profile.to_owned(),
            class: self.class.to_owned(),
            operation: Text::from_bytes(self.operation),
            target: Text::from_bytes(self.target),
            mask: Text::from_bytes(self.mask),
            owner: self.owner,
        }
    }
}

/// Groups of records, bounded (see the module doc).
#[derive(Debug, Clone)]
pub struct Summary {
    groups: hashbrown::HashMap<GroupKey, Group>,
    /// Most groups kept.
    pub max_groups: usize,
    /// Records added (each attribution of a stacked label counts once per record).
    pub records: u64,
    /// Most bytes kept in group keys and rule texts (approximate: string
    /// lengths, not allocator overhead).
    pub max_bytes: usize,
    /// Bytes kept so far, counted as for `max_bytes`.
    pub bytes: usize,
    /// Records that would have opened a group beyond `max_groups` or
    /// `max_bytes`.
    pub overflow_records: u64,
    /// The target of the record being added (kept for its capacity).
    scratch: Vec<u8>,
}

impl Default for Summary {
    fn default() -> Self {
        Summary::new(DEFAULT_MAX_GROUPS)
    }
}

impl Summary {
    /// An empty summary keeping at most `max_groups` groups.
    pub fn new(max_groups: usize) -> Self {
        Summary {
            groups: hashbrown::HashMap::new(),
            max_groups,
            max_bytes: DEFAULT_MAX_GROUP_BYTES,
            bytes: 0,
            records: 0,
            overflow_records: 0,
            scratch: Vec::new(),
        }
    }

    /// Adds `r`, attributed to each profile in `profiles` (from
    /// [`super::RecordFilter::apply`]; empty means "no profile").
    pub fn add(&mut self, r: &Record, profiles: &[String]) {
        self.records += 1;
        let mut target = std::mem::take(&mut self.scratch);
        let parts = KeyParts::of(r, &mut target);
        let none = ["(none)".to_string()];
        let profs: &[String] = if profiles.is_empty() { &none } else { profiles };
        for p in profs {
            let k = parts.key(p, &target);
            if let Some(g) = self.groups.get_mut(&k) {
                g.add(r);
            } else if self.groups.len() < self.max_groups && self.bytes < self.max_bytes {
                let rule = rule_text(r);
                let size = k.size(&rule);
                if self.bytes + size > self.max_bytes {
                    self.overflow_records += 1;
                    continue;
                }
                self.bytes += size;
                let mut g = Group {
                    rule: Some(rule),
                    ..Group::default()
                };
                g.add(r);
                self.groups.insert(k.to_key(), g);
            } else {
                self.overflow_records += 1;
            }
        }
        self.scratch = target;
    }

    /// The groups, for [`Summary::merge_run`](super::group_run).
    pub(super) fn groups_mut(&mut self) -> &mut hashbrown::HashMap<GroupKey, Group> {
        &mut self.groups
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when no record was grouped.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The groups sorted by profile, then by descending count, then key.
    pub fn sorted(&self) -> Vec<(&GroupKey, &Group)> {
        let mut v: Vec<_> = self.groups.iter().collect();
        v.sort_by(|a, b| {
            a.0.profile
                .cmp(&b.0.profile)
                .then(b.1.count.cmp(&a.1.count))
                .then(a.0.cmp(b.0))
        });
        v
    }

    /// The JSON form of the groups (one object per group), see
    /// [`GroupJson`].
    pub fn to_json(&self) -> Vec<GroupJson> {
        self.sorted()
            .into_iter()
            .map(|(k, g)| GroupJson {
                profile: k.profile.clone(),
                class: k.class.clone(),
                operation: k.operation.to_str_lossy().into_owned(),
                target: k.target.to_str_lossy().into_owned(),
                mask: k.mask.to_str_lossy().into_owned(),
                owner: k.owner,
                count: g.count,
                untrusted: g.untrusted,
                first: g.first.map(|(s, ms)| crate::log::render::rfc3339(s, ms)),
                last: g.last.map(|(s, ms)| crate::log::render::rfc3339(s, ms)),
                events: g.events.iter().map(|e| e.as_kernel_name()).collect(),
                comms: g
                    .comms
                    .iter()
                    .map(|(c, n)| (c.to_str_lossy().into_owned(), *n))
                    .collect(),
                other_comms: g.other_comms,
                pids: g.pids.iter().copied().collect(),
                more_pids: g.more_pids,
                rule: g.rule.as_ref().and_then(|r| r.as_ref().ok().cloned()),
                no_rule: g.rule.as_ref().and_then(|r| r.as_ref().err().cloned()),
            })
            .collect()
    }
}

/// One group as JSON (`aactl log --summary --format json`): strings are
/// the decoded values (bytes that are not UTF-8 become U+FFFD; serde_json
/// escapes control characters), times are RFC 3339 UTC.
#[derive(Debug, Clone, Serialize)]
pub struct GroupJson {
    /// Profile the records are attributed to.
    pub profile: String,
    /// Kernel class or category.
    pub class: String,
    /// Operation.
    pub operation: String,
    /// Object (path, capability, peer, address…).
    pub target: String,
    /// Denied (else requested) mask.
    pub mask: String,
    /// Access by the file's owner (the rule gets `owner`).
    pub owner: bool,
    /// Number of records.
    pub count: u64,
    /// Records of them whose sender is not verified (anyone could have
    /// written them).
    pub untrusted: u64,
    /// First time seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// Last time seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// Event kinds (`DENIED`, `ALLOWED`, …).
    pub events: Vec<&'static str>,
    /// Commands with their counts.
    pub comms: BTreeMap<String, u64>,
    /// Records whose command was not kept.
    pub other_comms: u64,
    /// Pids (at most [`MAX_SAMPLES`]).
    pub pids: Vec<u64>,
    /// More pids were seen than listed.
    pub more_pids: bool,
    /// The rule that would allow these records (as `--suggest` prints it,
    /// before merging and before the on-disk check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Why the records give no rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_rule: Option<String>,
}
