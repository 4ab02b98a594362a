//! From records to the rules that would allow them (spec/runtime-and-logs.md
//! §3.9), built as policy AST nodes ([`crate::policy::ast`]) and printed with
//! the canonical printer, grouped into profile blocks.
//!
//! [`rule_for`] turns one record into a [`Draft`] or a [`NoRule`] reason;
//! [`Suggestions`] collects drafts per profile, merges duplicates (file
//! permissions on the same path are joined), and builds the blocks
//! ([`Suggestions::blocks`]): `NAME {` for path names, `profile NAME {`
//! otherwise, hats and children nested as `^child {`.
//!
//! What only records of unverified senders support
//! ([`Origin::Untrusted`](crate::log::Origin::Untrusted): anyone can write
//! such a log line) is kept apart
//! ([`Suggestions::untrusted_blocks`]), so that it is never mistaken for
//! what the kernel reported.

use super::classify::{Category, category, effective_mask};
use crate::log::{EventType, Record, Text};
use crate::policy::ast::*;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

/// File permissions in the order they are printed.
const FILE_PERMS: [char; 6] = ['m', 'r', 'w', 'a', 'l', 'k'];

/// A rule suggested for one record, before merging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    /// A file rule: `[owner ]PATH PERMS,`; `exec` adds `ix` (and `m r`).
    File {
        /// `owner` qualifier.
        owner: bool,
        /// The path as logged (raw bytes, not yet escaped for policy).
        path: Vec<u8>,
        /// Permissions, a subset of `m r w a l k`.
        perms: BTreeSetChars,
        /// Execute, inheriting (`ix`).
        exec: bool,
    },
    /// Any other rule, complete.
    Rule(RuleEntry),
}

/// A small ordered set of permission characters.
pub type BTreeSetChars = std::collections::BTreeSet<char>;

/// Why a record produced no rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoRule(pub String);

/// Quotes and escapes raw bytes from a log as one policy word.
///
/// Control characters, bidirectional-text controls and bytes that are not
/// UTF-8 become `\xHH`; `"` and
/// `\` are escaped; with `literal`, the glob characters `* ? [ ] { } ^`
/// are escaped with `\` so that the rule matches exactly the name that was
/// logged (pitfalls B-13). The word is quoted when it contains blanks,
/// quotes or escapes, is empty, or ends with `,`; without `literal` also when
/// it contains any of `# ( ) =`, an unbalanced `{` or `}`, or a `,` outside
/// `{…}`.
pub fn policy_word(raw: &[u8], literal: bool) -> Word {
    let mut text = String::with_capacity(raw.len() + 4);
    let mut quoted = raw.is_empty() || raw.ends_with(b",");
    // `{…}` nesting (alternations in glob profile names stay unquoted)
    let mut depth = 0usize;
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                ' ' => {
                    quoted = true;
                    text.push(c);
                }
                '"' | '\\' => {
                    quoted = true;
                    text.push('\\');
                    text.push(c);
                }
                '*' | '?' | '[' | ']' | '{' | '}' | '^' if literal => {
                    text.push('\\');
                    text.push(c);
                }
                '{' if !literal => {
                    depth += 1;
                    text.push(c);
                }
                '}' if !literal => {
                    // an unbalanced `}` could close a block
                    if depth == 0 {
                        quoted = true;
                    }
                    depth = depth.saturating_sub(1);
                    text.push(c);
                }
                ',' if !literal && depth == 0 => {
                    // a `,` outside alternation braces could end the rule
                    quoted = true;
                    text.push(c);
                }
                // apparmor_parser's lexer refuses a bare `!` in a path
                '!' => {
                    quoted = true;
                    text.push(c);
                }
                '#' | '(' | ')' | '=' if !literal => {
                    quoted = true;
                    text.push(c);
                }
                c if c.is_control() || is_bidi(c) => {
                    quoted = true;
                    let mut b = [0u8; 4];
                    for byte in c.encode_utf8(&mut b).bytes() {
                        let _ = write!(text, "\\x{byte:02x}");
                    }
                }
                c => text.push(c),
            }
        }
        for b in chunk.invalid() {
            quoted = true;
            let _ = write!(text, "\\x{b:02x}");
        }
    }
    Word {
        text,
        quoted: quoted || depth > 0,
        span: Span::default(),
    }
}

/// The bidirectional-text controls a terminal would act on (as in
/// `crate::escape`): written as `\xHH` bytes so that a suggested rule shows
/// the bytes it matches in their order.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn word(s: &str) -> Word {
    policy_word(s.as_bytes(), false)
}

fn tword(t: &Text) -> Word {
    policy_word(t.as_bytes(), false)
}

fn cond(name: &str, w: Word) -> Arg {
    Arg::Cond(Cond {
        name: name.into(),
        op: CondOp::Eq,
        value: CondValue::Single(w),
        span: Span::default(),
    })
}

fn group(name: &str, conds: Vec<Cond>) -> Arg {
    Arg::Cond(Cond {
        name: name.into(),
        op: CondOp::Eq,
        value: CondValue::Group(conds),
        span: Span::default(),
    })
}

fn single(name: &str, w: Word) -> Cond {
    Cond {
        name: name.into(),
        op: CondOp::Eq,
        value: CondValue::Single(w),
        span: Span::default(),
    }
}

