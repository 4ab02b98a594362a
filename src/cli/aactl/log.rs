//! `aactl log [SOURCE]... [--format text|json] [--stats]`: AppArmor records
//! from files, the journal, the kernel ring buffer, or wherever this host
//! sends them.

use super::{CliError, Exit};
use crate::cli::Io;
use crate::error::chain;
use crate::log::ndjson::write_json_line;
use crate::log::reader::{LogReader, Prerender, ReaderOptions, Stats};
use crate::log::render::write_text_line_with;
use crate::log::source::{JournalQuery, detect, open, rotated_set};
use crate::log::time::ZoneFormatter;
use crate::log::{LineSource, Source};
use clap::{Arg, ArgAction, ArgMatches, Command};
use jiff::tz::TimeZone;
use std::path::{Path, PathBuf};

/// The clap definition of `aactl log`.
pub(super) fn command() -> Command {
    super::log_triage::args(command_base())
}

pub(super) fn command_base() -> Command {
    Command::new("log")
        .about("Read AppArmor audit records from logs, the journal or the kernel ring buffer")
        .long_about(
            "Read AppArmor audit records. SOURCE is a file path (plain, rotated or .gz), `-` \
             for standard input, `journal`, `kernel` (dmesg or /dev/kmsg) or `auto` (the \
             default: auditd's log when auditd runs, else the journal, else syslog/kern.log/\
             messages, else the ring buffer; the first that holds records is used, and when \
             none does, the places looked at are listed). Use ./journal for a file of that name.",
        )
        .after_help(
            "Examples:\n  aactl log                          records from wherever this host logs them\n  \
             aactl log --summary /var/log/audit/audit.log   denials grouped, with rules\n  \
             aactl log journal --since=-1h      the journal's last hour",
        )
        .arg(
            Arg::new("source")
                .value_name("SOURCE")
                .num_args(0..)
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(PathBuf))
                .help("PATH, -, journal, kernel or auto (default auto)"),
        )
        .arg(
            Arg::new("file")
                .long("file")
                .short('f')
                .value_name("PATH")
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Read PATH (repeatable; - is standard input)"),
        )
        .arg(
            Arg::new("rotated")
                .long("rotated")
                .action(ArgAction::SetTrue)
                .help("With a file, also read its rotated copies (PATH.1, PATH.2.gz, …), oldest first"),
        )
        .arg(super::format_arg("text: one escaped line per record; json: NDJSON (docs/log-schema.md)"))
        .arg(super::json_flag())
        .arg(
            Arg::new("stats")
                .long("stats")
                .action(ArgAction::SetTrue)
                .help("Print line counts (records, invalid, other audit, skipped) to stderr"),
        )
        .arg(
            Arg::new("invalid")
                .long("invalid")
                .action(ArgAction::SetTrue)
                .help("Also print AppArmor-looking lines that did not parse (event AA_RECORD_INVALID)"),
        )
        .arg(
            Arg::new("threads")
                .long("threads")
                .value_name("N")
                .value_parser(
                    clap::builder::RangedU64ValueParser::<usize>::new()
                        .range(0..=crate::log::reader::MAX_THREADS as u64),
                )
                .help(format!(
                    "Threads parsing a log file (0, the default: one per CPU, at most 8; 1: none; \
                     at most {}). Output is the same for any N",
                    crate::log::reader::MAX_THREADS
                )),
        )
        .arg(
            Arg::new("no-group")
                .long("no-group")
                .action(ArgAction::SetTrue)
                .help("Do not merge SYSCALL/CWD/PATH/PROCTITLE records into the AppArmor records"),
        )
        .arg(
            Arg::new("boot")
                .long("boot")
                .short('b')
                .value_name("ID")
                .num_args(0..=1)
                // `--boot FILE` must not take FILE as the boot id: an id is
                // given as `--boot=ID` (or `-b=ID`)
                .require_equals(true)
                .default_missing_value("")
                .help("Journal: only this boot (default the current one; another as --boot=ID)"),
        )
        .arg(
            Arg::new("since")
                .long("since")
                .value_name("TIME")
                // `--since -1h`: a relative time starts with a hyphen
                .allow_hyphen_values(true)
                .help("Journal: entries since TIME (journalctl syntax)"),
        )
        .arg(
            Arg::new("until")
                .long("until")
                .value_name("TIME")
                // `--until -1h`: a relative time starts with a hyphen
                .allow_hyphen_values(true)
                .help("Journal: entries until TIME (journalctl syntax)"),
        )
}

