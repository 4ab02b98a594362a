//! Times as people type them (`--since`/`--until`), times as syslog writes
//! them, and times as records are shown, all in a time zone given by the
//! caller: nothing here reads the environment or the clock, so the same
//! text gives the same instant whatever host runs it.
//!
//! Zones are [`jiff::tz::TimeZone`] values; a program gets the local one
//! with [`TimeZone::system`] (the `TZ` variable, else `/etc/localtime`).
//!
//! # The forms [`parse_time`] takes
//!
//! | text | instant |
//! | --- | --- |
//! | `now` | the given current time |
//! | `today`, `yesterday`, `tomorrow` | midnight of that day in the zone |
//! | `today 10:00`, `yesterday 23:30:15` | that time of that day |
//! | `10:00`, `10:00:30` | that time today |
//! | `2024-11-29` | midnight of that date in the zone |
//! | `2024-11-29 10:00[:SS[.frac]]` or with `T` | that local time |
//! | `2024-11-29T10:00:00Z`, `…+01:00` | that instant (the offset given wins) |
//! | `@1700000000`, `@1700000000.5`, `1700000000` (9 digits or more) | seconds since the epoch |
//! | `-1h`, `1h ago`, `1h`, `2 hours ago`, `1d 2h`, `90min`, `1w ago` | that long before now |
//! | `+1h`, `in 1h` | that long after now |
//!
//! Days and weeks are calendar days in the zone (a day across a daylight
//! saving change is 23 or 25 hours). A local time that a clock change skips
//! is taken as the later side of the gap, one that repeats as the first.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};

/// Why a time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// None of the forms (see the module documentation).
    #[error(
        "cannot read time {text:?} (use -1h, \"2 hours ago\", 10:00, today, yesterday, \
         YYYY-MM-DD[ HH:MM[:SS]], an RFC 3339 time or @EPOCH)"
    )]
    Unreadable {
        /// The text as given.
        text: String,
    },
    /// A date that does not exist (`2023-02-30`, `2023-13-01`).
    #[error("invalid date {text:?}: {reason}")]
    Impossible {
        /// The text as given.
        text: String,
        /// Which part is wrong (`2023-02 has days 1 to 28`).
        reason: String,
    },
    /// A clock time that does not exist (`24:00`, `10:60`).
    #[error("invalid time {text:?}: hours go to 23, minutes and seconds to 59")]
    ImpossibleClock {
        /// The text as given.
        text: String,
    },
    /// A time before 1970 or after 9999, or a duration too long to apply.
    #[error("time {text:?} is out of range (1970 to 9999)")]
    OutOfRange {
        /// The text as given.
        text: String,
    },
}

/// Parses `text` (the forms of the module documentation) into seconds since
/// the epoch, with `now` as the current time and dates and clock times read
/// in `tz`.
///
/// # Errors
/// [`TimeError`] naming the text: an unknown form, a date or clock time that
/// does not exist, or an instant outside 1970 to 9999.
pub fn parse_time(text: &str, now: Timestamp, tz: &TimeZone) -> Result<u64, TimeError> {
    let t = text.trim();
    let unreadable = || TimeError::Unreadable { text: t.to_owned() };
    let range = || TimeError::OutOfRange { text: t.to_owned() };
    let seconds = |ts: Timestamp| u64::try_from(ts.as_second()).map_err(|_| range());
    let today = now.to_zoned(tz.clone()).date();
    if t.is_empty() {
        return Err(unreadable());
    }
    // @EPOCH[.frac], or a bare count of seconds long enough not to be a year
    let epoch = t
        .strip_prefix('@')
        .or_else(|| (t.len() >= 9 && t.bytes().all(|b| b.is_ascii_digit())).then_some(t));
    if let Some(e) = epoch {
        let whole = e.split_once('.').map_or(e, |(w, f)| {
            if f.bytes().all(|b| b.is_ascii_digit()) {
                w
            } else {
                ""
            }
        });
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unreadable());
        }
        let s: i64 = whole.parse().map_err(|_| range())?;
        return seconds(Timestamp::from_second(s).map_err(|_| range())?);
    }
    if t == "now" {
        return seconds(now);
    }
    // a day word, alone or with a clock time
    let (word, rest) = t.split_once(' ').unwrap_or((t, ""));
    let day = match word {
        "today" => Some(today),
        "yesterday" => today.yesterday().ok(),
        "tomorrow" => today.tomorrow().ok(),
        _ => None,
    };
    if let Some(day) = day {
        let clock = match rest.trim() {
            "" => Time::midnight(),
            c => clock(c, t)?.ok_or_else(unreadable)?,
        };
        return seconds(local(day.to_datetime(clock), tz).map_err(|_| range())?);
    }
    if let Some(c) = clock(t, t)? {
        return seconds(local(today.to_datetime(c), tz).map_err(|_| range())?);
    }
    if looks_like_date(t) {
        return date_time(t, tz).and_then(seconds);
    }
    if let Some(span) = duration(t) {
        let zoned = now.to_zoned(tz.clone());
        return zoned
            .checked_add(span)
            .map_err(|_| range())
            .and_then(|z| seconds(z.timestamp()));
    }
    Err(unreadable())
}