/// Splits a mask like `send receive` or `send, receive` into sorted,
/// de-duplicated words.
fn mask_words(m: &Text) -> Vec<String> {
    let s = m.to_str_lossy();
    let mut v: Vec<String> = s
        .split([' ', ','])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Permission words: one bare word, or a parenthesised list.
fn perms(words: Vec<String>) -> Option<Perms> {
    perms_in(words, false)
}

/// Permission words, parenthesised when `paren` or when there are several
/// (network and unix rules always use the list form, as the utils write them).
fn perms_in(words: Vec<String>, paren: bool) -> Option<Perms> {
    if words.is_empty() {
        return None;
    }
    Some(Perms {
        paren: paren || words.len() > 1,
        words: words.iter().map(|w| word(w)).collect(),
    })
}

fn entry(rule: Rule) -> Draft {
    Draft::Rule(RuleEntry {
        quals: Qualifiers::default(),
        rule,
        span: Span::default(),
    })
}

fn no(s: impl Into<String>) -> Result<Draft, NoRule> {
    Err(NoRule(s.into()))
}

/// Network accesses for which the utils drop the `peer=(…)` part.
const LOCAL_ONLY: &[&str] = &[
    "create", "bind", "listen", "shutdown", "getattr", "setattr", "getopt", "setopt",
];

/// Capability numbers (linux/capability.h) for records that log only `capability=N`.
const CAPS: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// Parses a file mask (`rw`, `r::`, `::r`, `wc::`): the permission set
/// (`c`, `d` → `w`; `x` dropped when combined; `a` dropped with `w`), an
/// exec flag and whether the owner half was used. `None` owner means the
/// mask had no `::` part.
fn file_mask(m: &str) -> Result<(BTreeSetChars, bool, Option<bool>), NoRule> {
    let (mask, owner) = match m.split_once("::") {
        Some((l, _)) if !l.is_empty() => (l, Some(true)),
        Some((_, r)) => (r, Some(false)),
        None => (m, None),
    };
    let mut set = BTreeSetChars::new();
    let mut exec = false;
    for c in mask.chars() {
        match c {
            'm' | 'r' | 'w' | 'a' | 'l' | 'k' => {
                set.insert(c);
            }
            'c' | 'd' => {
                set.insert('w');
            }
            'x' => exec = true,
            other => {
                return Err(NoRule(format!(
                    "unknown permission {other:?} in file mask {m:?}"
                )));
            }
        }
    }
    if set.contains(&'w') {
        set.remove(&'a');
    }
    if exec && !set.is_empty() {
        exec = false;
    }
    if set.is_empty() && !exec {
        return Err(NoRule(format!("empty file mask {m:?}")));
    }
    Ok((set, exec, owner))
}

/// The rule that would allow `r` (spec §3.9), or why there is none.
/// Only the access itself is considered: event kind and profile are the
/// caller's business.
pub fn rule_for(r: &Record) -> Result<Draft, NoRule> {
    let cat = category(r);
    let denied = r.denied_mask.as_ref().filter(|m| !m.is_empty());
    match cat {
        Category::Exec => exec_rule(r),
        Category::File => file_rule(r),
        Category::Capability => capability_rule(r),
        Category::Network => network_rule(r),
        Category::Unix => unix_rule(r, denied),
        Category::Dbus => dbus_rule(r, denied),
        Category::Signal => signal_rule(r, denied),
        Category::Ptrace => ptrace_rule(r, denied),
        Category::ChangeProfile => change_profile_rule(r),
        Category::ChangeHat => change_hat_note(r),
        Category::Mount => mount_rule(r),
        Category::Umount => umount_rule(r),
        Category::PivotRoot => pivot_root_rule(r),
        Category::Mqueue => mqueue_rule(r, denied),
        Category::IoUring => io_uring_rule(r, denied),
        Category::Userns => userns_rule(r, denied),
        Category::Rlimit => no("rlimit records are not turned into rules"),
        Category::Other => other_note(r),
    }
}

/// An executed file: `PATH ix` (with `m r`).
fn exec_rule(r: &Record) -> Result<Draft, NoRule> {
    let Some(name) = r.name.as_ref().filter(|n| !n.is_empty()) else {
        return no("exec record without a file name");
    };
    Ok(Draft::File {
        owner: false,
        path: name.as_bytes().to_vec(),
        perms: BTreeSetChars::new(),
        exec: true,
    })
}

/// A file access: `[owner ]PATH PERMS`, `owner` from the mask or from fsuid = ouid.
fn file_rule(r: &Record) -> Result<Draft, NoRule> {
    let Some(name) = r.name.as_ref().filter(|n| !n.is_empty()) else {
        return no("file record without a file name (name unknown)");
    };
    let Some(mask) = effective_mask(r) else {
        return no("file record without a permission mask");
    };
    let (perms, exec, mask_owner) = file_mask(&mask.to_str_lossy())?;
    let owner = match mask_owner {
        Some(o) => o,
        None => r.fsuid.is_some() && r.fsuid == r.ouid,
    };
    Ok(Draft::File {
        owner: owner && !exec,
        path: name.as_bytes().to_vec(),
        perms,
        exec,
    })
}

/// `capability NAME`, the name logged or looked up by number.
fn capability_rule(r: &Record) -> Result<Draft, NoRule> {
    let name = match (&r.name, r.extra_value("capability")) {
        (Some(n), _) if !n.is_empty() => n.to_str_lossy().into_owned(),
        (_, Some(num)) => match num.to_str_lossy().parse::<usize>() {
            Ok(i) if i < CAPS.len() => CAPS[i].to_owned(),
            _ => return no(format!("unknown capability number {num}")),
        },
        _ => return no("capability record without a capability name"),
    };
    Ok(entry(Rule::Capability(vec![word(&name)])))
}

/// `network FAMILY [TYPE] …`, local address and port, and the peer unless the access is local-only.
fn network_rule(r: &Record) -> Result<Draft, NoRule> {
    let Some(family) = &r.net_family else {
        return no("network record without a family");
    };
    let accesses = r
        .requested_mask
        .as_ref()
        .map(mask_words)
        .unwrap_or_default();
    let local_only = accesses.iter().any(|a| LOCAL_ONLY.contains(&a.as_str()));
    let mut args = vec![Arg::Word(tword(family))];
    if let Some(t) = &r.net_sock_type {
        args.push(Arg::Word(tword(t)));
    }
    if let Some(a) = &r.net_local_addr {
        args.push(cond("ip", tword(a)));
    }
    if let Some(p) = r.net_local_port {
        args.push(cond("port", word(&p.to_string())));
    }
    if !local_only {
        let mut peer = Vec::new();
        if let Some(a) = &r.net_foreign_addr {
            peer.push(single("ip", tword(a)));
        }
        if let Some(p) = r.net_foreign_port {
            peer.push(single("port", word(&p.to_string())));
        }
        if !peer.is_empty() {
            args.push(group("peer", peer));
        }
    }
    Ok(entry(Rule::Network(CondRule {
        perms: perms_in(accesses, true),
        args,
        target: None,
    })))
}

/// `unix (PERMS) type=… addr=… peer=(addr=…)`.
fn unix_rule(r: &Record, denied: Option<&Text>) -> Result<Draft, NoRule> {
    let Some(d) = denied else {
        return no("unix socket record without a denied mask");
    };
    let mut args = Vec::new();
    if let Some(t) = &r.net_sock_type {
        args.push(cond("type", tword(t)));
    }
    if let Some(a) = r.net_addr.as_ref().filter(|a| *a != "none") {
        args.push(cond("addr", tword(a)));
    }
    if let Some(a) = r.peer_addr.as_ref().filter(|a| *a != "none") {
        args.push(group("peer", vec![single("addr", tword(a))]));
    }
    Ok(entry(Rule::Unix(CondRule {
        perms: perms_in(mask_words(d), true),
        args,
        target: None,
    })))
}

/// `dbus (PERMS) bus=…` with the name for `bind`, else path, interface, member and peer (none for `eavesdrop`).
fn dbus_rule(r: &Record, denied: Option<&Text>) -> Result<Draft, NoRule> {
    let Some(d) = denied else {
        return no("D-Bus record without a mask");
    };
    let words = mask_words(d);
    let mut args = Vec::new();
    if let Some(b) = &r.dbus_bus {
        args.push(cond("bus", tword(b)));
    }
    if words.iter().any(|w| w == "bind") {
        if let Some(n) = &r.name {
            args.push(cond("name", tword(n)));
        }
    } else if !words.iter().any(|w| w == "eavesdrop") {
        if let Some(p) = &r.dbus_path {
            args.push(cond("path", tword(p)));
        }
        if let Some(i) = &r.dbus_interface {
            args.push(cond("interface", tword(i)));
        }
        if let Some(m) = &r.dbus_member {
            args.push(cond("member", tword(m)));
        }
        if let Some(p) = &r.peer_profile {
            args.push(group("peer", vec![single("label", tword(p))]));
        }
    }
    Ok(entry(Rule::Dbus(CondRule {
        perms: perms(words),
        args,
        target: None,
    })))
}

/// `signal (PERMS) set=… peer=…`; none for a null-learning peer.
fn signal_rule(r: &Record, denied: Option<&Text>) -> Result<Draft, NoRule> {
    let Some(d) = denied else {
        return no("signal record without a denied mask");
    };
    let mut args = Vec::new();
    if let Some(s) = &r.signal {
        args.push(cond("set", tword(s)));
    }
    if let Some(p) = &r.peer {
        if memchr::memmem::find(p.as_bytes(), b"//null-").is_some() {
            return no("signal peer is a null-learning profile");
        }
        args.push(cond("peer", tword(p)));
    }
    Ok(entry(Rule::Signal(CondRule {
        perms: perms(mask_words(d)),
        args,
        target: None,
    })))
}

/// `ptrace (PERMS) peer=…`; none without a peer that is a label.
fn ptrace_rule(r: &Record, denied: Option<&Text>) -> Result<Draft, NoRule> {
    let Some(d) = denied else {
        return no("ptrace record without a denied mask");
    };
    let Some(p) = r.peer.as_ref().filter(|p| !p.is_empty()) else {
        return no("ptrace record without a peer");
    };
    if p.as_str().is_none() || p.as_bytes().iter().any(|b| b.is_ascii_control()) {
        return no("ptrace peer is not a label (binary data)");
    }
    Ok(entry(Rule::Ptrace(CondRule {
        perms: perms(mask_words(d)),
        args: vec![cond("peer", tword(p))],
        target: None,
    })))
}

/// `change_profile -> TARGET`, or why there is none.
fn change_profile_rule(r: &Record) -> Result<Draft, NoRule> {
    match r.name2.as_ref().filter(|t| !t.is_empty()) {
        Some(t) => Ok(entry(Rule::ChangeProfile(ChangeProfileRule {
            exec_mod: None,
            exec: None,
            target: Some(policy_word(t.as_bytes(), false)),
        }))),
        None => {
            let info = r.info.as_ref().map(|i| i.to_str_lossy().into_owned());
            match (info.as_deref(), &r.name) {
                (Some("label not found"), Some(n)) => no(format!(
                    "target profile {} is not loaded (error {})",
                    n.escaped(),
                    r.error_code.unwrap_or(0)
                )),
                _ => no("change_profile record without a target"),
            }
        }
    }
}

/// Never a rule: what to do about a change_hat record.
fn change_hat_note(r: &Record) -> Result<Draft, NoRule> {
    match (&r.profile, &r.name2.as_ref().or(r.name.as_ref())) {
        (None, _) => no("unconfined task attempted change_hat"),
        (_, Some(h)) => no(format!(
            "change_hat to {}: add the hat to the profile if it is wanted",
            h.escaped()
        )),
        _ => no(match &r.info {
            Some(i) => format!("change_hat: {}", i.escaped()),
            None => "change_hat without a hat name".into(),
        }),
    }
}

/// `mount fstype=… options=(…) SOURCE -> TARGET` (no fstype or source for a remount).
fn mount_rule(r: &Record) -> Result<Draft, NoRule> {
    let flags: Vec<String> = r
        .flags
        .as_ref()
        .map(|f| {
            let mut v: Vec<String> = f
                .to_str_lossy()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            v.sort();
            v.dedup();
            v
        })
        .unwrap_or_default();
    let remount = flags.iter().any(|f| f == "remount")
        || r.operation.as_ref().is_some_and(|o| *o == "remount");
    let mut args = Vec::new();
    if !remount && let Some(t) = &r.fs_type {
        args.push(cond("fstype", tword(t)));
    }
    if !flags.is_empty() {
        args.push(Arg::Cond(Cond {
            name: "options".into(),
            op: CondOp::Eq,
            value: CondValue::List(flags.iter().map(|f| word(f)).collect()),
            span: Span::default(),
        }));
    }
    if !remount && let Some(s) = &r.src_name {
        args.push(Arg::Word(policy_word(s.as_bytes(), true)));
    }
    Ok(entry(Rule::Mount(CondRule {
        perms: None,
        args,
        target: r.name.as_ref().map(|n| policy_word(n.as_bytes(), true)),
    })))
}

/// `umount MOUNTPOINT`.
fn umount_rule(r: &Record) -> Result<Draft, NoRule> {
    let Some(n) = &r.name else {
        return no("umount record without a mount point");
    };
    Ok(entry(Rule::Umount(CondRule {
        perms: None,
        args: vec![Arg::Word(policy_word(n.as_bytes(), true))],
        target: None,
    })))
}

/// `pivot_root oldroot=… NEWROOT`.
fn pivot_root_rule(r: &Record) -> Result<Draft, NoRule> {
    let mut args = Vec::new();
    if let Some(s) = &r.src_name {
        args.push(cond("oldroot", policy_word(s.as_bytes(), true)));
    }
    match &r.name {
        Some(n) => args.push(Arg::Word(policy_word(n.as_bytes(), true))),
        None => return no("pivot_root record without the new root"),
    }
    Ok(entry(Rule::PivotRoot(CondRule {
        perms: None,
        args,
        target: None,
    })))
}

/// `mqueue (PERMS) type=… NAME`.
fn mqueue_rule(r: &Record, denied: Option<&Text>) -> Result<Draft, NoRule> {
    let Some(d) = denied.or(r.requested_mask.as_ref()) else {
        return no("mqueue record without a mask");
    };
    let class = r
        .class
        .as_ref()
        .map(|c| c.to_str_lossy())
        .unwrap_or_default();
    let mut args = Vec::new();
    if let Some(t) = class.strip_suffix("_mqueue") {
        args.push(cond("type", word(t)));
    }
    if let Some(n) = &r.name {
        args.push(Arg::Word(policy_word(n.as_bytes(), true)));
    }
    Ok(entry(Rule::Mqueue(CondRule {
        perms: perms(mask_words(d)),
        args,
        target: None,
    })))
}

/// `io_uring (PERMS) label=…`.
fn io_uring_rule(r: &Record, denied: Option<&Text>) -> Result<Draft, NoRule> {
    let Some(d) = denied.or(r.requested_mask.as_ref()) else {
        return no("io_uring record without a mask");
    };
    let mut args = Vec::new();
    if let Some(p) = &r.peer_profile {
        args.push(cond("label", tword(p)));
    }
    Ok(entry(Rule::IoUring(CondRule {
        perms: perms(mask_words(d)),
        args,
        target: None,
    })))
}

/// `userns (PERMS)`, the `userns_` prefix dropped from the mask words.
fn userns_rule(r: &Record, denied: Option<&Text>) -> Result<Draft, NoRule> {
    let Some(d) = denied.or(r.requested_mask.as_ref()) else {
        return no("userns record without a mask");
    };
    let words: Vec<String> = mask_words(d)
        .into_iter()
        .map(|w| w.strip_prefix("userns_").unwrap_or(&w).to_owned())
        .collect();
    Ok(entry(Rule::Userns(CondRule {
        perms: perms(words),
        args: Vec::new(),
        target: None,
    })))
}

/// Never a rule: why a record of no known rule kind gives none.
fn other_note(r: &Record) -> Result<Draft, NoRule> {
    match r.event {
        EventType::Status | EventType::Hint | EventType::Error | EventType::Audit => {
            no(format!("{} record", r.event.as_kernel_name()))
        }
        _ => no(match &r.operation {
            Some(o) => format!(
                "operation {} is not mediated by a rule kind we know",
                o.escaped()
            ),
            None => "record without an operation".into(),
        }),
    }
}

/// A record that produced no rule, with how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoteKey {
    /// The profile (`(none)` when the record named none).
    pub profile: String,
    /// The operation.
    pub operation: String,
    /// Why no rule was produced.
    pub reason: NoRule,
}

