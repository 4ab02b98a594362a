//! Conformance of the log parser: every case of the libapparmor corpus
//! (`../shared/corpus/libapparmor-logs`) rendered in `test_multi`'s `.out`
//! layout and compared, with the deviations listed in COMPATIBILITY.md
//! enforced both ways; every probe of `spec/logparse-probes`.

use crate::common;
use apparmor::log::parse_line;
use apparmor::log::render::test_multi;
use std::path::Path;

/// Cases where libapparmor's `.out` says INVALID (or differs) but the line is
/// a real record in a form libapparmor does not know; we parse it. Each one
/// is listed in COMPATIBILITY.md ("Log parsing"), with the record we give.
pub const CORPUS_DEVIATIONS: &[(&str, &str)] = &[
    (
        "avc_audit_invalid_audit_id",
        "Event type: AA_RECORD_DENIED\nOperation: open\nMask: r\nDenied Mask: r\nfsuid: 0\nouid: 1000\nProfile: /usr/sbin/cupsd\nName: /home/user/.ssh/\nCommand: ls\nParent: 12332\nPID: 12333\n",
    ),
    (
        "status-filesystem-enabled",
        "Event type: AA_RECORD_STATUS\nAudit ID: 1630913351.586:4\nCommand: swapper/0\nInfo: AppArmor Filesystem Enabled\nPID: 1\nEpoch: 1630913351\nAudit subid: 4\n",
    ),
];

/// One test case's text as test_multi sees it: continuation lines (leading
/// whitespace) joined, trailing blank lines dropped.
fn join_case(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, l) in text.split(|&b| b == b'\n').enumerate() {
        if l.is_empty() {
            continue;
        }
        if i > 0 {
            if matches!(l.first(), Some(b' ' | b'\t')) {
                out.push(b' ');
            } else {
                break;
            }
        }
        out.extend_from_slice(l);
    }
    out
}

fn render(line: &[u8]) -> String {
    String::from_utf8_lossy(&test_multi(&parse_line(line))).into_owned()
}

#[test]
fn libapparmor_corpus() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = shared.join("corpus/libapparmor-logs");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".in"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 100, "corpus too small: {}", names.len());
    let (mut same, mut deviating, mut failures) = (0, 0, Vec::new());
    for n in &names {
        let input = std::fs::read(dir.join(format!("{n}.in"))).unwrap();
        let out = std::fs::read_to_string(dir.join(format!("{n}.out"))).unwrap();
        let expected: String = out.lines().skip(2).map(|l| format!("{l}\n")).collect();
        let got = render(&join_case(&input));
        match CORPUS_DEVIATIONS.iter().find(|d| d.0 == n) {
            Some((_, ours)) => {
                if got == expected {
                    failures.push(format!(
                        "{n}: listed as a deviation but matches libapparmor"
                    ));
                } else if got != *ours {
                    failures.push(format!(
                        "{n}: deviation differs\n--- ours\n{got}--- listed\n{ours}"
                    ));
                } else {
                    deviating += 1;
                }
            }
            None if got == expected => same += 1,
            None => failures.push(format!("{n}:\n--- ours\n{got}--- .out\n{expected}")),
        }
    }
    println!(
        "libapparmor corpus: {} cases, {same} identical, {deviating} listed deviations, {} failures",
        names.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // the deviation list in COMPATIBILITY.md names the same cases
    let compat = std::fs::read_to_string(common::repo().join("COMPATIBILITY.md")).unwrap();
    for (n, _) in CORPUS_DEVIATIONS {
        assert!(
            compat.contains(&format!("`{n}`")),
            "COMPATIBILITY.md does not list {n}"
        );
    }
}

