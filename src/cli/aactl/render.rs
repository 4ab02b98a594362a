//! Small text helpers shared by the subcommands' renderers, and their writes to standard
//! output.

use super::CliError;
use crate::cli::Io;
use crate::escape::escape_str;
use crate::label::Mode;

/// An escaped optional string, `-` when absent.
pub(super) fn opt(s: Option<&str>) -> String {
    s.map(|s| escape_str(s).into_owned())
        .unwrap_or_else(|| "-".to_owned())
}

/// An optional mode word, `-` when absent.
pub(super) fn mode_word(m: Option<&Mode>) -> String {
    m.map(|m| escape_str(m.as_str()).into_owned())
        .unwrap_or_else(|| "-".to_owned())
}

/// `s` with trailing spaces removed from every line.
pub(super) fn trim_lines(s: &str) -> String {
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

/// Writes `value` as pretty JSON and a newline, then flushes.
///
/// # Errors
/// See [`finish_output`].
pub(super) fn write_json<T: serde::Serialize>(io: &mut Io<'_>, value: &T) -> Result<(), CliError> {
    let written = serde_json::to_writer_pretty(&mut *io.out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(io.out));
    finish_output(io, written)
}

/// Writes `text` and a newline, then flushes.
///
/// # Errors
/// See [`finish_output`].
pub(super) fn line(io: &mut Io<'_>, text: &str) -> Result<(), CliError> {
    let written = writeln!(io.out, "{text}");
    finish_output(io, written)
}

/// The end of a command's output: flushes it. A write error needs no handling here: the
/// subcommand's [`crate::cli::Output`] keeps the first one, and `aactl`'s exit status and
/// message come from it (EPIPE quietly, anything else "cannot write to standard output").
///
/// # Errors
/// None today; the type keeps the call sites uniform.
pub(super) fn finish_output(io: &mut Io<'_>, written: std::io::Result<()>) -> Result<(), CliError> {
    let _ = written.and_then(|()| io.out.flush());
    Ok(())
}
