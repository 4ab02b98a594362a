//! `aa-status`: a drop-in replacement for upstream AppArmor 6.0's aa-status(8).
//!
//! Options are parsed by a model of glibc `getopt_long` ([`getopt`]) so that abbreviations,
//! error messages and left-to-right side effects match upstream; usage texts are in
//! [`usage`]; JSON layouts in [`json`]. [`command`] is the clap description of the same
//! options, used for the manual page. Deliberate differences from upstream are listed in
//! COMPATIBILITY.md ("## aa-status").

use super::Io;
use crate::escape::escape_str;
use crate::inspect::aa_status::{
    self as status, ExitStatus, Filter, Filters, PROCESS_SECTIONS, PROFILE_SECTIONS, ProcessOrder,
    StatusError,
};
use crate::label::Mode;
use crate::system::{System, strerror};
use std::ffi::OsString;
use std::io::Write;

pub mod getopt;
pub mod json;
pub mod man;
pub mod usage;

/// What to show (`--show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Show {
    profiles: bool,
    processes: bool,
}

/// The options after parsing (upstream's globals).
#[derive(Debug, Clone)]
struct Options {
    verbose: bool,
    quiet: bool,
    show: Show,
    json: bool,
    pretty: bool,
    count: bool,
    mode: String,
    profiles: String,
    pid: String,
    exe: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            verbose: true,
            quiet: false,
            show: Show {
                profiles: true,
                processes: true,
            },
            json: false,
            pretty: false,
            count: false,
            mode: ".*".into(),
            profiles: ".*".into(),
            pid: ".*".into(),
            exe: ".*".into(),
        }
    }
}

/// The clap definition of aa-status's options (for the manual page and documentation; the
/// parsing itself follows getopt, see [`getopt`]).
pub fn command() -> clap::Command {
    use clap::{Arg, ArgAction, Command};
    let flag = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    let filter = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .value_name("FILTER")
            .require_equals(true)
            .help(help)
    };
    Command::new("aa-status")
        .about("Report the current state of AppArmor confinement")
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(flag(
            "enabled",
            "Exit 0 if AppArmor is enabled, 1 otherwise; print nothing",
        ))
        .arg(
            Arg::new("show")
                .long("show")
                .value_name("X")
                .value_parser(["profiles", "processes", "all"])
                .help("What to show: profiles, processes or all (the default)"),
        )
        .arg(flag(
            "count",
            "Print the number of entries instead of listing them",
        ))
        .arg(filter(
            "filter.mode",
            "Show only modes matching FILTER (POSIX basic regular expression)",
        ))
        .arg(filter(
            "filter.profiles",
            "Show only profiles and processes whose profile matches FILTER",
        ))
        .arg(filter(
            "filter.pid",
            "Show only processes whose pid matches FILTER",
        ))
        .arg(filter(
            "filter.exe",
            "Show only processes whose executable matches FILTER",
        ))
        .arg(flag("json", "Print the report as JSON (schema version 2)"))
        .arg(flag("pretty-json", "Print the report as indented JSON"))
        .arg(
            Arg::new("verbose")
                .short('v')
                .long("verbose")
                .action(ArgAction::SetTrue)
                .help("Full report (the default)"),
        )
        .arg(flag("quiet", "Do not print error messages"))
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .value_name("TOPIC")
                .num_args(0..=1)
                .require_equals(true)
                .value_parser(["legacy", "filters"])
                .help("Print usage, or help on legacy options or filters"),
        )
        .arg(flag("profiled", "Print the number of loaded profiles"))
        .arg(flag(
            "enforced",
            "Print the number of profiles in enforce mode",
        ))
        .arg(flag(
            "complaining",
            "Print the number of profiles in complain mode",
        ))
        .arg(flag("kill", "Print the number of profiles in kill mode"))
        .arg(flag(
            "prompt",
            "Print the number of profiles in prompt mode",
        ))
        .arg(flag(
            "special-unconfined",
            "Print the number of profiles in unconfined mode",
        ))
        .arg(flag(
            "process-mixed",
            "Print the number of processes confined by a stack of profiles in different modes",
        ))
}

enum Parsed {
    Run(Options),
    Exit(ExitStatus),
}

