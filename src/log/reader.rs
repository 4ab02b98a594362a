//! Streaming: lines from a [`LineSource`] to [`Record`]s, with a memchr
//! pre-filter, USER_AVC continuation lines joined (pitfalls B-16), and the
//! other records of an audit event (SYSCALL, CWD, PATH, PROCTITLE with the
//! same `audit(EPOCH:SERIAL)`) merged into its AppArmor records.
//!
//! Memory is bounded: one line buffer (lines longer than
//! [`ReaderOptions::max_line`] are skipped and counted) and a small window of
//! audit events still open for grouping. A regular file is parsed in blocks
//! of 256 KiB on [`ReaderOptions::threads`] threads (see `parallel`): at most
//! two blocks per thread and their records are in memory at once.

use super::parse::{self, AuditId, Parsed};
use super::record::{AuditContext, EventType, Framing, Origin, Provenance, Record, Text};
use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::sync::Arc;

mod parallel;

/// Position and metadata a source attaches to a line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMeta {
    /// 1-based line number (or record index for the journal).
    pub line: u64,
    /// The journal cursor.
    pub cursor: Option<String>,
    /// Journal realtime timestamp in microseconds since the epoch.
    pub realtime_usec: Option<u64>,
    /// The audit id journald stored beside the message (`_AUDIT_ID` with
    /// the source timestamp), for audit-transport lines that lack it.
    pub audit_id: Option<AuditId>,
    /// True when the source has checked that the line is ASCII without NUL
    /// bytes (it checks whole reads at once); the reader then skips its
    /// per-line checks for [`Stats`]' binary and non-UTF-8 counts. False
    /// when not checked.
    pub plain: bool,
    /// Who sent the line, when the source itself can tell: the journal's
    /// trusted fields (its transport, the sender's executable and uid) say
    /// it, and the line's own framing is then not asked. None for files,
    /// pipes and the ring buffer, where the framing decides
    /// ([`crate::log::parse`]). A user-space audit message (`USER_AVC`) from
    /// a source vouching for the kernel is a trusted helper's
    /// ([`Origin::for_audit_type`]).
    pub origin: Option<Origin>,
}

/// Length of the start of `b` that is ASCII without NUL bytes: all of it
/// mostly (two fast whole-slice scans), else up to the first other byte.
pub(crate) fn plain_prefix(b: &[u8]) -> usize {
    let nul = memchr::memchr(0, b).unwrap_or(b.len());
    let b = &b[..nul];
    if b.is_ascii() {
        nul
    } else {
        b.iter().position(|c| !c.is_ascii()).unwrap_or(nul)
    }
}

/// A source of lines. Implemented for files and pipes ([`BufReadLines`]),
/// the journal and the kernel ring buffer (see [`super::source`]).
pub trait LineSource {
    /// Reads the next line into `buf` (cleared first, newline removed).
    /// `Ok(None)` at the end. A line longer than `max` is skipped and
    /// reported with [`NextLine::Oversized`].
    fn next_line(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<NextLine>>;
    /// The source name used in provenance (a path, `-`, `journal`, `dmesg`).
    fn name(&self) -> &str;

    /// Like [`LineSource::next_line`], but the line may be borrowed from the
    /// source's own read buffer instead of being copied into `buf`: the
    /// returned slice is the line (newline removed; empty for
    /// [`NextLine::Oversized`] and [`NextLine::Idle`]), valid until the next
    /// call. The default reads into `buf` with `next_line` and returns it;
    /// [`BufReadLines`] returns lines straight from its reader's buffer.
    fn next_line_ref<'a>(
        &'a mut self,
        buf: &'a mut Vec<u8>,
        max: usize,
    ) -> io::Result<Option<(NextLine, &'a [u8])>> {
        buf.clear();
        let n = self.next_line(buf, max)?;
        Ok(n.map(|n| {
            let line: &[u8] = match n {
                NextLine::Line(_) => buf,
                _ => &[],
            };
            (n, line)
        }))
    }

    /// True when the source can be read in blocks of whole lines
    /// ([`LineSource::next_block`]): a regular file read to its end. The
    /// reader then parses blocks on several threads.
    fn reads_blocks(&self) -> bool {
        false
    }

    /// The next block of whole lines (a few hundred KiB), for sources where
    /// [`LineSource::reads_blocks`] is true (`Ok(None)` at the end, and
    /// always for the others). A block never ends between two lines of the
    /// same audit event (same `audit(…)` id) nor before a continuation line
    /// (one starting with a space or tab), so that grouping and joining
    /// rarely cross blocks. Not to be mixed with line reads. `spare` is the
    /// emptied buffer of an earlier block, which the source may reuse.
    fn next_block(&mut self, _max: usize, _spare: Vec<u8>) -> io::Result<Option<LineBlock>> {
        Ok(None)
    }
}

/// A run of whole lines read in bulk ([`LineSource::next_block`]).
#[derive(Debug, Default)]
pub struct LineBlock {
    /// The lines, each ending in `\n` (the last one may lack it at the end
    /// of input).
    pub data: Vec<u8>,
    /// Lines longer than the limit skipped right after `data` (0 or 1).
    pub skipped: u64,
}

impl<T: LineSource + ?Sized> LineSource for Box<T> {
    fn next_line(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<NextLine>> {
        (**self).next_line(buf, max)
    }

    fn next_line_ref<'a>(
        &'a mut self,
        buf: &'a mut Vec<u8>,
        max: usize,
    ) -> io::Result<Option<(NextLine, &'a [u8])>> {
        (**self).next_line_ref(buf, max)
    }

    fn name(&self) -> &str {
        (**self).name()
    }

    fn reads_blocks(&self) -> bool {
        (**self).reads_blocks()
    }

    fn next_block(&mut self, max: usize, spare: Vec<u8>) -> io::Result<Option<LineBlock>> {
        (**self).next_block(max, spare)
    }
}

/// What [`LineSource::next_line`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextLine {
    /// A line is in the buffer.
    Line(LineMeta),
    /// A line longer than the limit was skipped.
    Oversized(LineMeta),
    /// No data for now (a followed file or journal is idle). The reader
    /// releases the audit events it holds open for grouping and returns
    /// `None` if it has nothing else; calling `next()` again later resumes.
    Idle,
}

/// Smallest read of [`BufReadLines`], in bytes.
const BLOCK: usize = 256 << 10;

/// Size of the blocks [`LineSource::next_block`] hands out, in bytes.
const PAR_BLOCK: usize = 256 << 10;

