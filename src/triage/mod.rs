//! Denial triage: grouping records and suggesting rules (docs/triage.md;
//! the record fields it relies on: docs/log-formats.md).
//!
//! - [`classify`]: the kind of access a record is about ([`Category`]) and
//!   the profiles it is attributed to (every profile of a stack, with its
//!   namespace);
//! - [`filter`]: the filters every view shares ([`RecordFilter`], [`ModeSet`]);
//! - [`group`]: bounded grouping for `--summary` ([`Summary`]);
//! - [`suggest`]: rules as policy AST nodes, merged per profile
//!   ([`Suggestions`]);
//! - [`ondisk`]: the profiles on disk, and whether they already allow a rule;
//! - [`generalize`]: rewriting paths with tunables (`--generalize`);
//! - [`plan`]: the review plan of `aactl triage` (one proposal per access,
//!   with candidate rules);
//! - [`autodep`]: a starting profile for a program (`aactl autodep`);
//! - [`apply`]: answers to a plan, written into profile blocks;
//! - [`write`](mod@write): appending to `local/NAME` overrides, atomically, with a diff;
//! - [`bundle`]: bug-report bundles (`aactl snapshot --archive`);
//! - [`follow`]: sources that follow a file across rotation, or the journal
//!   by cursor (`--follow`).

pub mod apply;
pub mod autodep;
pub mod bundle;
pub mod classify;
pub mod filter;
pub mod follow;
pub mod generalize;
pub mod group;
pub mod group_run;
pub mod ondisk;
pub mod plan;
pub mod suggest;
pub mod write;

pub use classify::{Category, category, profiles_into, profiles_of};
pub use filter::{ModeSet, RecordFilter};
pub use group::{Group, GroupKey, Summary};
pub use suggest::{Draft, NoRule, Suggestions, rule_for};
