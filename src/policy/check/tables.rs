//! Name tables, as in apparmor_parser 6.0 (capabilities, network, signals, mount options,
//! rlimits, errno names, profile flags).

/// Capability names compiled into apparmor_parser.
pub(crate) const CAPABILITIES: &[&str] = &[
    "audit_control",
    "audit_read",
    "audit_write",
    "block_suspend",
    "bpf",
    "checkpoint_restore",
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "ipc_lock",
    "ipc_owner",
    "kill",
    "lease",
    "linux_immutable",
    "mac_admin",
    "mac_override",
    "mknod",
    "net_admin",
    "net_bind_service",
    "net_broadcast",
    "net_raw",
    "perfmon",
    "setfcap",
    "setgid",
    "setpcap",
    "setuid",
    "syslog",
    "sys_admin",
    "sys_boot",
    "sys_chroot",
    "sys_module",
    "sys_nice",
    "sys_pacct",
    "sys_ptrace",
    "sys_rawio",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "wake_alarm",
];

/// Address families, by the names apparmor_parser takes for them.
pub(crate) const NET_FAMILIES: &[&str] = &[
    "unspec",
    "unix",
    "inet",
    "ax25",
    "ipx",
    "appletalk",
    "netrom",
    "bridge",
    "atmpvc",
    "x25",
    "inet6",
    "rose",
    "netbeui",
    "security",
    "key",
    "netlink",
    "packet",
    "ash",
    "econet",
    "atmsvc",
    "rds",
    "sna",
    "irda",
    "pppox",
    "wanpipe",
    "llc",
    "ib",
    "mpls",
    "can",
    "tipc",
    "bluetooth",
    "iucv",
    "rxrpc",
    "isdn",
    "phonet",
    "ieee802154",
    "caif",
    "alg",
    "nfc",
    "vsock",
    "kcm",
    "qipcrtr",
    "smc",
    "xdp",
    "mctp",
];

/// Socket types (any family).
pub(crate) const NET_TYPES: &[&str] = &["stream", "dgram", "seqpacket", "rdm", "raw", "packet"];

/// Network/unix access permissions.
pub(crate) const NET_PERMS: &[&str] = &[
    "create", "bind", "listen", "accept", "connect", "shutdown", "getattr", "setattr", "getopt",
    "setopt", "send", "receive", "read", "write", "r", "w", "rw", "wr",
];

/// Network/unix permissions that make sense with a peer.
pub(crate) const PEER_PERMS: &[&str] = &[
    "accept", "connect", "send", "receive", "read", "write", "r", "w", "rw", "wr",
];

/// Unix socket `type=` values.
pub(crate) const UNIX_TYPES: &[&str] = &[
    "stream",
    "dgram",
    "raw",
    "rdm",
    "seqpacket",
    "dccp",
    "packet",
];

/// DBus permissions.
pub(crate) const DBUS_PERMS: &[&str] = &[
    "send",
    "receive",
    "bind",
    "eavesdrop",
    "read",
    "write",
    "r",
    "w",
    "rw",
    "wr",
];

/// Signal permissions.
pub(crate) const SIGNAL_PERMS: &[&str] =
    &["send", "receive", "read", "write", "r", "w", "rw", "wr"];

/// Ptrace permissions.
pub(crate) const PTRACE_PERMS: &[&str] =
    &["read", "readby", "trace", "tracedby", "r", "w", "rw", "wr"];

/// Mqueue permissions.
pub(crate) const MQUEUE_PERMS: &[&str] = &[
    "create", "open", "delete", "getattr", "setattr", "read", "write", "r", "w", "rw", "wr",
];

/// io_uring permissions.
pub(crate) const IOURING_PERMS: &[&str] = &["sqpoll", "override_creds"];

/// userns permissions.
pub(crate) const USERNS_PERMS: &[&str] = &["create"];

/// Signal names for `set=` and `kill.signal=` (6.0's list, with `tstp` and `poll`).
pub(crate) const SIGNALS: &[&str] = &[
    "hup", "int", "quit", "ill", "trap", "abrt", "bus", "fpe", "kill", "usr1", "segv", "usr2",
    "pipe", "alrm", "term", "stkflt", "chld", "cont", "stop", "stp", "tstp", "ttin", "ttou", "urg",
    "xcpu", "xfsz", "vtalrm", "prof", "winch", "io", "poll", "pwr", "sys", "emt", "exists",
];