/// Where to end a block of `avail`, whose whole lines end at `end` (just
/// after a newline): at the start of a line that neither continues the line
/// before it (starts with a space or tab) nor belongs to the same audit event
/// (same `audit(…)` id), searching back at most 64 lines from the last
/// complete one; `end` when there is none.
fn good_cut(avail: &[u8], end: usize) -> usize {
    fn id(line: &[u8]) -> Option<&[u8]> {
        let a = memchr::memmem::find(line, b"audit(")?;
        let rest = &line[a..];
        let close = memchr::memchr(b')', rest)?;
        Some(&rest[..close])
    }
    // the start of the line that ends at `e` (just after its newline)
    let start_of = |e: usize| -> usize {
        match e.checked_sub(1) {
            Some(e) => memchr::memrchr(b'\n', &avail[..e]).map_or(0, |p| p + 1),
            None => 0,
        }
    };
    let mut c = start_of(end);
    for _ in 0..64 {
        if c == 0 {
            break;
        }
        let prev = start_of(c);
        let next = &avail[c..end];
        let next = &next[..memchr::memchr(b'\n', next).map_or(next.len(), |p| p + 1)];
        let continues = matches!(next.first(), Some(b' ' | b'\t'));
        let same_event = match (id(&avail[prev..c]), id(next)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        if !continues && !same_event {
            return c;
        }
        c = prev;
    }
    end
}

/// Lines of any [`BufRead`] (a file, a decompressed file, stdin, a pipe).
///
/// Reads blocks of at least 256 KiB into its own
/// buffer and lends whole lines from it ([`LineSource::next_line_ref`]), so
/// that a line costs a `memchr` and no call into the reader. A line that
/// does not fit grows the buffer up to the caller's limit; a longer one is
/// skipped (read and dropped in blocks) and reported as oversized.
pub struct BufReadLines<R> {
    reader: R,
    name: String,
    /// Lines returned by line reads (block reads leave the count to the reader).
    line: u64,
    /// Read buffer: `block[start..end]` is data not yet returned.
    block: Vec<u8>,
    start: usize,
    end: usize,
    /// End of input seen (EOF, or `WouldBlock` from a non-blocking reader).
    eof: bool,
    /// Offer [`LineSource::next_block`] (a regular file).
    bulk: bool,
    /// A read error met by a block read, returned once the complete lines
    /// read before it have been handed over (as the line reader does).
    failed: Option<io::Error>,
    /// `block[..plain_end]` is ASCII without NUL bytes ([`LineMeta::plain`]).
    plain_end: usize,
    /// Read in blocks ([`LineSource::next_block`]): the block's reader
    /// checks for plain lines, not `fill`.
    in_blocks: bool,
}

impl<R: BufRead> BufReadLines<R> {
    /// Wraps `reader`; `name` is the provenance source name.
    pub fn new(reader: R, name: impl Into<String>) -> Self {
        BufReadLines {
            reader,
            name: name.into(),
            line: 0,
            block: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            bulk: false,
            failed: None,
            plain_end: 0,
            in_blocks: false,
        }
    }

    /// Like [`BufReadLines::new`] for a reader that fills every read until
    /// its end (a regular file, possibly decompressed): it may then be read
    /// in blocks and parsed in parallel ([`LineSource::reads_blocks`]).
    pub fn new_bulk(reader: R, name: impl Into<String>) -> Self {
        BufReadLines {
            bulk: true,
            ..BufReadLines::new(reader, name)
        }
    }

    /// Reads more data after `end` (moving unread data to the front first).
    /// Returns the number of bytes read; 0 at the end of input.
    fn fill(&mut self) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        if self.start > 0 {
            self.block.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.plain_end = self.plain_end.saturating_sub(self.start);
            self.start = 0;
        }
        if self.block.len() - self.end < BLOCK {
            let want = (self.end + BLOCK).max(self.block.len() * 2);
            self.block.resize(want, 0);
        }
        loop {
            match self.reader.read(&mut self.block[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.end += n;
                    if !self.in_blocks {
                        // checked from the first byte not known plain (the
                        // new data, unless an earlier byte was not plain)
                        let from = self.plain_end.min(self.end);
                        self.plain_end = from + plain_prefix(&self.block[from..self.end]);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.eof = true;
                    return Ok(0);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The next line as a range of `block` (newline excluded), or an
    /// oversized line skipped (`Err(())`), or `None` at the end.
    #[allow(clippy::result_unit_err)]
    fn next_range(&mut self, max: usize) -> io::Result<Option<Result<(usize, usize), ()>>> {
        let mut scanned = 0;
        loop {
            let pending = &self.block[self.start + scanned..self.end];
            if let Some(p) = memchr::memchr(b'\n', pending) {
                let (s, e) = (self.start, self.start + scanned + p);
                self.start = e + 1;
                self.line += 1;
                return Ok(Some(if e - s <= max { Ok((s, e)) } else { Err(()) }));
            }
            scanned = self.end - self.start;
            if scanned > max {
                // Too long: drop what is buffered and skip to the newline.
                return self.skip_long().map(|any| any.then_some(Err(())));
            }
            if self.fill()? == 0 {
                if self.start == self.end {
                    return Ok(None);
                }
                // the last line, without a newline
                let (s, e) = (self.start, self.end);
                self.start = self.end;
                self.line += 1;
                return Ok(Some(Ok((s, e))));
            }
        }
    }

    /// Drops data up to and including the next newline (or the end).
    fn skip_long(&mut self) -> io::Result<bool> {
        loop {
            if let Some(p) = memchr::memchr(b'\n', &self.block[self.start..self.end]) {
                self.start += p + 1;
                self.line += 1;
                return Ok(true);
            }
            self.start = 0;
            self.end = 0;
            self.plain_end = 0;
            if self.fill()? == 0 {
                self.line += 1;
                return Ok(true);
            }
        }
    }

    /// [`LineSource::next_block`]: fills the buffer to [`PAR_BLOCK`] bytes
    /// and hands over everything up to a good cut; the rest moves to `spare`,
    /// the next buffer.
    fn read_block(&mut self, max: usize, spare: Vec<u8>) -> io::Result<Option<LineBlock>> {
        self.in_blocks = true;
        if self.block.len() < PAR_BLOCK + BLOCK {
            self.block.resize(PAR_BLOCK + BLOCK, 0);
        }
        while self.failed.is_none() && self.end - self.start < PAR_BLOCK {
            match self.fill() {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => self.failed = Some(e),
            }
        }
        if let Some(e) = self.failed.take() {
            // the complete lines read before the error first, then the
            // error (a partial last line is dropped, as by the line reader)
            match memchr::memrchr(b'\n', &self.block[self.start..self.end]) {
                Some(p) => {
                    self.failed = Some(e);
                    return Ok(Some(self.hand_over(p + 1, spare)));
                }
                None => {
                    self.start = self.end;
                    self.eof = true;
                    return Err(e);
                }
            }
        }
        if self.start == self.end {
            return Ok(None);
        }
        let avail = &self.block[self.start..self.end];
        let cut = if self.eof {
            avail.len()
        } else {
            match memchr::memrchr(b'\n', avail) {
                Some(p) => good_cut(avail, p + 1),
                None => {
                    // one line longer than the buffer: read on up to the limit
                    loop {
                        if self.end - self.start > max {
                            self.skip_long()?;
                            return Ok(Some(LineBlock {
                                data: Vec::new(),
                                skipped: 1,
                            }));
                        }
                        let from = self.end;
                        if self.fill()? == 0 {
                            break self.end - self.start;
                        }
                        if let Some(p) = memchr::memchr(b'\n', &self.block[from..self.end]) {
                            break from + p + 1 - self.start;
                        }
                    }
                }
            }
        };
        Ok(Some(self.hand_over(cut, spare)))
    }

    /// Hands over `block[start..start + cut]` as a block; the rest moves to
    /// `spare`, which becomes the read buffer.
    fn hand_over(&mut self, cut: usize, mut spare: Vec<u8>) -> LineBlock {
        let (s, c, e) = (self.start, self.start + cut, self.end);
        // `spare` keeps its length (initialised bytes of an old block): only
        // what the tail needs is written, and `fill` zeroes only growth.
        if spare.len() < e - c {
            spare.resize(e - c, 0);
        }
        spare[..e - c].copy_from_slice(&self.block[c..e]);
        let mut data = std::mem::replace(&mut self.block, spare);
        data.truncate(c);
        data.drain(..s);
        self.start = 0;
        self.end = e - c;
        // (block reads do not use it: the block's reader checks)
        self.plain_end = 0;
        LineBlock { data, skipped: 0 }
    }
}

/// Reads one line of at most `max` bytes; longer ones are consumed and
/// reported as oversized. `WouldBlock` (a non-blocking /dev/kmsg) ends input.
pub fn read_line_bounded<R: BufRead + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<bool>> {
    buf.clear();
    let mut any = false;
    let mut over = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Ok(any.then_some(over));
            }
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(any.then_some(over));
        }
        any = true;
        match memchr::memchr(b'\n', avail) {
            Some(p) => {
                if !over && buf.len() + p <= max {
                    buf.extend_from_slice(&avail[..p]);
                } else {
                    over = true;
                    buf.clear();
                }
                r.consume(p + 1);
                return Ok(Some(over));
            }
            None => {
                let n = avail.len();
                if !over && buf.len() + n <= max {
                    buf.extend_from_slice(avail);
                } else {
                    over = true;
                    buf.clear();
                }
                r.consume(n);
            }
        }
    }
}

impl<R: BufRead> LineSource for BufReadLines<R> {
    fn next_line_ref<'a>(
        &'a mut self,
        _buf: &'a mut Vec<u8>,
        max: usize,
    ) -> io::Result<Option<(NextLine, &'a [u8])>> {
        let r = self.next_range(max)?;
        let mut meta = LineMeta {
            line: self.line,
            ..LineMeta::default()
        };
        Ok(r.map(|r| match r {
            Ok((s, e)) => {
                meta.plain = e <= self.plain_end;
                (NextLine::Line(meta), &self.block[s..e])
            }
            Err(()) => (NextLine::Oversized(meta), &[][..]),
        }))
    }

    fn next_line(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<NextLine>> {
        buf.clear();
        let r = self.next_range(max)?;
        let meta = LineMeta {
            line: self.line,
            ..LineMeta::default()
        };
        Ok(r.map(|r| match r {
            Ok((s, e)) => {
                buf.extend_from_slice(&self.block[s..e]);
                NextLine::Line(meta)
            }
            Err(()) => NextLine::Oversized(meta),
        }))
    }

    fn reads_blocks(&self) -> bool {
        self.bulk
    }

    fn next_block(&mut self, max: usize, spare: Vec<u8>) -> io::Result<Option<LineBlock>> {
        if self.bulk {
            self.read_block(max, spare)
        } else {
            Ok(None)
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Reader settings.
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Also yield AppArmor-looking lines that did not parse (as
    /// [`EventType::Invalid`] records with [`Record::problem`]).
    pub keep_invalid: bool,
    /// Merge SYSCALL/CWD/PATH/PROCTITLE records into the AppArmor records of
    /// the same audit event.
    pub group: bool,
    /// Longest line kept, in bytes (default 16 MiB).
    pub max_line: usize,
    /// How many lines after its last AppArmor record an audit event stays
    /// open for grouping: the SYSCALL, CWD, PATH, PROCTITLE, … records of
    /// the event must come within that many lines (default 32).
    pub group_window: u64,
    /// Threads parsing a source that [reads blocks](LineSource::reads_blocks)
    /// (a regular file): 0 (the default) is one per CPU, at most 8; 1 parses
    /// on the calling thread; more than [`MAX_THREADS`] count as that many.
    /// Other sources are read line by line.
    pub threads: usize,
}

/// Most parser threads a [`LogReader`] starts, whatever
/// [`ReaderOptions::threads`] asks (each holds blocks in flight, so memory
/// grows with the count).
pub const MAX_THREADS: usize = 64;

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            keep_invalid: false,
            group: true,
            max_line: 16 << 20,
            group_window: 32,
            threads: 0,
        }
    }
}

/// Counters of everything the reader saw; nothing is dropped silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Lines read (continuation lines included).
    pub lines: u64,
    /// Bytes read (newlines excluded).
    pub bytes: u64,
    /// Valid AppArmor records produced.
    pub records: u64,
    /// Lines that looked like AppArmor but did not parse as a valid record.
    pub invalid: u64,
    /// Other audit records (SYSCALL, PATH, …) seen by the parser.
    pub other_audit: u64,
    /// Other audit records merged into an AppArmor record.
    pub grouped: u64,
    /// Lines skipped by the pre-filter or not audit records at all.
    pub not_apparmor: u64,
    /// Continuation lines joined into the previous record.
    pub joined: u64,
    /// Lines longer than the limit, skipped.
    pub oversized: u64,
    /// Lines containing NUL bytes (a binary file?).
    pub binary_lines: u64,
    /// Lines that are not valid UTF-8 (they are still parsed).
    pub non_utf8_lines: u64,
}

impl Stats {
    /// Adds `o` to `self`.
    pub fn add(&mut self, o: &Stats) {
        self.lines += o.lines;
        self.bytes += o.bytes;
        self.records += o.records;
        self.invalid += o.invalid;
        self.other_audit += o.other_audit;
        self.grouped += o.grouped;
        self.not_apparmor += o.not_apparmor;
        self.joined += o.joined;
        self.oversized += o.oversized;
        self.binary_lines += o.binary_lines;
        self.non_utf8_lines += o.non_utf8_lines;
    }
}

/// A read error with the source and line where it happened.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: after line {line}: {error}")]
pub struct ReadError {
    /// The source name.
    pub source_name: String,
    /// The last line read before the error.
    pub line: u64,
    /// The I/O error.
    #[source]
    pub error: io::Error,
}

/// An audit event held open for grouping: its first AppArmor record inline
/// and any later ones (rare) in `rest`, so that an event costs no queue
/// allocation of its own.
struct Pending {
    key: Option<(u64, u32, u64)>,
    first: Box<Record>,
    // boxed: records (about 1 KiB) move to the ready queue without a copy
    #[allow(clippy::vec_box)]
    rest: Vec<Box<Record>>,
    last_line: u64,
    closed: bool,
}

impl Pending {
    fn records_mut(&mut self) -> impl Iterator<Item = &mut Box<Record>> {
        std::iter::once(&mut self.first).chain(self.rest.iter_mut())
    }

    /// A *head* event of a block (lines numbered from the block's start):
    /// started by an AppArmor record with an audit id within `window` lines
    /// of the start, so it may belong to an event left open by the block
    /// before ([`parallel`] decides when merging).
    fn is_head(&self, window: u64) -> bool {
        self.key.is_some() && self.first.provenance.line <= window
    }
}

/// Turns a [`LineSource`] into a stream of [`Record`]s.
///
/// An `Iterator<Item = Result<Record, ReadError>>`: after an `Err` or the
/// end of the source the iterator ends. It is not fused for followed
/// sources: when the source reports [`NextLine::Idle`], pending records are
/// released, `next()` returns `None`, and a later `next()` reads on.
/// [`LogReader::stats`] counts what was seen.
///
/// Records come out in input order, except that an AppArmor record waits
/// until its audit event is complete (PROCTITLE or EOE seen, or
/// [`ReaderOptions::group_window`] lines later) so that SYSCALL/CWD/PATH/
/// PROCTITLE can enrich it.
pub struct LogReader<S> {
    src: S,
    /// Lines of sources that do not lend their own buffer.
    buf: Vec<u8>,
    st: State,
    /// The record lent by [`LogReader::next_ref`], reused on the next call.
    lent: Option<Box<Record>>,
    /// Block reading: `Some` when the source [reads
    /// blocks](LineSource::reads_blocks) and more than one thread is wanted.
    par: Option<parallel::Par>,
}

/// Everything of a [`LogReader`] but the source and its line buffer, so that
/// a line borrowed from the source can be processed in place.
struct State {
    opts: ReaderOptions,
    stats: Stats,
    name: Arc<str>,
    ahead: Option<(Vec<u8>, NextLine)>,
    pending: VecDeque<Pending>,
    /// Records of released events not yet returned (after the first).
    ready: VecDeque<Box<Record>>,
    last_line: u64,
    done: bool,
    /// Emptied record boxes to parse the next records into (saves an
    /// allocation and a free of about 1 KiB per record).
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Record>>,
    /// Parsing one block of a parallel read ([`parallel`]): events still
    /// open at the end stay pending, and lines of the first
    /// [`ReaderOptions::group_window`] that find no open event are kept in
    /// `orphans` for the events left open by the block before.
    block_mode: bool,
    orphans: Vec<parallel::Orphan>,
    /// How many boxes `spare` keeps.
    spare_cap: usize,
    /// Records moved to `ready` so far.
    released: u64,
    /// Block mode: head events ([`Pending::is_head`]) when they were released, each
    /// with the value of `released` then (where its records go when it
    /// turns out to be an event of its own).
    heads: Vec<(u64, Pending)>,
    /// The boxes in `spare` are not emptied yet ([`State::take_box`] does
    /// it): in the parallel reader, for the parser threads to do.
    spare_dirty: bool,
}

impl State {
    fn new(opts: ReaderOptions, name: Arc<str>) -> Self {
        State {
            opts,
            stats: Stats::default(),
            name,
            ahead: None,
            pending: VecDeque::new(),
            ready: VecDeque::new(),
            last_line: 0,
            done: false,
            spare: Vec::new(),
            block_mode: false,
            orphans: Vec::new(),
            spare_cap: 64,
            spare_dirty: false,
            released: 0,
            heads: Vec::new(),
        }
    }
}

/// What [`State::process`] left to do.
enum Step {
    Done,
    /// The line is a USER_AVC with an open `msg='` quote: join continuation lines.
    Join,
}

impl<S: LineSource> LogReader<S> {
    /// A reader over `src` with `opts`.
    pub fn new(src: S, opts: ReaderOptions) -> Self {
        let name: Arc<str> = Arc::from(src.name());
        let mut st = State::new(opts, name);
        let par = (src.reads_blocks() && parallel::threads(&st.opts) > 1).then(|| {
            // boxes go back to the parser threads with each block
            st.spare_cap = 4 * parallel::SPARE_PER_BLOCK;
            st.spare_dirty = true;
            parallel::Par::new(&st.opts)
        });
        LogReader {
            src,
            buf: Vec::with_capacity(4096),
            st,
            lent: None,
            par,
        }
    }

    /// What was seen so far.
    pub fn stats(&self) -> &Stats {
        &self.st.stats
    }

    /// The underlying source.
    pub fn source(&self) -> &S {
        &self.src
    }

    /// Handles what the source produced other than a line; `Some` when the
    /// iterator must return now.
    fn handle_other(st: &mut State, n: NextLine) -> Option<Option<Box<Record>>> {
        match n {
            NextLine::Line(_) => None,
            NextLine::Idle => Some(st.pop_ready(true)),
            NextLine::Oversized(meta) => {
                st.last_line = meta.line;
                st.stats.lines += 1;
                st.stats.oversized += 1;
                None
            }
        }
    }
}

impl State {
    /// Moves the record out of its box and keeps the box for the next one.
    fn recycle(&mut self, mut b: Box<Record>) -> Record {
        let r = std::mem::take(&mut *b);
        if self.spare.len() < self.spare_cap {
            self.spare.push(b);
        }
        r
    }

    /// Empties a record lent by [`LogReader::next_ref`] in place, keeping
    /// the capacity of its lists, and keeps the box for the next one.
    /// (With `spare_dirty`, the box is kept as it is and emptied when taken:
    /// a parser thread does that, not the thread reading the records.)
    fn reuse(&mut self, mut b: Box<Record>) {
        if self.spare.len() >= self.spare_cap {
            return;
        }
        if !self.spare_dirty {
            empty_record(&mut b);
        }
        self.spare.push(b);
    }

    /// An empty record box to parse into: a spare one if any.
    fn take_box(&mut self) -> Box<Record> {
        match self.spare.pop() {
            Some(mut b) => {
                if self.spare_dirty {
                    empty_record(&mut b);
                }
                b
            }
            None => Box::default(),
        }
    }

    /// The next record whose event is complete (see [`State::release_front`]).
    #[inline]
    fn pop_ready(&mut self, all: bool) -> Option<Box<Record>> {
        if self.ready.is_empty() {
            // mostly the oldest open event stays open: decided here
            // without a call
            match self.pending.front() {
                None => return None,
                Some(f) if !self.complete(f, all) => return None,
                _ => self.release_front(all),
            }
        }
        self.ready.pop_front()
    }

    /// Whether the event at the front, `front`, is complete: closed, out of
    /// the grouping window, more than 256 open, or `all`.
    #[inline(always)]
    fn complete(&self, front: &Pending, all: bool) -> bool {
        all || front.closed
            || self.last_line.saturating_sub(front.last_line) > self.opts.group_window
            || self.pending.len() > 256
    }

    /// Moves the open events at the front that are complete
    /// ([`State::complete`]) to `ready`, in order.
    #[inline(never)]
    fn release_front(&mut self, all: bool) {
        while let Some(front) = self.pending.front() {
            if !self.complete(front, all) {
                break;
            }
            if let Some(p) = self.pending.pop_front() {
                if self.block_mode && p.is_head(self.opts.group_window) {
                    self.heads.push((self.released, p));
                    continue;
                }
                self.released += 1 + p.rest.len() as u64;
                self.ready.push_back(p.first);
                self.ready.extend(p.rest);
            }
        }
    }

    fn push_record(&mut self, mut rec: Box<Record>, line: u64) {
        let key = if self.opts.group {
            rec.event_key()
        } else {
            None
        };
        if let Some(p) = key.and_then(|k| self.open_event(k, line)) {
            if let Some(ctx) = p.first.context.clone() {
                rec.context = Some(ctx);
            }
            p.rest.push(rec);
            p.last_line = line;
            return;
        }
        self.pending.push_back(Pending {
            key,
            first: rec,
            rest: Vec::new(),
            last_line: line,
            closed: key.is_none(),
        });
    }

    /// The newest open event with audit id `key` that `line` is still
    /// within the grouping window of. A closed event (PROCTITLE or EOE
    /// seen) takes nothing more, whether or not it was released yet: so
    /// what a line joins never depends on when the reader's caller takes
    /// the records, nor on where the parallel reader cut its blocks.
    #[inline(always)]
    fn open_event(&mut self, key: (u64, u32, u64), line: u64) -> Option<&mut Pending> {
        let window = self.opts.group_window;
        self.pending
            .iter_mut()
            .rev()
            .find(|p| p.key == Some(key) && !p.closed && line.saturating_sub(p.last_line) <= window)
    }

    /// Merges another audit record into the open event with the same id.
    fn group_other(&mut self, t: &[u8], id: AuditId, body: &[u8], line: u64) -> bool {
        let key = (id.epoch, id.msec, id.serial);
        // an event takes the other records of its audit event for
        // `group_window` lines after its last AppArmor record (also when an
        // older event before it in the queue is still open); they do not
        // extend that window, so a block boundary of the parallel reader
        // needs to look back only `group_window` lines
        let Some(p) = self.open_event(key, line) else {
            return false;
        };
        if t == b"EOE" || t == b"1320" {
            p.closed = true;
            return true;
        }
        let is = |names: [&[u8]; 2]| names.contains(&t);
        let (syscall, cwd, path, proctitle) = (
            is([b"SYSCALL", b"1300"]),
            is([b"CWD", b"1307"]),
            is([b"PATH", b"1302"]),
            is([b"PROCTITLE", b"1327"]),
        );
        let mut ctx = AuditContext::default();
        let tname = Text::from_bytes(t);
        // auditd's ENRICHED trailer (after 0x1d) holds uppercase keys only,
        // none of which is read here: do not scan it.
        let body = &body[..memchr::memchr(0x1d, body).unwrap_or(body.len())];
        // The SYSCALL keys read here, as bits; once all were seen (the
        // kernel writes each once, `exe=` near the end) the scan stops.
        const ALL: u8 = 0x7f;
        // syscall, success, exit, uid, auid: the keys before `comm=`
        const HEAD: u8 = 0x67;
        let mut seen = 0u8;
        // A SYSCALL record's `comm=` and `exe=` follow ten keys not read
        // here (gid … ses): once the head keys were seen, jump to ` comm=`.
        let split = if syscall {
            parse::syscall_comm_split(body)
        } else {
            None
        };
        let (head, tail) = body.split_at(split.unwrap_or(body.len()));
        let mut in_head = split.is_some();
        let mut fields = parse::other_fields(head);
        loop {
            let (k, v) = match fields.next() {
                Some(f) => f,
                None if in_head => {
                    in_head = false;
                    fields = parse::other_fields(tail);
                    continue;
                }
                None => break,
            };
            let num = |v: &parse::RawValue<'_>| {
                std::str::from_utf8(v.raw())
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
            };
            if syscall {
                seen |= match k {
                    b"syscall" => 1,
                    b"success" => 2,
                    b"exit" => 4,
                    b"exe" => 8,
                    b"comm" => 16,
                    b"uid" => 32,
                    b"auid" => 64,
                    _ => 0,
                };
            }
            match k {
                b"syscall" if syscall => ctx.syscall = Some(v.text()),
                b"success" if syscall => ctx.success = Some(v.text()),
                b"exit" if syscall => ctx.exit = num(&v),
                b"exe" if syscall => ctx.exe = Some(v.text()),
                b"comm" if syscall => ctx.comm = Some(v.text()),
                b"uid" if syscall => ctx.uid = num(&v).and_then(|n| u64::try_from(n).ok()),
                b"auid" if syscall => ctx.auid = num(&v).and_then(|n| u64::try_from(n).ok()),
                b"cwd" if cwd => ctx.cwd = Some(v.text()),
                b"name" if path => ctx.paths.push(v.text()),
                b"proctitle" if proctitle => ctx.proctitle = Some(parse::proctitle_text(v)),
                _ => {}
            }
            if syscall && in_head && k == b"exit" {
                // the kernel writes a0 … pid next, none read here
                fields.pass_bare(&[b"a0", b"a1", b"a2", b"a3", b"items", b"ppid", b"pid"]);
            }
            if seen == ALL {
                break;
            }
            // CWD, PATH and PROCTITLE hold their key once: when its text
            // `key=` is nowhere in the rest, no later field has that key
            if ((cwd && k == b"cwd") || (path && k == b"name") || (proctitle && k == b"proctitle"))
                && fields.lacks_key(k)
            {
                break;
            }
            if in_head && seen & HEAD == HEAD {
                in_head = false;
                fields = parse::other_fields(tail);
            }
        }
        // The common event has one AppArmor record: move the context into
        // it; clone only for the others.
        let n = 1 + p.rest.len();
        for (i, r) in p.records_mut().enumerate() {
            if i + 1 == n {
                merge_context(r, std::mem::take(&mut ctx), tname);
                break;
            }
            merge_context(r, ctx.clone(), tname.clone());
        }
        if t == b"PROCTITLE" || t == b"1327" {
            // the last record of an auditd event (EOE follows only sometimes)
            p.closed = true;
        }
        true
    }

    /// Tries to merge a non-AppArmor line into an open event.
    /// (`typed`: the length of a leading `type=T`, when known.)
    fn try_group(&mut self, line: &[u8], meta: &LineMeta, typed: Option<usize>) {
        if !self.opts.group {
            self.stats.not_apparmor += 1;
            return;
        }
        let hit = if self.pending.is_empty() {
            false
        } else if let Some(id) = meta.audit_id {
            // journald audit transport: MESSAGE is `TYPE fields`
            let sp = memchr::memchr(b' ', line).unwrap_or(line.len());
            let (t, body) = (&line[..sp], &line[sp..]);
            self.group_other(t, id, body, meta.line)
        } else if let Some((t, id, body)) = match typed {
            Some(n) => header_after_type(&line[5..n], &line[n + 1..]),
            None => quick_header(line),
        } {
            self.group_other(t, id, body, meta.line)
        } else {
            false
        };
        if hit {
            self.stats.other_audit += 1;
            self.stats.grouped += 1;
        } else if !self.keep_orphan(line, meta, false) {
            self.stats.not_apparmor += 1;
        }
    }

    /// In block mode, keeps an audit record near the start of the block that
    /// found no open event: it may belong to one left open by the block
    /// before ([`parallel::Orphan`]; `parsed`: seen by the full parser, which
    /// counted it already). Returns whether it was kept.
    fn keep_orphan(&mut self, line: &[u8], meta: &LineMeta, parsed: bool) -> bool {
        let keep = self.block_mode
            && meta.line <= self.opts.group_window
            && (parsed || meta.audit_id.is_some() || quick_header(line).is_some());
        if keep {
            self.orphans.push(parallel::Orphan {
                line: meta.line,
                data: line.to_vec(),
                audit_id: meta.audit_id,
                parsed,
            });
        }
        keep
    }

    /// Counts `line` and handles it unless it is an AppArmor line that
    /// continues on the next lines ([`Step::Join`]: the caller joins them
    /// with [`State::join`], then calls [`State::finish`]).
    fn process(&mut self, line: &[u8], meta: &LineMeta) -> Step {
        self.last_line = meta.line;
        self.stats.lines += 1;
        self.stats.bytes += line.len() as u64;
        if !meta.plain && memchr::memchr(0, line).is_some() {
            self.stats.binary_lines += 1;
        }
        let (aa, typed) = parse::may_be_apparmor_typed(line);
        if !aa {
            self.try_group(line, meta, typed);
            return Step::Done;
        }
        if !meta.plain && std::str::from_utf8(line).is_err() {
            self.stats.non_utf8_lines += 1;
        }
        // A USER_AVC whose msg=' quote stays open may continue on the next
        // line, which then starts with whitespace.
        if parse::has_open_quote(line) {
            return Step::Join;
        }
        self.finish(line, meta.clone());
        Step::Done
    }

    /// Appends the continuation lines of `buf` read from `src`.
    fn join<S: LineSource>(&mut self, src: &mut S, buf: &mut Vec<u8>) {
        while parse::has_open_quote(buf) {
            let mut next = Vec::new();
            match src.next_line(&mut next, self.opts.max_line) {
                Ok(Some(NextLine::Line(m)))
                    if matches!(next.first(), Some(b' ' | b'\t'))
                        && buf.len() + next.len() <= self.opts.max_line =>
                {
                    self.stats.lines += 1;
                    self.stats.joined += 1;
                    self.stats.bytes += next.len() as u64;
                    buf.push(b' ');
                    buf.extend_from_slice(&next);
                    self.last_line = m.line;
                }
                Ok(Some(n)) => {
                    self.ahead = Some((next, n));
                    break;
                }
                _ => break,
            }
        }
    }

    /// Parses an AppArmor-looking line (joined) and queues its record.
    fn finish(&mut self, line: &[u8], meta: LineMeta) {
        let parsed = parse::parse_line_into(line, self.take_box());
        match parsed {
            Parsed::AppArmor(mut rec) => {
                // a reused record mostly has this name already: no
                // reference count traffic then
                if !Arc::ptr_eq(&rec.provenance.source, &self.name) {
                    rec.provenance.source = self.name.clone();
                }
                rec.provenance.line = meta.line;
                rec.provenance.cursor = meta.cursor;
                rec.provenance.realtime_usec = meta.realtime_usec;
                if let Some(o) = meta.origin {
                    rec.provenance.origin = o.for_audit_type(rec.audit_type.as_ref());
                }
                if let Some(id) = meta.audit_id.filter(|_| rec.audit_id.is_none()) {
                    rec.audit_id = Some(Text::from(&*format!(
                        "{}.{:03}:{}",
                        id.epoch, id.msec, id.serial
                    )));
                    rec.epoch = Some(id.epoch);
                    rec.epoch_msec = Some(id.msec);
                    rec.audit_sub_id = Some(id.serial);
                }
                if rec.event == EventType::Invalid {
                    self.stats.invalid += 1;
                    if !self.opts.keep_invalid {
                        return;
                    }
                } else {
                    self.stats.records += 1;
                }
                self.push_record(rec, meta.line);
            }
            Parsed::Other(o) => {
                self.stats.other_audit += 1;
                if let Some(id) = o.id {
                    if self.group_other(o.audit_type, id, o.body, meta.line) {
                        self.stats.grouped += 1;
                    } else {
                        self.keep_orphan(line, &meta, true);
                    }
                }
            }
            Parsed::NotAudit => self.stats.not_apparmor += 1,
        }
    }
}

