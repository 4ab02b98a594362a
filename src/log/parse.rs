//! nom parsers for one log line: the framing (auditd, dispatcher, kernel
//! printk behind dmesg/syslog/journal/kmsg prefixes, journald's audit
//! transport, syslog programs, bare key lists) and the AppArmor key list
//! (spec/runtime-and-logs.md §3.2–3.4).
//!
//! Every function here takes bytes and never panics; malformed input gives a
//! record marked [`EventType::Invalid`] with [`Record::problem`] set, or
//! [`Parsed::NotAudit`].

use super::record::{EventType, Framing, Origin, Record, Text};
use memchr::memmem;
use nom::bytes::complete::{tag, take_while, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, space1};
use nom::combinator::{opt, recognize};
use nom::sequence::preceded;
use nom::{IResult, Parser};
use std::borrow::Cow;
use std::sync::LazyLock;

/// Prebuilt substring searchers (building one per call costs more than the search).
struct Finders {
    apparmor_eq: memmem::Finder<'static>,
    pparmor: memmem::Finder<'static>,
    upper: memmem::Finder<'static>,
    unknown: memmem::Finder<'static>,
    t1400: memmem::Finder<'static>,
    profile_eq: memmem::Finder<'static>,
    label_eq: memmem::Finder<'static>,
    type_eq: memmem::Finder<'static>,
    sp_type_eq: memmem::Finder<'static>,
    audit_paren: memmem::Finder<'static>,
    avc: memmem::Finder<'static>,
    user_avc: memmem::Finder<'static>,
    msg_quote: memmem::Finder<'static>,
    sp_comm_eq: memmem::Finder<'static>,
    name_eq: memmem::Finder<'static>,
    cwd_eq: memmem::Finder<'static>,
    proctitle_eq: memmem::Finder<'static>,
    sp_exe_eq: memmem::Finder<'static>,
}

static F: LazyLock<Finders> = LazyLock::new(|| Finders {
    apparmor_eq: memmem::Finder::new(b"apparmor="),
    pparmor: memmem::Finder::new(b"pparmor"),
    upper: memmem::Finder::new(b"PPARMOR"),
    unknown: memmem::Finder::new(b"UNKNOWN[150"),
    t1400: memmem::Finder::new(b"type=1400"),
    profile_eq: memmem::Finder::new(b"profile="),
    label_eq: memmem::Finder::new(b"label="),
    type_eq: memmem::Finder::new(b"type="),
    sp_type_eq: memmem::Finder::new(b" type="),
    audit_paren: memmem::Finder::new(b"audit("),
    avc: memmem::Finder::new(b"AVC "),
    user_avc: memmem::Finder::new(b"USER_AVC "),
    msg_quote: memmem::Finder::new(b"msg='"),
    sp_comm_eq: memmem::Finder::new(b" comm="),
    name_eq: memmem::Finder::new(b"name="),
    cwd_eq: memmem::Finder::new(b"cwd="),
    proctitle_eq: memmem::Finder::new(b"proctitle="),
    sp_exe_eq: memmem::Finder::new(b" exe="),
});

fn has_aa_keys(b: &[u8]) -> bool {
    // a kernel AVC body starts with the key: no search
    b.starts_with(b"apparmor=")
        || F.apparmor_eq.find(b).is_some()
        || F.profile_eq.find(b).is_some()
        || F.label_eq.find(b).is_some()
}

/// An audit id `audit(EPOCH.MSEC:SERIAL)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditId {
    /// Seconds since the epoch.
    pub epoch: u64,
    /// Milliseconds.
    pub msec: u32,
    /// Serial number of the audit event.
    pub serial: u64,
}

/// The framing of an audit record that is not an AppArmor record (SYSCALL,
/// PATH, CWD, PROCTITLE, USER_*, …), used to group it with the AppArmor
/// records of the same event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherRecord<'a> {
    /// The type name or number as logged (`SYSCALL`, `1300`, `CRED_ACQ`).
    pub audit_type: &'a [u8],
    /// The audit id, when the line carried one.
    pub id: Option<AuditId>,
    /// The id text `EPOCH.MSEC:SERIAL`.
    pub id_text: Option<&'a [u8]>,
    /// Everything after the `audit(…): ` header.
    pub body: &'a [u8],
}

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// An AppArmor record. It may be [`EventType::Invalid`] (with
    /// [`Record::problem`]) when the line looks like AppArmor but is broken.
    AppArmor(Box<Record>),
    /// Another audit record.
    Other(OtherRecord<'a>),
    /// Not an audit record.
    NotAudit,
}

/// Quick test used by the streaming reader before parsing: can this line
/// hold an AppArmor record? False positives are fine, false negatives are not
/// (for the framings this module parses).
pub fn may_be_apparmor(line: &[u8]) -> bool {
    may_be_apparmor_typed(line).0
}

/// [`may_be_apparmor`], and for a line starting `type=T ` the length of
/// `type=T` (where the reader's grouping goes on reading the header).
#[inline]
pub(crate) fn may_be_apparmor_typed(line: &[u8]) -> (bool, Option<usize>) {
    // auditd lines name their type up front: decide on it without a scan.
    if let Some(rest) = line.strip_prefix(b"type=") {
        let end = first_space(rest);
        let t = &rest[..end];
        let typed = (end < rest.len()).then_some(5 + end);
        let aa = match t {
            b"AVC" | b"1400" => {
                // the usual `AVC msg=audit(ID): apparmor=`: look right
                // after the header before searching the whole line
                let body = memchr::memchr(b')', rest).map_or(&b""[..], |p| &rest[p..]);
                body.starts_with(b"): apparmor=") || has_aa_keys(rest)
            }
            b"USER_AVC" | b"1107" => has_aa_keys(rest),
            // auditd names every other type (SYSCALL, PATH, USER_*, …); none
            // carries AppArmor fields, so the line is not scanned.
            _ => {
                t.starts_with(b"APPARMOR") || t.starts_with(b"UNKNOWN[150") || t.starts_with(b"150")
            }
        };
        return (aa, typed);
    }
    // (triage) old kernels' printk records `kernel: [ts] type=1503 audit(…):`
    // carry neither `apparmor=` nor `type=1400` (corpus testcase03, …).
    if memmem::find(line, b" type=150").is_some() {
        return (true, None);
    }
    let aa = F.pparmor.find(line).is_some()
        || F.upper.find(line).is_some()
        || F.unknown.find(line).is_some()
        || F.t1400.find(line).is_some();
    (aa, None)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x1d)
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r'] = s {
        s = rest;
    }
    s
}

fn find_marker(
    hay: &[u8],
    needle: &memmem::Finder<'_>,
    ok_before: impl Fn(u8) -> bool,
) -> Option<usize> {
    needle
        .find_iter(hay)
        .find(|&p| p == 0 || ok_before(hay[p - 1]))
}

/// Parses `EPOCH.MSEC:SERIAL` inside `audit(…)`.
fn audit_id(i: &[u8]) -> IResult<&[u8], AuditId> {
    let (i, e) = digit1(i)?;
    let (i, _) = char('.').parse(i)?;
    let (i, m) = digit1(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, s) = digit1(i)?;
    // a number past u64 is a malformed id, not zero
    let too_big = || nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::TooLarge));
    Ok((
        i,
        AuditId {
            epoch: dec(e).ok_or_else(too_big)?,
            msec: dec(m).ok_or_else(too_big)?.min(u32::MAX as u64) as u32,
            serial: dec(s).ok_or_else(too_big)?,
        },
    ))
}

/// `EPOCH.MSEC:SERIAL)` at the start of `i`: the id and the position of
/// the `)`, when each number is 1 to 20 digits and fits [`dec`]; else None
/// (the caller then takes the general path).
pub(crate) fn quick_audit_id(i: &[u8]) -> Option<(AuditId, usize)> {
    // the kernel's form, ten-digit epoch and three-digit msec
    // (`1700000000.487:`), checked and read as two words
    if i.len() >= 16 {
        let w0 = word_at(i, 0) ^ (LO * 0x30);
        let w1 = word_at(i, 8) ^ (LO * 0x30);
        // digits in bytes 0, 1, 3, 4, 5 of w1; `.` (0x2e ^ 0x30) in byte
        // 2 and `:` (0x3a ^ 0x30) in byte 6
        const DIGITS1: u64 = 0x0000_8080_8000_8080;
        const PUNCT: u64 = 0x000a_0000_001e_0000;
        const PUNCT_MASK: u64 = 0x00ff_0000_00ff_0000;
        if not_digits(w0) == 0 && not_digits(w1) & DIGITS1 == 0 && w1 & PUNCT_MASK == PUNCT {
            let d = |k: u32| (w1 >> (8 * k)) & 0xff;
            let epoch = eight_digits(w0) * 100 + d(0) * 10 + d(1);
            let msec = (d(3) * 100 + d(4) * 10 + d(5)) as u32;
            let (serial, c) = number_before(&i[15..], b')')?;
            return Some((
                AuditId {
                    epoch,
                    msec,
                    serial,
                },
                15 + c,
            ));
        }
    }
    let (epoch, a) = number_before(i, b'.')?;
    let (msec, b) = number_before(&i[a + 1..], b':')?;
    let (serial, c) = number_before(&i[a + b + 2..], b')')?;
    let id = AuditId {
        epoch,
        msec: msec.min(u64::from(u32::MAX)) as u32,
        serial,
    };
    Some((id, a + b + c + 2))
}

/// A number of 1 to 20 digits at the start of `i` followed by `end`: its
/// value and digit count ([`lead_digits`]).
#[inline(always)]
fn number_before(i: &[u8], end: u8) -> Option<(u64, usize)> {
    let (v, n) = lead_digits(i)?;
    (n > 0 && i.get(n) == Some(&end)).then_some((v, n))
}