#[derive(Debug, Clone, Default)]
struct Node {
    files: BTreeMap<(Vec<u8>, bool), (BTreeSetChars, bool)>,
    rules: Vec<(RuleEntry, Option<String>)>,
    seen: HashSet<String>,
    children: BTreeMap<String, Node>,
}

/// Suggested rules per profile, merged.
///
/// Rules that a record of a trusted origin
/// ([`Origin::is_trusted`](crate::log::Origin::is_trusted): the kernel, a
/// trusted helper) supports are the suggestions proper
/// ([`Suggestions::blocks`]); rules (and file permissions) that only
/// records of unverified senders support are kept apart
/// ([`Suggestions::untrusted_blocks`]) until [`Suggestions::trust_untrusted`]
/// moves them in. A rule is never in both: a trusted record takes it out of
/// the untrusted part.
#[derive(Debug, Clone, Default)]
pub struct Suggestions {
    top: BTreeMap<String, Node>,
    /// Rules only untrusted records support (never in `top`).
    untrusted: BTreeMap<String, Node>,
    /// Records without a rule, with counts.
    pub notes: BTreeMap<NoteKey, u64>,
    /// Distinct rules held (bounded by [`MAX_RULES`]).
    rules: usize,
    /// Records whose rule was not kept because [`MAX_RULES`] distinct rules
    /// were already held.
    pub overflow_records: u64,
}

