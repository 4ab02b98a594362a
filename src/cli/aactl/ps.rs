//! `aactl ps`: every process with its label, mode and stack.
//!
//! Each row is read from `/proc/PID` under the system root ([`System::processes`]); the label
//! is split into its stacked profiles ([`Label::components`]) and each profile's own mode is
//! looked up in the kernel's `profiles` list (the kernel prints one mode for the whole label,
//! `mixed` when the stacked profiles differ). Text output is a table (tabled) with every
//! string from /proc or a profile name escaped ([`crate::escape`]); `--json` prints
//! [`PsReport`] (schema in aactl(1), "JSON OUTPUT").

use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::label::{Label, LabelError, Mode};
use crate::system::{ProcessScan, System};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::collections::HashMap;
use std::path::PathBuf;

/// Version of the JSON documents printed by `aactl ps --json`, `aactl status --json` and
/// `aactl check --format json` (their `schema` member).
/// Bumped when a field changes meaning or disappears; new fields may be added without a bump.
pub const SCHEMA: u32 = 1;

/// How a process's label reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// At least one stacked profile that is not a namespace's `unconfined` pseudo-profile.
    Confined,
    /// `unconfined`, `:ns:unconfined` (only unconfined pseudo-profiles), or an empty attribute.
    Unconfined,
    /// `---`: the label is not visible from the reader's namespace.
    Hidden,
    /// The attribute could not be read (kernel thread, vanished task, permission).
    Unreadable,
    /// The text is not an AppArmor label (another LSM's context): kept verbatim in `label`.
    Invalid,
}

impl State {
    /// The word used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Confined => "confined",
            State::Unconfined => "unconfined",
            State::Hidden => "hidden",
            State::Unreadable => "unreadable",
            State::Invalid => "invalid",
        }
    }
}

/// One profile of a process's (possibly stacked) label.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StackEntry {
    /// Policy namespace relative to the reader (`ns1//ns2` when nested); `null` for the
    /// reader's own namespace.
    pub namespace: Option<String>,
    /// Profile name, hats included (`parent//hat`).
    pub profile: String,
    /// The profile's own mode from the `profiles` list (`unconfined` for a namespace's
    /// unconfined pseudo-profile); `null` when the list is unreadable or lacks the profile.
    pub mode: Option<Mode>,
}

/// One process as `aactl ps` (and the process table of `aactl status`) shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PsRow {
    /// Process id.
    pub pid: u32,
    /// `comm` (newline dropped), `null` when unreadable.
    pub comm: Option<String>,
    /// Target of the `exe` link (canonicalised on the live host), `null` when unreadable.
    pub exe: Option<String>,
    /// The attribute text as read, one trailing newline or NUL dropped; `null` when
    /// unreadable.
    pub label: Option<String>,
    /// See [`State`].
    pub state: State,
    /// The label's mode (`mixed` for a stack in different modes); `unconfined` for an
    /// unconfined task; `null` for hidden, unreadable and invalid labels.
    pub mode: Option<Mode>,
    /// The stacked profiles in label order; empty for hidden, unreadable and invalid labels.
    pub stack: Vec<StackEntry>,
    /// For an unconfined process in the reader's namespace: the loaded profile whose name is
    /// the executable's path (it was loaded after the process started; aa-status's
    /// "unconfined but have a profile defined"). `null` otherwise.
    pub exe_profile: Option<String>,
}

/// The JSON document of `aactl ps --json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PsReport {
    /// [`SCHEMA`].
    pub schema: u32,
    /// Always `"aactl-ps"`.
    pub kind: &'static str,
    /// The system root that was read (`/` for the live host).
    pub root: PathBuf,
    /// The processes shown, by pid.
    pub processes: Vec<PsRow>,
}

/// Profile name as listed in `profiles` (`:ns:name` or `name`) → mode.
pub type ProfileModes = HashMap<String, Mode>;

