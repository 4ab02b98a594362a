//! The one integration-test crate (one link instead of one per file).
//! Each module covers one area; shared helpers live in `common`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;
mod log_conformance;
mod log_pitfalls;
mod log_robust;
mod policy_check_cli;
mod policy_conformance;
mod policy_edit;
mod policy_hostile;
mod policy_resolve;
mod policy_roundtrip;
mod policy_syntax;
mod triage_big;
mod triage_conformance;
mod triage_follow;
mod triage_pitfalls;
mod triage_write;