/// True for a valid signal name (`rtmin+0` … `rtmin+32` included).
pub(crate) fn is_signal(s: &str) -> bool {
    if SIGNALS.contains(&s) {
        return true;
    }
    // apparmor_parser reads the number with strtol: trailing text is ignored
    s.strip_prefix("rtmin+").is_some_and(|n| {
        let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
        !digits.is_empty() && digits.parse::<u32>().is_ok_and(|v| v <= 32)
    })
}

/// Mount option words of 6.0's `mnt_opts_table` other than the propagation types
/// ([`MOUNT_PROPAGATION`] holds those; [`is_mount_option`] asks both).
pub(crate) const MOUNT_OPTIONS: &[&str] = &[
    "ro",
    "r",
    "read-only",
    "rw",
    "w",
    "suid",
    "nosuid",
    "dev",
    "nodev",
    "exec",
    "noexec",
    "sync",
    "async",
    "remount",
    "mand",
    "nomand",
    "dirsync",
    "symfollow",
    "nosymfollow",
    "atime",
    "noatime",
    "diratime",
    "nodiratime",
    "bind",
    "B",
    "move",
    "M",
    "rbind",
    "R",
    "verbose",
    "silent",
    "loud",
    "acl",
    "noacl",
    "relatime",
    "norelatime",
    "iversion",
    "noiversion",
    "strictatime",
    "nostrictatime",
    "lazytime",
    "nolazytime",
    "user",
    "nouser",
];

/// Mount propagation-type options (the rest of 6.0's `mnt_opts_table`).
pub(crate) const MOUNT_PROPAGATION: &[&str] = &[
    "unbindable",
    "make-unbindable",
    "runbindable",
    "make-runbindable",
    "private",
    "make-private",
    "rprivate",
    "make-rprivate",
    "slave",
    "make-slave",
    "rslave",
    "make-rslave",
    "shared",
    "make-shared",
    "rshared",
    "make-rshared",
];

/// True for a word of 6.0's `mnt_opts_table`: [`MOUNT_OPTIONS`] or [`MOUNT_PROPAGATION`].
pub(crate) fn is_mount_option(opt: &str) -> bool {
    MOUNT_OPTIONS.contains(&opt) || MOUNT_PROPAGATION.contains(&opt)
}

/// Canonical (flag, set) of a mount option for conflict detection: options
/// naming the same flag with opposite settings conflict.
pub(crate) fn mount_flag(opt: &str) -> Option<(&'static str, bool)> {
    Some(match opt {
        "ro" | "r" | "read-only" => ("ro", true),
        "rw" | "w" => ("ro", false),
        "suid" => ("suid", true),
        "nosuid" => ("suid", false),
        "dev" => ("dev", true),
        "nodev" => ("dev", false),
        "exec" => ("exec", true),
        "noexec" => ("exec", false),
        "sync" => ("sync", true),
        "async" => ("sync", false),
        "mand" => ("mand", true),
        "nomand" => ("mand", false),
        "symfollow" => ("symfollow", true),
        "nosymfollow" => ("symfollow", false),
        "atime" => ("atime", true),
        "noatime" => ("atime", false),
        "diratime" => ("diratime", true),
        "nodiratime" => ("diratime", false),
        "verbose" | "loud" => ("silent", false),
        "silent" => ("silent", true),
        "acl" => ("acl", true),
        "noacl" => ("acl", false),
        "relatime" => ("relatime", true),
        "norelatime" => ("relatime", false),
        "iversion" => ("iversion", true),
        "noiversion" => ("iversion", false),
        "strictatime" => ("strictatime", true),
        "nostrictatime" => ("strictatime", false),
        "lazytime" => ("lazytime", true),
        "nolazytime" => ("lazytime", false),
        "user" => ("user", true),
        "nouser" => ("user", false),
        _ => return None,
    })
}

/// rlimit names (`set rlimit NAME <= VALUE,`).
pub(crate) const RLIMITS: &[&str] = &[
    "cpu",
    "fsize",
    "data",
    "stack",
    "core",
    "rss",
    "nofile",
    "ofile",
    "as",
    "nproc",
    "memlock",
    "locks",
    "sigpending",
    "msgqueue",
    "nice",
    "rtprio",
    "rttime",
];

