//! The aa-status model: loaded profiles and confined processes, with upstream 6.0's rules for
//! which processes count, how entries fall into mode sections, and how they are sorted
//! (docs/runtime.md, "What aa-status does that we copy").
//!
//! Reading goes through [`System`]; everything after that is pure and works on literal
//! values in tests. Only aa-status uses this model; `aactl status`/`aactl ps` use the shared
//! one in [`crate::inspect`].

use crate::label::Mode;
use crate::system::{ProcessScan, ProfileLine, System, SystemError};
use std::collections::HashSet;
use std::path::PathBuf;

pub mod exit;
pub mod filter;

pub use exit::ExitStatus;
pub use filter::{Filter, FilterError};

/// A loaded profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProfileEntry {
    /// Full name as the kernel lists it (`:ns:name`, `parent//hat`).
    pub name: String,
    /// Its mode (`user` read as prompt).
    pub mode: Mode,
}

/// A process aa-status reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcessEntry {
    /// Process id.
    pub pid: u32,
    /// Executable (canonical path, or the `exe` link text when that cannot be resolved).
    pub exe: String,
    /// The label without its mode (`a//&b`); the exe path for an unconfined process that has
    /// a profile of the same name.
    pub profile: String,
    /// The label's mode; [`Mode::Unconfined`] for an unconfined process with a profile.
    pub mode: Mode,
}

/// A `profiles` line that could not be split.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MalformedLine {
    /// The line as read, with its `\n` when it had one.
    pub line: String,
    /// 1-based line number.
    pub lineno: usize,
}

/// The loaded policy as read from `profiles`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadedProfiles {
    /// The path that was read.
    pub path: PathBuf,
    /// Well-formed profiles in kernel order.
    pub profiles: Vec<ProfileEntry>,
    /// Lines that do not split (upstream 6.0 warns and skips them; so do we, also for a bare
    /// `unconfined`, where upstream discards the whole list).
    pub malformed: Vec<MalformedLine>,
    /// Set when reading stopped on an I/O error after opening (upstream: "no policy").
    pub read_error: Option<String>,
}

/// Everything aa-status shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The loaded profiles.
    pub loaded: LoadedProfiles,
    /// The processes with a profile, in /proc order.
    pub processes: Vec<ProcessEntry>,
}

