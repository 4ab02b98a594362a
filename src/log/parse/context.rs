//! Helpers for the records around an AppArmor record: USER_AVC lines
//! continued on the next line, and the fields of SYSCALL, PROCTITLE and
//! other context records, decoded only on request.

use super::fields::{Val, bare_end, kv_full, string_val};
use super::{F, is_ws, trim_start};
use crate::log::record::Text;
use std::borrow::Cow;

/// True when `line` opens a USER_AVC `msg='` quote that it does not close:
/// the next line may continue it (a D-Bus message written through syslog
/// over two lines).
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
pub(super) fn lossy_string(b: &[u8]) -> String {
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
pub struct RawValue<'a>(pub(super) Val<'a>);

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
    pub(super) rest: &'a [u8],
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
pub(super) static HEX: [u8; 256] = {
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
