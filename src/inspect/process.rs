//! Processes and their confinement: each process's label split into its stacked profiles,
//! with the label's mode and each profile's own mode.
//!
//! Each row is read from `/proc/PID` under the system root ([`System::processes`]); the
//! label is split into its stacked profiles ([`Label::components`]) and each profile's own
//! mode is looked up in the kernel's `profiles` list (the kernel prints one mode for the
//! whole label, `mixed` when the stacked profiles differ). See docs/runtime.md for the label
//! syntax.

use super::InspectError;
use crate::label::{Label, LabelError, Mode};
use crate::system::{ProcessScan, System};
use std::collections::HashMap;
use std::path::PathBuf;

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
    /// A kernel thread (told only by [`list`]; left out of the JSON when false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub kernel_thread: bool,
    /// Why the label is unreadable (`permission denied`), when [`list`] could tell; left
    /// out of the JSON when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The JSON document of `aactl ps --json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PsReport {
    /// [`super::SCHEMA`].
    pub schema: u32,
    /// Always `"aactl-ps"`.
    pub kind: &'static str,
    /// The system root that was read (`/` for the live host).
    pub root: PathBuf,
    /// The processes shown, by pid.
    pub processes: Vec<PsRow>,
}

impl PsReport {
    /// The document for `processes` read from the system rooted at `root`.
    pub fn new(root: PathBuf, processes: Vec<PsRow>) -> Self {
        PsReport {
            schema: super::SCHEMA,
            kind: "aactl-ps",
            root,
            processes,
        }
    }
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
        kernel_thread: false,
        reason: None,
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

/// Reads the loaded profiles' modes.
///
/// # Errors
/// The `profiles` list is unreadable (see [`super::read_profiles`]).
pub fn profile_modes(sys: &System) -> Result<ProfileModes, InspectError> {
    let list = super::read_profiles(sys)?;
    Ok(list
        .profiles()
        .map(|(n, m)| (n.to_owned(), m.clone()))
        .collect())
}

/// Reads every process under the root and builds its row, sorted by pid.
///
/// # Errors
/// When `<root>/proc` cannot be listed.
pub fn processes(sys: &System, modes: &ProfileModes) -> Result<Vec<PsRow>, InspectError> {
    scan(sys, modes, &ProcessScan::default())
}

/// [`processes`] without reading `comm` ([`PsRow::comm`] is `None`): for a caller that
/// shows a few of the rows and reads their `comm` then ([`System::process_comm`]).
///
/// # Errors
/// When `<root>/proc` cannot be listed.
pub fn processes_without_comm(
    sys: &System,
    modes: &ProfileModes,
) -> Result<Vec<PsRow>, InspectError> {
    let how = ProcessScan {
        comm: false,
        ..ProcessScan::default()
    };
    scan(sys, modes, &how)
}

fn scan(sys: &System, modes: &ProfileModes, how: &ProcessScan) -> Result<Vec<PsRow>, InspectError> {
    let procs = sys.processes(how)?;
    let mut rows: Vec<PsRow> = procs
        .into_iter()
        .map(|p| {
            let mut r = row(p.pid, p.comm, p.exe, p.context, modes);
            r.kernel_thread = p.kernel_thread;
            r.reason = p.unreadable;
            r
        })
        .collect();
    rows.sort_by_key(|r| r.pid);
    Ok(rows)
}

/// The processes of `sys` that `sel` selects, with the modes of their stacked profiles: the
/// one call behind `aactl ps`.
///
/// When the `profiles` list cannot be read the rows are still returned, without the modes
/// of stacked profiles, and the second value says why.
///
/// # Errors
/// AppArmor cannot be inspected ([`super::preflight`]), or `<root>/proc` cannot be listed.
pub fn list(
    sys: &System,
    sel: &Selection,
) -> Result<(Vec<PsRow>, Option<InspectError>), InspectError> {
    super::preflight(sys)?;
    let (modes, warning) = match profile_modes(sys) {
        Ok(m) => (m, None),
        Err(e) => (ProfileModes::new(), Some(e)),
    };
    let how = ProcessScan {
        kinds: true,
        ..ProcessScan::default()
    };
    let rows = scan(sys, &modes, &how)?
        .into_iter()
        .filter(|r| sel.selects(r))
        .collect();
    Ok((rows, warning))
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
    /// Only these pids.
    pub pids: Vec<u32>,
    /// Only processes running one of these executables (the path as shown: canonical on
    /// the live host).
    pub exes: Vec<String>,
    /// Only unconfined processes whose executable has a loaded profile
    /// ([`PsRow::exe_profile`]).
    pub unconfined_with_profile: bool,
    /// Keep kernel threads (otherwise left out, unless named by pid).
    pub kernel_threads: bool,
}

impl Selection {
    /// Does `r` pass? Kernel threads pass only with [`Selection::kernel_threads`] or when
    /// their pid is asked for. A `--profile NAME` matches a stacked profile written `NAME` or
    /// `:NS:NAME`, or its top-level profile (so a profile matches its hats).
    pub fn selects(&self, r: &PsRow) -> bool {
        if self.confined && r.state != State::Confined {
            return false;
        }
        if !self.pids.is_empty() && !self.pids.contains(&r.pid) {
            return false;
        }
        if r.kernel_thread && !self.kernel_threads && self.pids.is_empty() {
            return false;
        }
        if !self.exes.is_empty() && !r.exe.as_ref().is_some_and(|e| self.exes.contains(e)) {
            return false;
        }
        if self.unconfined_with_profile && r.exe_profile.is_none() {
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
