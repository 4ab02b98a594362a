//! Which kind of access a record is about (as `get_event_type` in the
//! AppArmor utils decides it; docs/log-formats.md, "Classifying a record"),
//! and which profiles it belongs to.
//!
//! The kernel's `class=` is the primary classifier; the
//! operation name is the fallback for kernels that do not log a class.

use crate::label::Label;
use crate::log::{Record, Text};
use std::fmt;

/// The kind of access a record is about: one per rule kind the utils
/// suggest, plus the kinds that never produce a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// File access (`open`, `mkdir`, `link`, …).
    File,
    /// `exec` of a file.
    Exec,
    /// `capable`.
    Capability,
    /// Network socket (not unix).
    Network,
    /// Unix socket (`class="net"` with `family="unix"`).
    Unix,
    /// D-Bus (from dbus-daemon or dbus-broker).
    Dbus,
    /// Signal.
    Signal,
    /// Ptrace.
    Ptrace,
    /// `change_profile` / `change_onexec`.
    ChangeProfile,
    /// `change_hat`.
    ChangeHat,
    /// `mount` (also `remount`, given by its flags).
    Mount,
    /// `umount`.
    Umount,
    /// `pivotroot`.
    PivotRoot,
    /// POSIX or SysV message queue.
    Mqueue,
    /// io_uring.
    IoUring,
    /// User namespace creation.
    Userns,
    /// Resource limits.
    Rlimit,
    /// Policy status (`profile_load`, …), hints, errors and anything else.
    Other,
}

impl Category {
    /// A short lowercase name (`file`, `exec`, `capability`, `network`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::File => "file",
            Category::Exec => "exec",
            Category::Capability => "capability",
            Category::Network => "network",
            Category::Unix => "unix",
            Category::Dbus => "dbus",
            Category::Signal => "signal",
            Category::Ptrace => "ptrace",
            Category::ChangeProfile => "change_profile",
            Category::ChangeHat => "change_hat",
            Category::Mount => "mount",
            Category::Umount => "umount",
            Category::PivotRoot => "pivot_root",
            Category::Mqueue => "mqueue",
            Category::IoUring => "io_uring",
            Category::Userns => "userns",
            Category::Rlimit => "rlimit",
            Category::Other => "other",
        }
    }
}