/// Most distinct rules kept (memory bound for huge logs).
pub const MAX_RULES: usize = 200_000;

/// Most distinct no-rule notes kept.
const MAX_NOTES: usize = 10_000;

impl Suggestions {
    /// Adds `r`, attributed to `profiles` (from [`super::Filter::apply`]).
    /// Records of kinds other than DENIED/ALLOWED/KILLED/AUTO and records
    /// naming no profile are noted, not turned into rules. The rule of a
    /// record whose sender is not verified goes to the untrusted part,
    /// unless a trusted record supports it too.
    pub fn add(&mut self, r: &Record, profiles: &[String]) {
        let op = r
            .operation
            .as_ref()
            .map(|o| o.escaped().into_owned())
            .unwrap_or_default();
        let result = if !matches!(
            r.event,
            EventType::Denied | EventType::Allowed | EventType::Killed | EventType::Auto
        ) {
            Err(NoRule(format!("{} record", r.event.as_kernel_name())))
        } else {
            rule_for(r)
        };
        if profiles.is_empty() {
            let reason = match result {
                Err(e) => e,
                Ok(_) => NoRule("record names no profile".into()),
            };
            self.note("(none)".into(), op, reason);
            return;
        }
        let trusted = r.provenance.origin.is_trusted();
        for p in profiles {
            match &result {
                Ok(d) if trusted => self.add_trusted(p, d.clone()),
                Ok(d) => self.add_untrusted(p, d.clone()),
                Err(e) => {
                    if trusted {
                        // a profile with records but no rule still gets its block
                        self.node(p);
                    }
                    self.note(p.clone(), op.clone(), e.clone());
                }
            }
        }
    }

