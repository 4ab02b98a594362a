//! The triage views of `aactl log`: filters on every view, `--summary`,
//! `--suggest` (with `--generalize`, `--write`, `--dry-run`,
//! `--trust-userspace-records`) and `--follow`. Rules that only records of
//! unverified senders support are shown apart and not written unless the
//! user trusts those records explicitly (docs/triage.md, "Provenance").
//! The logic lives in [`crate::triage`]; this module maps arguments and
//! prints.

use super::log_suggest::finish_suggest;
use super::log_summary::print_summary;
use super::{CliError, Exit};
use crate::cli::Io;
use crate::error::chain;
use crate::escape::escape_str;
use crate::log::reader::{LogReader, ReaderOptions};
use crate::log::render::to_json;
use crate::log::source::{JournalQuery, detect, open, rotated_set};
use crate::log::time::parse_time;
use crate::log::{LineSource, Record, Source};
use crate::policy::ParserVersion;
use crate::system::System;
use crate::triage::filter::{boot_time, profile_and_children};
use crate::triage::{ModeSet, RecordFilter, Suggestions, Summary};
use clap::{Arg, ArgAction, ArgMatches, Command};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Adds the triage options to the `aactl log` command.
pub(super) fn args(cmd: Command) -> Command {
    filter_args(view_args(cmd))
}

/// The filters every triage view shares (`--profile`, `--operation`,
/// `--class`, `--mode`, `--pid`, `--comm`, and `--since`/`--until`/`--boot`
/// for files), added to a command that has `aactl log`'s source options.
pub(super) fn filter_args(cmd: Command) -> Command {
    cmd.mut_arg("since", |a| {
        a.help("Records since TIME, in the local time zone (--utc: UTC): -1h, \"2 hours ago\", 10:00, today, yesterday [HH:MM], YYYY-MM-DD[ HH:MM[:SS]], an RFC 3339 time, @EPOCH")
    })
    .mut_arg("until", |a| a.help("Records until TIME (forms as --since)"))
    .mut_arg("boot", |a| {
        a.help("Only this boot (default the current one; another as --boot=ID, journal only); for files, records since the host's boot")
    })
    .arg(
        Arg::new("profile")
            .long("profile")
            .value_name("NAME")
            .conflicts_with("profile-regex")
            .help("Only records of profile NAME and its children (NAME//…), exactly"),
    )
    .arg(
        Arg::new("profile-regex")
            .long("profile-regex")
            .value_name("REGEX")
            .help("Only records of profiles matching REGEX (unanchored: ^…$ for a whole name)"),
    )
    .arg(
        Arg::new("operation")
            .long("operation")
            .value_name("OP")
            .action(ArgAction::Append)
            .help("Only this operation (repeatable)"),
    )
    .arg(
        Arg::new("class")
            .long("class")
            .value_name("CLASS")
            .action(ArgAction::Append)
            .help("Only this class: file, net, cap, … or exec, network, capability, … (repeatable)"),
    )
    .arg(
        Arg::new("mode")
            .long("mode")
            .value_name("MODE")
            .help("denied, allowed, audit or all (comma list; default denied,allowed; with --suggest denied,allowed,audit)"),
    )
    .arg(
        Arg::new("pid")
            .long("pid")
            .value_name("PID")
            .action(ArgAction::Append)
            .value_parser(clap::value_parser!(u64))
            .help("Only this pid (repeatable)"),
    )
    .arg(
        Arg::new("comm")
            .long("comm")
            .value_name("COMM")
            .action(ArgAction::Append)
            .help("Only this command name (repeatable)"),
    )
}