impl Category {
    /// The kernel's `class=` name for the kinds whose records carry one
    /// (`file`, `cap`, `net`, `signal`, `ptrace`, `dbus`, `rlimits`): the
    /// inverse of the class test in [`category`], so that a record without
    /// `class=` (older kernels, user-space senders) is named like one with it.
    pub fn kernel_class(self) -> Option<&'static str> {
        match self {
            Category::File => Some("file"),
            Category::Capability => Some("cap"),
            Category::Network => Some("net"),
            Category::Signal => Some("signal"),
            Category::Ptrace => Some("ptrace"),
            Category::Dbus => Some("dbus"),
            Category::Rlimit => Some("rlimits"),
            _ => None,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Operations the utils treat as file or network operations: network when
/// family, protocol and socket type are logged, else file.
const FILE_OR_NET_OPS: &[&str] = &[
    "create",
    "post_create",
    "bind",
    "connect",
    "listen",
    "accept",
    "sendmsg",
    "recvmsg",
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "socket_create",
    "sock_shutdown",
    "open",
    "truncate",
    "mkdir",
    "mknod",
    "chmod",
    "chown",
    "rename_src",
    "rename_dest",
    "unlink",
    "rmdir",
    "symlink",
    "symlink_create",
    "link",
    "sysctl",
    "getattr",
    "setattr",
    "xattr",
];

fn s(t: &Option<Text>) -> &str {
    t.as_ref().and_then(Text::as_str).unwrap_or("")
}

/// The mask the access is described by: `denied_mask` when logged and not
/// empty, else `requested_mask`.
pub fn effective_mask(r: &Record) -> Option<&Text> {
    r.denied_mask
        .as_ref()
        .filter(|m| !m.is_empty())
        .or(r.requested_mask.as_ref().filter(|m| !m.is_empty()))
}

/// Classifies a record (first match wins, as in the utils, with `class=`
/// consulted first where the kernel logs it).
pub fn category(r: &Record) -> Category {
    let op = s(&r.operation);
    let class = s(&r.class);
    let mask = effective_mask(r).and_then(Text::as_str).unwrap_or("");
    if op == "exec" {
        return Category::Exec;
    }
    if (class == "namespace" && mask.contains("userns_")) || op.starts_with("userns_") {
        return Category::Userns;
    }
    if class.ends_with("mqueue") {
        return Category::Mqueue;
    }
    if class == "io_uring" || op.starts_with("uring_") {
        return Category::IoUring;
    }
    if op == "umount" {
        return Category::Umount;
    }
    if class == "mount" || op == "mount" || op == "remount" {
        return Category::Mount;
    }
    if op == "pivotroot" {
        return Category::PivotRoot;
    }
    let family = s(&r.net_family);
    if class == "net" && family == "unix" {
        return Category::Unix;
    }
    if op == "change_onexec" || op == "change_profile" {
        return Category::ChangeProfile;
    }
    if op == "change_hat" {
        return Category::ChangeHat;
    }
    match class {
        "file" => return Category::File,
        "cap" => return Category::Capability,
        "net" => return Category::Network,
        "signal" => return Category::Signal,
        "ptrace" => return Category::Ptrace,
        "dbus" => return Category::Dbus,
        "rlimits" => return Category::Rlimit,
        _ => {}
    }
    let fileish =
        op.starts_with("file_") || op.starts_with("inode_") || FILE_OR_NET_OPS.contains(&op);
    if fileish {
        if r.net_family.is_some() && r.net_protocol.is_some() && r.net_sock_type.is_some() {
            return Category::Network;
        }
        if effective_mask(r).is_some() || op == "file_lock" {
            return Category::File;
        }
        return Category::Other;
    }
    match op {
        "capable" => Category::Capability,
        "ptrace" => Category::Ptrace,
        "signal" => Category::Signal,
        "setrlimit" => Category::Rlimit,
        o if o.starts_with("dbus_") => Category::Dbus,
        _ => Category::Other,
    }
}

/// The profiles a record is attributed to, as printed in labels
/// (`name`, `parent//hat`, `:ns:name`): every profile of a stacked label
/// (`a//&b` gives `a` and `b`), with the namespace prefix kept for profiles
/// of child namespaces. A namespace's `unconfined` component is dropped when
/// the stack holds a real profile; a label of `unconfined` alone gives
/// `unconfined`. Empty when the record names no profile.
pub fn profiles_of(r: &Record) -> Vec<String> {
    let mut v = Vec::new();
    profiles_into(r, &mut v);
    v
}

/// [`profiles_of`] into `out` (emptied first), for a caller that classifies many records
/// with one list.
pub fn profiles_into(r: &Record, out: &mut Vec<String>) {
    out.clear();
    let Some(p) = r.profile.as_ref() else {
        return;
    };
    if p.is_empty() {
        return;
    }
    // the common record: one profile of the reader's namespace, the name as logged (what the
    // label split below gives for it, without building the label)
    let own_ns = r
        .namespace
        .as_ref()
        .is_none_or(|n| matches!(n.as_bytes(), b"" | b"root" | b"default"));
    if own_ns
        && let Some(name) = p.as_str()
        && !name.starts_with(':')
        && !name.contains("//&")
    {
        out.push(name.to_owned());
        return;
    }
    let mut name = p.to_str_lossy().into_owned();
    // old kernels log a profile outside the root namespace as
    // `namespace=NS profile=NAME`; newer ones write one `label=:NS:NAME`
    if let Some(ns) = r.namespace.as_ref().map(|n| n.to_str_lossy())
        && !matches!(&*ns, "" | "root" | "default")
        && !name.starts_with(':')
    {
        let ns = ns.strip_prefix("root//").unwrap_or(&ns);
        let ns = ns.trim_matches(':');
        name = format!(":{ns}:{name}");
    }
    let label = Label::new(name, None);
    let comps = label.components();
    out.extend(
        comps
            .iter()
            .filter(|c| !c.is_unconfined() && !c.profile.is_empty())
            .map(|c| c.to_string()),
    );
    if out.is_empty() {
        out.extend(comps.iter().map(|c| c.to_string()));
    }
    out.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: &str) -> Record {
        let (v, _) = crate::log::parse_str(line, "t");
        v.into_iter().next().expect("a record")
    }

    #[test]
    fn class_is_primary() {
        let r = rec(
            r#"type=AVC msg=audit(1.2:3): apparmor="ALLOWED" operation="open" class="file" profile="/p" name="/etc/" pid=1 comm="ls" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        );
        assert_eq!(category(&r), Category::File);
        let r = rec(
            r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="connect" class="net" profile="/p" family="unix" sock_type="stream" protocol=0 requested="send" denied="send""#,
        );
        assert_eq!(category(&r), Category::Unix);
    }

    #[test]
    fn stacks_and_namespaces() {
        let r = rec(
            r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" label="a//&:ns:b//&unconfined" name="/x" pid=1 comm="c" requested_mask="r" denied_mask="r""#,
        );
        assert_eq!(profiles_of(&r), vec!["a".to_string(), ":ns:b".to_string()]);
        let r = rec(
            r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" profile="unconfined" name="/x" requested_mask="r" denied_mask="r""#,
        );
        assert_eq!(profiles_of(&r), vec!["unconfined".to_string()]);
        let r = rec(
            r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" namespace="ns2" profile="p" name="/x" requested_mask="r" denied_mask="r""#,
        );
        assert_eq!(profiles_of(&r), vec![":ns2:p".to_string()]);
    }
}