    /// Adds a rule a trusted record supports to `profile`, taking it out of
    /// the untrusted part.
    fn add_trusted(&mut self, profile: &str, d: Draft) {
        if let Some(u) = find_node(&mut self.untrusted, profile)
            && u.take_covered(&d)
        {
            self.rules -= 1;
        }
        let full = self.rules >= MAX_RULES;
        match self.node(profile).add(d, full) {
            Some(true) => self.rules += 1,
            Some(false) => {}
            None => self.overflow_records += 1,
        }
    }

    /// Adds what a record of an unverified sender supports to the untrusted
    /// part of `profile`, less what trusted records already support.
    fn add_untrusted(&mut self, profile: &str, mut d: Draft) {
        if let Some(t) = find_node(&mut self.top, profile)
            && t.covers(&mut d)
        {
            return;
        }
        let full = self.rules >= MAX_RULES;
        match node_in(&mut self.untrusted, profile).add(d, full) {
            Some(true) => self.rules += 1,
            Some(false) => {}
            None => self.overflow_records += 1,
        }
    }

    fn note(&mut self, profile: String, operation: String, reason: NoRule) {
        let k = NoteKey {
            profile,
            operation,
            reason,
        };
        if let Some(n) = self.notes.get_mut(&k) {
            *n += 1;
        } else if self.notes.len() < MAX_NOTES {
            self.notes.insert(k, 1);
        }
    }

    /// The node of `profile` (`a//b` nested), created empty if missing.
    fn node(&mut self, profile: &str) -> &mut Node {
        node_in(&mut self.top, profile)
    }

    /// Adds a draft rule to `profile` directly.
    pub fn add_draft(&mut self, profile: &str, d: Draft) {
        if self.node(profile).add(d, false) == Some(true) {
            self.rules += 1;
        }
    }

