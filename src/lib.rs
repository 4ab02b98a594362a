//! # apparmor
//!
//! Inspect and manage AppArmor on Linux hosts: runtime state, a drop-in
//! `aa-status`, a profile-language parser, audit-record parsing and denial
//! triage, and a loader over `apparmor_parser`. Use it without the command-line
//! tools with `default-features = false`.
//!
//! ## What a consumer does
//!
//! Ask whether AppArmor is usable, which profiles are loaded in which mode, and what
//! confines each process — on the live host ([`system::System::host`]) or on a
//! snapshot ([`system::System::with_root`]; every read stays inside it, see
//! `docs/trust.md`):
//!
//! ```no_run
//! use apparmor::system::{Enabled, ProcessScan, System};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sys = System::host();
//! if sys.enabled() != Enabled::Yes {
//!     return Ok(()); // no AppArmor here
//! }
//! for (name, mode) in sys.profiles()?.profiles() {
//!     println!("{name}: {}", mode.as_str());
//! }
//! for p in sys.processes(&ProcessScan::default())? {
//!     if let Some(Ok(label)) = p.label() {
//!         println!("{} {}", p.pid, label.name());
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Check a profile as `apparmor_parser` would ([`policy::check`]), load it
//! ([`loader::Loader`]), and read denials with where each came from
//! ([`log::parse_str`], [`log::Record`]'s provenance):
//!
//! ```no_run
//! use apparmor::loader::{Action, Loader, Parser, SystemRunner, find_parser_from_env};
//! use apparmor::log::Origin;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut loader = Loader::new(Parser::new(find_parser_from_env()?), SystemRunner);
//! let report = loader.run_file(Action::Replace, "/etc/apparmor.d/usr.sbin.cupsd".as_ref())?;
//! assert!(report.ok(), "{:?}", report.errors);
//!
//! let text = std::fs::read_to_string("/var/log/audit/audit.log")?;
//! let (records, _stats) = apparmor::log::parse_str(&text, "audit.log");
//! for r in records.iter().filter(|r| r.provenance.origin == Origin::Kernel) {
//!     println!("{:?} {:?}", r.profile, r.operation);
//! }
//! # Ok(()) }
//! ```
//!
//! `examples/container_runtime.rs` and `examples/monitoring.rs` are complete programs.
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
//! | [`runtime`] | what container runtimes ask (enabled, profile loaded and its mode, a pid's label, start a child under a profile) and the unconfined-services audit with attachment matching (above `inspect` and `policy`) |
//! | `metrics` | the state and record counts as Prometheus metric families, for `aactl metrics` and `aactl exporter` (feature `metrics`, on with `cli`; above `inspect` and `log`) |
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
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod policy;
pub mod runtime;
pub mod system;
pub mod triage;
pub mod watch;