/// Empties `b` in place, keeping the capacity of its lists and the
/// provenance source (the reader sets it again, usually to the same name,
/// see [`State::finish`]). Field by field: building a default record and
/// moving it in wrote the ~1.3 KiB twice. The pattern names every field,
/// so a field added to [`Record`] must be added here.
fn empty_record(b: &mut Record) {
    // Each field named once: the macro writes the (exhaustive) pattern and
    // the resets from the same lists. One store per number, one test per
    // text (mostly absent: no drop code then); written out, not a loop over
    // an array of references (~9 instructions a field).
    macro_rules! reset {
        (numbers: $($n:ident),*; texts: $($t:ident),*; others: $($o:ident),*) => {
            let Record { $($n,)* $($t,)* $($o,)* } = b;
            $(*$n = None;)*
            $(if $t.is_some() { *$t = None; })*
        };
    }
    reset!(
        numbers: epoch, epoch_msec, audit_sub_id, fsuid, ouid, task, parent, magic_token,
            error_code, pid, peer_pid, net_local_port, net_foreign_port;
        texts: audit_id, operation, class, requested_mask, denied_mask, profile, peer_profile,
            peer, name, comm, name2, namespace, attribute, info, peer_info, active_hat, net_addr,
            peer_addr, net_family, net_sock_type, net_protocol, net_local_addr, net_foreign_addr,
            dbus_bus, dbus_path, dbus_interface, dbus_member, signal, fs_type, flags, src_name,
            execpath, audit_type;
        others: event, extra, enrichment, header, context, framing, provenance, problem
    );
    *event = EventType::default();
    *framing = Framing::default();
    extra.clear();
    enrichment.clear();
    header.clear();
    *context = None;
    *problem = None;
    let Provenance {
        source: _,
        line,
        cursor,
        realtime_usec,
        prefix_time,
        host,
        origin,
    } = provenance;
    *line = 0;
    *cursor = None;
    *realtime_usec = None;
    *prefix_time = None;
    *host = None;
    *origin = Origin::default();
}