fn view_args(cmd: Command) -> Command {
    cmd    .arg(
        Arg::new("summary")
            .long("summary")
            .action(ArgAction::SetTrue)
            .help("Group records by profile, class, operation, target and mask, with counts"),
    )
    .arg(
        Arg::new("suggest")
            .long("suggest")
            .action(ArgAction::SetTrue)
            .help(
                "Print the rules that would allow the records, as profile blocks (with \
                 --summary: after the summary; in JSON, a second line)",
            ),
    )
    .arg(
        Arg::new("generalize")
            .long("generalize")
            .action(ArgAction::SetTrue)
            .requires("suggest")
            .help("With --suggest: rewrite paths with tunables (@{HOME}, @{PROC}, @{pid}, …)"),
    )
    .arg(
        Arg::new("write")
            .long("write")
            .action(ArgAction::SetTrue)
            .requires("suggest")
            .help("With --suggest: append the rules to each profile's local/NAME override"),
    )
    .arg(
        Arg::new("parser-version")
            .long("parser-version")
            .value_name("X.Y")
            .value_parser(clap::value_parser!(ParserVersion))
            .requires("suggest")
            .help(
                "With --suggest: write rules the apparmor_parser of this release accepts \
                 (3.0, 4.1, 5.0, 6.0; default the installed parser's, 6.0 when there is none \
                 or it does not answer); on older \
                 releases a fine-grained network rule becomes network FAMILY TYPE, and rule \
                 kinds the release lacks are left out with the reason",
            ),
    )
    .arg(
        Arg::new("dry-run")
            .long("dry-run")
            .action(ArgAction::SetTrue)
            .requires("write")
            .help("With --write: show the changes without writing"),
    )
    .arg(
        Arg::new("trust-userspace-records")
            .long("trust-userspace-records")
            .action(ArgAction::SetTrue)
            .requires("suggest")
            .help(
                "With --suggest: treat records whose sender is not verified (syslog lines of \
                 other programs, lines without kernel framing, journal entries of user \
                 processes) like the kernel's, and --write their rules too. Any local user can \
                 write such records (logger), so their rules are otherwise shown apart and \
                 never written",
            ),
    )
    .arg(
        Arg::new("profile-dir")
            .long("profile-dir")
            .value_name("DIR")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Profiles on disk (default /etc/apparmor.d under --root): rules they already allow are not suggested"),
    )
    .arg(
        Arg::new("follow")
            .long("follow")
            .action(ArgAction::SetTrue)
            .help(
                "Keep reading new records (file or journal) until Ctrl-C, then summarise \
                 (with --format json the stream holds records only, unless --summary)",
            ),
    )
}

/// True when a triage option was given (the plain listing handles the rest).
pub(super) fn wanted(m: &ArgMatches) -> bool {
    ["summary", "suggest", "follow"]
        .iter()
        .any(|f| m.get_flag(f))
        || [
            "profile",
            "profile-regex",
            "operation",
            "class",
            "mode",
            "pid",
            "comm",
        ]
        .iter()
        .any(|a| m.contains_id(a))
        || (["since", "until", "boot"].iter().any(|a| m.contains_id(a)) && has_file_source(m))
}

fn has_file_source(m: &ArgMatches) -> bool {
    m.contains_id("file")
        || m.get_many::<PathBuf>("source")
            .into_iter()
            .flatten()
            .any(|p| {
                !matches!(
                    p.to_str(),
                    Some("journal" | "kernel" | "dmesg" | "kmsg" | "auto")
                )
            })
}

fn journal_query(m: &ArgMatches, tz: &TimeZone) -> JournalQuery {
    JournalQuery {
        boot: m.get_one::<String>("boot").cloned(),
        since: journal_time(m, "since", tz),
        until: journal_time(m, "until", tz),
        ..JournalQuery::default()
    }
}

/// `--since`/`--until` for journalctl: `@EPOCH` of the time as aactl reads
/// it (so that every form means the same for files and the journal, in the
/// same zone); a time aactl cannot read is refused before (see
/// [`time_bounds`]).
pub(super) fn journal_time(m: &ArgMatches, id: &str, tz: &TimeZone) -> Option<String> {
    let s = m.get_one::<String>(id)?;
    Some(match parse_time(s, Timestamp::now(), tz) {
        Ok(t) => format!("@{t}"),
        Err(_) => s.clone(),
    })
}

/// `--since` and `--until` in seconds since the epoch, read in `tz`.
///
/// # Errors
/// A time that cannot be read or does not exist, named with its option.
pub(super) fn time_bounds(m: &ArgMatches, tz: &TimeZone) -> Result<[Option<u64>; 2], CliError> {
    let now = Timestamp::now();
    let mut out = [None, None];
    for (id, slot) in ["since", "until"].into_iter().zip(out.iter_mut()) {
        if let Some(s) = m.try_get_one::<String>(id).ok().flatten() {
            *slot = Some(parse_time(s, now, tz).map_err(|e| CliError(format!("--{id}: {e}")))?);
        }
    }
    if let [Some(a), Some(b)] = out
        && a > b
    {
        return Err(CliError(
            "--since is later than --until: no record can match".into(),
        ));
    }
    Ok(out)
}

