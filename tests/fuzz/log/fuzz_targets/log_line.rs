//! Fuzz target: any bytes through the line parser, the streaming reader
//! (with grouping and continuation lines) and every renderer. Must never
//! panic, and text output must never carry a control byte.
//!
//! Build (stable): `cargo build --manifest-path tests/fuzz/log/Cargo.toml`;
//! run with coverage: `cargo fuzz run log_line` from tests/fuzz/log (nightly).
#![no_main]

use apparmor::log::reader::{BufReadLines, LogReader, ReaderOptions};
use apparmor::log::render::{test_multi, text_line, to_json};
use apparmor::log::{ParsedLine, parse_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = parse_line(data);
    let _ = test_multi(&p);
    if let ParsedLine::AppArmor(r) = &p {
        let _ = to_json(r).to_string();
        let _ = text_line(r);
    }
    let opts = ReaderOptions {
        keep_invalid: true,
        max_line: 4096,
        ..ReaderOptions::default()
    };
    for rec in LogReader::new(BufReadLines::new(data, "fuzz"), opts).flatten() {
        let t = text_line(&rec);
        assert!(!t.bytes().any(|b| b < 0x20 || b == 0x7f));
        let _ = to_json(&rec).to_string();
    }
});