/// `local` as an instant in `tz` (a skipped time moves forward, a repeated
/// one takes its first occurrence).
fn local(dt: DateTime, tz: &TimeZone) -> Result<Timestamp, jiff::Error> {
    tz.to_ambiguous_timestamp(dt).compatible()
}

/// `HH:MM[:SS[.frac]]`: `Ok(None)` when `c` is not of that shape, an error
/// when it is but names no time of day.
fn clock(c: &str, whole: &str) -> Result<Option<Time>, TimeError> {
    let parts: Vec<&str> = c.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Ok(None);
    }
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    let (sec_whole, frac) = match parts.get(2) {
        Some(s) => s.split_once('.').unwrap_or((s, "")),
        None => ("0", ""),
    };
    if !digits(parts[0])
        || !digits(parts[1])
        || !digits(sec_whole)
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Ok(None);
    }
    let n = |s: &str| s.parse::<i8>().unwrap_or(99);
    let (h, m, s) = (n(parts[0]), n(parts[1]), n(sec_whole));
    if h > 23 || m > 59 || s > 59 {
        return Err(TimeError::ImpossibleClock {
            text: whole.to_owned(),
        });
    }
    Ok(Time::new(h, m, s, 0).ok())
}

/// True when `t` starts like `YYYY-MM-DD`.
fn looks_like_date(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.frac]][Z|±HH:MM]]`.
fn date_time(t: &str, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    let unreadable = || TimeError::Unreadable { text: t.to_owned() };
    let impossible = |reason: String| TimeError::Impossible {
        text: t.to_owned(),
        reason,
    };
    let num = |s: &str| {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(unreadable());
        }
        s.parse::<i16>().map_err(|_| unreadable())
    };
    if !t.is_char_boundary(10) {
        return Err(unreadable());
    }
    let (y, mo, d) = (num(&t[0..4])?, num(&t[5..7])?, num(&t[8..10])?);
    if !(1..=12).contains(&mo) {
        return Err(impossible(format!("there is no month {mo}")));
    }
    let date = Date::new(y, 1, 1).map_err(|_| unreadable())?;
    let last = date
        .with()
        .month(mo as i8)
        .build()
        .map(|d| d.days_in_month())
        .map_err(|_| unreadable())?;
    if !(1..=i16::from(last)).contains(&d) {
        return Err(impossible(format!("{y:04}-{mo:02} has days 1 to {last}")));
    }
    let date = Date::new(y, mo as i8, d as i8).map_err(|_| unreadable())?;
    let rest = &t[10..];
    if rest.is_empty() {
        return local(date.to_datetime(Time::midnight()), tz).map_err(|_| unreadable());
    }
    let rest = rest
        .strip_prefix(' ')
        .or_else(|| rest.strip_prefix('T'))
        .ok_or_else(unreadable)?;
    // an explicit offset: the instant is fixed whatever the zone
    let (clock_text, offset) = split_offset(rest);
    let c = clock(clock_text, t)?.ok_or_else(unreadable)?;
    let dt = date.to_datetime(c);
    match offset {
        None => local(dt, tz).map_err(|_| unreadable()),
        Some(o) => {
            let off = parse_offset(o).ok_or_else(unreadable)?;
            off.to_timestamp(dt).map_err(|_| unreadable())
        }
    }
}

/// Splits a trailing `Z`, `+HH:MM`, `-HH:MM`, `+HHMM` or `+HH` off a clock
/// time.
fn split_offset(s: &str) -> (&str, Option<&str>) {
    if let Some(c) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return (c, Some("Z"));
    }
    match s.rfind(['+', '-']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    }
}

fn parse_offset(o: &str) -> Option<jiff::tz::Offset> {
    if o == "Z" {
        return Some(jiff::tz::Offset::UTC);
    }
    let (sign, rest) = match o.as_bytes().first()? {
        b'+' => (1i32, &o[1..]),
        b'-' => (-1, &o[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits
        .get(2..)
        .filter(|s| !s.is_empty())
        .map_or(Some(0), |s| s.parse().ok())?;
    if h > 23 || m > 59 {
        return None;
    }
    jiff::tz::Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// A duration: `1h`, `-1h`, `1h ago`, `2 hours 30 minutes ago`, `+1h`,
/// `in 1h`. Without a sign or `in`, it counts back from now.
fn duration(t: &str) -> Option<Span> {
    let (forward, body) = if let Some(r) = t.strip_prefix('+') {
        (true, r)
    } else if let Some(r) = t.strip_prefix("in ") {
        (true, r)
    } else {
        (false, t)
    };
    let body = body.trim();
    // `90min`, `2 days`: the friendly duration syntax; `ago` makes it negative
    let span: Span = body.parse().ok()?;
    if forward {
        (!span.is_negative()).then_some(span)
    } else if span.is_negative() {
        Some(span)
    } else {
        Some(span.negate())
    }
}

/// The instant of a syslog prefix time, read in `tz`: `Nov 29 18:00:00`
/// (the classic form, which has no year: the year is the one that puts the
/// time no later than a day after `now`, as a log is read after it is
/// written), or `2024-11-29T18:00:00[.frac][Z|±HH:MM]` (RFC 3339, local
/// when it has no offset). Seconds since the epoch, or `None` when the text
/// is neither.
pub fn prefix_timestamp(prefix: &str, now: Timestamp, tz: &TimeZone) -> Option<u64> {
    let p = prefix.trim();
    let ts = if looks_like_date(p) {
        let mut s = p.to_owned();
        // drop fractions of a second: the clock parser keeps whole seconds
        if let Some(dot) = s.find('.') {
            let end = s[dot + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(s.len(), |e| dot + 1 + e);
            s.replace_range(dot..end, "");
        }
        date_time(&s, tz).ok()?
    } else {
        let mut it = p.split_whitespace();
        let month = month_number(it.next()?)?;
        let day: i8 = it.next()?.parse().ok()?;
        let clock_text = it.next()?;
        let clock_text = clock_text.split_once('.').map_or(clock_text, |(c, _)| c);
        let c = clock(clock_text, p).ok()??;
        let year = now.to_zoned(tz.clone()).year();
        let limit = now.checked_add(jiff::SignedDuration::from_hours(24)).ok()?;
        let at = |y: i16| -> Option<Timestamp> {
            let d = Date::new(y, month, day).ok()?;
            local(d.to_datetime(c), tz).ok()
        };
        match at(year) {
            Some(ts) if ts <= limit => ts,
            // December's lines read in January, or Feb 29 of a leap year
            _ => (1..=8).find_map(|back| at(year - back).filter(|ts| *ts <= limit))?,
        }
    };
    u64::try_from(ts.as_second()).ok()
}

fn month_number(m: &str) -> Option<i8> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = m.get(..3)?.to_ascii_lowercase();
    NAMES
        .iter()
        .position(|n| *n == lower)
        .and_then(|i| i8::try_from(i + 1).ok())
}

/// Formats seconds and milliseconds since the epoch for people:
/// `2023-11-14T23:13:20.123+01:00` in `tz`, or `…Z` when `tz` is UTC.
pub fn format_time(secs: u64, msec: u32, tz: &TimeZone) -> String {
    let Ok(s) = i64::try_from(secs) else {
        return super::render::rfc3339(secs, msec);
    };
    let Ok(ts) = Timestamp::new(s, (msec.min(999) * 1_000_000) as i32) else {
        return super::render::rfc3339(secs, msec);
    };
    let z: Zoned = ts.to_zoned(tz.clone());
    if z.offset() == jiff::tz::Offset::UTC && tz.iana_name().is_none_or(is_utc_name) {
        return super::render::rfc3339(secs, msec);
    }
    z.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// [`format_time`] for many times in one zone, fast: the zone's offset is
/// looked up once per stretch of time between two of its transitions (a
/// daylight saving change, say) and the digits are written directly, so a
/// log's records in the local zone cost no more than in UTC.
///
/// Output is byte for byte [`format_time`]'s: each stretch's first time
/// goes through it, and a stretch whose text the fast path would not
/// reproduce (an offset with seconds, a year outside 1000..=9999) keeps
/// using it.
#[derive(Debug, Clone)]
pub struct ZoneFormatter {
    tz: TimeZone,
    /// Times shown in the `Z` form whatever the instant.
    utc: bool,
    /// The cached stretch: seconds `lo..hi` (epoch), all with this offset
    /// (seconds east of UTC) and this suffix after the milliseconds
    /// (`+01:00`, `Z`); `None` when [`format_time`] must be asked each time.
    stretch: Option<Stretch>,
}

#[derive(Debug, Clone)]
struct Stretch {
    lo: u64,
    hi: u64,
    offset: i64,
    suffix: Option<([u8; 8], u8)>,
}

impl ZoneFormatter {
    /// A formatter for times in `tz`.
    pub fn new(tz: &TimeZone) -> Self {
        ZoneFormatter {
            tz: tz.clone(),
            utc: is_utc(tz),
            stretch: None,
        }
    }

    /// The zone times are shown in.
    pub fn zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Appends [`format_time`]`(secs, msec, zone)` to `out`.
    pub fn push(&mut self, out: &mut Vec<u8>, secs: u64, msec: u32) {
        if self.utc {
            return super::render::push_rfc3339(out, secs, msec);
        }
        if let Some(st) = &self.stretch
            && (st.lo..st.hi).contains(&secs)
        {
            match st.suffix {
                Some((suf, n)) => {
                    push_local(out, secs, st.offset, msec);
                    out.extend_from_slice(&suf[..usize::from(n)]);
                }
                None => out.extend_from_slice(format_time(secs, msec, &self.tz).as_bytes()),
            }
            return;
        }
        let text = format_time(secs, msec, &self.tz);
        out.extend_from_slice(text.as_bytes());
        self.stretch = self.stretch_at(secs, &text);
    }

    /// The stretch of time around `secs` with `secs`'s offset, and whether
    /// the fast path reproduces `text` (`format_time`'s for `secs`).
    fn stretch_at(&self, secs: u64, text: &str) -> Option<Stretch> {
        let ts = Timestamp::from_second(i64::try_from(secs).ok()?).ok()?;
        let offset = i64::from(self.tz.to_offset(ts).seconds());
        // the stretch: from the last transition at or before `secs` (or
        // `secs` itself) to the next one after it
        let lo = self
            .tz
            .preceding(ts.checked_add(jiff::SignedDuration::from_secs(1)).ok()?)
            .next()
            .map_or(secs, |t| {
                u64::try_from(t.timestamp().as_second()).map_or(secs, |s| s.min(secs))
            });
        let hi = self
            .tz
            .following(ts)
            .next()
            .map_or(Ok(u64::MAX), |t| u64::try_from(t.timestamp().as_second()));
        let hi = hi.ok()?;
        if hi <= secs {
            return None;
        }
        // the fast path must give `text` for `secs`; then it gives
        // format_time's text for every time of the stretch (same offset,
        // same suffix, digits computed the same way)
        let mut mine = Vec::with_capacity(32);
        let suffix = (|| {
            let t = text.as_bytes();
            let (head, suf) = (t.get(..23)?, t.get(23..)?);
            if suf.len() > 8 || !suf.iter().all(|b| b.is_ascii()) {
                return None;
            }
            push_local(&mut mine, secs, offset, 0);
            // compare all but the milliseconds, which push_local writes as given
            if mine.len() != 23 || mine[..20] != head[..20] {
                return None;
            }
            let mut b = [0u8; 8];
            b[..suf.len()].copy_from_slice(suf);
            Some((b, suf.len() as u8))
        })();
        // years of four digits only, and no local time before the epoch
        let year_ok = |s: u64| {
            let l = s as i64 + offset;
            (86_400 * 365..253_402_300_799).contains(&l)
        };
        let suffix =
            suffix.filter(|_| year_ok(lo) && year_ok(hi.saturating_sub(1).min(253_402_300_000)));
        Some(Stretch {
            lo,
            hi,
            offset,
            suffix,
        })
    }
}

/// Appends `secs + offset` (a local time) as `YYYY-MM-DDTHH:MM:SS.mmm`.
fn push_local(out: &mut Vec<u8>, secs: u64, offset: i64, msec: u32) {
    let local = (secs as i64).saturating_add(offset).max(0) as u64;
    let start = out.len();
    super::render::push_rfc3339(out, local, msec);
    // drop the `Z`
    if out.len() > start {
        out.pop();
    }
}

/// Whether `tz` is UTC by name (times in it are shown in the `Z` form).
pub fn is_utc(tz: &TimeZone) -> bool {
    tz.iana_name().is_some_and(is_utc_name)
}

fn is_utc_name(n: &str) -> bool {
    matches!(
        n,
        "UTC" | "Etc/UTC" | "Etc/UCT" | "UCT" | "Zulu" | "Etc/Zulu" | "GMT" | "Etc/GMT"
    )
}

#[cfg(test)]
mod tests;
