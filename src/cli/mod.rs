//! Command-line front ends: `aa-status` ([`status`]) and `aactl` ([`aactl`]).
//!
//! This is the only part of the crate that knows about argv, bytes on screen
//! and exit codes. Each tool exposes `run(args, &mut Io) -> u8` for tests and a
//! `main() -> ExitCode` for its binary shim in `bin/`.

use std::io::Write;

pub mod aactl;
pub mod status;

/// Where a command writes: standard output and standard error, or buffers in tests.
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
}

impl<'a> Io<'a> {
    /// Bundles two writers.
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write) -> Self {
        Io { out, err }
    }
}

/// Runs `f` against locked, buffered stdout and stderr and turns its status
/// into an [`std::process::ExitCode`]. A panic (a bug, never input) exits 42
/// like upstream's internal error; a closed stdout (EPIPE) is not an error.
pub fn run_main(
    f: impl FnOnce(&mut Io<'_>) -> u8 + std::panic::UnwindSafe,
) -> std::process::ExitCode {
    let result = std::panic::catch_unwind(move || {
        let stdout = std::io::stdout();
        let stderr = std::io::stderr();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let mut err = stderr.lock();
        let code = {
            let mut io = Io::new(&mut out, &mut err);
            f(&mut io)
        };
        // A reader that went away (`aa-status | head`) is not our failure.
        let _ = out.flush();
        code
    });
    std::process::ExitCode::from(result.unwrap_or(42))
}
