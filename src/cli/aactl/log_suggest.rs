//! `aactl log --suggest [--write]`: the suggested rules, their files, and writing them.

use super::{CliError, Exit};
use crate::cli::Io;
use crate::error::chain;
use crate::escape::escape_str;
use crate::loader::EditLock;
use crate::policy::ast::{Item, Profile};
use crate::system::System;
use crate::triage::Suggestions;
use crate::triage::generalize::Generalizer;
use crate::triage::ondisk::OnDisk;
use crate::triage::write::{FileChange, local_override, plan_current, plan_in};
use clap::ArgMatches;
use std::path::{Path, PathBuf};

/// Prints (and with `--write` applies) the suggestions.
pub(super) fn finish_suggest(
    m: &ArgMatches,
    sys: &System,
    s: &mut Suggestions,
    json: bool,
    io: &mut Io<'_>,
) -> Result<Exit, CliError> {
    let dir = m
        .get_one::<PathBuf>("profile-dir")
        .cloned()
        .unwrap_or_else(|| sys.path("/etc/apparmor.d"));
    let mut disk = dir
        .is_dir()
        .then(|| OnDisk::new_in(sys.root(), dir.clone()));
    if m.get_flag("trust-userspace-records") {
        s.trust_untrusted();
    }
    if let Some(d) = disk.as_mut() {
        let removed = s.retain(&mut |name, rule| d.missing(name, rule));
        if removed > 0 {
            let _ = writeln!(
                io.err,
                "aactl: {removed} rule(s) left out: already allowed by the profiles in {}",
                escape_str(&dir.display().to_string())
            );
        }
    }
    if m.get_flag("generalize") {
        let g = match disk.as_mut() {
            Some(d) => Generalizer::with(d.tunables()),
            None => Generalizer::default(),
        };
        s.rewrite(&mut |e| g.rule(e));
    }
    if m.get_flag("write") {
        return write_rules(m, sys, &dir, disk.as_mut(), s, io);
    }
    if json {
        let blocks = |list: Vec<Profile>| -> Vec<serde_json::Value> {
            list.iter()
                .map(|b| {
                    let rules: Vec<String> = b
                        .items
                        .iter()
                        .filter(|i| matches!(i, Item::Rule(_)))
                        .map(Item::to_string)
                        .collect();
                    serde_json::json!({
                        "profile": b.name.value(),
                        "rules": rules,
                        "block": b.to_string(),
                    })
                })
                .collect()
        };
        let notes: Vec<serde_json::Value> = s
            .notes
            .iter()
            .map(|(k, n)| {
                serde_json::json!({
                    "profile": k.profile, "operation": k.operation,
                    "reason": k.reason.0, "count": n,
                })
            })
            .collect();
        let v = serde_json::json!({
            "parser_version": s.parser().as_str(),
            "profiles": blocks(s.blocks()),
            "untrusted_profiles": blocks(s.untrusted_blocks()),
            "no_rule": notes,
        });
        let _ = writeln!(io.out, "{v}");
    } else {
        let _ = write!(io.out, "{}", s.render());
        if s.untrusted_rule_count() > 0 {
            if !s.is_empty() {
                let _ = writeln!(io.out);
            }
            let _ = write!(io.out, "{UNTRUSTED_HEADER}{}", s.render_untrusted());
        }
        print_notes(s, io);
    }
    Ok(Exit::Success)
}

/// Heads the `--suggest` section of rules that only records of unverified
/// senders support (policy comments: the output stays valid policy).
const UNTRUSTED_HEADER: &str = "\
# UNTRUSTED: the rules below are supported only by records whose sender is not
# verified (a syslog line of another program, a line without kernel framing, a
# journal entry of a user process). Any local user can write such a record
# (logger). --write leaves them out unless --trust-userspace-records is given.
";

