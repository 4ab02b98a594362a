//! Parallel parsing of a source read in blocks ([`LineSource::next_block`]):
//! each block of whole lines (256 KiB) is parsed, grouping
//! included, by a worker thread into a [`BlockOut`]; the reader merges the
//! blocks in input order. The result equals the line-by-line reader's:
//! line numbers are shifted by the lines of the blocks before, records still
//! open for grouping at the end of a block stay open, and the audit records
//! at the start of the next block that found no open event of their own
//! ([`Orphan`]s) are offered to them first.
//!
//! An AppArmor record within the grouping window of a block's start that
//! starts an event of its own in its block (a *head* event, see
//! [`Pending::is_head`]) may belong to an event left open by the block before:
//! the merge joins it there, with the context records it gathered, as the
//! line reader would have. (Joining never depends on when an event was
//! released: a closed event takes nothing more, see `State::open_event`.)

use super::group::absorb;
use super::{
    LineBlock, LineMeta, LineSource, LogReader, NextLine, Pending, ReadError, ReaderOptions, State,
};
use crate::log::parse::{self, AuditId, ParsedLine};
use crate::log::record::{Prerendered, Record};
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// An audit record near the start of a block that found no open event in
/// its block: it may belong to one left open by the block before.
pub(super) struct Orphan {
    /// Line number within the block.
    pub(super) line: u64,
    /// The line.
    pub(super) data: Vec<u8>,
    /// The audit id the source gave with the line.
    pub(super) audit_id: Option<AuditId>,
    /// Seen by the full parser (counted as another audit record already)
    /// rather than by the pre-filter (not counted yet).
    pub(super) parsed: bool,
}

/// What parsing one block gave.
struct BlockOut {
    /// Records released within the block, in order.
    #[allow(clippy::vec_box)]
    records: Vec<Box<Record>>,
    /// Events still open at the end, in order.
    open: VecDeque<Pending>,
    /// Head events ([`Pending::is_head`]) released within the block, each
    /// with the number of `records` released before it.
    heads: Vec<(u64, Pending)>,
    orphans: Vec<Orphan>,
    stats: super::Stats,
    /// Lines in the block, then oversized lines skipped after it.
    lines: u64,
    skipped: u64,
    /// The block's buffer (its bytes are overwritten, not cleared: see
    /// `BufReadLines::read_block`) and the record boxes not used: back to
    /// the reader for the next blocks.
    buf: Vec<u8>,
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Record>>,
}

/// A block to parse, with emptied record boxes to parse into.
struct Job {
    idx: u64,
    block: LineBlock,
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Record>>,
    /// A box that carried a run before, with its output buffer (see [`prerender`]).
    carrier: Option<Box<Record>>,
}

/// Record boxes sent with the first blocks; later blocks get as many as the
/// last merged block used, plus a quarter (see [`Par::per_block`]).
pub(super) const SPARE_PER_BLOCK: usize = 512;

/// At most this many boxes go with one block (about 5 MiB of records): a
/// block of short records allocates the rest.
const SPARE_MAX: usize = 4096;

/// The lines of one block, lent one at a time.
struct BlockLines {
    data: Vec<u8>,
    pos: usize,
    line: u64,
    /// `data[..plain_end]` is ASCII without NUL bytes ([`LineMeta::plain`]).
    plain_end: usize,
}

impl LineSource for BlockLines {
    fn next_line(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<NextLine>> {
        buf.clear();
        let mut none = Vec::new();
        let r = self.next_line_ref(&mut none, max)?;
        Ok(r.map(|(n, l)| {
            buf.extend_from_slice(l);
            n
        }))
    }

    fn next_line_ref<'a>(
        &'a mut self,
        _buf: &'a mut Vec<u8>,
        max: usize,
    ) -> io::Result<Option<(NextLine, &'a [u8])>> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let rest = &self.data[self.pos..];
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let (s, e) = (self.pos, self.pos + end);
        self.pos = e + 1;
        self.line += 1;
        let meta = LineMeta {
            line: self.line,
            plain: e <= self.plain_end,
            ..LineMeta::default()
        };
        Ok(Some(if e - s <= max {
            (NextLine::Line(meta), &self.data[s..e])
        } else {
            (NextLine::Oversized(meta), &[][..])
        }))
    }

