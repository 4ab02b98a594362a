//! Plans: the exact effects of a loader operation, shown by `--dry-run` and
//! executed step by step otherwise.
//!
//! A [`Plan`] is a list of [`Step`]s: parser commands, profile-file edits (with
//! the text before and after), symlinks created or removed, and kernel-interface
//! writes. [`Plan::render`] prints them; [`Plan::execute`] performs them through a
//! [`Runner`] (parser, kernel) and the file system (edits, links).

use super::diagnose::{RunReport, diagnose};
use super::{LoaderError, ParserCommand, Runner};
use crate::system::{System, fs};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Run `apparmor_parser`.
    Run {
        /// The exact command.
        command: ParserCommand,
    },
    /// Replace a profile file's text atomically, keeping owner and permissions.
    Edit {
        /// The file.
        path: PathBuf,
        /// Its text now.
        before: String,
        /// Its text after the edit.
        after: String,
    },
    /// Create a symlink `link` → `target` (creating the parent directory).
    Symlink {
        /// The link to create.
        link: PathBuf,
        /// Where it points (absolute, as upstream writes it).
        target: PathBuf,
    },
    /// Remove a symlink (only if it is a symlink).
    RemoveLink {
        /// The link.
        link: PathBuf,
    },
    /// Write `NAME\0` to the kernel's `.remove` file.
    KernelRemove {
        /// The `.remove` file.
        path: PathBuf,
        /// The profile's fully qualified name.
        name: String,
    },
}

/// What executing one step gave.
#[derive(Debug, Serialize)]
pub enum StepOutcome {
    /// A file or link step, or a kernel write, that worked.
    Done,
    /// A parser run, decoded (may hold errors).
    Ran(RunReport),
}

/// An ordered list of steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The steps, in execution order.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Text for people: `$ command` lines, an edit as a unified diff of the
    /// lines it changes (`--- PATH` / `+++ PATH`, three lines of context),
    /// `ln -s`, `rm`, `write NAME\0 > FILE`.
    /// Untrusted text (names, file contents) is escaped.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for step in &self.steps {
            render_step(step, &mut s);
        }
        s
    }

    /// Runs every step in order and stops at the first one that fails
    /// (an error, or a parser run whose report has errors; that report is the
    /// last outcome returned). File, link and kernel-interface steps stay inside
    /// `sys`'s root (see [`execute_step`]).
    ///
    /// # Errors
    /// [`LoaderError`] for file, link and kernel-write failures and for a parser
    /// that cannot be started.
    pub fn execute(
        &self,
        sys: &System,
        runner: &mut dyn Runner,
    ) -> Result<Vec<StepOutcome>, LoaderError> {
        let mut out = Vec::new();
        for step in &self.steps {
            let o = execute_step(step, sys, runner)?;
            let failed = matches!(&o, StepOutcome::Ran(r) if !r.ok());
            out.push(o);
            if failed {
                break;
            }
        }
        Ok(out)
    }
}

/// What [`Plan::execute_or_rollback`] gave.
#[derive(Debug)]
pub struct Execution {
    /// The outcome of each step run, in order (as [`Plan::execute`]).
    pub outcomes: Vec<StepOutcome>,
    /// The error that stopped the plan, if any.
    pub error: Option<LoaderError>,
    /// True when a step failed (an error, or a parser run with errors).
    pub failed: bool,
    /// Files whose edit was undone after the failure (their previous text written back
    /// atomically, keeping owner and mode).
    pub restored: Vec<PathBuf>,
    /// Undo steps that failed themselves (the file or link is left as edited).
    pub rollback_errors: Vec<LoaderError>,
}

/// How to undo one step that was done.
enum Undo {
    /// The file, its text before the edit and after it.
    Write(PathBuf, String, String),
    Link(PathBuf, Option<PathBuf>),
}

