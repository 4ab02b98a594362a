//! Standard output and its failure policy, the same for every subcommand.
//!
//! A subcommand writes through an [`Output`], which remembers the first write error and
//! refuses later writes, so a subcommand need not check each write. When it is done,
//! [`Output::finish`] flushes and says what happened: a reader that went away (EPIPE, as in
//! `aactl ps | head -1`) ends the output quietly; any other error (ENOSPC on `> /dev/full`)
//! becomes one message, [`write_failure`], and exit status 2 (see [`super::Exit`]).
//!
//! This module also decides how standard output is shown ([`Term`], carried to the
//! subcommands in [`super::Io::term`]): how wide a table may be and whether it is coloured.
//! The decision is made once, in [`Term::resolve`], for every subcommand:
//!
//! - width: none with `--wide`; else `COLUMNS` when it is set to a number (on a pipe too, so
//!   a script can ask for a width); else the terminal's width when standard output is a
//!   terminal; else none: a pipe or a file gets full lines.
//! - colour: `--color always` colours; `--color never` does not; `--color auto` (the
//!   default) colours only a terminal, and not when `NO_COLOR` is set to a non-empty value
//!   or `TERM` is `dumb`. Standard error (diagnostics, progress) is decided the same way on
//!   its own terminal.

use std::io::{self, Write};

/// A writer over standard output that records its first error.
pub struct Output<'a> {
    inner: &'a mut dyn Write,
    failed: Option<io::Error>,
}

/// `--color`: when to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour a terminal unless `NO_COLOR` is set (non-empty) or `TERM=dumb`.
    #[default]
    Auto,
    /// Always colour (an explicit request beats `NO_COLOR`).
    Always,
    /// Never colour.
    Never,
}

impl std::str::FromStr for ColorChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ColorChoice::Auto),
            "always" => Ok(ColorChoice::Always),
            "never" => Ok(ColorChoice::Never),
            _ => Err(format!("'{s}' is not auto, always or never")),
        }
    }
}

/// What is known about the place output is shown: how wide lines may be and whether to
/// colour. [`Term::plain`] (no width limit, no colour) is what a buffer or pipe gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Term {
    /// Columns a line of standard output may take (display width); `None`: no limit.
    pub width: Option<usize>,
    /// Colour standard output (ANSI SGR sequences).
    pub color: bool,
    /// Standard output is a terminal.
    pub out_tty: bool,
    /// Colour standard error (diagnostics).
    pub err_color: bool,
    /// Standard error is a terminal (progress bars are drawn only then).
    pub err_tty: bool,
}

/// The facts [`Term::resolve`] decides from, gathered by [`Facts::probe`] (or made up in
/// tests).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Standard output is a terminal.
    pub out_tty: bool,
    /// Standard error is a terminal.
    pub err_tty: bool,
    /// The width of standard output's terminal, in columns, when known.
    pub tty_width: Option<usize>,
    /// `COLUMNS`, when set.
    pub columns: Option<String>,
    /// `NO_COLOR`, when set.
    pub no_color: Option<String>,
    /// `TERM`, when set.
    pub term: Option<String>,
}

/// Narrowest width a table is fitted to; a smaller `COLUMNS` is taken as this.
pub const MIN_WIDTH: usize = 40;

impl Facts {
    /// The facts of this process: its standard output and error, and its environment.
    pub fn probe() -> Facts {
        use std::io::IsTerminal;
        let env = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
        let out_tty = io::stdout().is_terminal();
        Facts {
            out_tty,
            err_tty: io::stderr().is_terminal(),
            tty_width: if out_tty {
                terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0))
            } else {
                None
            },
            columns: env("COLUMNS"),
            no_color: env("NO_COLOR"),
            term: env("TERM"),
        }
    }
}

impl Term {
    /// No width limit and no colour.
    pub fn plain() -> Term {
        Term::default()
    }

    /// Decides width and colour (the rules are in this module's documentation).
    pub fn resolve(choice: ColorChoice, wide: bool, f: &Facts) -> Term {
        let columns = f
            .columns
            .as_deref()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&c| c > 0);
        let width = if wide {
            None
        } else if let Some(c) = columns {
            Some(c.max(MIN_WIDTH))
        } else if f.out_tty {
            f.tty_width.filter(|&w| w > 0).map(|w| w.max(MIN_WIDTH))
        } else {
            None
        };
        let quiet = f.no_color.as_deref().is_some_and(|v| !v.is_empty())
            || f.term.as_deref() == Some("dumb");
        let colour = |tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !quiet,
        };
        Term {
            width,
            color: colour(f.out_tty),
            out_tty: f.out_tty,
            err_color: colour(f.err_tty),
            err_tty: f.err_tty,
        }
    }

    /// `text` in `style` when colouring standard output, else `text` as is.
    pub fn paint(&self, style: anstyle::Style, text: &str) -> String {
        paint(self.color, style, text)
    }
}