fn sources(m: &ArgMatches, tz: &TimeZone) -> Option<Vec<Source>> {
    let mut v = Vec::new();
    let rotated = m.get_flag("rotated");
    let push = |v: &mut Vec<Source>, p: &Path| {
        if rotated && p.as_os_str() != "-" {
            let set = rotated_set(p);
            if !set.is_empty() {
                v.extend(set.into_iter().map(Source::File));
                return;
            }
        }
        v.push(Source::File(p.to_path_buf()));
    };
    for p in m.get_many::<PathBuf>("source").into_iter().flatten() {
        match p.to_str() {
            Some("journal") => v.push(Source::Journal(journal_query(m, tz))),
            Some("kernel" | "dmesg" | "kmsg") => v.push(Source::Kernel),
            Some("auto") => {}
            _ => push(&mut v, p),
        }
    }
    for p in m.get_many::<PathBuf>("file").into_iter().flatten() {
        push(&mut v, p);
    }
    (!v.is_empty()).then_some(v)
}

fn build_filter(
    m: &ArgMatches,
    sys: &System,
    journal_only: bool,
    tz: &TimeZone,
) -> Result<RecordFilter, CliError> {
    // `log --suggest`, and the commands that have no --suggest because they
    // always propose rules (triage, genprof)
    let proposes_rules = m
        .try_get_one::<bool>("suggest")
        .ok()
        .flatten()
        .copied()
        .unwrap_or(true);
    let mut f = RecordFilter {
        mode: match m.get_one::<String>("mode") {
            Some(s) => ModeSet::parse(s).map_err(CliError)?,
            // a rule is suggested for AUDIT records too, as the utils do
            None if proposes_rules => ModeSet {
                audit: true,
                ..ModeSet::default()
            },
            None => ModeSet::default(),
        },
        ..RecordFilter::default()
    };
    if let Some(name) = m.get_one::<String>("profile") {
        f.profile = Some(profile_and_children(name));
    }
    if let Some(re) = m.get_one::<String>("profile-regex") {
        f.profile = Some(regex::Regex::new(re).map_err(|e| {
            CliError(format!(
                "--profile-regex {re:?}: invalid regular expression: {}",
                super::regex_reason(&e)
            ))
        })?);
    }
    f.operations = m
        .get_many::<String>("operation")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    f.classes = m
        .get_many::<String>("class")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    f.pids = m
        .get_many::<u64>("pid")
        .into_iter()
        .flatten()
        .copied()
        .collect();
    f.comms = m
        .get_many::<String>("comm")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    // The journal applies --since/--until/--boot itself (journalctl syntax);
    // for files we apply them here.
    if !journal_only {
        [f.since, f.until] = time_bounds(m, tz)?;
        f.prefix_clock = Some((tz.clone(), Timestamp::now()));
        if let Some(b) = m.get_one::<String>("boot") {
            if !(b.is_empty() || b == "0") {
                return Err(CliError(
                    "--boot with an id or offset needs the journal as source; files only know \
                     the current boot"
                        .into(),
                ));
            }
            let stat = crate::system::fs::read_limited(
                sys.root(),
                sys.proc_dir().join("stat"),
                crate::system::fs::limits::PROC_TEXT,
            )
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| {
                CliError(format!(
                    "--boot: cannot read {}: {}",
                    sys.proc_dir().join("stat").display(),
                    crate::system::strerror(&e)
                ))
            })?;
            let bt = boot_time(&stat)
                .ok_or_else(|| CliError("--boot: no btime in /proc/stat".into()))?;
            f.since = Some(f.since.map_or(bt, |s| s.max(bt)));
        }
    }
    Ok(f)
}