impl Plan {
    /// Runs the steps like [`Plan::execute`]; when one fails (an error, or a parser
    /// run whose report has errors), the file edits and link changes already made
    /// are undone, last first: edited files get their previous text back (atomic
    /// write keeping owner and mode; not when the file was changed again since
    /// the edit, see [`replace_if_unchanged`]), links their previous state. Nothing is undone
    /// in the kernel (a failed parser run loaded nothing it reports as failed).
    pub fn execute_or_rollback(&self, sys: &System, runner: &mut dyn Runner) -> Execution {
        let mut ex = Execution {
            outcomes: Vec::new(),
            error: None,
            failed: false,
            restored: Vec::new(),
            rollback_errors: Vec::new(),
        };
        let mut undo: Vec<Undo> = Vec::new();
        for step in &self.steps {
            // Undo works on the real locations (checked to be inside the root); a
            // step whose location is refused fails below and needs no undo.
            let before = match step {
                Step::Edit {
                    path,
                    before,
                    after,
                } => real_file(sys, path)
                    .ok()
                    .map(|p| Undo::Write(p, before.clone(), after.clone())),
                Step::Symlink { link, .. } | Step::RemoveLink { link } => {
                    real_link(sys, link).ok().map(|l| {
                        let old = std::fs::read_link(&l).ok();
                        Undo::Link(l, old)
                    })
                }
                _ => None,
            };
            match execute_step(step, sys, runner) {
                Ok(o) => {
                    ex.failed = matches!(&o, StepOutcome::Ran(r) if !r.ok());
                    ex.outcomes.push(o);
                    undo.extend(before);
                }
                Err(e) => {
                    ex.error = Some(e);
                    ex.failed = true;
                    // A half-done link step may have removed the old link.
                    if let Some(u @ Undo::Link(..)) = before {
                        undo.push(u);
                    }
                }
            }
            if ex.failed {
                break;
            }
        }
        if ex.failed {
            for u in undo.into_iter().rev() {
                match u {
                    Undo::Write(path, before, after) => {
                        match replace_if_unchanged(&path, after.as_bytes(), before.as_bytes()) {
                            Ok(()) => ex.restored.push(path),
                            Err(e) => ex.rollback_errors.push(e),
                        }
                    }
                    Undo::Link(link, target) => {
                        let io = |e| LoaderError::Io {
                            path: link.clone(),
                            source: e,
                        };
                        let now = std::fs::read_link(&link).ok();
                        if now == target {
                            continue;
                        }
                        if now.is_some() {
                            if let Err(e) = std::fs::remove_file(&link) {
                                ex.rollback_errors.push(io(e));
                                continue;
                            }
                        }
                        if let Some(t) = target {
                            if let Err(e) = std::os::unix::fs::symlink(&t, &link) {
                                ex.rollback_errors.push(io(e));
                            }
                        }
                    }
                }
            }
        }
        ex
    }
}

/// Renders one step (see [`Plan::render`]).
pub fn render_step(step: &Step, s: &mut String) {
    use crate::escape::escape_str;
    use std::fmt::Write as _;
    match step {
        Step::Run { command } => {
            let _ = writeln!(s, "$ {}", command.display());
        }
        Step::Edit {
            path,
            before,
            after,
        } => {
            let shown = path.display().to_string();
            let diff = crate::policy::edit::unified_diff(&shown, &shown, before, after);
            for line in diff.lines() {
                let _ = writeln!(s, "{}", escape_str(line));
            }
        }
        Step::Symlink { link, target } => {
            let _ = writeln!(
                s,
                "ln -s {} {}",
                escape_str(&target.display().to_string()),
                escape_str(&link.display().to_string())
            );
        }
        Step::RemoveLink { link } => {
            let _ = writeln!(s, "rm {}", escape_str(&link.display().to_string()));
        }
        Step::KernelRemove { path, name } => {
            let _ = writeln!(
                s,
                "write '{}\\0' > {}",
                escape_str(name),
                escape_str(&path.display().to_string())
            );
        }
    }
}

/// Where an edit of `path` lands (a symlinked profile is written through, the link
/// kept), refused when that is outside `sys`'s root.
fn real_file(sys: &System, path: &Path) -> Result<PathBuf, LoaderError> {
    fs::write_target(sys.root(), path).map_err(|source| LoaderError::Io {
        path: path.to_owned(),
        source,
    })
}

/// The real path of a link to create or remove (its folder resolved; the link itself
/// not followed), refused when the folder is outside `sys`'s root.
fn real_link(sys: &System, link: &Path) -> Result<PathBuf, LoaderError> {
    fs::link_parent(sys.root(), link)
        .map(|d| d.join(link.file_name().unwrap_or_default()))
        .map_err(|source| LoaderError::Io {
            path: link.to_owned(),
            source,
        })
}