    /// Passes every rule through `f` (given the full profile name `a//b`
    /// and the rule): `None` drops it, `Some(rule)` keeps it, possibly
    /// reduced (used to drop what the policy on disk already allows, or to
    /// keep only the missing file permissions). Returns how many rules were
    /// dropped.
    /// Both parts, trusted and untrusted, are filtered.
    pub fn retain(&mut self, f: &mut dyn FnMut(&str, &RuleEntry) -> Option<RuleEntry>) -> usize {
        fn walk(
            name: &str,
            n: &mut Node,
            f: &mut dyn FnMut(&str, &RuleEntry) -> Option<RuleEntry>,
        ) -> usize {
            let mut removed = 0;
            let files = std::mem::take(&mut n.files);
            for (k, v) in files {
                let e = file_entry(&k.0, k.1, &v.0, v.1);
                match f(name, &e) {
                    None => removed += 1,
                    Some(e2) if e2 == e => {
                        n.files.insert(k, v);
                    }
                    Some(e2) => n.rules.push((e2, None)),
                }
            }
            let rules = std::mem::take(&mut n.rules);
            for (e, c) in rules {
                match f(name, &e) {
                    None => removed += 1,
                    Some(e2) => n.rules.push((e2, c)),
                }
            }
            for (c, child) in &mut n.children {
                removed += walk(&format!("{name}//{c}"), child, f);
            }
            removed
        }
        let mut removed = 0;
        for (name, n) in self.top.iter_mut().chain(self.untrusted.iter_mut()) {
            removed += walk(name, n, f);
        }
        removed
    }

    /// Rewrites every rule with `f` (used by `--generalize`); `f` returns
    /// the new rule and an optional trailing comment (the raw value). Both
    /// parts, trusted and untrusted, are rewritten.
    pub fn rewrite(&mut self, f: &mut dyn FnMut(&RuleEntry) -> (RuleEntry, Option<String>)) {
        fn walk(n: &mut Node, f: &mut dyn FnMut(&RuleEntry) -> (RuleEntry, Option<String>)) {
            let files = std::mem::take(&mut n.files);
            for (k, v) in files {
                let e = file_entry(&k.0, k.1, &v.0, v.1);
                let (e2, c) = f(&e);
                if e2 == e && c.is_none() {
                    n.files.insert(k, v);
                } else {
                    n.rules.push((e2, c));
                }
            }
            let rules = std::mem::take(&mut n.rules);
            n.rules = rules
                .into_iter()
                .map(|(e, c)| match c {
                    Some(c) => (e, Some(c)),
                    None => f(&e),
                })
                .collect();
            for c in n.children.values_mut() {
                walk(c, f);
            }
        }
        for n in self.top.values_mut().chain(self.untrusted.values_mut()) {
            walk(n, f);
        }
    }

    /// Moves the rules only untrusted records support into the suggestions
    /// proper (the user chose to trust those records: `aactl log
    /// --trust-userspace-records`).
    pub fn trust_untrusted(&mut self) {
        fn merge(into: &mut Node, from: Node) {
            for (k, (perms, exec)) in from.files {
                let e = into.files.entry(k).or_default();
                e.0.extend(perms);
                e.1 |= exec;
            }
            for (r, c) in from.rules {
                if into.seen.insert(r.to_string()) {
                    into.rules.push((r, c));
                }
            }
            for (name, child) in from.children {
                merge(into.children.entry(name).or_default(), child);
            }
        }
        for (name, n) in std::mem::take(&mut self.untrusted) {
            merge(self.top.entry(name).or_default(), n);
        }
    }

    /// True when no profile block would be printed (untrusted part aside).
    pub fn is_empty(&self) -> bool {
        self.top.is_empty()
    }

    /// Number of rules suggested (untrusted part aside).
    pub fn rule_count(&self) -> usize {
        self.top.values().map(Node::rule_count).sum()
    }

    /// Number of rules only untrusted records support.
    pub fn untrusted_rule_count(&self) -> usize {
        self.untrusted.values().map(Node::rule_count).sum()
    }

    /// The profile blocks as AST nodes, one per top-level profile, sorted by
    /// name; a profile with records but no rule gives an empty block.
    /// Rules only untrusted records support are not in them
    /// ([`Suggestions::untrusted_blocks`]).
    pub fn blocks(&self) -> Vec<Profile> {
        self.top
            .iter()
            .map(|(name, n)| build(name, n, false, false))
            .collect()
    }

    /// The rules only records of unverified senders support, as profile
    /// blocks like [`Suggestions::blocks`] (profiles, hats and children
    /// without such a rule left out).
    pub fn untrusted_blocks(&self) -> Vec<Profile> {
        self.untrusted
            .iter()
            .filter(|(_, n)| n.rule_count() > 0)
            .map(|(name, n)| build(name, n, false, true))
            .collect()
    }

    /// The rules of one profile (`a//b` for a hat) as printed lines, for
    /// writing to a local override file.
    pub fn rules_of(&self, profile: &str) -> Vec<Item> {
        let mut parts = split_hats(profile).into_iter();
        let Some(mut n) = parts.next().and_then(|f| self.top.get(&f)) else {
            return Vec::new();
        };
        for p in parts {
            match n.children.get(&p) {
                Some(c) => n = c,
                None => return Vec::new(),
            }
        }
        items(n)
    }

    /// The names of the top-level profiles.
    pub fn profiles(&self) -> Vec<&str> {
        self.top.keys().map(String::as_str).collect()
    }

    /// Renders the blocks as policy text with the canonical printer, one
    /// blank line between blocks.
    pub fn render(&self) -> String {
        render_blocks(&self.blocks())
    }

    /// Renders [`Suggestions::untrusted_blocks`] as [`Suggestions::render`]
    /// does.
    pub fn render_untrusted(&self) -> String {
        render_blocks(&self.untrusted_blocks())
    }
}

fn render_blocks(blocks: &[Profile]) -> String {
    let mut s = String::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let _ = writeln!(s, "{b}");
    }
    s
}

/// The node of `profile` (`a//b` nested) in `tree`, created empty if missing.
fn node_in<'a>(tree: &'a mut BTreeMap<String, Node>, profile: &str) -> &'a mut Node {
    let mut parts = split_hats(profile).into_iter();
    let first = parts.next().unwrap_or_default();
    let mut n = tree.entry(first).or_default();
    for p in parts {
        n = n.children.entry(p).or_default();
    }
    n
}