    fn name(&self) -> &str {
        ""
    }
}

/// Parses one block (on a worker thread, or inline).
fn parse_block(job: Job, opts: &ReaderOptions, name: Arc<str>) -> BlockOut {
    let Job {
        block,
        spare,
        carrier,
        ..
    } = job;
    let mut st = State::new(opts.clone(), name);
    st.block_mode = true;
    // the boxes given are all kept: they go back with the block
    st.spare_cap = spare.len().max(SPARE_PER_BLOCK);
    st.spare = spare;
    st.spare_dirty = true;
    let mut r = LogReader {
        src: BlockLines {
            plain_end: super::plain_prefix(&block.data),
            data: block.data,
            pos: 0,
            line: 0,
        },
        buf: Vec::new(),
        st,
        lent: None,
        par: None,
    };
    let mut records = Vec::new();
    // an in-memory block has no read errors
    while let Some(Ok(rec)) = r.next_boxed() {
        records.push(rec);
    }
    // records released within the block change no more but for their line
    // number (see `State::merge`): render them here, while they are hot
    // the records after the last released head event go into one carrier (the merge may put
    // a head event back only before it, see `State::merge`), rendered or folded; with
    // `prerender` the others are rendered each into its own
    let carry = match (&opts.prerender, &opts.fold) {
        (Some(form), _) => Some(Carry::Render(form)),
        (None, Some(fold)) => Some(Carry::Fold(&**fold)),
        (None, None) => None,
    };
    if let Some(carry) = carry {
        let split = run_start(&r.st.heads, records.len());
        let mut run: Vec<Box<Record>> = records.split_off(split);
        if let Carry::Render(form) = carry {
            prerender(form, &mut records, None);
        }
        if !run.is_empty() {
            let mut carrier = match carrier {
                Some(mut c) => {
                    super::group::empty_record(&mut c);
                    c
                }
                None => r.st.take_box(),
            };
            // line 0: each record's line is its distance from the carrier's once the merge
            // has shifted it
            carrier.provenance.line = 0;
            match carry {
                Carry::Render(form) => prerender(form, &mut run, Some(&mut carrier)),
                Carry::Fold(fold) => {
                    let refs: Vec<&Record> = run.iter().map(|b| &**b).collect();
                    carrier.rendered.set_folded(run.len(), fold.fold(&refs));
                }
            }
            records.push(carrier);
            for b in run {
                r.st.reuse(b);
            }
        }
    }
    let buf = std::mem::take(&mut r.src.data);
    BlockOut {
        records,
        open: std::mem::take(&mut r.st.pending),
        heads: std::mem::take(&mut r.st.heads),
        orphans: std::mem::take(&mut r.st.orphans),
        stats: std::mem::take(&mut r.st.stats),
        lines: r.src.line,
        skipped: block.skipped,
        buf,
        spare: std::mem::take(&mut r.st.spare),
    }
}

/// What a parser thread puts into a carrier (see [`parse_block`]).
#[derive(Clone, Copy)]
enum Carry<'a> {
    Render(&'a super::Prerender),
    Fold(&'a dyn super::BlockFold),
}

/// Where the run of a block's records that a parser thread may render or fold into one
/// carrier starts: after the last released head event's place (the merge may put a head
/// event back among the block's records, only before that point, see `State::merge`).
fn run_start(heads: &[(u64, Pending)], released: usize) -> usize {
    heads
        .iter()
        .map(|(at, _)| usize::try_from(*at).unwrap_or(usize::MAX))
        .max()
        .unwrap_or(0)
        .min(released)
}

/// Renders `records` in `form`: each into its own [`Record::rendered`], or, with a
/// `carrier` (at line 0), all into the carrier's, each with its line as the distance from
/// the carrier's.
#[allow(clippy::vec_box)]
fn prerender(form: &super::Prerender, records: &mut [Box<Record>], carrier: Option<&mut Record>) {
    let mut times = match form {
        super::Prerender::Json => None,
        super::Prerender::Text(tz) => Some(crate::log::time::ZoneFormatter::new(tz)),
    };
    let mut render = |into: &mut Prerendered, r: &Record, delta: u64| {
        into.push(delta, |out| match &mut times {
            None => crate::log::ndjson::write_json_line_at(out, r),
            Some(t) => crate::log::render::write_text_line_at(out, r, t),
        });
    };
    match carrier {
        Some(c) => {
            for r in records.iter() {
                render(&mut c.rendered, r, r.provenance.line);
            }
        }
        None => {
            for r in records.iter_mut() {
                let mut cache = std::mem::take(&mut r.rendered);
                cache.clear();
                render(&mut cache, r, 0);
                r.rendered = cache;
            }
        }
    }
}

/// The number of parser threads `opts` asks for (0: one per CPU, at most 8;
/// never more than 64).
pub(super) fn threads(opts: &ReaderOptions) -> usize {
    match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
        n => n.min(super::MAX_THREADS),
    }
}