/// Where the records go.
struct Sink {
    filter: RecordFilter,
    summary: Option<Summary>,
    suggest: Option<Suggestions>,
    plan: Option<crate::triage::plan::PlanBuilder>,
    list: bool,
    json: bool,
    /// Flush after every record (`--follow`).
    flush: bool,
    kept: u64,
    /// Records read, before the filters.
    seen: u64,
    closed: bool,
    /// The zone record times are shown in.
    tz: TimeZone,
    /// The profiles of the record being handled (kept for its capacity).
    profiles: Vec<String>,
    /// Summarising runs of records on the parser threads (a summary alone).
    fold: Option<std::sync::Arc<crate::triage::group_run::SummaryFold>>,
}

impl Sink {
    fn record(&mut self, r: &Record, io: &mut Io<'_>) {
        if let Some((_, run)) = r.rendered.folded() {
            // a run of records summarised by a parser thread (see `run`)
            if let (Some(run), Some(s), Some(fold)) = (
                run.downcast_ref::<crate::triage::group_run::RunSummary>(),
                &mut self.summary,
                &self.fold,
            ) {
                self.seen += run.seen;
                self.kept += run.kept;
                fold.merge(s, run);
            }
            return;
        }
        self.seen += 1;
        let mut profiles = std::mem::take(&mut self.profiles);
        if self.filter.apply_into(r, &mut profiles) {
            self.kept_record(r, &profiles, io);
        }
        self.profiles = profiles;
    }

    /// A record the filters kept, attributed to `profiles`.
    fn kept_record(&mut self, r: &Record, profiles: &[String], io: &mut Io<'_>) {
        self.kept += 1;
        if let Some(s) = &mut self.summary {
            s.add(r, profiles);
        }
        if let Some(s) = &mut self.suggest {
            s.add(r, profiles);
        }
        if let Some(p) = &mut self.plan {
            p.add(r, profiles);
        }
        if self.list && !self.closed {
            let res = if self.json {
                serde_json::to_writer(&mut *io.out, &to_json(r))
                    .map_err(std::io::Error::other)
                    .and_then(|_| io.out.write_all(b"\n"))
            } else {
                writeln!(
                    io.out,
                    "{}",
                    super::render::record_line(&io.term, r, &self.tz)
                )
            };
            if res.is_err() || (self.flush && io.out.flush().is_err()) {
                self.closed = true;
            }
        }
    }
}

fn read_all(
    src: Box<dyn LineSource>,
    opts: &ReaderOptions,
    sink: &mut Sink,
    io: &mut Io<'_>,
    progress: crate::cli::progress::Progress,
) -> (u64, Option<String>) {
    let mut reader = LogReader::new(src, opts.clone());
    let mut err = None;
    let mut n = 0u32;
    while let Some(item) = reader.next_ref() {
        match item {
            Ok(r) => sink.record(r, io),
            Err(e) => err = Some(chain(&e)),
        }
        n = n.wrapping_add(1);
        if n % 1024 == 0 {
            progress.set(reader.stats().bytes);
        }
    }
    progress.finish();
    (reader.stats().records, err)
}

/// The release `--suggest` writes for: `--parser-version`, else the
/// installed apparmor_parser's (see [`super::installed_parser_release`]).
pub(super) fn target_parser(m: &ArgMatches, err: &mut dyn std::io::Write) -> ParserVersion {
    match m.get_one::<ParserVersion>("parser-version") {
        Some(v) => *v,
        None => super::installed_parser_release(err),
    }
}

