//! Fuzz target: the policy parser never panics, and whatever it accepts
//! prints and re-parses to an equal AST.
//!
//! Run with `cargo +nightly fuzz run parse_policy` from tests/fuzz. Without
//! cargo-fuzz, build it as cargo-fuzz would:
//! `RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4
//! -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
//! -Cllvm-args=-sanitizer-coverage-pc-table
//! -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions"
//! cargo +nightly build --release --target x86_64-unknown-linux-gnu`, then run
//! `target/x86_64-unknown-linux-gnu/release/parse_policy -max_total_time=60 CORPUS_DIR`
//! (seed it with /etc/apparmor.d files and parser simple_tests).
#![no_main]

use apparmor::diag::FileId;
use apparmor::policy::parse::{ParseMode, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for mode in [ParseMode::Policy, ParseMode::Fragment] {
        let p = parse(&text, FileId(0), mode);
        if p.is_ok() {
            let again = parse(&p.ast.to_string(), FileId(0), mode);
            assert_eq!(again.ast, p.ast, "round trip differs");
        }
    }
    let _ = apparmor::policy::edit::set_profile_mode(&text, "a", Some("complain"));
});
