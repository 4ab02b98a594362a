//! Exit statuses and the one map from a command's outcome to its status and messages.

use super::output::{OutputState, write_failure};
use std::io::Write;

/// Exit status of `aactl` (documented in aactl(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything worked; nothing invalid was found.
    Success = 0,
    /// The command ran but found a problem (an invalid profile, a failed load).
    Failure = 1,
    /// Usage error, the input could not be read, or standard output could not be written.
    Error = 2,
}

impl Exit {
    /// The status of a panic (a bug, never input), as upstream's internal error.
    pub const PANIC: u8 = 42;

    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// An error that stops a subcommand; printed once, then mapped to [`Exit::Error`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);

impl CliError {
    /// Wraps any error, keeping its chain of causes in the message, each cause once
    /// ([`crate::error::chain`]).
    pub fn from_error(e: &(dyn std::error::Error + 'static)) -> Self {
        CliError(crate::error::chain(e))
    }
}

impl From<crate::inspect::InspectError> for CliError {
    fn from(e: crate::inspect::InspectError) -> Self {
        CliError::from_error(&e)
    }
}

/// The exit status of a command that returned `result` and wrote standard output with the
/// outcome `out`, after printing to `err` (prefixed with `tool: `) the command's error and,
/// when standard output failed for a reason other than EPIPE, the one message saying so.
/// A reader that went away (EPIPE) changes nothing: the command's own status stands.
pub fn conclude(
    tool: &str,
    result: Result<Exit, CliError>,
    out: OutputState,
    err: &mut dyn Write,
) -> u8 {
    let mut code = match result {
        Ok(exit) => exit,
        Err(e) => {
            let _ = writeln!(err, "{tool}: {}", crate::escape::escape_str(&e.0));
            Exit::Error
        }
    };
    if let OutputState::Failed(e) = out {
        let _ = writeln!(err, "{tool}: {}", write_failure(&e));
        code = Exit::Error;
    }
    code.code()
}
