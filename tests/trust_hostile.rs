//! Hostile roots: every place that `aa-status` and `aactl` read or write under
//! `--root` (a snapshot or a fake tree) is replaced, one at a time, by
//!
//! - a symbolic link out of the root, absolute and relative (`../../..`), to a
//!   canary outside the root: a file (or a folder of files) laid out like valid
//!   content that holds a unique token (`CANARY-<random>`);
//! - a FIFO (the command must not hang);
//! - a link to /dev/zero (it must not flood or run out of memory);
//! - a 3 GiB sparse file (it must not allocate gigabytes);
//!
//! and every command that reads or writes that place runs on it. The token
//! must never reach standard output, standard error, or any file the command
//! writes; nothing outside the root may change (bytes, type and mtime of every
//! canary); edits through a link out of the root must be refused with a one-line
//! `aactl: ` error naming the path; no command may panic.
//!
//! Each (place × variant × command) is a data row. One test per group of places
//! runs its rows and reports every failing row at the end.
//!
//! Limits. Every command is a child process, `aactl` the binary cargo built;
//! aa-status, which has no `--root`, is this test binary run again on
//! [`aa_status_child`] with the root in its environment. Each child runs in a
//! process group of its own as `/usr/bin/time -f %M prlimit --as=4GiB --
//! COMMAND` (GNU time, util-linux), and the harness, polling every 10 ms,
//! kills the whole group (a stand-in apparmor_parser blocked on a FIFO with
//! it) when it
//!
//! - runs for 20 s (a hang),
//! - has a resident set (VmHWM of any process of the group) over 256 MiB,
//! - or writes over 64 MiB.
//!
//! GNU time gives the exact peak RSS (from wait4) of a child that ended by
//! itself; it too must stay under 256 MiB (normal runs need about 10 MiB).
//! The address-space limit only keeps a runaway child from taking the
//! machine's memory before it is stopped. It is 4 GiB, above the sparse
//! file's size, on purpose: under a lower limit, reading a 3 GiB file whole
//! fails at once (the buffer for the whole file cannot be reserved), and a
//! caller that ignores that error would look bounded when it is not.
//!
//! The trees (a copy of the debian12-vm snapshot per case) are built on
//! /dev/shm when it is writable: on a busy disk copying them is the slow part.
//! The sparse variants' trees go to the temporary directory instead: a read
//! from a tmpfs file copies up to 2 GiB in one system call that a kill does
//! not interrupt, a read from a disk file stops at the kill.
//!
//! `AA_HOSTILE_SHOW=1` prints every command with the head of its output.

use apparmor::cli::Io;
use apparmor::system::System;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Seconds a command may take before it counts as a hang.
const TIMEOUT_SECS: u64 = 20;
/// Address-space limit of every command, in bytes (see the module comment).
const MEMORY: u64 = 4 << 30;
/// Peak resident set allowed, in KiB (GNU time's unit).
const MAX_RSS_KB: u64 = 256 << 10;
/// More bytes than this on standard output or standard error is a flood.
const MAX_OUTPUT: u64 = 1 << 20;
/// Size of the sparse file.
const SPARSE: u64 = 3 << 30;
/// Cases run at once in one test (a hung command waits without using a CPU).
const WORKERS: usize = 4;

/// The securityfs directory of the snapshot.
const SFS: &str = "sys/kernel/security/apparmor";

// ------------------------------------------------------------------ commands

/// A command run on a hostile root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    AaStatus,
    AaStatusJson,
    AaStatusVerbose,
    Status,
    StatusJson,
    Ps,
    PsJson,
    Snapshot,
    Check,
    CheckFeatures,
    Log,
    LogSummary,
    LogSuggest,
    LogWrite,
    LogBoot,
    /// `--boot` with a triage view: the boot time is read from /proc/stat.
    LogBootSummary,
    /// `aactl metrics`: the state and the log found under the root.
    Metrics,
    Load,
    Replace,
    UnloadFile,
    UnloadName,
    RemoveUnknown,
    Enforce,
    Complain,
    Audit,
    Disable,
    Enable,
}

use Cmd::*;

/// Every command, for the sane tree.
const ALL: &[Cmd] = &[
    AaStatus,
    AaStatusJson,
    AaStatusVerbose,
    Status,
    StatusJson,
    Ps,
    PsJson,
    Snapshot,
    Check,
    CheckFeatures,
    Log,
    LogSummary,
    LogSuggest,
    LogWrite,
    LogBoot,
    LogBootSummary,
    Metrics,
    Load,
    Replace,
    UnloadFile,
    UnloadName,
    RemoveUnknown,
    Enforce,
    Complain,
    Audit,
    Disable,
    Enable,
];

/// The readers of the runtime state.
const STATE: &[Cmd] = &[
    AaStatus,
    AaStatusJson,
    AaStatusVerbose,
    Status,
    StatusJson,
    Ps,
    PsJson,
    Snapshot,
    Metrics,
];

const LOGS: &[Cmd] = &[Log, LogSummary, LogSuggest, LogWrite, LogBoot, Metrics];

const MODES: &[Cmd] = &[Enforce, Complain, Audit, Disable, Enable];

impl Cmd {
    /// True when the command changes the root (it then gets a tree of its own).
    fn writes(self) -> bool {
        matches!(
            self,
            LogWrite
                | Load
                | Replace
                | UnloadFile
                | UnloadName
                | RemoveUnknown
                | Enforce
                | Complain
                | Audit
                | Disable
                | Enable
        )
    }

    fn is_aa_status(self) -> bool {
        matches!(self, AaStatus | AaStatusJson | AaStatusVerbose)
    }

    /// The arguments: of aa-status (without a root), or of aactl.
    fn args(self, root: &Path, parser: &Path, snapshot: &Path) -> Vec<OsString> {
        let r = root.as_os_str();
        let pd = root.join("etc/apparmor.d");
        let os = |s: &str| OsString::from(s);
        let mut v: Vec<OsString> = match self {
            AaStatus => return Vec::new(),
            AaStatusJson => return vec![os("--json")],
            AaStatusVerbose => return vec![os("--verbose")],
            Status => vec![os("status")],
            StatusJson => vec![os("status"), os("--json")],
            Ps => vec![os("ps")],
            PsJson => vec![os("ps"), os("--json")],
            Snapshot => vec![os("snapshot"), snapshot.into()],
            Check => vec![os("check"), pd.into()],
            CheckFeatures => vec![
                os("check"),
                os("--features"),
                root.join("features-file").into(),
                pd.join("vmtest-complain").into(),
            ],
            Log => vec![os("log")],
            LogSummary => vec![os("log"), os("--summary")],
            LogSuggest => vec![os("log"), os("--suggest")],
            LogWrite => vec![os("log"), os("--suggest"), os("--write")],
            LogBoot => vec![os("log"), os("--boot")],
            Metrics => vec![os("metrics")],
            LogBootSummary => vec![os("log"), os("--boot"), os("--summary")],
            Load => vec![os("load"), pd.into()],
            Replace => vec![os("replace"), pd.into()],
            UnloadFile => vec![os("unload"), pd.join("vmtest-complain").into()],
            UnloadName => vec![os("unload"), os("--name"), os("vmtest-kill")],
            RemoveUnknown => vec![os("remove-unknown")],
            Enforce => vec![os("enforce"), os("vmtest-enforce")],
            Complain => vec![os("complain"), os("vmtest-enforce")],
            Audit => vec![os("audit"), os("vmtest-enforce")],
            Disable => vec![os("disable"), os("vmtest-enforce")],
            Enable => vec![os("enable"), os("vmtest-enforce")],
        };
        if matches!(
            self,
            Load | Replace | UnloadFile | UnloadName | RemoveUnknown
        ) || MODES.contains(&self)
        {
            v.insert(1, os("--parser"));
            v.insert(2, parser.into());
        }
        v.insert(1, os("--root"));
        v.insert(2, r.into());
        v
    }
}

