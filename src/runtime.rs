//! What container runtimes and service managers ask of AppArmor, in one place: is it
//! enabled and usable, is a profile loaded and in which mode, what is a process's label,
//! and start a child under a profile. Also the unconfined-services audit with attachment
//! matching ([`unconfined`]).
//!
//! Everything reads through a [`System`] (the live host, or a root such as a snapshot);
//! only [`spawn_under`] and the [`Task`] requests change anything, and only for the
//! calling program's own tasks. docs/runtime.md ("For container runtimes") says what each
//! answer means.
//!
//! ```no_run
//! use apparmor::runtime;
//! use apparmor::system::System;
//! let sys = System::host();
//! if runtime::is_enabled(&sys) {
//!     match runtime::profile_mode(&sys, "docker-default")? {
//!         Some(mode) => println!("docker-default is loaded in {mode} mode"),
//!         None => println!("docker-default is not loaded"),
//!     }
//!     println!("pid 1 runs as {}", runtime::pid_label(&sys, 1)?);
//!     let mut cmd = std::process::Command::new("/usr/bin/nginx");
//!     let child = runtime::spawn_under(&mut cmd, "docker-default", false)?;
//!     println!("started {}", child.id());
//! }
//! # Ok::<(), runtime::RuntimeError>(())
//! ```

use crate::inspect::InspectError;
use crate::inspect::unconfined::{Scope, UnconfinedReport, WouldAttach};
use crate::label::{Label, LabelError, Mode};
use crate::policy::attach::{AttachMatch, AttachTable, Attachment, Origin};
use crate::system::System;
pub use crate::system::task::{Task, TaskError, namespaced};
use std::path::{Path, PathBuf};

/// An error of a [`runtime`](self) question or request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// AppArmor cannot be used or inspected (absent, disabled, not mounted, `profiles`
    /// unreadable).
    #[error(transparent)]
    Inspect(#[from] InspectError),
    /// A request to the task interface failed, or a label could not be read.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The label of a process is `---`: not visible from the reader's policy namespace.
    #[error("the label of process {pid} is not visible from here (---)")]
    Hidden {
        /// The process.
        pid: u32,
    },
    /// The label of a process is not an AppArmor label (another LSM's context).
    #[error("the label of process {pid} is not an AppArmor label: {text:?}")]
    Label {
        /// The process.
        pid: u32,
        /// The text read.
        text: String,
        /// Why it does not parse.
        #[source]
        source: LabelError,
    },
    /// The child could not be started (its exec label was set).
    #[error("cannot start {program}: {}", crate::error::strerror(.source))]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Whether AppArmor is enabled and its policy interface mounted, so that profiles can
/// be loaded and labels read (libapparmor's `aa_is_enabled`). [`usable`] says why not.
pub fn is_enabled(sys: &System) -> bool {
    usable(sys).is_ok()
}

/// Like [`is_enabled`], with the reason when AppArmor cannot be used.
///
/// # Errors
/// [`InspectError::ModuleMissing`], [`InspectError::Disabled`],
/// [`InspectError::NotMounted`] and the others of [`crate::inspect::preflight`].
pub fn usable(sys: &System) -> Result<(), InspectError> {
    crate::inspect::preflight(sys)
}

/// The mode of loaded profile `name` (`:NS:NAME` for another namespace), `None` when no
/// profile of that name is loaded.
///
/// ```
/// # let d = tempfile::tempdir().unwrap();
/// # let root = d.path();
/// # for (p, t) in [("sys/module/apparmor/parameters/enabled", "Y\n"),
/// #     ("proc/mounts", "securityfs /sys/kernel/security securityfs rw 0 0\n"),
/// #     ("sys/kernel/security/apparmor/profiles", "web (complain)\n")] {
/// #     std::fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
/// #     std::fs::write(root.join(p), t).unwrap();
/// # }
/// use apparmor::{label::Mode, runtime, system::System};
/// let sys = System::with_root(root);
/// assert_eq!(runtime::profile_mode(&sys, "web")?, Some(Mode::Complain));
/// assert_eq!(runtime::profile_mode(&sys, "db")?, None);
/// # Ok::<(), apparmor::inspect::InspectError>(())
/// ```
///
/// # Errors
/// AppArmor cannot be inspected, or the `profiles` list is unreadable.
pub fn profile_mode(sys: &System, name: &str) -> Result<Option<Mode>, InspectError> {
    usable(sys)?;
    let list = crate::inspect::read_profiles(sys)?;
    Ok(list
        .profiles()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| m.clone()))
}