/// Merges the fields one SYSCALL/CWD/PATH/PROCTITLE record (`tname`)
/// contributed (`ctx`) into `r`'s audit context.
fn merge_context(r: &mut Record, ctx: AuditContext, tname: Text) {
    let c = r.context.get_or_insert_with(Box::default);
    c.records.push(tname);
    absorb(c, ctx);
}

/// Merges `add` into `c`: its records and paths follow those of `c`, and
/// its SYSCALL fields (when it has a `syscall`), `cwd` and `proctitle`
/// replace those of `c`. Merging the records of an event one by one, or
/// first into an empty context that is then merged, gives the same context.
#[inline(always)]
fn absorb(c: &mut AuditContext, add: AuditContext) {
    // (field by field: moving the whole value apart first cost ~90
    // instructions a record)
    if !add.records.is_empty() {
        c.records.extend(add.records);
    }
    if add.syscall.is_some() {
        c.syscall = add.syscall;
        c.success = add.success;
        c.exit = add.exit;
        c.exe = add.exe;
        c.comm = add.comm;
        c.uid = add.uid;
        c.auid = add.auid;
    }
    if add.cwd.is_some() {
        c.cwd = add.cwd;
    }
    if c.paths.is_empty() {
        c.paths = add.paths;
    } else {
        c.paths.extend(add.paths);
    }
    if add.proctitle.is_some() {
        c.proctitle = add.proctitle;
    }
}

