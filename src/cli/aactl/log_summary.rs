//! `aactl log --summary`: the denial groups as a table or JSON.

use crate::cli::Io;
use crate::cli::table::{Cell, Fit, Table, event_style};
use crate::escape::escape_str;
use crate::log::time::format_time;
use crate::triage::Summary;
use anstyle::Style;
use jiff::tz::TimeZone;

/// The cells of one group, before they are laid out.
struct Row {
    count: String,
    events: String,
    class: String,
    operation: String,
    target: String,
    mask: String,
    first: String,
    last: String,
    comms: String,
    pids: String,
    rule: String,
}

/// The day all of `stamps` (RFC 3339 texts, `-` for none) fall on, with ` UTC` when they
/// are in UTC; `None` when they span days or none is known.
fn one_day(stamps: &[String]) -> Option<String> {
    let mut day: Option<&str> = None;
    for t in stamps.iter().filter(|t| t.as_str() != "-") {
        let d = t.get(..10)?;
        if day.is_some_and(|x| x != d) || t.as_bytes().get(10) != Some(&b'T') {
            return None;
        }
        day = Some(d);
    }
    let d = day?;
    let utc = stamps.iter().any(|t| t.ends_with('Z'));
    Some(if utc {
        format!("{d} UTC")
    } else {
        d.to_owned()
    })
}

/// A short form of an RFC 3339 time: `HH:MM:SS` when the day is said in the heading, else
/// `YYYY-MM-DD HH:MM:SS` (no fraction, no zone); any other text as is.
fn short(t: &str, same_day: bool) -> String {
    match (t.get(..10), t.get(11..19)) {
        (Some(d), Some(hms)) if t.as_bytes().get(10) == Some(&b'T') => {
            if same_day {
                hms.to_owned()
            } else {
                format!("{d} {hms}")
            }
        }
        _ => t.to_owned(),
    }
}

fn row(
    k: &crate::triage::group::GroupKey,
    g: &crate::triage::group::Group,
    same_day: bool,
    tz: &TimeZone,
) -> Row {
    let mut comms: Vec<String> = g
        .comms
        .iter()
        .map(|(c, n)| format!("{}×{n}", c.escaped()))
        .collect();
    if g.other_comms > 0 {
        comms.push(format!("+{}", g.other_comms));
    }
    let mut pids: Vec<String> = g.pids.iter().map(u64::to_string).collect();
    if g.more_pids {
        pids.push("…".into());
    }
    let events: Vec<&str> = g.events.iter().map(|e| e.as_kernel_name()).collect();
    Row {
        count: if g.untrusted > 0 {
            format!("{} ({} untrusted)", g.count, g.untrusted)
        } else {
            g.count.to_string()
        },
        events: events.join(","),
        class: escape_str(&k.class).into_owned(),
        operation: k.operation.escaped().into_owned(),
        target: cell(k.target.escaped().into_owned()),
        mask: if k.owner {
            format!("owner {}", k.mask.escaped())
        } else {
            k.mask.escaped().into_owned()
        },
        first: short(&time(g.first, tz), same_day),
        last: short(&time(g.last, tz), same_day),
        comms: cell(comms.join(" ")),
        pids: pids.join(" "),
        rule: cell(match &g.rule {
            Some(Ok(r)) => escape_str(r).into_owned(),
            Some(Err(e)) => format!("({})", escape_str(e)),
            None => String::new(),
        }),
    }
}

/// The events of a group, coloured by the first one.
fn event_cell(events: &str) -> Cell {
    let style = event_style(events.split(',').next().unwrap_or(""));
    Cell::styled(events, style)
}

/// Every column on its own: what a wide terminal and a pipe get.
fn full_table(rows: &[Row]) -> Table {
    let mut t = Table::new(&[
        ("COUNT", Fit::Keep),
        ("EVENT", Fit::Keep),
        ("CLASS", Fit::Keep),
        ("OPERATION", Fit::Wrap),
        ("TARGET", Fit::Wrap),
        ("MASK", Fit::Wrap),
        ("FIRST", Fit::Keep),
        ("LAST", Fit::Keep),
        ("COMMANDS", Fit::Wrap),
        ("PIDS", Fit::Wrap),
        ("RULE", Fit::Wrap),
    ]);
    for r in rows {
        t.row(vec![
            r.count.clone().into(),
            event_cell(&r.events),
            r.class.clone().into(),
            r.operation.clone().into(),
            r.target.clone().into(),
            r.mask.clone().into(),
            r.first.clone().into(),
            r.last.clone().into(),
            r.comms.clone().into(),
            r.pids.clone().into(),
            r.rule.clone().into(),
        ]);
    }
    t
}

