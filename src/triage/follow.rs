//! `--follow`: line sources that keep reading as a log grows.
//!
//! [`FollowFile`] follows a path the way `tail -F` does and survives
//! rotation: at the end of the file it checks the path
//! again; when the inode changed (logrotate moved the file and a new one
//! appeared) it finishes the old file's tail first and then reads the new
//! file from its start; while no file exists (the window between `mv` and
//! the new file) it waits instead of failing; when the file shrank
//! (`truncate`, `: > log`) it starts again at offset 0. Only complete lines
//! are returned; a line being written is kept until its newline arrives.
//!
//! [`FollowJournal`] runs `journalctl --follow -o json` (no shell) and, if
//! journalctl exits, starts it again after the last cursor seen, so no
//! entry is lost or repeated.
//!
//! Both stop when the shared stop flag is set (the CLI sets it on Ctrl-C);
//! the reader then ends normally and the caller prints its final summary.

use crate::log::reader::{LineMeta, LineSource, NextLine};
use crate::log::source::{JournalLines, JournalQuery, TrustedSenders, journal_entry};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The largest file whose existing lines are counted when following starts at its end
/// (1 GiB: about a second to read).
const COUNT_LINES_UP_TO: u64 = 1 << 30;

/// Follows a log file across rotation and truncation.
pub struct FollowFile {
    path: PathBuf,
    root: PathBuf,
    name: String,
    reader: Option<BufReader<File>>,
    ino: u64,
    pos: u64,
    from_start: bool,
    stop: Arc<AtomicBool>,
    /// How long to sleep at the end of the file before looking again.
    pub poll: Duration,
    line: u64,
    partial: Vec<u8>,
    skipping: bool,
    /// Times the file was found rotated (inode changed) and reopened.
    pub rotations: u64,
    /// Times the file was found truncated and read again from the start.
    pub truncations: u64,
}

impl FollowFile {
    /// Follows `path`. With `from_start` the existing content is read
    /// first; otherwise reading starts at the current end. A missing file
    /// is waited for.
    pub fn new(path: PathBuf, from_start: bool, stop: Arc<AtomicBool>) -> Self {
        FollowFile {
            name: path.display().to_string(),
            path,
            root: PathBuf::from("/"),
            reader: None,
            ino: 0,
            pos: 0,
            from_start,
            stop,
            poll: Duration::from_millis(200),
            line: 0,
            partial: Vec::new(),
            skipping: false,
            rotations: 0,
            truncations: 0,
        }
    }

    /// Resolves the path inside `root` (a snapshot or fake tree; see
    /// docs/trust.md): a symlink is taken from the root, never out of it.
    pub fn within(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = root.into();
        self
    }

    fn open(&mut self, at_end: bool) -> io::Result<()> {
        // following needs seeks and inodes: a directory, FIFO or device is
        // refused (the open does not block)
        let f = match crate::system::fs::open_read(&self.root, &self.path, false) {
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
                return Err(io::Error::other(format!(
                    "{e}; --follow needs one (pipe it to --file - instead)"
                )));
            }
            r => r?,
        };
        let md = f.metadata()?;
        let mut r = BufReader::with_capacity(64 << 10, f);
        // Line numbers name the line in the file: starting at the end, the lines
        // already there are counted first (up to COUNT_LINES_UP_TO bytes; past that
        // the numbers count from where following started).
        self.line = 0;
        self.pos = 0;
        if at_end && md.len() <= COUNT_LINES_UP_TO {
            // Counted up to where the reading stopped, which is where following starts:
            // a line appended meanwhile is read, not skipped.
            loop {
                let buf = r.fill_buf()?;
                if buf.is_empty() {
                    break;
                }
                let n = buf.len();
                self.line += memchr::memchr_iter(b'\n', buf).count() as u64;
                self.pos += n as u64;
                r.consume(n);
            }
        } else if at_end {
            self.pos = r.seek(SeekFrom::End(0))?;
        }
        self.ino = md.ino();
        self.reader = Some(r);
        Ok(())
    }

    /// Reads what is available up to a newline. `Ok(true)` when a complete
    /// line is in `partial`.
    fn fill(&mut self, max: usize) -> io::Result<bool> {
        let Some(r) = self.reader.as_mut() else {
            return Ok(false);
        };
        loop {
            let avail = match r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(false);
            }
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(p) => (p + 1, true),
                None => (avail.len(), false),
            };
            if !self.skipping {
                self.partial.extend_from_slice(&avail[..take]);
                if self.partial.len() > max + 1 {
                    self.partial.clear();
                    self.skipping = true;
                }
            }
            r.consume(take);
            self.pos += take as u64;
            if done {
                return Ok(true);
            }
        }
    }

    /// At the end of the current file: what happened to the path?
    fn path_state(&self) -> io::Result<PathState> {
        match crate::system::fs::stat(&self.root, &self.path) {
            Ok(md) if self.reader.is_none() || md.ino() != self.ino => Ok(PathState::Replaced),
            Ok(md) if md.len() < self.pos => Ok(PathState::Truncated),
            Ok(_) => Ok(PathState::Same),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(PathState::Missing),
            Err(e) => Err(e),
        }
    }

    fn emit(&mut self, buf: &mut Vec<u8>) -> NextLine {
        self.line += 1;
        let meta = LineMeta {
            line: self.line,
            ..LineMeta::default()
        };
        buf.clear();
        if self.skipping {
            self.skipping = false;
            self.partial.clear();
            return NextLine::Oversized(meta);
        }
        let mut l = std::mem::take(&mut self.partial);
        if l.last() == Some(&b'\n') {
            l.pop();
        }
        buf.extend_from_slice(&l);
        NextLine::Line(meta)
    }
}