/// Prints `msg` on stderr unless quiet (upstream's `eprintf`).
fn eprint(io: &mut Io<'_>, quiet: bool, msg: &str) {
    if !quiet {
        let _ = io.err.write_all(msg.as_bytes());
    }
}

fn usage_error(io: &mut Io<'_>, prog: &str) -> Parsed {
    let _ = io.out.write_all(usage::usage(prog).as_bytes());
    Parsed::Exit(ExitStatus::Disabled)
}

fn parse(args: &[String], prog: &str, sys: &System, io: &mut Io<'_>) -> Parsed {
    let mut o = Options::default();
    let mut g = getopt::Getopt::new(args);
    for item in g.by_ref() {
        let legacy = |o: &mut Options, mode: Option<&str>, processes: bool| {
            o.verbose = false;
            o.count = true;
            o.show = Show {
                profiles: !processes,
                processes,
            };
            if let Some(m) = mode {
                o.mode = m.to_owned();
            }
        };
        match item {
            getopt::Item::Invalid(msg) => {
                let _ = writeln!(io.err, "{prog}: {}", escape_str(&msg));
                eprint(io, o.quiet, "Error: Invalid command.\n");
                return usage_error(io, prog);
            }
            getopt::Item::Verbose => o.verbose = true,
            getopt::Item::Help(topic) => return help(io, prog, o.quiet, topic.as_deref()),
            getopt::Item::Long(name, value) => match name {
                "enabled" => {
                    let code = if sys.enabled() == crate::system::Enabled::Yes {
                        ExitStatus::Enabled
                    } else {
                        ExitStatus::Disabled
                    };
                    return Parsed::Exit(code);
                }
                "verbose" => o.verbose = true,
                "quiet" => o.quiet = true,
                "help" => return help(io, prog, o.quiet, value.as_deref()),
                "profiled" => legacy(&mut o, None, false),
                "enforced" => legacy(&mut o, Some("enforce"), false),
                "complaining" => legacy(&mut o, Some("complain"), false),
                "prompt" => legacy(&mut o, Some("prompt"), false),
                "special-unconfined" => legacy(&mut o, Some("unconfined"), false),
                "kill" => legacy(&mut o, Some("kill"), false),
                "process-mixed" => legacy(&mut o, Some("mixed"), true),
                "json" => o.json = true,
                "pretty-json" => {
                    o.json = true;
                    o.pretty = true;
                }
                "count" => o.count = true,
                "show" => {
                    let v = value.unwrap_or_default();
                    o.show = match v.as_str() {
                        "all" => Show {
                            profiles: true,
                            processes: true,
                        },
                        "profiles" => Show {
                            profiles: true,
                            processes: false,
                        },
                        "processes" => Show {
                            profiles: false,
                            processes: true,
                        },
                        _ => {
                            let m = format!("Error: Invalid --show option '{}'.\n", escape_str(&v));
                            eprint(io, o.quiet, &m);
                            return usage_error(io, prog);
                        }
                    };
                }
                "filter.profiles" => o.profiles = value.unwrap_or_default(),
                "filter.pid" => o.pid = value.unwrap_or_default(),
                "filter.exe" => o.exe = value.unwrap_or_default(),
                "filter.mode" => o.mode = value.unwrap_or_default(),
                _ => {}
            },
        }
    }
    if g.optind() < args.len() {
        eprint(io, o.quiet, "Error: Unknown options.\n");
        return usage_error(io, prog);
    }
    Parsed::Run(o)
}

fn help(io: &mut Io<'_>, prog: &str, quiet: bool, topic: Option<&str>) -> Parsed {
    let text = match topic {
        None => usage::usage(prog),
        Some("legacy") => usage::legacy(prog),
        Some("filters") => usage::filters(),
        Some(other) => {
            let m = format!("Error: Invalid --help option '{}'.\n", escape_str(other));
            eprint(io, quiet, &m);
            return usage_error(io, prog);
        }
    };
    let _ = io.out.write_all(text.as_bytes());
    Parsed::Exit(ExitStatus::Enabled)
}

/// Runs aa-status with `args` (argv, including argv\[0\]) on the host and returns the exit
/// status.
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> u8 {
    run_with(args, &System::host(), io).code()
}

