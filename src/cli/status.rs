//! `aa-status`: a drop-in replacement for upstream AppArmor 6.0's aa-status(8).

use super::Io;
use std::ffi::OsString;

/// Runs aa-status with `args` (argv, including argv\[0\]) and returns the exit status.
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> u8 {
    let _ = (args, io);
    42
}

/// Entry point of the `aa-status` binary.
pub fn main() -> std::process::ExitCode {
    super::run_main(|io| run(std::env::args_os().collect(), io))
}