/// Builds one row (pure): `context` is the attribute text, `modes` the loaded profiles.
pub fn row(
    pid: u32,
    comm: Option<String>,
    exe: Option<String>,
    context: Option<String>,
    modes: &ProfileModes,
) -> PsRow {
    // The attribute ends with one `\n` (or NUL); an empty file means "no label, no mode",
    // which libapparmor and aa-status treat as unconfined.
    let empty_file = context.as_deref() == Some("");
    let context = context.map(|mut c| {
        if c.ends_with('\n') || c.ends_with('\0') {
            c.pop();
        }
        c
    });
    let mut out = PsRow {
        pid,
        comm,
        exe,
        label: context.clone(),
        state: State::Unreadable,
        mode: None,
        stack: Vec::new(),
        exe_profile: None,
    };
    let Some(text) = context else {
        return out;
    };
    if text == "---" {
        out.state = State::Hidden;
        return out;
    }
    let label = match Label::parse(&text) {
        Ok(l) => l,
        Err(LabelError::Empty) if empty_file => Label::unconfined(),
        Err(_) => {
            out.state = State::Invalid;
            return out;
        }
    };
    let comps = label.components();
    let all_unconfined = comps.iter().all(|c| c.is_unconfined());
    out.state = match (label.mode(), all_unconfined) {
        (Some(_), false) => State::Confined,
        (None, true) => State::Unconfined,
        // The kernel omits the mode only when every component is unconfined, and always
        // prints it otherwise: anything else is not an AppArmor label.
        (None, false) => State::Invalid,
        (Some(_), true) => State::Unconfined,
    };
    if out.state == State::Invalid {
        return out;
    }
    out.mode = label.mode().cloned().or(Some(Mode::Unconfined));
    out.stack = comps
        .iter()
        .map(|c| StackEntry {
            namespace: c.namespace.map(str::to_owned),
            profile: c.profile.to_owned(),
            mode: if c.is_unconfined() {
                Some(Mode::Unconfined)
            } else {
                modes.get(&c.to_string()).cloned()
            },
        })
        .collect();
    if out.state == State::Unconfined && out.stack.iter().all(|s| s.namespace.is_none()) {
        out.exe_profile = out.exe.clone().filter(|e| modes.contains_key(e));
    }
    out
}

/// Reads the loaded profiles' modes; `None` (with the reason) when `profiles` is unreadable.
pub fn profile_modes(sys: &System) -> Result<ProfileModes, String> {
    let list = super::status::read_profiles(sys).map_err(|e| e.0)?;
    Ok(list
        .profiles()
        .map(|(n, m)| (n.to_owned(), m.clone()))
        .collect())
}

/// Reads every process under the root and builds its row, sorted by pid.
///
/// # Errors
/// When `<root>/proc` cannot be listed.
pub fn collect_rows(sys: &System, modes: &ProfileModes) -> Result<Vec<PsRow>, CliError> {
    let procs = sys
        .processes(&ProcessScan::default())
        .map_err(|e| CliError::from_error(&e))?;
    let mut rows: Vec<PsRow> = procs
        .into_iter()
        .map(|p| row(p.pid, p.comm, p.exe, p.context, modes))
        .collect();
    rows.sort_by_key(|r| r.pid);
    Ok(rows)
}

/// The `--profile`/`--namespace`/`--mode`/`--confined` selection.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only confined processes.
    pub confined: bool,
    /// Only these label modes (any of them).
    pub modes: Vec<Mode>,
    /// Only processes with one of these profiles in their stack.
    pub profiles: Vec<String>,
    /// Only processes with a profile in one of these namespaces.
    pub namespaces: Vec<String>,
}

impl Selection {
    /// Does `r` pass? A `--profile NAME` matches a stacked profile written `NAME` or
    /// `:NS:NAME`, or its top-level profile (so a profile matches its hats).
    pub fn selects(&self, r: &PsRow) -> bool {
        if self.confined && r.state != State::Confined {
            return false;
        }
        if !self.modes.is_empty() && !r.mode.as_ref().is_some_and(|m| self.modes.contains(m)) {
            return false;
        }
        if !self.profiles.is_empty()
            && !r.stack.iter().any(|s| {
                let base = s.profile.split("//").next().unwrap_or(&s.profile);
                self.profiles.iter().any(|want| {
                    let qualified = |p: &str| match &s.namespace {
                        Some(ns) => format!(":{ns}:{p}"),
                        None => p.to_owned(),
                    };
                    want == &s.profile
                        || want == base
                        || *want == qualified(&s.profile)
                        || *want == qualified(base)
                })
            })
        {
            return false;
        }
        if !self.namespaces.is_empty()
            && !r.stack.iter().any(|s| {
                self.namespaces
                    .iter()
                    .any(|want| s.namespace.as_deref() == Some(want.as_str()))
            })
        {
            return false;
        }
        true
    }
}

/// Text for a stack entry: `[:NS:]PROFILE`.
fn entry_name(s: &StackEntry) -> String {
    match &s.namespace {
        Some(ns) => format!(":{}:{}", escape_str(ns), escape_str(&s.profile)),
        None => escape_str(&s.profile).into_owned(),
    }
}