struct Out<'a, 'b> {
    io: &'a mut Io<'b>,
    json: bool,
    closed: bool,
    /// The zone record times are shown in.
    tz: TimeZone,
    /// Formats record times in `tz`.
    times: ZoneFormatter,
    /// Records rendered but not yet written: one write per [`OUT_CHUNK`]
    /// bytes instead of many small ones per record.
    buf: Vec<u8>,
}

/// Rendered output is handed to standard output in chunks of about this size.
const OUT_CHUNK: usize = 256 << 10;

impl Out<'_, '_> {
    fn record(&mut self, r: &crate::log::Record) {
        if self.closed {
            return;
        }
        if r.rendered.records() > 0 {
            // rendered by the parser thread in the form asked for (see `run`): this
            // record's line, or a run of records' lines
            r.rendered.write_lines(&mut self.buf, r.provenance.line);
        } else if self.json {
            write_json_line(&mut self.buf, r);
            self.buf.push(b'\n');
        } else {
            if self.io.term.width.is_none() && !self.io.term.color {
                write_text_line_with(&mut self.buf, r, &mut self.times);
            } else {
                let line = super::render::record_line(&self.io.term, r, &self.tz);
                self.buf.extend_from_slice(line.as_bytes());
            }
            self.buf.push(b'\n');
        }
        if self.buf.len() >= OUT_CHUNK {
            self.flush_buf();
        }
    }

    /// Writes what is buffered.
    fn flush_buf(&mut self) {
        if !self.closed && !self.buf.is_empty() && self.io.out.write_all(&self.buf).is_err() {
            // a closed pipe (`aactl log | head`) ends output, not the command
            self.closed = true;
        }
        self.buf.clear();
    }
}

fn journal_query(m: &ArgMatches, tz: &TimeZone) -> JournalQuery {
    JournalQuery {
        boot: m.get_one::<String>("boot").cloned(),
        since: super::log_triage::journal_time(m, "since", tz),
        until: super::log_triage::journal_time(m, "until", tz),
        after_cursor: None,
        follow: false,
    }
}

fn explicit_sources(m: &ArgMatches, tz: &TimeZone) -> Option<Vec<Source>> {
    let mut v = Vec::new();
    let rotated = m.get_flag("rotated");
    let positional = m.get_many::<PathBuf>("source").into_iter().flatten();
    let files = m.get_many::<PathBuf>("file").into_iter().flatten();
    let mut auto = false;
    for p in positional {
        match p.to_str() {
            Some("journal") => v.push(Source::Journal(journal_query(m, tz))),
            Some("kernel" | "dmesg" | "kmsg") => v.push(Source::Kernel),
            Some("auto") => auto = true,
            _ => push_file(&mut v, p, rotated),
        }
    }
    for p in files {
        push_file(&mut v, p, rotated);
    }
    if v.is_empty() || auto {
        if auto && !v.is_empty() {
            // `auto` with explicit sources: explicit ones win
            return Some(v);
        }
        return None;
    }
    Some(v)
}

fn push_file(v: &mut Vec<Source>, p: &Path, rotated: bool) {
    if rotated && p.as_os_str() != "-" {
        let set = rotated_set(p);
        if !set.is_empty() {
            v.extend(set.into_iter().map(Source::File));
            return;
        }
    }
    v.push(Source::File(p.to_path_buf()));
}