/// The probes of spec/logparse-probes with the record we must give. `None`
/// means libapparmor 6.0's answer (probe-results.txt) is the correct one.
fn probe_expectations() -> Vec<Option<&'static str>> {
    const FILE_CLASS: &str = "Event type: AA_RECORD_DENIED|Audit ID: 1700000000.123:45|Operation: open|Mask: r|Denied Mask: r|fsuid: 0|ouid: 0|Profile: /usr/bin/foo|Name: /etc/shadow|Command: foo|PID: 1234|Class: file|Epoch: 1700000000|Audit subid: 45|";
    const FILE_NOCLASS: &str = "Event type: AA_RECORD_DENIED|Audit ID: 1700000000.123:45|Operation: open|Mask: r|Denied Mask: r|fsuid: 0|ouid: 0|Profile: /usr/bin/foo|Name: /etc/shadow|Command: foo|PID: 1234|Epoch: 1700000000|Audit subid: 45|";
    const FILE_NOID: &str = "Event type: AA_RECORD_DENIED|Operation: open|Mask: r|Denied Mask: r|fsuid: 0|ouid: 0|Profile: /usr/bin/foo|Name: /etc/shadow|Command: foo|PID: 1234|Class: file|";
    const DBUS_FULL: &str = "Event type: AA_RECORD_DENIED|Audit ID: 1700000000.123:45|Operation: dbus_method_call|Denied Mask: send|Profile: foo|Peer profile: unconfined|Name: a.b|Command: /usr/bin/dbus-daemon|PID: 3|Peer PID: 4|DBus bus: system|DBus path: /x|DBus interface: a.b|DBus member: M|Epoch: 1700000000|Audit subid: 45|";
    const DBUS_SHORT: &str = "Event type: AA_RECORD_DENIED|Audit ID: 1700000000.123:45|Operation: dbus_method_call|Denied Mask: send|Profile: foo|Peer profile: unconfined|Command: /usr/bin/dbus-daemon|DBus bus: system|DBus path: /x|DBus interface: a.b|DBus member: M|Epoch: 1700000000|Audit subid: 45|";
    let mut v: Vec<Option<&'static str>> = Vec::new();
    // 1-22: framings of one record with class=; every one is the same record
    // (17-19 and 21 carry no audit id)
    for i in 1..=22 {
        v.push(Some(match i {
            17 | 18 | 19 | 21 => FILE_NOID,
            _ => FILE_CLASS,
        }));
    }
    // 23-25 without class=
    const FILE_NOCLASS_NOID: &str = "Event type: AA_RECORD_DENIED|Operation: open|Mask: r|Denied Mask: r|fsuid: 0|ouid: 0|Profile: /usr/bin/foo|Name: /etc/shadow|Command: foo|PID: 1234|";
    v.extend([
        Some(FILE_NOCLASS),
        Some(FILE_NOCLASS),
        Some(FILE_NOCLASS_NOID),
    ]);
    // 26 plain USER_AVC (6.0 right), 27 with subj=, 28 enriched trailer,
    // 29 bare type=1107, 30 printk'd (6.0 right), 31 dbus-daemon syslog (6.0 right)
    v.extend([
        None,
        Some(DBUS_FULL),
        Some(DBUS_SHORT),
        Some(DBUS_SHORT),
        None,
        None,
    ]);
    // 32 hex name/comm (6.0 right)
    v.push(None);
    // 33 lowercase "hex" and 34 odd length: not kernel hex, kept literally
    v.push(Some("Event type: AA_RECORD_DENIED|Audit ID: 1.2:3|Operation: open|Profile: foo|Name: 2f746d70|PID: 1|Epoch: 1|Audit subid: 3|"));
    v.push(Some("Event type: AA_RECORD_DENIED|Audit ID: 1.2:3|Operation: open|Profile: foo|Name: 2F746D7|PID: 1|Epoch: 1|Audit subid: 3|"));
    // 35 hex label (6.0 right)
    v.push(None);
    // 36 hex signal peer, 37 hex srcname, 38 hex execpath: decoded
    v.push(Some("Event type: AA_RECORD_DENIED|Audit ID: 1.2:3|Operation: signal|Mask: send|Denied Mask: send|Profile: foo|Peer: foo bar|Command: a|PID: 1|Signal: term|Class: signal|Epoch: 1|Audit subid: 3|"));
    v.push(Some("Event type: AA_RECORD_DENIED|Audit ID: 1.2:3|Operation: mount|Profile: foo|Name: /mnt/|Command: mount|Info: failed mntpnt match|ErrorCode: 13|PID: 1|FS Type: ext4|Flags: rw|Src name: /dev/a b |Class: mount|Epoch: 1|Audit subid: 3|"));
    v.push(Some("Event type: AA_RECORD_AUDIT|Audit ID: 1.2:3|Operation: userns_create|Mask: userns_create|Profile: unconfined|Command: u|Name2: unprivileged_userns|Info: x|PID: 1|Execpath: /a b|Class: namespace|Epoch: 1|Audit subid: 3|"));
    // 39 unknown key: kept aside, record valid
    v.push(Some("Event type: AA_RECORD_DENIED|Audit ID: 1.2:3|Operation: open|Mask: r|Denied Mask: r|fsuid: 0|ouid: 0|Profile: /usr/bin/foo|Name: /etc/shadow|Command: foo|PID: 1234|Epoch: 1|Audit subid: 3|"));
    // 40 0x1d enrichment (6.0 right)
    v.push(None);
    // 41 KILLED
    v.push(Some("Event type: AA_RECORD_KILLED|Audit ID: 1.2:3|Operation: open|Mask: r|Denied Mask: r|fsuid: 1|ouid: 1|Profile: foo|Name: /x|Command: a|PID: 1|Class: file|Epoch: 1|Audit subid: 3|"));
    // 42 ERROR (6.0 right)
    v.push(None);
    // 43 no apparmor= (audit_header=0): kind inferred (no denied mask → AUDIT)
    v.push(Some("Event type: AA_RECORD_AUDIT|Audit ID: 1.2:3|Operation: open|Profile: foo|Name: /x|PID: 1|Epoch: 1|Audit subid: 3|"));
    // 44 UNKNOWN[1507]: not an AppArmor type
    v.push(Some("Event type: AA_RECORD_INVALID|Audit ID: 1.002:3|Info: operation=\"open\" profile=\"foo\" name=\"/x\" pid=1|Epoch: 1|Audit subid: 3|"));
    // 45-51 (6.0 right)
    v.extend([None, None, None, None, None, None, None]);
    v
}

