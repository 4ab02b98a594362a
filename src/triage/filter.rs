//! Filters shared by every triage view (`--profile REGEX`, `--operation`,
//! `--class`, `--since/--until`, `--boot`, `--mode`, `--pid`, `--comm`).

use super::classify::{Category, category, profiles_of};
use crate::log::{EventType, Record};
use regex::Regex;

/// Which event kinds a view keeps (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeSet {
    /// `DENIED` and `KILLED`.
    pub denied: bool,
    /// `ALLOWED` (complain mode) and `AUTO`.
    pub allowed: bool,
    /// `AUDIT`.
    pub audit: bool,
    /// Everything else (`STATUS`, `HINT`, `ERROR`).
    pub other: bool,
}

impl Default for ModeSet {
    /// Denied and allowed: the accesses the policy did not grant (complain
    /// mode logs them as `ALLOWED`), which are the ones a rule is needed for.
    fn default() -> Self {
        ModeSet {
            denied: true,
            allowed: true,
            audit: false,
            other: false,
        }
    }
}

impl ModeSet {
    /// Parses `denied`, `allowed`, `audit`, `all` (comma-separated lists
    /// allowed: `denied,audit`).
    ///
    /// # Errors
    /// The unknown word.
    pub fn parse(s: &str) -> Result<ModeSet, String> {
        let mut m = ModeSet {
            denied: false,
            allowed: false,
            audit: false,
            other: false,
        };
        for w in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match w {
                "denied" => m.denied = true,
                "allowed" => m.allowed = true,
                "audit" => m.audit = true,
                "all" => {
                    m = ModeSet {
                        denied: true,
                        allowed: true,
                        audit: true,
                        other: true,
                    }
                }
                other => {
                    return Err(format!(
                        "unknown mode {other:?} (expected denied, allowed, audit or all)"
                    ));
                }
            }
        }
        Ok(m)
    }

    /// True when `e` is kept.
    pub fn keeps(&self, e: EventType) -> bool {
        match e {
            EventType::Denied | EventType::Killed => self.denied,
            EventType::Allowed | EventType::Auto => self.allowed,
            EventType::Audit => self.audit,
            EventType::Invalid => false,
            _ => self.other,
        }
    }
}

/// A record filter. Every condition given must hold; lists match any of
/// their values.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Keep records attributed to a profile matching this regex (searched,
    /// not anchored); attributions to other profiles of a stack are dropped.
    pub profile: Option<Regex>,
    /// Operations (`open`, `capable`, …), exact.
    pub operations: Vec<String>,
    /// Classes: the kernel's `class=` (`file`, `net`, `cap`, …) or our
    /// [`Category`] name (`file`, `network`, `capability`, `exec`, …).
    pub classes: Vec<String>,
    /// Keep records at or after this time (seconds since the epoch).
    /// Records without a usable timestamp are dropped when set.
    pub since: Option<u64>,
    /// Keep records at or before this time (seconds since the epoch).
    pub until: Option<u64>,
    /// Event kinds.
    pub mode: ModeSet,
    /// Subject pids.
    pub pids: Vec<u64>,
    /// Commands (`comm=`), exact.
    pub comms: Vec<String>,
}

impl RecordFilter {
    /// The profiles of `r` this filter keeps (see [`profiles_of`]); `None`
    /// when the record is filtered out. A record naming no profile yields
    /// `Some(vec![])` unless a profile regex is set.
    pub fn apply(&self, r: &Record) -> Option<Vec<String>> {
        if !self.mode.keeps(r.event) {
            return None;
        }
        if !self.operations.is_empty() {
            let op = r.operation.as_ref()?.to_str_lossy();
            if !self.operations.iter().any(|o| *o == op) {
                return None;
            }
        }
        if !self.classes.is_empty() {
            let cat = category(r);
            let class = r.class.as_ref().map(|c| c.to_str_lossy());
            let hit = self.classes.iter().any(|c| {
                class.as_deref() == Some(c.as_str())
                    || cat.as_str() == c
                    || (c == "file" && cat == Category::Exec)
                    || kernel_class_of(cat).contains(&c.as_str())
            });
            if !hit {
                return None;
            }
        }
        if self.since.is_some() || self.until.is_some() {
            let (t, _) = r.timestamp()?;
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
                return None;
            }
        }
        if !self.pids.is_empty() && !r.pid.is_some_and(|p| self.pids.contains(&p)) {
            return None;
        }
        if !self.comms.is_empty() {
            let c = r.comm.as_ref()?.to_str_lossy();
            if !self.comms.iter().any(|x| *x == c) {
                return None;
            }
        }
        let mut profs = profiles_of(r);
        if let Some(re) = &self.profile {
            profs.retain(|p| re.is_match(p));
            if profs.is_empty() {
                return None;
            }
        }
        Some(profs)
    }
}