/// `text` in `style` when `on`, else `text` as is.
pub fn paint(on: bool, style: anstyle::Style, text: &str) -> String {
    if on && style != anstyle::Style::new() && !text.is_empty() {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

/// How writing standard output went.
#[derive(Debug)]
pub enum OutputState {
    /// Everything was written and flushed.
    Written,
    /// The reader went away (EPIPE): not a failure of the command.
    Closed,
    /// Another write error: reported once, exit status 2.
    Failed(io::Error),
}

impl<'a> Output<'a> {
    /// Wraps `inner` (standard output, or a buffer in tests).
    pub fn new(inner: &'a mut dyn Write) -> Self {
        Output {
            inner,
            failed: None,
        }
    }

    /// The error for a write after the first failure: the same kind and errno.
    fn again(&self) -> Option<io::Error> {
        self.failed.as_ref().map(same)
    }

    fn record<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        match r {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                let again = same(&e);
                self.failed.get_or_insert(e);
                Err(again)
            }
            other => other,
        }
    }

    /// Flushes, then says how writing went.
    pub fn finish(mut self) -> OutputState {
        let _ = self.flush();
        match self.failed {
            None => OutputState::Written,
            Some(e) if e.kind() == io::ErrorKind::BrokenPipe => OutputState::Closed,
            Some(e) => OutputState::Failed(e),
        }
    }
}

impl Write for Output<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(e) = self.again() {
            return Err(e);
        }
        let r = self.inner.write(buf);
        self.record(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.again() {
            return Err(e);
        }
        let r = self.inner.flush();
        self.record(r)
    }
}

/// The one message for a failed standard output (without the tool's prefix).
pub fn write_failure(e: &io::Error) -> String {
    format!(
        "cannot write to standard output: {}",
        crate::error::chain(e)
    )
}

/// An error of the same kind and errno as `e` (an `io::Error` cannot be cloned).
fn same(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(n) => io::Error::from_raw_os_error(n),
        None => io::Error::from(e.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn width_and_colour() {
        let tty = Facts {
            out_tty: true,
            err_tty: true,
            tty_width: Some(80),
            ..Facts::default()
        };
        let t = Term::resolve(ColorChoice::Auto, false, &tty);
        assert_eq!((t.width, t.color, t.err_color), (Some(80), true, true));
        assert_eq!(Term::resolve(ColorChoice::Auto, true, &tty).width, None);
        let no_color = Facts {
            no_color: Some("1".into()),
            ..tty.clone()
        };
        assert!(!Term::resolve(ColorChoice::Auto, false, &no_color).color);
        assert!(Term::resolve(ColorChoice::Always, false, &no_color).color);
        let empty = Facts {
            no_color: Some(String::new()),
            ..tty.clone()
        };
        assert!(Term::resolve(ColorChoice::Auto, false, &empty).color);
        assert!(!Term::resolve(ColorChoice::Never, false, &tty).color);
        let pipe = Facts::default();
        let t = Term::resolve(ColorChoice::Auto, false, &pipe);
        assert_eq!((t.width, t.color), (None, false));
        let cols = Facts {
            columns: Some("100".into()),
            ..Facts::default()
        };
        assert_eq!(
            Term::resolve(ColorChoice::Auto, false, &cols).width,
            Some(100)
        );
        let tiny = Facts {
            columns: Some("10".into()),
            ..Facts::default()
        };
        assert_eq!(
            Term::resolve(ColorChoice::Auto, false, &tiny).width,
            Some(MIN_WIDTH)
        );
    }

    #[test]
    fn first_error_wins() {
        let mut full = Full;
        let mut o = Output::new(&mut full);
        assert!(writeln!(o, "x").is_err());
        assert!(writeln!(o, "y").is_err());
        match o.finish() {
            OutputState::Failed(e) => assert_eq!(
                write_failure(&e),
                "cannot write to standard output: No space left on device"
            ),
            s => panic!("{s:?}"),
        }
        let mut closed = Closed;
        let mut o = Output::new(&mut closed);
        let _ = writeln!(o, "x");
        assert!(matches!(o.finish(), OutputState::Closed));
        let mut v = Vec::new();
        let mut o = Output::new(&mut v);
        writeln!(o, "x").unwrap();
        assert!(matches!(o.finish(), OutputState::Written));
        assert_eq!(v, b"x\n");
    }
}