/// rlimit time units and their value in microseconds.
pub(crate) fn time_unit_us(u: &str) -> Option<u64> {
    Some(match u {
        "us" | "microsecond" | "microseconds" => 1,
        "ms" | "millisecond" | "milliseconds" => 1_000,
        "s" | "sec" | "second" | "seconds" => 1_000_000,
        "min" | "minute" | "minutes" => 60_000_000,
        "h" | "hour" | "hours" => 3_600_000_000,
        "d" | "day" | "days" => 86_400_000_000,
        "week" | "weeks" => 604_800_000_000,
        _ => return None,
    })
}

/// Profile flags without a value.
pub(crate) const FLAGS: &[&str] = &[
    "enforce",
    "complain",
    "kill",
    "unconfined",
    "prompt",
    "default_allow",
    "audit",
    "mediate_deleted",
    "delegate_deleted",
    "attach_disconnected",
    "no_attach_disconnected",
    "attach_disconnected.ipc",
    "chroot_relative",
    "namespace_relative",
    "chroot_attach",
    "chroot_no_attach",
    "debug",
    "interruptible",
];

/// Profile mode flags (mutually exclusive): the list the profile editor uses.
pub(crate) use crate::policy::edit::MODE_FLAGS;

/// Pairs of flags that exclude each other.
pub(crate) const FLAG_CONFLICTS: &[(&str, &str)] = &[
    ("chroot_relative", "namespace_relative"),
    ("mediate_deleted", "delegate_deleted"),
    ("attach_disconnected", "no_attach_disconnected"),
    ("attach_disconnected.ipc", "no_attach_disconnected"),
    ("chroot_attach", "chroot_no_attach"),
];

/// Linux errno names accepted by `error=` (case-insensitive).
pub(crate) const ERRNOS: &[&str] = &[
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
    "EWOULDBLOCK",
    "ENOMSG",
    "EIDRM",
    "ECHRNG",
    "EL2NSYNC",
    "EL3HLT",
    "EL3RST",
    "ELNRNG",
    "EUNATCH",
    "ENOCSI",
    "EL2HLT",
    "EBADE",
    "EBADR",
    "EXFULL",
    "ENOANO",
    "EBADRQC",
    "EBADSLT",
    "EDEADLOCK",
    "EBFONT",
    "ENOSTR",
    "ENODATA",
    "ETIME",
    "ENOSR",
    "ENONET",
    "ENOPKG",
    "EREMOTE",
    "ENOLINK",
    "EADV",
    "ESRMNT",
    "ECOMM",
    "EPROTO",
    "EMULTIHOP",
    "EDOTDOT",
    "EBADMSG",
    "EOVERFLOW",
    "ENOTUNIQ",
    "EBADFD",
    "EREMCHG",
    "ELIBACC",
    "ELIBBAD",
    "ELIBSCN",
    "ELIBMAX",
    "ELIBEXEC",
    "EILSEQ",
    "ERESTART",
    "ESTRPIPE",
    "EUSERS",
    "ENOTSOCK",
    "EDESTADDRREQ",
    "EMSGSIZE",
    "EPROTOTYPE",
    "ENOPROTOOPT",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "EOPNOTSUPP",
    "ENOTSUP",
    "EPFNOSUPPORT",
    "EAFNOSUPPORT",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ENETDOWN",
    "ENETUNREACH",
    "ENETRESET",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOBUFS",
    "EISCONN",
    "ENOTCONN",
    "ESHUTDOWN",
    "ETOOMANYREFS",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "EALREADY",
    "EINPROGRESS",
    "ESTALE",
    "EUCLEAN",
    "ENOTNAM",
    "ENAVAIL",
    "EISNAM",
    "EREMOTEIO",
    "EDQUOT",
    "ENOMEDIUM",
    "EMEDIUMTYPE",
    "ECANCELED",
    "ENOKEY",
    "EKEYEXPIRED",
    "EKEYREVOKED",
    "EKEYREJECTED",
    "EOWNERDEAD",
    "ENOTRECOVERABLE",
    "ERFKILL",
    "EHWPOISON",
];