/// The block pipeline of a [`LogReader`].
pub(super) struct Par {
    /// Worker threads (none: blocks are parsed inline).
    jobs: Option<SyncSender<Job>>,
    /// Parsed blocks by index (`None`: the parser thread failed).
    results: Option<Receiver<(u64, Option<BlockOut>)>>,
    workers: Vec<JoinHandle<()>>,
    threads: usize,
    /// Blocks read, blocks merged.
    sent: u64,
    merged: u64,
    /// Parsed blocks waiting for their turn (and inline results).
    waiting: BTreeMap<u64, BlockOut>,
    src_done: bool,
    error: Option<io::Error>,
    /// Emptied block buffers.
    free: Vec<Vec<u8>>,
    /// Record boxes to send with each block: the last merged block's
    /// records plus a quarter, at most [`SPARE_MAX`]. (A fixed 512 was too
    /// few for blocks of ~660 records: a quarter of the records were parsed
    /// into new boxes, and the reader freed as many.)
    per_block: usize,
}

impl Par {
    pub(super) fn new(opts: &ReaderOptions) -> Self {
        let threads = threads(opts);
        Par {
            jobs: None,
            results: None,
            workers: Vec::new(),
            threads,
            sent: 0,
            merged: 0,
            waiting: BTreeMap::new(),
            src_done: false,
            error: None,
            free: Vec::new(),
            per_block: SPARE_PER_BLOCK,
        }
    }

    /// Starts the workers (when more than one thread is wanted and the
    /// input is more than one block); on failure blocks are parsed inline.
    fn start(&mut self, opts: &ReaderOptions, name: &Arc<str>) {
        let (jtx, jrx) = mpsc::sync_channel::<Job>(self.threads);
        let (rtx, rrx) = mpsc::channel();
        let jrx = Arc::new(Mutex::new(jrx));
        for i in 0..self.threads {
            let (jrx, rtx, opts, name) = (jrx.clone(), rtx.clone(), opts.clone(), name.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("log-parse-{i}"))
                .spawn(move || {
                    // the boxes this thread parsed into and got back at once (records
                    // of a rendered run): they stay here, in this core's cache
                    #[allow(clippy::vec_box)]
                    let mut own: Vec<Box<Record>> = Vec::new();
                    loop {
                        let job = match jrx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(mut job) = job else { return };
                        let idx = job.idx;
                        job.spare.append(&mut own);
                        // a bug must not leave the reader waiting for this
                        // block forever: a panic is reported as a failed block
                        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            parse_block(job, &opts, name.clone())
                        }))
                        .ok()
                        .map(|mut out| {
                            own = std::mem::take(&mut out.spare);
                            own.truncate(SPARE_MAX);
                            out
                        });
                        if rtx.send((idx, out)).is_err() {
                            return;
                        }
                    }
                });
            match spawned {
                Ok(h) => self.workers.push(h),
                Err(_) => break,
            }
        }
        if !self.workers.is_empty() {
            self.jobs = Some(jtx);
            self.results = Some(rrx);
        }
    }
}

