//! The text before a record (syslog and journal timestamps, hosts,
//! programs, dmesg and kmsg stamps) and the provenance it vouches for.

use super::context::lossy_string;
use super::header::dec;
use super::trim_start;
use crate::log::record::{Origin, Record};
use nom::bytes::complete::{tag, take_while, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, space1};
use nom::combinator::{opt, recognize};
use nom::sequence::preceded;
use nom::{IResult, Parser};

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
pub(super) fn parse_prefix(prefix: &[u8], rec: &mut Record) {
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
