//! Audit records from every log source (spec/runtime-and-logs.md §3).
//!
//! - [`record`]: the [`Record`] model (libapparmor's fields under the same
//!   names, plus class, execpath, addresses, KILLED/AUTO, unknown keys,
//!   enrichment, grouped audit context and provenance);
//! - [`parse`]: nom parsers for one line in every framing;
//! - [`reader`]: streaming ([`LogReader`]) with pre-filter, grouping and [`Stats`];
//! - [`source`]: files (rotated, gzip), the journal, the kernel ring buffer,
//!   auto-detection;
//! - [`render`]: text, NDJSON ([`render::JSON_SCHEMA_VERSION`]) and the
//!   libapparmor `test_multi` layout.

pub mod parse;
pub mod reader;
pub mod record;
pub mod render;
pub mod source;

pub use parse::{AuditId, Parsed, parse_line};
pub use reader::{LineSource, LogReader, ReadError, ReaderOptions, Stats, parse_str};
pub use record::{AuditContext, EventType, Framing, Provenance, Record, Text};
pub use source::{Detected, LogError, Source, detect, open};
