//! `aactl triage [SOURCE…]`: the review plan of the denials (`--json`), and
//! applying an answered plan (`--answers FILE`): the chosen rules written
//! into the profiles (or their `local/` overrides), with a diff first.
//! The logic lives in [`crate::triage::plan`] and [`crate::triage::apply`].

use super::triage_tui::AfterSave;
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
            .help("With --answers: reload each changed profile file (aactl replace FILE --base DIR)"),
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
             prints the plan, --interactive forces the review). After the writes the changed \
             profile files are reloaded with --reload, or switched to a mode and reloaded \
             with --set-mode; the review asks at Save; otherwise the exact aactl replace \
             command is printed.",
        );
    apply_args(super::log_triage::filter_args(base))
        .mut_arg("format", |a| {
            a.help("text: the plan as text; json: the plan document (schema in aactl(1))")
        })
        .mut_arg("json", |a| a.help("Print the plan as JSON (same as --format json)"))
        .mut_arg("mode", |a| {
            a.help("denied, allowed, audit or all (comma list; default denied,allowed,audit)")
        })
        .after_help(
            "Examples:\n  aactl triage                       review this host's denials full-screen\n  \
             aactl triage --json > plan.json    the plan, to answer with a script\n  \
             aactl triage --answers plan.json --set-mode enforce   write the answered rules, \
             then enforce",
        )
        .arg(
            Arg::new("set-mode")
                .long("set-mode")
                .value_name("MODE")
                .value_parser(["enforce", "complain"])
                .requires("answers")
                .help("With --answers: switch each changed profile file to enforce or complain mode and reload it (aactl enforce|complain FILE); implies --reload"),
        )
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
            apply_list(
                m,
                sys,
                plan,
                answers,
                "review",
                (true, local, AfterSave::Nothing),
                &mut buf,
            )
        };
        let mut text = String::from_utf8_lossy(&out).into_owned();
        text.push_str(&String::from_utf8_lossy(&err));
        if let Err(e) = r {
            text.push_str(&format!("aactl: {}\n", e.0));
        }
        text
    };
    // the reload is offered at Save only where it can be done; elsewhere
    // the message after the writes says why, with the command to run
    let can_reload = reload_blocker(m, sys).is_none();
    let outcome = super::triage_tui::review(plan, can_reload, &mut diff)
        .map_err(|e| CliError(format!("terminal: {e}")))?;
    match outcome {
        super::triage_tui::Outcome::Abort => {
            let _ = writeln!(io.err, "aactl: review aborted, nothing written");
            Ok(Exit::Success)
        }
        super::triage_tui::Outcome::Save(plan, answers, local, after) => {
            apply_list(m, sys, &plan, &answers, "review", (false, local, after), io)
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

/// The largest answers document read (a plan of 100,000 proposals is far less).
const ANSWERS_MAX: u64 = 256 << 20;

fn read_answers(path: &Path) -> Result<String, CliError> {
    use std::io::Read;
    let mut text = String::new();
    let r = if path.as_os_str() == "-" {
        std::io::stdin()
            .take(ANSWERS_MAX + 1)
            .read_to_string(&mut text)
            .map(|_| ())
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(ANSWERS_MAX + 1).read_to_string(&mut text))
            .map(|_| ())
    };
    if r.is_ok() && text.len() as u64 > ANSWERS_MAX {
        return Err(CliError(format!(
            "--answers {}: larger than {} MiB",
            escape_str(&path.display().to_string()),
            ANSWERS_MAX >> 20
        )));
    }
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
    // genprof has no --set-mode (it ends in enforce mode itself)
    let set_mode = m.try_get_one::<String>("set-mode").ok().flatten();
    let after = match set_mode.map(String::as_str) {
        Some("enforce") => AfterSave::Enforce,
        Some("complain") => AfterSave::Complain,
        _ if m.get_flag("reload") => AfterSave::Reload,
        _ => AfterSave::Nothing,
    };
    apply_list(m, sys, plan, &answers, &what, (dry, local, after), io)
}

/// Why the changed profiles cannot be reloaded from here, `None` when they
/// can: `--root` names another system's files (unless `--apparmorfs` says
/// where to load), no AppArmor filesystem is mounted, or no
/// apparmor_parser is found.
pub(super) fn reload_blocker(m: &ArgMatches, sys: &System) -> Option<String> {
    let explicit_fs = m.get_one::<PathBuf>("apparmorfs").is_some();
    if !sys.is_host() && !explicit_fs {
        return Some(format!(
            "the profiles are those of --root {}, not of the running kernel (reload them on that \
             system, or name its AppArmor filesystem with --apparmorfs)",
            escape_str(&sys.root().display().to_string())
        ));
    }
    if !explicit_fs && sys.securityfs().is_err() {
        return Some(
            "no AppArmor filesystem is mounted (AppArmor disabled, or securityfs not mounted)"
                .to_owned(),
        );
    }
    if m.get_one::<PathBuf>("parser").is_none() && crate::loader::find_parser_from_env().is_err() {
        return Some("apparmor_parser not found (in PATH, /sbin or /usr/sbin)".to_owned());
    }
    None
}

/// `args` as one shell command line (single quotes where needed).
fn shell_line(args: &[std::ffi::OsString]) -> String {
    let words: Vec<String> = args
        .iter()
        .map(|a| {
            let s = escape_str(&a.to_string_lossy()).into_owned();
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,".contains(c))
            {
                s
            } else {
                format!("'{}'", s.replace('\'', "'\\''"))
            }
        })
        .collect();
    words.join(" ")
}

/// After the writes: reload the changed files `written` (or switch their
/// mode and reload) as `after` says, through the loader commands with
/// `--base DIR` and the `--parser`/`--apparmorfs` of `m`; else, or where
/// [`reload_blocker`] says it cannot be done, print the command to run.
/// Returns true when a reload failed.
fn after_writes(
    m: &ArgMatches,
    sys: &System,
    dir: &Path,
    written: &[PathBuf],
    after: AfterSave,
    io: &mut Io<'_>,
) -> Result<bool, CliError> {
    let verb = match after {
        AfterSave::Enforce => "enforce",
        AfterSave::Complain => "complain",
        AfterSave::Nothing | AfterSave::NotOffered | AfterSave::Reload => "replace",
    };
    let blocked = match after {
        AfterSave::Nothing => None,
        _ => reload_blocker(m, sys),
    };
    // a reload asked for (--reload, --set-mode) and impossible is a failure
    let mut failed = blocked.is_some() && after != AfterSave::NotOffered;
    if let Some(why) = &blocked {
        let _ = writeln!(io.err, "aactl: not reloaded: {why}");
    }
    // Under --root the command is for the system the tree belongs to: its
    // paths are given as that system sees them (inside the root), never as
    // host paths that would load the tree's profile into this host's kernel.
    let on_root = !sys.is_host() && m.get_one::<PathBuf>("apparmorfs").is_none();
    let as_seen = |p: &Path| {
        if on_root {
            sys.as_seen(p)
        } else {
            p.to_path_buf()
        }
    };
    for f in written {
        let hint = matches!(after, AfterSave::Nothing | AfterSave::NotOffered) || blocked.is_some();
        let mut args: Vec<std::ffi::OsString> = vec![verb.into()];
        args.push(if hint { as_seen(f) } else { f.clone() }.into());
        if hint {
            args.push("--base".into());
            args.push(as_seen(dir).into());
            for opt in ["parser", "apparmorfs"] {
                if let Some(v) = m.get_one::<PathBuf>(opt) {
                    args.push(format!("--{opt}").into());
                    args.push(v.clone().into());
                }
            }
            let mut line = vec!["aactl".into()];
            line.extend(args);
            let _ = writeln!(
                io.err,
                "aactl: reload the profile{} with: {}",
                if on_root {
                    " on the system of --root"
                } else {
                    ""
                },
                shell_line(&line)
            );
            continue;
        }
        if super::genprof::sub(m, &args, dir, io)? != Exit::Success {
            failed = true;
        }
    }
    Ok(failed)
}

/// Applies `answers` to `plan` (`what` names them in errors): the diff, then
/// the locked writes unless `dry`, then the reload (or its hint); with
/// `local` a top-level profile's rules go to its `local/` override; `after`
/// says whether the changed files are reloaded (see [`after_writes`]). The
/// interactive review uses this too, so both write exactly the same.
pub(super) fn apply_list(
    m: &ArgMatches,
    sys: &System,
    plan: &Plan,
    answers: &[Answer],
    what: &str,
    (dry, local, after): (bool, bool, AfterSave),
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
    if !dry && after_writes(m, sys, &dir, &written, after, io)? {
        failed = true;
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