// ------------------------------------------------------------------- variants

/// What a place is replaced by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// A symlink with the canary's absolute path.
    AbsLink,
    /// A symlink `../../…/outside/canary` that climbs out of the root.
    RelLink,
    Fifo,
    /// A symlink to /dev/zero.
    DevZero,
    /// A 3 GiB sparse file.
    Sparse,
    /// (includes only) `include "/ABSOLUTE/PATH/outside/canary"` in a profile.
    IncludeAbs,
    /// (includes only) `include "/etc/<canary>"`, a canary in the host's /etc.
    IncludeEtc,
}

use Variant::*;

const FIVE: &[Variant] = &[AbsLink, RelLink, Fifo, DevZero, Sparse];
/// Without the sparse file: for a second log of a kind, read by the same
/// streaming reader as the first (streaming 3 GiB takes seconds).
const FOUR: &[Variant] = &[AbsLink, RelLink, Fifo, DevZero];
const LINKS: &[Variant] = &[AbsLink, RelLink];
/// A control file must be a regular file in the root: links and FIFOs are refused.
const NOT_REGULAR: &[Variant] = &[AbsLink, RelLink, Fifo, DevZero];

// --------------------------------------------------------------------- places

/// One entry of a canary: a file's text or a symlink's target.
enum Entry {
    File(String),
    Link(String),
}

/// A canary: entries by path relative to the canary ("" for a file canary).
type Canary = Vec<(String, Entry)>;

fn file(text: String) -> Canary {
    vec![(String::new(), Entry::File(text))]
}

/// A place a command reads or writes.
struct Place {
    /// The path under the root.
    rel: &'static str,
    /// The canary (built from the token) the links point to.
    canary: fn(&str) -> Canary,
    /// Changes to the sane tree (given the token) before the place is made hostile.
    prep: fn(&Path, &str),
    variants: &'static [Variant],
    cmds: &'static [Cmd],
    /// Commands that must refuse (exit non-zero, `aactl: ` line naming the
    /// place) when the place is one of `refuse_on`.
    refuse: &'static [Cmd],
    refuse_on: &'static [Variant],
}

fn no_prep(_: &Path, _: &str) {}

fn word(t: &str) -> Canary {
    file(format!("{t}\n"))
}

fn label(t: &str) -> Canary {
    file(format!("{t} (enforce)\n"))
}

/// A denial for a profile of the tree naming the token, in auditd's and in
/// syslog's format, and one whose profile is the token.
fn log_canary(t: &str) -> Canary {
    file(format!(
        "type=AVC msg=audit(1701961990.100:901): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-enforce\" name=\"/srv/{t}/secret\" pid=170 comm=\"{t}\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n\
         type=AVC msg=audit(1701961990.200:902): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"{t}\" name=\"/etc/{t}\" pid=170 comm=\"{t}\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n\
         Dec  7 15:13:10 vm kernel: [   70.000000] audit: type=1400 audit(1701961990.300:903): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-enforce\" name=\"/srv/{t}/other\" pid=170 comm=\"{t}\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
    ))
}

const STATE_PLACES: &[Place] = &[
    Place {
        rel: "proc/mounts",
        // names a securityfs that exists in the root only as a decoy
        canary: |t| file(format!("securityfs /decoy-sfs securityfs rw 0 0\n# {t}\n")),
        prep: |r, t| {
            let d = r.join("decoy-sfs/apparmor");
            put(&d.join("profiles"), &format!("{t} (enforce)\n"));
            put(&d.join("revision"), "1\n");
            // older than any run: files holding the token that a command
            // writes are found by their mtime
            let old = SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800);
            std::fs::File::options()
                .write(true)
                .open(d.join("profiles"))
                .and_then(|f| f.set_modified(old))
                .unwrap();
        },
        variants: FIVE,
        cmds: &[
            AaStatus,
            AaStatusJson,
            AaStatusVerbose,
            Status,
            StatusJson,
            Ps,
            PsJson,
            Snapshot,
            UnloadName,
            RemoveUnknown,
        ],
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/module/apparmor/parameters/enabled",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/module/apparmor/parameters/mode",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/module/apparmor/parameters/audit",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: SFS,
        canary: |t| {
            vec![
                ("profiles".into(), Entry::File(format!("{t} (enforce)\n"))),
                ("revision".into(), Entry::File("7\n".into())),
                (
                    format!("policy/profiles/{t}.1/name"),
                    Entry::File(format!("{t}\n")),
                ),
                (
                    format!("policy/profiles/{t}.1/mode"),
                    Entry::File("enforce\n".into()),
                ),
                (format!("features/{t}/yes"), Entry::File("yes\n".into())),
            ]
        },
        prep: no_prep,
        variants: FIVE,
        cmds: &[
            AaStatus,
            AaStatusJson,
            AaStatusVerbose,
            Status,
            StatusJson,
            Ps,
            PsJson,
            Snapshot,
            UnloadName,
            RemoveUnknown,
        ],
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/kernel/security/apparmor/profiles",
        canary: |t| file(format!("{t} (enforce)\n/usr/bin/{t} (complain)\n")),
        prep: no_prep,
        variants: FIVE,
        cmds: &[
            AaStatus,
            AaStatusJson,
            AaStatusVerbose,
            Status,
            StatusJson,
            Ps,
            PsJson,
            Snapshot,
            UnloadName,
            RemoveUnknown,
        ],
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/kernel/security/apparmor/policy",
        canary: |t| {
            vec![
                (
                    format!("profiles/{t}.1/name"),
                    Entry::File(format!("{t}\n")),
                ),
                (
                    format!("profiles/{t}.1/mode"),
                    Entry::File("enforce\n".into()),
                ),
                (
                    format!("profiles/{t}.1/attach"),
                    Entry::File(format!("/usr/bin/{t}\n")),
                ),
            ]
        },
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/kernel/security/apparmor/policy/profiles/vmtest-enforce.37/name",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/kernel/security/apparmor/policy/profiles/vmtest-enforce.37/mode",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/kernel/security/apparmor/policy/profiles/vmtest-enforce.37/attach",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/kernel/security/apparmor/features",
        canary: |t| {
            vec![
                ("domain/version".into(), Entry::File(format!("{t}\n"))),
                (format!("{t}/yes"), Entry::File("yes\n".into())),
            ]
        },
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/kernel/security/apparmor/features/domain/version",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    // Linux 6.12 and later announce userns mediation as a word of this file
    // (status reads it for the rule classes).
    Place {
        rel: "sys/kernel/security/apparmor/features/namespaces/mask",
        canary: |t| file(format!("userns_create {t}\n")),
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/kernel/security/apparmor/revision",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "sys/kernel/security/apparmor/.ns_name",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: &[AaStatusJson, Status, StatusJson, Snapshot],
        refuse: &[],
        refuse_on: &[],
    },
];

