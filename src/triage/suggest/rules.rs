//! [`rule_for`]: one record to the rule that would allow it, one function
//! per rule class.

use super::words::{
    cond, entry, group, mask_words, no, perms, perms_in, policy_word, single, tword, word,
};
use super::{BTreeSetChars, Draft, NoRule};
use crate::log::{EventType, Record, Text};
use crate::policy::ast::*;
use crate::triage::classify::{Category, category, effective_mask};

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

/// The rule that would allow `r` (as the utils write it; docs/triage.md),
/// or why there is none.
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
    if r.problem.as_deref() == Some(crate::log::parse::JUNK_PTRACE_TARGET) {
        return no("ptrace target is binary data (a kernel bug), not a label");
    }
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
