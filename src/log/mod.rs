//! Audit records from every log source (where they are and how each line is
//! framed: docs/log-formats.md).
//!
//! - [`record`]: the [`Record`] model (libapparmor's fields under the same
//!   names, plus class, execpath, addresses, KILLED/AUTO, unknown keys,
//!   enrichment, grouped audit context and provenance, with the
//!   [`Origin`] of each record: the kernel, a trusted helper, or a sender
//!   that is not verified);
//! - [`parse`]: nom parsers for one line in every framing;
//! - [`reader`]: streaming ([`LogReader`]) with pre-filter, grouping and [`Stats`];
//! - [`source`]: files (rotated, gzip), the journal, the kernel ring buffer,
//!   auto-detection;
//! - [`time`]: times as people type them and as syslog writes them, in a
//!   given time zone, and times shown in one;
//! - [`render`]: text, NDJSON ([`render::JSON_SCHEMA_VERSION`]) and the
//!   libapparmor `test_multi` layout.
//!
//! # Reading records
//!
//! ```no_run
//! use apparmor::log::{LogReader, ReaderOptions, Source, open};
//! use apparmor::system::System;
//!
//! let src = open(&Source::File("/var/log/audit/audit.log".into()), &System::host())?;
//! let mut reader = LogReader::new(src, ReaderOptions::default());
//! for rec in reader.by_ref() {
//!     let rec = rec?; // a read error ends the stream
//!     if rec.event.is_denial() {
//!         let who = rec.profile_label(); // Label: stack/namespace components
//!         let when = rec.timestamp(); // (seconds, ms), None for a zero audit id
//!         let _ = (who, when);
//!     }
//! }
//! let seen = reader.stats(); // lines, records, invalid, skipped, …
//! # let _ = seen;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # For triage (grouping, follow mode)
//!
//! - Group on owned values: `profile_label().components()` (one group per
//!   stacked profile), `class` (fall back to `operation` for old kernels),
//!   `operation`, the target (`name`, `peer`/`peer_profile`, addresses,
//!   dbus fields, `name2`), `denied_mask`; keep counts and
//!   [`Record::timestamp`] first/last, `comm`/`pid`. Records are owned and
//!   can be dropped after they are folded into a group: memory stays bounded.
//! - Follow: implement [`LineSource`] over a tailed file (reopen on inode
//!   change or truncation) returning [`reader::NextLine::Idle`] when there is
//!   no new data: the reader then releases the events it holds open for
//!   grouping and `next()` returns `None` until more lines arrive. The
//!   journal follows with [`source::JournalQuery::follow`] and resumes with
//!   `after_cursor` = the last [`Provenance::cursor`].

pub mod ndjson;
pub mod parse;
pub mod reader;
pub mod record;
pub mod render;
pub mod source;
pub mod time;

pub use parse::{AuditId, ParsedLine, parse_line};
pub use reader::{LineSource, LogReader, Prerender, ReadError, ReaderOptions, Stats, parse_str};
pub use record::{AuditContext, EventType, Framing, Origin, Prerendered, Provenance, Record, Text};
pub use source::{Detected, LogError, Source, detect, open};