/// A progress bar for reading `s` (see [`crate::cli::progress`]): only for a large file,
/// never with JSON, and not when the records themselves are listed on the terminal.
pub(super) fn progress_for(
    term: &crate::cli::Term,
    s: &Source,
    json: bool,
    listing: bool,
) -> crate::cli::progress::Progress {
    use crate::cli::progress::Progress;
    let Source::File(p) = s else {
        return Progress::none();
    };
    if json || (listing && term.out_tty) || p.as_os_str() == "-" {
        return Progress::none();
    }
    match std::fs::metadata(p) {
        Ok(md) if md.is_file() => {
            let gz = p.extension().is_some_and(|e| e == "gz");
            let name = crate::escape::escape_str(&p.to_string_lossy()).into_owned();
            Progress::log_file(term, &name, md.len(), gz)
        }
        _ => Progress::none(),
    }
}

/// Reads one source to the end; returns its stats and an error message if
/// reading stopped early.
fn read_source(
    src: Box<dyn LineSource>,
    opts: &ReaderOptions,
    out: &mut Out<'_, '_>,
    progress: crate::cli::progress::Progress,
) -> (Stats, Option<String>) {
    let mut reader = LogReader::new(src, opts.clone());
    let mut err = None;
    let mut n = 0u32;
    while let Some(item) = reader.next_ref() {
        match item {
            Ok(r) => out.record(r),
            Err(e) => err = Some(chain(&e)),
        }
        if out.closed {
            break;
        }
        n = n.wrapping_add(1);
        if n % 1024 == 0 {
            progress.set(reader.stats().bytes);
        }
    }
    progress.finish();
    (reader.stats().clone(), err)
}

fn warn_stats(io: &mut Io<'_>, name: &str, st: &Stats) {
    if st.binary_lines > 0 {
        let _ = writeln!(
            io.err,
            "aactl: {}: {} line(s) contain NUL bytes: this looks like a binary file (a journal \
             file? read the journal with `aactl log journal`)",
            crate::escape::escape_str(name),
            st.binary_lines
        );
    }
    if st.oversized > 0 {
        let _ = writeln!(
            io.err,
            "aactl: {}: {} line(s) longer than 16 MiB skipped",
            crate::escape::escape_str(name),
            st.oversized
        );
    }
}

fn print_stats(io: &mut Io<'_>, json: bool, per: &[(String, Stats)], total: &Stats) {
    if json {
        let v = serde_json::json!({
            "stats": total,
            "sources": per.iter().map(|(n, s)| serde_json::json!({"source": n, "stats": s})).collect::<Vec<_>>(),
        });
        let _ = writeln!(io.err, "{v}");
        return;
    }
    for (n, s) in per
        .iter()
        .chain(std::iter::once(&("total".to_string(), total.clone())))
    {
        let _ = writeln!(
            io.err,
            "{}: {} lines, {} AppArmor records, {} invalid, {} other audit ({} grouped), \
             {} not AppArmor, {} joined, {} oversized, {} binary, {} not UTF-8",
            crate::escape::escape_str(n),
            s.lines,
            s.records,
            s.invalid,
            s.other_audit,
            s.grouped,
            s.not_apparmor,
            s.joined,
            s.oversized,
            s.binary_lines,
            s.non_utf8_lines
        );
    }
}

