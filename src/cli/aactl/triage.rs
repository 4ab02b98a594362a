//! `aactl triage [SOURCE…]`: the review plan of the denials (`--json`), and
//! applying an answered plan (`--answers FILE`): the chosen rules written
//! into the profiles (or their `local/` overrides), with a diff first.
//! The logic lives in [`crate::triage::plan`] and [`crate::triage::apply`].

use super::{CliError, Exit};
use crate::cli::Io;
use crate::error::chain;
use crate::escape::escape_str;
use crate::loader::EditLock;
use crate::policy::ParserVersion;
use crate::system::System;
use crate::triage::apply::{
    Answer, Chosen, choose, parse_answers, plan_profile_file, unified_diff,
};
use crate::triage::ondisk::OnDisk;
use crate::triage::plan::{Abstractions, Plan, PlanBuilder};
use crate::triage::write::{FileChange, local_override, plan_in};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::path::{Path, PathBuf};

/// The options `triage` and `genprof` share (profile directory, parser
/// release, provenance, answers, where to write, dry run, reload).
pub(super) fn apply_args(cmd: Command) -> Command {
    cmd.arg(
        Arg::new("profile-dir")
            .long("profile-dir")
            .value_name("DIR")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Profiles on disk (default /etc/apparmor.d under --root): what they allow is not proposed, their abstractions are candidates, answers are written there"),
    )
    .arg(
        Arg::new("parser-version")
            .long("parser-version")
            .value_name("X.Y")
            .value_parser(clap::value_parser!(ParserVersion))
            .help("Write rules the apparmor_parser of this release accepts (default the installed parser's, else 6.0)"),
    )
    .arg(
        Arg::new("trust-userspace-records")
            .long("trust-userspace-records")
            .action(ArgAction::SetTrue)
            .help("Also write rules that only records of unverified senders support (any local user can write such records)"),
    )
    .arg(
        Arg::new("answers")
            .long("answers")
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Apply this answered plan (the --json document with action and rule set; - is standard input)"),
    )
    .arg(
        Arg::new("local")
            .long("local")
            .action(ArgAction::SetTrue)
            .requires("answers")
            .help("With --answers: write a top-level profile's rules to its local/NAME override (hats and children stay in the profile file)"),
    )
    .arg(
        Arg::new("dry-run")
            .long("dry-run")
            .action(ArgAction::SetTrue)
            .requires("answers")
            .help("With --answers: show the diff, write nothing"),
    )
    .arg(
        Arg::new("reload")
            .long("reload")
            .action(ArgAction::SetTrue)
            .requires("answers")
            .help("With --answers: reload each changed profile file (aactl replace FILE)"),
    )
    .arg(
        Arg::new("parser")
            .long("parser")
            .value_name("PATH")
            .value_parser(clap::value_parser!(PathBuf))
            .help("apparmor_parser for --reload (default: PATH, then /sbin, then /usr/sbin)"),
    )
    .arg(
        Arg::new("apparmorfs")
            .long("apparmorfs")
            .value_name("DIR")
            .value_parser(clap::value_parser!(PathBuf))
            .help("apparmorfs for --reload (default the mounted one)"),
    )
}

/// The clap definition of `aactl triage`.
pub(super) fn command() -> Command {
    let base = super::log::command_base()
        .name("triage")
        .about("Review denials: full-screen on a terminal, a plan of proposed rules (--json), and applying an answered plan (--answers)")
        .long_about(
            "Review denials. The records are read as aactl log reads them (SOURCE, filters, \
             --since/--until/--boot). Without --answers the review plan is printed: one \
             proposal per distinct access the profiles on disk do not allow yet, with the \
             candidate rules most specific first (--json: the plan document, see JSON OUTPUT in \
             aactl(1) and docs/triage.md). With --answers FILE the same document, with action \
             and rule set, is checked against the current plan and exactly the chosen rules \
             are written, after a unified diff. On a terminal (standard input and output) \
             the plan is reviewed full-screen instead, one proposal at a time with \
             aa-logprof's keys; its answers are written the same way (--no-interactive \
             prints the plan, --interactive forces the review).",
        );
    apply_args(super::log_triage::filter_args(base))
        .arg(
            Arg::new("interactive")
                .long("interactive")
                .action(ArgAction::SetTrue)
                .overrides_with("no-interactive")
                .help("Review in the full-screen terminal interface (the default when standard input and output are terminals)"),
        )
        .arg(
            Arg::new("no-interactive")
                .long("no-interactive")
                .action(ArgAction::SetTrue)
                .overrides_with("interactive")
                .help("Print the plan instead of the full-screen review"),
        )
}

