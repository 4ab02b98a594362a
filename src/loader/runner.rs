//! Running parser commands and kernel-interface writes: the real thing
//! ([`SystemRunner`]) or a recording fake ([`RecordingRunner`]) for tests and dry runs.

use super::ParserCommand;
use serde::Serialize;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "how", content = "value", rename_all = "lowercase")]
pub enum Termination {
    /// Normal exit with this status (0–255).
    Exited(i32),
    /// Killed by this signal number.
    Signaled(i32),
}

/// What a finished parser run left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawOutput {
    /// How it ended.
    pub termination: Termination,
    /// Standard output bytes.
    pub stdout: Vec<u8>,
    /// Standard error bytes.
    pub stderr: Vec<u8>,
}

impl RawOutput {
    /// A normal exit with the given status and texts (tests and fakes).
    pub fn exited(code: i32, stdout: &str, stderr: &str) -> Self {
        RawOutput {
            termination: Termination::Exited(code),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
        }
    }
}

/// Executes loader effects. The loader never spawns or writes the kernel
/// interface except through this trait.
pub trait Runner {
    /// Runs `cmd` to completion, capturing stdout and stderr.
    ///
    /// # Errors
    /// The OS error when the program cannot be started.
    fn run(&mut self, cmd: &ParserCommand) -> std::io::Result<RawOutput>;

    /// Writes `data` to the kernel interface file `path` (e.g. `<apparmorfs>/.remove`)
    /// in one `write()` on a fresh file descriptor, as the kernel requires.
    ///
    /// # Errors
    /// The OS error (its errno is what the kernel said).
    fn kernel_write(&mut self, path: &Path, data: &[u8]) -> std::io::Result<()>;

    /// Runs `cmd` like [`Runner::run`] but within `bounds`, for a short query
    /// whose answer is only glanced at (`--version`): at most
    /// `bounds.max_stdout` bytes of standard output are kept (the pipe is
    /// then closed), standard error is discarded, and a process still running
    /// after `bounds.timeout` is killed. The default implementation is
    /// [`Runner::run`] (fakes answer at once).
    ///
    /// # Errors
    /// The OS error when the program cannot be started;
    /// [`std::io::ErrorKind::TimedOut`] when it did not finish in time.
    fn run_bounded(&mut self, cmd: &ParserCommand, bounds: Bounds) -> std::io::Result<RawOutput> {
        let _ = bounds;
        self.run(cmd)
    }
}

/// Limits of [`Runner::run_bounded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// How long to wait for the process to exit before killing it.
    pub timeout: Duration,
    /// Standard output bytes kept; the rest is never read.
    pub max_stdout: usize,
}

/// Runs real processes with [`std::process::Command`] (never a shell) and writes
/// real files.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRunner;

impl Runner for SystemRunner {
    fn run(&mut self, cmd: &ParserCommand) -> std::io::Result<RawOutput> {
        let out = cmd.to_command().output()?;
        Ok(RawOutput {
            termination: termination_of(out.status),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    fn run_bounded(&mut self, cmd: &ParserCommand, bounds: Bounds) -> std::io::Result<RawOutput> {
        use std::io::Read;
        use std::process::Stdio;
        let mut child = cmd
            .to_command()
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(out) = child.stdout.take() {
            let limit = u64::try_from(bounds.max_stdout).unwrap_or(u64::MAX);
            // A reader thread, so that a process that never closes its output
            // cannot block us: it is left behind (and ends with the pipe) when
            // the time is up.
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = out.take(limit).read_to_end(&mut buf);
                let _ = tx.send(buf);
            });
        } else {
            drop(tx);
        }
        let deadline = Instant::now() + bounds.timeout;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("did not finish within {} s", bounds.timeout.as_secs_f32()),
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        // The process has exited; a child it left behind may still hold the
        // pipe open, so the output is waited for only until the deadline.
        let wait = deadline.saturating_duration_since(Instant::now());
        let stdout = rx.recv_timeout(wait).unwrap_or_default();
        Ok(RawOutput {
            termination: termination_of(status),
            stdout,
            stderr: Vec::new(),
        })
    }

    fn kernel_write(&mut self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        // Never through a symlink, never blocking on a FIFO: a securityfs file, or a
        // regular file in a fake tree.
        let mut f = crate::system::fs::open_control(path)?;
        let n = f.write(data)?;
        if n != data.len() {
            // libapparmor treats a short write as EPROTO.
            return Err(std::io::Error::from_raw_os_error(71));
        }
        Ok(())
    }
}

/// How a finished process ended, from its wait status.
fn termination_of(status: std::process::ExitStatus) -> Termination {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => Termination::Exited(c),
        (None, Some(s)) => Termination::Signaled(s),
        (None, None) => Termination::Exited(-1),
    }
}

/// One effect seen by a [`RecordingRunner`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Recorded {
    /// A parser command.
    Run {
        /// The command.
        command: ParserCommand,
    },
    /// A kernel-interface write.
    KernelWrite {
        /// The interface file.
        path: PathBuf,
        /// The bytes (lossy UTF-8 for display; names end with a NUL).
        data: Vec<u8>,
    },
}

/// A fake that records every effect and answers from a script: each run pops the
/// next queued [`RawOutput`] (default: exit 0, no output); each kernel write pops
/// the next queued errno (`None` = success). Used for `--dry-run` and in tests.
#[derive(Debug, Default)]
pub struct RecordingRunner {
    /// Every effect, in order.
    pub recorded: Vec<Recorded>,
    /// Answers for the next runs.
    pub outputs: VecDeque<RawOutput>,
    /// Answers for the next kernel writes (`Some(errno)` fails).
    pub write_results: VecDeque<Option<i32>>,
}

impl RecordingRunner {
    /// An empty recorder that answers success to everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues the answer of the next run.
    pub fn then(mut self, out: RawOutput) -> Self {
        self.outputs.push_back(out);
        self
    }

    /// The commands recorded so far.
    pub fn commands(&self) -> Vec<&ParserCommand> {
        self.recorded
            .iter()
            .filter_map(|r| match r {
                Recorded::Run { command } => Some(command),
                Recorded::KernelWrite { .. } => None,
            })
            .collect()
    }
}

impl Runner for RecordingRunner {
    fn run(&mut self, cmd: &ParserCommand) -> std::io::Result<RawOutput> {
        self.recorded.push(Recorded::Run {
            command: cmd.clone(),
        });
        Ok(self
            .outputs
            .pop_front()
            .unwrap_or_else(|| RawOutput::exited(0, "", "")))
    }

    fn kernel_write(&mut self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.recorded.push(Recorded::KernelWrite {
            path: path.to_owned(),
            data: data.to_vec(),
        });
        match self.write_results.pop_front().flatten() {
            Some(errno) => Err(std::io::Error::from_raw_os_error(errno)),
            None => Ok(()),
        }
    }
}

/// The conventional name of a Linux signal number (`SIGTERM`), or `unknown`.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => "unknown",
    }
}