/// The ASCII digits at the start of `i` as a number and their count
/// (`(0, 0)` when `i` does not start with a digit); None when there are
/// more than 20 or the number does not fit a `u64`. Eight digits at a time
/// (a word's digit bytes found and combined without a branch per byte:
/// audit ids and pids are long runs of digits).
#[inline(always)]
fn lead_digits(i: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut n = 0;
    while n + 8 <= i.len() {
        // bytes 0..=9 for digits
        let t = word_at(i, n) ^ (LO * 0x30);
        let bad = not_digits(t);
        let k = if bad == 0 { 8 } else { first_flag(bad) };
        if k > 0 {
            v = add_digits(v, n + k, eight_digits(t << (64 - 8 * k as u32)), k)?;
            n += k;
        }
        if k < 8 {
            return Some((v, n));
        }
    }
    for &b in &i[n..] {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n += 1;
        v = add_digits(v, n, u64::from(d), 1)?;
    }
    Some((v, n))
}

/// Bit 7 set in each byte of `t` (a word xor `0x30` in every byte) that
/// was not an ASCII digit: above 9, or bit 7 set.
#[inline(always)]
fn not_digits(t: u64) -> u64 {
    ((t & !HI).wrapping_add(LO * 0x76) | t) & HI
}

/// `v * 10^k + d` for the `k` digits `d` read after `v`, `total` digits in
/// all: unchecked up to 19 digits (they always fit), checked above.
#[inline(always)]
fn add_digits(v: u64, total: usize, d: u64, k: usize) -> Option<u64> {
    const POW: [u64; 9] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
    ];
    if total <= 19 {
        Some(v * POW[k] + d)
    } else if total == 20 {
        v.checked_mul(POW[k])?.checked_add(d)
    } else {
        None
    }
}

/// The number written by eight digit values (0..=9, one per byte, the
/// first digit in the lowest byte), combined by multiplication.
#[inline(always)]
fn eight_digits(t: u64) -> u64 {
    let t = t.wrapping_mul(10).wrapping_add(t >> 8);
    let a = (t & 0x0000_00ff_0000_00ff).wrapping_mul(100 + (1_000_000 << 32));
    let b = ((t >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32));
    a.wrapping_add(b) >> 32
}

fn dec(d: &[u8]) -> Option<u64> {
    match lead_digits(d)? {
        (v, n) if n == d.len() && n > 0 => Some(v),
        _ => None,
    }
}

/// The `audit(…)` header at the start of `i` (after `msg=` if any): returns
/// (id, id text, rest after `): `). A malformed id gives `Err(rest)` with the
/// body after the first `): ` when one exists.
#[allow(clippy::type_complexity)]
fn audit_header(i: &[u8]) -> Result<(Option<AuditId>, &[u8], &[u8]), Option<&[u8]>> {
    let Some(inner) = i.strip_prefix(b"audit(") else {
        return Err(None);
    };
    // the usual well-formed id, read in one pass (the general path below
    // gives the same result for it)
    if let Some((id, close)) = quick_audit_id(inner) {
        let after = &inner[close + 1..];
        let after = after.strip_prefix(b":").unwrap_or(after);
        return Ok((Some(id), &inner[..close], trim_start(after)));
    }
    let close = memchr::memchr(b')', inner);
    let Some(close) = close else { return Err(None) };
    let text = &inner[..close];
    let after = &inner[close + 1..];
    let after = after.strip_prefix(b":").unwrap_or(after);
    let after = trim_start(after);
    match audit_id(text) {
        Ok((b"", id)) => Ok((Some(id), text, after)),
        _ => Err(Some(after)),
    }
}

#[inline]
fn trim_start(mut s: &[u8]) -> &[u8] {
    // mostly one space before a word: no loop
    match s {
        [b' ', c, ..] if !is_ws(*c) => return &s[1..],
        [c, ..] if !is_ws(*c) => return s,
        _ => {}
    }
    while let [b, rest @ ..] = s {
        if is_ws(*b) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn event_from_type(t: &[u8]) -> Option<EventType> {
    Some(match t {
        b"APPARMOR_AUDIT" | b"UNKNOWN[1501]" | b"1501" => EventType::Audit,
        b"APPARMOR_ALLOWED" | b"UNKNOWN[1502]" | b"1502" => EventType::Allowed,
        b"APPARMOR_DENIED" | b"UNKNOWN[1503]" | b"1503" => EventType::Denied,
        b"APPARMOR_HINT" | b"UNKNOWN[1504]" | b"1504" => EventType::Hint,
        b"APPARMOR_STATUS" | b"UNKNOWN[1505]" | b"1505" => EventType::Status,
        b"APPARMOR_ERROR" | b"UNKNOWN[1506]" | b"1506" => EventType::Error,
        _ => return None,
    })
}

/// Parses one line (a trailing newline is ignored). Never panics.
pub fn parse_line(line: &[u8]) -> Parsed<'_> {
    parse_line_into(line, Box::default())
}

/// [`parse_line`] filling `rec`, which must be a default (empty) record: the
/// reader recycles the boxes of records already returned.
///
/// The record's [`Origin`]: [`parse_prefix`] vouches for the kernel when
/// the text before the record is one only the kernel's channels write;
/// framings the kernel never writes (a bare key list, journald's `AVC …`)
/// take that back ([`finish_bare`], the journal branch below), and a record
/// of a type other than AppArmor's kernel types came from privileged user
/// space through the audit subsystem ([`from_user_space`]).
pub(crate) fn parse_line_into(line: &[u8], mut rec: Box<Record>) -> Parsed<'_> {
    let line = trim_end(line);

    // Locate the payload: the earliest of the markers, each checked for a
    // plausible left neighbour so that values (`name="…type=…"`) do not count.
    // auditd's own lines (the common case) start with `type=` or `node=`.
    let fast = if line.starts_with(b"type=") {
        Some(0)
    } else if line.starts_with(b"node=") {
        F.sp_type_eq.find(line).map(|p| p + 1)
    } else {
        None
    };
    let m_type = fast.or_else(|| {
        find_marker(line, &F.type_eq, |b| {
            matches!(b, b' ' | b':' | b']' | b';' | b'\t')
        })
    });
    if let Some(start) = fast {
        return typed_line(line, start, rec);
    }
    let m_audit = find_marker(line, &F.audit_paren, |b| matches!(b, b' ' | b'=' | b':'));
    let m_aa = find_marker(line, &F.apparmor_eq, |b| b == b' ' || b == b'\t');
    let m_avc = find_marker(line, &F.avc, |b| b == b' ').or_else(|| {
        // journald's MESSAGE field as stored starts with the type name
        line.starts_with(b"AVC ").then_some(0)
    });
    let m_uavc = find_marker(line, &F.user_avc, |b| b == b' ');

    let earliest = [m_type, m_audit, m_aa, m_avc, m_uavc]
        .into_iter()
        .flatten()
        .min();
    let Some(start) = earliest else {
        return Parsed::NotAudit;
    };
    if Some(start) == m_type {
        return typed_line(line, start, rec);
    }
    let prefix = &line[..start];
    let payload = &line[start..];
    parse_prefix(prefix, &mut rec);
    if Some(start) == m_audit {
        rec.framing = if prefix.ends_with(b"msg=") {
            Framing::Dispatcher
        } else {
            Framing::Kernel
        };
        let body = match header_body(&mut rec, payload) {
            Some(body) => body,
            // `audit(` without its `)` before an apparmor= field
            None if m_aa.is_some() => return broken_header(rec, payload),
            None => return Parsed::NotAudit,
        };
        return typed_body(rec, b"AVC", body, payload);
    }
    if Some(start) == m_uavc || Some(start) == m_avc {
        let (t, body): (&[u8], &[u8]) = if payload.starts_with(b"USER_AVC ") {
            (b"USER_AVC", &payload[9..])
        } else {
            (b"AVC", &payload[4..])
        };
        rec.framing = Framing::JournalAudit;
        // journald's form as text: whoever wrote the line, not the journal
        rec.provenance.origin = Origin::Untrusted;
        rec.audit_type = Some(Text::from_bytes(t));
        return typed_body(rec, t, trim_start(body), body);
    }
    finish_bare(rec, payload, Framing::Bare)
}

/// The line from the `type=` marker at `start` on (auditd, printk'd kernel
/// records, `node=` and grep prefixes before it).
fn typed_line(line: &[u8], start: usize, mut rec: Box<Record>) -> Parsed<'_> {
    let prefix = &line[..start];
    let payload = &line[start..];
    parse_prefix(prefix, &mut rec);
    let rest = &payload[5..];
    let tend = rest.iter().position(|&b| is_ws(b)).unwrap_or(rest.len());
    let type_name = &rest[..tend];
    let after = trim_start(&rest[tend..]);
    // `msg=audit(` is auditd's form (also behind `node=`, a grep -H
    // `FILE:` prefix or a syslog forwarder); `audit(` alone is printk's.
    let (framing, hdr) = if let Some(a) = after.strip_prefix(b"msg=") {
        (Framing::Auditd, a)
    } else {
        (Framing::Kernel, after)
    };
    rec.framing = framing;
    Text::put(&mut rec.audit_type, type_name);
    let body = match header_body(&mut rec, hdr) {
        Some(body) => body,
        None if framing == Framing::Auditd || hdr.starts_with(b"audit(") => {
            // `msg=audit(` cut or forged (no `)`): a broken AppArmor line
            // is an invalid record, anything else is not ours.
            if find_marker(line, &F.apparmor_eq, |b| b == b' ' || b == b'\t').is_none() {
                return Parsed::NotAudit;
            }
            return broken_header(rec, payload);
        }
        None => {
            // `type=N` without an audit header: not something we know.
            return match find_marker(line, &F.apparmor_eq, |b| b == b' ' || b == b'\t') {
                Some(p) => finish_bare(rec, &line[p..], Framing::Bare),
                None => Parsed::NotAudit,
            };
        }
    };
    typed_body(rec, type_name, body, hdr)
}

/// The body after the `audit(…)` header at the start of `hdr`, the id set
/// in `rec` (or a malformed id noted as its problem); None without a header.
fn header_body<'a>(rec: &mut Record, hdr: &'a [u8]) -> Option<&'a [u8]> {
    match audit_header(hdr) {
        Ok((id, text, body)) => {
            set_id(rec, id, text);
            Some(body)
        }
        Err(Some(body)) => {
            rec.problem = Some("malformed audit id".into());
            Some(body)
        }
        Err(None) => None,
    }
}

/// An AppArmor line whose `audit(` header is cut or forged: an invalid
/// record carrying the payload as `info`.
fn broken_header(mut rec: Box<Record>, payload: &[u8]) -> Parsed<'static> {
    rec.event = EventType::Invalid;
    rec.problem = Some("malformed audit header".into());
    rec.info = Some(Text::from_bytes(payload));
    Parsed::AppArmor(rec)
}