fn pipe_form(rendered: &str) -> String {
    rendered.lines().map(|l| format!("{l}|")).collect()
}

/// Parses probes.txt (printf %b escapes: only `\x1d` is used) and
/// probe-results.txt's `6.0:` lines.
fn probes(shared: &Path) -> Vec<(String, String)> {
    let dir = shared.join("spec/logparse-probes");
    let p = std::fs::read_to_string(dir.join("probes.txt")).unwrap();
    let inputs: Vec<String> = p
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.replace("\\x1d", "\x1d"))
        .collect();
    let r = std::fs::read_to_string(dir.join("probe-results.txt")).unwrap();
    let six: Vec<String> = r
        .lines()
        .filter_map(|l| l.strip_prefix("6.0:"))
        .map(|l| l.trim_start().to_owned())
        .collect();
    assert_eq!(inputs.len(), six.len());
    inputs.into_iter().zip(six).collect()
}

#[test]
fn logparse_probes() {
    let Some(shared) = common::shared() else {
        return;
    };
    let probes = probes(&shared);
    let exp = probe_expectations();
    assert_eq!(probes.len(), exp.len(), "probe count");
    let mut fails = Vec::new();
    let (mut agree, mut differ) = (0, 0);
    for (i, ((input, six), e)) in probes.iter().zip(&exp).enumerate() {
        let got = pipe_form(&render(input.as_bytes()));
        let want = e.unwrap_or(six);
        if e.is_some() && *e != Some(six.as_str()) {
            differ += 1;
        } else {
            agree += 1;
        }
        if got != want {
            fails.push(format!(
                "probe {}: {input}\n  got:  {got}\n  want: {want}",
                i + 1
            ));
        }
    }
    println!(
        "logparse probes: {} total, {agree} as libapparmor 6.0, {differ} corrected, {} failures",
        probes.len(),
        fails.len()
    );
    assert!(fails.is_empty(), "{}", fails.join("\n"));

    // what the `.out` layout cannot show: kept keys and enrichment
    let rec = |i: usize| match parse_line(probes[i - 1].0.as_bytes()) {
        apparmor::log::ParsedLine::AppArmor(r) => r,
        other => panic!("probe {i}: {other:?}"),
    };
    assert_eq!(rec(39).extra_value("bogus_key").unwrap(), "x");
    assert_eq!(rec(40).extra_value("FSUID").unwrap(), "root");
    let r28 = rec(28);
    assert_eq!(r28.extra_value("UID").unwrap(), "root");
    assert_eq!(r28.extra_value("AUID").unwrap(), "unset");
    let r27 = rec(27);
    assert!(
        r27.header
            .iter()
            .any(|(k, v)| k == "subj" && *v == "unconfined")
    );
    assert_eq!(rec(41).event, apparmor::log::EventType::Killed);
    assert!(rec(41).event.is_denial());
    assert_eq!(rec(46).extra_value("capability"), None);
    assert_eq!(rec(48).extra_value("addr").unwrap(), "none");
    assert!(matches!(
        parse_line(probes[50].0.as_bytes()),
        apparmor::log::ParsedLine::Other(_)
    ));
}