/// The node of `profile` in `tree`, if there is one.
fn find_node<'a>(tree: &'a mut BTreeMap<String, Node>, profile: &str) -> Option<&'a mut Node> {
    let mut parts = profile.split("//");
    let mut n = tree.get_mut(parts.next()?)?;
    for p in parts {
        n = n.children.get_mut(p)?;
    }
    Some(n)
}

impl Node {
    /// Rules here and in the hats and children.
    fn rule_count(&self) -> usize {
        self.files.len()
            + self.rules.len()
            + self.children.values().map(Node::rule_count).sum::<usize>()
    }

    /// Takes out of this (untrusted) node what `d` supports: file
    /// permissions of the same path, or the same rule. True when a rule
    /// went entirely.
    fn take_covered(&mut self, d: &Draft) -> bool {
        match d {
            Draft::File {
                owner,
                path,
                perms,
                exec,
            } => {
                let key = (path.clone(), *owner);
                let Some((p, x)) = self.files.get_mut(&key) else {
                    return false;
                };
                p.retain(|c| !perms.contains(c));
                *x &= !*exec;
                if p.is_empty() && !*x {
                    self.files.remove(&key);
                    return true;
                }
                false
            }
            Draft::Rule(r) => {
                if !self.seen.remove(&r.to_string()) {
                    return false;
                }
                self.rules.retain(|(x, _)| x != r);
                true
            }
        }
    }

    /// Reduces `d` to what this (trusted) node does not already hold; true
    /// when nothing is left.
    fn covers(&self, d: &mut Draft) -> bool {
        match d {
            Draft::File {
                owner,
                path,
                perms,
                exec,
            } => {
                // (the path moves into the key and back: no copy)
                let key = (std::mem::take(path), *owner);
                if let Some((p, x)) = self.files.get(&key) {
                    perms.retain(|c| !p.contains(c));
                    *exec &= !*x;
                }
                *path = key.0;
                perms.is_empty() && !*exec
            }
            Draft::Rule(r) => self.seen.contains(&r.to_string()),
        }
    }

    /// Adds a draft: `Some(true)` when it made a new rule, `Some(false)`
    /// when it merged into one, `None` when it was new but `full`.
    fn add(&mut self, d: Draft, full: bool) -> Option<bool> {
        match d {
            Draft::File {
                owner,
                path,
                perms,
                exec,
            } => {
                let key = (path, owner);
                if let Some(e) = self.files.get_mut(&key) {
                    e.0.extend(perms);
                    e.1 |= exec;
                    return Some(false);
                }
                if full {
                    return None;
                }
                self.files.insert(key, (perms, exec));
                Some(true)
            }
            Draft::Rule(r) => {
                let key = r.to_string();
                if self.seen.contains(&key) {
                    return Some(false);
                }
                if full {
                    return None;
                }
                self.seen.insert(key);
                self.rules.push((r, None));
                Some(true)
            }
        }
    }
}

fn split_hats(profile: &str) -> Vec<String> {
    // Namespaced names keep their prefix on the top-level part.
    profile.split("//").map(str::to_owned).collect()
}

/// A file rule entry from merged parts: perms `m r w a l k` in that order,
/// exec as `ix` (with `m` and `r`, as the utils write `mrix`).
pub fn file_entry(path: &[u8], owner: bool, perms: &BTreeSetChars, exec: bool) -> RuleEntry {
    let mut p: BTreeSetChars = perms.clone();
    if exec {
        p.insert('m');
        p.insert('r');
    }
    let mut s: String = FILE_PERMS.iter().filter(|c| p.contains(c)).collect();
    if exec {
        s.push_str("ix");
    }
    RuleEntry {
        quals: Qualifiers {
            owner: owner.then_some(Owner::Owner),
            ..Qualifiers::default()
        },
        rule: Rule::File(FileRule {
            keyword: false,
            exec_mod: None,
            path: Some(policy_word(path, true)),
            perms: Some(Word {
                text: s,
                quoted: false,
                span: Span::default(),
            }),
            leading: false,
            subset: false,
            target: None,
        }),
        span: Span::default(),
    }
}

fn sort_key(r: &RuleEntry) -> u8 {
    match r.rule {
        Rule::Capability(_) => 0,
        Rule::Network(_) => 1,
        Rule::Unix(_) => 2,
        Rule::Dbus(_) => 3,
        Rule::Signal(_) => 4,
        Rule::Ptrace(_) => 5,
        Rule::Mount(_) | Rule::Remount(_) | Rule::Umount(_) => 6,
        Rule::PivotRoot(_) => 7,
        Rule::Mqueue(_) => 8,
        Rule::IoUring(_) => 9,
        Rule::Userns(_) => 10,
        Rule::ChangeProfile(_) => 11,
        _ => 12,
    }
}

fn items(n: &Node) -> Vec<Item> {
    let mut rules: Vec<(RuleEntry, Option<String>)> = n.rules.clone();
    rules.sort_by_key(|r| sort_key(&r.0));
    let mut out: Vec<Item> = Vec::new();
    for (r, c) in rules {
        out.push(Item::Rule(r));
        if let Some(c) = c {
            out.push(Item::Comment(Comment {
                text: format!(" {}", c.replace(['\n', '\r'], " ")),
                trailing: true,
                span: Span::default(),
            }));
        }
    }
    for ((path, owner), (perms, exec)) in &n.files {
        out.push(Item::Rule(file_entry(path, *owner, perms, *exec)));
    }
    out
}

