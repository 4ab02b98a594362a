//! The one integration-test crate (one link instead of one per file).
//! Each module covers one area; shared helpers live in `common`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;
mod policy_check_cli;
mod policy_conformance;
mod policy_edit;
mod policy_hostile;
mod policy_resolve;
mod policy_roundtrip;
mod policy_semantic;
mod policy_semantic_cli;
mod policy_syntax;