fn set_id(rec: &mut Record, id: Option<AuditId>, text: &[u8]) {
    if let Some(id) = id {
        Text::put(&mut rec.audit_id, text);
        rec.epoch = Some(id.epoch);
        rec.epoch_msec = Some(id.msec);
        rec.audit_sub_id = Some(id.serial);
    }
}

fn finish_bare(mut rec: Box<Record>, body: &[u8], framing: Framing) -> Parsed<'_> {
    rec.framing = framing;
    // a key list without an audit header: the kernel never writes one
    rec.provenance.origin = Origin::Untrusted;
    let c = kv_list(body, &mut rec, false);
    finish_event(&mut rec, true);
    check_fields(&mut rec, c);
    Parsed::AppArmor(rec)
}

/// Handles the body after the audit header according to the type name.
fn typed_body<'a>(mut rec: Box<Record>, t: &'a [u8], body: &'a [u8], _hdr: &'a [u8]) -> Parsed<'a> {
    match t {
        b"AVC" | b"1400" => {
            if !has_aa_keys(body) {
                return other(rec, t, body);
            }
            let c = kv_list(body, &mut rec, false);
            finish_event(&mut rec, true);
            check_fields(&mut rec, c);
        }
        b"USER_AVC" | b"1107" => {
            if F.apparmor_eq.find(body).is_none() {
                return other(rec, t, body);
            }
            from_user_space(&mut rec);
            let c = user_avc(body, &mut rec);
            finish_event(&mut rec, true);
            check_fields(&mut rec, c);
        }
        b"APPARMOR" | b"UNKNOWN[1500]" | b"1500" => {
            rec.framing = Framing::Legacy;
            if t == b"APPARMOR" {
                rec.operation = Some(Text::from("APPARMOR"));
            }
            rec.info = Some(Text::from_bytes(body));
            rec.problem = Some("pre-2.6 free-text AppArmor record".into());
        }
        _ => {
            if let Some(ev) = event_from_type(t) {
                rec.event = ev;
                let c = kv_list(body, &mut rec, false);
                finish_event(&mut rec, false);
                check_fields(&mut rec, c);
            } else if F.apparmor_eq.find(body).is_some() {
                // not a type the kernel's AppArmor module writes
                from_user_space(&mut rec);
                let c = kv_list(body, &mut rec, false);
                finish_event(&mut rec, true);
                check_fields(&mut rec, c);
            } else {
                return other(rec, t, body);
            }
        }
    }
    Parsed::AppArmor(rec)
}

/// True for the audit record types the kernel's AppArmor module writes:
/// `AVC` (1400), the old `APPARMOR_*` (1500–1506, also `UNKNOWN[150N]`) and
/// the pre-2.6 `APPARMOR`. The others that carry AppArmor fields are
/// user-space messages (`USER_AVC`, 1107) that the audit subsystem took
/// from a process allowed to send them.
pub(crate) fn kernel_apparmor_type(t: &[u8]) -> bool {
    matches!(
        t,
        b"AVC" | b"1400" | b"APPARMOR" | b"UNKNOWN[1500]" | b"1500"
    ) || event_from_type(t).is_some()
}

/// A record of a type only user space sends ([`kernel_apparmor_type`]):
/// a channel that vouched for the kernel vouches for a trusted helper.
fn from_user_space(rec: &mut Record) {
    let o = &mut rec.provenance.origin;
    if *o == Origin::Kernel {
        *o = Origin::TrustedHelper;
    }
}

fn other<'a>(rec: Box<Record>, t: &'a [u8], body: &'a [u8]) -> Parsed<'a> {
    let id = match (rec.epoch, rec.epoch_msec, rec.audit_sub_id) {
        (Some(epoch), Some(msec), Some(serial)) => Some(AuditId {
            epoch,
            msec,
            serial,
        }),
        _ => None,
    };
    Parsed::Other(OtherRecord {
        audit_type: t,
        id,
        id_text: None,
        body,
    })
}

/// Sets the event when `apparmor=` was absent (kernel `audit_header=0`) and
/// normalises what libapparmor normalises.
fn finish_event(rec: &mut Record, from_key: bool) {
    if rec.event != EventType::Invalid || !from_key {
        return;
    }
    if rec.problem.is_some() {
        return;
    }
    // No apparmor= key: infer, and say so.
    let status_op = rec.operation.as_ref().is_some_and(|o| {
        matches!(
            o.as_bytes(),
            b"profile_load" | b"profile_replace" | b"profile_remove"
        )
    });
    rec.event = if status_op {
        EventType::Status
    } else if rec.denied_mask.is_some() {
        EventType::Denied
    } else {
        EventType::Audit
    };
    rec.problem = Some("no apparmor= field; event kind inferred".into());
}

/// USER_AVC body: header fields, then `msg='KEYS'`, then enrichment.
fn user_avc(body: &[u8], rec: &mut Record) -> KvCheck {
    let mut i = body;
    loop {
        i = trim_start(i);
        if i.is_empty() {
            // no msg='…': nothing but the header
            return KvCheck::default();
        }
        if let Some(inner) = i.strip_prefix(b"msg='") {
            // the closing `'` may be missing (printk'd USER_AVC cut by the
            // kernel, corpus testcase_dbus_10): the pairs decide
            let (keys, trailer) = match memchr::memrchr(b'\'', inner) {
                Some(p) => (&inner[..p], &inner[p + 1..]),
                None => (inner, &b""[..]),
            };
            let mut c = kv_list(keys, rec, false);
            // the enrichment trailer's fields are not the record's own
            let t = kv_list(trailer, rec, true);
            c.unterminated |= t.unterminated;
            return c;
        }
        match kv(i) {
            Some((k, v, rest)) => {
                push_pair(&mut rec.header, k, v.plain());
                i = rest;
            }
            None => {
                // Not key=value: skip the word.
                let end = i.iter().position(|&b| is_ws(b)).unwrap_or(i.len());
                i = &i[end..];
            }
        }
    }
}

/// A raw value.
#[cfg_attr(test, derive(Debug, PartialEq))]
enum Val<'a> {
    Quoted(Cow<'a, [u8]>),
    Bare(&'a [u8]),
}

impl Val<'_> {
    /// The value without quotes, not hex-decoded.
    fn plain(&self) -> &[u8] {
        match self {
            Val::Quoted(v) => v,
            Val::Bare(b) => b,
        }
    }
}

/// Appends `(k, v)` (value not hex-decoded) to a list of fields, writing
/// the texts in place.
fn push_pair(list: &mut Vec<(Text, Text)>, k: &[u8], v: &[u8]) {
    list.push((Text::default(), Text::default()));
    if let Some((a, b)) = list.last_mut() {
        a.set(k);
        b.set(v);
    }
}

/// Byte classes for the key/value scan (a table lookup per byte on the
/// hot path): bit 0 a key byte (`[A-Za-z0-9_.-]`), bit 1 ends a bare value
/// (space, tab, auditd's 0x1d).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' {
            t[b] |= 1;
        }
        if c == b' ' || c == b'\t' || c == 0x1d {
            t[b] |= 2;
        }
        b += 1;
    }
    t
};

/// Length of the run of key bytes at the start of `i`, eight bytes at a
/// time: the table bits of a word's bytes gathered into a mask without a
/// branch per byte (a byte loop mispredicts its exit once per key).
fn key_len(i: &[u8]) -> usize {
    let mut j = 0;
    while j + 8 <= i.len() {
        let w = word_at(i, j);
        let m = !key_mask(w) & HI;
        if m != 0 {
            return j + first_flag(m);
        }
        j += 8;
    }
    j + i[j..]
        .iter()
        .position(|&b| CLASS[b as usize] & 1 == 0)
        .unwrap_or(i.len() - j)
}

/// One `key=value` at the start of `i`: quoted (`"…"`, backslash escapes the
/// next byte), or bare up to whitespace. Returns None when `i` does not
/// start with `key=`.
fn kv(i: &[u8]) -> Option<(&[u8], Val<'_>, &[u8])> {
    kv_full(i).map(|(k, v, rest, _)| (k, v, rest))
}

/// [`kv`] that also says whether a quoted value had its closing quote
/// (`false` for an unterminated `key="…` running to the end of the line).
// inlined into kv_list: returning the ~70-byte result through memory
// costs more than the code size
#[inline(always)]
#[allow(clippy::type_complexity)]
fn kv_full(i: &[u8]) -> Option<(&[u8], Val<'_>, &[u8], bool)> {
    let n = key_len(i);
    if n == 0 || i.get(n) != Some(&b'=') {
        return None;
    }
    let (v, rest, terminated) = value(&i[n + 1..]);
    Some((&i[..n], v, rest, terminated))
}

/// [`kv_full`] with the key's [`Key`]: a model key is looked up at the
/// first `=` directly (its bytes are all key bytes, so it is the key
/// [`kv_full`] would find), which saves classifying the key's bytes; other
/// words take the general path.
#[inline(always)]
#[allow(clippy::type_complexity)]
fn kv_keyed(i: &[u8]) -> Option<(&[u8], Option<Key>, Val<'_>, &[u8], bool)> {
    if let Some(p) = eq_within_16(i) {
        if let Some(key) = key_id(&i[..p]) {
            let (v, rest, terminated) = value(&i[p + 1..]);
            return Some((&i[..p], Some(key), v, rest, terminated));
        }
    }
    let (k, v, rest, terminated) = kv_full(i)?;
    Some((k, key_id(k), v, rest, terminated))
}

/// Position of the first `=` among the first 16 bytes of `i` (model keys
/// are at most 14 bytes long).
#[inline(always)]
fn eq_within_16(i: &[u8]) -> Option<usize> {
    if i.len() >= 16 {
        let m = eq_mask(word_at(i, 0), b'=');
        if m != 0 {
            return Some(first_flag(m));
        }
        let m = eq_mask(word_at(i, 8), b'=');
        (m != 0).then(|| 8 + first_flag(m))
    } else {
        i.iter().position(|&b| b == b'=')
    }
}