/// Performs one step. Under a root other than `/` (a snapshot or fake tree), an edit,
/// link or link removal whose real location is outside the root is refused, and a
/// kernel-interface file that is a symlink is refused everywhere (on the host it must
/// be on securityfs).
///
/// # Errors
/// See [`Plan::execute`].
pub fn execute_step(
    step: &Step,
    sys: &System,
    runner: &mut dyn Runner,
) -> Result<StepOutcome, LoaderError> {
    match step {
        Step::Run { command } => {
            let raw = runner
                .run(command)
                .map_err(|e| super::spawn_error(&command.program, e))?;
            Ok(StepOutcome::Ran(diagnose(
                command.action,
                &command.files,
                &raw,
            )))
        }
        Step::Edit {
            path,
            before,
            after,
        } => {
            let real = real_file(sys, path)?;
            replace_if_unchanged(&real, before.as_bytes(), after.as_bytes())?;
            Ok(StepOutcome::Done)
        }
        Step::Symlink { link, target } => {
            let io = |e| LoaderError::Io {
                path: link.clone(),
                source: e,
            };
            let link = &real_link(sys, link)?;
            if let Some(parent) = link.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            match std::fs::symlink_metadata(link) {
                Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(link).map_err(io)?,
                Ok(_) => {
                    return Err(io(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "exists and is not a symlink",
                    )));
                }
                Err(_) => {}
            }
            // Under a root the link is read on the system the tree belongs to:
            // its target is written as that system sees it, not as a host path
            // that breaks once the tree is moved or mounted.
            let target = sys.as_seen(target);
            std::os::unix::fs::symlink(&target, link).map_err(io)?;
            Ok(StepOutcome::Done)
        }
        Step::RemoveLink { link } => {
            let link = &real_link(sys, link)?;
            match std::fs::symlink_metadata(link) {
                Ok(m) if m.file_type().is_symlink() => {
                    std::fs::remove_file(link).map_err(|e| LoaderError::Io {
                        path: link.to_owned(),
                        source: e,
                    })?
                }
                _ => {}
            }
            Ok(StepOutcome::Done)
        }
        Step::KernelRemove { path, name } => {
            let mut data = name.as_bytes().to_vec();
            data.push(0);
            // Under a root the file is resolved inside it (never followed out); the
            // write itself never follows a symlink (see `Runner::kernel_write`).
            let real = if sys.is_host() {
                path.clone()
            } else {
                fs::control_path(sys.root(), path).map_err(|source| LoaderError::Io {
                    path: path.clone(),
                    source,
                })?
            };
            runner
                .kernel_write(&real, &data)
                .map_err(|e| LoaderError::KernelWrite {
                    path: path.clone(),
                    name: name.clone(),
                    kind: super::KernelErrorKind::from_errno(e.raw_os_error().unwrap_or(0)),
                    source: e,
                })?;
            Ok(StepOutcome::Done)
        }
    }
}

/// [`crate::system::edit::atomic_write`] with the loader's error.
///
/// # Errors
/// [`LoaderError::Io`] naming the file.
pub fn atomic_write(path: &Path, data: &[u8]) -> Result<(), LoaderError> {
    crate::system::edit::atomic_write(path, data).map_err(LoaderError::from)
}

/// [`crate::system::edit::replace_if_unchanged`] with the loader's error.
///
/// # Errors
/// [`LoaderError::Changed`] when the file holds something else;
/// [`LoaderError::Io`] naming the file.
pub fn replace_if_unchanged(path: &Path, expected: &[u8], data: &[u8]) -> Result<(), LoaderError> {
    crate::system::edit::replace_if_unchanged(path, expected, data).map_err(LoaderError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_renders_as_a_unified_diff_of_the_changed_lines() {
        let step = Step::Edit {
            path: "/p".into(),
            before: "a\nb\nc\nd flags=(complain) {\ne\nf\ng\nh\ni\n".into(),
            after: "a\nb\nc\nd {\ne\nf\ng\nh\ni\n".into(),
        };
        let mut s = String::new();
        render_step(&step, &mut s);
        assert_eq!(
            s,
            "--- /p\n+++ /p\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d flags=(complain) {\n+d {\n e\n f\n g\n"
        );
    }

    #[test]
    fn atomic_write_keeps_mode_and_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("prof");
        std::fs::write(&f, "old").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        atomic_write(&link, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "new");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
