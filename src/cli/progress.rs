//! Progress of long work on standard error (indicatif), only when standard error is a
//! terminal: a bar of bytes for a large log file, of files for a check over many files.
//! Never drawn otherwise (a pipe, a file, a test), and the commands do not ask for one when
//! they print JSON. The bar is cleared when the work is done.

use super::Term;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A log file at least this large (bytes on disk) gets a progress bar.
pub const LOG_BYTES: u64 = 16 << 20;

/// A check of at least this many files gets a progress bar.
pub const CHECK_FILES: usize = 50;

/// A progress bar, or nothing when none is drawn.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// No bar.
    pub fn none() -> Progress {
        Progress(None)
    }

    /// A bar for reading `what`, `size` bytes on disk (`compressed`: the bytes read are more
    /// than that, so only a count is shown), when `term` says standard error is a terminal
    /// and the file is at least [`LOG_BYTES`].
    pub fn log_file(term: &Term, what: &str, size: u64, compressed: bool) -> Progress {
        if !term.err_tty || size < LOG_BYTES {
            return Progress::none();
        }
        let bar = if compressed {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{msg} {spinner} {bytes} read ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b
        } else {
            let b = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta} left)")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b
        };
        bar.set_message(format!("reading {what}"));
        Progress(Some(bar))
    }

    /// A bar for checking `files` files, when `term` says standard error is a terminal and
    /// there are at least [`CHECK_FILES`].
    pub fn files(term: &Term, files: usize) -> Progress {
        if !term.err_tty || files < CHECK_FILES {
            return Progress::none();
        }
        let b = ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("checking [{bar:30}] {pos}/{len} files ({eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Progress(Some(b))
    }

    /// Moves the bar to `pos` (bytes or files done).
    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.0 {
            b.set_position(pos);
        }
    }

    /// Runs `f` with the bar hidden (for output to the same terminal).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// Clears the bar.
    pub fn finish(self) {
        if let Some(b) = self.0 {
            b.finish_and_clear();
        }
    }
}