enum PathState {
    Same,
    Truncated,
    Replaced,
    Missing,
}

impl LineSource for FollowFile {
    fn next_line(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<NextLine>> {
        if self.reader.is_none() && self.ino == 0 {
            match self.open(!self.from_start) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        loop {
            if self.fill(max)? {
                return Ok(Some(self.emit(buf)));
            }
            match self.path_state()? {
                PathState::Truncated => {
                    self.truncations += 1;
                    self.partial.clear();
                    self.skipping = false;
                    if let Some(r) = self.reader.as_mut() {
                        self.pos = r.seek(SeekFrom::Start(0))?;
                    }
                    self.line = 0;
                    continue;
                }
                PathState::Replaced => {
                    // drain what the writer added to the old file meanwhile
                    if self.fill(max)? {
                        return Ok(Some(self.emit(buf)));
                    }
                    let had_old = self.reader.is_some();
                    let tail = !self.partial.is_empty() || self.skipping;
                    let old_line = self.line;
                    match self.open(false) {
                        Ok(()) => {
                            if had_old {
                                self.rotations += 1;
                            }
                            if tail {
                                // the old file ended without a newline: its line
                                // number is the old file's
                                let new_line = self.line;
                                self.line = old_line;
                                let out = self.emit(buf);
                                self.line = new_line;
                                return Ok(Some(out));
                            }
                            continue;
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                PathState::Same | PathState::Missing => {}
            }
            if self.stop.load(Ordering::SeqCst) {
                return Ok(None);
            }
            std::thread::sleep(self.poll);
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Follows the journal with `journalctl --follow`, resuming by cursor.
pub struct FollowJournal {
    query: JournalQuery,
    root: PathBuf,
    stop: Arc<AtomicBool>,
    /// The running journalctl (shared with the watcher thread, which kills
    /// it when the stop flag is set: a read blocked on an idle journal
    /// must end even when journalctl itself ignores SIGINT).
    child: Arc<std::sync::Mutex<Option<Child>>>,
    out: Option<BufReader<ChildStdout>>,
    watcher: Option<std::thread::JoinHandle<()>>,
    done: Arc<AtomicBool>,
    json: Vec<u8>,
    index: u64,
    trusted: TrustedSenders,
    /// The cursor of the last entry read (where a restart resumes).
    pub cursor: Option<String>,
    /// How many times journalctl was (re)started.
    pub starts: u64,
}

impl FollowJournal {
    /// Follows the journal entries matching `query` on the host under `root`
    /// (whose `etc/passwd` names the bus daemon's account, see
    /// [`TrustedSenders::of_host`]).
    pub fn new(query: JournalQuery, root: PathBuf, stop: Arc<AtomicBool>) -> Self {
        FollowJournal {
            trusted: TrustedSenders::of_host(&root),
            cursor: query.after_cursor.clone(),
            query,
            root,
            stop,
            child: Arc::new(std::sync::Mutex::new(None)),
            out: None,
            watcher: None,
            done: Arc::new(AtomicBool::new(false)),
            json: Vec::new(),
            index: 0,
            starts: 0,
        }
    }

    /// The journalctl arguments for the next start (resuming after
    /// [`FollowJournal::cursor`]).
    pub fn args(&self) -> Vec<String> {
        let mut q = self.query.clone();
        if let Some(c) = &self.cursor {
            q.after_cursor = Some(c.clone());
            // the cursor replaces the time window of the first start
            q.since = None;
            q.boot = None;
        }
        q.follow = true;
        JournalLines::args(&q, &self.root)
    }

    fn start(&mut self) -> io::Result<()> {
        let mut child = Command::new("journalctl")
            .args(self.args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let out = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("journalctl: no stdout"))?;
        self.starts += 1;
        if let Ok(mut g) = self.child.lock() {
            *g = Some(child);
        }
        self.out = Some(BufReader::new(out));
        if self.watcher.is_none() {
            let (stop, done, child) = (self.stop.clone(), self.done.clone(), self.child.clone());
            self.watcher = Some(std::thread::spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    if stop.load(Ordering::SeqCst) {
                        if let Ok(mut g) = child.lock()
                            && let Some(c) = g.as_mut()
                        {
                            let _ = c.kill();
                        }
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }));
        }
        Ok(())
    }

    fn stop_child(&mut self) {
        self.out = None;
        let taken = self.child.lock().ok().and_then(|mut g| g.take());
        if let Some(mut c) = taken {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for FollowJournal {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        self.stop_child();
        if let Some(w) = self.watcher.take() {
            let _ = w.join();
        }
    }
}

impl LineSource for FollowJournal {
    fn next_line(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<NextLine>> {
        loop {
            if self.stop.load(Ordering::SeqCst) {
                self.stop_child();
                return Ok(None);
            }
            if self.out.is_none() {
                if self.starts > 0 {
                    std::thread::sleep(Duration::from_secs(1));
                    if self.stop.load(Ordering::SeqCst) {
                        return Ok(None);
                    }
                }
                self.start()?;
            }
            let Some(out) = self.out.as_mut() else {
                continue;
            };
            let mut json = std::mem::take(&mut self.json);
            let r = crate::log::reader::read_line_bounded(out, &mut json, max.saturating_mul(8));
            let r = match r {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    self.json = json;
                    continue;
                }
                Err(e) => {
                    self.json = json;
                    return Err(e);
                }
            };
            match r {
                None => {
                    // journalctl ended (killed by Ctrl-C, or journal rotated
                    // under it): restart after the last cursor
                    self.json = json;
                    self.stop_child();
                }
                Some(true) => {
                    self.json = json;
                    self.index += 1;
                    return Ok(Some(NextLine::Oversized(LineMeta {
                        line: self.index,
                        ..LineMeta::default()
                    })));
                }
                Some(false) => {
                    self.index += 1;
                    let meta = journal_entry(&json, buf, self.index, &self.trusted);
                    self.json = json;
                    if let Some(m) = meta {
                        if let Some(c) = &m.cursor {
                            self.cursor = Some(c.clone());
                        }
                        return Ok(Some(NextLine::Line(m)));
                    }
                }
            }
        }
    }

    fn name(&self) -> &str {
        "journal"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_resumes_by_cursor() {
        let mut j = FollowJournal::new(
            JournalQuery {
                since: Some("1 hour ago".into()),
                ..JournalQuery::default()
            },
            PathBuf::from("/"),
            Arc::new(AtomicBool::new(false)),
        );
        let a = j.args();
        assert!(a.contains(&"--follow".to_string()));
        assert!(a.contains(&"--since=1 hour ago".to_string()));
        j.cursor = Some("s=abc;i=5".into());
        let a = j.args();
        assert!(a.contains(&"--after-cursor=s=abc;i=5".to_string()));
        assert!(!a.iter().any(|x| x.starts_with("--since")));
    }

    #[test]
    fn line_numbers_name_the_line_in_the_file() {
        use std::io::Write;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("log");
        std::fs::write(&p, "a\nb\nc\n").unwrap();
        let mut f = FollowFile::new(p.clone(), false, Arc::new(AtomicBool::new(false)));
        f.poll = Duration::from_millis(1);
        let mut buf = Vec::new();
        // opened at its end, after counting the three lines already there
        f.open(true).unwrap();
        assert_eq!(f.line, 3);
        let mut w = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        w.write_all(b"d\n").unwrap();
        match f.next_line(&mut buf, 1 << 20).unwrap() {
            Some(NextLine::Line(m)) => assert_eq!(m.line, 4),
            other => panic!("{other:?}"),
        }
        assert_eq!(buf, b"d");
        // truncated and written again: numbering starts over
        std::fs::write(&p, "x\n").unwrap();
        match f.next_line(&mut buf, 1 << 20).unwrap() {
            Some(NextLine::Line(m)) => assert_eq!(m.line, 1),
            other => panic!("{other:?}"),
        }
        assert_eq!(buf, b"x");
    }
}
