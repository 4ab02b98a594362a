//! Output forms of a [`Record`]: one text line, one NDJSON object (schema in
//! docs/log-schema.md), and libapparmor's `test_multi` `.out` layout used by
//! the conformance tests (fixed label order; a string is printed when set,
//! a number when it differs from its unset value).

use super::parse::ParsedLine;
use super::record::{AuditContext, Origin, Record, Text};
use crate::escape::{escape_bytes, escape_str};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// Version of the NDJSON schema written by [`to_json`] (key `version`).
/// 2 added `provenance`, present on every record: a consumer that acted on
/// every record of version 1 must now look at it.
pub const JSON_SCHEMA_VERSION: u64 = 2;

/// A field value for output.
#[derive(Debug, Clone, Copy)]
pub enum FieldValue<'a> {
    /// A decoded string.
    Text(&'a Text),
    /// A number.
    Num(u64),
}

/// The record's fields in libapparmor's print order (`test_multi`), as
/// (JSON key, `.out` label, value), absent fields omitted. Numbers that
/// libapparmor treats as unset when zero (all but fsuid/ouid) are omitted
/// when zero, as in the `.out` files.
pub fn fields(r: &Record) -> Vec<(&'static str, &'static str, FieldValue<'_>)> {
    let mut v = Vec::with_capacity(24);
    visit_fields(r, |j, l, x| v.push((j, l, x)));
    v
}

/// Calls `f` with each of [`fields`]' entries in turn, without collecting
/// them (the renderers' per-record path).
#[inline]
pub fn visit_fields<'r>(
    r: &'r Record,
    mut f: impl FnMut(&'static str, &'static str, FieldValue<'r>),
) {
    macro_rules! t {
        ($f:ident, $j:literal, $l:literal) => {
            if let Some(x) = &r.$f {
                f($j, $l, FieldValue::Text(x));
            }
        };
    }
    macro_rules! n {
        ($f:ident, $j:literal, $l:literal) => {
            if let Some(x) = r.$f.filter(|&x| x != 0) {
                f($j, $l, FieldValue::Num(x));
            }
        };
    }
    t!(operation, "operation", "Operation");
    t!(requested_mask, "requested_mask", "Mask");
    t!(denied_mask, "denied_mask", "Denied Mask");
    if let Some(x) = r.fsuid {
        f("fsuid", "fsuid", FieldValue::Num(x));
    }
    if let Some(x) = r.ouid {
        f("ouid", "ouid", FieldValue::Num(x));
    }
    t!(profile, "profile", "Profile");
    t!(peer_profile, "peer_profile", "Peer profile");
    t!(peer, "peer", "Peer");
    t!(name, "name", "Name");
    t!(comm, "comm", "Command");
    t!(name2, "name2", "Name2");
    t!(namespace, "namespace", "Namespace");
    t!(attribute, "attribute", "Attribute");
    n!(task, "task", "Task");
    n!(parent, "parent", "Parent");
    n!(magic_token, "magic_token", "Token");
    t!(info, "info", "Info");
    t!(peer_info, "peer_info", "Peer info");
    n!(error_code, "error_code", "ErrorCode");
    n!(pid, "pid", "PID");
    n!(peer_pid, "peer_pid", "Peer PID");
    t!(active_hat, "active_hat", "Active hat");
    t!(net_addr, "net_addr", "Net Addr");
    t!(peer_addr, "peer_addr", "Peer Addr");
    t!(net_family, "net_family", "Network family");
    t!(net_sock_type, "net_sock_type", "Socket type");
    t!(net_protocol, "net_protocol", "Protocol");
    t!(net_local_addr, "net_local_addr", "Local addr");
    t!(net_foreign_addr, "net_foreign_addr", "Foreign addr");
    n!(net_local_port, "net_local_port", "Local port");
    n!(net_foreign_port, "net_foreign_port", "Foreign port");
    t!(dbus_bus, "dbus_bus", "DBus bus");
    t!(dbus_path, "dbus_path", "DBus path");
    t!(dbus_interface, "dbus_interface", "DBus interface");
    t!(dbus_member, "dbus_member", "DBus member");
    t!(signal, "signal", "Signal");
    t!(fs_type, "fs_type", "FS Type");
    t!(flags, "flags", "Flags");
    t!(src_name, "src_name", "Src name");
    t!(execpath, "execpath", "Execpath");
    t!(class, "class", "Class");
}