/// The value at the start of `rest` (just after `key=`): quoted (`"…"`,
/// backslash escapes the next byte) or bare up to whitespace; with the
/// text after it and whether a quoted value had its closing quote
/// (`false` for an unterminated `"…` running to the end of the line).
#[inline(always)]
fn value(rest: &[u8]) -> (Val<'_>, &[u8], bool) {
    if let Some(q) = rest.strip_prefix(b"\"") {
        // fast path: no backslash before the closing quote
        let close = find_quote_or_backslash(q);
        match close {
            Some(p) if q[p] == b'"' => {
                return (Val::Quoted(Cow::Borrowed(&q[..p])), &q[p + 1..], true);
            }
            _ => {
                let mut out = Vec::with_capacity(q.len());
                let mut j = 0;
                while j < q.len() {
                    match q[j] {
                        b'\\' if j + 1 < q.len() => {
                            out.push(q[j + 1]);
                            j += 2;
                        }
                        b'"' => {
                            return (Val::Quoted(Cow::Owned(out)), &q[j + 1..], true);
                        }
                        b => {
                            out.push(b);
                            j += 1;
                        }
                    }
                }
                // unterminated: take the rest
                return (Val::Quoted(Cow::Owned(out)), &q[q.len()..], false);
            }
        }
    }
    // Lines are split at \n and a trailing \r is trimmed, so a bare value
    // ends at a space, a tab or auditd's 0x1d (a CR/LF inside a journal
    // MESSAGE stays part of the value).
    let end = bare_end(rest);
    (Val::Bare(&rest[..end]), &rest[end..], true)
}

// Word-at-a-time (SWAR) byte search: values are mostly shorter than 32
// bytes, where a `memchr` call (dispatch, vector setup) costs more than the
// search and a byte loop mispredicts its exit once per value.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The 8 bytes of `b` at `j` as a little-endian word (`j + 8 <= b.len()`).
#[inline]
fn word_at(b: &[u8], j: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[j..j + 8]);
    u64::from_le_bytes(a)
}

/// High bit set in each byte of `w` equal to `c`. Bytes above the first
/// match may be flagged falsely (a borrow), the lowest flag is exact; so
/// the lowest flag of an OR of such masks is the first byte matching any.
#[inline]
fn eq_mask(w: u64, c: u8) -> u64 {
    let x = w ^ (LO * u64::from(c));
    x.wrapping_sub(LO) & !x & HI
}

/// High bit set in each byte of `w` that is a key byte `[A-Za-z0-9_.-]`
/// (exact for every byte: the per-byte sums never carry).
#[inline]
fn key_mask(w: u64) -> u64 {
    let y = w & !HI;
    // bit 7 of each byte: (byte & 0x7f) > c
    let gt = |y: u64, c: u8| y + LO * u64::from(0x7f - c);
    let within = |y: u64, a: u8, b: u8| gt(y, a - 1) & !gt(y, b);
    let letters = within(y | (LO * 0x20), b'a', b'z');
    let digits = within(y, b'0', b'9');
    let dash_dot = within(y, b'-', b'.');
    let underscore = within(y, b'_', b'_');
    (letters | digits | dash_dot | underscore) & !w & HI
}

/// Byte index of the lowest flag of a non-zero mask.
#[inline]
fn first_flag(m: u64) -> usize {
    (m.trailing_zeros() / 8) as usize
}

/// Position of the first space in `b`, or its length: type names are
/// short, so two words are tried before a `memchr` call.
#[inline]
fn first_space(b: &[u8]) -> usize {
    let mut j = 0;
    while j + 8 <= b.len() && j < 16 {
        let m = eq_mask(word_at(b, j), b' ');
        if m != 0 {
            return j + first_flag(m);
        }
        j += 8;
    }
    j + memchr::memchr(b' ', &b[j..]).unwrap_or(b.len() - j)
}

/// Position of the first `"` or `\` in `q`.
#[inline]
fn find_quote_or_backslash(q: &[u8]) -> Option<usize> {
    let mut j = 0;
    while j + 8 <= q.len() {
        if j == 64 {
            // a long value: the vector search pays off
            return memchr::memchr2(b'"', b'\\', &q[j..]).map(|p| p + j);
        }
        let w = word_at(q, j);
        let m = eq_mask(w, b'"') | eq_mask(w, b'\\');
        if m != 0 {
            return Some(j + first_flag(m));
        }
        j += 8;
    }
    q[j..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|p| p + j)
}

/// Length of the bare value at the start of `r`: up to a space, a tab or
/// 0x1d (the bytes with class bit 1), or the end.
#[inline]
fn bare_end(r: &[u8]) -> usize {
    let mut j = 0;
    while j + 8 <= r.len() {
        let w = word_at(r, j);
        let m = eq_mask(w, b' ') | eq_mask(w, b'\t') | eq_mask(w, 0x1d);
        if m != 0 {
            return j + first_flag(m);
        }
        j += 8;
    }
    j + r[j..]
        .iter()
        .position(|&b| CLASS[b as usize] & 2 != 0)
        .unwrap_or(r.len() - j)
}

fn is_upper_hex(b: &[u8]) -> bool {
    !b.is_empty()
        && b.len() % 2 == 0
        && b.iter()
            .all(|&c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
}

fn hex_decode(b: &[u8]) -> Vec<u8> {
    b.chunks_exact(2)
        .map(|p| (HEX[usize::from(p[0])] << 4) | HEX[usize::from(p[1])])
        .collect()
}

/// A string value: quoted as is; bare decoded from hex when it is hex
/// (the kernel's encoding for untrusted strings), else kept literally.
fn string_val(v: Val<'_>) -> Text {
    match v {
        Val::Quoted(Cow::Borrowed(q)) => Text::from_bytes(q),
        Val::Quoted(Cow::Owned(q)) => Text::from_vec(q),
        Val::Bare(b) if is_upper_hex(b) => Text::from_vec(hex_decode(b)),
        Val::Bare(b) => Text::from_bytes(b),
    }
}

/// [`string_val`] stored into `slot` in place.
#[inline]
fn put_string(slot: &mut Option<Text>, v: Val<'_>) {
    match v {
        Val::Quoted(Cow::Borrowed(q)) => Text::put(slot, q),
        Val::Quoted(Cow::Owned(q)) => *slot = Some(Text::from_vec(q)),
        Val::Bare(b) if is_upper_hex(b) => *slot = Some(Text::from_vec(hex_decode(b))),
        Val::Bare(b) => Text::put(slot, b),
    }
}

fn is_enrichment_key(k: &[u8]) -> bool {
    k.len() >= 2
        && k.iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && k[0].is_ascii_uppercase()
}

/// What [`kv_list`] saw that decides whether the text is a record at all.
#[derive(Default, Clone, Copy)]
struct KvCheck {
    /// `key=value` pairs other than `apparmor=` with a value (a bare `key=`
    /// at the end of a cut line does not count).
    fields: u32,
    /// A quoted value without its closing quote.
    unterminated: bool,
}

/// Marks `rec` invalid when its fields do not make a record: a quoted value
/// without its closing quote (a cut or forged line), or no `key=value` pair
/// besides `apparmor=` (free text that merely mentions `apparmor="…"`).
fn check_fields(rec: &mut Record, c: KvCheck) {
    let problem = if c.unterminated {
        "unterminated quoted value"
    } else if c.fields == 0 {
        "no key=value field besides apparmor="
    } else {
        return;
    };
    rec.event = EventType::Invalid;
    rec.problem = Some(problem.into());
}

/// Parses a list of AppArmor `key=value` pairs into `rec`. `enriched`
/// starts in auditd-enrichment mode (after the USER_AVC quote).
fn kv_list(body: &[u8], rec: &mut Record, enriched: bool) -> KvCheck {
    let mut i = body;
    let mut enriched = enriched;
    let mut check = KvCheck::default();
    loop {
        // whitespace; 0x1d switches to the enrichment fields. Mostly one
        // space before the next key: taken without the loop.
        match i {
            [b' ', c, ..] if !is_ws(*c) => i = &i[1..],
            _ => {
                while let [b, rest @ ..] = i {
                    if *b == 0x1d {
                        enriched = true;
                    }
                    if is_ws(*b) {
                        i = rest;
                    } else {
                        break;
                    }
                }
            }
        }
        if i.is_empty() {
            return check;
        }
        let Some((k, key, v, rest, terminated)) = kv_keyed(i) else {
            // a word that is not key=value: keep it and go on
            let end = i.iter().position(|&b| is_ws(b)).unwrap_or(i.len());
            rec.extra
                .push((Text::default(), Text::from_bytes(&i[..end])));
            if rec.problem.is_none() {
                rec.problem = Some("text that is not key=value".into());
            }
            i = &i[end..];
            continue;
        };
        i = rest;
        if !terminated {
            check.unterminated = true;
        }
        if key != Some(Key::Apparmor) && !matches!(&v, Val::Bare(b) if b.is_empty()) {
            check.fields += 1;
        }
        // (model keys are lowercase: never enrichment keys)
        if enriched || (key.is_none() && is_enrichment_key(k)) {
            push_pair(&mut rec.enrichment, k, v.plain());
            continue;
        }
        // auditd ENRICHED output with the 0x1d lost in copy-paste:
        // `ouid=0FSUID="root"`: split off the uppercase key (pitfalls B-01).
        let (v, damaged) = match v {
            Val::Bare(b) => split_damaged(b),
            v => (v, None),
        };
        assign(rec, key, k, v);
        if let Some(tail) = damaged {
            // re-parse the tail (it starts with an uppercase key)
            let (k2, v2, rest2) = match kv_tail(tail, i) {
                Some(x) => x,
                None => continue,
            };
            push_pair(&mut rec.enrichment, k2, v2.plain());
            i = rest2;
        }
    }
}

/// Splits a bare value like `0FSUID=` into `0` and the tail `FSUID=`.
fn split_damaged(b: &[u8]) -> (Val<'_>, Option<&[u8]>) {
    // bare values are mostly short numbers: no memchr call for them
    let eq = if b.len() <= 16 {
        b.iter().position(|&c| c == b'=')
    } else {
        memchr::memchr(b'=', b)
    };
    let Some(eq) = eq else {
        return (Val::Bare(b), None);
    };
    let head = &b[..eq];
    let ustart = head
        .iter()
        .rposition(|c| !(c.is_ascii_uppercase() || *c == b'_'))
        .map(|p| p + 1)
        .unwrap_or(0);
    if ustart > 0 && eq - ustart >= 2 && head[..ustart].iter().all(u8::is_ascii_digit) {
        (Val::Bare(&b[..ustart]), Some(&b[ustart..]))
    } else {
        (Val::Bare(b), None)
    }
}

/// Re-parses a damaged enrichment tail: `tail` is a prefix of the bare token
/// ending where `after` begins; a quoted value may run past the token.
#[allow(clippy::type_complexity)]
fn kv_tail<'a>(tail: &'a [u8], after: &'a [u8]) -> Option<(&'a [u8], Val<'a>, &'a [u8])> {
    // tail = `FSUID="ro` (bare token cut at whitespace) – find it in the
    // original by re-parsing from the tail start over the joined slice.
    let eq = memchr::memchr(b'=', tail)?;
    let k = &tail[..eq];
    let v = &tail[eq + 1..];
    if let Some(q) = v.strip_prefix(b"\"") {
        if let Some(p) = memchr::memchr(b'"', q) {
            return Some((k, Val::Quoted(Cow::Borrowed(&q[..p])), after));
        }
        // the quoted value contains whitespace: continue into `after`
        let p = memchr::memchr(b'"', after)?;
        let mut val = q.to_vec();
        val.extend_from_slice(&after[..p]);
        return Some((k, Val::Quoted(Cow::Owned(val)), &after[p + 1..]));
    }
    Some((k, Val::Bare(v), after))
}