impl Drop for Par {
    fn drop(&mut self) {
        // closing the job queue ends the workers
        self.jobs = None;
        self.results = None;
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}

impl<S: LineSource> LogReader<S> {
    /// [`LogReader::next_boxed`] for a source read in blocks.
    pub(super) fn next_from_blocks(&mut self) -> Option<Result<Box<Record>, ReadError>> {
        let LogReader { src, st, par, .. } = self;
        let par = par.as_mut()?;
        loop {
            if let Some(r) = st.ready.pop_front() {
                return Some(Ok(r));
            }
            if st.done {
                return None;
            }
            // keep the workers busy: up to two blocks each in flight
            while !par.src_done && par.sent - par.merged < 2 * par.threads as u64 {
                match src.next_block(st.opts.max_line, par.free.pop().unwrap_or_default()) {
                    Ok(Some(block)) => {
                        if par.jobs.is_none() && par.threads > 1 && par.sent == 1 {
                            par.start(&st.opts, &st.name);
                        }
                        let n = st.spare.len().min(par.per_block);
                        let job = Job {
                            idx: par.sent,
                            block,
                            spare: st.spare.split_off(st.spare.len() - n),
                            carrier: st.carriers.pop(),
                        };
                        let job = match &par.jobs {
                            Some(j) => j.send(job).err().map(|mpsc::SendError(job)| job),
                            None => Some(job),
                        };
                        if let Some(job) = job {
                            let out = parse_block(job, &st.opts, st.name.clone());
                            par.waiting.insert(par.sent, out);
                        }
                        par.sent += 1;
                    }
                    Ok(None) => par.src_done = true,
                    Err(e) => {
                        par.src_done = true;
                        par.error = Some(e);
                    }
                }
            }
            if par.merged < par.sent {
                let out = loop {
                    if let Some(o) = par.waiting.remove(&par.merged) {
                        break Some(o);
                    }
                    match par.results.as_ref().map(Receiver::recv) {
                        Some(Ok((i, Some(o)))) => {
                            par.waiting.insert(i, o);
                        }
                        _ => break None,
                    }
                };
                let Some(out) = out else {
                    st.done = true;
                    return Some(Err(ReadError {
                        source_name: st.name.to_string(),
                        line: st.last_line,
                        error: io::Error::other("a parser thread failed (a bug: please report it)"),
                    }));
                };
                let used =
                    out.records.len() + out.open.iter().map(|p| 1 + p.rest.len()).sum::<usize>();
                par.per_block = (used + used / 4).clamp(SPARE_PER_BLOCK, SPARE_MAX);
                // the reader keeps what the blocks in flight and the next
                // one take, so that no box is freed and allocated again
                st.spare_cap = st.spare_cap.max((2 * par.threads + 1) * par.per_block);
                par.free.push(st.merge(out));
                par.merged += 1;
                continue;
            }
            // all blocks merged: release what is still open
            st.release_front(true);
            if !st.ready.is_empty() {
                continue;
            }
            st.done = true;
            if let Some(error) = par.error.take() {
                return Some(Err(ReadError {
                    source_name: st.name.to_string(),
                    line: st.last_line,
                    error,
                }));
            }
            return None;
        }
    }
}

/// An item of a block's start that may belong to an event left open by
/// the block before, in line order for [`State::merge`].
enum Head {
    Orphan(Orphan),
    /// A head event ([`Pending::is_head`]) released within the block, with
    /// its position among the block's records.
    Released(u64, Pending),
    /// A head event still open at the block's end, with its index in the
    /// block's open events.
    Open(usize, Pending),
}

impl Head {
    fn line(&self) -> u64 {
        match self {
            Head::Orphan(o) => o.line,
            Head::Released(_, p) | Head::Open(_, p) => p.first.provenance.line,
        }
    }
}

impl State {
    /// Appends a parsed block. In line order, its orphans go to the events
    /// left open by the block before, and so do its head events (their
    /// AppArmor records, with the context they gathered, as the line reader
    /// would have joined them); those events are then complete. The
    /// block's other records follow. Returns the block's buffer for reuse.
    fn merge(&mut self, mut out: BlockOut) -> Vec<u8> {
        let off = self.last_line;
        // head events still open leave `open` (their places kept); the
        // `is_head` reads the block's own line numbers, before the shift
        let window = self.opts.group_window;
        let mut open: Vec<Option<Pending>> = out.open.drain(..).map(Some).collect();
        let mut starts: Vec<Head> = Vec::new();
        for (i, slot) in open.iter_mut().enumerate() {
            if let Some(p) = slot.take_if(|p| p.is_head(window)) {
                starts.push(Head::Open(i, p));
            }
        }
        starts.extend(out.heads.drain(..).map(|(at, p)| Head::Released(at, p)));
        for r in &mut out.records {
            r.provenance.line += off;
        }
        let events = open
            .iter_mut()
            .flatten()
            .chain(starts.iter_mut().filter_map(|h| match h {
                Head::Released(_, p) | Head::Open(_, p) => Some(p),
                Head::Orphan(_) => None,
            }));
        for p in events {
            p.last_line += off;
            for r in p.records_mut() {
                r.provenance.line += off;
            }
        }
        starts.extend(std::mem::take(&mut out.orphans).into_iter().map(|mut o| {
            o.line += off;
            Head::Orphan(o)
        }));
        starts.sort_by_key(Head::line);
        // released head events that stay events of their own, by position
        let mut own: Vec<(u64, Pending)> = Vec::new();
        for h in starts {
            let line = h.line();
            self.last_line = line;
            self.release_front(false);
            match h {
                Head::Orphan(o) => self.merge_orphan(o, line),
                Head::Released(at, p) => own.extend(self.join_head(p, line).map(|p| (at, p))),
                Head::Open(i, p) => open[i] = self.join_head(p, line),
            }
        }
        self.last_line = off + out.lines + out.skipped;
        // events of earlier blocks still within the grouping window stay
        // open (a block of a few long lines is shorter than the window):
        // their context may come in the next block; the block's records
        // wait behind them, in order
        self.release_front(false);
        // the released head events that stay events of their own go back
        // to their places among the block's records
        own.sort_by_key(|(at, _)| *at);
        let mut own = own.into_iter().peekable();
        let mut records = Vec::with_capacity(out.records.len());
        for (i, r) in std::mem::take(&mut out.records).into_iter().enumerate() {
            while let Some((_, p)) = own.next_if(|(at, _)| *at <= i as u64) {
                records.push(p.first);
                records.extend(p.rest);
            }
            records.push(r);
        }
        for (_, p) in own {
            records.push(p.first);
            records.extend(p.rest);
        }
        if self.pending.is_empty() {
            self.ready.extend(records);
        } else {
            self.pending.extend(records.into_iter().map(|r| Pending {
                key: None,
                last_line: r.provenance.line,
                first: r,
                rest: Vec::new(),
                closed: true,
            }));
        }
        self.pending.extend(open.into_iter().flatten());
        self.stats.add(&out.stats);
        self.stats.lines += out.skipped;
        self.stats.oversized += out.skipped;
        self.spare.append(&mut out.spare);
        out.buf
    }

