//! `aactl status`: loaded profiles by namespace and mode, confined processes, kernel
//! parameters and a features summary, as tables (tabled) or as JSON ([`StatusReport`],
//! schema in aactl(1), "JSON OUTPUT").
//!
//! argv → [`crate::inspect::collect`] (the live host or a `--root` snapshot) → render. Every
//! string taken from /proc or a profile name is escaped ([`crate::escape`]) before it
//! reaches a table.

use super::render::{finish_output, mode_word, opt, prose, write_json};
use super::{CliError, Exit};
use crate::cli::Io;
use crate::cli::Term;
use crate::cli::table::{Cell, Fit, Table, mode_style};
use crate::escape::escape_str;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::io::Write;

pub use crate::inspect::report::RULE_CLASSES;
use crate::inspect::report::{StatusReport, collect};

fn ns_cell(ns: Option<&str>) -> String {
    match ns {
        Some(ns) => format!(":{}:", escape_str(ns)),
        None => "(current)".to_owned(),
    }
}

/// A mode word, coloured by mode.
fn mode_cell(word: String) -> Cell {
    let style = mode_style(&word);
    Cell::styled(word, style)
}

/// `one` or `many` by `n`.
fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// "1 profile is", "2 profiles are".
fn count(n: usize, one: &'static str, many: &'static str) -> String {
    format!("{n} {}", plural(n, one, many))
}

/// A label for the LABEL column: without the trailing ` (MODE)` the MODE column shows
/// (the JSON keeps the kernel's text).
fn label_cell(label: Option<&str>) -> String {
    match label {
        Some(l) => {
            let bare = l
                .strip_suffix(')')
                .and_then(|x| x.rfind(" (").map(|i| &x[..i]))
                .unwrap_or(l);
            opt(Some(bare))
        }
        None => opt(None),
    }
}