fn num(v: &Val<'_>) -> Option<u64> {
    match v {
        Val::Bare(b) => dec(b),
        Val::Quoted(q) => dec(q),
    }
}

fn protocol_name(n: u64) -> String {
    let name = match n {
        0 => "ip",
        1 => "icmp",
        2 => "igmp",
        4 => "ipip",
        6 => "tcp",
        8 => "egp",
        12 => "pup",
        17 => "udp",
        22 => "idp",
        29 => "tp",
        33 => "dccp",
        41 => "ipv6",
        46 => "rsvp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        92 => "mtp",
        94 => "beetph",
        98 => "encap",
        103 => "pim",
        108 => "comp",
        115 => "l2tp",
        132 => "sctp",
        136 => "udplite",
        137 => "mpls",
        143 => "ethernet",
        255 => "raw",
        262 => "mptcp",
        _ => return format!("unknown({n})"),
    };
    name.to_owned()
}

/// The keys the record model names (spec/runtime-and-logs.md §3.4), each
/// with the field it fills; synonyms share a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Apparmor,
    Type,
    Operation,
    Class,
    Requested,
    Denied,
    Fsuid,
    Ouid,
    Profile,
    PeerProfile,
    Peer,
    Name,
    Comm,
    Name2,
    Namespace,
    Attribute,
    Task,
    Parent,
    MagicToken,
    Info,
    PeerInfo,
    Error,
    Pid,
    PeerPid,
    Addr,
    PeerAddr,
    Family,
    SockType,
    Protocol,
    LocalAddr,
    ForeignAddr,
    LocalPort,
    ForeignPort,
    Bus,
    Path,
    Interface,
    Member,
    Signal,
    FsType,
    Flags,
    SrcName,
    ExecPath,
}

const KEYS: [(&[u8], Key); 56] = [
    (b"apparmor", Key::Apparmor),
    (b"type", Key::Type),
    (b"operation", Key::Operation),
    (b"class", Key::Class),
    (b"requested_mask", Key::Requested),
    (b"requested", Key::Requested),
    (b"denied_mask", Key::Denied),
    (b"denied", Key::Denied),
    (b"mask", Key::Denied),
    (b"fsuid", Key::Fsuid),
    (b"ouid", Key::Ouid),
    (b"profile", Key::Profile),
    (b"label", Key::Profile),
    (b"peer_profile", Key::PeerProfile),
    (b"peer_label", Key::PeerProfile),
    (b"tcontext", Key::PeerProfile),
    (b"peer", Key::Peer),
    (b"name", Key::Name),
    (b"capname", Key::Name),
    (b"comm", Key::Comm),
    (b"exe", Key::Comm),
    (b"name2", Key::Name2),
    (b"target", Key::Name2),
    (b"namespace", Key::Namespace),
    (b"attribute", Key::Attribute),
    (b"task", Key::Task),
    (b"parent", Key::Parent),
    (b"magic_token", Key::MagicToken),
    (b"info", Key::Info),
    (b"peer_info", Key::PeerInfo),
    (b"error", Key::Error),
    (b"pid", Key::Pid),
    (b"peer_pid", Key::PeerPid),
    (b"addr", Key::Addr),
    (b"peer_addr", Key::PeerAddr),
    (b"family", Key::Family),
    (b"sock_type", Key::SockType),
    (b"protocol", Key::Protocol),
    (b"laddr", Key::LocalAddr),
    (b"saddr", Key::LocalAddr),
    (b"faddr", Key::ForeignAddr),
    (b"daddr", Key::ForeignAddr),
    (b"lport", Key::LocalPort),
    (b"src", Key::LocalPort),
    (b"fport", Key::ForeignPort),
    (b"dest", Key::ForeignPort),
    (b"bus", Key::Bus),
    (b"path", Key::Path),
    (b"interface", Key::Interface),
    (b"member", Key::Member),
    (b"method", Key::Member),
    (b"signal", Key::Signal),
    (b"fstype", Key::FsType),
    (b"flags", Key::Flags),
    (b"srcname", Key::SrcName),
    (b"execpath", Key::ExecPath),
];

/// A key of at most 16 bytes as two little-endian words, zero-padded (key
/// bytes are never NUL, so the words identify the key).
const fn key_words(k: &[u8]) -> (u64, u64) {
    let mut w = [0u64; 2];
    let mut j = 0;
    while j < k.len() {
        w[j / 8] |= (k[j] as u64) << (8 * (j % 8));
        j += 1;
    }
    (w[0], w[1])
}

const KEY_SLOTS: usize = 128;

