//! `aactl ps`: every process with its label, mode and stack.
//!
//! argv → [`Selection`] → [`crate::inspect::process::list`] → a table (tabled) with every
//! string from /proc or a profile name escaped ([`crate::escape`]), or `--json`
//! ([`PsReport`], schema in aactl(1), "JSON OUTPUT").

use super::render::{mode_word, opt, write_json};
use super::{CliError, Exit};
use crate::cli::Io;
use crate::cli::table::{Cell, Fit, Table, mode_style};
use crate::escape::escape_str;
use crate::label::Mode;
use clap::{Arg, ArgAction, ArgMatches, Command};

pub(super) use crate::inspect::SCHEMA;
pub(super) use crate::inspect::process::{PsReport, PsRow, Selection, StackEntry, State};

/// Text for a stack entry: `[:NS:]PROFILE`.
fn entry_name(s: &StackEntry) -> String {
    match &s.namespace {
        Some(ns) => format!(":{}:{}", escape_str(ns), escape_str(&s.profile)),
        None => escape_str(&s.profile).into_owned(),
    }
}

/// The table of rows: PID, COMM, EXE, MODE, then PROFILE (with its namespace) and PROFILE
/// MODE, one table row per stacked profile (the later ones with the process columns
/// empty, so a profile and its mode stay side by side when a name wraps). COMM, EXE and
/// PROFILE wrap to fit a terminal; the pid and the modes never do.
pub(super) fn table(rows: &[PsRow]) -> Table {
    let mut t = Table::new(&[
        ("PID", Fit::Keep),
        ("COMM", Fit::Wrap),
        ("EXE", Fit::Wrap),
        ("MODE", Fit::Keep),
        ("PROFILE", Fit::Wrap),
        ("PROFILE MODE", Fit::Keep),
    ]);
    for r in rows {
        let entries: Vec<(String, String)> = if r.stack.is_empty() {
            let what = match r.state {
                State::Invalid => format!("(invalid: {})", opt(r.label.as_deref())),
                State::Unreadable if r.reason.is_some() => {
                    format!("(unreadable: {})", opt(r.reason.as_deref()))
                }
                s => format!("({})", s.as_str()),
            };
            vec![(what, "-".to_owned())]
        } else if let Some(p) = &r.exe_profile {
            vec![(
                format!("unconfined (profile {} not applied)", escape_str(p)),
                "unconfined".to_owned(),
            )]
        } else {
            r.stack
                .iter()
                .map(|s| (entry_name(s), mode_word(s.mode.as_ref())))
                .collect()
        };
        let mode = mode_word(r.mode.as_ref());
        for (k, (profile, pmode)) in entries.into_iter().enumerate() {
            let pmode = Cell::styled(pmode.clone(), mode_style(&pmode));
            if k == 0 {
                t.row(vec![
                    r.pid.to_string().into(),
                    opt(r.comm.as_deref()).into(),
                    opt(r.exe.as_deref()).into(),
                    Cell::styled(mode.clone(), mode_style(&mode)),
                    profile.into(),
                    pmode,
                ]);
            } else {
                t.row(vec![
                    Cell::default(),
                    Cell::default(),
                    Cell::default(),
                    Cell::default(),
                    profile.into(),
                    pmode,
                ]);
            }
        }
    }
    t
}

/// The clap definition of `aactl ps`.
pub(super) fn command() -> Command {
    Command::new("ps")
        .about("List processes with their AppArmor labels, modes and stacked profiles")
        .long_about(
            "List every process with its AppArmor label, the label's mode, and each profile \
             of its stack with that profile's own mode and policy namespace. By default \
             unconfined processes and processes whose label cannot be read (with the reason) \
             are listed too; kernel threads only with --kernel-threads, and a process that \
             exits while it is read is left out.",
        )
        .after_help(
            "Examples:\n  aactl ps --confined          confined processes only\n  \
             aactl ps --mode complain     processes in complain mode\n  \
             aactl ps --profile nscd      processes in profile nscd (or its hats)",
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("Print JSON (schema: aactl(1), JSON OUTPUT) instead of a table"),
        )
        .arg(
            Arg::new("confined")
                .long("confined")
                .short('c')
                .action(ArgAction::SetTrue)
                .help("Only processes confined by at least one profile"),
        )
        .arg(
            Arg::new("mode")
                .long("mode")
                .short('m')
                .value_name("MODE")
                .action(ArgAction::Append)
                .value_delimiter(',')
                .help(
                    "Only processes whose label mode is MODE (enforce, complain, prompt, kill, \
                     unconfined, mixed; another word is matched verbatim, with a warning); \
                     repeat or separate with commas for several",
                ),
        )
        .arg(
            Arg::new("profile")
                .long("profile")
                .short('p')
                .value_name("NAME")
                .action(ArgAction::Append)
                .help(
                    "Only processes with profile NAME (or :NS:NAME) in their stack; a profile \
                     also matches its hats; repeat for several",
                ),
        )
        .arg(
            Arg::new("namespace")
                .long("namespace")
                .short('n')
                .value_name("NS")
                .action(ArgAction::Append)
                .help("Only processes with a profile in policy namespace NS; repeat for several"),
        )
        .arg(
            Arg::new("pid")
                .long("pid")
                .value_name("PID")
                .action(ArgAction::Append)
                .value_delimiter(',')
                .value_parser(clap::value_parser!(u32))
                .help("Only process PID (kernel threads included); repeat or separate with commas"),
        )
        .arg(
            Arg::new("exe")
                .long("exe")
                .value_name("PATH")
                .action(ArgAction::Append)
                .help(
                    "Only processes running executable PATH (as the EXE column shows it); \
                     repeat for several",
                ),
        )
        .arg(
            Arg::new("unconfined-with-profile")
                .long("unconfined-with-profile")
                .action(ArgAction::SetTrue)
                .conflicts_with("confined")
                .help(
                    "Only unconfined processes whose executable has a loaded profile (started \
                     before it was loaded: restart them to confine them)",
                ),
        )
        .arg(
            Arg::new("kernel-threads")
                .long("kernel-threads")
                .visible_alias("all")
                .action(ArgAction::SetTrue)
                .help("Also list kernel threads (left out by default)"),
        )
}

