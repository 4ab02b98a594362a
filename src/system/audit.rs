//! The kernel audit subsystem's state, as `auditctl -s` prints it.
//!
//! AppArmor's records travel through the kernel's audit subsystem: with an
//! audit daemon running they go to its log, without one to the kernel log.
//! Records the kernel could not deliver are counted as `lost`, and a
//! `rate_limit` drops records beyond that many per second, so a non-zero
//! `lost` is a common reason why denials are missing from every log.
//!
//! [`parse_auditctl_status`] reads the text (pure); [`query_audit_status`]
//! runs `auditctl -s` (found on `PATH`, then in `/sbin` and `/usr/sbin`) with
//! the C locale and a time limit. The state belongs to the running kernel:
//! it is never read under another root.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The audit subsystem's state (`auditctl -s`). A field is `None` when the
/// output did not have it (older kernels and tools print fewer lines).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditStatus {
    /// `0` auditing off, `1` on, `2` on and locked (immutable until reboot).
    pub enabled: Option<u32>,
    /// What the kernel does on a critical error: `0` nothing, `1` printk, `2` panic.
    pub failure: Option<u32>,
    /// The audit daemon's pid; `0` when none is registered (records then go to
    /// the kernel log).
    pub pid: Option<u32>,
    /// Records per second beyond which records are dropped (counted in `lost`);
    /// `0` means no limit.
    pub rate_limit: Option<u32>,
    /// Records the kernel queues for the daemon at most.
    pub backlog_limit: Option<u32>,
    /// Records dropped since boot (rate limit, full backlog, out of memory).
    pub lost: Option<u32>,
    /// Records queued now.
    pub backlog: Option<u32>,
    /// How long (in jiffies-based units the kernel reports, as printed) a task
    /// waits for room in a full backlog.
    pub backlog_wait_time: Option<u32>,
    /// Total time tasks waited for room in the backlog (newer kernels only).
    pub backlog_wait_time_actual: Option<u32>,
}

/// Why `auditctl -s` output could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditParseError {
    /// No line of the output names a status field.
    #[error("no audit status fields in the output of auditctl -s")]
    NoFields,
    /// A known field's value is not a number (or a word auditctl prints for it).
    #[error("line {line}: cannot read the value of {field}: {value}")]
    BadValue {
        /// The 1-based line.
        line: usize,
        /// The field name.
        field: String,
        /// The value as printed.
        value: String,
    },
}

/// Reads the output of `auditctl -s`: `NAME VALUE` lines (`enabled 1`,
/// `lost 0`, …). The words auditctl prints with `-i` (`enabled`, `disable`,
/// `enabled+immutable`; `silent`, `printk`, `panic`) are read as their
/// numbers. Unknown lines (`loginuid_immutable 0 unlocked`, newer fields) are
/// skipped.
///
/// # Errors
/// [`AuditParseError::NoFields`] when no known field is found;
/// [`AuditParseError::BadValue`] for a known field with an unreadable value.
pub fn parse_auditctl_status(text: &str) -> Result<AuditStatus, AuditParseError> {
    let mut s = AuditStatus::default();
    let mut any = false;
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        let slot = match name {
            "enabled" => &mut s.enabled,
            "failure" => &mut s.failure,
            "pid" => &mut s.pid,
            "rate_limit" => &mut s.rate_limit,
            "backlog_limit" => &mut s.backlog_limit,
            "lost" => &mut s.lost,
            "backlog" => &mut s.backlog,
            "backlog_wait_time" => &mut s.backlog_wait_time,
            "backlog_wait_time_actual" => &mut s.backlog_wait_time_actual,
            _ => continue,
        };
        let word = match (name, value) {
            ("enabled", "disable") | ("failure", "silent") => Some(0),
            ("enabled", "enabled") | ("failure", "printk") => Some(1),
            ("enabled", "enabled+immutable") | ("failure", "panic") => Some(2),
            _ => None,
        };
        let v = match word {
            Some(v) => v,
            None => value.parse().map_err(|_| AuditParseError::BadValue {
                line: i + 1,
                field: name.to_owned(),
                value: value.to_owned(),
            })?,
        };
        *slot = Some(v);
        any = true;
    }
    if any {
        Ok(s)
    } else {
        Err(AuditParseError::NoFields)
    }
}

impl AuditStatus {
    /// True when an audit daemon is registered (`pid` non-zero): AppArmor's
    /// records then go to its log (`/var/log/audit/audit.log`), not the kernel log.
    pub fn daemon_running(&self) -> bool {
        self.pid.is_some_and(|p| p != 0)
    }