const PROC_PLACES: &[Place] = &[
    Place {
        rel: "proc/170/attr/current",
        canary: label,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "proc/170/attr/apparmor/current",
        canary: label,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "proc/170/exe",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "proc/170/comm",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
    // the whole process directory
    Place {
        rel: "proc/170",
        canary: |t| {
            vec![
                (
                    "attr/current".into(),
                    Entry::File(format!("{t} (enforce)\n")),
                ),
                (
                    "attr/apparmor/current".into(),
                    Entry::File(format!("{t} (enforce)\n")),
                ),
                ("comm".into(), Entry::File(format!("{t}\n"))),
                ("exe".into(), Entry::Link(format!("/usr/bin/{t}"))),
            ]
        },
        prep: no_prep,
        variants: FIVE,
        cmds: STATE,
        refuse: &[],
        refuse_on: &[],
    },
];

/// The interface files a load, replace or removal writes. A real
/// apparmor_parser given `--subdomainfs DIR` opens `DIR/.replace` (and so on)
/// and follows a link there; so does the stand-in, which makes a control file
/// linked out of the root an effect aactl must prevent before it runs the parser.
const CONTROL_PLACES: &[Place] = &[
    Place {
        rel: "sys/kernel/security/apparmor/.load",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: &[Load],
        refuse: &[Load],
        refuse_on: NOT_REGULAR,
    },
    Place {
        rel: "sys/kernel/security/apparmor/.replace",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: &[Replace, Complain, Enable],
        refuse: &[Replace, Complain, Enable],
        refuse_on: NOT_REGULAR,
    },
    Place {
        rel: "sys/kernel/security/apparmor/.remove",
        // crontab-like text
        canary: |t| {
            file(format!(
                "# m h dom mon dow user command\n*/5 * * * * root /usr/local/sbin/{t}\n"
            ))
        },
        prep: no_prep,
        variants: FIVE,
        cmds: &[UnloadFile, UnloadName, RemoveUnknown, Disable],
        refuse: &[UnloadFile, UnloadName, RemoveUnknown, Disable],
        refuse_on: NOT_REGULAR,
    },
];

fn without_audit_log(r: &Path, _: &str) {
    std::fs::remove_file(r.join("var/log/audit/audit.log")).unwrap();
}

const LOG_PLACES: &[Place] = &[
    Place {
        rel: "var/log/audit/audit.log",
        canary: log_canary,
        prep: no_prep,
        variants: FIVE,
        cmds: LOGS,
        refuse: &[],
        refuse_on: &[],
    },
    // a rotated sibling, read with auditd's log
    Place {
        rel: "var/log/audit/audit.log.1",
        canary: log_canary,
        prep: no_prep,
        variants: FOUR,
        cmds: LOGS,
        refuse: &[],
        refuse_on: &[],
    },
    // without audit.log, syslog and kern.log are read
    Place {
        rel: "var/log/syslog",
        canary: log_canary,
        prep: without_audit_log,
        variants: FIVE,
        cmds: LOGS,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "var/log/kern.log",
        canary: log_canary,
        prep: without_audit_log,
        variants: FOUR,
        cmds: LOGS,
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "run/auditd.pid",
        canary: word,
        prep: no_prep,
        variants: FIVE,
        cmds: &[Log, LogSummary, LogSuggest],
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "proc/stat",
        canary: |t| file(format!("cpu  1 2 3 4\nbtime 1701961000\n{t}\n")),
        prep: no_prep,
        variants: FIVE,
        cmds: &[LogBoot, LogBootSummary],
        refuse: &[],
        refuse_on: &[],
    },
];

const PROFILE_PLACES: &[Place] = &[
    // a valid profile (no local include: --write would add one) holding the token
    Place {
        rel: "etc/apparmor.d/vmtest-enforce",
        canary: |t| {
            file(format!(
                "# {t}\nprofile vmtest-enforce /usr/bin/vmtest-enforce {{\n  /srv/{t}/** r,\n}}\n"
            ))
        },
        prep: no_prep,
        variants: FIVE,
        cmds: &[
            Check,
            LogSuggest,
            LogWrite,
            Replace,
            RemoveUnknown,
            Enforce,
            Complain,
            Audit,
            Disable,
            Enable,
        ],
        refuse: &[LogWrite, Enforce, Complain, Audit, Disable, Enable],
        refuse_on: LINKS,
    },
    Place {
        rel: "etc/apparmor.d/local",
        canary: |t| {
            vec![
                (
                    "vmtest-enforce".into(),
                    Entry::File(format!("  /srv/{t}/** r,\n")),
                ),
                (
                    "vmtest-complain".into(),
                    Entry::File(format!("  /srv/{t}/c r,\n")),
                ),
            ]
        },
        prep: no_prep,
        variants: FIVE,
        cmds: &[Check, LogSuggest, LogWrite],
        refuse: &[LogWrite],
        refuse_on: LINKS,
    },
    Place {
        rel: "etc/apparmor.d/local/vmtest-enforce",
        canary: |t| file(format!("  /srv/{t}/** r,\n")),
        prep: no_prep,
        variants: FIVE,
        cmds: &[Check, LogSuggest, LogWrite],
        refuse: &[LogWrite],
        refuse_on: LINKS,
    },
    // not in the sane tree: --write creates it
    Place {
        rel: "etc/apparmor.d/local/vmtest-complain",
        canary: |t| file(format!("  /srv/{t}/c r,\n")),
        prep: no_prep,
        variants: FIVE,
        cmds: &[LogWrite],
        refuse: &[LogWrite],
        refuse_on: LINKS,
    },
    Place {
        rel: "etc/apparmor.d/disable",
        canary: |t| {
            vec![
                (
                    "vmtest-enforce".into(),
                    Entry::Link(format!("/nonexistent/{t}")),
                ),
                ("README".into(), Entry::File(format!("{t}\n"))),
            ]
        },
        prep: no_prep,
        variants: FIVE,
        cmds: &[Enforce, Complain, Audit, Disable, Enable],
        refuse: &[Enforce, Complain, Disable, Enable],
        refuse_on: LINKS,
    },
    Place {
        rel: "etc/apparmor.d/force-complain",
        canary: |t| {
            vec![(
                "vmtest-enforce".into(),
                Entry::Link(format!("/nonexistent/{t}")),
            )]
        },
        prep: no_prep,
        variants: FIVE,
        cmds: &[Enforce, Complain],
        refuse: &[Enforce],
        refuse_on: LINKS,
    },
    // included by vmtest-enforce; the first line does not parse, so a reader
    // that reaches it quotes the token in a diagnostic
    Place {
        rel: "etc/apparmor.d/abstractions/vmtest-base",
        canary: |t| file(format!("{t} is not a rule\n  /srv/{t}/** r,\n")),
        prep: no_prep,
        variants: FIVE,
        cmds: &[Check, LogSuggest, Enforce],
        refuse: &[],
        refuse_on: &[],
    },
    // an absolute include naming a file outside the root
    Place {
        rel: "etc/apparmor.d/vmtest-complain",
        canary: |t| file(format!("{t} is not a rule\n")),
        prep: no_prep,
        variants: &[IncludeAbs, IncludeEtc],
        cmds: &[Check, LogSuggest],
        refuse: &[],
        refuse_on: &[],
    },
    Place {
        rel: "features-file",
        canary: |t| file(format!("{t} {{yes\n}}\n")),
        prep: no_prep,
        variants: FIVE,
        cmds: &[CheckFeatures],
        refuse: &[],
        refuse_on: &[],
    },
];

// ------------------------------------------------------------------ the trees

/// Writes `text` to `p`, creating its folder.
fn put(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Copies a tree: folders, files, and symlinks as symlinks.
use crate::common::copy_tree;

const PROFILE_ENFORCE: &str = "# vmtest-enforce: enforce mode, with a local override
profile vmtest-enforce /usr/bin/vmtest-enforce {
  include <abstractions/vmtest-base>
  /srv/data/ r,
  include if exists <local/vmtest-enforce>
}
";

const PROFILE_COMPLAIN: &str = "profile vmtest-complain /usr/bin/vmtest-complain flags=(complain) {
  /var/tmp/ r,
}
";

const AUDIT_LOG: &str = "type=AVC msg=audit(1701961981.123:101): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-enforce\" name=\"/srv/data/report.txt\" pid=170 comm=\"vmtest-enforce\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0
type=AVC msg=audit(1701961982.456:102): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-complain\" name=\"/var/tmp/vmtest.lock\" pid=171 comm=\"vmtest-complain\" requested_mask=\"wc\" denied_mask=\"wc\" fsuid=0 ouid=0
type=AVC msg=audit(1701961983.789:103): apparmor=\"DENIED\" operation=\"capable\" class=\"cap\" profile=\"vmtest-enforce\" pid=170 comm=\"vmtest-enforce\" capability=12 capname=\"net_admin\"
";

const SYSLOG: &str = "Dec  7 15:13:01 vm kernel: [   61.123456] audit: type=1400 audit(1701961981.123:101): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-enforce\" name=\"/srv/data/report.txt\" pid=170 comm=\"vmtest-enforce\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0
Dec  7 15:13:02 vm kernel: [   62.456789] audit: type=1400 audit(1701961982.456:102): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-complain\" name=\"/var/tmp/vmtest.lock\" pid=171 comm=\"vmtest-complain\" requested_mask=\"wc\" denied_mask=\"wc\" fsuid=0 ouid=0
";

/// The sane tree: the debian12-vm snapshot, the kernel's control files, a
/// profile folder, logs with denials of its profiles, a features file.
fn build_template(t: &Path) {
    copy_tree(
        &crate::common::repo().join("testdata/systems/debian12-vm"),
        t,
    );
    for f in [".load", ".replace", ".remove"] {
        put(&t.join(SFS).join(f), "");
    }
    let pd = t.join("etc/apparmor.d");
    put(&pd.join("vmtest-enforce"), PROFILE_ENFORCE);
    put(&pd.join("vmtest-complain"), PROFILE_COMPLAIN);
    put(&pd.join("abstractions/vmtest-base"), "  /etc/hostname r,\n");
    put(
        &pd.join("local/vmtest-enforce"),
        "# Site-specific additions and overrides for vmtest-enforce.\n  /srv/extra/** r,\n",
    );
    std::fs::create_dir_all(pd.join("disable")).unwrap();
    std::fs::create_dir_all(pd.join("force-complain")).unwrap();
    put(&t.join("var/log/audit/audit.log"), AUDIT_LOG);
    put(&t.join("var/log/syslog"), SYSLOG);
    put(&t.join("var/log/kern.log"), SYSLOG);
    put(&t.join("run/auditd.pid"), "1\n");
    put(&t.join("proc/stat"), "cpu  1 2 3 4\nbtime 1701961000\n");
    put(
        &t.join("features-file"),
        "file {mask {create read write exec append mmap_exec link lock\n}\n}\ncaps {mask {chown dac_override net_admin\n}\n}\n",
    );
}

/// The stand-in apparmor_parser: `--names` lists the profiles of the tree;
/// a load, replace or removal writes the interface file a real parser writes
/// under `--subdomainfs` (through links, as the real one does).
const FAKE_PARSER: &str = r#"#!/bin/sh
fs=; file=; names=
for a in "$@"; do
  case "$a" in
    --names) names=1 ;;
    --add) file=.load ;;
    --replace) file=.replace ;;
    --remove) file=.remove ;;
    --subdomainfs=*) fs="${a#--subdomainfs=}" ;;
  esac
