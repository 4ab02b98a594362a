//! Streaming: lines from a [`LineSource`] to [`Record`]s, with a memchr
//! pre-filter, USER_AVC lines whose `msg='` quote continues on the next
//! line joined, and the
//! other records of an audit event (SYSCALL, CWD, PATH, PROCTITLE with the
//! same `audit(EPOCH:SERIAL)`) merged into its AppArmor records.
//!
//! Memory is bounded: one line buffer (lines longer than
//! [`ReaderOptions::max_line`] are skipped and counted) and a small window of
//! audit events still open for grouping. A regular file is parsed in blocks
//! of 256 KiB on [`ReaderOptions::threads`] threads (see `parallel`): at most
//! two blocks per thread and their records are in memory at once.
//!
//! This file holds the options, the statistics and [`LogReader`]; `lines`
//! the line sources, `group` the per-line processing and event grouping,
//! `parallel` the block reader.

mod group;
mod lines;
mod parallel;
#[cfg(test)]
mod tests;

pub(crate) use lines::plain_prefix;
pub use lines::{BufReadLines, LineBlock, LineMeta, LineSource, NextLine, read_line_bounded};

use super::record::Record;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

/// Reader settings.
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Also yield AppArmor-looking lines that did not parse (as
    /// [`EventType::Invalid`](crate::log::EventType::Invalid) records with [`Record::problem`]).
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
    /// With several threads: the output form records are rendered in by the thread that
    /// parses them, into [`Record::rendered`] (so that the reading thread only copies bytes,
    /// with [`Prerendered::write_lines`](crate::log::Prerendered::write_lines)).
    /// The records of a block's end are then yielded as one *carrier*: a record whose
    /// `rendered` holds their lines (see
    /// [`Prerendered::records`](crate::log::Prerendered::records)) and whose other
    /// fields are empty, so only a reader that writes the output should ask for this.
    /// `None` (the default): not rendered.
    pub prerender: Option<Prerender>,
    /// With several threads and no `prerender`: the records of a block's end are folded
    /// by the thread that parses them ([`BlockFold::fold`]) and yielded as one *carrier*
    /// whose [`Prerendered::folded`](crate::log::Prerendered::folded) holds the result and
    /// whose other fields are empty, so only a reader that merges the results in order
    /// should ask for this. `None` (the default): every record is yielded.
    pub fold: Option<Arc<dyn BlockFold>>,
}

/// What a parser thread does with a run of records instead of handing them over
/// ([`ReaderOptions::fold`]): the run is in input order and final (the records do not
/// change any more, but for their line numbers, which are those of the block: not the
/// source's), and the reader hands the results over in input order, so that merging them
/// one after the other gives what handling the records one after the other gives.
pub trait BlockFold: Send + Sync + std::fmt::Debug {
    /// The result for `records`.
    fn fold(&self, records: &[&Record]) -> Arc<dyn std::any::Any + Send + Sync>;
}

/// An output form of [`ReaderOptions::prerender`].
#[derive(Debug, Clone)]
pub enum Prerender {
    /// The NDJSON object ([`crate::log::ndjson::write_json_line`]).
    Json,
    /// The text line ([`crate::log::render::write_text_line`]) with times in this zone.
    Text(jiff::tz::TimeZone),
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
            prerender: None,
            fold: None,
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
    /// The source is a kernel-facility-only syslog file (`kern.log`, rotated
    /// or not): a syslog line tagged `kernel:` is the kernel's there. In any
    /// other file or pipe that tag is chosen by the sender (`logger -t
    /// kernel`), and such a line is not taken as the kernel's.
    kernel_tag_trusted: bool,
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
    /// Boxes that carried a run of rendered records (see `parallel`), kept apart from
    /// `spare` for their large output buffer: each goes back with a block to carry its run.
    #[allow(clippy::vec_box)]
    carriers: Vec<Box<Record>>,
}

impl State {
    fn new(opts: ReaderOptions, name: Arc<str>) -> Self {
        let base = name.rsplit('/').next().unwrap_or_default();
        State {
            opts,
            stats: Stats::default(),
            kernel_tag_trusted: base.starts_with("kern.log"),
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
            carriers: Vec::new(),
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
