//! # apparmor
//!
//! Inspect and manage AppArmor on Linux hosts: runtime state, a drop-in
//! `aa-status`, a profile-language parser, audit-record parsing and denial
//! triage, and a loader over `apparmor_parser`.
//!
//! ## Module map
//!
//! | module | owns |
//! | --- | --- |
//! | [`system`] | the only code that touches the host: a `System` root for /proc, /sys and securityfs |
//! | [`label`] | AppArmor labels (`name (mode)`, stacks, namespaces, hats) and modes |
//! | [`inspect`] | the runtime-state model of both tools: preflight, loaded profiles, processes and their confinement, the status report; upstream aa-status's selection rules in [`inspect::aa_status`] |
//! | [`policy`] | the profile language: AST, nom parser, includes and variables, checks |
//! | [`diag`] | diagnostics with spans, shared by every parser |
//! | [`log`] | audit records from auditd, journald, syslog, dmesg |
//! | [`triage`] | grouping denials and suggesting rules |
//! | [`watch`] | after a load: follow the log and suggest rules for the new profiles (above `loader` and `triage`) |
//! | [`loader`] | driving `apparmor_parser` |
//! | [`error`] | one-line error text with each cause once |
//! | [`escape`] | escaping untrusted text before it is printed |
//! | `cli` | argv, output and exit codes of `aa-status` and `aactl` (feature `cli`, on by default) |
//!
//! The library never prints, never exits and never panics on input.
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod diag;
pub mod error;
pub mod escape;
pub mod inspect;
pub mod label;
pub mod loader;
pub mod log;
pub mod policy;
pub mod system;
pub mod triage;
pub mod watch;

/// The aa-status model under its former path; it lives in [`inspect::aa_status`].
pub use inspect::aa_status as status;
