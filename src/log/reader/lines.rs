//! Line sources: the [`LineSource`] trait, the metadata a source attaches to
//! a line, and [`BufReadLines`], which reads any `BufRead` line by line or in
//! blocks cut at line ends, with a bound on the line length.

use crate::log::parse::AuditId;
use crate::log::record::Origin;
use std::io::{self, BufRead};

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
    /// per-line checks for [`Stats`](super::Stats)' binary and non-UTF-8 counts. False
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
/// the journal and the kernel ring buffer (see [`crate::log::source`]).
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
    pub(super) reader: R,
    pub(super) name: String,
    /// Lines returned by line reads (block reads leave the count to the reader).
    pub(super) line: u64,
    /// Read buffer: `block[start..end]` is data not yet returned.
    pub(super) block: Vec<u8>,
    pub(super) start: usize,
    pub(super) end: usize,
    /// End of input seen (EOF, or `WouldBlock` from a non-blocking reader).
    pub(super) eof: bool,
    /// Offer [`LineSource::next_block`] (a regular file).
    pub(super) bulk: bool,
    /// A read error met by a block read, returned once the complete lines
    /// read before it have been handed over (as the line reader does).
    pub(super) failed: Option<io::Error>,
    /// `block[..plain_end]` is ASCII without NUL bytes ([`LineMeta::plain`]).
    pub(super) plain_end: usize,
    /// Read in blocks ([`LineSource::next_block`]): the block's reader
    /// checks for plain lines, not `fill`.
    pub(super) in_blocks: bool,
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
    pub(super) fn fill(&mut self) -> io::Result<usize> {
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
    pub(super) fn next_range(
        &mut self,
        max: usize,
    ) -> io::Result<Option<Result<(usize, usize), ()>>> {
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
    pub(super) fn skip_long(&mut self) -> io::Result<bool> {
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
    pub(super) fn read_block(
        &mut self,
        max: usize,
        spare: Vec<u8>,
    ) -> io::Result<Option<LineBlock>> {
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
    pub(super) fn hand_over(&mut self, cut: usize, mut spare: Vec<u8>) -> LineBlock {
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