/// Runs `aactl log`.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    if super::log_triage::wanted(m) {
        return super::log_triage::run(m, io);
    }
    let root = super::system(m);
    let json = super::wants_json(m);
    let tz = super::time_zone(m, io);
    super::log_triage::time_bounds(m, &tz)?;
    let opts = ReaderOptions {
        keep_invalid: m.get_flag("invalid"),
        group: !m.get_flag("no-group"),
        threads: m.get_one::<usize>("threads").copied().unwrap_or(0),
        // records are rendered by the parser threads when the output is a
        // plain form (not fitted to a terminal or coloured)
        prerender: if json {
            Some(Prerender::Json)
        } else if io.term.width.is_none() && !io.term.color {
            Some(Prerender::Text(tz.clone()))
        } else {
            None
        },
        ..ReaderOptions::default()
    };
    let mut per: Vec<(String, Stats)> = Vec::new();
    let mut total = Stats::default();
    let mut failed = false;
    let mut errors: Vec<String> = Vec::new();
    let mut out = Out {
        io,
        json,
        closed: false,
        tz: tz.clone(),
        times: ZoneFormatter::new(&tz),
        buf: Vec::with_capacity(OUT_CHUNK + (64 << 10)),
    };

    match explicit_sources(m, &tz) {
        Some(sources) => {
            for s in &sources {
                let src = match open(s, &root) {
                    Ok(src) => src,
                    Err(e) => {
                        failed = true;
                        errors.push(chain(&e));
                        continue;
                    }
                };
                let bar = progress_for(&out.io.term, s, json, true);
                let (st, err) = read_source(src, &opts, &mut out, bar);
                if let Some(e) = err {
                    failed = true;
                    errors.push(e);
                }
                total.add(&st);
                per.push((s.describe(), st));
            }
        }
        None => {
            let mut d = detect(&root);
            if m.contains_id("boot") || m.contains_id("since") || m.contains_id("until") {
                for c in &mut d.candidates {
                    if let Source::Journal(q) = &mut c.0 {
                        *q = journal_query(m, &tz);
                    }
                }
            }
            let mut tried: Vec<(String, String)> = Vec::new();
            let mut found_group: Option<String> = None;
            for (s, why) in &d.candidates {
                if let Some(g) = &found_group
                    && g != why
                {
                    break;
                }
                let src = match open(s, &root) {
                    Ok(src) => src,
                    Err(e) => {
                        tried.push((s.describe(), format!("cannot read: {}", chain(&e))));
                        continue;
                    }
                };
                let bar = progress_for(&out.io.term, s, json, true);
                let (st, err) = read_source(src, &opts, &mut out, bar);
                tried.push((
                    s.describe(),
                    match &err {
                        Some(e) => format!("{} AppArmor records, then error: {e}", st.records),
                        None => format!("{} lines, {} AppArmor records", st.lines, st.records),
                    },
                ));
                if st.records > 0 {
                    found_group = Some(why.clone());
                }
                total.add(&st);
                per.push((s.describe(), st));
            }
            if found_group.is_none() {
                // lost or rate-limited audit records are a common reason
                d.look_at_audit(&root, std::time::Duration::from_secs(1));
                for (i, l) in d.explain_empty(&tried).lines().enumerate() {
                    let lead = if i == 0 { "aactl: " } else { "" };
                    let _ = writeln!(out.io.err, "{lead}{}", crate::escape::escape_str(l));
                }
            } else {
                // records were found, but some may have been dropped
                d.look_at_audit(&root, std::time::Duration::ZERO);
                if let Some(crate::log::source::AuditLook { status: Ok(st), .. }) = &d.audit {
                    for p in st.problems() {
                        let _ = writeln!(
                            out.io.err,
                            "aactl: warning: AppArmor records may be missing: {}",
                            crate::escape::escape_str(&p)
                        );
                    }
                }
                if m.get_flag("stats") {
                    let _ = writeln!(
                        out.io.err,
                        "aactl: read {}",
                        found_group.unwrap_or_default()
                    );
                }
            }
        }
    }
    out.flush_buf();
    let io = out.io;
    let _ = io.out.flush();
    for (n, st) in &per {
        warn_stats(io, n, st);
    }
    for e in &errors {
        let _ = writeln!(io.err, "aactl: {}", crate::escape::escape_str(e));
    }
    if m.get_flag("stats") {
        print_stats(io, json, &per, &total);
    }
    // Every failure here is a source that could not be opened or read: exit 2, as for any
    // input that cannot be read (aactl(1), EXIT STATUS).
    Ok(if failed { Exit::Error } else { Exit::Success })
}