/// Parses a time for `--since/--until` on file sources: `@EPOCH`,
/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or with `T` (UTC), `now`, `today`,
/// `yesterday` (UTC midnights), `-N[smhd]` or `N UNIT ago` (units `s`,
/// `sec`, `min`, `m`, `h`, `hour`, `d`, `day`, plural allowed). `now` is
/// the current time in seconds since the epoch.
///
/// # Errors
/// A message naming the text when it is not one of these forms.
pub fn parse_time(text: &str, now: u64) -> Result<u64, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "cannot read time {t:?} (use @EPOCH, YYYY-MM-DD[ HH:MM[:SS]], today, yesterday, \
             -2h or \"2 hours ago\")"
        )
    };
    if let Some(e) = t.strip_prefix('@') {
        return e.parse().map_err(|_| bad());
    }
    let day = now - now % 86400;
    match t {
        "now" => return Ok(now),
        "today" => return Ok(day),
        "yesterday" => return Ok(day.saturating_sub(86400)),
        _ => {}
    }
    let rel = t
        .strip_prefix('-')
        .or_else(|| t.strip_suffix("ago").map(str::trim));
    if let Some(r) = rel {
        let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
        let unit = r[digits.len()..].trim();
        let n: u64 = digits.parse().map_err(|_| bad())?;
        let mult = match unit.trim_end_matches('s') {
            "" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86400,
            "w" | "week" => 7 * 86400,
            _ => return Err(bad()),
        };
        return Ok(now.saturating_sub(n.saturating_mul(mult)));
    }
    // YYYY-MM-DD[( |T)HH:MM[:SS[.frac]]]
    let b = t.as_bytes();
    if !t.is_ascii() || b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    // a field of digits only (no sign, no spaces)
    let num = |s: &str| {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<i64>().map_err(|_| bad())
    };
    let (y, mo, d) = (num(&t[0..4])?, num(&t[5..7])?, num(&t[8..10])?);
    if !(1..=12).contains(&mo) {
        return Err(format!("invalid date {t:?}: there is no month {mo}"));
    }
    let last = days_in_month(y, mo);
    if !(1..=last).contains(&d) {
        return Err(format!(
            "invalid date {t:?}: {y:04}-{mo:02} has days 1 to {last}"
        ));
    }
    let mut secs = 0i64;
    if b.len() > 10 {
        if !matches!(b[10], b' ' | b'T') {
            return Err(bad());
        }
        let parts: Vec<&str> = t[11..].split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(bad());
        }
        let (h, m) = (num(parts[0])?, num(parts[1])?);
        let sec = match parts.get(2) {
            Some(s) => {
                let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
                num(frac)?;
                num(whole)?
            }
            None => 0,
        };
        if h > 23 || m > 59 || sec > 59 {
            return Err(format!(
                "invalid time {t:?}: hours go to 23, minutes and seconds to 59"
            ));
        }
        secs = h * 3600 + m * 60 + sec;
    }
    let days = days_from_civil(y, mo, d);
    u64::try_from(days * 86400 + secs).map_err(|_| bad())
}

/// Days in month `m` (1 to 12) of year `y` (proleptic Gregorian).
fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The boot time of the host (`btime` of `/proc/stat` text), for `--boot`
/// on file sources.
pub fn boot_time(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// The kernel's `class=` names of a category, so that `--class cap` also
/// finds the capability records of kernels that write no `class=` field.
fn kernel_class_of(cat: Category) -> &'static [&'static str] {
    match cat {
        Category::Capability => &["cap"],
        Category::Network | Category::Unix => &["net"],
        Category::Userns => &["namespace"],
        Category::Mqueue => &["posix_mqueue"],
        Category::Rlimit => &["rlimits"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let now = 1_700_000_000;
        assert_eq!(parse_time("@5", now), Ok(5));
        assert_eq!(parse_time("1970-01-02", now), Ok(86400));
        assert_eq!(parse_time("2023-11-14 22:13:20", now), Ok(1_700_000_000));
        assert_eq!(parse_time("2023-11-14T22:13", now), Ok(1_699_999_980));
        assert_eq!(parse_time("-2h", now), Ok(now - 7200));
        assert_eq!(parse_time("3 days ago", now), Ok(now - 3 * 86400));
        assert!(parse_time("soon", now).is_err());
        // impossible dates and times, and non-digits, are refused
        assert_eq!(
            parse_time("2023-02-30", now),
            Err("invalid date \"2023-02-30\": 2023-02 has days 1 to 28".into())
        );
        assert_eq!(parse_time("2024-02-29", now), Ok(1_709_164_800));
        assert!(parse_time("2100-02-29", now).is_err());
        assert_eq!(parse_time("2000-02-29", now), Ok(951_782_400));
        for bad in [
            "2023-04-31",
            "2023-13-01",
            "2023-00-10",
            "2023-01-00",
            "2023-01-01 24:00",
            "2023-01-01 12:60",
            "2023-01-01 12:00:60",
            "2023-+1-01",
            "2023-01-0\u{e9}",
            "2023-01-01 -1:00",
            "2023-01-01 12:00:1x",
        ] {
            let e = parse_time(bad, now).unwrap_err();
            assert!(!e.contains('\n'), "{e}");
        }
        assert_eq!(parse_time("2023-11-14 22:13:20.5", now), Ok(1_700_000_000));
        assert_eq!(boot_time("cpu 1 2\nbtime 1234\n"), Some(1234));
    }

    #[test]
    fn modes() {
        let m = ModeSet::parse("denied").unwrap();
        assert!(m.keeps(EventType::Killed) && !m.keeps(EventType::Allowed));
        assert!(ModeSet::parse("all").unwrap().keeps(EventType::Status));
        assert!(ModeSet::parse("bogus").is_err());
    }
}