/// Builds the plan of the records `m` names (`extra`: genprof's start time
/// and profile).
pub(super) fn build_plan(
    m: &ArgMatches,
    sys: &System,
    extra: Option<(u64, String)>,
    io: &mut Io<'_>,
) -> Result<(Plan, bool), CliError> {
    let dir = profile_dir(m, sys);
    let parser = super::log_triage::target_parser(m, io.err);
    let (builder, unreadable) =
        super::log_triage::collect_plan(m, sys, PlanBuilder::for_parser(parser), extra, io)?;
    let mut disk = dir
        .is_dir()
        .then(|| OnDisk::new_in(sys.root(), dir.clone()));
    let abstractions = Abstractions::load(sys.root(), &dir);
    Ok((builder.finish(disk.as_mut(), &abstractions), unreadable))
}

fn profile_dir(m: &ArgMatches, sys: &System) -> PathBuf {
    m.get_one::<PathBuf>("profile-dir")
        .cloned()
        .unwrap_or_else(|| sys.path("/etc/apparmor.d"))
}

/// Runs `aactl triage`.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let (plan, unreadable) = build_plan(m, &sys, None, io)?;
    if m.contains_id("answers") {
        let r = apply_answers(m, &sys, &plan, io)?;
        return Ok(if unreadable { Exit::Error } else { r });
    }
    if !super::wants_json(m) && interactive(m, io) && !plan.proposals.is_empty() {
        let r = review(m, &sys, &plan, io)?;
        return Ok(if unreadable { Exit::Error } else { r });
    }
    if super::wants_json(m) {
        let text = serde_json::to_string_pretty(&plan).map_err(|e| CliError(e.to_string()))?;
        let _ = writeln!(io.out, "{text}");
    } else {
        print_plan(&plan, io);
    }
    Ok(if unreadable {
        Exit::Error
    } else {
        Exit::Success
    })
}

/// True when the full-screen review is wanted: `--interactive`, or standard
/// input and output are terminals of the real program (not an in-process
/// caller's buffers) and `--no-interactive` is not given.
fn interactive(m: &ArgMatches, io: &Io<'_>) -> bool {
    use std::io::IsTerminal;
    if m.get_flag("interactive") {
        return true;
    }
    !m.get_flag("no-interactive")
        && io.caller_reports_stdout
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
}

/// The full-screen review; at Save its answers go through [`apply_list`],
/// after the terminal is back to normal.
fn review(m: &ArgMatches, sys: &System, plan: &Plan, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let mut diff = |plan: &Plan, answers: &[Answer], local: bool| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let r = {
            let mut buf = Io::new(&mut out, &mut err);
            apply_list(m, sys, plan, answers, "review", (true, local), &mut buf)
        };
        let mut text = String::from_utf8_lossy(&out).into_owned();
        text.push_str(&String::from_utf8_lossy(&err));
        if let Err(e) = r {
            text.push_str(&format!("aactl: {}\n", e.0));
        }
        text
    };
    let outcome = super::triage_tui::review(plan, &mut diff)
        .map_err(|e| CliError(format!("terminal: {e}")))?;
    match outcome {
        super::triage_tui::Outcome::Abort => {
            let _ = writeln!(io.err, "aactl: review aborted, nothing written");
            Ok(Exit::Success)
        }
        super::triage_tui::Outcome::Save(plan, answers, local) => {
            apply_list(m, sys, &plan, &answers, "review", (false, local), io)
        }
    }
}

