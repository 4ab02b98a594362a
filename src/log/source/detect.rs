//! Auto-detection: where this host's AppArmor records go, and what was
//! looked at to decide.

use super::file::rotated_set_in;
use super::{JournalQuery, Source};
use crate::system::System;
use crate::system::audit::{AuditQueryError, AuditStatus, query_audit_status};
use std::io;
use std::path::Path;

/// One place auto-detection looked at, and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Looked {
    /// What was checked (a path, `journal`, `kernel ring buffer`, `auditd`).
    pub place: String,
    /// What was found (`missing`, `not readable: …`, `running (pid 812)`, …).
    pub finding: String,
}

/// The result of [`detect`]: sources to try in order, and the notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detected {
    /// Candidate sources in preference order; the caller reads them in turn
    /// and stops at the first that yields records.
    pub candidates: Vec<(Source, String)>,
    /// Everything that was checked.
    pub looked: Vec<Looked>,
    /// The pid of a running auditd, if any.
    pub auditd_pid: Option<u32>,
    /// What `auditctl -s` said, when [`Detected::look_at_audit`] asked it.
    pub audit: Option<AuditLook>,
}

/// The audit subsystem's state as the diagnosis saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLook {
    /// The state, or why auditctl could not tell.
    pub status: Result<AuditStatus, String>,
    /// `lost` at a second look (taken only when the first was non-zero).
    pub lost_again: Option<u32>,
}

impl AuditLook {
    /// The lines the diagnosis prints: the state, then why records may be
    /// missing (lost, rate limit, full backlog, auditing off), and whether
    /// `lost` grew between the two looks.
    pub fn lines(&self) -> Vec<String> {
        let s = match &self.status {
            Ok(s) => s,
            Err(e) => return vec![format!("audit subsystem: unknown ({e})")],
        };
        let mut out = vec![format!("audit subsystem (auditctl -s): {}", s.summary())];
        for p in s.problems() {
            out.push(format!("AppArmor records may be missing: {p}"));
        }
        if let (Some(a), Some(b)) = (s.lost, self.lost_again) {
            if b > a {
                out.push(format!(
                    "lost is growing ({a} -> {b} a moment later): records are being dropped now"
                ));
            }
        }
        out
    }
}

impl Detected {
    /// Asks `auditctl -s` (when installed) for the audit subsystem's state and
    /// keeps it in [`Detected::audit`]; when `lost` is non-zero and `pause`
    /// is not zero, asks again after `pause` to tell whether it grows. Only for the running host:
    /// under another root nothing is asked.
    pub fn look_at_audit(&mut self, sys: &System, pause: std::time::Duration) {
        if !sys.is_host() {
            return;
        }
        let first = match query_audit_status() {
            Ok(s) => s,
            Err(AuditQueryError::NotInstalled) => return,
            Err(e) => {
                self.audit = Some(AuditLook {
                    status: Err(crate::error::chain(&e)),
                    lost_again: None,
                });
                return;
            }
        };
        let lost_again = if first.lost.is_some_and(|n| n > 0) && !pause.is_zero() {
            std::thread::sleep(pause);
            query_audit_status().ok().and_then(|s| s.lost)
        } else {
            None
        };
        self.audit = Some(AuditLook {
            status: Ok(first),
            lost_again,
        });
    }

    /// The explanation to print when no candidate held AppArmor records:
    /// where we looked and why each place gave nothing, including the case
    /// of a running auditd, which takes every record away from the journal
    /// and the ring buffer.
    pub fn explain_empty(&self, tried: &[(String, String)]) -> String {
        let mut s = String::from("no AppArmor records found. Looked at:\n");
        for l in &self.looked {
            s.push_str(&format!("  {}: {}\n", l.place, l.finding));
        }
        for (place, result) in tried {
            s.push_str(&format!("  read {place}: {result}\n"));
        }
        if let Some(a) = &self.audit {
            for l in a.lines() {
                s.push_str(&format!("  {l}\n"));
            }
        }
        if let Some(pid) = self.auditd_pid {
            s.push_str(&format!(
                "auditd is running (pid {pid}): it takes the kernel audit stream, so AppArmor \
                 records go to its log (see /etc/audit/auditd.conf) and not to the journal or \
                 the ring buffer, unless systemd-journald-audit.socket is enabled.\n"
            ));
        } else {
            s.push_str(
                "without auditd, AppArmor records go to the kernel log (journal kernel \
                 transport, kern.log, dmesg); none held any, so either nothing was denied or \
                 audit messages are rate-limited/suppressed (audit=0, printk ratelimit).\n",
            );
        }
        s
    }
}

fn auditd_pid(root: &Path) -> Option<u32> {
    use crate::system::fs;
    for p in ["run/auditd.pid", "var/run/auditd.pid"] {
        if let Ok(b) = fs::read_limited(root, root.join(p), fs::limits::PAGE)
            && let Ok(pid) = String::from_utf8_lossy(&b).trim().parse::<u32>()
            && fs::kind(root, &root.join("proc").join(pid.to_string())).is_ok()
        {
            return Some(pid);
        }
    }
    None
}

