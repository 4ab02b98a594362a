//! Command-line front ends: `aa-status` ([`aa_status`]) and `aactl` ([`aactl`]).
//!
//! This is the only part of the crate that knows about argv, bytes on screen
//! and exit codes. Each tool exposes `run(args, &mut Io) -> u8` for tests and a
//! `main() -> ExitCode` for its binary shim in `bin/`.

use std::io::Write;

pub mod aa_status;
pub mod aactl;
pub mod exit;
pub mod output;
pub mod progress;
pub mod table;

pub use exit::{CliError, Exit};
pub use output::{Output, OutputState, Term};

/// Where a command writes: standard output and standard error, or buffers in tests.
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// How standard output is shown (width, colour); [`Term::plain`] until the command line
    /// is read.
    pub term: Term,
    /// Set by [`run_main`], which then reports a failed standard output itself (the tools
    /// leave it to it, so that the message is printed once).
    caller_reports_stdout: bool,
    /// The zone times are read and shown in; `None`: the host's
    /// ([`jiff::tz::TimeZone::system`]: `TZ`, else /etc/localtime).
    time_zone: Option<jiff::tz::TimeZone>,
}

impl<'a> Io<'a> {
    /// Bundles two writers.
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write) -> Self {
        Io {
            out,
            err,
            term: Term::plain(),
            caller_reports_stdout: false,
            time_zone: None,
        }
    }

    /// Reads and shows times in `tz` instead of the host's zone (tests, and
    /// callers that run the tools in process for another zone).
    pub fn with_time_zone(mut self, tz: jiff::tz::TimeZone) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// The zone times are read and shown in: the one given to
    /// [`Io::with_time_zone`], else the host's.
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        self.time_zone
            .clone()
            .unwrap_or_else(jiff::tz::TimeZone::system)
    }
}

/// Runs `f` against locked, buffered stdout and stderr and turns its status
/// into an [`std::process::ExitCode`]. A panic (a bug, never input) exits
/// [`Exit::PANIC`] like upstream's internal error. A closed stdout (EPIPE) at the final
/// flush is not an error; any other error there is reported once as `TOOL: cannot write to
/// standard output: REASON` and exits [`Exit::Error`].
pub fn run_main(
    tool: &'static str,
    f: impl FnOnce(&mut Io<'_>) -> u8 + std::panic::UnwindSafe,
) -> std::process::ExitCode {
    let result = std::panic::catch_unwind(move || {
        let stdout = std::io::stdout();
        let stderr = std::io::stderr();
        let mut buffered = std::io::BufWriter::new(stdout.lock());
        let mut out = Output::new(&mut buffered);
        let mut err = stderr.lock();
        let code = {
            let mut io = Io::new(&mut out, &mut err);
            io.caller_reports_stdout = true;
            f(&mut io)
        };
        match out.finish() {
            OutputState::Failed(e) => {
                let _ = writeln!(err, "{tool}: {}", output::write_failure(&e));
                Exit::Error.code()
            }
            OutputState::Written | OutputState::Closed => code,
        }
    });
    std::process::ExitCode::from(result.unwrap_or(Exit::PANIC))
}