/// The plan for people: one block per proposal, candidates numbered.
fn print_plan(plan: &Plan, io: &mut Io<'_>) {
    if plan.proposals.is_empty() {
        let _ = writeln!(io.err, "aactl: nothing to review");
    }
    for p in &plan.proposals {
        let r = &p.records;
        let _ = writeln!(
            io.out,
            "{} {} {} ({} record{}{})",
            p.id,
            escape_str(&p.profile),
            p.kind,
            r.count,
            if r.count == 1 { "" } else { "s" },
            if r.trusted() {
                String::new()
            } else {
                ", unverified senders only".to_owned()
            }
        );
        for s in &r.samples {
            let _ = writeln!(
                io.out,
                "    {} {} {} {}{} [{}] {}",
                s.event,
                escape_str(&s.operation),
                escape_str(&s.target),
                escape_str(&s.mask),
                s.comm
                    .as_ref()
                    .map(|c| format!(" comm={}", escape_str(c)))
                    .unwrap_or_default(),
                s.provenance,
                escape_str(&s.source)
            );
        }
        for (i, c) in p.candidates.iter().enumerate() {
            let _ = writeln!(io.out, "  {}. {}", i + 1, escape_str(c));
        }
    }
}

fn read_answers(path: &Path) -> Result<String, CliError> {
    let mut text = String::new();
    let r = if path.as_os_str() == "-" {
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    r.map_err(|e| {
        CliError(format!(
            "--answers {}: {}",
            path.display(),
            crate::system::strerror(&e)
        ))
    })?;
    Ok(text)
}

/// Applies `--answers` to `plan`.
pub(super) fn apply_answers(
    m: &ArgMatches,
    sys: &System,
    plan: &Plan,
    io: &mut Io<'_>,
) -> Result<Exit, CliError> {
    let path = m.get_one::<PathBuf>("answers").cloned().unwrap_or_default();
    let text = read_answers(&path)?;
    let answers =
        parse_answers(&text).map_err(|e| CliError(format!("--answers {}: {e}", path.display())))?;
    let what = format!("--answers {}", path.display());
    let dry = m.get_flag("dry-run");
    let local = m.get_flag("local");
    apply_list(m, sys, plan, &answers, &what, (dry, local), io)
}

/// Applies `answers` to `plan` (`what` names them in errors): the diff, then
/// the locked writes unless `dry`, then the reload (or its hint); with
/// `local` a top-level profile's rules go to its `local/` override. The
/// interactive review uses this too, so both write exactly the same.
pub(super) fn apply_list(
    m: &ArgMatches,
    sys: &System,
    plan: &Plan,
    answers: &[Answer],
    what: &str,
    (dry, local): (bool, bool),
    io: &mut Io<'_>,
) -> Result<Exit, CliError> {
    let mut chosen = choose(plan, answers).map_err(|e| CliError(format!("{what}: {e}")))?;
    if !m.get_flag("trust-userspace-records") {
        let (keep, drop): (Vec<Chosen>, Vec<Chosen>) =
            chosen.into_iter().partition(|c| !c.untrusted);
        for c in &drop {
            let _ = writeln!(
                io.err,
                "aactl: {}: not written: only records whose sender is not verified support it \
                 (any local user can write such a log line); pass --trust-userspace-records to \
                 write it anyway",
                c.id
            );
        }
        chosen = keep;
    }
    if chosen.is_empty() {
        let _ = writeln!(io.err, "aactl: nothing to write");
        return Ok(Exit::Success);
    }
    let dir = profile_dir(m, sys);
    if !dir.is_dir() {
        return Err(CliError(format!(
            "{what}: profile directory {} not found (use --profile-dir)",
            dir.display()
        )));
    }
    let mut disk = OnDisk::new_in(sys.root(), dir.clone());
    // per profile file, its chosen rules
    let mut by_file: Vec<(PathBuf, Vec<&Chosen>)> = Vec::new();
    let mut failed = false;
    for c in &chosen {
        let top = c.profile.split("//").next().unwrap_or(&c.profile);
        let Some(found) = disk.find(top) else {
            let _ = writeln!(
                io.err,
                "aactl: {}: no profile file in {} defines {}; not written",
                c.id,
                escape_str(&dir.display().to_string()),
                escape_str(top)
            );
            failed = true;
            continue;
        };
        match by_file.iter_mut().find(|(f, _)| *f == found.file) {
            Some((_, v)) => v.push(c),
            None => by_file.push((found.file.clone(), vec![c])),
        }
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (file, list) in &by_file {
        let top = list[0].profile.split("//").next().unwrap_or_default();
        let Some(found) = disk.find(top).cloned() else {
            continue;
        };
        let lock = if dry {
            None
        } else {
            let files = match local_override(file) {
                Ok(l) => vec![file.clone(), l],
                Err(_) => vec![file.clone()],
            };
            match EditLock::acquire_in(sys.root(), &files) {
                Ok(l) => Some(l),
                Err(e) => {
                    let _ = writeln!(io.err, "aactl: {}", escape_str(&chain(&e)));
                    failed = true;
                    continue;
                }
            }
        };
        let changes = match changes_for(sys, &found, list, local) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(io.err, "aactl: {}", escape_str(&e));
                failed = true;
                continue;
            }
        };
        for c in &changes {
            let shown = c.path.display().to_string();
            let a = if c.before.is_some() {
                shown.as_str()
            } else {
                "/dev/null"
            };
            let _ = write!(
                io.out,
                "{}",
                crate::cli::table::paint_diff(
                    io.term.color,
                    &unified_diff(a, &shown, c.before.as_deref().unwrap_or(""), &c.after)
                )
            );
        }
        if dry {
            continue;
        }
        // a file is reloaded only when all its changes were written
        if super::log_suggest::apply_all(sys, &changes, io) {
            if !written.contains(file) {
                written.push(file.clone());
            }
        } else {
            failed = true;
        }
        drop(lock);
    }
    for f in &written {
        if m.get_flag("reload") && !dry {
            let mut argv: Vec<std::ffi::OsString> =
                vec!["aactl".into(), "replace".into(), f.clone().into()];
            for opt in ["parser", "apparmorfs"] {
                if let Some(v) = m.get_one::<PathBuf>(opt) {
                    argv.push(format!("--{opt}").into());
                    argv.push(v.clone().into());
                }
            }
            if super::run_command(argv, io)? != Exit::Success {
                failed = true;
            }
        } else {
            let _ = writeln!(
                io.err,
                "aactl: reload the profile with: aactl replace {}",
                escape_str(&f.display().to_string())
            );
        }
    }
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

/// The file changes for one profile file: read again (the caller holds the
/// edit lock), the rules inserted into their blocks, or with `local` the
/// top-level ones appended to the `local/` override.
fn changes_for(
    sys: &System,
    found: &crate::triage::ondisk::Found,
    list: &[&Chosen],
    local: bool,
) -> Result<Vec<FileChange>, String> {
    let bytes = crate::system::fs::read_limited(
        sys.root(),
        &found.file,
        crate::system::fs::limits::POLICY_FILE,
    )
    .map_err(|e| format!("{}: {}", found.file.display(), crate::system::strerror(&e)))?;
    let current = String::from_utf8(bytes)
        .map_err(|_| format!("{}: not valid UTF-8", found.file.display()))?;
    let (to_local, in_file): (Vec<&Chosen>, Vec<&Chosen>) = list
        .iter()
        .partition(|c| local && !c.profile.contains("//") && c.child.is_none());
    let text = plan_profile_file(&current, &in_file)
        .map_err(|e| format!("{}: {e}", found.file.display()))?;
    let mut changes = Vec::new();
    if !to_local.is_empty() {
        let mut f = found.clone();
        f.ast = crate::policy::parse_str(&text, crate::diag::FileId(0)).ast;
        f.text = text.clone();
        let mut per: Vec<(String, Vec<crate::policy::ast::Item>)> = Vec::new();
        for c in &to_local {
            let items = rule_items(&c.rule)?;
            match per.iter_mut().find(|(n, _)| *n == c.profile) {
                Some((_, v)) => v.extend(items),
                None => per.push((c.profile.clone(), items)),
            }
        }
        changes = plan_in(sys, &f, &per).map_err(|e| chain(&e))?;
        for c in &mut changes {
            if c.path == found.file {
                c.before = Some(current.clone());
            }
        }
    }
    if text != current && !changes.iter().any(|c| c.path == found.file) {
        changes.push(FileChange {
            path: found.file.clone(),
            before: Some(current),
            after: text,
        });
    }
    Ok(changes)
}

/// A rule line as the AST items `plan_in` writes.
fn rule_items(rule: &str) -> Result<Vec<crate::policy::ast::Item>, String> {
    let parsed = crate::policy::parse_str(
        &format!("profile p {{\n{rule}\n}}\n"),
        crate::diag::FileId(0),
    );
    parsed
        .ast
        .items
        .into_iter()
        .find_map(|it| match it {
            crate::policy::ast::Item::Profile(p) => Some(p.items),
            _ => None,
        })
        .ok_or_else(|| format!("{rule}: not a rule"))
}