const fn key_hash(w0: u64, w1: u64) -> usize {
    ((w0 ^ w1.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 57) as usize
}

/// Open-addressing table of [`KEYS`] (linear probing, `w0 == 0` empty):
/// one hash and usually one comparison per key instead of a chain of
/// byte-string comparisons.
static KEY_TABLE: [(u64, u64, Key); KEY_SLOTS] = {
    let mut t = [(0u64, 0u64, Key::Apparmor); KEY_SLOTS];
    let mut i = 0;
    while i < KEYS.len() {
        let (w0, w1) = key_words(KEYS[i].0);
        let mut h = key_hash(w0, w1);
        while t[h].0 != 0 {
            h = (h + 1) % KEY_SLOTS;
        }
        t[h] = (w0, w1, KEYS[i].1);
        i += 1;
    }
    t
};

/// `k` (a key: `[A-Za-z0-9_.-]+`, never NUL) as two words, like [`key_words`].
#[inline]
fn load_key_words(k: &[u8]) -> (u64, u64) {
    let n = k.len();
    let le8 = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    let le4 = |b: &[u8]| u64::from(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
    if n >= 8 {
        // n <= 16: the second word's bytes k[8..n], from the last 8 bytes
        let hi = le8(&k[n - 8..])
            .checked_shr(8 * (16 - n) as u32)
            .unwrap_or(0);
        (le8(&k[..8]), hi)
    } else if n >= 4 {
        (le4(&k[..4]) | le4(&k[n - 4..]) << (8 * (n - 4)), 0)
    } else if n > 0 {
        let b = |j: usize| u64::from(k[j]) << (8 * j);
        (b(0) | b(n / 2) | b(n - 1), 0)
    } else {
        (0, 0)
    }
}

/// The model key `k` names, if any.
#[inline]
fn key_id(k: &[u8]) -> Option<Key> {
    // (the words are zero-padded: a trailing NUL would match the key
    // without it, and no key holds one)
    if k.is_empty() || k.len() > 16 || k[k.len() - 1] == 0 {
        return None;
    }
    let (w0, w1) = load_key_words(k);
    let mut h = key_hash(w0, w1);
    loop {
        let e = &KEY_TABLE[h];
        if e.0 == w0 && e.1 == w1 {
            return Some(e.2);
        }
        if e.0 == 0 {
            return None;
        }
        h = (h + 1) % KEY_SLOTS;
    }
}

fn assign(rec: &mut Record, key: Option<Key>, k: &[u8], v: Val<'_>) {
    macro_rules! s {
        ($f:ident) => {
            put_string(&mut rec.$f, v)
        };
    }
    macro_rules! n {
        ($f:ident) => {
            match num(&v) {
                Some(x) => rec.$f = Some(x),
                None => keep_extra(rec, k, v),
            }
        };
    }
    match key {
        Some(Key::Apparmor) => {
            // the kind decoded like a string value, without building a Text
            let decoded;
            let t: &[u8] = match &v {
                Val::Quoted(q) => q,
                Val::Bare(b) if is_upper_hex(b) => {
                    decoded = hex_decode(b);
                    &decoded
                }
                Val::Bare(b) => b,
            };
            match EventType::from_kernel_name(t) {
                Some(e) => rec.event = e,
                None => {
                    rec.event = EventType::Invalid;
                    rec.problem = Some(format!("unknown apparmor= kind {}", Text::from_bytes(t)));
                }
            }
        }
        Some(Key::Type) => {
            if let Some(e) = event_from_type(match &v {
                Val::Bare(b) => b,
                Val::Quoted(q) => q,
            }) {
                rec.event = e;
            } else {
                keep_extra(rec, k, v)
            }
        }
        Some(Key::Operation) => s!(operation),
        Some(Key::Class) => s!(class),
        Some(Key::Requested) => s!(requested_mask),
        Some(Key::Denied) => s!(denied_mask),
        Some(Key::Fsuid) => n!(fsuid),
        Some(Key::Ouid) => n!(ouid),
        Some(Key::Profile) => s!(profile),
        Some(Key::PeerProfile) => s!(peer_profile),
        Some(Key::Peer) => s!(peer),
        Some(Key::Name) => s!(name),
        Some(Key::Comm) => s!(comm),
        Some(Key::Name2) => s!(name2),
        Some(Key::Namespace) => s!(namespace),
        Some(Key::Attribute) => s!(attribute),
        Some(Key::Task) => n!(task),
        Some(Key::Parent) => n!(parent),
        Some(Key::MagicToken) => n!(magic_token),
        Some(Key::Info) => s!(info),
        Some(Key::PeerInfo) => s!(peer_info),
        Some(Key::Error) => {
            let b: &[u8] = match &v {
                Val::Bare(b) => b,
                Val::Quoted(q) => q,
            };
            match dec(b.strip_prefix(b"-").unwrap_or(b)) {
                Some(x) => rec.error_code = Some(x),
                None => keep_extra(rec, k, v),
            }
        }
        Some(Key::Pid) => n!(pid),
        Some(Key::PeerPid) => n!(peer_pid),
        Some(Key::Addr) => match &v {
            Val::Bare(b"?" | b"none") => keep_extra(rec, k, v),
            _ => s!(net_addr),
        },
        Some(Key::PeerAddr) => match &v {
            Val::Bare(b"none") => keep_extra(rec, k, v),
            _ => s!(peer_addr),
        },
        Some(Key::Family) => s!(net_family),
        Some(Key::SockType) => s!(net_sock_type),
        Some(Key::Protocol) => match (&v, num(&v)) {
            (Val::Bare(_), Some(n)) => rec.net_protocol = Some(Text::from(&*protocol_name(n))),
            _ => s!(net_protocol),
        },
        Some(Key::LocalAddr) => Text::put(&mut rec.net_local_addr, v.plain()),
        Some(Key::ForeignAddr) => Text::put(&mut rec.net_foreign_addr, v.plain()),
        Some(Key::LocalPort) => n!(net_local_port),
        Some(Key::ForeignPort) => n!(net_foreign_port),
        Some(Key::Bus) => s!(dbus_bus),
        Some(Key::Path) => s!(dbus_path),
        Some(Key::Interface) => s!(dbus_interface),
        Some(Key::Member) => s!(dbus_member),
        Some(Key::Signal) => Text::put(&mut rec.signal, v.plain()),
        Some(Key::FsType) => s!(fs_type),
        Some(Key::Flags) => s!(flags),
        Some(Key::SrcName) => s!(src_name),
        Some(Key::ExecPath) => s!(execpath),
        None => keep_extra(rec, k, v),
    }
}

fn keep_extra(rec: &mut Record, k: &[u8], v: Val<'_>) {
    push_pair(&mut rec.extra, k, v.plain());
}

// ---------------------------------------------------------------- prefixes

fn month(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while_m_n(3, 9, |b: u8| b.is_ascii_alphabetic()).parse(i)
}

fn clock(i: &[u8]) -> IResult<&[u8], &[u8]> {
    recognize((
        digit1,
        char(':'),
        digit1,
        char(':'),
        digit1,
        opt(preceded(char('.'), digit1)),
    ))
    .parse(i)
}

fn zone(i: &[u8]) -> IResult<&[u8], &[u8]> {
    use nom::branch::alt;
    alt((
        tag("Z"),
        recognize((
            alt((char('+'), char('-'))),
            take_while_m_n(2, 2, |b: u8| b.is_ascii_digit()),
            opt(char(':')),
            take_while_m_n(2, 2, |b: u8| b.is_ascii_digit()),
        )),
    ))
    .parse(i)
}

/// `Nov 29 18:00:00[.frac][zone]` (classic syslog; some daemons add the zone).
fn classic_date(i: &[u8]) -> IResult<&[u8], &[u8]> {
    recognize((month, space1, digit1, space1, clock, opt(zone))).parse(i)
}

/// `2024-11-29[T ]18:00:00[.frac][zone]`.
fn iso_date(i: &[u8]) -> IResult<&[u8], &[u8]> {
    use nom::branch::alt;
    recognize((
        take_while_m_n(4, 4, |b: u8| b.is_ascii_digit()),
        char('-'),
        digit1,
        char('-'),
        digit1,
        alt((char('T'), char(' '))),
        clock,
        opt(zone),
    ))
    .parse(i)
}

/// `[ 1234.567890]` or `[Fri Nov 29 18:00:00 2024]` (dmesg / dmesg -T).
fn bracket_time(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, _) = char('[').parse(i)?;
    let (i, t) = take_while(|b: u8| b != b']' && b != b'\n').parse(i)?;
    let (i, _) = char(']').parse(i)?;
    Ok((i, t))
}

/// `PRI,SEQ,USEC,FLAGS;` of /dev/kmsg: the priority and the microseconds.
fn kmsg_prefix(i: &[u8]) -> IResult<&[u8], (&[u8], &[u8])> {
    let (i, (pri, _, _, _)) = (digit1, char(','), digit1, char(',')).parse(i)?;
    let (i, us) = digit1(i)?;
    let (i, _) = take_while(|b: u8| b != b';').parse(i)?;
    let (i, _) = char(';').parse(i)?;
    Ok((i, (pri, us)))
}

/// True when `rest`, the prefix text after a dmesg timestamp, a /dev/kmsg
/// header or a syslog `kernel:` tag (or the whole prefix), is what printk
/// writes before an audit record: nothing, a caller id (`[  T123]`) and
/// `audit: `.
fn printk_tail(rest: &[u8]) -> bool {
    let mut r = trim_start(rest);
    // a timestamp (after a syslog tag) and a caller id
    for _ in 0..2 {
        if let Ok((after, _)) = bracket_time(r) {
            r = trim_start(after);
        }
    }
    matches!(r, b"" | b"audit:" | b"audit: ")
}

fn host(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while1(|b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')).parse(i)
}

/// Fills `prefix_time` and `host` from the text before the payload, and
/// sets the origin to [`Origin::Kernel`] when the prefix is one only the
/// kernel's channels write (the framing and type of the record may still
/// lower it, see [`parse_line_into`]): none (auditd, raw kernel text);
/// `msg=` (the audit dispatcher); auditd's `node=HOST `; printk's `audit: `
/// alone, behind a dmesg timestamp, or behind a /dev/kmsg header of the
/// kernel facility (user space writing to /dev/kmsg gets another one); a
/// syslog header whose tag is `kernel:` (`DATE [HOST] kernel: `).
fn parse_prefix(prefix: &[u8], rec: &mut Record) {
    let p = &mut rec.provenance;
    if prefix.is_empty() {
        // auditd's own lines, the common case
        p.origin = Origin::Kernel;
        return;
    }
    let kernel = if let Some(n) = prefix.strip_prefix(b"node=") {
        let end = n.iter().position(|&b| b == b' ').unwrap_or(n.len());
        p.host = Some(lossy_string(&n[..end]));
        matches!(&n[end..], b" " | b" msg=")
    } else if let Ok((rest, d)) = classic_date(prefix).or_else(|_| iso_date(prefix)) {
        p.prefix_time = Some(lossy_string(d));
        // the syslog tag, after the host: `host prog[pid]:` – a host is
        // followed by a space, a program by ':' or '['
        let rest = trim_start(rest);
        let tag = match host(rest) {
            Ok((after, h)) if after.first() == Some(&b' ') => {
                p.host = Some(lossy_string(h));
                trim_start(after)
            }
            _ => rest,
        };
        tag.strip_prefix(b"kernel:").is_some_and(printk_tail)
    } else if let Ok((tail, t)) = bracket_time(prefix) {
        p.prefix_time = Some(format!("[{}]", String::from_utf8_lossy(t)));
        printk_tail(tail)
    } else if let Ok((tail, (pri, us))) = kmsg_prefix(prefix) {
        if let Some(us) = dec(us) {
            p.prefix_time = Some(format!("[{:5}.{:06}]", us / 1_000_000, us % 1_000_000));
        }
        // facility 0 (LOG_KERN): priorities 0 to 7
        dec(pri).is_some_and(|p| p < 8) && printk_tail(tail)
    } else {
        prefix == b"msg=" || printk_tail(prefix)
    };
    if kernel {
        p.origin = Origin::Kernel;
    }
}

/// True when `line` opens a USER_AVC `msg='` quote that it does not close:
/// the next line may continue it (pitfalls B-16).
pub fn has_open_quote(line: &[u8]) -> bool {
    // most lines hold no quote at all: one byte search decides
    if memchr::memchr(b'\'', line).is_none() {
        return false;
    }
    match F.msg_quote.find(line) {
        Some(p) => memchr::memchr(b'\'', &line[p + 5..]).is_none(),
        None => false,
    }
}

/// `b` as a String, invalid UTF-8 replaced by U+FFFD: one allocation, and
/// no per-chunk scan for the (usual) valid input.
pub(crate) fn lossy_string(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Where ` comm=` starts in a SYSCALL record body, when no ` exe=` comes
/// before it: the keys in between (the kernel writes `gid … tty ses`) can
/// be skipped by a reader that wants only `comm`, `exe` and earlier keys.
pub(crate) fn syscall_comm_split(body: &[u8]) -> Option<usize> {
    let p = F.sp_comm_eq.find(body)?;
    match F.sp_exe_eq.find(&body[..p]) {
        Some(_) => None,
        None => Some(p),
    }
}

/// A value of a non-AppArmor audit record, decoded only on request.
pub struct RawValue<'a>(Val<'a>);

impl RawValue<'_> {
    /// The value decoded like an AppArmor string (quotes removed, bare
    /// uppercase hex decoded).
    pub fn text(self) -> Text {
        string_val(self.0)
    }

    /// The value as written (without quotes), not hex-decoded.
    pub fn raw(&self) -> &[u8] {
        match &self.0 {
            Val::Quoted(q) => q,
            Val::Bare(b) => b,
        }
    }
}

/// Iterates over the `key=value` fields of a non-AppArmor audit record body
/// (SYSCALL, CWD, PATH, PROCTITLE) without allocating; words that are not
/// `key=value` are skipped.
pub fn other_fields(body: &[u8]) -> OtherFields<'_> {
    OtherFields { rest: body }
}

/// The iterator of [`other_fields`]: (key, value) pairs in line order.
pub struct OtherFields<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for OtherFields<'a> {
    type Item = (&'a [u8], RawValue<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let i = trim_start(self.rest);
            if i.is_empty() {
                self.rest = i;
                return None;
            }
            match kv_full(i) {
                Some((k, v, rest, _)) => {
                    self.rest = rest;
                    return Some((k, RawValue(v)));
                }
                None => {
                    let end = i.iter().position(|&b| is_ws(b)).unwrap_or(i.len());
                    self.rest = &i[end..];
                }
            }
        }
    }
}

