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

/// A line of prose fitted to `term`'s width: cut at spaces (or `/`) into lines, the later
/// ones indented by two spaces; as is without a width.
pub(super) fn prose(term: &crate::cli::Term, text: &str) -> String {
    hanging(term.width, text, 2)
}

/// `text` cut into lines of at most `width` columns, every line after the first indented by
/// `indent` spaces; as is without a width.
pub(super) fn hanging(width: Option<usize>, text: &str, indent: usize) -> String {
    use crate::cli::table::{width as cols, wrap};
    let Some(w) = width else {
        return text.to_owned();
    };
    if cols(text) <= w {
        return text.to_owned();
    }
    let first = wrap(text, w);
    let mut lines = vec![first[0].clone()];
    let rest = text[first[0].len()..].trim_start_matches(' ');
    let pad = " ".repeat(indent);
    for l in wrap(rest, w.saturating_sub(indent)) {
        lines.push(format!("{pad}{l}"));
    }
    lines.join("\n")
}

/// A record's text line for `term`, its time in `tz`: with a width, cut at spaces into lines of that width,
/// the later ones indented by four spaces; the event word coloured when colouring.
pub(super) fn record_line(
    term: &crate::cli::Term,
    r: &crate::log::Record,
    tz: &jiff::tz::TimeZone,
) -> String {
    let line = crate::log::render::text_line_in(r, tz);
    let event = r.event.as_kernel_name();
    let mut text = hanging(term.width, &line, 4);
    if term.color
        && let Some(sp) = text.find(' ')
        && text[sp + 1..].starts_with(event)
    {
        let style = crate::cli::table::event_style(event);
        let painted = crate::cli::output::paint(true, style, event);
        text.replace_range(sp + 1..sp + 1 + event.len(), &painted);
    }
    text
}

/// Writes `value` as pretty JSON and a newline, then flushes.
///
/// # Errors
/// See [`finish_output`].
pub(super) fn write_json<T: serde::Serialize>(io: &mut Io<'_>, value: &T) -> Result<(), CliError> {
    // serde_json writes token by token: a local buffer spares each piece the way through
    // the output's layers (a 20,000-process document in some 50,000 writes)
    let written = {
        use std::io::Write;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut *io.out);
        serde_json::to_writer_pretty(&mut w, value)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(w))
            .and_then(|()| w.flush())
    };
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
