//! Where records come from: files (plain, rotated, gzip), stdin, the journal
//! (`journalctl -o json`), the kernel ring buffer (`dmesg`, else
//! `/dev/kmsg`), and auto-detection of the place this host's AppArmor
//! records go (docs/log-formats.md, "Where the records go": auditd hides
//! records from the journal and the ring buffer, and no source is required
//! for reading another).
//!
//! The host is a parameter ([`System`]): every path is taken under its root
//! (`/` for the running host; a snapshot directory in tests). The journal is
//! read with `journalctl --root ROOT` when the root is not `/`; the ring
//! buffer only exists for the running host.

mod detect;
mod file;
mod journal;
mod kmsg;
#[cfg(test)]
mod tests;

pub use detect::{AuditLook, Detected, Looked, detect};
use file::maybe_gz;
pub use file::{open_file, open_file_in, rotated_set, rotated_set_in};
pub use journal::{JOURNAL_MAGIC, JournalLines, TrustedSenders, journal_entry};
use kmsg::open_kernel;

use super::reader::{BufReadLines, LineSource};
use crate::system::System;
use std::io::{self, BufReader};
use std::path::PathBuf;

/// Errors opening a source.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file could not be opened or read.
    #[error("{path}: {error}")]
    File {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
    /// A helper program (`journalctl`, `dmesg`) could not be started.
    #[error("cannot run {program}: {error}")]
    Spawn {
        /// The program name.
        program: String,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
    /// The kernel ring buffer is not readable.
    #[error("kernel ring buffer: {0}")]
    Kernel(String),
}

/// Options of a journal query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// `--boot`: `Some("")` for the current boot, `Some(ID)` for an offset or id.
    pub boot: Option<String>,
    /// `--since` as journalctl accepts it.
    pub since: Option<String>,
    /// `--until` as journalctl accepts it.
    pub until: Option<String>,
    /// Resume after this cursor (`--after-cursor`).
    pub after_cursor: Option<String>,
    /// Keep reading new entries (`--follow`); the read blocks while the
    /// journal is idle.
    pub follow: bool,
}

/// A log source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file (`-` is standard input). gzip is detected by its magic bytes; a
    /// systemd journal file (by its header, [`JOURNAL_MAGIC`]) is read through
    /// `journalctl --file` ([`JournalLines::spawn_file`]).
    File(PathBuf),
    /// The journal, kernel and audit transports, and the D-Bus daemons'
    /// own entries (see [`JournalLines::args`] and [`TrustedSenders`]).
    Journal(JournalQuery),
    /// The kernel ring buffer.
    Kernel,
}

impl Source {
    /// A short name for messages.
    pub fn describe(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Journal(_) => "journal".into(),
            Source::Kernel => "kernel ring buffer".into(),
        }
    }
}

/// Opens `source` on the host `sys` (file paths are used as given: they name
/// files of the reader, not of the inspected host).
pub fn open(source: &Source, sys: &System) -> Result<Box<dyn LineSource>, LogError> {
    let root = sys.root();
    match source {
        Source::File(p) if p.as_os_str() == "-" => {
            let stdin = io::stdin();
            Ok(Box::new(BufReadLines::new(
                maybe_gz(Box::new(BufReader::with_capacity(256 << 10, stdin))).map_err(
                    |error| LogError::File {
                        path: p.clone(),
                        error,
                    },
                )?,
                "-",
            )))
        }
        Source::File(p) => open_file_in(root, p),
        Source::Journal(q) => Ok(Box::new(JournalLines::spawn(q, root)?)),
        Source::Kernel => open_kernel(root),
    }
}