/// Whether auto-detection may use `p`: a regular file (symlinks followed)
/// that opens for reading. A FIFO, socket, device or directory is refused
/// without opening it (opening a FIFO blocks until a writer appears); the
/// open is non-blocking in case one was swapped in meanwhile.
fn readable(root: &Path, p: &Path) -> Result<(), String> {
    match crate::system::fs::open_read(root, p, false) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err("missing".into()),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            Err("not a regular file; not read".into())
        }
        Err(e) => Err(format!("not readable: {e}")),
    }
}

/// Finds where AppArmor records go on the host `sys`: auditd's log
/// when auditd runs (or its log exists), else the journal, else
/// syslog/kern.log/messages, else the ring buffer (running host only).
/// Paths are `sys.path("/var/log/audit/audit.log")` etc.
pub fn detect(sys: &System) -> Detected {
    let root = sys.root();
    let mut d = Detected {
        auditd_pid: auditd_pid(root),
        ..Detected::default()
    };
    d.looked.push(Looked {
        place: "auditd".into(),
        finding: match d.auditd_pid {
            Some(p) => format!("running (pid {p})"),
            None => format!(
                "not running (no live pid in {})",
                root.join("run/auditd.pid").display()
            ),
        },
    });
    let audit_log = root.join("var/log/audit/audit.log");
    match readable(root, &audit_log) {
        Ok(()) => {
            for p in rotated_set_in(root, &audit_log) {
                d.candidates.push((Source::File(p), "auditd's log".into()));
            }
            d.looked.push(Looked {
                place: audit_log.display().to_string(),
                finding: "readable".into(),
            });
        }
        Err(e) => d.looked.push(Looked {
            place: audit_log.display().to_string(),
            finding: e,
        }),
    }
    let journal_dirs = ["var/log/journal", "run/log/journal"];
    if journal_dirs.iter().any(|j| {
        crate::system::fs::kind(root, &root.join(j)).ok() == Some(crate::system::fs::EntryKind::Dir)
    }) {
        d.candidates.push((
            Source::Journal(JournalQuery::default()),
            "journald (kernel and audit transports)".into(),
        ));
        d.looked.push(Looked {
            place: "journal".into(),
            finding: "present".into(),
        });
    } else {
        d.looked.push(Looked {
            place: "journal".into(),
            finding: format!(
                "no {} or {}",
                root.join("var/log/journal").display(),
                root.join("run/log/journal").display()
            ),
        });
    }
    // kern.log first: only there is a `kernel:` tag the kernel's own
    for f in ["var/log/kern.log", "var/log/syslog", "var/log/messages"] {
        let p = root.join(f);
        match readable(root, &p) {
            Ok(()) => {
                d.candidates
                    .push((Source::File(p.clone()), "syslog".into()));
                d.looked.push(Looked {
                    place: p.display().to_string(),
                    finding: "readable".into(),
                });
            }
            Err(e) => d.looked.push(Looked {
                place: p.display().to_string(),
                finding: e,
            }),
        }
    }
    if root == Path::new("/") {
        d.candidates
            .push((Source::Kernel, "kernel ring buffer".into()));
    } else {
        d.looked.push(Looked {
            place: "kernel ring buffer".into(),
            finding: "skipped (not the running host)".into(),
        });
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::audit::parse_auditctl_status;

    #[test]
    fn diagnosis_names_lost_records_and_their_growth() {
        let st = parse_auditctl_status(
            "enabled 1\nfailure 1\npid 0\nrate_limit 0\nbacklog_limit 64\nlost 7\nbacklog 0\n",
        )
        .unwrap();
        let d = Detected {
            audit: Some(AuditLook {
                status: Ok(st),
                lost_again: Some(9),
            }),
            ..Detected::default()
        };
        let text = d.explain_empty(&[]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "no AppArmor records found. Looked at:");
        assert_eq!(
            lines[1],
            "  audit subsystem (auditctl -s): enabled 1, no audit daemon, lost 7, backlog 0 of 64, rate_limit 0"
        );
        assert_eq!(
            lines[2],
            "  AppArmor records may be missing: the kernel has lost 7 audit records since boot (lost 7): denials may be missing from every log"
        );
        assert_eq!(
            lines[3],
            "  lost is growing (7 -> 9 a moment later): records are being dropped now"
        );
        // a steady count is not called growing; a failed auditctl is one line
        let steady = AuditLook {
            status: parse_auditctl_status("lost 7\n").map_err(|e| e.to_string()),
            lost_again: Some(7),
        };
        assert_eq!(steady.lines().len(), 2);
        let failed = AuditLook {
            status: Err("/sbin/auditctl -s failed: Operation not permitted".into()),
            lost_again: None,
        };
        assert_eq!(
            failed.lines(),
            ["audit subsystem: unknown (/sbin/auditctl -s failed: Operation not permitted)"]
        );
    }

    #[test]
    fn another_root_is_never_asked() {
        let mut d = Detected::default();
        d.look_at_audit(
            &System::with_root("/nonexistent"),
            std::time::Duration::ZERO,
        );
        assert_eq!(d.audit, None);
    }
}