/// Renders a parsed line in `test_multi`'s `.out` layout (without the
/// `START`/`File:` header): `Label: value` lines, values as raw bytes.
pub fn test_multi(p: &ParsedLine<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    match p {
        ParsedLine::NotAudit => out.extend_from_slice(b"Event type: AA_RECORD_INVALID\n"),
        ParsedLine::Other(o) => {
            out.extend_from_slice(b"Event type: AA_RECORD_INVALID\n");
            if let Some(id) = o.id {
                let _ = id;
                push_line(
                    &mut out,
                    "Audit ID",
                    format!("{}.{:03}:{}", id.epoch, id.msec, id.serial).as_bytes(),
                );
            }
            if !o.audit_type.starts_with(b"UNKNOWN[") {
                push_line(&mut out, "Operation", o.audit_type);
            }
            push_line(&mut out, "Info", o.body);
            if let Some(id) = o.id {
                push_line(&mut out, "Epoch", id.epoch.to_string().as_bytes());
                push_line(&mut out, "Audit subid", id.serial.to_string().as_bytes());
            }
        }
        ParsedLine::AppArmor(r) => {
            push_line(&mut out, "Event type", r.event.as_aa_name().as_bytes());
            if let Some(id) = &r.audit_id {
                push_line(&mut out, "Audit ID", id.as_bytes());
            }
            for (_, label, val) in fields(r) {
                match val {
                    FieldValue::Text(t) => push_line(&mut out, label, t.as_bytes()),
                    FieldValue::Num(n) => push_line(&mut out, label, n.to_string().as_bytes()),
                }
            }
            if let Some(e) = r.epoch.filter(|&e| e != 0) {
                push_line(&mut out, "Epoch", e.to_string().as_bytes());
            }
            if let Some(s) = r.audit_sub_id.filter(|&s| s != 0) {
                push_line(&mut out, "Audit subid", s.to_string().as_bytes());
            }
        }
    }
    out
}

fn push_line(out: &mut Vec<u8>, label: &str, v: &[u8]) {
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(v);
    out.push(b'\n');
}

/// Formats seconds since the epoch as RFC 3339 UTC with milliseconds
/// (`2023-11-14T22:13:20.123Z`).
pub fn rfc3339(secs: u64, msec: u32) -> String {
    let mut v = Vec::with_capacity(24);
    push_rfc3339(&mut v, secs, msec);
    String::from_utf8_lossy(&v).into_owned()
}