/// Reads the given sources (or, with none, the first place of this host
/// that holds records) into `sink`; true when one could not be opened or
/// read (reported on stderr).
fn read_sources(
    explicit: Option<Vec<Source>>,
    m: &ArgMatches,
    sys: &System,
    opts: &ReaderOptions,
    sink: &mut Sink,
    io: &mut Io<'_>,
) -> bool {
    let tz = sink.tz.clone();
    let tz = &tz;
    let mut unreadable = false;
    match explicit {
        Some(v) => {
            for s in &v {
                match open(s, sys) {
                    Ok(src) => {
                        let bar = super::log::progress_for(&io.term, s, sink.json, sink.list);
                        let (_, err) = read_all(src, opts, sink, io, bar);
                        if let Some(e) = err {
                            let _ = writeln!(io.err, "aactl: {}", escape_str(&e));
                            unreadable = true;
                        }
                    }
                    Err(e) => {
                        let _ = writeln!(io.err, "aactl: {}", escape_str(&chain(&e)));
                        unreadable = true;
                    }
                }
            }
        }
        None => {
            let mut d = detect(sys);
            for c in &mut d.candidates {
                if let Source::Journal(q) = &mut c.0 {
                    *q = journal_query(m, tz);
                }
            }
            let mut tried = Vec::new();
            let mut found: Option<String> = None;
            for (s, why) in &d.candidates {
                if found.as_ref().is_some_and(|g| g != why) {
                    break;
                }
                match open(s, sys) {
                    Ok(src) => {
                        let bar = super::log::progress_for(&io.term, s, sink.json, sink.list);
                        let (n, err) = read_all(src, opts, sink, io, bar);
                        tried.push((
                            s.describe(),
                            match err {
                                Some(e) => format!("{n} AppArmor records, then error: {e}"),
                                None => format!("{n} AppArmor records"),
                            },
                        ));
                        if n > 0 {
                            found = Some(why.clone());
                        }
                    }
                    Err(e) => tried.push((s.describe(), format!("cannot read: {}", chain(&e)))),
                }
            }
            if found.is_none() {
                d.look_at_audit(sys, std::time::Duration::from_secs(1));
                for (i, l) in d.explain_empty(&tried).lines().enumerate() {
                    let lead = if i == 0 { "aactl: " } else { "" };
                    let _ = writeln!(io.err, "{lead}{}", escape_str(l));
                }
            }
        }
    }
    unreadable
}

/// Reads the records `aactl triage` names (sources, filters and time
/// options as `aactl log`) into `builder`, with `extra` applied after the
/// filters (genprof: only records after its start); true when a source could
/// not be read.
pub(super) fn collect_plan(
    m: &ArgMatches,
    sys: &System,
    builder: crate::triage::plan::PlanBuilder,
    extra: Option<(u64, String)>,
    io: &mut Io<'_>,
) -> Result<(crate::triage::plan::PlanBuilder, bool), CliError> {
    let tz = super::time_zone(m, io);
    // genprof's positional argument is the program, not a log source
    let explicit = if extra.is_some() {
        let mut v = Vec::new();
        for p in m.get_many::<PathBuf>("file").into_iter().flatten() {
            v.push(Source::File(p.clone()));
        }
        (!v.is_empty()).then_some(v)
    } else {
        sources(m, &tz)
    };
    let journal_only = explicit
        .as_ref()
        .is_some_and(|v| v.iter().all(|s| matches!(s, Source::Journal(_))));
    let mut filter = build_filter(m, sys, journal_only, &tz)?;
    if let Some((since, profile)) = extra {
        filter.since = Some(filter.since.map_or(since, |s| s.max(since)));
        filter.profile = Some(profile_and_children(&profile));
    }
    let mut sink = Sink {
        filter,
        summary: None,
        suggest: None,
        plan: Some(builder),
        list: false,
        json: false,
        flush: false,
        kept: 0,
        seen: 0,
        closed: false,
        tz: tz.clone(),
        profiles: Vec::new(),
        fold: None,
    };
    let opts = ReaderOptions {
        keep_invalid: false,
        group: !m.get_flag("no-group"),
        threads: m.get_one::<usize>("threads").copied().unwrap_or(0),
        ..ReaderOptions::default()
    };
    let unreadable = read_sources(explicit, m, sys, &opts, &mut sink, io);
    Ok((sink.plan.take().unwrap_or_default(), unreadable))
}

