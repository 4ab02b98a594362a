use super::context::{RawValue, proctitle_text};
use super::fields::{
    CLASS, Val, bare_end, find_quote_or_backslash, first_space, key_len, key_mask, kv, kv_full,
    kv_keyed, string_val,
};
use super::header::{audit_id, lead_digits, quick_audit_id};
use super::keys::{KEYS, key_id, key_words, load_key_words};
use crate::log::record::{EventType, Framing, Origin, Record, Text};

use super::*;

fn rec(line: &str) -> Record {
    match parse_line(line.as_bytes()) {
        ParsedLine::AppArmor(r) => *r,
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
        ParsedLine::AppArmor(r) => {
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
            let w =
                u64::from_le_bytes([b'a'; 8]) & !(0xff << (8 * pos)) | u64::from(b) << (8 * pos);
            let w2 =
                u64::from_le_bytes([0xff; 8]) & !(0xff << (8 * pos)) | u64::from(b) << (8 * pos);
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
        ParsedLine::Other(OtherRecord {
            id: Some(AuditId { serial: 3, .. }),
            ..
        })
    ));
    assert_eq!(parse_line(b"hello world"), ParsedLine::NotAudit);
}

#[test]
fn junk_ptrace_target_is_flagged_and_kept() {
    // a kernel bug printed the target's pointers, hex-encoded, as target=
    let junk = "8022C0FF81A0FFFF8022C0FF81A0FFFF1080CBFF81A0FFFF1080CBFF81A0FFFF2080CBFF81A0FFFF2080CBFF81A0FFFF9E03";
    let r = rec(&format!(
        "type=AVC msg=audit(1494272099.261:3455): apparmor=\"DENIED\" operation=\"ptrace\" profile=\"/bin/netstat\" pid=1962 comm=\"netstat\" target={junk}"
    ));
    assert_eq!(r.event, EventType::Denied);
    assert_eq!(r.name2.as_ref().unwrap().as_bytes().len(), 50);
    assert_eq!(r.problem.as_deref(), Some(super::JUNK_PTRACE_TARGET));
    // a newline is in no label; a space is (the kernel hex-encodes both)
    let r = rec(
        "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"ptrace\" profile=\"p\" pid=1 comm=\"c\" target=6120620A",
    );
    assert_eq!(r.problem.as_deref(), Some(super::JUNK_PTRACE_TARGET));
    let r = rec(
        "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"ptrace\" profile=\"p\" pid=1 comm=\"c\" target=612062",
    );
    assert!(r.problem.is_none());
    // empty target: nothing to flag
    let r = rec(
        "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"ptrace\" profile=\"p\" pid=1 comm=\"c\" target=\"\"",
    );
    assert!(r.problem.is_none());
}