/// Appends [`rfc3339`]'s form of `secs`/`msec` to `out`.
pub fn push_rfc3339(out: &mut Vec<u8>, secs: u64, msec: u32) {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // civil-from-days (proleptic Gregorian), days since 1970-01-01
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`, written into a fixed array and appended at once (one
    // fixed-size copy instead of a call per field); at most 4 digits of year: MAX_EPOCH
    // keeps it below 10000
    let mut t = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: u64| {
        for i in (at..at + width).rev() {
            t[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, y as u64);
    put(5, 2, m as u64);
    put(8, 2, d as u64);
    put(11, 2, rem / 3600);
    put(14, 2, (rem / 60) % 60);
    put(17, 2, rem % 60);
    put(20, 3, u64::from(msec.min(999)));
    out.extend_from_slice(&t);
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
pub(super) fn push_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    let mut n = n;
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(tmp.len().saturating_sub(width));
    // a few digits: pushed one by one (a `memcpy` call costs more)
    out.reserve(tmp.len() - start);
    for &b in &tmp[start..] {
        out.push(b);
    }
}

/// One readable line for a record; every value escaped (control characters,
/// invalid UTF-8) and quoted when it has spaces, so a hostile `comm` cannot
/// reach the terminal.
///
/// Shape: `TIME EVENT key=value … [problem="…"] [SOURCE:LINE]`, TIME as RFC 3339 UTC when
/// known, else the line prefix's time, else `-`. A record whose sender is
/// not verified ([`Origin::Untrusted`]) has `(untrusted)` after EVENT: a
/// log line can be written by anyone, and its fields mean nothing then.
pub fn text_line(r: &Record) -> String {
    text_line_in(r, &jiff::tz::TimeZone::UTC)
}

/// [`text_line`] with the time shown in `tz`
/// ([`crate::log::time::format_time`]: `2023-11-14T23:13:20.123+01:00`;
/// UTC keeps the `Z` form). A prefix time is shown as written.
pub fn text_line_in(r: &Record, tz: &jiff::tz::TimeZone) -> String {
    let mut v = Vec::with_capacity(256);
    write_text_line(&mut v, r, tz);
    // every piece written is UTF-8 (escaped text, ASCII otherwise)
    String::from_utf8_lossy(&v).into_owned()
}

/// Appends [`text_line_in`]'s line for `r` (without a newline) to `s`: the
/// form `aactl log` streams, with no allocation per record when `tz` is UTC.
pub fn write_text_line(s: &mut Vec<u8>, r: &Record, tz: &jiff::tz::TimeZone) {
    write_text_line_with(s, r, &mut super::time::ZoneFormatter::new(tz));
}

/// [`write_text_line`] with times formatted by `times` (which keeps the
/// zone's offset between calls: the form for many records).
pub fn write_text_line_with(s: &mut Vec<u8>, r: &Record, times: &mut super::time::ZoneFormatter) {
    write_text_line_at(s, r, times);
}

/// [`write_text_line_with`], returning where the digits of the record's
/// line number are in `s` (start, length).
pub(crate) fn write_text_line_at(
    s: &mut Vec<u8>,
    r: &Record,
    times: &mut super::time::ZoneFormatter,
) -> (usize, usize) {
    match r.timestamp() {
        Some((sec, ms)) => times.push(s, sec, ms),
        None => match &r.provenance.prefix_time {
            Some(t) => s.extend_from_slice(escape_str(t).as_bytes()),
            None => s.push(b'-'),
        },
    }
    s.push(b' ');
    s.extend_from_slice(r.event.as_kernel_name().as_bytes());
    if r.provenance.origin == Origin::Untrusted {
        s.extend_from_slice(b" (untrusted)");
    }
    visit_fields(r, |k, _, v| {
        s.push(b' ');
        s.extend_from_slice(k.as_bytes());
        s.push(b'=');
        match v {
            FieldValue::Num(n) => push_padded(s, n, 1),
            FieldValue::Text(t) => push_quoted(s, t.as_bytes()),
        }
    });
    if let Some(c) = &r.context {
        if let Some(e) = &c.exe {
            s.extend_from_slice(b" exe=");
            push_quoted(s, e.as_bytes());
        }
        if let Some(p) = &c.proctitle {
            s.extend_from_slice(b" proctitle=");
            push_quoted(s, p.as_bytes());
        }
    }
    for (k, v) in &r.extra {
        if k.is_empty() {
            continue;
        }
        s.push(b' ');
        s.extend_from_slice(k.escaped().as_bytes());
        s.push(b'=');
        push_quoted(s, v.as_bytes());
    }
    if let Some(p) = &r.problem {
        s.extend_from_slice(b" problem=");
        push_quoted(s, p.as_bytes());
    }
    s.extend_from_slice(b" [");
    s.extend_from_slice(escape_str(&r.provenance.source).as_bytes());
    s.push(b':');
    let at = s.len();
    push_padded(s, r.provenance.line, 1);
    let line = (at, s.len() - at);
    s.push(b']');
    line
}

/// Appends `b` escaped ([`escape_bytes`]), in double quotes (with `"` as
/// `\"`) when it is empty or holds a space or a quote.
fn push_quoted(s: &mut Vec<u8>, b: &[u8]) {
    // the common case, printable ASCII, needs no escaping
    if !b.is_empty() && b.iter().all(|&c| (0x21..0x7f).contains(&c) && c != b'"') {
        s.extend_from_slice(b);
        return;
    }
    let e = escape_bytes(b);
    if e.is_empty() || e.bytes().any(|c| c == b' ' || c == b'"') {
        s.push(b'"');
        for c in e.bytes() {
            if c == b'"' {
                s.push(b'\\');
            }
            s.push(c);
        }
        s.push(b'"');
    } else {
        s.extend_from_slice(e.as_bytes());
    }
}

/// The NDJSON object for a record (schema version [`JSON_SCHEMA_VERSION`],
/// documented in docs/log-schema.md) as a [`Value`]. Same content as
/// [`RecordJson`], which serializes without building the tree.
pub fn to_json(r: &Record) -> Value {
    serde_json::to_value(RecordJson(r)).unwrap_or(Value::Null)
}

/// Serializes a record as its NDJSON object (docs/log-schema.md): keys in
/// a fixed order, absent fields omitted. Strings that are not UTF-8 are
/// written with each invalid byte as the four characters `\xNN`.
pub struct RecordJson<'a>(pub &'a Record);

