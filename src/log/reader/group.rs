//! One line at a time into records: the pre-filter, USER_AVC lines continued
//! on the next line, and the grouping of an audit event's other records
//! (SYSCALL, CWD, PATH, PROCTITLE) into its AppArmor records.

use super::lines::{LineMeta, LineSource, NextLine};
use super::{Pending, State, Step, parallel};
use crate::log::parse::{self, AuditId, ParsedLine};
use crate::log::record::{AuditContext, EventType, Framing, Origin, Provenance, Record, Text};
use std::sync::Arc;

impl State {
    /// Moves the record out of its box and keeps the box for the next one.
    pub(super) fn recycle(&mut self, mut b: Box<Record>) -> Record {
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
    pub(super) fn reuse(&mut self, mut b: Box<Record>) {
        if b.rendered.records() > 1 {
            // a run's carrier keeps its buffer for the next run (see `parallel`)
            if self.carriers.len() < 16 {
                self.carriers.push(b);
            }
            return;
        }
        if self.spare.len() >= self.spare_cap {
            return;
        }
        if !self.spare_dirty {
            empty_record(&mut b);
        }
        self.spare.push(b);
    }

    /// An empty record box to parse into: a spare one if any.
    pub(super) fn take_box(&mut self) -> Box<Record> {
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
    pub(super) fn pop_ready(&mut self, all: bool) -> Option<Box<Record>> {
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
    pub(super) fn complete(&self, front: &Pending, all: bool) -> bool {
        all || front.closed
            || self.last_line.saturating_sub(front.last_line) > self.opts.group_window
            || self.pending.len() > 256
    }

    /// Moves the open events at the front that are complete
    /// ([`State::complete`]) to `ready`, in order.
    #[inline(never)]
    pub(super) fn release_front(&mut self, all: bool) {
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

    pub(super) fn push_record(&mut self, mut rec: Box<Record>, line: u64) {
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
    pub(super) fn open_event(&mut self, key: (u64, u32, u64), line: u64) -> Option<&mut Pending> {
        let window = self.opts.group_window;
        self.pending
            .iter_mut()
            .rev()
            .find(|p| p.key == Some(key) && !p.closed && line.saturating_sub(p.last_line) <= window)
    }

    /// Merges another audit record into the open event with the same id.
    pub(super) fn group_other(&mut self, t: &[u8], id: AuditId, body: &[u8], line: u64) -> bool {
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
    pub(super) fn try_group(&mut self, line: &[u8], meta: &LineMeta, typed: Option<usize>) {
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
    pub(super) fn keep_orphan(&mut self, line: &[u8], meta: &LineMeta, parsed: bool) -> bool {
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
    pub(super) fn process(&mut self, line: &[u8], meta: &LineMeta) -> Step {
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
    pub(super) fn join<S: LineSource>(&mut self, src: &mut S, buf: &mut Vec<u8>) {
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
    pub(super) fn finish(&mut self, line: &[u8], meta: LineMeta) {
        let parsed = parse::parse_line_into(line, self.take_box());
        match parsed {
            ParsedLine::AppArmor(mut rec) => {
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
                } else if !self.kernel_tag_trusted
                    && rec.provenance.origin != Origin::Untrusted
                    && rec
                        .provenance
                        .prefix_time
                        .as_deref()
                        .is_some_and(|t| !t.starts_with('['))
                {
                    // a syslog date: the `kernel:` tag is the sender's choice here
                    rec.provenance.origin = Origin::Untrusted;
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
            ParsedLine::Other(o) => {
                self.stats.other_audit += 1;
                if let Some(id) = o.id {
                    if self.group_other(o.audit_type, id, o.body, meta.line) {
                        self.stats.grouped += 1;
                    } else {
                        self.keep_orphan(line, &meta, true);
                    }
                }
            }
            ParsedLine::NotAudit => self.stats.not_apparmor += 1,
        }
    }
}

/// Empties `b` in place, keeping the capacity of its lists and the
/// provenance source (the reader sets it again, usually to the same name,
/// see [`State::finish`]). Field by field: building a default record and
/// moving it in wrote the ~1.3 KiB twice. The pattern names every field,
/// so a field added to [`Record`] must be added here.
pub(super) fn empty_record(b: &mut Record) {
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
        others: event, extra, enrichment, header, context, framing, provenance, problem, rendered
    );
    rendered.clear();
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
pub(super) fn absorb(c: &mut AuditContext, add: AuditContext) {
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