/// Runs the triage views of `aactl log`.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let json = super::wants_json(m);
    let tz = super::time_zone(m, io);
    // an unreadable time is refused whatever the source (the journal too)
    time_bounds(m, &tz)?;
    let explicit = sources(m, &tz);
    let journal_only = explicit
        .as_ref()
        .is_some_and(|v| v.iter().all(|s| matches!(s, Source::Journal(_))));
    let filter = build_filter(m, &sys, journal_only, &tz)?;
    let summary = m.get_flag("summary");
    let suggest = m.get_flag("suggest");
    let follow = m.get_flag("follow");
    let mut sink = Sink {
        filter,
        summary: (summary || follow).then(Summary::default),
        suggest: suggest.then(|| Suggestions::for_parser(target_parser(m, io.err))),
        plan: None,
        list: (!summary && !suggest) || follow,
        json,
        flush: follow,
        kept: 0,
        seen: 0,
        closed: false,
        tz: tz.clone(),
        profiles: Vec::new(),
        fold: None,
    };
    if summary && !suggest && !follow {
        // a summary alone is made on the parser threads, a run of records at a time
        sink.fold = Some(std::sync::Arc::new(
            crate::triage::group_run::SummaryFold::new(sink.filter.clone()),
        ));
    }
    let opts = ReaderOptions {
        keep_invalid: false,
        // Grouping holds a record back until its audit event is complete
        // (or 32 lines later): while following, a record must show at once.
        group: !m.get_flag("no-group") && !follow,
        threads: m.get_one::<usize>("threads").copied().unwrap_or(0),
        // a summary alone is made on the parser threads, a run of records at a time
        fold: sink
            .fold
            .clone()
            .map(|f| f as std::sync::Arc<dyn crate::log::reader::BlockFold>),
        ..ReaderOptions::default()
    };
    let mut failed = false;
    // a source that could not be opened or read: exit 2 (aactl(1), EXIT STATUS)
    let mut unreadable = false;
    if follow {
        let src = match &explicit {
            Some(v) if v.len() == 1 => v[0].clone(),
            Some(_) => return Err(CliError("--follow reads exactly one source".into())),
            None => {
                // the first place records go; of a rotated set (oldest
                // first) the live file, which is last
                let c = detect(&sys).candidates;
                let first = c
                    .iter()
                    .find(|s| !matches!(s.0, Source::Kernel))
                    .map(|s| s.1.clone())
                    .ok_or_else(|| {
                        CliError("--follow: no file or journal holds this host's records".into())
                    })?;
                let mut chosen = None;
                for (s, why) in c {
                    if why == first {
                        chosen = Some(s);
                    }
                }
                match chosen {
                    Some(Source::Journal(_)) => Source::Journal(journal_query(m, &tz)),
                    Some(s) => s,
                    None => return Err(CliError("--follow: no source found".into())),
                }
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        // A second Ctrl-C while we are still shutting down is ignored.
        let _ = ctrlc::set_handler(move || s2.store(true, Ordering::SeqCst));
        let line_src: Box<dyn LineSource> = match &src {
            Source::File(p) if p.as_os_str() != "-" => Box::new(
                crate::triage::follow::FollowFile::new(p.clone(), false, stop.clone())
                    .within(sys.root()),
            ),
            Source::Journal(q) => Box::new(crate::triage::follow::FollowJournal::new(
                q.clone(),
                sys.root().to_path_buf(),
                stop.clone(),
            )),
            _ => {
                return Err(CliError(
                    "--follow works on a file or the journal, not on stdin or the ring buffer"
                        .into(),
                ));
            }
        };
        let none = crate::cli::progress::Progress::none();
        let (_, err) = read_all(line_src, &opts, &mut sink, io, none);
        if let Some(e) = err {
            let _ = writeln!(io.err, "aactl: {}", escape_str(&e));
            unreadable = true;
        }
    } else {
        unreadable |= read_sources(explicit, m, &sys, &opts, &mut sink, io);
        // records were read but the filters left none: say so, instead of
        // an empty screen (no records at all is explained where they are read)
        if sink.kept == 0 && sink.seen > 0 {
            let _ = writeln!(
                io.err,
                "aactl: none of the {} record(s) read matched the filters",
                sink.seen
            );
        }
    }
    // An NDJSON stream from --follow holds records only: a closing summary
    // object there would be a line of another shape. Asked for, it is printed.
    if let Some(s) = &sink.summary
        && (summary || (follow && !json))
    {
        print_summary(s, json, &tz, io);
    }
    if let Some(mut s) = sink.suggest.take() {
        let r = finish_suggest(m, &sys, &mut s, json, io)?;
        if r == Exit::Failure {
            failed = true;
        }
    }
    let _ = io.out.flush();
    Ok(if unreadable {
        Exit::Error
    } else if failed {
        Exit::Failure
    } else {
        Exit::Success
    })
}