done
if [ -n "$names" ]; then
  echo vmtest-enforce
  echo vmtest-complain
  exit 0
fi
if [ -n "$fs" ] && [ -n "$file" ]; then
  printf 'stand-in policy\n' > "$fs/$file" || exit 1
fi
exit 0
"#;

/// A per-test workshop: the sane template, the stand-in parser, the token.
struct Lab {
    dir: tempfile::TempDir,
    /// Where the sparse variants' trees go.
    disk: tempfile::TempDir,
    template: PathBuf,
    parser: PathBuf,
    token: String,
    next: AtomicUsize,
}

/// A scratch folder on /dev/shm when possible (see the module comment).
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::Builder::new()
            .prefix("aa-hostile-")
            .tempdir_in(shm)
    {
        return d;
    }
    disk_scratch()
}

/// A scratch folder in the temporary directory, for the sparse variants (see
/// the module comment).
fn disk_scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("aa-hostile-")
        .tempdir()
        .unwrap()
}

/// `CANARY-` and 16 hex digits that differ between runs.
fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    format!("CANARY-{:016x}", h.finish())
}

impl Lab {
    fn new() -> Lab {
        let dir = scratch();
        let template = dir.path().join("template");
        build_template(&template);
        let parser = dir.path().join("bin/apparmor_parser");
        std::fs::create_dir_all(parser.parent().unwrap()).unwrap();
        crate::common::install_script(&parser, FAKE_PARSER);
        Lab {
            dir,
            disk: disk_scratch(),
            template,
            parser,
            token: new_token(),
            next: AtomicUsize::new(0),
        }
    }

