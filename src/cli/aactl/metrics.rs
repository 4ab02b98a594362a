//! `aactl metrics`: the state and the records of the log as one Prometheus exposition, on
//! standard output or written atomically to a file (node_exporter's textfile collector).
//! Also the options and helpers `aactl exporter` shares.
//!
//! The model is [`crate::metrics`]; this module maps arguments, reads the log once and
//! writes.

use super::{CliError, Exit};
use crate::cli::Io;
use crate::error::chain;
use crate::escape::escape_str;
use crate::log::reader::{LogReader, ReaderOptions};
use crate::log::source::{JournalQuery, detect, open};
use crate::log::{LineSource, Source};
use crate::metrics::{Format, Limits, RecordCounts, RecordTrust, collect_state, render};
use crate::system::System;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The options `aactl metrics` and `aactl exporter` share.
pub(super) fn shared_args(cmd: Command) -> Command {
    cmd.arg(
        Arg::new("log")
            .long("log")
            .value_name("SOURCE")
            .value_parser(clap::value_parser!(PathBuf))
            .help(
                "Where to read AppArmor records: a file, `journal`, or `auto` (the default: \
                 where this host sends them, as aactl log finds it)",
            ),
    )
    .arg(
        Arg::new("no-log")
            .long("no-log")
            .action(ArgAction::SetTrue)
            .conflicts_with("log")
            .help("Do not read the log: state metrics only"),
    )
    .arg(
        Arg::new("trust-userspace-records")
            .long("trust-userspace-records")
            .action(ArgAction::SetTrue)
            .help(
                "Count records whose sender is not the kernel too (syslog lines of other \
                 programs, journal entries of user processes, the D-Bus daemon's). Any local \
                 user can write such records (logger), so by default they are only counted \
                 apart, in apparmor_records_unverified_total",
            ),
    )
    .arg(
        Arg::new("max-profiles")
            .long("max-profiles")
            .value_name("N")
            .value_parser(clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))
            .help(
                "Distinct profile label values of apparmor_records_total (default 200); \
                 records of further profiles count as profile=\"other\"",
            ),
    )
}

/// The record bounds and trust the options ask for.
pub(super) fn counts(m: &ArgMatches) -> RecordCounts {
    let mut limits = Limits::default();
    if let Some(n) = m.get_one::<usize>("max-profiles") {
        limits.profiles = *n;
    }
    let trust = if m.get_flag("trust-userspace-records") {
        RecordTrust::All
    } else {
        RecordTrust::KernelOnly
    };
    RecordCounts::new(limits, trust)
}

/// The log source the options name: `None` for `auto` (or none given), else a file or the
/// journal (`query` for the journal).
pub(super) fn explicit_log(m: &ArgMatches, query: JournalQuery) -> Option<Source> {
    let p = m.get_one::<PathBuf>("log")?;
    match p.to_str() {
        Some("auto") => None,
        Some("journal") => Some(Source::Journal(query)),
        Some("kernel" | "dmesg" | "kmsg") => Some(Source::Kernel),
        _ => Some(Source::File(p.clone())),
    }
}

/// `apparmor_parser --version` on the live host; `None` under `--root` (the reader's parser
/// says nothing about a snapshot) or when it cannot be run.
pub(super) fn parser_version(sys: &System) -> Option<String> {
    if !sys.is_host() {
        return None;
    }
    let program = crate::loader::find_parser_from_env().ok()?;
    crate::loader::Loader::new(
        crate::loader::Parser::new(program),
        crate::loader::SystemRunner,
    )
    .version()
}

/// The clap definition of `aactl metrics`.
pub(super) fn command() -> Command {
    shared_args(
        Command::new("metrics")
            .about("Print AppArmor's state and record counts as Prometheus metrics")
            .long_about(
                "Print the state (enabled, profiles by namespace and mode, processes by mode, \
                 unconfined processes with a profile, policy revision) and the AppArmor \
                 records of the log counted by profile, event, class and operation, in the \
                 Prometheus text format (OpenMetrics with --openmetrics). With --output the \
                 text replaces FILE atomically, for node_exporter's textfile collector. \
                 Metric names and labels: METRICS below.",
            ),
    )
    .arg(
        Arg::new("openmetrics")
            .long("openmetrics")
            .action(ArgAction::SetTrue)
            .help("Print OpenMetrics text instead of the Prometheus text format"),
    )
    .arg(
        Arg::new("output")
            .long("output")
            .short('o')
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help(
                "Write to FILE (replaced atomically: a temporary file beside it, renamed) \
                 instead of standard output",
            ),
    )
}

