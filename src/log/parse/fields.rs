//! The `key=value` scanner of a record body: raw values (quoted, bare,
//! hex-encoded), the word-at-a-time byte search behind it, and the checks on
//! a body that was cut or damaged.

use super::context::HEX;
use super::header::dec;
use super::is_ws;
use super::keys::{Key, assign, key_id};
use crate::log::record::{EventType, Record, Text};
use std::borrow::Cow;

/// A raw value.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) enum Val<'a> {
    Quoted(Cow<'a, [u8]>),
    Bare(&'a [u8]),
}

impl Val<'_> {
    /// The value without quotes, not hex-decoded.
    pub(super) fn plain(&self) -> &[u8] {
        match self {
            Val::Quoted(v) => v,
            Val::Bare(b) => b,
        }
    }
}

/// Appends `(k, v)` (value not hex-decoded) to a list of fields, writing
/// the texts in place.
pub(super) fn push_pair(list: &mut Vec<(Text, Text)>, k: &[u8], v: &[u8]) {
    list.push((Text::default(), Text::default()));
    if let Some((a, b)) = list.last_mut() {
        a.set(k);
        b.set(v);
    }
}

/// Byte classes for the key/value scan (a table lookup per byte on the
/// hot path): bit 0 a key byte (`[A-Za-z0-9_.-]`), bit 1 ends a bare value
/// (space, tab, auditd's 0x1d).
pub(super) static CLASS: [u8; 256] = {
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
pub(super) fn key_len(i: &[u8]) -> usize {
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
pub(super) fn kv(i: &[u8]) -> Option<(&[u8], Val<'_>, &[u8])> {
    kv_full(i).map(|(k, v, rest, _)| (k, v, rest))
}

/// [`kv`] that also says whether a quoted value had its closing quote
/// (`false` for an unterminated `key="…` running to the end of the line).
// inlined into kv_list: returning the ~70-byte result through memory
// costs more than the code size
#[inline(always)]
#[allow(clippy::type_complexity)]
pub(super) fn kv_full(i: &[u8]) -> Option<(&[u8], Val<'_>, &[u8], bool)> {
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
pub(super) fn kv_keyed(i: &[u8]) -> Option<(&[u8], Option<Key>, Val<'_>, &[u8], bool)> {
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

pub(super) const LO: u64 = 0x0101_0101_0101_0101;
pub(super) const HI: u64 = 0x8080_8080_8080_8080;

/// The 8 bytes of `b` at `j` as a little-endian word (`j + 8 <= b.len()`).
#[inline]
pub(super) fn word_at(b: &[u8], j: usize) -> u64 {
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
pub(super) fn key_mask(w: u64) -> u64 {
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
pub(super) fn first_flag(m: u64) -> usize {
    (m.trailing_zeros() / 8) as usize
}

/// Position of the first space in `b`, or its length: type names are
/// short, so two words are tried before a `memchr` call.
#[inline]
pub(super) fn first_space(b: &[u8]) -> usize {
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
pub(super) fn find_quote_or_backslash(q: &[u8]) -> Option<usize> {
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
pub(super) fn bare_end(r: &[u8]) -> usize {
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

pub(super) fn is_upper_hex(b: &[u8]) -> bool {
    !b.is_empty()
        && b.len() % 2 == 0
        && b.iter()
            .all(|&c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
}

pub(super) fn hex_decode(b: &[u8]) -> Vec<u8> {
    b.chunks_exact(2)
        .map(|p| (HEX[usize::from(p[0])] << 4) | HEX[usize::from(p[1])])
        .collect()
}

/// A string value: quoted as is; bare decoded from hex when it is hex
/// (the kernel's encoding for untrusted strings), else kept literally.
pub(super) fn string_val(v: Val<'_>) -> Text {
    match v {
        Val::Quoted(Cow::Borrowed(q)) => Text::from_bytes(q),
        Val::Quoted(Cow::Owned(q)) => Text::from_vec(q),
        Val::Bare(b) if is_upper_hex(b) => Text::from_vec(hex_decode(b)),
        Val::Bare(b) => Text::from_bytes(b),
    }
}

/// [`string_val`] stored into `slot` in place.
#[inline]
pub(super) fn put_string(slot: &mut Option<Text>, v: Val<'_>) {
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
pub(super) struct KvCheck {
    /// `key=value` pairs other than `apparmor=` with a value (a bare `key=`
    /// at the end of a cut line does not count).
    pub(super) fields: u32,
    /// A quoted value without its closing quote.
    pub(super) unterminated: bool,
}

/// Marks `rec` invalid when its fields do not make a record: a quoted value
/// without its closing quote (a cut or forged line), or no `key=value` pair
/// besides `apparmor=` (free text that merely mentions `apparmor="…"`).
pub(super) fn check_fields(rec: &mut Record, c: KvCheck) {
    let problem = if c.unterminated {
        "unterminated quoted value"
    } else if c.fields == 0 {
        "no key=value field besides apparmor="
    } else {
        flag_junk_ptrace_target(rec);
        return;
    };
    rec.event = EventType::Invalid;
    rec.problem = Some(problem.into());
}

/// The problem set on a ptrace record whose `target=` is not a label.
pub const JUNK_PTRACE_TARGET: &str = "ptrace target is binary data, not a label (kernel bug)";

/// Flags a ptrace record whose `target=` decodes to bytes that cannot be a
/// label (not UTF-8, or control characters). Some kernels wrote the
/// target's memory instead of its name: the hex encoding of a few kernel
/// pointers. The bytes are kept (in `name2`) and the kind is left as
/// logged; the problem tells readers and triage that the peer is unknown.
fn flag_junk_ptrace_target(rec: &mut Record) {
    if rec.problem.is_some() || rec.operation.as_ref().is_none_or(|o| *o != "ptrace") {
        return;
    }
    let Some(t) = &rec.name2 else {
        return;
    };
    let b = t.as_bytes();
    if std::str::from_utf8(b).is_err() || b.iter().any(|c| c.is_ascii_control()) {
        rec.problem = Some(JUNK_PTRACE_TARGET.into());
    }
}

/// Parses a list of AppArmor `key=value` pairs into `rec`. `enriched`
/// starts in auditd-enrichment mode (after the USER_AVC quote).
pub(super) fn kv_list(body: &[u8], rec: &mut Record, enriched: bool) -> KvCheck {
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
        // `ouid=0FSUID="root"`: split off the uppercase key.
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

pub(super) fn num(v: &Val<'_>) -> Option<u64> {
    match v {
        Val::Bare(b) => dec(b),
        Val::Quoted(q) => dec(q),
    }
}

pub(super) fn protocol_name(n: u64) -> String {
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