    /// A fresh case: a copy of the template at `root`, beside an `outside/`
    /// folder for canaries; on disk when `disk`.
    fn case(&self, disk: bool) -> Case {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let base = if disk { &self.disk } else { &self.dir };
        let dir = base.path().join(format!("case-{n}"));
        let root = dir.join("root");
        copy_tree(&self.template, &root);
        let outside = dir.join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        let runs_dir = self.dir.path().join(format!("runs-{n}"));
        std::fs::create_dir_all(&runs_dir).unwrap();
        Case {
            dir,
            root,
            outside,
            runs_dir,
            host_files: Vec::new(),
            runs: 0,
        }
    }

    /// A case with `place` made hostile as `variant`; `None` when the variant
    /// cannot be made here (a canary in /etc needs a writable /etc).
    fn hostile_case(&self, place: &Place, variant: Variant) -> Option<Case> {
        // log files are read in small pieces, which a kill interrupts; a tmpfs
        // keeps streaming a 3 GiB log fast
        let mut c = self.case(variant == Sparse && !place.rel.starts_with("var/log/"));
        (place.prep)(&c.root, &self.token);
        let at = c.root.join(place.rel);
        let slug = format!("canary-{}", place.rel.replace('/', "_"));
        let canary_path = c.outside.join(&slug);
        let make_canary = |path: &Path| {
            for (rel, entry) in (place.canary)(&self.token) {
                let p = if rel.is_empty() {
                    path.to_path_buf()
                } else {
                    path.join(rel)
                };
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                match entry {
                    Entry::File(text) => std::fs::write(&p, text).unwrap(),
                    Entry::Link(target) => std::os::unix::fs::symlink(target, &p).unwrap(),
                }
            }
        };
        match variant {
            IncludeAbs | IncludeEtc => {
                let target = if variant == IncludeAbs {
                    canary_path
                } else {
                    let p = PathBuf::from(format!(
                        "/etc/aactl-hostile-{}",
                        &new_token()["CANARY-".len()..]
                    ));
                    if std::fs::write(&p, "").is_err() {
                        return None;
                    }
                    c.host_files.push(p.clone());
                    p
                };
                make_canary(&target);
                let mut text = std::fs::read_to_string(&at).unwrap();
                text.insert_str(0, &format!("include \"{}\"\n", target.display()));
                std::fs::write(&at, text).unwrap();
                return Some(c);
            }
            _ => {}
        }
        remove_any(&at);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        match variant {
            AbsLink => {
                make_canary(&canary_path);
                std::os::unix::fs::symlink(&canary_path, &at).unwrap();
            }
            RelLink => {
                make_canary(&canary_path);
                let up = "../".repeat(Path::new(place.rel).components().count());
                std::os::unix::fs::symlink(format!("{up}outside/{slug}"), &at).unwrap();
            }
            Fifo => rustix::fs::mknodat(
                rustix::fs::CWD,
                &at,
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_raw_mode(0o644),
                0,
            )
            .unwrap(),
            DevZero => std::os::unix::fs::symlink("/dev/zero", &at).unwrap(),
            Sparse => std::fs::File::create(&at).unwrap().set_len(SPARSE).unwrap(),
            IncludeAbs | IncludeEtc => unreachable!(),
        }
        Some(c)
    }
}

/// Removes a file, link or folder if present.
fn remove_any(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p).unwrap(),
        Ok(_) => std::fs::remove_file(p).unwrap(),
        Err(_) => {}
    }
}

/// One tree and its surroundings.
struct Case {
    dir: PathBuf,
    root: PathBuf,
    outside: PathBuf,
    /// Working folders and snapshots of the commands (on the fast scratch).
    runs_dir: PathBuf,
    /// Canaries outside the scratch folder (in /etc), removed with the case.
    host_files: Vec<PathBuf>,
    runs: usize,
}

impl Drop for Case {
    fn drop(&mut self) {
        for f in &self.host_files {
            let _ = std::fs::remove_file(f);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(&self.runs_dir);
    }
}

// ------------------------------------------------------------------- running

/// Why the harness stopped a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// It ran for [`TIMEOUT_SECS`].
    Hang,
    /// Its resident set passed [`MAX_RSS_KB`].
    Memory,
    /// It wrote more than [`FLOOD_STOP`] bytes.
    Flood,
}

/// What a child did.
struct Outcome {
    /// Exit code; `None` when a signal ended it.
    code: Option<i32>,
    signal: Option<i32>,
    stopped: Option<Stop>,
    /// Peak resident set in KiB: GNU time's figure, or the highest the
    /// harness saw.
    max_rss_kb: u64,
    out: Vec<u8>,
    err: Vec<u8>,
    out_len: u64,
    err_len: u64,
}

/// Output after which a child is stopped (the flood is reported either way).
const FLOOD_STOP: u64 = 64 << 20;

/// Reads a stream to its end, keeping the first `MAX_OUTPUT + 1` bytes and
/// counting all of them in `total`.
fn drain(
    mut r: impl Read + Send + 'static,
    total: std::sync::Arc<AtomicU64>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    total.fetch_add(n as u64, Ordering::Relaxed);
                    let room = (MAX_OUTPUT as usize + 1).saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        kept
    })
}

/// GNU time, or `None` (with a notice, or a failure under
/// `AA_REQUIRE_ORACLES=1`) when it is not installed: the peak RSS is then the
/// highest the harness saw while polling.
fn gnu_time() -> Option<&'static Path> {
    static FOUND: std::sync::OnceLock<Option<&'static Path>> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        let p = Path::new("/usr/bin/time");
        crate::common::require(p.is_file().then_some(p), "GNU time (/usr/bin/time)")
    })
}

/// The peak resident set (VmHWM, KiB) of `pid` and its descendants, the
/// largest of them.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let own = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    children
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .map(peak_rss_kb)
        .fold(own, u64::max)
}

/// A command for [`run_limited`].
struct Child<'a> {
    program: &'a Path,
    args: &'a [OsString],
    env: &'a [(&'a str, &'a OsStr)],
    /// Its working folder, which also receives GNU time's report.
    dir: &'a Path,
}

