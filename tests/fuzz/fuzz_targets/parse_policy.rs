//! Fuzz target: the policy parser never panics, and whatever it accepts
//! prints and re-parses to an equal AST.
//!
//! Run with `cargo +nightly fuzz run parse_policy` from tests/fuzz.
#![no_main]

use apparmor::diag::FileId;
use apparmor::policy::parse::{Mode, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for mode in [Mode::Policy, Mode::Fragment] {
        let p = parse(&text, FileId(0), mode);
        if p.is_ok() {
            let again = parse(&p.ast.to_string(), FileId(0), mode);
            assert_eq!(again.ast, p.ast, "round trip differs");
        }
    }
    let _ = apparmor::policy::edit::set_profile_mode(&text, "a", Some("complain"));
});