/// `type=NAME msg=audit(E.M:S): body` (optionally behind `node=HOST `), or a
/// kernel printk `… type=N audit(E.M:S): body`: the type, id and body.
fn quick_header(line: &[u8]) -> Option<(&[u8], AuditId, &[u8])> {
    let mut l = line;
    if l.starts_with(b"node=") {
        let sp = memchr::memchr(b' ', l)?;
        l = &l[sp + 1..];
    }
    if !l.starts_with(b"type=") {
        let p = memchr::memmem::find(l, b"type=")?;
        l = &l[p..];
    }
    let rest = &l[5..];
    // type names are short: a byte loop beats a SIMD search's set-up
    let sp = rest.iter().position(|&b| b == b' ')?;
    header_after_type(&rest[..sp], &rest[sp + 1..])
}

/// The rest of [`quick_header`] once the type `t` was read: `h` is the text
/// after `type=T `.
#[inline]
fn header_after_type<'a>(t: &'a [u8], h: &'a [u8]) -> Option<(&'a [u8], AuditId, &'a [u8])> {
    let h = h.strip_prefix(b"msg=").unwrap_or(h);
    let inner = h.strip_prefix(b"audit(")?;
    let (id, close) = parse::quick_audit_id(inner)?;
    let body = inner[close + 1..]
        .strip_prefix(b":")
        .unwrap_or(&inner[close + 1..]);
    Some((t, id, body))
}