/// Renders the report as text tables, fitted to `term`'s width and coloured when it says so.
/// When every profile is in one policy namespace, the namespace is said once above the
/// tables instead of in a column.
pub fn render(r: &StatusReport, term: &Term, w: &mut dyn Write) -> std::io::Result<()> {
    let rev = r
        .revision
        .map(|n| format!(", policy revision {n}"))
        .unwrap_or_default();
    let head = format!(
        "AppArmor is enabled; securityfs at {}{rev}.",
        escape_str(&r.securityfs.to_string_lossy())
    );
    writeln!(w, "{}", prose(term, &head))?;
    if let Some(p) = &r.parser {
        let v = match (&p.version, &p.language) {
            (Some(v), Some(l)) => format!(" {} (policy language {l})", escape_str(v)),
            (Some(v), None) => format!(" {}", escape_str(v)),
            _ => " (version unknown)".to_owned(),
        };
        let line = format!("Parser: {}{v}.", escape_str(&p.path.to_string_lossy()));
        writeln!(w, "{}", prose(term, &line))?;
    }
    if let Some(f) = &r.features {
        let abi = if f.policy_abi.is_empty() {
            "none listed".to_owned()
        } else {
            f.policy_abi
                .iter()
                .map(|s| escape_str(s).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        writeln!(w, "{}", prose(term, &format!("Kernel policy ABI: {abi}.")))?;
    }
    if !r.sysctls.is_empty() {
        let list: Vec<String> = r
            .sysctls
            .iter()
            .map(|(k, v)| {
                let short = k
                    .strip_prefix("kernel.")
                    .and_then(|n| n.strip_prefix(crate::system::RESTRICT_PREFIX))
                    .unwrap_or(k);
                let v = match v {
                    serde_json::Value::Null => "unreadable".to_owned(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!("{} {}", escape_str(short), escape_str(&v))
            })
            .collect();
        let line = format!(
            "Unprivileged-user restrictions (kernel.{}*): {}.",
            crate::system::RESTRICT_PREFIX,
            list.join(", ")
        );
        writeln!(w, "{}", prose(term, &line))?;
    }
    if let Some(a) = &r.audit {
        let line = match (&a.status, &a.error) {
            (Some(s), _) => format!("Audit (auditctl -s): {}.", s.summary()),
            (None, Some(e)) => format!("Audit: unknown ({}).", escape_str(e)),
            (None, None) => "Audit: unknown.".to_owned(),
        };
        writeln!(w, "{}", prose(term, &line))?;
        for p in &a.problems {
            let line = format!("AppArmor records may be missing: {p}.");
            writeln!(w, "{}", prose(term, &line))?;
        }
    }
    writeln!(w)?;
    // one namespace: named in the heading, no column
    let one_ns = match r.profiles.namespaces.as_slice() {
        [only] => Some(only.namespace.as_deref()),
        _ => None,
    };
    let loaded = match one_ns {
        Some(None) => format!(
            "{} loaded, all in the current policy namespace.",
            count(r.profiles.total, "profile is", "profiles are")
        ),
        Some(Some(ns)) => format!(
            "{} loaded, all in policy namespace {}.",
            count(r.profiles.total, "profile is", "profiles are"),
            ns_cell(Some(ns))
        ),
        None => format!(
            "{} loaded.",
            count(r.profiles.total, "profile is", "profiles are")
        ),
    };
    writeln!(w, "{}", prose(term, &loaded))?;
    let mut word_cols: Vec<String> = crate::inspect::aa_status::PROFILE_SECTIONS
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect();
    for n in &r.profiles.namespaces {
        for k in n.modes.keys() {
            if !word_cols.contains(k) {
                word_cols.push(k.clone());
            }
        }
    }
    let heads: Vec<String> = word_cols
        .iter()
        .map(|w| escape_str(&w.to_uppercase()).into_owned())
        .collect();
    let mut cols: Vec<(&str, Fit)> = Vec::new();
    if one_ns.is_none() {
        cols.push(("NAMESPACE", Fit::Wrap));
    }
    cols.extend(heads.iter().map(|h| (h.as_str(), Fit::Keep)));
    cols.push(("TOTAL", Fit::Keep));
    let mut t = Table::new(&cols);
    for n in &r.profiles.namespaces {
        let mut rec: Vec<Cell> = Vec::new();
        if one_ns.is_none() {
            rec.push(ns_cell(n.namespace.as_deref()).into());
        }
        rec.extend(
            word_cols
                .iter()
                .map(|w| n.modes.get(w).copied().unwrap_or(0).to_string().into()),
        );
        rec.push(n.total.to_string().into());
        t.row(rec);
    }
    if !r.profiles.namespaces.is_empty() {
        writeln!(w, "{}", t.render(term))?;
    }
    if !r.profiles.profiles.is_empty() {
        writeln!(w)?;
        let mut cols = vec![
            ("PROFILE", Fit::Wrap),
            ("MODE", Fit::Keep),
            ("ATTACHMENT", Fit::Wrap),
        ];
        if one_ns.is_none() {
            cols.insert(0, ("NAMESPACE", Fit::Wrap));
        }
        let mut t = Table::new(&cols);
        for p in &r.profiles.profiles {
            let mut rec: Vec<Cell> = Vec::new();
            if one_ns.is_none() {
                rec.push(ns_cell(p.namespace.as_deref()).into());
            }
            rec.push(escape_str(&p.name).into_owned().into());
            rec.push(mode_cell(escape_str(p.mode.as_str()).into_owned()));
            rec.push(
                match p.attach_kind {
                    Some("pattern") => "(pattern)".to_owned(),
                    _ => opt(p.attach.as_deref()),
                }
                .into(),
            );
            t.row(rec);
        }
        writeln!(w, "{}", t.render(term))?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "{} confined.",
        count(r.processes.len(), "process is", "processes are")
    )?;
    if !r.processes.is_empty() {
        let mut t = Table::new(&[
            ("PID", Fit::Keep),
            ("COMM", Fit::Wrap),
            ("EXE", Fit::Wrap),
            ("LABEL", Fit::Wrap),
            ("MODE", Fit::Keep),
        ]);
        for p in &r.processes {
            t.row(vec![
                p.pid.to_string().into(),
                opt(p.comm.as_deref()).into(),
                opt(p.exe.as_deref()).into(),
                label_cell(p.label.as_deref()).into(),
                mode_cell(mode_word(p.mode.as_ref())),
            ]);
        }
        writeln!(w, "{}", t.render(term))?;
    }
    if !r.unconfined_with_profile.is_empty() {
        writeln!(w)?;
        let line = format!(
            "{} unconfined but {} a profile defined (restart {} to confine {}).",
            count(
                r.unconfined_with_profile.len(),
                "process is",
                "processes are"
            ),
            plural(r.unconfined_with_profile.len(), "has", "have"),
            plural(r.unconfined_with_profile.len(), "it", "them"),
            plural(r.unconfined_with_profile.len(), "it", "them"),
        );
        writeln!(w, "{}", prose(term, &line))?;
        let mut t = Table::new(&[
            ("PID", Fit::Keep),
            ("COMM", Fit::Wrap),
            ("EXE", Fit::Wrap),
            ("PROFILE", Fit::Wrap),
        ]);
        for p in &r.unconfined_with_profile {
            t.row(vec![
                p.pid.to_string().into(),
                opt(p.comm.as_deref()).into(),
                opt(p.exe.as_deref()).into(),
                opt(p.exe_profile.as_deref()).into(),
            ]);
        }
        writeln!(w, "{}", t.render(term))?;
    }
    writeln!(w)?;
    writeln!(w, "Kernel parameters:")?;
    let mut t = Table::new(&[("PARAMETER", Fit::Wrap), ("VALUE", Fit::Wrap)]);
    for (k, v) in &r.parameters {
        let shown = match v {
            serde_json::Value::Bool(true) => "yes".to_owned(),
            serde_json::Value::Bool(false) => "no".to_owned(),
            serde_json::Value::String(s) => escape_str(s).into_owned(),
            other => other.to_string(),
        };
        t.row(vec![escape_str(k).into_owned().into(), shown.into()]);
    }
    for k in &r.unreadable_parameters {
        t.row(vec![
            escape_str(k).into_owned().into(),
            "(unreadable)".into(),
        ]);
    }
    writeln!(w, "{}", t.render(term))?;
    writeln!(w)?;
    match &r.features {
        None => writeln!(w, "Features: unreadable.")?,
        Some(f) => {
            writeln!(w, "Features:")?;
            let list = |v: &[String]| {
                if v.is_empty() {
                    "-".to_owned()
                } else {
                    v.iter()
                        .map(|s| escape_str(s).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            };
            let (yes, no): (Vec<String>, Vec<String>) = {
                let mut yes = Vec::new();
                let mut no = Vec::new();
                for (class, _) in RULE_CLASSES {
                    if f.rule_classes.get(*class).copied().unwrap_or(false) {
                        yes.push(class.to_string());
                    } else {
                        no.push(class.to_string());
                    }
                }
                (yes, no)
            };
            let mut t = Table::new(&[("FEATURE", Fit::Wrap), ("VALUE", Fit::Wrap)]);
            t.row(vec![
                "policy ABI versions".into(),
                list(&f.policy_abi).into(),
            ]);
            t.row(vec![
                "domain version".into(),
                opt(f.domain_version.as_deref()).into(),
            ]);
            t.row(vec![
                "stacking".into(),
                if f.stacking { "yes" } else { "no" }.into(),
            ]);
            t.row(vec!["rule classes supported".into(), list(&yes).into()]);
            t.row(vec!["rule classes not supported".into(), list(&no).into()]);
            writeln!(w, "{}", t.render(term))?;
        }
    }
    Ok(())
}

/// The clap definition of `aactl status`.
pub fn command() -> Command {
    Command::new("status")
        .about("Show loaded profiles, confined processes, kernel parameters and features")
        .long_about(
            "Show the loaded AppArmor profiles counted by policy namespace and mode and listed \
             by name, the confined processes, the module parameters and a summary of the \
             kernel's feature set.",
        )
        .after_help(
            "Examples:\n  aactl status                 what is loaded and what it confines\n  \
             aactl status --json | jq .profiles.total\n  \
             aactl status --wide | less -S   full lines on a narrow terminal",
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("Print JSON (schema: aactl(1), JSON OUTPUT) instead of tables"),
        )
        .arg(
            Arg::new("mode")
                .long("mode")
                .short('m')
                .value_name("MODE")
                .action(ArgAction::Append)
                .value_delimiter(',')
                .help(
                    "Only profiles in MODE (enforce, complain, prompt, kill, unconfined), and \
                     the processes they confine; repeat or separate with commas",
                ),
        )
        .arg(
            Arg::new("namespace")
                .long("namespace")
                .short('n')
                .value_name("NS")
                .action(ArgAction::Append)
                .help("Only profiles of policy namespace NS (and their processes); repeatable"),
        )
        .arg(
            Arg::new("profile")
                .long("profile")
                .short('p')
                .value_name("NAME")
                .action(ArgAction::Append)
                .help(
                    "Only profile NAME (or :NS:NAME) and its children (NAME//…), exactly, and \
                     the processes it confines; repeatable",
                ),
        )
        .arg(
            Arg::new("profile-regex")
                .long("profile-regex")
                .value_name("REGEX")
                .help("Only profiles whose name (or :NS:NAME) matches REGEX (unanchored)"),
        )
        .arg(
            Arg::new("count")
                .long("count")
                .action(ArgAction::SetTrue)
                .conflicts_with("json")
                .help("Print only the number of profiles the filters keep"),
        )
}

/// The `--mode`/`--namespace`/`--profile`/`--profile-regex` filter; unknown
/// mode words are warned about on `err` (and still matched verbatim).
fn status_filter(
    m: &ArgMatches,
    err: &mut dyn Write,
) -> Result<crate::inspect::StatusFilter, CliError> {
    let strings = |id: &str| -> Vec<String> {
        m.get_many::<String>(id)
            .map(|v| v.cloned().collect())
            .unwrap_or_default()
    };
    let modes = strings("mode");
    for w in &modes {
        if let Some(msg) = super::ps::unknown_mode_warning(w) {
            let _ = writeln!(err, "aactl: warning: {}", escape_str(&msg));
        }
    }
    let profile_regex = match m.get_one::<String>("profile-regex") {
        Some(re) => Some(regex::Regex::new(re).map_err(|e| {
            CliError(format!(
                "--profile-regex {re:?}: invalid regular expression: {}",
                super::regex_reason(&e)
            ))
        })?),
        None => None,
    };
    Ok(crate::inspect::StatusFilter {
        modes: modes
            .iter()
            .map(|w| crate::label::Mode::from_word(w))
            .collect(),
        namespaces: strings("namespace"),
        profiles: strings("profile"),
        profile_regex,
    })
}

/// The installed apparmor_parser (found as the loader commands find it), its
/// version and language line; `None` when there is none.
/// When its version cannot be told, one warning line on `err` says why.
fn installed_parser(err: &mut dyn Write) -> Option<crate::inspect::report::ParserInfo> {
    let path = crate::loader::find_parser_from_env().ok()?;
    let version = crate::loader::Loader::new(
        crate::loader::Parser::new(&path),
        crate::loader::SystemRunner,
    )
    .query_version()
    .map_err(|e| {
        let _ = writeln!(
            err,
            "aactl: warning: {}",
            escape_str(&crate::error::chain(&e))
        );
    })
    .ok();
    let language = version
        .as_deref()
        .and_then(crate::policy::ParserVersion::from_release)
        .map(|v| v.as_str().to_owned());
    Some(crate::inspect::report::ParserInfo {
        path,
        version,
        language,
    })
}

/// Runs `aactl status`.
///
/// # Errors
/// See [`crate::inspect::collect`].
pub fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let filter = status_filter(m, io.err)?;
    let mut report = collect(&sys)?;
    filter.apply(&mut report);
    if m.get_flag("count") {
        let _ = writeln!(io.out, "{}", report.profiles.total);
        return Ok(Exit::Success);
    }
    if m.get_one::<std::path::PathBuf>("root").is_none() {
        report.parser = installed_parser(io.err);
        report.audit = crate::inspect::report::AuditInfo::query();
    }
    for mline in &report.profiles.malformed {
        let _ = writeln!(
            io.err,
            "aactl: warning: {}:{}: not a \"NAME (MODE)\" line: {}",
            escape_str(&report.profiles.path.to_string_lossy()),
            mline.line,
            escape_str(&mline.text)
        );
    }
    if let Some(why) = &report.features_error {
        let _ = writeln!(
            io.err,
            "aactl: warning: {}",
            escape_str(&crate::error::chain(why))
        );
    }
    if m.get_flag("json") {
        write_json(io, &report)?;
    } else {
        let written = render(&report, &io.term, io.out);
        finish_output(io, written)?;
    }
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::report::ParserInfo;

    #[test]
    fn parser_and_abi_lines() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/systems/debian12-vm");
        let mut r = collect(&crate::system::System::with_root(&root)).unwrap();
        r.parser = Some(ParserInfo {
            path: "/usr/sbin/apparmor_parser".into(),
            version: Some("4.1.0".into()),
            language: Some("4.1".into()),
        });
        let mut out = Vec::new();
        render(&r, &Term::plain(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let head: Vec<&str> = text.lines().take(3).collect();
        assert_eq!(
            head[1],
            "Parser: /usr/sbin/apparmor_parser 4.1.0 (policy language 4.1)."
        );
        assert!(head[2].starts_with("Kernel policy ABI: v"), "{text}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["parser"],
            serde_json::json!({"path": "/usr/sbin/apparmor_parser", "version": "4.1.0", "language": "4.1"})
        );
    }
}