/// Reads `src` to its end into `counts`; the error that stopped it, if any.
fn count_source(src: Box<dyn LineSource>, counts: &mut RecordCounts) -> (u64, Option<String>) {
    let mut reader = LogReader::new(src, ReaderOptions::default());
    let mut err = None;
    while let Some(item) = reader.next_ref() {
        match item {
            Ok(r) => {
                counts.count(r);
            }
            Err(e) => err = Some(chain(&e)),
        }
    }
    (reader.stats().records, err)
}

/// Counts the records of the log the options name into `counts`; the errors met.
fn count_log(m: &ArgMatches, sys: &System, counts: &mut RecordCounts) -> Vec<String> {
    // The journal of the current boot: counters restart with the host.
    let query = JournalQuery {
        boot: Some(String::new()),
        ..JournalQuery::default()
    };
    let mut errors = Vec::new();
    if let Some(s) = explicit_log(m, query.clone()) {
        match open(&s, sys) {
            Ok(src) => {
                if let (_, Some(e)) = count_source(src, counts) {
                    errors.push(e);
                }
            }
            Err(e) => errors.push(chain(&e)),
        }
        return errors;
    }
    // As aactl log: the first group of candidates that holds records (a rotated set is
    // one group).
    let mut d = detect(sys);
    for c in &mut d.candidates {
        if let Source::Journal(q) = &mut c.0 {
            *q = query.clone();
        }
    }
    let mut found: Option<String> = None;
    for (s, why) in &d.candidates {
        if found.as_ref().is_some_and(|g| g != why) {
            break;
        }
        // A candidate that cannot be opened is passed over, as aactl log does.
        if let Ok(src) = open(s, sys) {
            let (n, err) = count_source(src, counts);
            if let Some(e) = err {
                errors.push(e);
            }
            if n > 0 {
                found = Some(why.clone());
            }
        }
    }
    errors
}

/// Writes `text` to `path` atomically: replaces it when it exists, else creates it (mode
/// 0644).
fn write_file(path: &Path, text: &[u8]) -> Result<(), CliError> {
    let fail = |e: &dyn std::fmt::Display| {
        CliError(format!(
            "--output {}: {e}",
            escape_str(&path.display().to_string())
        ))
    };
    if std::fs::symlink_metadata(path).is_ok() {
        return crate::system::edit::atomic_write(path, text).map_err(|e| fail(&chain(&e)));
    }
    match crate::system::edit::atomic_create(path, text, 0o644) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            crate::system::edit::atomic_write(path, text).map_err(|e| fail(&chain(&e)))
        }
        Err(e) => Err(fail(&crate::system::strerror(&e))),
    }
}

/// Runs `aactl metrics`.
///
/// # Errors
/// `--output` cannot be written.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let state = collect_state(&sys, parser_version(&sys));
    let mut scrape_errors: BTreeMap<String, u64> = BTreeMap::new();
    for (stage, why) in &state.errors {
        *scrape_errors.entry((*stage).to_owned()).or_default() += 1;
        let _ = writeln!(io.err, "aactl: warning: {}", escape_str(why));
    }
    let mut counts = counts(m);
    let records = if m.get_flag("no-log") {
        None
    } else {
        for e in count_log(m, &sys, &mut counts) {
            *scrape_errors.entry("log".to_owned()).or_default() += 1;
            let _ = writeln!(io.err, "aactl: warning: {}", escape_str(&e));
        }
        Some(&counts)
    };
    let format = if m.get_flag("openmetrics") {
        Format::OpenMetrics
    } else {
        Format::Prometheus
    };
    let text = render(Some(&state), records, &scrape_errors, format);
    match m.get_one::<PathBuf>("output") {
        Some(path) => write_file(path, text.as_bytes())?,
        None => {
            let written = io.out.write_all(text.as_bytes());
            super::render::finish_output(io, written)?;
        }
    }
    // What could not be read is in the output (apparmor_scrape_errors_total) and on
    // standard error; the exit status says so too, for a timer unit's log.
    Ok(if scrape_errors.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    })
}
