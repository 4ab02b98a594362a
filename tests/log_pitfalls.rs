//! Every B, D and E input of spec/pitfalls.md as a test with the record it
//! must give. Inputs are read from the spec (code blocks under each
//! heading), with `<0x1d>` turned into the GS byte and B-04's abridged
//! `a…a` into the 510 `a`s it stands for.

use crate::common;
use apparmor::log::source::{JournalQuery, detect, journal_entry};
use apparmor::log::{EventType, Record, Source, Text, parse_str};
use std::collections::BTreeMap;

fn cases() -> Option<BTreeMap<String, String>> {
    let shared = common::shared()?;
    let text = std::fs::read_to_string(shared.join("spec/pitfalls.md")).unwrap();
    let mut out = BTreeMap::new();
    let mut id: Option<String> = None;
    let mut in_code = false;
    let mut block = String::new();
    for l in text.lines() {
        if let Some(h) = l.strip_prefix("### ") {
            id = h.split_whitespace().next().map(str::to_owned);
            continue;
        }
        let t = l.trim_start();
        if t.starts_with("```") {
            if in_code {
                if let Some(i) = &id {
                    out.entry(i.clone()).or_insert_with(|| block.clone());
                }
                block.clear();
            }
            in_code = !in_code;
            continue;
        }
        if in_code {
            let l = l.strip_prefix("  ").unwrap_or(l);
            block.push_str(&l.replace("<0x1d>", "\x1d").replace("a…a", &"a".repeat(510)));
            block.push('\n');
        }
    }
    Some(out)
}

fn records(cases: &BTreeMap<String, String>, id: &str) -> Vec<Record> {
    let input = cases.get(id).unwrap_or_else(|| panic!("{id} has no input"));
    let (recs, st) = parse_str(input, id);
    assert_eq!(st.invalid, 0, "{id}: invalid lines");
    recs
}

fn one(cases: &BTreeMap<String, String>, id: &str) -> Record {
    let mut r = records(cases, id);
    assert_eq!(r.len(), 1, "{id}: {r:?}");
    r.remove(0)
}

fn t(s: &str) -> Option<Text> {
    Some(Text::from(s))
}

fn enr(r: &Record, k: &str) -> Option<String> {
    r.enrichment
        .iter()
        .find(|(key, _)| key == k)
        .and_then(|(_, v)| v.as_str().map(str::to_owned))
}

#[test]
fn pitfalls_b() {
    let Some(c) = cases() else { return };
    let mut n = 0;

    let r = one(&c, "B-01");
    assert_eq!(
        (r.event, r.ouid, r.fsuid),
        (EventType::Allowed, Some(0), Some(1000))
    );
    assert_eq!(enr(&r, "FSUID").as_deref(), Some("otis"));
    assert_eq!(enr(&r, "OUID").as_deref(), Some("root"));
    n += 1;

    let r = one(&c, "B-02");
    assert_eq!(r.event, EventType::Allowed);
    assert_eq!(r.operation, t("mkdir"));
    assert_eq!(r.profile, t("/usr/bin/kak"));
    assert_eq!(r.name, t("/run/user/1000/kakoune/"));
    assert_eq!(
        r.provenance.prefix_time.as_deref(),
        Some("2021-09-11T20:57:41.91645")
    );
    n += 1;

    let r = one(&c, "B-04");
    assert_eq!(r.event, EventType::Audit);
    assert_eq!(r.requested_mask, t("wk::"));
    let name = r.name.unwrap();
    assert!(
        name.as_str()
            .unwrap()
            .ends_with(&format!(".parentlock{}", "a".repeat(510)))
    );
    assert_eq!(r.namespace, t("default"));
    n += 1;

    let r = records(&c, "B-05");
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].name2, t(""));
    let junk = r[1].name2.as_ref().unwrap();
    assert_eq!(&junk.as_bytes()[..4], b"\x80\x22\xC0\xFF");
    assert!(junk.as_str().is_none(), "binary target kept as bytes");
    assert!(junk.escaped().starts_with("\\x80\""));
    n += 1;

    let r = one(&c, "B-07");
    assert_eq!((r.event, r.class.clone()), (EventType::Allowed, t("file")));
    assert_eq!(r.name, t("/etc/"));
    assert_eq!(r.denied_mask, t("r"));
    n += 1;

    let r = one(&c, "B-08");
    assert_eq!((r.event, r.name.clone()), (EventType::Denied, None));
    assert_eq!(r.profile, t("firefox"));
    assert_eq!(r.denied_mask, t("wr"));
    n += 1;

    let r = one(&c, "B-10");
    assert_eq!(r.operation, t("change_onexec"));
    assert_eq!(r.info, t("label not found"));
    assert_eq!(r.error_code, Some(2));
    assert_eq!(r.name, t("snap.firefox.firefox"));
    n += 1;

    let r = one(&c, "B-11");
    assert_eq!(r.event, EventType::Denied);
    assert_eq!(r.peer_profile, None);
    assert_eq!(r.dbus_member, t("Hello"));
    assert_eq!(r.dbus_bus, t("session"));
    assert_eq!(r.profile, t("random_test"));
    assert_eq!(r.provenance.host.as_deref(), Some("sec-questing-amd64"));
    n += 1;

    let r = one(&c, "B-13");
    assert_eq!(r.name, t("/dev/shm/test(me"));
    assert_eq!((r.fsuid, r.ouid), (Some(1000), Some(1000)));
    n += 1;

    let r = records(&c, "B-14");
    assert_eq!(r.len(), 2);
    assert!(
        r.iter()
            .all(|r| r.event == EventType::Status && r.operation.is_none())
    );
    assert_eq!(r[1].info, t("AppArmor sha1 policy hashing enabled"));
    n += 1;

    let input = c.get("B-16").unwrap();
    assert_eq!(input.lines().count(), 2, "B-16 is two physical lines");
    let r = one(&c, "B-16");
    assert_eq!(r.event, EventType::Allowed);
    assert_eq!(r.comm, t("/usr/bin/dbus-daemon"));
    assert_eq!(
        r.profile,
        t("/tmp/apparmor-2.8.0/tests/regression/apparmor/dbus_service")
    );
    assert_eq!(r.peer_profile, t("unconfined"));
    assert_eq!(r.pid, Some(20596));
    assert_eq!(
        r.header.iter().find(|h| h.0 == "pid").map(|h| h.1.clone()),
        t("640")
    );
    n += 1;

    let r = one(&c, "B-17");
    assert_eq!((r.event, r.profile.clone()), (EventType::Denied, None));
    assert_eq!(r.operation, t("change_hat"));
    assert_eq!((r.error_code, r.info.clone()), (Some(1), t("unconfined")));
    n += 1;
    println!("pitfalls B: {n} cases checked");
}