/// The warning for a `--mode` word that is not one of the known modes (the word is still
/// used: a newer kernel can print modes this version does not know), with the closest known
/// word when one is near; `None` for a known word (`user` included).
pub(super) fn unknown_mode_warning(word: &str) -> Option<String> {
    if !matches!(Mode::from_word(word), Mode::Unknown(_)) {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let near = Mode::SECTIONS
        .iter()
        .map(Mode::as_str)
        .map(|k| (crate::diag::suggest::edit_distance(&lower, k), k))
        .filter(|(d, k)| *d <= 2 || lower.starts_with(k) || k.starts_with(lower.as_str()))
        .min();
    let known = "known modes: enforce, complain, prompt, kill, unconfined, mixed";
    Some(match near {
        Some((_, k)) if !lower.is_empty() => {
            format!("no known mode '{word}'; did you mean '{k}'? ({known})")
        }
        _ => format!(
            "no known mode '{word}'; it only matches a mode the kernel prints verbatim ({known})"
        ),
    })
}

/// Runs `aactl ps`.
///
/// # Errors
/// AppArmor absent or disabled (see [`crate::inspect::preflight`]), or `/proc` unreadable.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let sel = Selection {
        confined: m.get_flag("confined"),
        modes: m
            .get_many::<String>("mode")
            .map(|v| v.map(|s| Mode::from_word(s)).collect())
            .unwrap_or_default(),
        profiles: m
            .get_many::<String>("profile")
            .map(|v| v.cloned().collect())
            .unwrap_or_default(),
        // `:ns:` (as status and labels write it) means `ns`
        namespaces: m
            .get_many::<String>("namespace")
            .map(|v| {
                v.map(|n| {
                    n.strip_prefix(':')
                        .map(|x| x.strip_suffix(':').unwrap_or(x))
                        .unwrap_or(n)
                        .to_owned()
                })
                .collect()
            })
            .unwrap_or_default(),
        pids: m
            .get_many::<u32>("pid")
            .map(|v| v.copied().collect())
            .unwrap_or_default(),
        exes: m
            .get_many::<String>("exe")
            .map(|v| v.cloned().collect())
            .unwrap_or_default(),
        unconfined_with_profile: m.get_flag("unconfined-with-profile"),
        kernel_threads: m.get_flag("kernel-threads"),
    };
    let (rows, warning) = crate::inspect::process::list(&sys, &sel)?;
    if let Some(why) = warning {
        let _ = writeln!(
            io.err,
            "aactl: warning: {}; the modes of stacked profiles are not shown",
            escape_str(&crate::error::chain(&why))
        );
    }
    for w in m.get_many::<String>("mode").into_iter().flatten() {
        if let Some(msg) = unknown_mode_warning(w) {
            let _ = writeln!(io.err, "aactl: warning: {}", escape_str(&msg));
        }
    }
    // a pid asked for that is not there (or gone while it was read): said, and exit 1
    let missing: Vec<u32> = sel
        .pids
        .iter()
        .copied()
        .filter(|p| !rows.iter().any(|r| r.pid == *p))
        .collect();
    // one that exists but fails another filter is not missing
    let missing: Vec<u32> = missing
        .into_iter()
        .filter(|p| {
            let dir = sys.proc_dir().join(p.to_string());
            std::fs::symlink_metadata(&dir).map_or(true, |md| !md.is_dir())
        })
        .collect();
    for p in &missing {
        let _ = writeln!(io.err, "aactl: no process with pid {p}");
    }
    if m.get_flag("json") {
        let report = PsReport::new(sys.root().to_path_buf(), rows);
        write_json(io, &report)?;
    } else {
        let text = table(&rows).render(&io.term);
        super::render::line(io, &text)?;
    }
    Ok(if missing.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    })
}
