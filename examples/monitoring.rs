//! A monitoring probe with the library alone (no command-line feature): loaded profiles
//! counted by namespace-less mode, and processes counted by the mode of their label, as
//! `KEY VALUE` lines a collector can scrape.
//!
//! ```text
//! cargo run --no-default-features --example monitoring -- --root testdata/systems/debian12-vm
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use apparmor::system::{ProcessScan, System};
use std::collections::BTreeMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sys = match args.as_slice() {
        [] => System::host(),
        [flag, dir] if flag == "--root" => System::with_root(dir),
        _ => {
            eprintln!("usage: monitoring [--root DIR]");
            return ExitCode::from(2);
        }
    };
    let list = match sys.profiles() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut profiles: BTreeMap<String, usize> = BTreeMap::new();
    for (_, mode) in list.profiles() {
        *profiles.entry(mode.as_str().to_owned()).or_default() += 1;
    }
    let scan = ProcessScan {
        exe: false,
        comm: false,
        skip_unlabelled: true,
        ..ProcessScan::default()
    };
    let mut processes: BTreeMap<String, usize> = BTreeMap::new();
    for p in sys.processes(&scan).unwrap_or_default() {
        let mode = match p.label() {
            Some(Ok(l)) => l.mode().map_or("unconfined", |m| m.as_str()).to_owned(),
            _ => "unknown".to_owned(),
        };
        *processes.entry(mode).or_default() += 1;
    }
    for (mode, n) in &profiles {
        println!("profiles{{mode=\"{mode}\"}} {n}");
    }
    for (mode, n) in &processes {
        println!("processes{{mode=\"{mode}\"}} {n}");
    }
    ExitCode::SUCCESS
}