/// Runs aa-status against `sys` (a fake tree or a snapshot in tests).
pub fn run_with(args: Vec<OsString>, sys: &System, io: &mut Io<'_>) -> ExitStatus {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let prog = args.first().cloned().unwrap_or_else(|| "aa-status".into());
    let rest = args.get(1..).unwrap_or(&[]);
    let o = match parse(rest, &prog, sys, io) {
        Parsed::Run(o) => o,
        Parsed::Exit(code) => return code,
    };
    report(&o, sys, io)
}

fn compile(io: &mut Io<'_>, quiet: bool, what: &str, re: &str) -> Option<Filter> {
    match Filter::new(re) {
        Ok(f) => Some(f),
        Err(_) => {
            let m = format!(
                "Error: failed to compile {what} filter '{}'\n",
                escape_str(re)
            );
            eprint(io, quiet, &m);
            None
        }
    }
}

fn report(o: &Options, sys: &System, io: &mut Io<'_>) -> ExitStatus {
    let filters = {
        let any = |s: &str| s == ".*";
        let mut get = |what: &str, re: &str| -> Option<Filter> {
            if any(re) {
                Some(Filter::any())
            } else {
                compile(io, o.quiet, what, re)
            }
        };
        let (Some(mode), Some(profiles), Some(pid), Some(exe)) = (
            get("mode", &o.mode),
            get("profiles", &o.profiles),
            get("ps", &o.pid),
            get("exe", &o.exe),
        ) else {
            return ExitStatus::InternalError;
        };
        Filters {
            mode,
            profiles,
            pid,
            exe,
        }
    };
    let text = o.verbose && !o.json;

    if let Err(e) = status::check_module(sys) {
        eprint(io, o.quiet, "apparmor not present.\n");
        return ExitStatus::from(&e);
    }
    if text {
        let _ = io.out.write_all(b"apparmor module is loaded.\n");
    }
    let loaded = match status::read_profiles(sys) {
        Ok(l) => l,
        Err(e) => {
            let msg = match &e {
                StatusError::NoSecurityfs { .. } => {
                    "apparmor filesystem is not mounted.\n".to_owned()
                }
                StatusError::ProfilesPermission { .. } => {
                    "You do not have enough privilege to read the profile set.\n".to_owned()
                }
                StatusError::ProfilesOpen { path, source } => format!(
                    "Could not open {}: {}",
                    escape_str(&path.to_string_lossy()),
                    strerror(source)
                ),
                other => format!("{other}\n"),
            };
            eprint(io, o.quiet, &msg);
            return ExitStatus::from(&e);
        }
    };
    for bad in &loaded.malformed {
        // Upstream embeds the raw line, newline included; we escape everything but that
        // final newline.
        let (body, nl) = match bad.line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (bad.line.as_str(), ""),
        };
        let m = format!(
            "Error: failed profile name split of '{}{nl}'.\n",
            escape_str(body)
        );
        eprint(io, o.quiet, &m);
    }
    let profiles = &loaded.profiles;
    if profiles.is_empty() && !o.json {
        eprint(io, o.quiet, "No policy loaded into the kernel\n");
        return ExitStatus::NoPolicy;
    }

    let processes = if o.show.processes {
        match status::confined_processes(sys, profiles) {
            Ok(p) => Some(p),
            Err(e) => {
                let m = format!(
                    "Failed to get confinement information from processes: {}....\n",
                    ExitStatus::from(&e).code()
                );
                eprint(io, o.quiet, &m);
                return ExitStatus::from(&e);
            }
        }
    } else {
        None
    };

    if o.json {
        json_report(o, &filters, profiles, processes.as_deref(), io);
        return ExitStatus::Enabled;
    }
    let out = &mut *io.out;
    if o.show.profiles {
        if o.count {
            let _ = writeln!(out, "{}", filters.count_profiles(profiles));
        } else {
            text_profiles(o, sys, &filters, profiles, out);
        }
    }
    if let Some(processes) = &processes {
        if o.count {
            let _ = writeln!(out, "{}", filters.count_processes(processes));
        } else {
            text_processes(&filters, processes, out);
        }
    }
    ExitStatus::Enabled
}