/// An escaped optional string, `-` when absent.
pub(super) fn opt(s: Option<&str>) -> String {
    s.map(|s| escape_str(s).into_owned())
        .unwrap_or_else(|| "-".to_owned())
}

/// An optional mode word, `-` when absent.
pub(super) fn mode_word(m: Option<&Mode>) -> String {
    m.map(|m| escape_str(m.as_str()).into_owned())
        .unwrap_or_else(|| "-".to_owned())
}

/// The table of rows: PID, COMM, EXE, MODE, then one line per stacked profile in PROFILE
/// (with its namespace) and PROFILE MODE.
pub fn table(rows: &[PsRow]) -> tabled::Table {
    let mut b = tabled::builder::Builder::new();
    b.push_record(["PID", "COMM", "EXE", "MODE", "PROFILE", "PROFILE MODE"]);
    for r in rows {
        let (profiles, pmodes) = if r.stack.is_empty() {
            let what = match r.state {
                State::Invalid => format!("(invalid: {})", opt(r.label.as_deref())),
                s => format!("({})", s.as_str()),
            };
            (what, "-".to_owned())
        } else if let Some(p) = &r.exe_profile {
            (
                format!("unconfined (profile {} not applied)", escape_str(p)),
                "unconfined".to_owned(),
            )
        } else {
            (
                r.stack
                    .iter()
                    .map(entry_name)
                    .collect::<Vec<_>>()
                    .join("\n"),
                r.stack
                    .iter()
                    .map(|s| mode_word(s.mode.as_ref()))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        };
        b.push_record([
            r.pid.to_string(),
            opt(r.comm.as_deref()),
            opt(r.exe.as_deref()),
            mode_word(r.mode.as_ref()),
            profiles,
            pmodes,
        ]);
    }
    let mut t = b.build();
    t.with(tabled::settings::Style::psql());
    t
}

/// The clap definition of `aactl ps`.
pub fn command() -> Command {
    Command::new("ps")
        .about("List processes with their AppArmor labels, modes and stacked profiles")
        .long_about(
            "List every process with its AppArmor label, the label's mode, and each profile \
             of its stack with that profile's own mode and policy namespace. By default \
             unconfined processes and processes whose label cannot be read are listed too.",
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
}

/// Writes `value` as pretty JSON and a newline.
pub(super) fn write_json<T: serde::Serialize>(io: &mut Io<'_>, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *io.out, value).map_err(std::io::Error::from)?;
    writeln!(io.out)
}

/// The end of a command's output: flushes it and maps a write error. A reader that has
/// gone away (`aactl ps | head -1`, EPIPE) ends the command quietly with success, like
/// `aa-status`; any other error (ENOSPC on `> /dev/full`) is reported once, naming standard
/// output.
///
/// # Errors
/// "cannot write to standard output: REASON".
pub(super) fn finish_output(
    io: &mut Io<'_>,
    written: std::io::Result<()>,
) -> Result<Exit, CliError> {
    match written.and_then(|()| io.out.flush()) {
        Ok(()) => Ok(Exit::Success),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Exit::Success),
        Err(e) => Err(CliError(format!(
            "cannot write to standard output: {}",
            crate::system::strerror(&e)
        ))),
    }
}

/// Runs `aactl ps`.
///
/// The warning for a `--mode` word that is not one of the known modes (the word is still
/// used: a newer kernel can print modes this version does not know), with the closest known
/// word when one is near; `None` for a known word (`user` included).
pub fn unknown_mode_warning(word: &str) -> Option<String> {
    if !matches!(Mode::from_word(word), Mode::Unknown(_)) {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let near = Mode::SECTIONS
        .iter()
        .map(Mode::as_str)
        .map(|k| (edit_distance(&lower, k), k))
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

/// Levenshtein distance over chars (short words only).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// # Errors
/// AppArmor absent or disabled (see [`super::status::preflight`]), or `/proc` unreadable.
pub fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    super::status::preflight(&sys)?;
    let modes = match profile_modes(&sys) {
        Ok(m) => m,
        Err(why) => {
            let _ = writeln!(
                io.err,
                "aactl: warning: {}; the modes of stacked profiles are not shown",
                escape_str(&why)
            );
            ProfileModes::new()
        }
    };
    for w in m.get_many::<String>("mode").into_iter().flatten() {
        if let Some(msg) = unknown_mode_warning(w) {
            let _ = writeln!(io.err, "aactl: warning: {}", escape_str(&msg));
        }
    }
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
        namespaces: m
            .get_many::<String>("namespace")
            .map(|v| v.cloned().collect())
            .unwrap_or_default(),
    };
    let rows: Vec<PsRow> = collect_rows(&sys, &modes)?
        .into_iter()
        .filter(|r| sel.selects(r))
        .collect();
    if m.get_flag("json") {
        let report = PsReport {
            schema: SCHEMA,
            kind: "aactl-ps",
            root: sys.root().to_path_buf(),
            processes: rows,
        };
        let written = write_json(io, &report);
        finish_output(io, written)
    } else {
        let text = super::status::trim_lines(&table(&rows).to_string());
        let written = writeln!(io.out, "{text}");
        finish_output(io, written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modes() -> ProfileModes {
        [
            ("a", Mode::Enforce),
            ("b", Mode::Complain),
            (":ns:c", Mode::Kill),
            ("p//hat", Mode::Enforce),
        ]
        .into_iter()
        .map(|(n, m)| (n.to_owned(), m))
        .collect()
    }

    fn r(ctx: Option<&str>) -> PsRow {
        row(1, None, None, ctx.map(str::to_owned), &modes())
    }

    #[test]
    fn states() {
        assert_eq!(r(None).state, State::Unreadable);
        assert_eq!(r(Some("---")).state, State::Hidden);
        assert_eq!(r(Some("unconfined")).state, State::Unconfined);
        assert_eq!(r(Some("")).state, State::Unconfined);
        assert_eq!(r(Some("\n")).state, State::Invalid);
        assert_eq!(
            r(Some("a (enforce)\n")).label.as_deref(),
            Some("a (enforce)")
        );
        assert_eq!(r(Some("a (enforce)\0")).mode, Some(Mode::Enforce));
        assert_eq!(r(Some(":ns:unconfined")).state, State::Unconfined);
        assert_eq!(r(Some("system_u:system_r:x_t:s0")).state, State::Invalid);
        assert_eq!(r(Some("system_u:system_r:x_t:s0")).mode, None);
        let s = r(Some("a//&:ns:c (mixed)"));
        assert_eq!(s.state, State::Confined);
        assert_eq!(s.mode, Some(Mode::Mixed));
        assert_eq!(
            s.stack,
            [
                StackEntry {
                    namespace: None,
                    profile: "a".into(),
                    mode: Some(Mode::Enforce)
                },
                StackEntry {
                    namespace: Some("ns".into()),
                    profile: "c".into(),
                    mode: Some(Mode::Kill)
                }
            ]
        );
        let u = r(Some("a//&:lxd:unconfined (enforce)"));
        assert_eq!(u.state, State::Confined);
        assert_eq!(u.stack[1].mode, Some(Mode::Unconfined));
        assert_eq!(r(Some("zzz (enforce)")).stack[0].mode, None);
        let with_exe = |ctx: &str, exe: &str| {
            row(1, None, Some(exe.into()), Some(ctx.into()), &modes()).exe_profile
        };
        assert_eq!(with_exe("unconfined\n", "a"), Some("a".to_owned()));
        assert_eq!(with_exe("", "a"), Some("a".to_owned()));
        assert_eq!(with_exe("unconfined\n", "/usr/bin/x"), None);
        assert_eq!(with_exe(":ns:unconfined\n", "a"), None);
        assert_eq!(with_exe("b (complain)\n", "a"), None);
    }

    #[test]
    fn selection() {
        let hat = r(Some("p//hat (enforce)"));
        let stacked = r(Some("a//&:ns:c (mixed)"));
        let unconf = r(Some("unconfined"));
        let sel = |f: fn(&mut Selection)| {
            let mut s = Selection::default();
            f(&mut s);
            [&hat, &stacked, &unconf].map(|x| s.selects(x))
        };
        assert_eq!(sel(|_| {}), [true, true, true]);
        assert_eq!(sel(|s| s.confined = true), [true, true, false]);
        assert_eq!(
            sel(|s| s.modes = vec![Mode::Unconfined]),
            [false, false, true]
        );
        assert_eq!(sel(|s| s.profiles = vec!["p".into()]), [true, false, false]);
        assert_eq!(
            sel(|s| s.profiles = vec![":ns:c".into()]),
            [false, true, false]
        );
        assert_eq!(sel(|s| s.profiles = vec!["c".into()]), [false, true, false]);
        assert_eq!(
            sel(|s| s.namespaces = vec!["ns".into()]),
            [false, true, false]
        );
    }
}
