//! What a container runtime asks of AppArmor, with the library alone (no command-line
//! feature): is AppArmor usable, is profile X loaded and in which mode, what confines a
//! pid, (with `--load FILE`) load a profile file through `apparmor_parser`, and (with
//! `--exec PROFILE -- COMMAND…`) start a child under a profile ([`apparmor::runtime`]).
//!
//! ```text
//! cargo run --no-default-features --example container_runtime -- \
//!     --root testdata/systems/debian12-vm man_filter 1
//! container_runtime --exec my-profile -- /usr/bin/cat /proc/self/attr/current
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use apparmor::loader::{Action, Loader, Parser, SystemRunner, find_parser_from_env};
use apparmor::runtime;
use apparmor::system::{Enabled, ProcessScan, System};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let mut sys = System::host();
    let mut load: Option<PathBuf> = None;
    let mut exec: Option<String> = None;
    let mut rest = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--root" => sys = System::with_root(args.next().unwrap_or_default()),
            "--load" => load = args.next().map(PathBuf::from),
            "--exec" => exec = args.next(),
            "--" => break,
            _ => rest.push(a),
        }
    }
    let command: Vec<String> = args.collect();

    // 0. Start a child under a profile; this process keeps its own label.
    if let Some(profile) = exec {
        let Some((program, argv)) = command.split_first() else {
            eprintln!("--exec PROFILE needs -- COMMAND");
            return ExitCode::from(2);
        };
        let mut cmd = std::process::Command::new(program);
        cmd.args(argv);
        let status = match runtime::spawn_under(&mut cmd, &profile, false) {
            Ok(mut child) => child.wait(),
            Err(e) => {
                eprintln!("{}", apparmor::error::chain(&e));
                return ExitCode::from(1);
            }
        };
        match runtime::pid_label(&sys, std::process::id()) {
            Ok(label) => println!("parent: {label}"),
            Err(e) => println!("parent: {}", apparmor::error::chain(&e)),
        }
        return match status {
            Ok(s) if s.success() => ExitCode::SUCCESS,
            _ => ExitCode::from(1),
        };
    }
    let profile = rest.first().cloned();
    let pid: Option<u32> = rest.get(1).and_then(|p| p.parse().ok());

    // 1. Is AppArmor enabled and its policy interface mounted?
    match sys.enabled() {
        Enabled::Yes => println!("apparmor: enabled"),
        other => {
            let why = match other {
                Enabled::NotAvailable => "the kernel has no AppArmor",
                Enabled::DisabledAtBoot => "disabled at boot",
                Enabled::NoPolicyInterface => "securityfs is not mounted",
                Enabled::NoPermission => "no permission to read its state",
                Enabled::PrivateOnly => "only private interfaces exist",
                _ => "unknown reason",
            };
            println!("apparmor: not usable: {why}");
            return ExitCode::from(1);
        }
    }

    // 2. Is the profile loaded, and in which mode?
    if let Some(profile) = &profile {
        match sys.profiles() {
            Ok(list) => match list.profiles().find(|(name, _)| name == profile) {
                Some((_, mode)) => println!("profile {profile}: loaded, {}", mode.as_str()),
                None => println!("profile {profile}: not loaded"),
            },
            Err(e) => {
                eprintln!("cannot read the loaded profiles: {e}");
                return ExitCode::from(2);
            }
        }
    }

    // 3. The confinement of a pid.
    if let Some(pid) = pid {
        let scan = ProcessScan {
            exe: false,
            comm: false,
            ..ProcessScan::default()
        };
        match sys.processes(&scan) {
            Ok(ps) => match ps.iter().find(|p| p.pid == pid).and_then(|p| p.label()) {
                Some(Ok(label)) => println!(
                    "pid {pid}: {} ({})",
                    label.name(),
                    label.mode().map_or("unconfined", |m| m.as_str())
                ),
                Some(Err(e)) => println!("pid {pid}: label not readable as AppArmor's ({e})"),
                None => println!("pid {pid}: no such process, or no label"),
            },
            Err(e) => eprintln!("cannot list processes: {e}"),
        }
    }

    // 4. Load (replace) a profile file.
    if let Some(file) = load {
        let parser = match find_parser_from_env() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        let mut loader = Loader::new(Parser::new(parser), SystemRunner);
        match loader.run_file(Action::Replace, &file) {
            Ok(report) if report.ok() => println!("loaded {}", file.display()),
            Ok(report) => {
                for e in &report.errors {
                    println!("load failed: {e}");
                }
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
