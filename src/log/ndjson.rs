//! The NDJSON object of a record written straight into a byte buffer from
//! the record's borrowed fields: the same bytes as serializing
//! [`RecordJson`](super::render::RecordJson) with serde_json (keys in the
//! same order, the same string escapes), without the serializer's many
//! small writes and per-string UTF-8 checks. `aactl log --format json`
//! writes a record this way.

use super::record::{AuditContext, Record, Text};
use super::render::{FieldValue, JSON_SCHEMA_VERSION, push_rfc3339, visit_fields};

/// Appends the NDJSON object for `r` (without a newline) to `out`: the
/// bytes `serde_json::to_writer(out, &RecordJson(r))` writes.
pub fn write_json_line(out: &mut Vec<u8>, r: &Record) {
    write_json_line_at(out, r);
}

/// [`write_json_line`], returning where the digits of the record's line
/// number are in `out` (start, length).
pub(crate) fn write_json_line_at(out: &mut Vec<u8>, r: &Record) -> (usize, usize) {
    out.extend_from_slice(b"{\"version\":");
    push_u64(out, JSON_SCHEMA_VERSION);
    out.extend_from_slice(b",\"event\":");
    push_str(out, r.event.as_aa_name());
    if let Some(id) = &r.audit_id {
        key(out, "audit_id");
        push_text(out, id);
    }
    if let Some(e) = r.epoch {
        key(out, "epoch");
        push_u64(out, e);
    }
    if let Some(x) = r.audit_sub_id {
        key(out, "audit_sub_id");
        push_u64(out, x);
    }
    visit_fields(r, |k, _, v| {
        key(out, k);
        match v {
            FieldValue::Num(n) => push_u64(out, n),
            FieldValue::Text(t) => push_text(out, t),
        }
    });
    // zero-valued numbers the libapparmor layout hides are real values here
    for (k, v) in super::render::zero_hidden(r) {
        if v == Some(0) {
            key(out, k);
            out.push(b'0');
        }
    }
    if let Some(c) = &r.context {
        key(out, "context");
        context(out, c);
    }
    if r.extra.iter().any(|(k, _)| !k.is_empty()) {
        key(out, "extra");
        pairs(out, &r.extra);
    }
    if !r.enrichment.is_empty() {
        key(out, "enrichment");
        pairs(out, &r.enrichment);
    }
    if !r.header.is_empty() {
        key(out, "header");
        pairs(out, &r.header);
    }
    if let Some(p) = &r.problem {
        key(out, "problem");
        push_str(out, p);
    }
    key(out, "provenance");
    push_str(out, r.provenance.origin.as_str());
    key(out, "source");
    push_str(out, &r.provenance.source);
    key(out, "line");
    let at = out.len();
    push_u64(out, r.provenance.line);
    let line = (at, out.len() - at);
    if let Some(c) = &r.provenance.cursor {
        key(out, "cursor");
        push_str(out, c);
    }
    if let Some((sec, ms)) = r.timestamp() {
        key(out, "time");
        out.push(b'"');
        push_rfc3339(out, sec, ms);
        out.push(b'"');
    }
    out.push(b'}');
    line
}

/// `,"KEY":` (every key here follows another entry; keys are ASCII
/// identifiers, written as they are).
#[inline]
fn key(out: &mut Vec<u8>, k: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

/// True when `b` needs no JSON escape and is ASCII (so also UTF-8). No
/// early exit: the loop is vectorized.
#[inline]
// the comparisons are kept apart (not a range) so that the loop vectorizes
#[allow(clippy::manual_range_contains)]
fn plain(b: &[u8]) -> bool {
    !b.iter().fold(false, |bad, &c| {
        bad | !(0x20..0x7f).contains(&c) | (c == b'"') | (c == b'\\')
    })
}

fn context(out: &mut Vec<u8>, c: &AuditContext) {
    out.extend_from_slice(b"{\"records\":");
    texts(out, &c.records);
    if let Some(x) = &c.syscall {
        key(out, "syscall");
        push_text(out, x);
    }
    if let Some(x) = &c.success {
        key(out, "success");
        push_text(out, x);
    }
    if let Some(x) = c.exit {
        key(out, "exit");
        if x < 0 {
            out.push(b'-');
        }
        push_u64(out, x.unsigned_abs());
    }
    if let Some(x) = &c.exe {
        key(out, "exe");
        push_text(out, x);
    }
    if let Some(x) = &c.comm {
        key(out, "comm");
        push_text(out, x);
    }
    if let Some(x) = c.uid {
        key(out, "uid");
        push_u64(out, x);
    }
    if let Some(x) = c.auid {
        key(out, "auid");
        push_u64(out, x);
    }
    if let Some(x) = &c.cwd {
        key(out, "cwd");
        push_text(out, x);
    }
    if !c.paths.is_empty() {
        key(out, "paths");
        texts(out, &c.paths);
    }
    if let Some(x) = &c.proctitle {
        key(out, "proctitle");
        push_text(out, x);
    }
    out.push(b'}');
}

fn texts(out: &mut Vec<u8>, v: &[Text]) {
    out.push(b'[');
    for (i, t) in v.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_text(out, t);
    }
    out.push(b']');
}

