//! The one integration-test crate (one link instead of one per file).
//! Each module covers one area; shared helpers live in `common`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;
mod vm;