/// Whether profile `name` is loaded (see [`profile_mode`]).
///
/// # Errors
/// As [`profile_mode`].
pub fn is_loaded(sys: &System, name: &str) -> Result<bool, InspectError> {
    profile_mode(sys, name).map(|m| m.is_some())
}

/// The label of process `pid` (`<root>/proc/PID/attr/apparmor/current`, or the shared
/// `attr/current` on older kernels); an empty attribute reads as `unconfined`. Use
/// [`Label::components`] for the stacked profiles and [`Label::mode`] for the mode.
///
/// ```
/// let d = tempfile::tempdir().unwrap();
/// std::fs::create_dir_all(d.path().join("proc/42/attr")).unwrap();
/// std::fs::write(d.path().join("proc/42/attr/current"), "web//&:ns:db (mixed)\n").unwrap();
/// let sys = apparmor::system::System::with_root(d.path());
/// let label = apparmor::runtime::pid_label(&sys, 42)?;
/// assert_eq!(label.components().len(), 2);
/// assert_eq!(label.to_string(), "web//&:ns:db (mixed)");
/// # Ok::<(), apparmor::runtime::RuntimeError>(())
/// ```
///
/// # Errors
/// [`RuntimeError::Task`] when the attribute cannot be read (no such process, no
/// permission); [`RuntimeError::Hidden`] for `---`; [`RuntimeError::Label`] for another
/// LSM's context.
pub fn pid_label(sys: &System, pid: u32) -> Result<Label, RuntimeError> {
    let text = sys.task(pid).current_label()?;
    if text.is_empty() {
        return Ok(Label::unconfined());
    }
    if text == "---" {
        return Err(RuntimeError::Hidden { pid });
    }
    match Label::parse(&text) {
        // The kernel leaves the mode out only when every profile is an `unconfined`.
        Ok(l) if l.mode().is_some() || l.components().iter().all(|c| c.is_unconfined()) => Ok(l),
        Ok(_) => Err(RuntimeError::Label {
            pid,
            source: LabelError::NoMode(text.clone()),
            text,
        }),
        Err(source) => Err(RuntimeError::Label { pid, text, source }),
    }
}

/// Starts `cmd` under `profile` (a name, `:NS:NAME`, or a stack `A//&B`): the child's
/// label after its exec is `profile`, or with `stack` the caller's label with `profile`
/// stacked on it (`CURRENT//&PROFILE`). The caller's own label is not changed.
///
/// The exec label is asked for by a short-lived thread that then starts the child: the
/// kernel keeps that request per thread and hands it to the children the thread creates,
/// so no other thread of the caller is affected and nothing needs undoing afterwards.
///
/// # Errors
/// [`RuntimeError::Task`] when the kernel refuses the request (the profile is not loaded:
/// [`TaskError::NotLoaded`]; not permitted from the current confinement:
/// [`TaskError::NotPermitted`]); [`RuntimeError::Spawn`] when the child cannot be
/// started.
pub fn spawn_under(
    cmd: &mut std::process::Command,
    profile: &str,
    stack: bool,
) -> Result<std::process::Child, RuntimeError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    std::thread::scope(|s| {
        s.spawn(|| {
            let task = Task::current();
            if stack {
                task.stack_onexec(profile)?;
            } else {
                task.change_onexec(profile)?;
            }
            cmd.spawn().map_err(|source| RuntimeError::Spawn {
                program: program.clone(),
                source,
            })
        })
        .join()
        .unwrap_or_else(|_| {
            Err(RuntimeError::Spawn {
                program: program.clone(),
                source: std::io::Error::other("the starting thread panicked"),
            })
        })
    })
}

