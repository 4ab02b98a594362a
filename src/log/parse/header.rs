//! The audit id inside `audit(EPOCH.MSEC:SERIAL)` and the header around it,
//! with the word-at-a-time digit reader the reader's hot path relies on.

use super::fields::{HI, LO, first_flag, word_at};
use super::{AuditId, trim_start};
use nom::character::complete::{char, digit1};
use nom::{IResult, Parser};

/// Parses `EPOCH.MSEC:SERIAL` inside `audit(…)`.
pub(super) fn audit_id(i: &[u8]) -> IResult<&[u8], AuditId> {
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
pub(super) fn lead_digits(i: &[u8]) -> Option<(u64, usize)> {
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

pub(super) fn dec(d: &[u8]) -> Option<u64> {
    match lead_digits(d)? {
        (v, n) if n == d.len() && n > 0 => Some(v),
        _ => None,
    }
}

/// The `audit(…)` header at the start of `i` (after `msg=` if any): returns
/// (id, id text, rest after `): `). A malformed id gives `Err(rest)` with the
/// body after the first `): ` when one exists.
#[allow(clippy::type_complexity)]
pub(super) fn audit_header(i: &[u8]) -> Result<(Option<AuditId>, &[u8], &[u8]), Option<&[u8]>> {
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