    /// Why AppArmor records may be missing, one sentence each (empty when
    /// nothing in the state suggests it): records lost, a rate limit, a full
    /// backlog, auditing switched off.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(n) = self.lost.filter(|n| *n > 0) {
            out.push(format!(
                "the kernel has lost {n} audit record{} since boot (lost {n}): \
                 denials may be missing from every log",
                if n == 1 { "" } else { "s" }
            ));
        }
        if let Some(r) = self.rate_limit.filter(|r| *r > 0) {
            out.push(format!(
                "audit records beyond {r} per second are dropped (rate_limit {r})"
            ));
        }
        if let (Some(b), Some(l)) = (self.backlog, self.backlog_limit) {
            if l > 0 && b >= l {
                out.push(format!(
                    "the audit backlog is full ({b} of {l} records queued): \
                     new records wait or are lost"
                ));
            }
        }
        if self.enabled == Some(0) {
            out.push("auditing is switched off (enabled 0)".to_owned());
        }
        out
    }

    /// One line for people: `enabled 1, auditd pid 612, lost 0, backlog 0 of
    /// 8192, rate_limit 0` (fields the output lacked are left out).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = self.enabled {
            let what = match e {
                0 => " (off)",
                2 => " (locked)",
                _ => "",
            };
            parts.push(format!("enabled {e}{what}"));
        }
        match self.pid {
            Some(0) => parts.push("no audit daemon".to_owned()),
            Some(p) => parts.push(format!("auditd pid {p}")),
            None => {}
        }
        if let Some(l) = self.lost {
            parts.push(format!("lost {l}"));
        }
        match (self.backlog, self.backlog_limit) {
            (Some(b), Some(l)) => parts.push(format!("backlog {b} of {l}")),
            (Some(b), None) => parts.push(format!("backlog {b}")),
            (None, Some(l)) => parts.push(format!("backlog_limit {l}")),
            (None, None) => {}
        }
        if let Some(r) = self.rate_limit {
            parts.push(format!("rate_limit {r}"));
        }
        parts.join(", ")
    }
}

/// Why `auditctl -s` could not be asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditQueryError {
    /// No `auditctl` on `PATH`, in `/sbin` or in `/usr/sbin`.
    #[error("auditctl is not installed")]
    NotInstalled,
    /// It could not be started.
    #[error("cannot run {}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// It did not finish in time and was killed.
    #[error("{} -s did not answer in {seconds} s", program.display())]
    TimedOut {
        /// The program.
        program: PathBuf,
        /// The time limit.
        seconds: u64,
    },
    /// It failed (not root, no audit support in the kernel): its message.
    #[error("{} -s failed: {message}", program.display())]
    Failed {
        /// The program.
        program: PathBuf,
        /// Its first line of standard error (or the exit status).
        message: String,
    },
    /// Its output could not be read.
    #[error("{}: {source}", program.display())]
    Parse {
        /// The program.
        program: PathBuf,
        /// The parse error.
        #[source]
        source: AuditParseError,
    },
}

/// How long `auditctl -s` may take.
pub const AUDITCTL_TIMEOUT: Duration = Duration::from_secs(3);

/// The bytes of output kept from `auditctl -s` (it prints about 200).
const OUTPUT_LIMIT: u64 = 64 * 1024;

/// `auditctl` on `path` (a `PATH`-like list), else in `/sbin` or `/usr/sbin`.
pub fn find_auditctl(path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    dirs.into_iter()
        .filter(|d| d.is_absolute())
        .chain([PathBuf::from("/sbin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join("auditctl"))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `program -s` (no shell, `LC_ALL=C`, standard input closed) and reads
/// its output with [`parse_auditctl_status`]; a run longer than `timeout` is
/// killed.
///
/// # Errors
/// [`AuditQueryError`]: not startable, timed out, failed, unreadable output.
pub fn query_audit_status_with(
    program: &Path,
    timeout: Duration,
) -> Result<AuditStatus, AuditQueryError> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .arg("-s")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| AuditQueryError::Spawn {
            program: program.to_owned(),
            source: e,
        })?;
    // Reader threads, so that a program that keeps its pipes open cannot block us.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(p) = pipe {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = p.take(OUTPUT_LIMIT).read_to_end(&mut buf);
                let _ = tx.send(buf);
            });
        }
        rx
    };
    let out = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(AuditQueryError::TimedOut {
                    program: program.to_owned(),
                    seconds: timeout.as_secs(),
                });
            }
        }
    };
    let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(100);
    let stdout = out.recv_timeout(wait).unwrap_or_default();
    let stderr = err.recv_timeout(wait).unwrap_or_default();
    if !status.success() {
        let e = String::from_utf8_lossy(&stderr);
        let message = e
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map_or_else(|| format!("exit status {status}"), str::to_owned);
        return Err(AuditQueryError::Failed {
            program: program.to_owned(),
            message,
        });
    }
    parse_auditctl_status(&String::from_utf8_lossy(&stdout)).map_err(|e| AuditQueryError::Parse {
        program: program.to_owned(),
        source: e,
    })
}

