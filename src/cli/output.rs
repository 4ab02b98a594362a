//! Standard output and its failure policy, the same for every subcommand.
//!
//! A subcommand writes through an [`Output`], which remembers the first write error and
//! refuses later writes, so a subcommand need not check each write. When it is done,
//! [`Output::finish`] flushes and says what happened: a reader that went away (EPIPE, as in
//! `aactl ps | head -1`) ends the output quietly; any other error (ENOSPC on `> /dev/full`)
//! becomes one message, [`write_failure`], and exit status 2 (see [`super::Exit`]).

use std::io::{self, Write};

/// A writer over standard output that records its first error.
pub struct Output<'a> {
    inner: &'a mut dyn Write,
    failed: Option<io::Error>,
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