impl OtherFields<'_> {
    /// True when no field still to read can have the key `k`, one of
    /// `name`, `cwd` and `proctitle`: its text `k=` is nowhere in the rest
    /// (a field with that key would hold it). False for other keys.
    pub(crate) fn lacks_key(&self, k: &[u8]) -> bool {
        let f = match k {
            b"name" => &F.name_eq,
            b"cwd" => &F.cwd_eq,
            b"proctitle" => &F.proctitle_eq,
            _ => return false,
        };
        f.find(self.rest).is_none()
    }

    /// Passes over the fields `keys` when they come next in exactly the
    /// kernel's layout: each ` key=` (one space before it) and a bare value
    /// (not starting with a quote). Nothing is passed over otherwise. The
    /// fields passed over are the ones [`Iterator::next`] would have
    /// returned, so a caller that ignores these keys sees the same fields
    /// after; it saves tokenising them (SYSCALL's `a0` … `pid`).
    pub(crate) fn pass_bare(&mut self, keys: &[&[u8]]) {
        let mut r = self.rest;
        for k in keys {
            let Some(v) = r
                .strip_prefix(b" ")
                .and_then(|r| r.strip_prefix(*k))
                .and_then(|r| r.strip_prefix(b"="))
            else {
                return;
            };
            if v.first() == Some(&b'"') {
                return;
            }
            r = &v[bare_end(v)..];
        }
        self.rest = r;
    }
}

/// A PROCTITLE value as a command line: bare uppercase hex decoded (the
/// kernel's encoding when the command line has a NUL or a space), NUL
/// separators turned into spaces, trailing NULs and spaces dropped.
pub(crate) fn proctitle_text(v: RawValue<'_>) -> Text {
    if let Val::Bare(b) = v.0
        && !b.is_empty()
        && b.len() % 2 == 0
    {
        // decoded and checked in one pass (not hex after all: kept
        // literally below); the usual short command line on the stack
        let mut stack = [0u8; 128];
        let mut heap = Vec::new();
        let out: &mut [u8] = if b.len() / 2 <= stack.len() {
            &mut stack[..b.len() / 2]
        } else {
            heap.resize(b.len() / 2, 0);
            &mut heap
        };
        let mut ok = true;
        for (o, p) in out.iter_mut().zip(b.chunks_exact(2)) {
            let (h, l) = (HEX[usize::from(p[0])], HEX[usize::from(p[1])]);
            ok &= (h | l) < 16;
            let c = (h << 4) | (l & 15);
            *o = if c == 0 { b' ' } else { c };
        }
        if ok {
            let end = out.iter().rposition(|&c| c != b' ').map_or(0, |p| p + 1);
            return Text::from_bytes(&out[..end]);
        }
    }
    let mut t = match v.0 {
        Val::Quoted(Cow::Owned(o)) => o,
        Val::Quoted(Cow::Borrowed(b)) | Val::Bare(b) => b.to_vec(),
    };
    for b in &mut t {
        if *b == 0 {
            *b = b' ';
        }
    }
    let end = t.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    t.truncate(end);
    Text::from_vec(t)
}