fn write_rules(
    m: &ArgMatches,
    sys: &System,
    dir: &Path,
    disk: Option<&mut OnDisk>,
    s: &Suggestions,
    io: &mut Io<'_>,
) -> Result<Exit, CliError> {
    let dry = m.get_flag("dry-run");
    let Some(disk) = disk else {
        return Err(CliError(format!(
            "--write: profile directory {} not found (use --profile-dir)",
            dir.display()
        )));
    };
    let mut failed = false;
    // (profile file, its profiles with their rules)
    type PerFile = (std::path::PathBuf, Vec<(String, Vec<Item>)>);
    let mut by_file: Vec<PerFile> = Vec::new();
    for b in s.blocks() {
        let name = b.name.value();
        let shown = escape_str(&name).into_owned();
        let rules: Vec<Item> = b
            .items
            .iter()
            .filter(|i| !matches!(i, Item::Profile(_)))
            .cloned()
            .collect();
        if b.items.iter().any(|i| matches!(i, Item::Profile(_))) {
            let _ = writeln!(
                io.err,
                "aactl: {shown}: rules for hats and child profiles are not written to the local override; add them to the hat in the profile"
            );
        }
        if !rules.iter().any(|i| matches!(i, Item::Rule(_))) {
            continue;
        }
        let Some(found) = disk.find(&name) else {
            let unread = match disk.unreadable() {
                [] => String::new(),
                [(p, why), rest @ ..] => format!(
                    " (cannot read {}: {why}{})",
                    p.display(),
                    if rest.is_empty() {
                        String::new()
                    } else {
                        format!("; and {} more files", rest.len())
                    }
                ),
            };
            let _ = writeln!(
                io.err,
                "aactl: {shown}: no profile file in {} defines it{}; nothing written",
                escape_str(&dir.display().to_string()),
                escape_str(&unread)
            );
            failed = true;
            continue;
        };
        // profiles defined in one file share its local/ file: one plan
        // per file, or the second write would undo the first
        match by_file.iter_mut().find(|(f, _)| *f == found.file) {
            Some((_, list)) => list.push((name.clone(), rules)),
            None => by_file.push((found.file.clone(), vec![(name.clone(), rules)])),
        }
    }
    let mut any = false;
    for (_, list) in &by_file {
        let Some(found) = disk.find(&list[0].0) else {
            continue;
        };
        let changes = match plan_in(sys, found, list) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(io.err, "aactl: {}", escape_str(&chain(&e)));
                failed = true;
                continue;
            }
        };
        any |= !changes.is_empty();
        if dry || changes.is_empty() {
            for c in &changes {
                let _ = write!(
                    io.out,
                    "{}",
                    crate::cli::table::paint_diff(io.term.color, &c.diff())
                );
            }
            continue;
        }
        // Writing: lock the folders of the profile file and its override, plan
        // again from the files as they are now (another aactl may have written
        // them since they were read), and write them before unlocking.
        let locked = local_override(&found.file)
            .map_err(|e| chain(&e))
            .and_then(|local| {
                EditLock::acquire_in(sys.root(), &[&found.file, &local])
                    .map_err(|e| CliError::from_error(&e).0)
            })
            .and_then(|lock| {
                plan_current(sys, found, list)
                    .map(|c| (lock, c))
                    .map_err(|e| chain(&e))
            });
        match locked {
            Ok((_lock, changes)) => {
                for c in &changes {
                    let _ = write!(
                        io.out,
                        "{}",
                        crate::cli::table::paint_diff(io.term.color, &c.diff())
                    );
                }
                failed |= !apply_all(sys, &changes, io);
            }
            Err(e) => {
                let _ = writeln!(io.err, "aactl: {}", escape_str(&e));
                failed = true;
            }
        }
    }
    // (none left after --trust-userspace-records, which moved them in)
    let untrusted = s.untrusted_rule_count();
    if untrusted > 0 {
        let _ = writeln!(
            io.err,
            "aactl: {untrusted} rule(s) not written: only records whose sender is not verified \
             support them (any local user can write such a log line); review them with \
             --suggest and pass --trust-userspace-records to write them anyway"
        );
    }
    if !any {
        let _ = writeln!(io.err, "aactl: nothing to write");
    }
    print_notes(s, io);
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

/// Applies `changes` in order, reporting each; false when one failed.
pub(super) fn apply_all(sys: &System, changes: &[FileChange], io: &mut Io<'_>) -> bool {
    let mut ok = true;
    for c in changes {
        match c.apply(sys) {
            Ok(()) => {
                let _ = writeln!(
                    io.err,
                    "aactl: wrote {}",
                    escape_str(&c.path.display().to_string())
                );
            }
            Err(e) => {
                let _ = writeln!(io.err, "aactl: {}", escape_str(&chain(&e)));
                ok = false;
            }
        }
    }
    ok
}

fn print_notes(s: &Suggestions, io: &mut Io<'_>) {
    if s.overflow_records > 0 {
        let _ = writeln!(
            io.err,
            "aactl: {} record(s) not turned into rules: more than {} distinct rules",
            s.overflow_records,
            crate::triage::suggest::MAX_RULES
        );
    }
    if s.notes.is_empty() {
        return;
    }
    let total: u64 = s.notes.values().sum();
    let _ = writeln!(io.err, "aactl: {total} record(s) produced no rule:");
    for (k, n) in &s.notes {
        let _ = writeln!(
            io.err,
            "  {} {}: {} ({n}×)",
            escape_str(&k.profile),
            if k.operation.is_empty() {
                "-"
            } else {
                &k.operation
            },
            escape_str(&k.reason.0)
        );
    }
}