impl<S: LineSource> LogReader<S> {
    /// Like [`Iterator::next`], but lends the record instead of moving it
    /// out: the reference is valid until the next call, and the record's
    /// storage is reused for a later record. The fastest way to read (no
    /// copy of the about 1 KiB record, no allocation for its lists).
    pub fn next_ref(&mut self) -> Option<Result<&Record, ReadError>> {
        if let Some(b) = self.lent.take() {
            self.st.reuse(b);
        }
        match self.next_boxed()? {
            Ok(b) => Some(Ok(&**self.lent.insert(b))),
            Err(e) => Some(Err(e)),
        }
    }

    /// The next record in its box (see [`Iterator::next`]).
    fn next_boxed(&mut self) -> Option<Result<Box<Record>, ReadError>> {
        if self.par.is_some() {
            return self.next_from_blocks();
        }
        let LogReader { src, buf, st, .. } = self;
        loop {
            if let Some(r) = st.pop_ready(st.done && !st.block_mode) {
                return Some(Ok(r));
            }
            if st.done {
                return None;
            }
            let out = if let Some((b, n)) = st.ahead.take() {
                match n {
                    NextLine::Line(meta) => {
                        if let Step::Join = st.process(&b, &meta) {
                            let mut owned = b;
                            st.join(src, &mut owned);
                            st.finish(&owned, meta);
                        }
                        None
                    }
                    n => Self::handle_other(st, n),
                }
            } else {
                match src.next_line_ref(buf, st.opts.max_line) {
                    Ok(Some((NextLine::Line(meta), line))) => {
                        if let Step::Join = st.process(line, &meta) {
                            let mut owned = line.to_vec();
                            st.join(src, &mut owned);
                            st.finish(&owned, meta);
                        }
                        None
                    }
                    Ok(Some((n, _))) => Self::handle_other(st, n),
                    Ok(None) => {
                        st.done = true;
                        None
                    }
                    Err(error) => {
                        st.done = true;
                        // flush what is open first, then report
                        if !st.pending.is_empty() {
                            st.ahead = None;
                        }
                        return Some(Err(ReadError {
                            source_name: st.name.to_string(),
                            line: st.last_line,
                            error,
                        }));
                    }
                }
            };
            if let Some(r) = out {
                return r.map(Ok);
            }
        }
    }
}

