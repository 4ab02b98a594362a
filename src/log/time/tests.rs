use super::*;

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("the tz database has Europe/Berlin")
}

/// 2023-11-14T22:13:20Z: 23:13:20 in Berlin (CET, +01:00).
fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_000).unwrap()
}

fn at(text: &str, tz: &TimeZone) -> Result<u64, TimeError> {
    parse_time(text, now(), tz)
}

#[test]
fn epochs() {
    let utc = TimeZone::UTC;
    assert_eq!(at("@5", &utc), Ok(5));
    assert_eq!(at("@1700000000.75", &berlin()), Ok(1_700_000_000));
    assert_eq!(at("1700000000", &berlin()), Ok(1_700_000_000));
    assert_eq!(at("now", &berlin()), Ok(1_700_000_000));
    assert!(matches!(at("@x", &utc), Err(TimeError::Unreadable { .. })));
    assert!(matches!(at("@-5", &utc), Err(TimeError::Unreadable { .. })));
}

#[test]
fn relative() {
    for tz in [TimeZone::UTC, berlin()] {
        let n = 1_700_000_000;
        assert_eq!(at("-1h", &tz), Ok(n - 3600));
        assert_eq!(at("1h ago", &tz), Ok(n - 3600));
        assert_eq!(at("1h", &tz), Ok(n - 3600));
        assert_eq!(at("2 hours ago", &tz), Ok(n - 7200));
        assert_eq!(at("90min", &tz), Ok(n - 5400));
        assert_eq!(at("-30s", &tz), Ok(n - 30));
        assert_eq!(at("1h 30m ago", &tz), Ok(n - 5400));
        assert_eq!(at("3 days ago", &tz), Ok(n - 3 * 86400));
        assert_eq!(at("1w", &tz), Ok(n - 7 * 86400));
        assert_eq!(at("+1h", &tz), Ok(n + 3600));
        assert_eq!(at("in 2h", &tz), Ok(n + 7200));
    }
}

#[test]
fn days_across_a_clock_change_are_calendar_days() {
    // 2023-10-29 01:00Z: Berlin goes from +02:00 to +01:00 at 03:00 local.
    // A day before 2023-10-29T12:00+01:00 is 2023-10-28T12:00+02:00, 25 hours.
    let now = Timestamp::from_second(1_698_577_200).unwrap(); // 2023-10-29T11:00Z
    assert_eq!(
        parse_time("1 day ago", now, &berlin()),
        Ok(1_698_577_200 - 25 * 3600)
    );
    assert_eq!(
        parse_time("1 day ago", now, &TimeZone::UTC),
        Ok(1_698_577_200 - 24 * 3600)
    );
}

#[test]
fn day_words_use_the_zone() {
    // now is 2023-11-14 in both zones; Berlin's midnight is 23:00Z the day before
    let utc_midnight = 1_699_920_000; // 2023-11-14T00:00Z
    assert_eq!(at("today", &TimeZone::UTC), Ok(utc_midnight));
    assert_eq!(at("today", &berlin()), Ok(utc_midnight - 3600));
    assert_eq!(at("yesterday", &berlin()), Ok(utc_midnight - 3600 - 86400));
    assert_eq!(at("tomorrow", &TimeZone::UTC), Ok(utc_midnight + 86400));
    assert_eq!(at("today 10:00", &berlin()), Ok(utc_midnight + 9 * 3600));
    assert_eq!(
        at("yesterday 23:30:15", &TimeZone::UTC),
        Ok(utc_midnight - 1800 + 15)
    );
    assert!(at("today noon", &berlin()).is_err());
    // 23:30 UTC is already the 15th in Berlin
    let late = Timestamp::from_second(1_699_920_000 + 23 * 3600 + 1800).unwrap();
    assert_eq!(
        parse_time("today", late, &berlin()),
        Ok(utc_midnight + 86400 - 3600)
    );
}

#[test]
fn clock_times_are_today() {
    let utc_midnight = 1_699_920_000;
    assert_eq!(at("10:00", &TimeZone::UTC), Ok(utc_midnight + 10 * 3600));
    assert_eq!(at("10:00", &berlin()), Ok(utc_midnight + 9 * 3600));
    assert_eq!(at("10:00:30", &berlin()), Ok(utc_midnight + 9 * 3600 + 30));
    assert_eq!(
        at("9:05", &TimeZone::UTC),
        Ok(utc_midnight + 9 * 3600 + 300)
    );
    assert!(matches!(
        at("24:00", &berlin()),
        Err(TimeError::ImpossibleClock { .. })
    ));
    assert!(matches!(
        at("10:60", &berlin()),
        Err(TimeError::ImpossibleClock { .. })
    ));
}