/// Runs a command in a process group of its own under GNU time and `prlimit`,
/// and stops the group when it hangs, floods or grows (see the module comment).
fn run_limited(ch: &Child<'_>) -> Outcome {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::sync::Arc;
    std::fs::create_dir_all(ch.dir).unwrap();
    let report = ch.dir.join("time-report");
    let mut c = match gnu_time() {
        Some(time) => {
            let mut c = Command::new(time);
            c.arg("-f").arg("%M").arg("-o").arg(&report).arg("prlimit");
            c
        }
        None => Command::new("prlimit"),
    };
    c.arg(format!("--as={MEMORY}"))
        .arg("--")
        .arg(ch.program)
        .args(ch.args)
        .current_dir(ch.dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in ch.env {
        c.env(k, v);
    }
    let start = Instant::now();
    let mut child = c.spawn().expect("prlimit (util-linux)");
    let group = rustix::process::Pid::from_child(&child);
    let (out_total, err_total) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let out = drain(child.stdout.take().unwrap(), out_total.clone());
    let err = drain(child.stderr.take().unwrap(), err_total.clone());
    let mut seen_rss = 0;
    let mut stopped = None;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        seen_rss = seen_rss.max(peak_rss_kb(child.id()));
        let output = out_total.load(Ordering::Relaxed) + err_total.load(Ordering::Relaxed);
        stopped = if start.elapsed() > Duration::from_secs(TIMEOUT_SECS) {
            Some(Stop::Hang)
        } else if seen_rss > MAX_RSS_KB {
            Some(Stop::Memory)
        } else if output > FLOOD_STOP {
            Some(Stop::Flood)
        } else {
            None
        };
        if stopped.is_some() {
            // the whole group: a stand-in parser blocked on a FIFO too
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // a member of the group left behind (a stand-in parser) keeps the pipes
    // open; while it lives the group exists, so stopping it is safe
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(out.is_finished() && err.is_finished()) {
        if Instant::now() > deadline {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    // GNU time: "Command terminated by signal N" (and exit 128 + N), then %M
    let report = std::fs::read_to_string(&report).unwrap_or_default();
    let time_rss: u64 = report
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let time_signal = report
        .lines()
        .find_map(|l| l.strip_prefix("Command terminated by signal "))
        .and_then(|n| n.trim().parse().ok());
    Outcome {
        code: if time_signal.is_some() {
            None
        } else {
            status.code()
        },
        signal: time_signal.or(status.signal()),
        stopped,
        max_rss_kb: time_rss.max(seen_rss),
        out,
        err,
        out_len: out_total.load(Ordering::Relaxed),
        err_len: err_total.load(Ordering::Relaxed),
    }
}

/// Environment variables of the aa-status child.
const CHILD_ROOT: &str = "AA_HOSTILE_STATUS_ROOT";
const CHILD_ARGS: &str = "AA_HOSTILE_STATUS_ARGS";
const CHILD_OUT: &str = "AA_HOSTILE_STATUS_OUT";

/// Not a test of its own: the entry point of the aa-status child. Run by
/// [`run_aa_status`] with a root in its environment, it runs aa-status on
/// that root, writes standard output and error to files (at most
/// `MAX_OUTPUT + 1` bytes each) and exits with aa-status's code. Without that
/// environment it fails: it is not a test of its own, so it is ignored in a normal run
/// (where it would otherwise pass having checked nothing) and the parent runs it with
/// `--ignored`.
#[test]
#[ignore = "run by run_aa_status in a child process"]
fn aa_status_child() {
    let root = std::env::var_os(CHILD_ROOT)
        .expect("aa_status_child runs as a child of run_aa_status, which sets its root");
    let args = std::env::var(CHILD_ARGS).unwrap_or_default();
    let dir = PathBuf::from(std::env::var_os(CHILD_OUT).unwrap());
    let mut out = Capped(std::fs::File::create(dir.join("stdout")).unwrap(), 0);
    let mut err = Capped(std::fs::File::create(dir.join("stderr")).unwrap(), 0);
    let argv: Vec<OsString> = std::iter::once("aa-status")
        .chain(args.split('\n').filter(|a| !a.is_empty()))
        .map(OsString::from)
        .collect();
    let sys = System::with_root(PathBuf::from(root));
    let code =
        apparmor::cli::aa_status::run_with(argv, &sys, &mut Io::new(&mut out, &mut err)).code();
    let _ = out.flush();
    let _ = err.flush();
    std::process::exit(i32::from(code));
}

/// A file that keeps the first `MAX_OUTPUT + 1` bytes written to it.
struct Capped(std::fs::File, u64);

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = (MAX_OUTPUT + 1).saturating_sub(self.1) as usize;
        if room > 0 {
            self.0.write_all(&buf[..buf.len().min(room)])?;
        }
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// aa-status `args` on `root` in a child (see [`aa_status_child`]), in the
/// working folder `dir`.
fn run_aa_status(root: &Path, args: &[OsString], dir: &Path) -> Outcome {
    std::fs::create_dir_all(dir).unwrap();
    let joined = args
        .iter()
        .map(|a| a.to_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let me = std::env::current_exe().unwrap();
    let mut o = run_limited(&Child {
        program: &me,
        args: &[
            "--exact",
            "--ignored",
            "trust_hostile::aa_status_child",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ]
        .map(OsString::from),
        env: &[
            (CHILD_ROOT, root.as_os_str()),
            (CHILD_ARGS, OsStr::new(&joined)),
            (CHILD_OUT, dir.as_os_str()),
        ],
        dir,
    });
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_default();
    // the test harness's own lines on the child's stdout are not aa-status's
    o.out = read("stdout");
    o.err = [read("stderr"), std::mem::take(&mut o.err)].concat();
    o.out_len = o.out.len() as u64;
    o.err_len = o.err.len() as u64;
    o
}

// ------------------------------------------------------------------- checking

/// A snapshot of a folder (links not followed): per path its type and bytes
/// (or link target) and mtime.
type Manifest = BTreeMap<PathBuf, (String, Vec<u8>, Option<SystemTime>)>;

fn manifest(dirs: &[PathBuf]) -> Manifest {
    let mut m = Manifest::new();
    for d in dirs {
        for e in walkdir::WalkDir::new(d).into_iter().flatten() {
            let p = e.path().to_path_buf();
            let Ok(md) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let ft = md.file_type();
            let (kind, bytes) = if ft.is_symlink() {
                (
                    "link",
                    std::fs::read_link(&p)
                        .map(|t| t.into_os_string().into_encoded_bytes())
                        .unwrap_or_default(),
                )
            } else if ft.is_file() {
                ("file", std::fs::read(&p).unwrap_or_default())
            } else if ft.is_dir() {
                ("dir", Vec::new())
            } else {
                ("special", Vec::new())
            };
            m.insert(p, (kind.into(), bytes, md.modified().ok()));
        }
    }
    m
}

fn changes(before: &Manifest, after: &Manifest) -> Vec<String> {
    let mut v = Vec::new();
    for (p, b) in before {
        match after.get(p) {
            None => v.push(format!("{} removed", p.display())),
            Some(a) if a != b => v.push(format!("{} changed", p.display())),
            _ => {}
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        v.push(format!("{} created", p.display()));
    }
    v
}

/// The line of `text` holding `token`, shortened.
fn line_with(text: &[u8], token: &str) -> Option<String> {
    let s = String::from_utf8_lossy(text);
    s.lines()
        .find(|l| l.contains(token))
        .map(|l| l.chars().take(160).collect())
}

/// Regular files under `dir` (links not followed) modified since `since`
/// that hold `token`, and links whose target holds it.
fn token_in_files(dir: &Path, since: SystemTime, token: &str) -> Vec<String> {
    let mut v = Vec::new();
    for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
        let Ok(md) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if md.file_type().is_symlink() {
            let t = std::fs::read_link(e.path()).unwrap_or_default();
            if md.modified().is_ok_and(|m| m >= since) && t.to_string_lossy().contains(token) {
                v.push(format!("{} (link target)", e.path().display()));
            }
            continue;
        }
        if !md.is_file() || md.len() > 64 << 20 || md.modified().is_ok_and(|m| m < since) {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap_or_default();
        if memchr::memmem::find(&bytes, token.as_bytes()).is_some() {
            v.push(e.path().display().to_string());
        }
    }
    v
}

/// Why aactl's standard error is not made of `aactl: ` messages: a message
/// is one line starting `aactl: ` (`aactl check: ` for a file of a folder that
/// could not be read); indented lines, and any lines after a message ending
/// in `:`, continue it.
fn stderr_problem(err: &str) -> Option<String> {
    let mut listing = false;
    for l in err.lines() {
        if l.starts_with("aactl: ") || l.starts_with("aactl check: ") {
            listing = l.ends_with(':');
        } else if !(listing || l.starts_with(' ') || l.starts_with("Ignoring: ")) {
            return Some(format!("stray line on stderr: {}", short(l)));
        }
    }
    None
}

fn short(s: &str) -> String {
    let s: String = s.chars().take(200).collect();
    s.replace('\n', "⏎")
}

/// What is expected of a row besides the checks made on every row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Only the checks of every row.
    Survive,
    /// Exit non-zero with an `aactl: ` line naming the place.
    Refuse(&'static str),
    /// The sane tree: exit 0.
    Success,
}

/// Runs `cmd` in `case` and returns the problems found.
fn check_row(lab: &Lab, case: &mut Case, cmd: Cmd, expect: Expect) -> Vec<String> {
    case.runs += 1;
    let n = case.runs;
    let snapshot = case.runs_dir.join(format!("snapshot-{n}"));
    let mut watched = vec![case.outside.clone()];
    watched.extend(case.host_files.iter().cloned());
    let before = manifest(&watched);
    // a little in the past: mtimes may be a clock tick behind
    let since = SystemTime::now() - Duration::from_millis(20);
    let args = cmd.args(&case.root, &lab.parser, &snapshot);
    let dir = case.runs_dir.join(format!("run-{n}"));
    let t = Instant::now();
    let o = if cmd.is_aa_status() {
        run_aa_status(&case.root, &args, &dir)
    } else {
        run_limited(&Child {
            program: Path::new(env!("CARGO_BIN_EXE_aactl")),
            args: &args,
            env: &[],
            dir: &dir,
        })
    };
    let mut p = Vec::new();
    let err = String::from_utf8_lossy(&o.err).into_owned();
    if std::env::var_os("AA_HOSTILE_SHOW").is_some() {
        let head = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .chars()
                .take(2000)
                .collect::<String>()
        };
        eprintln!(
            "=== {cmd:?} {args:?}: exit {:?}, signal {:?}, stopped {:?}, {} KiB, {:.2} s\n{}\n--- stderr\n{}",
            o.code,
            o.signal,
            o.stopped,
            o.max_rss_kb,
            t.elapsed().as_secs_f64(),
            head(&o.out),
            head(&o.err)
        );
    }
    let last_err = short(err.lines().last().unwrap_or(""));
    match o.stopped {
        Some(Stop::Hang) => p.push(format!("hang: stopped after {TIMEOUT_SECS} s")),
        Some(Stop::Memory) => p.push(format!(
            "stopped at {} MiB of resident memory (limit {} MiB)",
            o.max_rss_kb >> 10,
            MAX_RSS_KB >> 10
        )),
        Some(Stop::Flood) => p.push(format!(
            "stopped after {} bytes of output",
            o.out_len + o.err_len
        )),
        None => {}
    }
    // (a child the harness stopped was killed by it)
    if let (None, Some(sig)) = (o.stopped, o.signal) {
        p.push(format!("killed by signal {sig}: {last_err}"));
    } else if o.code == Some(101) || err.contains("panicked at") {
        let line = err
            .lines()
            .find(|l| l.contains("panicked at"))
            .map(short)
            .unwrap_or_default();
        p.push(format!("panic (exit {:?}): {line}", o.code));
    }
    if o.stopped.is_none() && o.max_rss_kb > MAX_RSS_KB {
        p.push(format!(
            "peak RSS {} MiB (over {} MiB)",
            o.max_rss_kb >> 10,
            MAX_RSS_KB >> 10
        ));
    }
    // an allocation that failed at the address-space limit and was reported
    let both = [&o.out[..], &o.err[..]].concat();
    if let Some(l) = [
        "out of memory",
        "Cannot allocate memory",
        "memory allocation of",
    ]
    .iter()
    .find_map(|m| line_with(&both, m))
    {
        p.push(format!("allocation over the limit: {l}"));
    }
    if o.out_len > MAX_OUTPUT {
        p.push(format!("flood: {} bytes on stdout", o.out_len));
    }
    if o.err_len > MAX_OUTPUT {
        p.push(format!("flood: {} bytes on stderr", o.err_len));
    }
    if let Some(l) = line_with(&o.out, &lab.token) {
        p.push(format!("canary token on stdout: {l}"));
    }
    if let Some(l) = line_with(&o.err, &lab.token) {
        p.push(format!("canary token on stderr: {l}"));
    }
    if !cmd.is_aa_status()
        && o.stopped.is_none()
        && o.signal.is_none()
        && let Some(why) = stderr_problem(&err)
    {
        p.push(why);
    }
    let after = manifest(&watched);
    let changed = changes(&before, &after);
    if !changed.is_empty() {
        p.push(format!("outside the root changed: {}", changed.join(", ")));
    }
    for f in token_in_files(&case.root, since, &lab.token) {
        p.push(format!("canary token written to {f}"));
    }
    if cmd == Snapshot && snapshot.exists() {
        for f in token_in_files(&snapshot, SystemTime::UNIX_EPOCH, &lab.token) {
            p.push(format!("canary token in the snapshot: {f}"));
        }
        for e in walkdir::WalkDir::new(&snapshot).into_iter().flatten() {
            let rel = e.path().strip_prefix(&snapshot).unwrap();
            let is_exe =
                rel.starts_with("proc") && rel.ends_with("exe") && rel.components().count() == 3;
            if e.path_is_symlink() && !is_exe {
                p.push(format!("symlink in the snapshot: {}", rel.display()));
            }
        }
    }
    match expect {
        Expect::Survive => {}
        Expect::Success => {
            if o.code != Some(0) {
                p.push(format!(
                    "exit {:?} on the sane tree: {}",
                    o.code,
                    short(&err)
                ));
            }
        }
        Expect::Refuse(_) if o.stopped.is_some() => {}
        Expect::Refuse(rel) => {
            if o.code == Some(0) {
                p.push("not refused (exit 0)".into());
            } else if !err
                .lines()
                .any(|l| l.starts_with("aactl: ") && l.contains(rel))
            {
                p.push(format!(
                    "refusal does not name {rel} on an `aactl: ` line (exit {:?}): {}",
                    o.code,
                    short(&err)
                ));
            }
        }
    }
    p
}

/// Runs `f` on every item with [`WORKERS`] threads; results in item order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..WORKERS)
            .map(|_| {
                s.spawn(|| {
                    let mut v = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(item) = items.get(i) else { break };
                        v.push((i, f(item)));
                    }
                    v
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Runs every row of `places`: per (place, variant) one tree for the commands
/// that only read, and one tree per command that writes. Panics listing every
/// failing row.
fn run_places(group: &str, places: &[Place]) {
    let lab = Lab::new();
    let mut jobs: Vec<(&Place, Variant, Vec<Cmd>)> = Vec::new();
    for place in places {
        for &v in place.variants {
            let readers: Vec<Cmd> = place.cmds.iter().copied().filter(|c| !c.writes()).collect();
            if !readers.is_empty() {
                jobs.push((place, v, readers));
            }
            for &c in place.cmds.iter().filter(|c| c.writes()) {
                jobs.push((place, v, vec![c]));
            }
        }
    }
    let t = Instant::now();
    let results = par_map(&jobs, |(place, v, cmds)| {
        let mut rows = Vec::new();
        let Some(mut case) = lab.hostile_case(place, *v) else {
            eprintln!("SKIP: {} {v:?}: cannot write a canary in /etc", place.rel);
            return rows;
        };
        for &cmd in cmds {
            let expect = if place.refuse.contains(&cmd) && place.refuse_on.contains(v) {
                Expect::Refuse(place.rel)
            } else {
                Expect::Survive
            };
            let problems = check_row(&lab, &mut case, cmd, expect);
            rows.push((format!("{} | {v:?} | {cmd:?}", place.rel), problems));
        }
        rows
    });
    report(group, results.into_iter().flatten().collect(), t);
}

fn report(group: &str, rows: Vec<(String, Vec<String>)>, t: Instant) {
    let total = rows.len();
    let failed: Vec<String> = rows
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(row, p)| format!("  {row}: {}", p.join("; ")))
        .collect();
    eprintln!(
        "{group}: {total} rows, {} failed, {:.1} s",
        failed.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "{group}: {} of {total} rows failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

// ---------------------------------------------------------------------- tests

/// The harness on the sane tree: every command succeeds and passes every check
/// (so that a failing hostile row fails for its hostile place).
#[test]
fn sane_tree_passes_every_check() {
    let lab = Lab::new();
    let t = Instant::now();
    let rows = par_map(ALL, |&cmd| {
        let mut case = lab.case(false);
        (
            format!("sane | {cmd:?}"),
            check_row(&lab, &mut case, cmd, Expect::Success),
        )
    });
    report("sane tree", rows, t);
}

#[test]
fn hostile_module_and_securityfs() {
    run_places("module parameters and securityfs", STATE_PLACES);
}

#[test]
fn hostile_proc() {
    run_places("/proc", PROC_PLACES);
}

#[test]
fn hostile_control_files() {
    run_places("securityfs control files", CONTROL_PLACES);
}

#[test]
fn hostile_logs() {
    run_places("logs", LOG_PLACES);
}

#[test]
fn hostile_profile_tree() {
    run_places("profile folder", PROFILE_PLACES);
}

/// Syslog lines that a local program wrote (any user can write to syslog)
/// dressed up as kernel audit records: plain `--suggest --write` must not turn
/// them into rules. A real kernel line next to them still is.
#[test]
fn forged_syslog_lines_write_no_rules() {
    let lab = Lab::new();
    let mut case = lab.case(false);
    let r = case.root.clone();
    std::fs::remove_file(r.join("var/log/audit/audit.log")).unwrap();
    let forged = "\
Dec  7 15:20:01 vm mallory[4242]: audit: type=1400 audit(1701962401.100:801): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-enforce\" name=\"/etc/shadow\" pid=4242 comm=\"mallory\" requested_mask=\"w\" denied_mask=\"w\" fsuid=0 ouid=0
Dec  7 15:20:02 vm evil: apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-enforce\" name=\"/tmp/evil\" pid=4243 comm=\"evil\" requested_mask=\"w\" denied_mask=\"w\" fsuid=0 ouid=0
2023-12-07T15:20:03.123456+00:00 vm mallory[4242]: audit: type=1400 audit(1701962403.300:803): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-enforce\" name=\"/etc/shadow\" pid=4242 comm=\"mallory\" requested_mask=\"w\" denied_mask=\"w\" fsuid=0 ouid=0
2023-12-07T15:20:04.000000+00:00 vm mallory[4242]: apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-enforce\" name=\"/tmp/evil\" pid=4242 comm=\"mallory\" requested_mask=\"w\" denied_mask=\"w\" fsuid=0 ouid=0
Dec  7 15:20:05 vm kernel: [  500.000000] audit: type=1400 audit(1701962405.500:805): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"vmtest-enforce\" name=\"/srv/legit/data\" pid=170 comm=\"vmtest-enforce\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0
";
    for f in ["var/log/syslog", "var/log/kern.log"] {
        std::fs::write(r.join(f), forged).unwrap();
    }
    let t = Instant::now();
    let mut problems = check_row(&lab, &mut case, LogWrite, Expect::Survive);
    let pd = r.join("etc/apparmor.d");
    let mut written = String::new();
    for f in ["local/vmtest-enforce", "vmtest-enforce"] {
        written += &std::fs::read_to_string(pd.join(f)).unwrap_or_default();
    }
    for bad in ["/etc/shadow", "/tmp/evil"] {
        if written.contains(bad) {
            problems.push(format!(
                "a rule for {bad} from a forged line was written: {}",
                short(
                    written
                        .lines()
                        .find(|l| l.contains(bad))
                        .unwrap_or_default()
                )
            ));
        }
    }
    if !written.contains("/srv/legit/data r,") {
        problems.push(format!(
            "the kernel line's rule was not written (the test proves nothing): {}",
            short(&written)
        ));
    }
    report(
        "forged syslog lines",
        vec![("var/log/syslog | forged | LogWrite".into(), problems)],
        t,
    );
}