/// The block of profile `name` (a hat when `hat`); with `prune`, hats and
/// children without a rule are left out (the untrusted part: a trusted
/// record may have taken their rules).
fn build(name: &str, n: &Node, hat: bool, prune: bool) -> Profile {
    let mut body = items(n);
    for (c, child) in &n.children {
        if prune && child.rule_count() == 0 {
            continue;
        }
        body.push(Item::Profile(Box::new(build(c, child, true, prune))));
    }
    let kind = if hat {
        ProfileKind::Caret
    } else if name.starts_with('/') {
        ProfileKind::Bare
    } else {
        ProfileKind::Profile
    };
    Profile {
        kind,
        name: policy_word(name.as_bytes(), false),
        attachment: None,
        xattrs: None,
        identities: Vec::new(),
        flags: None,
        items: body,
        head_span: Span::default(),
        span: Span::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> String {
        let (v, _) = crate::log::parse_str(line, "t");
        let mut s = Suggestions::default();
        for r in &v {
            s.add(r, &super::super::classify::profiles_of(r));
        }
        s.render()
    }

    #[test]
    fn words() {
        assert_eq!(policy_word(b"/a b", true).to_string(), "\"/a b\"");
        assert_eq!(policy_word(b"/a*[x]", true).to_string(), "/a\\*\\[x\\]");
        assert_eq!(
            policy_word(b"/a\x1b\xff", true).to_string(),
            "\"/a\\x1b\\xff\""
        );
        assert_eq!(
            policy_word(b"/dev/shm/test(me", true).to_string(),
            "/dev/shm/test(me"
        );
        assert_eq!(policy_word(b"/!", true).to_string(), "\"/!\"");
    }

    proptest::proptest! {
        /// Any logged name becomes a rule that the parser reads back as
        /// the same AST, and whose literal is the name (lossy for bytes
        /// that are not UTF-8).
        #[test]
        fn any_name_round_trips(name in proptest::collection::vec(proptest::num::u8::ANY, 1..40),
                                prof in "[a-z/][a-z0-9 ./_-]{0,12}") {
            let mut path = b"/".to_vec();
            path.extend_from_slice(&name);
            let mut s = Suggestions::default();
            s.add_draft(&prof, Draft::File { owner: true, path: path.clone(), perms: ['r'].into(), exec: false });
            let text = s.render();
            proptest::prop_assert!(!text.bytes().any(|b| b < 0x20 && b != b'\n'), "{}", text);
            let parsed = crate::policy::parse_str(&text, crate::diag::FileId(0));
            proptest::prop_assert!(parsed.is_ok(), "{}: {:?}", text, parsed.diagnostics);
            let ours = s.blocks();
            let got = parsed.ast.profiles();
            proptest::prop_assert_eq!(got.len(), 1);
            proptest::prop_assert_eq!(got[0], &ours[0]);
            if let Item::Rule(RuleEntry { rule: Rule::File(f), .. }) = &ours[0].items[0] {
                let lit = super::super::ondisk::literal(f.path.as_ref().unwrap());
                proptest::prop_assert_eq!(lit, String::from_utf8_lossy(&path).into_owned());
            }
        }
    }

    #[test]
    fn untrusted_rules_apart_per_permission_and_hat() {
        let kernel = r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" class="file" profile="p//hat" name="/x" comm="c" requested_mask="r" denied_mask="r" fsuid=1 ouid=0"#;
        let forged = |profile: &str, mask: &str, name: &str| {
            format!(
                "Nov 29 18:00:00 h mallory: type=1400 audit(1.2:4): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"{profile}\" name=\"{name}\" comm=\"c\" requested_mask=\"{mask}\" denied_mask=\"{mask}\" fsuid=1 ouid=0"
            )
        };
        let add = |s: &mut Suggestions, line: &str| {
            let (v, _) = crate::log::parse_str(line, "t");
            for r in &v {
                s.add(r, &super::super::classify::profiles_of(r));
            }
        };
        // a forged `rw` after the kernel's `r`: only `w` is untrusted
        let mut s = Suggestions::default();
        add(&mut s, kernel);
        add(&mut s, &forged("p//hat", "rw", "/x"));
        assert_eq!(s.render(), "profile p {\n  ^hat {\n    /x r,\n  }\n}\n");
        assert_eq!(
            s.render_untrusted(),
            "profile p {\n  ^hat {\n    /x w,\n  }\n}\n"
        );
        // the kernel's record after the forged one takes its rule: the hat
        // is left out of the untrusted part, which keeps p's own rule
        let mut s = Suggestions::default();
        add(&mut s, &forged("p//hat", "r", "/x"));
        add(&mut s, &forged("p", "r", "/z"));
        add(&mut s, kernel);
        assert_eq!((s.rule_count(), s.untrusted_rule_count()), (1, 1));
        assert_eq!(s.render_untrusted(), "profile p {\n  /z r,\n}\n");
        s.trust_untrusted();
        assert_eq!(
            s.render(),
            "profile p {\n  /z r,\n  ^hat {\n    /x r,\n  }\n}\n"
        );
        assert_eq!(s.untrusted_rule_count(), 0);
    }

    #[test]
    fn file_owner_and_masks() {
        let out = one(
            r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="mknod" class="file" profile="pacdiff" name="/root/x.swx" comm="vim" requested_mask="c" denied_mask="c" fsuid=0 ouid=0"#,
        );
        assert_eq!(out, "profile pacdiff {\n  owner /root/x.swx w,\n}\n");
    }
}
