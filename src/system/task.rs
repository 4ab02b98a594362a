//! The kernel's task interface: change the calling task's profile now or at its next exec,
//! stack a profile, and read the task's current and exec labels.
//!
//! AppArmor takes these requests as one `write(2)` of a command to a file of the task's
//! `/proc/…/attr` directory, and nothing else is needed (no library call, no `unsafe`):
//!
//! | request | file | text written |
//! |---|---|---|
//! | [`Task::change_onexec`] | `attr/apparmor/exec` | `exec PROFILE` |
//! | [`Task::stack_onexec`] | `attr/apparmor/exec` | `stack PROFILE` |
//! | [`Task::change_profile`] | `attr/apparmor/current` | `changeprofile PROFILE` |
//! | [`Task::stack_profile`] | `attr/apparmor/current` | `stack PROFILE` |
//!
//! Kernels without the AppArmor-specific directory (before 5.1) take the same text in
//! the shared `attr/exec` and `attr/current`; the shared files are used when
//! `attr/apparmor` does not exist. The files are those of the calling thread
//! (`/proc/thread-self`): the kernel refuses a write to another thread's attributes.
//!
//! A profile in another policy namespace is named `:NS:PROFILE` ([`namespaced`]).
//! A stack of several profiles is written `A//&B`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why a request to the task interface failed. Each variant names the profile and the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// ENOENT from the write: no profile of that name is loaded (or the namespace does not
    /// exist).
    #[error("profile '{profile}' is not loaded (writing to {})", path.display())]
    NotLoaded {
        /// The profile asked for.
        profile: String,
        /// The attribute file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// EACCES or EPERM: the current confinement (or `no_new_privs`, or a missing
    /// capability) does not allow the change.
    #[error("not permitted to change to profile '{profile}' (writing to {})", path.display())]
    NotPermitted {
        /// The profile asked for.
        profile: String,
        /// The attribute file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// EINVAL: the kernel did not accept the request (AppArmor is not the task's LSM, or
    /// the name is malformed).
    #[error("the kernel rejected the change to profile '{profile}' as invalid (writing to {})", path.display())]
    Invalid {
        /// The profile asked for.
        profile: String,
        /// The attribute file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The attribute file cannot be opened (no AppArmor, no /proc), or another error.
    #[error("cannot change to profile '{profile}' through {}", path.display())]
    Io {
        /// The profile asked for.
        profile: String,
        /// The attribute file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Reading a label failed.
    #[error("cannot read {}", path.display())]
    Read {
        /// The attribute file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The profile name is empty or holds a NUL or newline, which the kernel cannot take
    /// as one name.
    #[error("invalid profile name {profile:?}")]
    BadName {
        /// The profile asked for.
        profile: String,
    },
}

/// `PROFILE` in policy namespace `NS`, as the task interface takes it: `:NS:PROFILE`.
///
/// ```
/// assert_eq!(apparmor::system::task::namespaced("lxd-c1", "/usr/bin/man"), ":lxd-c1:/usr/bin/man");
/// ```
pub fn namespaced(namespace: &str, profile: &str) -> String {
    format!(":{namespace}:{profile}")
}

/// The AppArmor attribute files of one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The system root reads are resolved in (`/` on the live host).
    root: PathBuf,
    dir: PathBuf,
}

impl Task {
    /// The calling thread (`/proc/thread-self`).
    pub fn current() -> Task {
        Task::at("/proc/thread-self")
    }

    /// The task whose `/proc` directory is `dir` on the live host (`/proc/1234` to read
    /// another process's labels; a fake directory in tests). Only the calling thread's own
    /// directory accepts changes.
    pub fn at(dir: impl Into<PathBuf>) -> Task {
        Task {
            root: PathBuf::from("/"),
            dir: dir.into(),
        }
    }

    /// The `/proc` directory used.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for attribute `name` (`current`, `exec`, `prev`): `attr/apparmor/NAME` when
    /// the task has the AppArmor-specific directory, else the shared `attr/NAME`.
    pub fn attr_path(&self, name: &str) -> PathBuf {
        let own = self.dir.join("attr/apparmor");
        let is_dir = crate::system::fs::kind(&self.root, &own)
            .is_ok_and(|k| k == crate::system::fs::EntryKind::Dir);
        if is_dir {
            own.join(name)
        } else {
            self.dir.join("attr").join(name)
        }
    }

    fn write(&self, attr: &str, verb: &str, profile: &str) -> Result<(), TaskError> {
        if profile.is_empty() || profile.contains(['\0', '\n']) {
            return Err(TaskError::BadName {
                profile: profile.to_owned(),
            });
        }
        let path = self.attr_path(attr);
        let text = format!("{verb} {profile}");
        let io_err = |source: io::Error| TaskError::Io {
            profile: profile.to_owned(),
            path: path.clone(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err)?;
        // The kernel takes the command from exactly one write.
        match f.write(text.as_bytes()) {
            Ok(n) if n == text.len() => Ok(()),
            Ok(_) => Err(io_err(io::Error::from(io::ErrorKind::WriteZero))),
            Err(source) => {
                let profile = profile.to_owned();
                let path = path.clone();
                Err(match source.raw_os_error() {
                    Some(2) => TaskError::NotLoaded {
                        profile,
                        path,
                        source,
                    },
                    Some(1) | Some(13) => TaskError::NotPermitted {
                        profile,
                        path,
                        source,
                    },
                    Some(22) => TaskError::Invalid {
                        profile,
                        path,
                        source,
                    },
                    _ => TaskError::Io {
                        profile,
                        path,
                        source,
                    },
                })
            }
        }
    }

    /// Asks for `profile` (a name, `:NS:NAME`, or a stack `A//&B`) to confine the task from
    /// its next `execve` on (libapparmor's `aa_change_onexec`).
    ///
    /// # Errors
    /// [`TaskError::NotLoaded`], [`TaskError::NotPermitted`], [`TaskError::Invalid`] from the
    /// kernel's answer; [`TaskError::Io`] when the file cannot be opened.
    ///
    /// ```no_run
    /// use apparmor::system::task::Task;
    /// use std::os::unix::process::CommandExt;
    /// Task::current().change_onexec("my-profile")?;
    /// let err = std::process::Command::new("/usr/bin/true").exec();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn change_onexec(&self, profile: &str) -> Result<(), TaskError> {
        self.write("exec", "exec", profile)
    }

    /// Asks for `profile` to be stacked on the task's label at its next `execve`
    /// (`aa_stack_onexec`): the new label is `CURRENT//&PROFILE`.
    ///
    /// # Errors
    /// As [`Task::change_onexec`].
    pub fn stack_onexec(&self, profile: &str) -> Result<(), TaskError> {
        self.write("exec", "stack", profile)
    }

    /// Changes the task's profile now (`aa_change_profile`): what it does from here on,
    /// including its next `execve`, is decided by `profile`.
    ///
    /// # Errors
    /// As [`Task::change_onexec`].
    pub fn change_profile(&self, profile: &str) -> Result<(), TaskError> {
        self.write("current", "changeprofile", profile)
    }

    /// Stacks `profile` on the task's label now (`aa_stack_profile`).
    ///
    /// # Errors
    /// As [`Task::change_onexec`].
    pub fn stack_profile(&self, profile: &str) -> Result<(), TaskError> {
        self.write("current", "stack", profile)
    }

    fn read(&self, attr: &str) -> Result<String, TaskError> {
        let path = self.attr_path(attr);
        let bytes =
            crate::system::fs::read_limited(&self.root, &path, crate::system::fs::limits::PAGE)
                .map_err(|source| TaskError::Read {
                    path: path.clone(),
                    source,
                })?;
        let mut s = String::from_utf8_lossy(&bytes).into_owned();
        while s.ends_with('\n') || s.ends_with('\0') {
            s.pop();
        }
        Ok(s)
    }

    /// The task's label with its mode as the kernel prints it (`firefox (enforce)`,
    /// `unconfined`), one trailing newline dropped (libapparmor's `aa_getcon`). Parse it
    /// with [`crate::label::Label::parse`].
    ///
    /// # Errors
    /// [`TaskError::Read`] when the attribute cannot be read.
    ///
    /// ```no_run
    /// let label = apparmor::system::task::Task::current().current_label()?;
    /// println!("running as {label}");
    /// # Ok::<(), apparmor::system::task::TaskError>(())
    /// ```
    pub fn current_label(&self) -> Result<String, TaskError> {
        self.read("current")
    }

    /// The label asked for at the next `execve` ([`Task::change_onexec`]), `None` when none
    /// was asked for (the attribute is empty).
    ///
    /// # Errors
    /// [`TaskError::Read`] when the attribute cannot be read.
    pub fn exec_label(&self) -> Result<Option<String>, TaskError> {
        self.read("exec").map(|s| (!s.is_empty()).then_some(s))
    }
}

impl crate::system::System {
    /// Task `pid` of this system (`<root>/proc/PID`), to read its labels under the root
    /// ([`Task::current_label`], [`Task::exec_label`]).
    ///
    /// ```
    /// let d = tempfile::tempdir().unwrap();
    /// std::fs::create_dir_all(d.path().join("proc/7/attr/apparmor")).unwrap();
    /// std::fs::write(d.path().join("proc/7/attr/apparmor/current"), "web (enforce)\n").unwrap();
    /// let sys = apparmor::system::System::with_root(d.path());
    /// assert_eq!(sys.task(7).current_label().unwrap(), "web (enforce)");
    /// ```
    pub fn task(&self, pid: u32) -> Task {
        Task {
            root: self.root().to_path_buf(),
            dir: self.proc_dir().join(pid.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(apparmor_dir: bool) -> (tempfile::TempDir, Task) {
        let d = tempfile::tempdir().unwrap();
        let attr = if apparmor_dir {
            d.path().join("attr/apparmor")
        } else {
            d.path().join("attr")
        };
        std::fs::create_dir_all(&attr).unwrap();
        for f in ["current", "exec"] {
            std::fs::write(attr.join(f), "").unwrap();
        }
        let t = Task::at(d.path());
        (d, t)
    }

    #[test]
    fn commands_go_to_the_right_file() {
        let (d, t) = fake(true);
        t.change_onexec(":ns:p").unwrap();
        let got = std::fs::read_to_string(d.path().join("attr/apparmor/exec")).unwrap();
        assert_eq!(got, "exec :ns:p");
        assert_eq!(t.exec_label().unwrap().as_deref(), Some("exec :ns:p"));
        t.stack_profile("a//&b").unwrap();
        let got = std::fs::read_to_string(d.path().join("attr/apparmor/current")).unwrap();
        assert_eq!(got, "stack a//&b");
        let (d, t) = fake(false);
        t.change_profile("x").unwrap();
        let got = std::fs::read_to_string(d.path().join("attr/current")).unwrap();
        assert_eq!(got, "changeprofile x");
        t.stack_onexec("y").unwrap();
        std::fs::write(d.path().join("attr/exec"), "").unwrap();
        assert_eq!(t.exec_label().unwrap(), None);
    }

    #[test]
    fn errors_name_the_profile() {
        let t = Task::at("/nonexistent/proc/1");
        let e = t.change_onexec("web").unwrap_err();
        assert!(matches!(e, TaskError::Io { .. }));
        assert!(e.to_string().contains("'web'"), "{e}");
        assert!(matches!(
            t.change_onexec("a\nb"),
            Err(TaskError::BadName { .. })
        ));
        assert!(matches!(t.current_label(), Err(TaskError::Read { .. })));
    }
}
