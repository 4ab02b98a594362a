//! `--watch` of the loader commands: after loading, follow the audit log for a while and
//! suggest rules for the denials of the loaded profiles.

use super::CliError;
use super::loader_cmd::{Context, WatchOut, one};
use clap::{Arg, ArgMatches, Command};
use std::path::PathBuf;

/// Adds `--watch SECONDS` and `--log-source SRC`.
pub(super) fn with_watch_args(c: Command) -> Command {
    c.arg(
        Arg::new("watch")
            .long("watch")
            .value_name("SECONDS")
            .value_parser(clap::value_parser!(u64).range(1..=86_400))
            .help(
                "After loading, follow the log for SECONDS and show the denials of the loaded \
                 profiles (hats and children included) with the rules that would allow them",
            ),
    )
    .arg(
        Arg::new("log-source")
            .long("log-source")
            .value_name("SRC")
            .requires("watch")
            .help("Log to follow with --watch: PATH, journal or auto (default auto, as aactl log)"),
    )
}

/// Runs `--watch` when asked (not for a dry run): opens the log source (as
/// `aactl log --follow` chooses it, or `--log-source`), follows it for the
/// given seconds and keeps the records of `profiles`.
///
/// # Errors
/// [`CliError`] when no source can be found.
pub(super) fn run_watch(
    m: &ArgMatches,
    ctx: &Context,
    profiles: Vec<String>,
) -> Result<Option<WatchOut>, CliError> {
    use crate::log::source::{JournalQuery, Source, detect};
    use crate::triage::follow::{FollowFile, FollowJournal};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let Some(seconds) = one::<u64>(m, "watch").copied() else {
        return Ok(None);
    };
    // Nothing was loaded (a dry run, or every target failed): nothing to watch.
    if ctx.dry_run || profiles.is_empty() {
        return Ok(None);
    }
    let src = match one::<String>(m, "log-source").map(String::as_str) {
        Some("journal") => Source::Journal(JournalQuery::default()),
        Some(p) if p != "auto" => Source::File(PathBuf::from(p)),
        _ => detect(&ctx.system)
            .candidates
            .into_iter()
            .map(|c| c.0)
            .find(|s| !matches!(s, Source::Kernel))
            .ok_or_else(|| {
                CliError(
                    "--watch: no log file or journal holds this host's records (use --log-source PATH)"
                        .into(),
                )
            })?,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let line_src: Box<dyn crate::log::reader::LineSource> = match &src {
        Source::File(p) => {
            Box::new(FollowFile::new(p.clone(), false, stop.clone()).within(ctx.system.root()))
        }
        Source::Journal(q) => Box::new(FollowJournal::new(
            q.clone(),
            ctx.system.root().to_path_buf(),
            stop.clone(),
        )),
        Source::Kernel => {
            return Err(CliError(
                "--watch follows a file or the journal, not the ring buffer".into(),
            ));
        }
    };
    // the rules are written in the language of the parser that loaded the profiles
    let parser = crate::loader::Loader::new(ctx.parser.clone(), crate::loader::SystemRunner)
        .parser_version()
        .unwrap_or(crate::policy::ParserVersion::LATEST);
    let w = crate::watch::watch_for(
        line_src,
        stop,
        std::time::Duration::from_secs(seconds),
        &profiles,
        parser,
    );
    Ok(Some(WatchOut {
        seconds,
        source: src.describe(),
        profiles,
        records: w
            .records
            .iter()
            .map(|(r, _)| crate::log::render::to_json(r))
            .collect(),
        text_lines: w
            .records
            .iter()
            .map(|(r, _)| crate::log::render::text_line(r))
            .collect(),
        dropped: w.dropped,
        suggestions: w.suggestions.render(),
        untrusted_suggestions: w.suggestions.render_untrusted(),
        error: w.error,
    }))
}

/// The top-level profile names defined in `files` (for `--watch`).
pub(super) fn profiles_in(files: &[PathBuf]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for f in files {
        if let Ok(i) = crate::loader::mode::IndexedFile::read(f) {
            for p in i.profiles.into_iter().filter(|p| p.top_level) {
                if !v.contains(&p.name) {
                    v.push(p.name);
                }
            }
        }
    }
    v
}
