//! The runtime-state model shared by `aactl` and `aa-status`: whether AppArmor can be
//! inspected ([`preflight`]), the loaded profiles by namespace and mode ([`read_profiles`],
//! [`report`]), every process with its label, stack and modes ([`process`]), and the status
//! report ([`collect`]) with its filters ([`StatusFilter`]), and the unconfined processes
//! that hold network sockets ([`unconfined`]).
//!
//! Reading goes through [`crate::system::System`] (the live host or a root directory such as
//! a snapshot); building rows and reports from what was read is pure. Upstream aa-status's
//! own rules for which processes count and how sections are sorted live apart, in
//! [`aa_status`]. The kernel interfaces and the label syntax are described in
//! docs/runtime.md.

pub mod aa_status;
mod error;
mod preflight;
pub mod process;
pub mod report;
pub mod report_filter;
pub mod unconfined;

pub use error::InspectError;
pub use preflight::{preflight, read_profiles};
pub use process::{
    ProfileModes, PsReport, PsRow, Selection, StackEntry, State, processes, profile_modes,
};
pub use report::{StatusReport, collect};
pub use report_filter::StatusFilter;

/// Version of the JSON documents printed by `aactl ps --json`, `aactl status --json` and
/// `aactl check --format json` (their `schema` member).
/// Bumped when a field changes meaning or disappears; new fields may be added without a bump.
pub const SCHEMA: u32 = 1;