/// Uppercase hex digit values (`0-9A-F`); 16 for every other byte.
static HEX: [u8; 256] = {
    let mut t = [16u8; 256];
    let mut c = 0;
    while c < 10 {
        t[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        t[b'A' as usize + c] = 10 + c as u8;
        c += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: &str) -> Record {
        match parse_line(line.as_bytes()) {
            Parsed::AppArmor(r) => *r,
            other => panic!("not a record: {other:?}"),
        }
    }

    #[test]
    fn auditd_avc() {
        let r = rec(
            r#"type=AVC msg=audit(1700000000.123:45): apparmor="DENIED" operation="open" class="file" profile="/usr/bin/foo" name="/etc/shadow" pid=1234 comm="foo" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        );
        assert_eq!(r.event, EventType::Denied);
        assert_eq!(r.audit_id, Some(Text::from("1700000000.123:45")));
        assert_eq!(r.epoch_msec, Some(123));
        assert_eq!(r.class.unwrap(), "file");
        assert_eq!(r.ouid, Some(0));
        assert!(r.problem.is_none());
    }

    #[test]
    fn origin_of_each_framing() {
        const K: &str = r#"apparmor="DENIED" operation="open" class="file" profile="/usr/bin/foo" name="/etc/shadow" pid=1 comm="foo" requested_mask="w" denied_mask="w" fsuid=0 ouid=0"#;
        const U: &str = r#"pid=1 uid=102 auid=4294967295 ses=4294967295 subj=unconfined msg='apparmor="DENIED" operation="dbus_method_call" bus="system" path="/x" interface="a.b" member="M" mask="send" name="n" pid=2 label="foo" peer_pid=3 peer_label="unconfined" exe="/usr/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?'"#;
        let (kern, help, untr) = (Origin::Kernel, Origin::TrustedHelper, Origin::Untrusted);
        let (au, di, pk) = (Framing::Auditd, Framing::Dispatcher, Framing::Kernel);
        let (ja, ba) = (Framing::JournalAudit, Framing::Bare);
        // `$K` is a kernel AVC key list, `$U` a USER_AVC body; `$A` and `$D`
        // are an AVC as printk and as auditd write it
        for (want, framing, line) in [
            // auditd (and its node= name format), the audit dispatcher
            (kern, au, "$D"),
            (kern, au, "type=1400 msg=audit(1.2:3): $K"),
            (kern, au, "node=h1 $D"),
            (kern, di, "msg=audit(1.2:3): $K"),
            (kern, au, "type=APPARMOR_DENIED msg=audit(1.2:3): $K"),
            // USER_AVC: sent by user space through the audit subsystem
            (help, au, "type=USER_AVC msg=audit(1.2:3): $U"),
            (help, pk, "[ 5.1] audit: type=1107 audit(1.2:3): $U"),
            // any other type than the kernel's AppArmor ones: user space
            (help, au, "node=h type=USER_LOGIN msg=audit(1.2:3): $K"),
            // printk: raw, dmesg (-T, caller id), /dev/kmsg by facility
            (kern, pk, "audit: $A"),
            (kern, pk, "$A"),
            (kern, pk, "[ 1234.567890] audit: $A"),
            (kern, pk, "[Fri Nov 29 18:00:00 2024] audit: $A"),
            (kern, pk, "[   12.5] [  T812] audit: $A"),
            (kern, pk, "[ 12.5] audit(1.2:3): $K"),
            (kern, pk, "5,1234,5678,-;audit: $A"),
            // written to /dev/kmsg by user space: facility user (8 and up)
            (untr, pk, "13,1234,5678,-;audit: $A"),
            // syslog tagged `kernel:`: classic and RFC 3339 dates, host or not
            (kern, pk, "Nov 29 18:00:00 host kernel: audit: $A"),
            (kern, pk, "Jan  1 15:09:04.5+08:00 h kernel: [ 1911.5] $A"),
            (
                kern,
                pk,
                "2024-11-29T18:00:00.1+01:00 h kernel: [ 1.3] audit: $A",
            ),
            (kern, pk, "2024-11-29 18:00:00 host kernel: audit: $A"),
            (kern, pk, "Nov 29 18:00:00 kernel: audit: $A"),
            (kern, pk, "Sep  5 10:00:00 host kernel: audit(1.2:3): $K"),
            (
                help,
                pk,
                "Nov 29 18:00:00 h kernel: [ 1.2] audit: type=1107 audit(1.2:3): $U",
            ),
            // syslog, another program's tag (logger -t …): forged kernel text
            (untr, pk, "Nov 29 18:00:00 host mallory[4242]: audit: $A"),
            (untr, pk, "2024-11-29T18:00:00+01:00 host mallory: $A"),
            (untr, au, "Nov 29 18:00:00 host mallory: $D"),
            (untr, pk, "Nov 29 18:00:00 host kernel[4242]: audit: $A"),
            (untr, pk, "Nov 29 18:00:00 host kernel: mallory: $A"),
            (untr, pk, "Nov 29 18:00:00 host kern.notice: audit: $A"),
            (untr, au, "Nov 29 18:00:00 host audispd: node=h $D"),
            // a program's own key list, and journald's audit form as text
            (untr, ba, "Nov 29 18:00:00 host dbus-daemon[99]: $K"),
            (untr, ba, "$K"),
            (untr, ja, "Nov 29 18:00:00 host audit[5]: AVC $K"),
            (untr, ja, "AVC $K"),
            (untr, ja, "USER_AVC $U"),
            // kernel framing behind a prefix of no known kind (grep -H, an
            // application's log)
            (untr, au, "audit.log:$D"),
            (untr, pk, "[INFO] mallory: $A"),
            (untr, au, "node=h1 x $D"),
        ] {
            let line = line
                .replace("$A", "type=1400 audit(1.2:3): $K")
                .replace("$D", "type=AVC msg=audit(1.2:3): $K")
                .replace("$K", K)
                .replace("$U", U);
            let r = rec(&line);
            assert!(r.is_valid(), "{line}: {:?}", r.problem);
            assert_eq!((r.framing, r.provenance.origin), (framing, want), "{line}");
        }
    }

    #[test]
    fn hex_and_equals() {
        let r = rec(
            r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" profile="p" name=2F746D702F61206220 comm=FF00 info="a=b c""#,
        );
        assert_eq!(r.name.unwrap(), "/tmp/a b ");
        assert_eq!(r.comm.unwrap().as_bytes(), b"\xff\x00");
        assert_eq!(r.info.unwrap(), "a=b c");
    }

    #[test]
    fn damaged_enrichment() {
        let r = rec(
            r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" profile="p" fsuid=1 ouid=0FSUID="a b" OUID="root""#,
        );
        assert_eq!(r.ouid, Some(0));
        assert_eq!(
            r.enrichment,
            vec![
                (Text::from("FSUID"), Text::from("a b")),
                (Text::from("OUID"), Text::from("root"))
            ]
        );
    }

    #[test]
    fn key_table() {
        for (k, id) in KEYS {
            assert_eq!(key_id(k), Some(id), "{}", String::from_utf8_lossy(k));
        }
        for k in [
            &b"capability"[..],
            b"sauid",
            b"hostname",
            b"terminal",
            b"FSUID",
            b"pi",
            b"pidd",
            b"names",
            b"nam",
            b"requested_mask_",
            b"requested_mas",
            b"peer_profile.x",
            b"a",
            b"0123456789abcdef",
            b"0123456789abcdefg",
            b"",
        ] {
            assert_eq!(key_id(k), None, "{}", String::from_utf8_lossy(k));
        }
        // the runtime word loader agrees with the table's for every length
        let src = b"aB3_.-xyzQWERTY-._0123";
        for n in 0..=16 {
            for start in 0..src.len() - n {
                let k = &src[start..start + n];
                assert_eq!(load_key_words(k), key_words(k), "{n}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn kv_keyed_agrees_with_kv_full(
            key in proptest::sample::select(vec!["profile", "requested_mask", "pid", "name", "apparmor", "FSUID", "capability", "x", "", "pro\"file", "na me", "peer_label", "operation1", "a-b.c_d", "requested_mask2x", "ouid", "name\0", "ouid\0\0\0\0\0\0\0", "requested_mask\0\0", "\0name"]),
            tail in "[=\" a-z0-9\\\\\x1d]{0,24}",
            pre in proptest::sample::select(vec!["", "=", "\""]),
        ) {
            let i = format!("{pre}{key}{tail}");
            let i = i.as_bytes();
            let want = kv_full(i).map(|(k, v, r, t)| (k, key_id(k), v, r, t));
            proptest::prop_assert_eq!(kv_keyed(i), want);
        }

        #[test]
        fn lead_digits_agrees_with_a_byte_loop(s in "[0-9]{0,24}[ a:)/9]{0,3}[0-9]{0,3}") {
            let b = s.as_bytes();
            let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut v: Option<u64> = Some(0);
            for &c in &b[..n] {
                v = v.and_then(|v| v.checked_mul(10)?.checked_add(u64::from(c - b'0')));
            }
            let want = if n > 20 { None } else { v.map(|v| (v, n)) };
            proptest::prop_assert_eq!(lead_digits(b), want);
        }

        #[test]
        fn lead_digits_bytes(b in proptest::collection::vec(proptest::sample::select(vec![b'0', b'1', b'9', b'/', b':', 0x80, 0xb0, 0xb9, 0xba, 0xff, 0x06]), 0..30)) {
            let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut v: Option<u64> = Some(0);
            for &c in &b[..n] {
                v = v.and_then(|v| v.checked_mul(10)?.checked_add(u64::from(c - b'0')));
            }
            let want = if n > 20 { None } else { v.map(|v| (v, n)) };
            proptest::prop_assert_eq!(lead_digits(&b), want);
        }
    }

    #[test]
    fn lead_digits_edges() {
        for s in [
            "",
            "0",
            "9",
            "12345678",
            "123456789",
            "0000000000000000000001",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "1/",
            "9:",
            "00000000)",
        ] {
            let b = s.as_bytes();
            let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let want = if n > 20 {
                None
            } else {
                std::str::from_utf8(&b[..n])
                    .unwrap()
                    .parse::<u64>()
                    .ok()
                    .map(|v| (v, n))
                    .or(if n == 0 { Some((0, 0)) } else { None })
            };
            assert_eq!(lead_digits(b), want, "{s}");
        }
    }

    #[test]
    fn proctitle_text_decodes_like_string_val() {
        let long = "41".repeat(200);
        let longer = format!("{}00", "42".repeat(300));
        for raw in [
            "636174002F6574632F736861646F77",
            "6361740000",
            "20202000",
            "00",
            "",
            "6g",
            "636",
            "63617400",
            "cat",
            "\"cat /x\"",
            "61626364",
            "616263640a1b",
            &long,
            &longer,
            "0061",
        ] {
            let line = format!("proctitle={raw}");
            let (_, v, _) = kv(line.as_bytes()).unwrap();
            // reference: decoded as a string value, trailing NULs and spaces
            // dropped, NULs turned into spaces
            let t = string_val(match &v {
                Val::Quoted(q) => Val::Quoted(q.clone()),
                Val::Bare(b) => Val::Bare(b),
            });
            let t = t.as_bytes();
            let end = t
                .iter()
                .rposition(|&b| b != 0 && b != b' ')
                .map_or(0, |p| p + 1);
            let want: Vec<u8> = t[..end]
                .iter()
                .map(|&b| if b == 0 { b' ' } else { b })
                .collect();
            assert_eq!(proctitle_text(RawValue(v)).as_bytes(), &want[..], "{raw}");
        }
    }

    #[test]
    fn nul_after_a_model_key_is_not_that_key() {
        // (found by differential testing: the key lookup pads with NULs)
        let r = rec(
            "type=AVC msg=audit(1.5:1): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name\0=\"/etc/x\" pid=1 comm=\"c\"",
        );
        assert_eq!(r.name, None);
        assert_eq!(r.problem.as_deref(), Some("text that is not key=value"));
        match parse_line(b"apparmor=\"DENIED\" ouid\0\0\0\0\0\0\0=0") {
            Parsed::AppArmor(r) => {
                assert_eq!((r.event, r.ouid), (EventType::Invalid, None));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quick_audit_id_fast_path_agrees_with_nom() {
        // every byte of the kernel's form replaced by digits and punctuation
        let base = b"1700000000.123:4567): apparmor=";
        for pos in 0..20 {
            for c in [
                b'0', b'9', b'.', b':', b')', b'/', b';', b'-', b' ', 0x80, 0xb5,
            ] {
                let mut inner = base.to_vec();
                inner[pos] = c;
                let close = memchr::memchr(b')', &inner);
                let nom = close.and_then(|c| match audit_id(&inner[..c]) {
                    Ok((b"", id)) => Some((id, c)),
                    _ => None,
                });
                assert_eq!(
                    quick_audit_id(&inner),
                    nom,
                    "{}",
                    String::from_utf8_lossy(&inner)
                );
            }
        }
    }

    #[test]
    fn quick_audit_id_agrees_with_nom() {
        let big = "1".repeat(21);
        let zeros = format!("{}1", "0".repeat(20));
        let max = u64::MAX.to_string();
        let over = "18446744073709551616".to_string();
        let parts = [
            "",
            "0",
            "1",
            "123",
            "1700000000",
            "4294967296",
            &big,
            &zeros,
            &max,
            &over,
            "1a",
            " 1",
        ];
        let mut n = 0;
        for e in parts {
            for m in parts {
                for s in parts {
                    for tail in ["): apparmor=", ")", ")x", "", " ): a", ":)"] {
                        let inner = format!("{e}.{m}:{s}{tail}");
                        let inner = inner.as_bytes();
                        let close = memchr::memchr(b')', inner);
                        let nom = close.and_then(|c| match audit_id(&inner[..c]) {
                            Ok((b"", id)) => Some((id, c)),
                            _ => None,
                        });
                        assert_eq!(
                            quick_audit_id(inner),
                            nom,
                            "{}",
                            String::from_utf8_lossy(inner)
                        );
                        n += usize::from(nom.is_some());
                    }
                }
            }
        }
        assert!(n > 100);
    }

    #[test]
    fn key_mask_matches_class_table() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                // the byte among neighbours that are key bytes and not
                let w = u64::from_le_bytes([b'a'; 8]) & !(0xff << (8 * pos))
                    | u64::from(b) << (8 * pos);
                let w2 = u64::from_le_bytes([0xff; 8]) & !(0xff << (8 * pos))
                    | u64::from(b) << (8 * pos);
                for (w, other) in [(w, true), (w2, false)] {
                    let m = key_mask(w);
                    for j in 0..8 {
                        let want = if j == pos {
                            CLASS[b as usize] & 1 != 0
                        } else {
                            other
                        };
                        assert_eq!(m >> (8 * j + 7) & 1 == 1, want, "{b:#x} at {pos}, byte {j}");
                    }
                }
            }
        }
        let mut i = b"requested_mask=\"r\"".to_vec();
        assert_eq!(key_len(&i), 14);
        i.truncate(5);
        assert_eq!(key_len(&i), 5);
        assert_eq!(key_len(b"a.b-c_D9/x"), 8);
        assert_eq!(key_len(b"0123456789abcdefXYZ_.-"), 22);
    }

    #[test]
    fn first_space_finds_the_type_name_end() {
        for line in [
            &b""[..],
            b"AVC",
            b"AVC msg=",
            b"SYSCALL msg=audit(",
            b"PROCTITLE msg=",
            b"SERVICE_START msg=",
            b"0123456789abcdefgh msg=",
            b"0123456789abcdefghijklmnopq",
            b" x",
            b"1234567 ",
            b"12345678 ",
        ] {
            let want = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
            assert_eq!(first_space(line), want, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn word_searches_match_byte_loops() {
        // bytes next to the searched ones in value (borrows: 0x00, 0x01,
        // 0x1c, 0x1e, 0x21, 0x5b, 0x5d, 0x80, 0xff), every length to 100
        let alphabet = b"a \t\x1d\"\\\x00\x01\x1c\x1e\x21\x5b\x5d\x80\xff";
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..20_000 {
            let len = round % 101;
            let sparse = round % 3 == 0;
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if sparse && x % 16 != 0 {
                        b'a'
                    } else {
                        alphabet[(x >> 32) as usize % alphabet.len()]
                    }
                })
                .collect();
            assert_eq!(
                find_quote_or_backslash(&v),
                v.iter().position(|&b| b == b'"' || b == b'\\'),
                "{v:?}"
            );
            assert_eq!(
                bare_end(&v),
                v.iter()
                    .position(|&b| matches!(b, b' ' | b'\t' | 0x1d))
                    .unwrap_or(v.len()),
                "{v:?}"
            );
        }
    }

    #[test]
    fn non_apparmor() {
        assert!(matches!(
            parse_line(b"type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=2"),
            Parsed::Other(OtherRecord {
                id: Some(AuditId { serial: 3, .. }),
                ..
            })
        ));
        assert_eq!(parse_line(b"hello world"), Parsed::NotAudit);
    }
}