/// [`query_audit_status_with`] the `auditctl` [`find_auditctl`] finds on this
/// process's `PATH`, with [`AUDITCTL_TIMEOUT`].
///
/// # Errors
/// [`AuditQueryError::NotInstalled`], or see [`query_audit_status_with`].
pub fn query_audit_status() -> Result<AuditStatus, AuditQueryError> {
    let program =
        find_auditctl(std::env::var_os("PATH").as_deref()).ok_or(AuditQueryError::NotInstalled)?;
    query_audit_status_with(&program, AUDITCTL_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As auditd 3.0 (Debian 12) prints it on a 6.1 kernel with the daemon running.
    const AUDITD_3_0: &str = "enabled 1\nfailure 1\npid 612\nrate_limit 0\nbacklog_limit 8192\n\
lost 0\nbacklog 0\nbacklog_wait_time 60000\nbacklog_wait_time_actual 0\n\
loginuid_immutable 0 unlocked\n";

    /// As auditd 3.1 (Debian 13) prints it after a burst, no daemon, with a rate limit.
    const AUDITD_3_1_LOST: &str = "enabled 1\nfailure 1\npid 0\nrate_limit 100\n\
backlog_limit 64\nlost 1532\nbacklog 64\nbacklog_wait_time 60000\n\
backlog_wait_time_actual 12\nloginuid_immutable 0 unlocked\n";

    /// `auditctl -s -i`: words for enabled and failure; an older kernel
    /// without backlog_wait_time_actual.
    const INTERPRETED: &str = "enabled enabled+immutable\nfailure printk\npid 1\n\
rate_limit 0\nbacklog_limit 320\nlost 0\nbacklog 0\nbacklog_wait_time 15000\n";

    #[test]
    fn auditd_3_0_running_daemon() {
        let s = parse_auditctl_status(AUDITD_3_0).unwrap();
        assert_eq!(
            s,
            AuditStatus {
                enabled: Some(1),
                failure: Some(1),
                pid: Some(612),
                rate_limit: Some(0),
                backlog_limit: Some(8192),
                lost: Some(0),
                backlog: Some(0),
                backlog_wait_time: Some(60000),
                backlog_wait_time_actual: Some(0),
            }
        );
        assert!(s.daemon_running());
        assert!(s.problems().is_empty());
        assert_eq!(
            s.summary(),
            "enabled 1, auditd pid 612, lost 0, backlog 0 of 8192, rate_limit 0"
        );
    }

    #[test]
    fn auditd_3_1_lost_records_are_a_problem() {
        let s = parse_auditctl_status(AUDITD_3_1_LOST).unwrap();
        assert!(!s.daemon_running());
        assert_eq!(s.lost, Some(1532));
        assert_eq!(s.backlog_wait_time_actual, Some(12));
        let p = s.problems();
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].starts_with("the kernel has lost 1532 audit records since boot"));
        assert_eq!(
            p[1],
            "audit records beyond 100 per second are dropped (rate_limit 100)"
        );
        assert!(p[2].starts_with("the audit backlog is full (64 of 64"));
        assert_eq!(
            s.summary(),
            "enabled 1, no audit daemon, lost 1532, backlog 64 of 64, rate_limit 100"
        );
    }

    #[test]
    fn interpreted_words_and_missing_fields() {
        let s = parse_auditctl_status(INTERPRETED).unwrap();
        assert_eq!(s.enabled, Some(2));
        assert_eq!(s.failure, Some(1));
        assert_eq!(s.backlog_wait_time_actual, None);
        assert!(s.summary().starts_with("enabled 2 (locked), auditd pid 1,"));
        let off = parse_auditctl_status("enabled disable\nfailure silent\n").unwrap();
        assert_eq!((off.enabled, off.failure), (Some(0), Some(0)));
        assert_eq!(off.problems(), ["auditing is switched off (enabled 0)"]);
        assert_eq!(off.summary(), "enabled 0 (off)");
    }

    #[test]
    fn one_lost_record_is_singular() {
        let s = parse_auditctl_status("lost 1\n").unwrap();
        assert!(s.problems()[0].starts_with("the kernel has lost 1 audit record since"));
    }

    #[test]
    fn bad_output() {
        assert_eq!(parse_auditctl_status(""), Err(AuditParseError::NoFields));
        assert_eq!(
            parse_auditctl_status("You must be root to run this program.\n"),
            Err(AuditParseError::NoFields)
        );
        assert_eq!(
            parse_auditctl_status("enabled 1\nlost many\n"),
            Err(AuditParseError::BadValue {
                line: 2,
                field: "lost".into(),
                value: "many".into()
            })
        );
        // a value past u32 is not silently cut
        assert!(parse_auditctl_status("lost 99999999999\n").is_err());
    }

    #[test]
    fn missing_program_and_timeout() {
        let e = query_audit_status_with(Path::new("/nonexistent/auditctl"), AUDITCTL_TIMEOUT)
            .unwrap_err();
        assert!(matches!(e, AuditQueryError::Spawn { .. }), "{e}");
        assert!(
            find_auditctl(Some(std::ffi::OsStr::new("relative:dirs")))
                .is_none_or(|p| p.is_absolute())
        );
    }
}