#[test]
fn dates_and_date_times() {
    let b = berlin();
    let u = TimeZone::UTC;
    assert_eq!(at("1970-01-02", &u), Ok(86400));
    assert_eq!(at("2023-11-14 22:13:20", &u), Ok(1_700_000_000));
    assert_eq!(at("2023-11-14 23:13:20", &b), Ok(1_700_000_000));
    assert_eq!(at("2023-11-14T23:13", &b), Ok(1_699_999_980));
    assert_eq!(at("2023-11-14T23:13:20.5", &b), Ok(1_700_000_000));
    // summer time: +02:00
    assert_eq!(at("2023-07-01", &b), Ok(1_688_162_400));
    // an explicit offset wins over the zone
    assert_eq!(at("2023-11-14T22:13:20Z", &b), Ok(1_700_000_000));
    assert_eq!(at("2023-11-14T23:13:20+01:00", &u), Ok(1_700_000_000));
    assert_eq!(at("2023-11-14T17:13:20-0500", &b), Ok(1_700_000_000));
    assert_eq!(at("2024-02-29", &u), Ok(1_709_164_800));
    assert_eq!(at("2000-02-29", &u), Ok(951_782_400));
    // 02:30 on 2023-03-26 does not exist in Berlin: the later side of the gap
    assert_eq!(at("2023-03-26 02:30", &b), Ok(1_679_794_200));
    assert_eq!(
        at("1969-12-31", &u),
        Err(TimeError::OutOfRange {
            text: "1969-12-31".into()
        })
    );
}

#[test]
fn impossible_dates_are_refused_on_one_line() {
    let b = berlin();
    assert_eq!(
        at("2023-02-30", &b).unwrap_err().to_string(),
        "invalid date \"2023-02-30\": 2023-02 has days 1 to 28"
    );
    assert!(at("2100-02-29", &b).is_err());
    for bad in [
        "2023-04-31",
        "2023-13-01",
        "2023-00-10",
        "2023-01-00",
        "2023-01-01 24:00",
        "2023-01-01 12:60",
        "2023-01-01 12:00:60",
        "2023-+1-01",
        "2023-01-0\u{e9}",
        "2023-01-01 -1:00",
        "2023-01-01 12:00:1x",
        "2023-01-01X12:00",
        "2023-01-01T12:00+25:00",
        "soon",
        "",
        "1 fortnight ago",
        "+-1h",
    ] {
        let e = at(bad, &b).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains(&format!("{:?}", bad.trim())), "{e}");
    }
}

#[test]
fn syslog_prefixes_are_local() {
    let b = berlin();
    // a classic line without a year, read in November 2023
    assert_eq!(
        prefix_timestamp("Nov 14 23:13:20", now(), &b),
        Some(1_700_000_000)
    );
    assert_eq!(
        prefix_timestamp("Nov 14 22:13:20", now(), &TimeZone::UTC),
        Some(1_700_000_000)
    );
    // December's lines read in January belong to the year before
    let jan = Timestamp::from_second(1_704_200_000).unwrap(); // 2024-01-02
    assert_eq!(
        prefix_timestamp("Dec 31 23:00:00", jan, &TimeZone::UTC),
        Some(1_704_063_600)
    );
    assert_eq!(
        prefix_timestamp("Nov 14 23:13:20.123456", now(), &b),
        Some(1_700_000_000)
    );
    assert_eq!(
        prefix_timestamp("2023-11-14T23:13:20.123456+01:00", now(), &TimeZone::UTC),
        Some(1_700_000_000)
    );
    assert_eq!(
        prefix_timestamp("2023-11-14T23:13:20", now(), &b),
        Some(1_700_000_000)
    );
    assert_eq!(prefix_timestamp("[ 12.5]", now(), &b), None);
    assert_eq!(prefix_timestamp("Foo 14 23:13:20", now(), &b), None);
}

#[test]
fn shown_times() {
    assert_eq!(
        format_time(1_700_000_000, 123, &TimeZone::UTC),
        "2023-11-14T22:13:20.123Z"
    );
    assert_eq!(
        format_time(1_700_000_000, 5, &berlin()),
        "2023-11-14T23:13:20.005+01:00"
    );
    assert_eq!(
        format_time(1_688_162_400, 0, &berlin()),
        "2023-07-01T00:00:00.000+02:00"
    );
}

#[test]
fn zone_formatter_matches_format_time() {
    let zones = [
        TimeZone::UTC,
        berlin(),
        TimeZone::get("America/St_Johns").unwrap(),
        TimeZone::get("Asia/Kolkata").unwrap(),
        TimeZone::get("Europe/London").unwrap(),
        TimeZone::get("Africa/Monrovia").unwrap(),
        TimeZone::fixed(jiff::tz::Offset::from_seconds(0).unwrap()),
        TimeZone::fixed(jiff::tz::Offset::from_seconds(-5 * 3600).unwrap()),
        TimeZone::posix("EST5EDT,M3.2.0,M11.1.0").unwrap(),
    ];
    // around Berlin's change of 2023-03-26 01:00Z and 2023-10-29 01:00Z,
    // far back (offsets with seconds), the epoch, and far ahead
    let mut times: Vec<u64> = Vec::new();
    for base in [1_679_792_400u64, 1_698_541_200, 1_700_000_000] {
        for d in 0..400u64 {
            times.push(base - 7200 + d * 37);
        }
    }
    times.extend([
        0,
        1,
        59,
        3599,
        86_399,
        86_400,
        100_000,
        1,
        253_402_300_799,
        253_402_300_800,
    ]);
    times.extend((0..200u64).map(|i| i * 7_919_993));
    times.extend((0..200u64).rev().map(|i| 1_700_000_000 - i * 3_600_017));
    for tz in &zones {
        let mut f = ZoneFormatter::new(tz);
        for (i, &t) in times.iter().enumerate() {
            let ms = (i as u32 * 7) % 1000;
            let mut out = Vec::new();
            f.push(&mut out, t, ms);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format_time(t, ms, tz),
                "{t} {ms} in {tz:?}"
            );
        }
    }
}