struct PairsJson<'a>(&'a [(Text, Text)]);

impl Serialize for PairsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.0.iter().filter(|(k, _)| !k.is_empty()) {
            m.serialize_entry(&k.to_str_lossy(), v)?;
        }
        m.end()
    }
}

struct ContextJson<'a>(&'a AuditContext);

impl Serialize for ContextJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("records", &c.records)?;
        if let Some(x) = &c.syscall {
            m.serialize_entry("syscall", x)?;
        }
        if let Some(x) = &c.success {
            m.serialize_entry("success", x)?;
        }
        if let Some(x) = c.exit {
            m.serialize_entry("exit", &x)?;
        }
        if let Some(x) = &c.exe {
            m.serialize_entry("exe", x)?;
        }
        if let Some(x) = &c.comm {
            m.serialize_entry("comm", x)?;
        }
        if let Some(x) = c.uid {
            m.serialize_entry("uid", &x)?;
        }
        if let Some(x) = c.auid {
            m.serialize_entry("auid", &x)?;
        }
        if let Some(x) = &c.cwd {
            m.serialize_entry("cwd", x)?;
        }
        if !c.paths.is_empty() {
            m.serialize_entry("paths", &c.paths)?;
        }
        if let Some(x) = &c.proctitle {
            m.serialize_entry("proctitle", x)?;
        }
        m.end()
    }
}

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("version", &JSON_SCHEMA_VERSION)?;
        m.serialize_entry("event", r.event.as_aa_name())?;
        if let Some(id) = &r.audit_id {
            m.serialize_entry("audit_id", id)?;
        }
        if let Some(e) = r.epoch {
            m.serialize_entry("epoch", &e)?;
        }
        if let Some(x) = r.audit_sub_id {
            m.serialize_entry("audit_sub_id", &x)?;
        }
        for (k, _, v) in fields(r) {
            match v {
                FieldValue::Num(n) => m.serialize_entry(k, &n)?,
                FieldValue::Text(t) => m.serialize_entry(k, t)?,
            }
        }
        // zero-valued numbers the libapparmor layout hides are real values here
        for (k, v) in zero_hidden(r) {
            if v == Some(0) {
                m.serialize_entry(k, &0u64)?;
            }
        }
        if let Some(c) = &r.context {
            m.serialize_entry("context", &ContextJson(c))?;
        }
        if r.extra.iter().any(|(k, _)| !k.is_empty()) {
            m.serialize_entry("extra", &PairsJson(&r.extra))?;
        }
        if !r.enrichment.is_empty() {
            m.serialize_entry("enrichment", &PairsJson(&r.enrichment))?;
        }
        if !r.header.is_empty() {
            m.serialize_entry("header", &PairsJson(&r.header))?;
        }
        if let Some(p) = &r.problem {
            m.serialize_entry("problem", p)?;
        }
        m.serialize_entry("provenance", r.provenance.origin.as_str())?;
        m.serialize_entry("source", &*r.provenance.source)?;
        m.serialize_entry("line", &r.provenance.line)?;
        if let Some(c) = &r.provenance.cursor {
            m.serialize_entry("cursor", c)?;
        }
        if let Some((sec, ms)) = r.timestamp() {
            m.serialize_entry("time", &rfc3339(sec, ms))?;
        }
        m.end()
    }
}

/// The numbers libapparmor's field layout leaves out when zero, with their
/// values: a record that has one at zero still gets it in JSON (the JSON
/// writers of [`RecordJson`] and [`super::ndjson`] both list them from here).
pub(super) fn zero_hidden(r: &Record) -> [(&'static str, Option<u64>); 8] {
    [
        ("task", r.task),
        ("parent", r.parent),
        ("magic_token", r.magic_token),
        ("error_code", r.error_code),
        ("pid", r.pid),
        ("peer_pid", r.peer_pid),
        ("net_local_port", r.net_local_port),
        ("net_foreign_port", r.net_foreign_port),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000, 123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000Z");
    }
}
