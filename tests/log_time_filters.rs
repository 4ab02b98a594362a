//! `aactl log --since/--until` as people type times, in a pinned time zone
//! (Europe/Berlin and UTC, whatever the host's), times shown in local time
//! or UTC (`--utc`), `--profile NAME` exact with its children, the regex
//! form, and `--summary` with `--suggest`; `aactl status` filters and
//! `--count`.

use crate::common::{aactl, aactl_in_zone};

/// Four records at 1700000000 + 0/100/200/300 s (2023-11-14T22:13:20Z, which
/// is 23:13:20 in Berlin).
const MIX: &str = "type=AVC msg=audit(1700000000.000:1): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/bin/a\" name=\"/etc/a\" pid=10 comm=\"a\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=1\n\
type=AVC msg=audit(1700000100.000:2): apparmor=\"DENIED\" operation=\"capable\" class=\"cap\" profile=\"man\" pid=11 comm=\"a2\" capability=12 capname=\"net_admin\"\n\
type=AVC msg=audit(1700000200.000:3): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"man_filter\" name=\"/etc/b\" pid=12 comm=\"b\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n\
type=AVC msg=audit(1700000300.000:4): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"man//filter\" name=\"/etc/c\" pid=13 comm=\"b\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n";

fn log_file(text: &str) -> (tempfile::TempDir, String) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("audit.log");
    std::fs::write(&p, text).unwrap();
    let s = p.to_str().unwrap().to_owned();
    (d, s)
}