#[test]
fn pitfalls_d() {
    let Some(c) = cases() else { return };
    let r = one(&c, "D-01");
    assert_eq!(
        r.name,
        t("@{user_cache_dirs}/ksycoca5_de_LQ6f0J2qZg4vOKgw2NbXuW7iuVU=.isNSBz")
    );
    assert_eq!(r.name2, t("@{user_cache_dirs}/#@{int}"));
    assert_eq!(enr(&r, "OUID").as_deref(), Some("seeker"));

    let r = one(&c, "D-02");
    assert_eq!((r.fsuid, r.ouid), (Some(0), Some(0)));
    assert_eq!(r.denied_mask, t("c"));
    assert_eq!(r.operation, t("mknod"));

    let r = records(&c, "D-05");
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].event_key(), None, "zero audit id is no key");
    assert_eq!(r[0].timestamp(), None);
    assert_eq!(r[0].net_protocol, t("unknown(9)"));
    assert_eq!(r[1].name, t("net_admin"));
    assert_eq!(r[1].extra_value("capability"), t("12").as_ref());

    let r = records(&c, "D-07");
    assert_eq!(
        r.len(),
        3,
        "identical events are not collapsed, STATUS kept"
    );
    assert_eq!(r[0].event, EventType::Status);
    assert_eq!((r[1].pid, r[2].pid), (Some(2364), Some(2365)));
    assert_eq!(enr(&r[2], "FSUID").as_deref(), Some("root"));

    let r = one(&c, "D-08");
    assert_eq!(r.name, t("/dev/urandom"));
    assert_eq!((r.fsuid, r.ouid), (Some(1001), Some(0)));
    assert_eq!(enr(&r, "FSUID").as_deref(), Some("user"));
    println!("pitfalls D: 5 record cases checked");
}

#[test]
fn pitfalls_e_and_d_sources() {
    // E-01: auditd running takes the stream: its log is the first candidate
    // and the empty explanation names the trap.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("run")).unwrap();
    std::fs::create_dir_all(root.join("proc/812")).unwrap();
    std::fs::create_dir_all(root.join("var/log/audit")).unwrap();
    std::fs::create_dir_all(root.join("var/log/journal")).unwrap();
    std::fs::write(root.join("run/auditd.pid"), "812\n").unwrap();
    std::fs::write(root.join("var/log/audit/audit.log"), "").unwrap();
    let d = detect(&apparmor::system::System::with_root(root));
    assert_eq!(d.auditd_pid, Some(812));
    assert_eq!(
        d.candidates[0].0,
        Source::File(root.join("var/log/audit/audit.log"))
    );
    assert!(matches!(d.candidates[1].0, Source::Journal(_)));
    let msg = d.explain_empty(&[]);
    assert!(msg.contains("auditd is running (pid 812)"), "{msg}");
    assert!(msg.contains("systemd-journald-audit.socket"), "{msg}");
    assert!(msg.contains("var/log/syslog: missing"), "{msg}");

    // D-04: journald only: the journal is a candidate without any log file.
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir2.path().join("var/log/journal")).unwrap();
    let d = detect(&apparmor::system::System::with_root(dir2.path()));
    assert_eq!(d.auditd_pid, None);
    assert_eq!(d.candidates.len(), 1, "{:?}", d.candidates);
    assert_eq!(d.candidates[0].0, Source::Journal(JournalQuery::default()));

    // E-02: the audit transport's bare MESSAGE with journald's metadata.
    let mut buf = Vec::new();
    let m = journal_entry(
        br#"{"__CURSOR":"c1","_SOURCE_REALTIME_TIMESTAMP":"1700000000123000","_AUDIT_ID":"45","_TRANSPORT":"audit","MESSAGE":"AVC apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/bin/foo\" name=\"/etc/shadow\" pid=1234 comm=\"foo\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0"}"#,
        &mut buf,
        1,
        &apparmor::log::source::TrustedSenders::default(),
    )
    .unwrap();
    assert_eq!(m.audit_id.unwrap().serial, 45);
    assert_eq!(m.origin, Some(apparmor::log::Origin::Kernel));
    let (r, _) = parse_str(std::str::from_utf8(&buf).unwrap(), "journal");
    assert_eq!(r[0].denied_mask, t("r"));
    println!("pitfalls E: source selection checked");
}