/// Why the status could not be read (each maps to one [`ExitStatus`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// `/sys/module/apparmor` does not exist: "apparmor not present.", exit 1.
    #[error("apparmor not present ({path} does not exist)")]
    NotPresent {
        /// The module directory looked for.
        path: PathBuf,
    },
    /// No securityfs with an apparmor directory: exit 3.
    #[error("apparmor filesystem is not mounted")]
    NoSecurityfs {
        /// The underlying lookup error.
        #[source]
        source: SystemError,
    },
    /// `profiles` refused with EACCES: exit 4.
    #[error("no permission to read {path}")]
    ProfilesPermission {
        /// The profiles file.
        path: PathBuf,
    },
    /// `profiles` could not be opened for another reason: exit 4.
    #[error("could not open {path}")]
    ProfilesOpen {
        /// The profiles file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// `/proc` could not be listed: exit 42.
    #[error("failed to get confinement information from processes")]
    Processes(#[source] SystemError),
}

/// Checks that the AppArmor module is present (`<root>/sys/module/apparmor`).
///
/// # Errors
/// [`StatusError::NotPresent`].
pub fn check_module(sys: &System) -> Result<(), StatusError> {
    if sys.module_present() {
        Ok(())
    } else {
        Err(StatusError::NotPresent {
            path: sys.module_dir(),
        })
    }
}

/// Finds securityfs and reads the `profiles` list.
///
/// # Errors
/// [`StatusError::NoSecurityfs`], [`StatusError::ProfilesPermission`],
/// [`StatusError::ProfilesOpen`].
pub fn read_profiles(sys: &System) -> Result<LoadedProfiles, StatusError> {
    let sfs = sys
        .securityfs()
        .map_err(|source| StatusError::NoSecurityfs { source })?;
    let path = sfs.join("profiles");
    let list = match sys.profiles_at(path.clone()) {
        Ok(l) => l,
        Err(SystemError::PermissionDenied { path, .. }) => {
            return Err(StatusError::ProfilesPermission { path });
        }
        Err(SystemError::Io { path, source }) => {
            return Err(StatusError::ProfilesOpen { path, source });
        }
        Err(e) => {
            return Err(StatusError::ProfilesOpen {
                path,
                source: std::io::Error::other(e.to_string()),
            });
        }
    };
    let mut out = LoadedProfiles {
        path: list.path,
        read_error: list.read_error,
        ..Default::default()
    };
    for l in list.lines {
        match l {
            ProfileLine::Profile { name, mode } => out.profiles.push(ProfileEntry { name, mode }),
            ProfileLine::Malformed { line, lineno } => {
                out.malformed.push(MalformedLine { line, lineno })
            }
        }
    }
    Ok(out)
}

/// Builds the process entry aa-status would record for one process (pure).
///
/// Rules (upstream 6.0): an unreadable attribute, a label that does not split or a missing
/// exe → `None`; a label without mode (`unconfined`, or an empty attribute) is kept only when
/// a loaded profile's name equals the exe path, as profile = exe, mode unconfined.
pub fn process_entry(
    pid: u32,
    context: Option<&str>,
    exe: Option<&str>,
    profile_names: &HashSet<&str>,
) -> Option<ProcessEntry> {
    process_entry_owned(
        pid,
        context.map(str::to_owned),
        exe.map(str::to_owned),
        profile_names,
    )
}

/// [`process_entry`] taking the strings by value (they are reused, not copied).
pub fn process_entry_owned(
    pid: u32,
    context: Option<String>,
    exe: Option<String>,
    profile_names: &HashSet<&str>,
) -> Option<ProcessEntry> {
    let mut context = context?;
    let split = if context.is_empty() {
        // An empty file: libapparmor returns no label and no mode.
        None
    } else {
        let (name, mode) = crate::label::split_con(&context)?;
        Some((name.len(), mode.map(Mode::from_word)))
    };
    let exe = exe?;
    match split {
        Some((name_len, Some(mode))) => {
            context.truncate(name_len);
            Some(ProcessEntry {
                pid,
                exe,
                profile: context,
                mode,
            })
        }
        _ => profile_names.contains(exe.as_str()).then(|| ProcessEntry {
            pid,
            profile: exe.clone(),
            exe,
            mode: Mode::Unconfined,
        }),
    }
}

/// Scans /proc and keeps the processes aa-status reports (see [`process_entry`]).
///
/// # Errors
/// [`StatusError::Processes`] when /proc cannot be listed.
pub fn confined_processes(
    sys: &System,
    profiles: &[ProfileEntry],
) -> Result<Vec<ProcessEntry>, StatusError> {
    let names: HashSet<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    let scan = ProcessScan {
        exe: true,
        canonicalize_exe: true,
        // every listed process shows its executable
        exe_only_unconfined: false,
        comm: false,
        skip_unlabelled: true,
        threads: 1,
        kinds: false,
    };
    let mut out = Vec::new();
    sys.scan_processes(&scan, |p| {
        if let Some(e) = process_entry_owned(p.pid, p.context, p.exe, &names) {
            out.push(e);
        }
    })
    .map_err(StatusError::Processes)?;
    Ok(out)
}

/// Reads everything: module check, profiles, processes.
///
/// # Errors
/// Any [`StatusError`].
pub fn collect(sys: &System) -> Result<Status, StatusError> {
    check_module(sys)?;
    let loaded = read_profiles(sys)?;
    let processes = confined_processes(sys, &loaded.profiles)?;
    Ok(Status { loaded, processes })
}

/// The profile mode sections, in upstream 6.0's order.
pub const PROFILE_SECTIONS: [Mode; 5] = [
    Mode::Enforce,
    Mode::Complain,
    Mode::Prompt,
    Mode::Kill,
    Mode::Unconfined,
];

/// The process mode sections, in upstream 6.0's order.
pub const PROCESS_SECTIONS: [Mode; 6] = Mode::SECTIONS;

/// True when an entry with `mode` belongs in `section`: upstream searches the section's name
/// in the mode word (so an unknown word containing `enforce` lands in the enforce section).
pub fn in_section(mode: &Mode, section: &Mode) -> bool {
    mode.as_str().contains(section.as_str())
}

/// The four `--filter.*` expressions.
#[derive(Debug, Clone)]
pub struct Filters {
    /// `--filter.mode`: matched against section names (listing) or mode words (counting).
    pub mode: Filter,
    /// `--filter.profiles`: matched against profile names and process labels.
    pub profiles: Filter,
    /// `--filter.pid`: matched against the decimal pid.
    pub pid: Filter,
    /// `--filter.exe`: matched against the executable.
    pub exe: Filter,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            mode: Filter::any(),
            profiles: Filter::any(),
            pid: Filter::any(),
            exe: Filter::any(),
        }
    }
}

impl Filters {
    /// Does a profile pass the name filter?
    pub fn profile_passes(&self, p: &ProfileEntry) -> bool {
        self.profiles.is_match(&p.name)
    }

    /// Does a process pass the pid, exe and profile filters?
    pub fn process_passes(&self, p: &ProcessEntry) -> bool {
        (self.pid.is_any() || self.pid.is_match(&p.pid.to_string()))
            && self.exe.is_match(&p.exe)
            && self.profiles.is_match(&p.profile)
    }