/// An object of the pairs with a non-empty key, keys as lossy UTF-8.
fn pairs(out: &mut Vec<u8>, v: &[(Text, Text)]) {
    out.push(b'{');
    let mut first = true;
    for (k, v) in v.iter().filter(|(k, _)| !k.is_empty()) {
        if !first {
            out.push(b',');
        }
        first = false;
        push_str(out, &k.to_str_lossy());
        out.push(b':');
        push_text(out, v);
    }
    out.push(b'}');
}

/// Appends `n` in decimal.
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    super::render::push_padded(out, n, 1);
}

/// A [`Text`] as a JSON string: valid UTF-8 as it is, each invalid byte as
/// the four characters `\xNN` (then escaped as JSON, as `Text`'s `Serialize`
/// does).
fn push_text(out: &mut Vec<u8>, t: &Text) {
    let b = t.as_bytes();
    // printable ASCII without `"` or `\` (nearly every value) is written as it is
    if plain(b) {
        out.push(b'"');
        out.extend_from_slice(b);
        out.push(b'"');
        return;
    }
    match std::str::from_utf8(b) {
        Ok(s) => push_str(out, s),
        Err(_) => {
            let mut s = String::with_capacity(b.len() + 8);
            for chunk in b.utf8_chunks() {
                s.push_str(chunk.valid());
                for x in chunk.invalid() {
                    s.push_str("\\x");
                    s.push(hex(x >> 4));
                    s.push(hex(x & 15));
                }
            }
            push_str(out, &s);
        }
    }
}

fn hex(n: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(n & 15)])
}

/// A JSON string with serde_json's escapes: `\"`, `\\`, `\b \f \n \r \t`,
/// other control characters below 0x20 as `\u00XX`; everything else
/// (DEL and non-ASCII included) as it is.
fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    if plain(b) {
        out.extend_from_slice(b);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&b[start..i]);
                out.extend_from_slice(b"\\u00");
                out.push(hex(c >> 4) as u8);
                out.push(hex(c & 15) as u8);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::render::RecordJson;

    fn same(r: &Record) {
        let mut ours = Vec::new();
        write_json_line(&mut ours, r);
        let serde = serde_json::to_vec(&RecordJson(r)).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&serde)
        );
    }

    #[test]
    fn plain_is_the_byte_test() {
        let naive = |b: &[u8]| {
            b.iter()
                .all(|&c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
        };
        for c in 0..=255u8 {
            for at in 0..17 {
                let mut v = [b'a'; 17];
                v[at] = c;
                for len in [at + 1, 8, 16, 17] {
                    let s = &v[..len.max(at + 1)];
                    assert_eq!(plain(s), naive(s), "byte {c:#x} at {at}, {} bytes", s.len());
                }
            }
        }
        assert!(plain(b"") && plain(b"/usr/bin/evince") && !plain(b"/usr/bin/evince\x7f"));
    }

    #[test]
    fn same_bytes_as_serde() {
        let mut r = Record::default();
        same(&r);
        r.operation = Some(Text::from("open"));
        r.name = Some(Text::from_bytes(
            b"/tmp/a \"b\"\\c\n\t\x01\x7f\xc3\xa9\xff\x08\x0c\r",
        ));
        r.comm = Some(Text::from_bytes(b""));
        r.pid = Some(0);
        r.task = Some(7);
        r.fsuid = Some(0);
        r.audit_id = Some(Text::from("1700000000.123:42"));
        r.epoch = Some(1_700_000_000);
        r.epoch_msec = Some(123);
        r.audit_sub_id = Some(42);
        r.problem = Some("bad \u{1} \"x\" é".into());
        r.extra = vec![
            (Text::from(""), Text::from("x")),
            (Text::from_bytes(b"k\xff"), Text::from_bytes(b"v\x1b")),
        ];
        r.header = vec![(Text::from("node"), Text::from("h"))];
        r.enrichment = vec![(Text::from("UID"), Text::from("root"))];
        r.provenance.cursor = Some("s=1;i=2".into());
        same(&r);
        r.context = Some(Box::default());
        same(&r);
        if let Some(c) = r.context.as_deref_mut() {
            c.records = vec![Text::from("SYSCALL"), Text::from("PATH")];
            c.exit = Some(-13);
            c.uid = Some(0);
            c.paths = vec![Text::from_bytes(b"/a\xfe")];
            c.proctitle = Some(Text::from("cat /etc/x"));
            c.syscall = Some(Text::from("257"));
        }
        same(&r);
    }
}