fn text_profiles(
    o: &Options,
    sys: &System,
    filters: &Filters,
    profiles: &[status::ProfileEntry],
    out: &mut dyn Write,
) {
    let _ = writeln!(out, "{} profiles are loaded.", profiles.len());
    let sections: Vec<(&Mode, Vec<&status::ProfileEntry>)> = PROFILE_SECTIONS
        .iter()
        .filter(|s| filters.mode.is_match(s.as_str()))
        .map(|s| (s, status::profiles_in(profiles, s, filters)))
        .collect();
    let identities = if o.verbose {
        sys.identities(
            sections
                .iter()
                .flat_map(|(_, v)| v.iter().map(|p| p.name.as_str())),
        )
    } else {
        Default::default()
    };
    for (section, list) in sections {
        let _ = writeln!(out, "{} profiles are in {} mode.", list.len(), section);
        for p in list {
            match identities.get(&p.name) {
                Some(id) => {
                    let _ = writeln!(out, "   {} ({})", escape_str(&p.name), escape_str(id));
                }
                None => {
                    let _ = writeln!(out, "   {}", escape_str(&p.name));
                }
            }
        }
    }
}

fn text_processes(filters: &Filters, processes: &[status::ProcessEntry], out: &mut dyn Write) {
    let _ = writeln!(out, "{} processes have profiles defined.", processes.len());
    for section in PROCESS_SECTIONS
        .iter()
        .filter(|s| filters.mode.is_match(s.as_str()))
    {
        let list = status::processes_in(processes, section, filters, ProcessOrder::ByProfile);
        if *section == Mode::Unconfined {
            let _ = writeln!(
                out,
                "{} processes are unconfined but have a profile defined.",
                list.len()
            );
        } else {
            let _ = writeln!(out, "{} processes are in {} mode.", list.len(), section);
        }
        for p in list {
            let shown = if p.profile == p.exe { "" } else { &p.profile };
            let _ = writeln!(
                out,
                "   {} ({}) {}",
                escape_str(&p.exe),
                p.pid,
                escape_str(shown)
            );
        }
    }
}

fn json_report(
    o: &Options,
    filters: &Filters,
    profiles: &[status::ProfileEntry],
    processes: Option<&[status::ProcessEntry]>,
    io: &mut Io<'_>,
) {
    let mut doc = json::JsonDoc::default();
    if o.show.profiles {
        if o.count {
            doc.profile_count = Some(filters.count_profiles(profiles));
        } else {
            // A JSON object has each key once. A name the kernel lists twice, or
            // two names that read the same once invalid UTF-8 is replaced, keep
            // their first entry in output order (section, then name); upstream
            // repeats the key. The text report and the counts list every line.
            let mut v = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for s in PROFILE_SECTIONS
                .iter()
                .filter(|s| filters.mode.is_match(s.as_str()))
            {
                for p in status::profiles_in(profiles, s, filters) {
                    if seen.insert(p.name.as_str()) {
                        v.push((p.name.as_str(), s.as_str()));
                    }
                }
            }
            doc.profiles = Some(v);
        }
    }
    if let Some(processes) = processes {
        if o.count {
            doc.process_count = Some(filters.count_processes(processes));
        } else {
            let mut groups: Vec<(&str, Vec<json::JsonProcess<'_>>)> = Vec::new();
            let mut index: std::collections::HashMap<&str, usize> = Default::default();
            for s in PROCESS_SECTIONS
                .iter()
                .filter(|s| filters.mode.is_match(s.as_str()))
            {
                for p in status::processes_in(processes, s, filters, ProcessOrder::ByExe) {
                    let entry = json::JsonProcess {
                        profile: &p.profile,
                        pid: p.pid,
                        status: p.mode.as_str(),
                    };
                    match index.get(p.exe.as_str()) {
                        Some(&i) => groups[i].1.push(entry),
                        None => {
                            index.insert(&p.exe, groups.len());
                            groups.push((&p.exe, vec![entry]));
                        }
                    }
                }
            }
            doc.processes = Some(groups);
        }
    }
    let _ = doc.write(io.out, o.pretty);
}

/// Entry point of the `aa-status` binary.
pub fn main() -> std::process::ExitCode {
    super::run_main("aa-status", |io| run(std::env::args_os().collect(), io))
}
