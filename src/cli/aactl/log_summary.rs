//! `aactl log --summary`: the denial groups as a table or JSON.

use crate::cli::Io;
use crate::escape::escape_str;
use crate::log::time::format_time;
use crate::triage::Summary;
use jiff::tz::TimeZone;

fn time(t: Option<(u64, u32)>, tz: &TimeZone) -> String {
    t.map(|(s, ms)| format_time(s, ms, tz))
        .unwrap_or_else(|| "-".into())
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
        let _ = writeln!(
            io.out,
            "{} ({} record{}, {} group{})",
            escape_str(prof),
            total,
            if total == 1 { "" } else { "s" },
            j - i,
            if j - i == 1 { "" } else { "s" }
        );
        let mut b = tabled::builder::Builder::default();
        b.push_record([
            "COUNT",
            "EVENT",
            "CLASS",
            "OPERATION",
            "TARGET",
            "MASK",
            "FIRST",
            "LAST",
            "COMMANDS",
            "PIDS",
            "RULE",
        ]);
        for (k, g) in &groups[i..j] {
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
            b.push_record([
                if g.untrusted > 0 {
                    format!("{} ({} untrusted)", g.count, g.untrusted)
                } else {
                    g.count.to_string()
                },
                events.join(","),
                escape_str(&k.class).into_owned(),
                k.operation.escaped().into_owned(),
                cell(k.target.escaped().into_owned()),
                if k.owner {
                    format!("owner {}", k.mask.escaped())
                } else {
                    k.mask.escaped().into_owned()
                },
                time(g.first, tz),
                time(g.last, tz),
                cell(comms.join(" ")),
                pids.join(" "),
                cell(match &g.rule {
                    Some(Ok(r)) => escape_str(r).into_owned(),
                    Some(Err(e)) => format!("({})", escape_str(e)),
                    None => String::new(),
                }),
            ]);
        }
        let mut t = b.build();
        t.with(tabled::settings::Style::psql());
        let _ = writeln!(io.out, "{t}");
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
