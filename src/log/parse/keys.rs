//! The table of keys the record model names, found by a perfect hash, and
//! [`assign`], which stores a value in the field its key names.

use super::event_from_type;
use super::fields::{Val, hex_decode, is_upper_hex, num, protocol_name, push_pair, put_string};
use super::header::dec;
use crate::log::record::{EventType, Record, Text};

/// The keys the record model names (libapparmor's, plus `class`,
/// `execpath` and the newer synonyms; docs/log-formats.md), each
/// with the field it fills; synonyms share a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
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

pub(super) const KEYS: [(&[u8], Key); 56] = [
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
pub(super) const fn key_words(k: &[u8]) -> (u64, u64) {
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
pub(super) fn load_key_words(k: &[u8]) -> (u64, u64) {
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
pub(super) fn key_id(k: &[u8]) -> Option<Key> {
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

pub(super) fn assign(rec: &mut Record, key: Option<Key>, k: &[u8], v: Val<'_>) {
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