impl<S: LineSource> Iterator for LogReader<S> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(b) = self.lent.take() {
            self.st.reuse(b);
        }
        let r = self.next_boxed()?;
        Some(r.map(|b| self.st.recycle(b)))
    }
}

/// Parses all of `text` (a whole log in memory) with default options:
/// convenience for tests and small inputs.
pub fn parse_str(text: &str, source: &str) -> (Vec<Record>, Stats) {
    let mut r = LogReader::new(
        BufReadLines::new(text.as_bytes(), source),
        ReaderOptions::default(),
    );
    let recs: Vec<Record> = r.by_ref().filter_map(Result::ok).collect();
    (recs, r.stats().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_syscall_and_proctitle() {
        let log = "type=AVC msg=audit(1.5:7): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=3 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n\
type=SYSCALL msg=audit(1.5:7): arch=c000003e syscall=257 success=no exit=-13 pid=3 uid=0 auid=1000 comm=\"c\" exe=\"/usr/bin/c\"\n\
type=CWD msg=audit(1.5:7): cwd=\"/root\"\n\
type=PROCTITLE msg=audit(1.5:7): proctitle=636174002F78\n\
type=SYSCALL msg=audit(1.5:8): arch=c000003e syscall=1\n";
        let (recs, st) = parse_str(log, "t");
        assert_eq!(recs.len(), 1);
        let c = recs[0].context.as_ref().unwrap();
        assert_eq!(c.exe.as_ref().unwrap(), "/usr/bin/c");
        assert_eq!(c.cwd.as_ref().unwrap(), "/root");
        assert_eq!(c.proctitle.as_ref().unwrap(), "cat /x");
        assert_eq!(c.exit, Some(-13));
        assert_eq!(st.grouped, 3);
        assert_eq!(st.lines, 5);
    }

    #[test]
    fn a_closed_event_takes_no_more_records() {
        // The first event ends with its PROCTITLE while an older event is
        // still open before it (so it is not released yet): what arrives
        // later with its id starts a new event all the same.
        let avc = |serial: u32, name: &str| {
            format!(
                "type=AVC msg=audit(1.5:{serial}): apparmor=\"DENIED\" operation=\"open\" \
                 profile=\"p\" name=\"{name}\" requested_mask=\"r\" denied_mask=\"r\"\n"
            )
        };
        let log = [
            avc(6, "/old"),
            avc(7, "/a"),
            "type=SYSCALL msg=audit(1.5:7): arch=c000003e syscall=257 success=no exit=-13\n".into(),
            "type=PROCTITLE msg=audit(1.5:7): proctitle=636174\n".into(),
            avc(7, "/b"),
            "type=CWD msg=audit(1.5:7): cwd=\"/late\"\n".into(),
        ]
        .concat();
        let (recs, st) = parse_str(&log, "t");
        let names: Vec<_> = recs.iter().map(|r| r.name.clone().unwrap()).collect();
        assert_eq!(names, ["/old", "/a", "/b"]);
        let ctx = |i: usize| recs[i].context.as_ref().map(|c| c.records.clone());
        assert_eq!(ctx(1).unwrap(), ["SYSCALL", "PROCTITLE"]);
        // `/b` is an event of its own: the CWD is its context only
        assert_eq!(ctx(2).unwrap(), ["CWD"]);
        assert_eq!(st.grouped, 3);
    }

    #[test]
    fn empty_record_empties_every_field() {
        // every field set (texts inline and on the heap); the struct
        // literal names them all, so a new field must be added here
        let t = |s: &str| Text::from(s);
        let mut r = Record {
            event: EventType::Denied,
            epoch_msec: Some(5),
            audit_id: Some(Text::from_bytes(&[b'x'; 1])),
            operation: Some(Text::from_bytes(&[b'x'; 8])),
            class: Some(Text::from_bytes(&[b'x'; 15])),
            requested_mask: Some(Text::from_bytes(&[b'x'; 22])),
            denied_mask: Some(Text::from_bytes(&[b'x'; 29])),
            profile: Some(Text::from_bytes(&[b'x'; 36])),
            peer_profile: Some(Text::from_bytes(&[b'x'; 3])),
            peer: Some(Text::from_bytes(&[b'x'; 10])),
            name: Some(Text::from_bytes(&[b'x'; 17])),
            comm: Some(Text::from_bytes(&[b'x'; 24])),
            name2: Some(Text::from_bytes(&[b'x'; 31])),
            namespace: Some(Text::from_bytes(&[b'x'; 38])),
            attribute: Some(Text::from_bytes(&[b'x'; 5])),
            info: Some(Text::from_bytes(&[b'x'; 12])),
            peer_info: Some(Text::from_bytes(&[b'x'; 19])),
            active_hat: Some(Text::from_bytes(&[b'x'; 26])),
            net_addr: Some(Text::from_bytes(&[b'x'; 33])),
            peer_addr: Some(Text::from_bytes(&[b'x'; 40])),
            net_family: Some(Text::from_bytes(&[b'x'; 7])),
            net_sock_type: Some(Text::from_bytes(&[b'x'; 14])),
            net_protocol: Some(Text::from_bytes(&[b'x'; 21])),
            net_local_addr: Some(Text::from_bytes(&[b'x'; 28])),
            net_foreign_addr: Some(Text::from_bytes(&[b'x'; 35])),
            dbus_bus: Some(Text::from_bytes(&[b'x'; 2])),
            dbus_path: Some(Text::from_bytes(&[b'x'; 9])),
            dbus_interface: Some(Text::from_bytes(&[b'x'; 16])),
            dbus_member: Some(Text::from_bytes(&[b'x'; 23])),
            signal: Some(Text::from_bytes(&[b'x'; 30])),
            fs_type: Some(Text::from_bytes(&[b'x'; 37])),
            flags: Some(Text::from_bytes(&[b'x'; 4])),
            src_name: Some(Text::from_bytes(&[b'x'; 11])),
            execpath: Some(Text::from_bytes(&[b'x'; 18])),
            audit_type: Some(Text::from_bytes(&[b'x'; 25])),
            epoch: Some(7),
            audit_sub_id: Some(7),
            fsuid: Some(7),
            ouid: Some(7),
            task: Some(7),
            parent: Some(7),
            magic_token: Some(7),
            error_code: Some(7),
            pid: Some(7),
            peer_pid: Some(7),
            net_local_port: Some(7),
            net_foreign_port: Some(7),
            extra: vec![(t("k"), t("v"))],
            enrichment: vec![(t("K"), t("v"))],
            header: vec![(t("pid"), t("1"))],
            context: Some(Box::default()),
            framing: Framing::Auditd,
            provenance: Provenance {
                source: Arc::from("src"),
                line: 9,
                cursor: Some("c".into()),
                realtime_usec: Some(1),
                prefix_time: Some("t".into()),
                host: Some("h".into()),
                origin: Origin::Kernel,
            },
            problem: Some("p".into()),
        };
        empty_record(&mut r);
        let mut want = Record::default();
        want.provenance.source = Arc::from("src");
        assert_eq!(r, want);
    }

    #[test]
    fn syscall_fields_read_past_skipped_keys() {
        // the kernel's layout (a0 … pid passed over without tokenising),
        // and layouts where that must not happen: a quoted value among
        // them, a key out of order, two spaces
        let avc = "type=AVC msg=audit(1.5:7): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=3 comm=\"c\"\n";
        for (tail, uid, auid) in [
            (
                "a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=4 auid=1000 uid=7 gid=0",
                7,
                1000,
            ),
            (
                "a0=\"1 uid=5\" a1=2 a2=3 a3=4 items=1 ppid=1 pid=4 auid=1000 uid=7",
                7,
                1000,
            ),
            (
                "a0=1 a1=2 uid=9 a2=3 a3=4 items=1 ppid=1 pid=4 auid=1000",
                9,
                1000,
            ),
            (
                "a0=1 a1=2 a2=3 a3=4 items=1 ppid=1  pid=4 auid=8 uid=7",
                7,
                8,
            ),
            (
                "a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=4auid=2 auid=3 uid=7",
                7,
                3,
            ),
        ] {
            let log = format!(
                "{avc}type=SYSCALL msg=audit(1.5:7): arch=c000003e syscall=2 success=no exit=-13 {tail} comm=\"c\" exe=\"/bin/c\"\n"
            );
            let (recs, _) = parse_str(&log, "t");
            let c = recs[0].context.as_ref().unwrap();
            assert_eq!(
                (c.uid, c.auid, c.exit),
                (Some(uid), Some(auid), Some(-13)),
                "{tail}"
            );
            assert_eq!(c.exe.as_ref().unwrap(), "/bin/c", "{tail}");
        }
    }

    #[test]
    fn repeated_context_keys_all_read() {
        // the scan of a CWD/PATH/PROCTITLE record stops early only when its
        // key does not come again
        let log = "type=AVC msg=audit(1.5:7): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=3 comm=\"c\"\n\
type=CWD msg=audit(1.5:7): cwd=\"/a\" x=1 cwd=\"/b\"\n\
type=PATH msg=audit(1.5:7): item=0 name=\"/p\" nametype=NORMAL\tname=\"/q\" cap_fp=0\n\
type=PATH msg=audit(1.5:7): item=1 name=\"/r\" xname=1 nametype=NORMAL\n\
type=PROCTITLE msg=audit(1.5:7): proctitle=6C73 a=proctitle= proctitle=636174\n";
        let (recs, _) = parse_str(log, "t");
        let c = recs[0].context.as_ref().unwrap();
        assert_eq!(c.cwd.as_ref().unwrap(), "/b");
        let paths: Vec<String> = c.paths.iter().map(|p| p.to_string()).collect();
        assert_eq!(paths, ["/p", "/q", "/r"]);
        assert_eq!(c.proctitle.as_ref().unwrap(), "cat");
    }

    /// A source that only copies lines ([`LineSource::next_line`]): its
    /// lines are never marked plain, so the reader checks each one.
    struct Copying<S>(S);

    impl<S: LineSource> LineSource for Copying<S> {
        fn next_line(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<NextLine>> {
            self.0.next_line(buf, max)
        }
        fn name(&self) -> &str {
            self.0.name()
        }
    }

    #[test]
    fn plain_lines_counted_like_checked_ones() {
        // ~3 MiB (many reads and buffer moves) with NUL and non-UTF-8
        // bytes at varying places, incl. runs of clean reads between them
        let mut log = Vec::new();
        for i in 0..12_000u64 {
            // a fixed scatter of the odd bytes (multiplicative hash of i)
            let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
            log.extend_from_slice(format!("type=AVC msg=audit(1.5:{i}): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x{i}\" pid=3 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0").as_bytes());
            match x % 97 {
                0 => log.push(0),
                1 => log.push(0xff),
                2 => log.extend_from_slice("é".as_bytes()),
                3 if i % 3 == 0 => log.extend_from_slice(&[0, 0xfe]),
                _ => {}
            }
            log.extend_from_slice(format!(" {}\n", "y".repeat((x % 300) as usize)).as_bytes());
        }
        let read = |threads: usize, copying: bool| {
            let opts = ReaderOptions {
                threads,
                ..ReaderOptions::default()
            };
            let src = BufReadLines::new_bulk(&log[..], "t");
            if copying {
                let mut r = LogReader::new(Copying(src), opts);
                while r.next_ref().is_some() {}
                r.stats().clone()
            } else {
                let mut r = LogReader::new(src, opts);
                while r.next_ref().is_some() {}
                r.stats().clone()
            }
        };
        let want = read(1, true);
        assert!(
            want.binary_lines > 50 && want.non_utf8_lines > 100,
            "{want:?}"
        );
        for threads in [1, 3] {
            let got = read(threads, false);
            assert_eq!(
                (got.binary_lines, got.non_utf8_lines, got.lines, got.records),
                (
                    want.binary_lines,
                    want.non_utf8_lines,
                    want.lines,
                    want.records
                ),
                "{threads} threads"
            );
        }
    }

    struct Scripted(Vec<Option<&'static str>>, u64);

    impl LineSource for Scripted {
        fn next_line(&mut self, buf: &mut Vec<u8>, _max: usize) -> io::Result<Option<NextLine>> {
            if self.0.is_empty() {
                return Ok(None);
            }
            self.1 += 1;
            Ok(Some(match self.0.remove(0) {
                Some(l) => {
                    buf.clear();
                    buf.extend_from_slice(l.as_bytes());
                    NextLine::Line(LineMeta {
                        line: self.1,
                        ..LineMeta::default()
                    })
                }
                None => NextLine::Idle,
            }))
        }
        fn name(&self) -> &str {
            "scripted"
        }
    }

    #[test]
    fn idle_source_releases_pending_and_resumes() {
        let avc = "type=AVC msg=audit(1.5:7): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\"";
        let avc2 = "type=AVC msg=audit(1.5:8): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/y\"";
        let mut r = LogReader::new(
            Scripted(vec![Some(avc), None, None, Some(avc2), None], 0),
            ReaderOptions::default(),
        );
        assert_eq!(r.next().unwrap().unwrap().audit_sub_id, Some(7));
        assert!(r.next().is_none(), "idle, nothing pending");
        assert_eq!(r.next().unwrap().unwrap().audit_sub_id, Some(8));
        assert!(r.next().is_none(), "end");
    }

    #[test]
    fn joins_multiline_user_avc() {
        let log = "Jun 20 17:57:06 ns1 kernel: [4835959.046111] audit: type=1107 audit(1561053426.749:186): pid=640 uid=103 auid=4294967295 ses=4294967295 msg='apparmor=\"ALLOWED\" operation=\"dbus_method_call\" bus=\"system\" label=\"x\"\n    exe=\"/usr/bin/dbus-daemon\" sauid=103 hostname=? addr=? terminal=?'\nnext\n";
        let (recs, st) = parse_str(log, "t");
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].comm.as_ref().unwrap(), "/usr/bin/dbus-daemon");
        assert_eq!(st.joined, 1);
        assert_eq!(st.lines, 3);
    }
}