/// The pids `aactl log ARGS FILE` lists, run in `zone`.
fn pids_in(zone: &str, args: &[&str], file: &str) -> Vec<u64> {
    let mut v = vec!["log", "--format", "json"];
    v.extend_from_slice(args);
    v.push(file);
    let (code, out, err) = aactl_in_zone(zone, &v);
    assert_eq!(code, 0, "{args:?}: {err}");
    out.lines()
        .map(|l| {
            let j: serde_json::Value = serde_json::from_str(l).unwrap();
            j["pid"].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn absolute_times_are_local() {
    let (_d, f) = log_file(MIX);
    let f = f.as_str();
    // 23:15 in Berlin is 22:15Z: the records at 22:15:00Z and later
    assert_eq!(
        pids_in("Europe/Berlin", &["--since", "2023-11-14 23:15"], f),
        [11, 12, 13]
    );
    // the same text in UTC is an hour later: none
    assert_eq!(
        pids_in("UTC", &["--since", "2023-11-14 23:15"], f),
        [] as [u64; 0]
    );
    assert_eq!(
        pids_in("UTC", &["--since", "2023-11-14T22:15:00"], f),
        [11, 12, 13]
    );
    // an explicit offset wins over the zone
    assert_eq!(
        pids_in("Europe/Berlin", &["--since", "2023-11-14T22:16:00Z"], f),
        [12, 13]
    );
    assert_eq!(
        pids_in("UTC", &["--until", "2023-11-14T23:15:00+01:00"], f),
        [10, 11]
    );
    // a date alone is its local midnight
    assert_eq!(
        pids_in("Europe/Berlin", &["--until", "2023-11-14"], f),
        [] as [u64; 0]
    );
    assert_eq!(
        pids_in(
            "Europe/Berlin",
            &["--since", "2023-11-14", "--until", "2023-11-15"],
            f
        ),
        [10, 11, 12, 13]
    );
    // epochs
    assert_eq!(
        pids_in("Europe/Berlin", &["--since", "@1700000200"], f),
        [12, 13]
    );
    assert_eq!(pids_in("UTC", &["--until", "1700000100"], f), [10, 11]);
}

#[test]
fn impossible_and_unreadable_times_are_usage_errors_on_one_line() {
    let (_d, f) = log_file(MIX);
    for (arg, want) in [
        (
            "2023-02-30",
            "aactl: --since: invalid date \"2023-02-30\": 2023-02 has days 1 to 28\n",
        ),
        (
            "25:00",
            "aactl: --since: invalid time \"25:00\": hours go to 23, minutes and seconds to 59\n",
        ),
    ] {
        let (code, out, err) = aactl_in_zone("Europe/Berlin", &["log", "--since", arg, &f]);
        assert_eq!((code, out.as_str(), err.as_str()), (2, "", want));
    }
    let (code, _, err) = aactl(&["log", "--until", "next blue moon", &f]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("aactl: --until: cannot read time \"next blue moon\""),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // the journal gets the same check before journalctl runs
    let (code, out, err) = aactl(&["log", "journal", "--since", "2023-02-30"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("2023-02 has days 1 to 28"), "{err}");
    // a window that ends before it starts
    let (code, _, err) = aactl(&["log", "--since", "@20", "--until", "@10", &f]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("later than --until"), "{err}");
}

/// Records stamped relative to now: every relative form, the clock-time and
/// day-word forms, in both zones.
#[test]
fn relative_clock_and_day_word_times() {
    let now = jiff::Timestamp::now().as_second() as u64;
    let line = |t: u64, pid: u32| {
        format!(
            "type=AVC msg=audit({t}.000:{pid}): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid={pid} comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
        )
    };
    // 1 minute, 90 minutes, 3 days and 10 days ago
    let text = line(now - 60, 1)
        + &line(now - 5400, 2)
        + &line(now - 3 * 86400, 3)
        + &line(now - 10 * 86400, 4);
    let (_d, f) = log_file(&text);
    let f = f.as_str();
    for zone in ["Europe/Berlin", "UTC"] {
        for (args, want) in [
            (&["--since", "-1h"][..], &[1][..]),
            (&["--since", "1h ago"], &[1]),
            (&["--since", "1h"], &[1]),
            (&["--since", "2 hours ago"], &[1, 2]),
            (&["--since", "-2h"], &[1, 2]),
            (&["--since", "100min"], &[1, 2]),
            (&["--since", "1h20m ago", "--until", "-1h"], &[]),
            (&["--since", "1h40m ago", "--until", "-1h"], &[2]),
            (&["--since", "1w"], &[1, 2, 3]),
            (&["--since", "4 days ago", "--until", "-2d"], &[3]),
            (&["--until", "-1d"], &[3, 4]),
            (&["--since", "now"], &[]),
            (&["--until", "+1h"], &[1, 2, 3, 4]),
            (&["--since", "yesterday", "--until", "tomorrow"], &[1, 2]),
            (&["--since", "today", "--until", "tomorrow 00:00"], &[]),
        ] {
            let got = pids_in(zone, args, f);
            // the two most recent records straddle midnight on some runs: check
            // the day words against the clock instead of a fixed answer
            if args.contains(&"today") {
                let midnight = jiff::Timestamp::now()
                    .to_zoned(jiff::tz::TimeZone::get(zone).unwrap())
                    .start_of_day()
                    .unwrap()
                    .timestamp()
                    .as_second() as u64;
                let want: Vec<u64> = [(now - 60, 1), (now - 5400, 2)]
                    .into_iter()
                    .filter(|(t, _)| *t >= midnight)
                    .map(|(_, p)| p)
                    .collect();
                assert_eq!(got, want, "{zone} {args:?}");
            } else {
                assert_eq!(got, want, "{zone} {args:?}");
            }
        }
    }
}

#[test]
fn a_clock_time_is_today_in_the_zone() {
    let zone = "Europe/Berlin";
    let tz = jiff::tz::TimeZone::get(zone).unwrap();
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let at = |h: i8, m: i8| {
        today
            .at(h, m, 0, 0)
            .to_zoned(tz.clone())
            .unwrap()
            .timestamp()
            .as_second()
    };
    let text = format!(
        "type=AVC msg=audit({}.000:1): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\"\n\
         type=AVC msg=audit({}.000:2): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=2 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\"\n",
        at(9, 59),
        at(10, 1)
    );
    let (_d, f) = log_file(&text);
    assert_eq!(pids_in(zone, &["--since", "10:00"], &f), [2]);
    assert_eq!(pids_in(zone, &["--until", "10:00"], &f), [1]);
    assert_eq!(
        pids_in(
            zone,
            &["--since", "today 09:00", "--until", "today 10:00:30"],
            &f
        ),
        [1]
    );
}

#[test]
fn text_shows_local_time_utc_with_the_flag_and_json_stays_utc() {
    let (_d, f) = log_file(MIX);
    let (_, out, _) = aactl_in_zone("Europe/Berlin", &["log", &f]);
    assert!(
        out.starts_with("2023-11-14T23:13:20.000+01:00 DENIED "),
        "{out}"
    );
    let (_, out, _) = aactl_in_zone("Europe/Berlin", &["log", "--utc", &f]);
    assert!(out.starts_with("2023-11-14T22:13:20.000Z DENIED "), "{out}");
    let (_, out, _) = aactl_in_zone("Europe/Berlin", &["--utc", "log", "--pid", "10", &f]);
    assert!(out.starts_with("2023-11-14T22:13:20.000Z DENIED "), "{out}");
    let (_, out, _) = aactl_in_zone("America/New_York", &["log", "--format", "json", &f]);
    assert!(
        out.contains("\"time\":\"2023-11-14T22:13:20.000Z\""),
        "{out}"
    );
    // the summary's first and last times too (the day in the heading, as all are on one day)
    let (_, out, _) = aactl_in_zone("Europe/Berlin", &["log", "--summary", "--pid", "11", &f]);
    assert!(out.contains(", on 2023-11-14)"), "{out}");
    assert!(out.contains("| 23:15:00 | 23:15:00 |"), "{out}");
    let (_, out, _) = aactl_in_zone("Europe/Berlin", &["log", "--summary", "--json", &f]);
    assert!(
        out.contains("\"first\":\"2023-11-14T22:13:20.000Z\""),
        "{out}"
    );
}

/// The real program reads the zone from TZ.
#[test]
fn the_program_takes_the_zone_from_tz() {
    let (_d, f) = log_file(MIX);
    let run = |tz: &str, args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_aactl"))
            .arg("log")
            .args(args)
            .arg(&f)
            .env("TZ", tz)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    assert!(run("Europe/Berlin", &[]).starts_with("2023-11-14T23:13:20.000+01:00 "));
    assert!(run("UTC", &[]).starts_with("2023-11-14T22:13:20.000Z "));
    assert!(run("Europe/Berlin", &["--utc"]).starts_with("2023-11-14T22:13:20.000Z "));
    assert_eq!(
        run("Europe/Berlin", &["--since", "2023-11-14 23:16"])
            .lines()
            .count(),
        2
    );
    assert_eq!(
        run("UTC", &["--since", "2023-11-14 23:16"]).lines().count(),
        0
    );
}

/// A syslog line whose audit id has no time (some kernels print
/// `audit(0.000:0)` to the ring buffer) is placed by its prefix, read in the
/// local zone.
#[test]
fn syslog_prefix_times_are_local() {
    let rec = "audit: type=1400 audit(0000000000.000:0): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=7 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0";
    // an RFC 3339 prefix without an offset: 23:13:20 local
    let (_d, f) = log_file(&format!("2023-11-14T23:13:20 host kernel: {rec}\n"));
    assert_eq!(
        pids_in("Europe/Berlin", &["--since", "@1700000000"], &f),
        [7]
    );
    assert_eq!(
        pids_in("Europe/Berlin", &["--since", "@1700000001"], &f),
        [] as [u64; 0]
    );
    assert_eq!(pids_in("UTC", &["--since", "@1700003600"], &f), [7]);
    // the classic form has no year: the latest one not in the future
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let hour_ago = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(1))
        .unwrap()
        .to_zoned(tz);
    let prefix = hour_ago.strftime("%b %e %H:%M:%S").to_string();
    let (_d, f) = log_file(&format!("{prefix} host kernel: {rec}\n"));
    assert_eq!(
        pids_in("Europe/Berlin", &["--since", "-2h"], &f),
        [7],
        "{prefix}"
    );
    assert_eq!(
        pids_in("Europe/Berlin", &["--since", "-30min"], &f),
        [] as [u64; 0]
    );
    // read as UTC, Berlin's wall clock is one or two hours ahead: in the future
    assert_eq!(pids_in("UTC", &["--since", "-30min"], &f), [7]);
}

#[test]
fn profile_is_exact_with_children_and_the_regex_has_its_own_option() {
    let (_d, f) = log_file(MIX);
    let f = f.as_str();
    assert_eq!(pids_in("UTC", &["--profile", "man"], f), [11, 13]);
    assert_eq!(pids_in("UTC", &["--profile", "man//filter"], f), [13]);
    assert_eq!(pids_in("UTC", &["--profile", "ma"], f), [] as [u64; 0]);
    assert_eq!(pids_in("UTC", &["--profile", "/usr/bin/a"], f), [10]);
    // regex metacharacters in a name are literal
    assert_eq!(
        pids_in("UTC", &["--profile", "/usr/bin/."], f),
        [] as [u64; 0]
    );
    assert_eq!(pids_in("UTC", &["--profile-regex", "man"], f), [11, 12, 13]);
    assert_eq!(pids_in("UTC", &["--profile-regex", "^man_"], f), [12]);
    let (code, out, err) = aactl(&["log", "--profile-regex", "(a|", f]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("\\n"), "{err}");
    assert!(
        err.starts_with("aactl: --profile-regex \"(a|\": invalid regular expression: "),
        "{err}"
    );
    let (code, _, err) = aactl(&["log", "--profile", "man", "--profile-regex", "m", f]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
    // nothing left: how many records the filters dropped
    let (code, out, err) = aactl(&["log", "--profile", "nobody", f]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(
        err,
        "aactl: none of the 4 record(s) read matched the filters\n"
    );
}

/// `--summary --suggest` prints both: the summary, then the rules (in JSON,
/// one line each).
#[test]
fn summary_and_suggest_together() {
    let (_d, f) = log_file(MIX);
    let (code, out, err) = aactl(&[
        "log",
        "--summary",
        "--suggest",
        "--profile-dir",
        "/nonexistent",
        "--profile",
        "/usr/bin/a",
        &f,
    ]);
    assert_eq!(code, 0, "{err}");
    let summary = out.find("/usr/bin/a (1 record, 1 group").expect(&out);
    let rules = out.find("/usr/bin/a {\n  /etc/a r,\n}").expect(&out);
    assert!(summary < rules, "{out}");
    let (code, out, err) = aactl(&[
        "log",
        "--summary",
        "--suggest",
        "--json",
        "--profile-dir",
        "/nonexistent",
        &f,
    ]);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 2, "{out}");
    assert_eq!(docs[0]["records"], 4);
    assert!(docs[1]["profiles"].is_array(), "{out}");
}

fn status(args: &[&str]) -> (u8, String, String) {
    let root = crate::common::repo().join("testdata/systems/debian12-vm");
    let mut v = vec!["--root", root.to_str().unwrap(), "status"];
    v.extend_from_slice(args);
    aactl(&v)
}

fn count(args: &[&str]) -> u64 {
    let mut v = vec!["--count"];
    v.extend_from_slice(args);
    let (code, out, err) = status(&v);
    assert_eq!(code, 0, "{args:?}: {err}");
    out.trim().parse().expect(&out)
}

#[test]
fn status_filters_and_count() {
    assert_eq!(count(&[]), 45);
    assert_eq!(count(&["--mode", "complain"]), 24);
    assert_eq!(
        count(&["--mode", "enforce,kill"]),
        count(&["-m", "enforce", "-m", "kill"])
    );
    assert_eq!(count(&["--namespace", "vmns"]), 2);
    assert_eq!(count(&["--namespace", "vmns", "--mode", "enforce"]), 1);
    // exact, with children: dnsmasq and dnsmasq//libvirt_leaseshelper
    assert_eq!(count(&["--profile", "dnsmasq"]), 2);
    assert_eq!(count(&["--profile", "dnsmas"]), 0);
    assert_eq!(count(&["--profile", ":vmns:vmtest-ns"]), 1);
    assert_eq!(
        count(&["--profile-regex", "^vmtest-(enforce|complain)$"]),
        2
    );
    assert_eq!(count(&["--profile-regex", "^:vmns:"]), 2);
    // the tables keep the processes of the profiles kept, and recount
    let (code, out, err) = status(&["--mode", "kill"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 profile is loaded"), "{out}");
    assert!(out.contains("1 process is confined."), "{out}");
    assert!(out.contains(" 172 "), "{out}");
    let (_, out, _) = status(&["--profile", "vmtest-enforce", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let pids: Vec<u64> = j["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids, [170, 176, 177, 179]);
    assert_eq!(j["profiles"]["total"], 1);
    assert_eq!(j["unconfined_with_profile"], serde_json::json!([]));
    let (_, out, _) = status(&["--profile", "/usr/bin/busybox-vmtest", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["unconfined_with_profile"][0]["pid"], 182);
    // bad values
    let (code, out, err) = status(&["--profile-regex", "[z-a]"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("aactl: --profile-regex \"[z-a]\": invalid regular expression"),
        "{err}"
    );
    let (code, _, err) = status(&["--count", "--json"]);
    assert_eq!(code, 2, "{err}");
    let (code, out, err) = status(&["--mode", "enforcee", "--count"]);
    assert_eq!((code, out.as_str()), (0, "0\n"));
    assert!(err.contains("did you mean 'enforce'"), "{err}");
}