    /// Number of profiles whose mode word matches the mode filter and that pass the others
    /// (what `--count` and the legacy count options print).
    pub fn count_profiles(&self, profiles: &[ProfileEntry]) -> usize {
        profiles
            .iter()
            .filter(|p| self.mode.is_match(p.mode.as_str()) && self.profile_passes(p))
            .count()
    }

    /// Number of processes whose mode word matches the mode filter and that pass the others.
    pub fn count_processes(&self, processes: &[ProcessEntry]) -> usize {
        processes
            .iter()
            .filter(|p| self.mode.is_match(p.mode.as_str()) && self.process_passes(p))
            .count()
    }
}

/// The profiles listed in `section` that pass the filters, sorted by name (bytewise).
pub fn profiles_in<'a>(
    profiles: &'a [ProfileEntry],
    section: &Mode,
    filters: &Filters,
) -> Vec<&'a ProfileEntry> {
    let mut v: Vec<&ProfileEntry> = profiles
        .iter()
        .filter(|p| in_section(&p.mode, section) && filters.profile_passes(p))
        .collect();
    v.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    v
}

/// How process lists are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessOrder {
    /// By label, then pid (the text report).
    ByProfile,
    /// By executable, then pid (JSON, grouped per executable).
    ByExe,
}

/// The processes listed in `section` that pass the filters, in `order`.
pub fn processes_in<'a>(
    processes: &'a [ProcessEntry],
    section: &Mode,
    filters: &Filters,
    order: ProcessOrder,
) -> Vec<&'a ProcessEntry> {
    let mut v: Vec<&ProcessEntry> = processes
        .iter()
        .filter(|p| in_section(&p.mode, section) && filters.process_passes(p))
        .collect();
    match order {
        ProcessOrder::ByProfile => {
            v.sort_by(|a, b| (a.profile.as_bytes(), a.pid).cmp(&(b.profile.as_bytes(), b.pid)))
        }
        ProcessOrder::ByExe => {
            v.sort_by(|a, b| (a.exe.as_bytes(), a.pid).cmp(&(b.exe.as_bytes(), b.pid)))
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<'a>(v: &[&'a str]) -> HashSet<&'a str> {
        v.iter().copied().collect()
    }

    #[test]
    fn process_rules() {
        let n = names(&["/usr/bin/bash", "/usr/bin/man"]);
        let e = process_entry(1, Some("/usr/bin/foo (enforce)"), Some("/x"), &n).unwrap();
        assert_eq!(
            (e.profile.as_str(), e.mode),
            ("/usr/bin/foo", Mode::Enforce)
        );
        let e = process_entry(2, Some("unconfined"), Some("/usr/bin/bash"), &n).unwrap();
        assert_eq!(
            (e.profile.as_str(), e.mode),
            ("/usr/bin/bash", Mode::Unconfined)
        );
        assert!(process_entry(3, Some("unconfined"), Some("/usr/bin/true"), &n).is_none());
        let e = process_entry(4, Some(""), Some("/usr/bin/man"), &n).unwrap();
        assert_eq!(e.mode, Mode::Unconfined);
        assert!(process_entry(4, Some("\n"), Some("/usr/bin/man"), &n).is_none());
        let e = process_entry(4, Some("unconfined\n"), Some("/usr/bin/man"), &n).unwrap();
        assert_eq!(e.mode, Mode::Unconfined);
        assert!(process_entry(5, Some("---"), Some("/usr/bin/man"), &n).is_none());
        assert!(process_entry(6, Some(":ns:unconfined"), Some("/x"), &n).is_none());
        assert!(process_entry(7, None, Some("/x"), &n).is_none());
        assert!(process_entry(8, Some("a (enforce)"), None, &n).is_none());
        let e = process_entry(9, Some("snap.x (user)"), Some("/x"), &n).unwrap();
        assert_eq!(e.mode, Mode::Prompt);
    }

    #[test]
    fn sections_and_sorting() {
        let p = |n: &str, m: &str| ProfileEntry {
            name: n.into(),
            mode: Mode::from_word(m),
        };
        let profiles = vec![
            p("b", "enforce"),
            p("a", "enforce"),
            p("c", "complain"),
            p("w", "weird"),
        ];
        let f = Filters::default();
        let e: Vec<_> = profiles_in(&profiles, &Mode::Enforce, &f)
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(e, ["a", "b"]);
        assert_eq!(f.count_profiles(&profiles), 4);
        let f = Filters {
            mode: Filter::new("complain").unwrap(),
            ..Default::default()
        };
        assert_eq!(f.count_profiles(&profiles), 1);
    }
}
