//! nom parsers for one log line: the framing (auditd, dispatcher, kernel
//! printk behind dmesg/syslog/journal/kmsg prefixes, journald's audit
//! transport, syslog programs, bare key lists) and the AppArmor key list
//! (the framings and what we accept beyond libapparmor: docs/log-formats.md).
//!
//! Every function here takes bytes and never panics; malformed input gives a
//! record marked [`EventType::Invalid`] with [`Record::problem`] set, or
//! [`ParsedLine::NotAudit`].
//!
//! This file finds the framing and dispatches on the audit type; the rest is
//! in `header` (the `audit(…)` id), `fields` (the `key=value` scanner),
//! `keys` (the key table and where each value goes), `prefix` (the text
//! before a record and the provenance it vouches for) and `context` (helpers
//! for USER_AVC continuation lines and the records around an AppArmor one).

mod context;
mod fields;
mod header;
mod keys;
mod prefix;
#[cfg(test)]
mod tests;

pub use context::{OtherFields, RawValue, has_open_quote, other_fields};
pub(crate) use context::{proctitle_text, syscall_comm_split};
pub use fields::JUNK_PTRACE_TARGET;
use fields::{KvCheck, check_fields, first_space, kv, kv_list, push_pair};
use header::audit_header;
pub(crate) use header::quick_audit_id;
use prefix::parse_prefix;

use super::record::{EventType, Framing, Origin, Record, Text};
use memchr::memmem;
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

/// What [`parse_line`] made of one line: an AppArmor record, another audit
/// record (kept raw for grouping), or not an audit record at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedLine<'a> {
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
pub fn parse_line(line: &[u8]) -> ParsedLine<'_> {
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
pub(crate) fn parse_line_into(line: &[u8], mut rec: Box<Record>) -> ParsedLine<'_> {
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
        return ParsedLine::NotAudit;
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
            None => return ParsedLine::NotAudit,
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
fn typed_line(line: &[u8], start: usize, mut rec: Box<Record>) -> ParsedLine<'_> {
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
                return ParsedLine::NotAudit;
            }
            return broken_header(rec, payload);
        }
        None => {
            // `type=N` without an audit header: not something we know.
            return match find_marker(line, &F.apparmor_eq, |b| b == b' ' || b == b'\t') {
                Some(p) => finish_bare(rec, &line[p..], Framing::Bare),
                None => ParsedLine::NotAudit,
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
fn broken_header(mut rec: Box<Record>, payload: &[u8]) -> ParsedLine<'static> {
    rec.event = EventType::Invalid;
    rec.problem = Some("malformed audit header".into());
    rec.info = Some(Text::from_bytes(payload));
    ParsedLine::AppArmor(rec)
}

fn set_id(rec: &mut Record, id: Option<AuditId>, text: &[u8]) {
    if let Some(id) = id {
        Text::put(&mut rec.audit_id, text);
        rec.epoch = Some(id.epoch);
        rec.epoch_msec = Some(id.msec);
        rec.audit_sub_id = Some(id.serial);
    }
}

fn finish_bare(mut rec: Box<Record>, body: &[u8], framing: Framing) -> ParsedLine<'_> {
    rec.framing = framing;
    // a key list without an audit header: the kernel never writes one
    rec.provenance.origin = Origin::Untrusted;
    let c = kv_list(body, &mut rec, false);
    finish_event(&mut rec, true);
    check_fields(&mut rec, c);
    ParsedLine::AppArmor(rec)
}

/// Handles the body after the audit header according to the type name.
fn typed_body<'a>(
    mut rec: Box<Record>,
    t: &'a [u8],
    body: &'a [u8],
    _hdr: &'a [u8],
) -> ParsedLine<'a> {
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
    ParsedLine::AppArmor(rec)
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

fn other<'a>(rec: Box<Record>, t: &'a [u8], body: &'a [u8]) -> ParsedLine<'a> {
    let id = match (rec.epoch, rec.epoch_msec, rec.audit_sub_id) {
        (Some(epoch), Some(msec), Some(serial)) => Some(AuditId {
            epoch,
            msec,
            serial,
        }),
        _ => None,
    };
    ParsedLine::Other(OtherRecord {
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