/// Lists the unconfined processes of `sys` with network sockets under `scope`
/// ([`crate::inspect::unconfined::list_with`]), each with the profile that would attach
/// to its executable: first by the attachments of the loaded profiles (the kernel's
/// `policy/` tree, falling back to a profile named like the path when that tree cannot
/// be read), then by those of the profile files in `profile_dir` (a host path, normally
/// `<root>/etc/apparmor.d`; `None` skips the files). Also returns the profile files
/// that could not be read.
///
/// ```no_run
/// use apparmor::inspect::unconfined::Scope;
/// use apparmor::system::System;
/// let sys = System::host();
/// let (report, _unreadable) =
///     apparmor::runtime::unconfined(&sys, Scope::Listening, Some("/etc/apparmor.d".as_ref()))?;
/// for p in report.processes.iter().filter(|p| p.has_profile) {
///     println!("{} runs unconfined: restart it to confine it", p.pid);
/// }
/// # Ok::<(), apparmor::inspect::InspectError>(())
/// ```
///
/// # Errors
/// As [`crate::inspect::unconfined::list`].
pub fn unconfined(
    sys: &System,
    scope: Scope,
    profile_dir: Option<&Path>,
) -> Result<(UnconfinedReport, Vec<(PathBuf, String)>), InspectError> {
    let modes = crate::inspect::profile_modes(sys).unwrap_or_default();
    let loaded = match sys.policy() {
        Ok(ns) if !ns.profiles.is_empty() => AttachTable::loaded(&ns),
        // No policy tree: the kernel matches a profile named by a path by its name.
        _ => AttachTable::new(
            modes
                .keys()
                .filter(|n| !n.contains("//"))
                .map(|n| Attachment {
                    profile: n.clone(),
                    pattern: n.clone(),
                    origin: Origin::Loaded,
                })
                .collect(),
        ),
    };
    let mut disk: Option<(AttachTable, Vec<(PathBuf, String)>)> = None;
    let mut lookup = |exe: &str| -> Option<WouldAttach> {
        // The files are read at the first executable that needs them.
        let disk = disk.get_or_insert_with(|| match profile_dir {
            Some(dir) => AttachTable::on_disk(sys.root(), dir),
            None => (AttachTable::default(), Vec::new()),
        });
        let file_of = |name: &str| {
            disk.0.entries().iter().find_map(|a| match &a.origin {
                Origin::OnDisk(f) if a.profile == name => Some(f.clone()),
                _ => None,
            })
        };
        let answer = |m: AttachMatch<'_>, loaded: &dyn Fn(&str) -> bool| {
            let (first, rest) = match m {
                AttachMatch::One(a) => (a, Vec::new()),
                AttachMatch::Conflict(v) => {
                    (v[0], v[1..].iter().map(|a| a.profile.clone()).collect())
                }
            };
            WouldAttach {
                profile: first.profile.clone(),
                loaded: loaded(&first.profile),
                file: match &first.origin {
                    Origin::OnDisk(f) => Some(f.clone()),
                    Origin::Loaded => file_of(&first.profile),
                },
                conflicts_with: rest,
            }
        };
        if let Some(m) = loaded.find(exe) {
            return Some(answer(m, &|_| true));
        }
        let m = disk.0.find(exe)?;
        Some(answer(m, &|n| modes.contains_key(n)))
    };
    let report = crate::inspect::unconfined::list_with(sys, scope, &mut lookup)?;
    let unreadable = disk.map(|d| d.1).unwrap_or_default();
    Ok((report, unreadable))
}