fn time(t: Option<(u64, u32)>, tz: &TimeZone) -> String {
    t.map(|(s, ms)| format_time(s, ms, tz))
        .unwrap_or_else(|| "-".into())
}

/// Fewer, merged columns for a narrow terminal: OPERATION is the class and operation,
/// ACCESS the suggested rule (or, without one, the target, mask and why there is no rule),
/// WHEN the first and last times (one when equal), BY the commands and pids.
fn compact_table(rows: &[Row]) -> Table {
    let mut t = Table::new(&[
        ("COUNT", Fit::Keep),
        ("EVENT", Fit::Keep),
        ("OPERATION", Fit::Wrap),
        ("ACCESS", Fit::Wrap),
        ("WHEN", Fit::Wrap),
        ("BY", Fit::Wrap),
    ]);
    for r in rows {
        let when = if r.first == r.last {
            r.first.clone()
        } else {
            format!("{} - {}", r.first, r.last)
        };
        let by = if r.pids.is_empty() {
            r.comms.clone()
        } else {
            format!("{} pid {}", r.comms, r.pids)
        };
        let access = if r.rule.is_empty() || r.rule.starts_with('(') {
            [r.target.as_str(), r.mask.as_str(), r.rule.as_str()]
                .iter()
                .filter(|x| !x.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            r.rule.clone()
        };
        t.row(vec![
            r.count.clone().into(),
            event_cell(&r.events),
            format!("{} {}", r.class, r.operation).into(),
            access.into(),
            when.into(),
            by.into(),
        ]);
    }
    t
}

/// Prints the summary: JSON (times RFC 3339 UTC), or a table per profile
/// with the first and last times in `tz`.
pub(super) fn print_summary(s: &Summary, json: bool, tz: &TimeZone, io: &mut Io<'_>) {
    if json {
        #[derive(serde::Serialize)]
        struct Out {
            records: u64,
            groups: Vec<crate::triage::group::GroupJson>,
            overflow_records: u64,
        }
        let v = Out {
            records: s.records,
            groups: s.to_json(),
            overflow_records: s.overflow_records,
        };
        let _ = serde_json::to_writer(&mut *io.out, &v);
        let _ = writeln!(io.out);
        return;
    }
    if s.is_empty() {
        let _ = writeln!(io.out, "no matching records");
        return;
    }
    let groups = s.sorted();
    let term = io.term;
    let mut i = 0;
    let mut first = true;
    while i < groups.len() {
        let prof = &groups[i].0.profile;
        let j = groups[i..]
            .iter()
            .position(|g| &g.0.profile != prof)
            .map_or(groups.len(), |p| i + p);
        let total: u64 = groups[i..j].iter().map(|g| g.1.count).sum();
        if !first {
            let _ = writeln!(io.out);
        }
        first = false;
        let stamps: Vec<String> = groups[i..j]
            .iter()
            .flat_map(|(_, g)| [time(g.first, tz), time(g.last, tz)])
            .collect();
        let day = one_day(&stamps);
        let heading = format!(
            "{} ({} record{}, {} group{}{})",
            escape_str(prof),
            total,
            if total == 1 { "" } else { "s" },
            j - i,
            if j - i == 1 { "" } else { "s" },
            day.as_deref()
                .map(|d| format!(", on {d}"))
                .unwrap_or_default()
        );
        let heading = super::render::prose(&term, &heading);
        let _ = writeln!(io.out, "{}", term.paint(Style::new().bold(), &heading));
        let rows: Vec<Row> = groups[i..j]
            .iter()
            .map(|(k, g)| row(k, g, day.is_some(), tz))
            .collect();
        let full = full_table(&rows);
        let t = match term.width {
            Some(w) if full.natural_width() > w => compact_table(&rows),
            _ => full,
        };
        let _ = writeln!(io.out, "{}", t.render(&term));
        i = j;
    }
    if s.overflow_records > 0 {
        let _ = writeln!(
            io.out,
            "\n{} record(s) not grouped: more than {} groups or {} MiB of names",
            s.overflow_records,
            s.max_groups,
            s.max_bytes >> 20
        );
    }
}

/// Longest table cell shown, in bytes (PATH_MAX; longer text is cut with
/// a note: a 10 MB name made the table take seconds and a screenful per
/// byte of width).
const MAX_CELL: usize = 4096;

fn cell(mut s: String) -> String {
    if s.len() > MAX_CELL {
        let mut cut = MAX_CELL;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        let more = s.len() - cut;
        s.truncate(cut);
        s.push_str(&format!("…(+{more} bytes)"));
    }
    s
}
