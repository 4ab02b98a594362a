//! AppArmor's state and audit records as Prometheus metric families: the model behind
//! `aactl metrics` (one exposition, for node_exporter's textfile collector) and
//! `aactl exporter` (an HTTP endpoint Prometheus scrapes).
//!
//! Three parts, none of which does any networking:
//!
//! - [`StateMetrics`]: what one look at the host gives ([`collect_state`]): whether AppArmor
//!   is enabled, the kernel release and parser version, loaded profiles counted by policy
//!   namespace and mode, processes counted by their label's mode, processes that run
//!   unconfined although a profile for their executable is loaded, and the policy revision.
//! - [`RecordCounts`]: audit records counted by profile, event, class and operation as they
//!   are read, kernel-sent records only unless the caller trusts the others
//!   ([`RecordTrust`]); label values are bounded ([`Limits`]) so that a burst of odd
//!   records cannot make the number of series grow without end.
//! - [`render`]: both as text in the Prometheus exposition format (version 0.0.4) or in
//!   OpenMetrics ([`Format`]), encoded by the `prometheus-client` crate, which escapes label
//!   values. Families and series come out in a fixed order, so equal input gives equal text.
//!
//! The metric names, their labels and the cardinality bound are listed in `docs/fleet.md`
//! and in aactl(1), section METRICS.

mod encode;
mod records;
mod state;

pub use encode::{Format, SCRAPE_STAGES, render};
pub use records::{Counted, Limits, RecordCounts, RecordTrust, SeriesKey};
pub use state::{PROFILE_MODES, StateMetrics, collect_state};

/// The prefix of every metric name.
pub const PREFIX: &str = "apparmor";

/// The port `aactl exporter` listens on by default (127.0.0.1:9747).
pub const DEFAULT_PORT: u16 = 9747;