    /// Offers an orphan (at `line`, with the block's offset) to the open
    /// events.
    fn merge_orphan(&mut self, o: Orphan, line: u64) {
        if o.parsed {
            if let ParsedLine::Other(x) = parse::parse_line(&o.data) {
                if let Some(id) = x.id.or(o.audit_id) {
                    if self.group_other(x.audit_type, id, x.body, line) {
                        self.stats.grouped += 1;
                    }
                }
            }
        } else {
            let meta = LineMeta {
                line,
                audit_id: o.audit_id,
                ..LineMeta::default()
            };
            self.try_group(&o.data, &meta, None);
        }
    }

    /// Joins head event `h` (first record at `line`) to the open event of
    /// its audit id, as the line reader joins an AppArmor record: each
    /// record of `h` gets the context the event had at that point before its
    /// own, and the event's records get the context `h` gathered. Returns
    /// `h` when no open event takes it.
    fn join_head(&mut self, mut h: Pending, line: u64) -> Option<Pending> {
        let Some(key) = h.key else {
            return Some(h);
        };
        let Some(e) = self.open_event(key, line) else {
            return Some(h);
        };
        let gathered = h.first.context.as_deref().cloned();
        if let Some(before) = e.first.context.as_deref() {
            for r in h.records_mut() {
                let mut c = before.clone();
                if let Some(own) = r.context.take() {
                    absorb(&mut c, *own);
                }
                r.context = Some(Box::new(c));
            }
        }
        if let Some(g) = gathered {
            for r in e.records_mut() {
                match r.context.as_deref_mut() {
                    Some(c) => absorb(c, g.clone()),
                    None => r.context = Some(Box::new(g.clone())),
                }
            }
        }
        e.rest.push(h.first);
        e.rest.append(&mut h.rest);
        e.last_line = h.last_line;
        e.closed = h.closed;
        None
    }
}
