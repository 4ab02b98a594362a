//! The AppArmor audit record model (fields and event kinds:
//! docs/log-formats.md, "Keys and fields").
//!
//! [`Record`] carries every field of libapparmor's `aa_log_record` under the
//! same names, plus what that record lacks: `class`, `execpath`, `net_addr`,
//! `peer_addr`, the `KILLED` and `AUTO` event kinds, unknown keys kept in
//! order, auditd enrichment fields, context from grouped audit records
//! (SYSCALL, CWD, PATH, PROCTITLE) and provenance.

use crate::escape::escape_bytes;
use crate::label::Label;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// A value taken from a log line: raw bytes after quote removal or hex
/// decoding. The kernel hex-encodes names with spaces, quotes, control or
/// non-ASCII bytes, so a decoded value need not be UTF-8; it is kept
/// losslessly here and escaped only when printed ([`Text::escaped`]).
#[derive(Clone)]
pub struct Text(Repr);

/// Short values (masks, classes, operations, most comms) are stored inline
/// (no allocation): a log holds millions of them.
#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

const INLINE: usize = 22;

/// Copies `src` (at most [`INLINE`] bytes) to the start of `dst` with two
/// overlapping fixed-size moves instead of a `memcpy` call: values are
/// mostly a few bytes long and a call costs more than the copy. Bytes of
/// `dst` past `src.len()` are left as they were (they are never read).
#[inline]
fn copy_short(dst: &mut [u8; INLINE], src: &[u8]) {
    let n = src.len();
    if n >= 8 {
        if n >= 16 {
            dst[..16].copy_from_slice(&src[..16]);
            dst[n - 8..n].copy_from_slice(&src[n - 8..]);
        } else {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..n].copy_from_slice(&src[n - 8..]);
        }
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..n].copy_from_slice(&src[n - 4..]);
    } else if n > 0 {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

impl Default for Text {
    fn default() -> Self {
        Text(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }
}

impl PartialEq for Text {
    fn eq(&self, o: &Self) -> bool {
        self.as_bytes() == o.as_bytes()
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_bytes().hash(h)
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Text {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(o.as_bytes())
    }
}

impl Text {
    /// Wraps raw bytes.
    pub fn from_bytes(b: &[u8]) -> Self {
        if b.len() <= INLINE {
            let mut buf = [0; INLINE];
            copy_short(&mut buf, b);
            Text(Repr::Inline {
                len: b.len() as u8,
                buf,
            })
        } else {
            Text(Repr::Heap(b.into()))
        }
    }

    /// Stores `b` into `slot` in place (the parser's hot path): a short
    /// value is copied into the slot's inline buffer, so no temporary
    /// `Text` is written and read back (a store-forwarding stall per field)
    /// and no `memcpy` call is made.
    #[inline]
    pub(crate) fn put(slot: &mut Option<Text>, b: &[u8]) {
        if b.len() > INLINE {
            *slot = Some(Text(Repr::Heap(b.into())));
            return;
        }
        if !matches!(slot, Some(Text(Repr::Inline { .. }))) {
            *slot = Some(Text::default());
        }
        if let Some(Text(Repr::Inline { len, buf })) = slot {
            copy_short(buf, b);
            *len = b.len() as u8;
        }
    }

    /// [`Text::put`] for a slot that is not an `Option` (list entries).
    #[inline]
    pub(crate) fn set(&mut self, b: &[u8]) {
        if b.len() > INLINE {
            self.0 = Repr::Heap(b.into());
            return;
        }
        if !matches!(self.0, Repr::Inline { .. }) {
            *self = Text::default();
        }
        if let Repr::Inline { len, buf } = &mut self.0 {
            copy_short(buf, b);
            *len = b.len() as u8;
        }
    }

    /// Wraps owned bytes (no copy for long values).
    pub fn from_vec(b: Vec<u8>) -> Self {
        if b.len() <= INLINE {
            Text::from_bytes(&b)
        } else {
            Text(Repr::Heap(b.into_boxed_slice()))
        }
    }

    /// The raw bytes (exactly what the kernel logged, decoded).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len).min(INLINE)],
            Repr::Heap(b) => b,
        }
    }

    /// The value as text when it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }

    /// The value with invalid UTF-8 replaced by U+FFFD (for matching, not for display).
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }

    /// The value safe for a terminal: control characters and bytes that are
    /// not UTF-8 escaped (`\n`, `\x1b`, `\xff`, …) by [`crate::escape`].
    pub fn escaped(&self) -> Cow<'_, str> {
        escape_bytes(self.as_bytes())
    }

    /// True when the value is empty (`target=""`).
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::from_bytes(s.as_bytes())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.escaped())
    }
}

/// Displays the escaped form (see [`Text::escaped`]).
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.escaped())
    }
}

/// A JSON string: valid UTF-8 runs as they are (JSON escapes control
/// characters), each invalid byte as the four characters `\xNN`
/// (docs/log-schema.md).
impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(t) => s.serialize_str(t),
            None => {
                let b = self.as_bytes();
                let mut out = String::with_capacity(b.len() + 8);
                for chunk in b.utf8_chunks() {
                    out.push_str(chunk.valid());
                    for x in chunk.invalid() {
                        out.push_str(&format!("\\x{x:02x}"));
                    }
                }
                s.serialize_str(&out)
            }
        }
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// The kind of an audit record: libapparmor's `aa_record_event_type` plus the
/// kernel's `KILLED` and `AUTO` audit modes, which libapparmor does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum EventType {
    /// Not a valid AppArmor record (`AA_RECORD_INVALID`).
    #[default]
    Invalid,
    /// `apparmor="ERROR"` or `type=APPARMOR_ERROR` (`AA_RECORD_ERROR`).
    Error,
    /// Access audited by an `audit` rule (`AA_RECORD_AUDIT`).
    Audit,
    /// Access allowed in complain mode (`AA_RECORD_ALLOWED`).
    Allowed,
    /// Access denied (`AA_RECORD_DENIED`).
    Denied,
    /// A learning hint (`AA_RECORD_HINT`).
    Hint,
    /// Policy load/replace/remove or filesystem status (`AA_RECORD_STATUS`).
    Status,
    /// Access denied and the task killed (kill mode, `apparmor="KILLED"`).
    Killed,
    /// Access allowed automatically (`apparmor="AUTO"`, prompt mode).
    Auto,
}

impl EventType {
    /// The libapparmor-style name (`AA_RECORD_DENIED`; `AA_RECORD_KILLED` and
    /// `AA_RECORD_AUTO` for the kinds libapparmor lacks).
    pub fn as_aa_name(self) -> &'static str {
        match self {
            EventType::Invalid => "AA_RECORD_INVALID",
            EventType::Error => "AA_RECORD_ERROR",
            EventType::Audit => "AA_RECORD_AUDIT",
            EventType::Allowed => "AA_RECORD_ALLOWED",
            EventType::Denied => "AA_RECORD_DENIED",
            EventType::Hint => "AA_RECORD_HINT",
            EventType::Status => "AA_RECORD_STATUS",
            EventType::Killed => "AA_RECORD_KILLED",
            EventType::Auto => "AA_RECORD_AUTO",
        }
    }

    /// The kernel's word for the kind (`DENIED`, `KILLED`, …; `INVALID`).
    pub fn as_kernel_name(self) -> &'static str {
        &self.as_aa_name()[10..]
    }

    /// Parses the kernel word of `apparmor="…"` (case-sensitive, as logged).
    pub fn from_kernel_name(s: &[u8]) -> Option<Self> {
        Some(match s {
            b"AUDIT" => EventType::Audit,
            b"ALLOWED" => EventType::Allowed,
            b"DENIED" => EventType::Denied,
            b"HINT" => EventType::Hint,
            b"STATUS" => EventType::Status,
            b"ERROR" => EventType::Error,
            b"KILLED" => EventType::Killed,
            b"AUTO" => EventType::Auto,
            _ => return None,
        })
    }

    /// True for accesses the policy refused (`DENIED` and `KILLED`).
    pub fn is_denial(self) -> bool {
        matches!(self, EventType::Denied | EventType::Killed)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_kernel_name())
    }
}

/// How the line carrying the record was framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Framing {
    /// Not recognised.
    #[default]
    Unknown,
    /// auditd: `type=AVC msg=audit(…): …` (possibly `node=`-prefixed).
    Auditd,
    /// audit dispatcher: `msg=audit(…): …` without `type=`.
    Dispatcher,
    /// Kernel printk (`audit: type=1400 audit(…): …`), possibly behind a
    /// dmesg timestamp, a syslog/journal/kmsg prefix.
    Kernel,
    /// journald's audit transport: `AVC apparmor=…`, or `audit[PID]: AVC …`.
    JournalAudit,
    /// A user-space mediator logging through syslog: `dbus-daemon[PID]: apparmor=…`,
    /// or a bare key list.
    Bare,
    /// Pre-2.6 free-text records (`type=APPARMOR msg=audit(…): REJECTING …`).
    Legacy,
}

/// Who sent a record, judged by the channel it came through, never by what
/// its text says about itself: any local user can write a syslog line or a
/// journal entry of their choosing (`logger`), naming any program and
/// carrying any `apparmor="DENIED"` fields. Only records from a trusted
/// origin ([`Origin::is_trusted`]) are turned into rules that are written
/// without asking (docs/triage.md, "Provenance").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Origin {
    /// The sender is not verified: a syslog line tagged with another
    /// program's name (`dbus-daemon[99]:`, `audit[5]:`, `mallory[4242]:`),
    /// a line with no framing at all (a bare `apparmor="DENIED" …` key
    /// list), a line behind a prefix we do not recognise, a journal entry
    /// from any process other than the kernel, the audit subsystem or the
    /// system bus daemon. The default: trust has to be shown.
    #[default]
    Untrusted,
    /// A trusted helper: a user-space process that enforces AppArmor policy
    /// for the kernel (dbus-daemon, dbus-broker) and whose identity the
    /// system vouches for. Either a user-space audit message (`USER_AVC`,
    /// 1107, or any type other than the kernel's AppArmor types) delivered
    /// by the kernel's audit subsystem (auditd's log, the journal's audit or
    /// kernel transport, the ring buffer; the kernel accepts those only from
    /// processes with `CAP_AUDIT_WRITE` and stamps the sender's pid and uid
    /// itself), or a journal entry whose sender journald identified as the
    /// system bus daemon (`_EXE`/`_COMM` and `_UID`, which journald takes
    /// from the kernel, not from the message).
    TrustedHelper,
    /// The kernel's AppArmor module: an `AVC` (1400) or old-style
    /// `APPARMOR_*` (1500–1506) record as auditd or the audit dispatcher
    /// write it, as the kernel prints it (the ring buffer, `dmesg`,
    /// `/dev/kmsg` with the kernel facility), in a syslog line tagged
    /// `kernel:`, or in a journal entry of the kernel or audit transport.
    Kernel,
}

impl Origin {
    /// The name used in JSON (`provenance`): `kernel`, `trusted-helper`,
    /// `untrusted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Kernel => "kernel",
            Origin::TrustedHelper => "trusted-helper",
            Origin::Untrusted => "untrusted",
        }
    }

    /// True for [`Origin::Kernel`] and [`Origin::TrustedHelper`].
    pub fn is_trusted(self) -> bool {
        self != Origin::Untrusted
    }

    /// The origin of a record of audit type `audit_type` that came through
    /// a channel vouching for `self`: a record of a type other than the
    /// kernel's AppArmor types (`AVC`/1400, `APPARMOR_*`/1500–1506), such as
    /// a `USER_AVC` (1107), was sent to the audit subsystem by a privileged
    /// process (a trusted helper), not by the kernel.
    pub fn for_audit_type(self, audit_type: Option<&Text>) -> Origin {
        match (self, audit_type) {
            (Origin::Kernel, Some(t)) if !super::parse::kernel_apparmor_type(t.as_bytes()) => {
                Origin::TrustedHelper
            }
            (o, _) => o,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record was read: the source, the position in it, the time the
/// source gave it (a syslog/dmesg prefix or the journal's realtime stamp),
/// and who sent it ([`Origin`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provenance {
    /// The source name: a file path, `-` for stdin, `journal`, `dmesg`, `kmsg`.
    pub source: Arc<str>,
    /// 1-based line number in the source (for a record joined from several
    /// lines, the first; for the journal, the record's index in the output).
    pub line: u64,
    /// The journal cursor (`__CURSOR`) when read from journald.
    pub cursor: Option<String>,
    /// Microseconds since the Unix epoch from the journal (`__REALTIME_TIMESTAMP`).
    pub realtime_usec: Option<u64>,
    /// The time text of the line prefix as written (`Nov 29 18:00:00`,
    /// `2024-11-29T18:00:00+01:00`, `[ 1234.567890]`), if any.
    pub prefix_time: Option<String>,
    /// The host named in the prefix (syslog host or auditd `node=`), if any.
    pub host: Option<String>,
    /// Who sent the record: the kernel, a trusted helper, or a sender that
    /// is not verified.
    pub origin: Origin,
}

/// Context from the other records of the same audit event (same
/// `audit(EPOCH:SERIAL)`): SYSCALL, CWD, PATH, PROCTITLE.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditContext {
    /// Type names of the records merged in, in order (`SYSCALL`, `PROCTITLE`, …).
    pub records: Vec<Text>,
    /// `syscall=` of the SYSCALL record (a number, or a name from ENRICHED logs).
    pub syscall: Option<Text>,
    /// `success=` (`yes`/`no`).
    pub success: Option<Text>,
    /// `exit=` (the syscall's return value).
    pub exit: Option<i64>,
    /// `exe=` of the SYSCALL record (decoded).
    pub exe: Option<Text>,
    /// `comm=` of the SYSCALL record (decoded).
    pub comm: Option<Text>,
    /// `uid=` and `auid=` of the SYSCALL record.
    pub uid: Option<u64>,
    /// Audit (login) uid.
    pub auid: Option<u64>,
    /// `cwd=` of the CWD record (decoded).
    pub cwd: Option<Text>,
    /// `name=` of each PATH record (decoded), in order.
    pub paths: Vec<Text>,
    /// PROCTITLE decoded: the command line with NUL separators turned into spaces.
    pub proctitle: Option<Text>,
}

/// One AppArmor audit record.
///
/// Field names follow libapparmor's `aa_log_record`; `Option` is "absent"
/// (libapparmor: NULL for strings, 0 or ULONG_MAX for numbers).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct Record {
    /// The event kind (`apparmor="…"`, or the audit type for old kernels).
    pub event: EventType,
    /// `EPOCH.MSEC:SERIAL` as logged.
    pub audit_id: Option<Text>,
    /// Seconds since the Unix epoch from the audit id.
    pub epoch: Option<u64>,
    /// Milliseconds part of the audit id (not in libapparmor's record).
    pub epoch_msec: Option<u32>,
    /// The audit serial.
    pub audit_sub_id: Option<u64>,
    /// `operation=`.
    pub operation: Option<Text>,
    /// `class=` (kernel mediation class: `file`, `net`, `cap`, …).
    pub class: Option<Text>,
    /// `requested_mask=` / `requested=`.
    pub requested_mask: Option<Text>,
    /// `denied_mask=` / `denied=` / `mask=`.
    pub denied_mask: Option<Text>,
    /// `fsuid=`.
    pub fsuid: Option<u64>,
    /// `ouid=`.
    pub ouid: Option<u64>,
    /// `profile=` / `label=`: the subject label, raw (may be a stack
    /// `a//&b`, carry a namespace `:ns:name`, or a hat `a//b`).
    pub profile: Option<Text>,
    /// `peer_profile=` / `peer_label=` / `tcontext=`.
    pub peer_profile: Option<Text>,
    /// `peer=`.
    pub peer: Option<Text>,
    /// `name=` / `capname=`.
    pub name: Option<Text>,
    /// `comm=` / `exe=` (last wins, as in libapparmor).
    pub comm: Option<Text>,
    /// `name2=` / `target=`.
    pub name2: Option<Text>,
    /// `namespace=`.
    pub namespace: Option<Text>,
    /// `attribute=`.
    pub attribute: Option<Text>,
    pub task: Option<u64>,
    pub parent: Option<u64>,
    pub magic_token: Option<u64>,
    /// `info=`.
    pub info: Option<Text>,
    /// `peer_info=`.
    pub peer_info: Option<Text>,
    /// `error=` as a positive errno (the sign is dropped, as in libapparmor).
    pub error_code: Option<u64>,
    pub pid: Option<u64>,
    pub peer_pid: Option<u64>,
    /// Never set by the kernel or by this parser (libapparmor field kept for completeness).
    pub active_hat: Option<Text>,
    /// `addr=` (unix socket address; `?`/`none` are absent).
    pub net_addr: Option<Text>,
    /// `peer_addr=` (`none` is absent).
    pub peer_addr: Option<Text>,
    pub net_family: Option<Text>,
    pub net_sock_type: Option<Text>,
    /// `protocol=`: a number is mapped to its IPPROTO name (`6` → `tcp`, unknown → `unknown(N)`).
    pub net_protocol: Option<Text>,
    /// `laddr=` / `saddr=`.
    pub net_local_addr: Option<Text>,
    /// `faddr=` / `daddr=`.
    pub net_foreign_addr: Option<Text>,
    /// `lport=` / `src=`.
    pub net_local_port: Option<u64>,
    /// `fport=` / `dest=`.
    pub net_foreign_port: Option<u64>,
    pub dbus_bus: Option<Text>,
    pub dbus_path: Option<Text>,
    pub dbus_interface: Option<Text>,
    /// `member=` / `method=`.
    pub dbus_member: Option<Text>,
    /// `signal=`.
    pub signal: Option<Text>,
    /// `fstype=`.
    pub fs_type: Option<Text>,
    /// `flags=`.
    pub flags: Option<Text>,
    /// `srcname=`.
    pub src_name: Option<Text>,
    /// `execpath=`.
    pub execpath: Option<Text>,
    /// Keys the model does not name (and libapparmor ignores: `capability=`,
    /// `sauid=`, `hostname=`, …), in line order, values decoded.
    pub extra: Vec<(Text, Text)>,
    /// auditd ENRICHED fields (after the 0x1d separator, uppercase: `FSUID`,
    /// `OUID`, `UID`, `AUID`, …), in order.
    pub enrichment: Vec<(Text, Text)>,
    /// USER_AVC header fields before `msg='…'` (`pid`, `uid`, `auid`, `ses`,
    /// `subj`, …): the sender (dbus-daemon), not the subject.
    pub header: Vec<(Text, Text)>,
    /// Other records of the same audit event merged into this one.
    pub context: Option<Box<AuditContext>>,
    /// The audit record type as logged (`AVC`, `1400`, `USER_AVC`, `APPARMOR_DENIED`, …).
    pub audit_type: Option<Text>,
    /// How the line was framed.
    pub framing: Framing,
    /// Where the record came from.
    pub provenance: Provenance,
    /// Why the record is [`EventType::Invalid`] or partly understood, if it is.
    pub problem: Option<String>,
    /// The record's output, written by a parser thread when
    /// [`ReaderOptions::prerender`](crate::log::ReaderOptions::prerender) asks
    /// for it: a cache, not part of the record's value (see [`Prerendered`]).
    pub rendered: Prerendered,
}

/// Output written ahead by the thread that parsed the records
/// ([`crate::log::reader::Prerender`]), so that the thread writing the output only copies
/// bytes: one line per record, each ending in `\n`. A record's line number is left out (a
/// parser thread does not know how many lines came before its block); each record keeps
/// where its number goes and its line's distance from the carrying record's
/// [`Provenance::line`], and [`Prerendered::write_lines`] puts the numbers in.
///
/// Usually it holds the carrying record's own line. A parser thread may also put a run of
/// consecutive records into one carrier whose other fields are empty (see
/// [`ReaderOptions::prerender`](crate::log::ReaderOptions::prerender)): the records of a
/// run are neither moved to the reading thread nor looked at again.
///
/// A cache: every two values compare equal, and it is empty unless asked for.
#[derive(Clone, Default)]
pub struct Prerendered {
    bytes: Vec<u8>,
    /// Per record, in order: where its line number goes in `bytes`, and its line less the
    /// carrier's.
    marks: Vec<(usize, u64)>,
    /// A run of records folded by a parser thread
    /// ([`ReaderOptions::fold`](crate::log::ReaderOptions::fold)): how many, and the result.
    folded: Option<(usize, std::sync::Arc<dyn std::any::Any + Send + Sync>)>,
}

impl Prerendered {
    /// How many records' lines are held (0: nothing rendered).
    pub fn records(&self) -> usize {
        self.marks.len()
    }

    /// Appends the held lines to `out`, the carrier's [`Provenance::line`] being `line`.
    pub fn write_lines(&self, out: &mut Vec<u8>, line: u64) {
        let mut from = 0;
        for &(at, delta) in &self.marks {
            out.extend_from_slice(&self.bytes[from..at]);
            super::ndjson::push_u64(out, line.saturating_add(delta));
            from = at;
        }
        out.extend_from_slice(&self.bytes[from..]);
    }

    /// The result of a run of records folded by a parser thread
    /// ([`ReaderOptions::fold`](crate::log::ReaderOptions::fold)): how many records, and
    /// what [`BlockFold::fold`](crate::log::reader::BlockFold::fold) gave for them.
    pub fn folded(&self) -> Option<(usize, &(dyn std::any::Any + Send + Sync))> {
        self.folded.as_ref().map(|(n, v)| (*n, &**v))
    }

    /// Sets the result of a folded run of `n` records.
    pub(crate) fn set_folded(
        &mut self,
        n: usize,
        v: std::sync::Arc<dyn std::any::Any + Send + Sync>,
    ) {
        self.folded = Some((n, v));
    }

    /// Empties the cache, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.marks.clear();
        self.folded = None;
    }

    /// Appends one record's line, rendered by `f`, which appends the output (without the
    /// newline) and returns where in `bytes` the line number's digits are (start, length):
    /// they are cut out. `delta`: the record's line less the carrier's.
    pub(crate) fn push(&mut self, delta: u64, f: impl FnOnce(&mut Vec<u8>) -> (usize, usize)) {
        let (start, len) = f(&mut self.bytes);
        self.bytes.drain(start..start + len);
        self.bytes.push(b'\n');
        self.marks.push((start, delta));
    }
}

impl PartialEq for Prerendered {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Prerendered {}

impl std::fmt::Debug for Prerendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if !self.marks.is_empty() {
            "Prerendered(..)"
        } else {
            "Prerendered"
        })
    }
}

/// The last second [`Record::timestamp`] gives: 9999-12-31T23:59:59Z, in
/// seconds since the epoch.
pub const MAX_EPOCH: u64 = 253_402_300_799;

impl Record {
    /// The audit timestamp (seconds, milliseconds) when the audit id carried
    /// one; a zero epoch (`audit(0000000000.000:0000)`, which some kernels print to the
    /// ring buffer) is
    /// treated as absent, and so is a time after 9999-12-31T23:59:59Z
    /// ([`MAX_EPOCH`]: RFC 3339 has four-digit years; such a stamp is forged
    /// or corrupt).
    pub fn timestamp(&self) -> Option<(u64, u32)> {
        let t = match self.epoch {
            Some(0) | None => self
                .provenance
                .realtime_usec
                .map(|us| (us / 1_000_000, ((us % 1_000_000) / 1000) as u32)),
            Some(e) => Some((e, self.epoch_msec.unwrap_or(0))),
        };
        t.filter(|&(s, _)| s <= MAX_EPOCH)
    }

    /// The key that identifies the audit event this record belongs to
    /// (epoch, msec, serial), if the line carried a non-zero audit id.
    pub fn event_key(&self) -> Option<(u64, u32, u64)> {
        match (self.epoch, self.audit_sub_id) {
            (Some(e), Some(s)) if e != 0 || s != 0 => Some((e, self.epoch_msec.unwrap_or(0), s)),
            _ => None,
        }
    }

    /// The subject label as a [`Label`] (no mode: audit records print
    /// labels without one). Bytes that are not UTF-8 are replaced by U+FFFD;
    /// use [`Record::profile`] for the raw value.
    pub fn profile_label(&self) -> Option<Label> {
        self.profile
            .as_ref()
            .map(|p| Label::new(p.to_str_lossy().into_owned(), None))
    }

    /// The peer's label (`peer_profile`, else `peer`) as a [`Label`].
    pub fn peer_label(&self) -> Option<Label> {
        self.peer_profile
            .as_ref()
            .or(self.peer.as_ref())
            .map(|p| Label::new(p.to_str_lossy().into_owned(), None))
    }

    /// Looks up an unknown (`extra`) or enrichment key by name.
    pub fn extra_value(&self, key: &str) -> Option<&Text> {
        self.extra
            .iter()
            .chain(self.enrichment.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The executable: the grouped SYSCALL record's `exe`, else the
    /// USER_AVC/record `exe` key is already in `comm` (libapparmor), so None.
    pub fn exe(&self) -> Option<&Text> {
        self.context.as_ref().and_then(|c| c.exe.as_ref())
    }

    /// True when this is a usable AppArmor record (not [`EventType::Invalid`]).
    pub fn is_valid(&self) -> bool {
        self.event != EventType::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_from_records() {
        let r = Record {
            profile: Some(Text::from(":ns:a//&b")),
            peer: Some(Text::from("cri-containerd.apparmor.d//&unconfined")),
            ..Record::default()
        };
        let l = r.profile_label().unwrap();
        let c = l.components();
        assert_eq!(c.len(), 2);
        assert_eq!((c[1].namespace, c[1].profile), (Some("ns"), "b"));
        assert!(r.peer_label().unwrap().is_stack());
    }

    #[test]
    fn text_put_and_set_in_place() {
        // every length around the inline limit and the copy thresholds,
        // written over shorter, longer, heap and absent values
        let src: Vec<u8> = (0..40u8).map(|b| b + 0x41).collect();
        for n in 0..=30 {
            for prev in [
                None,
                Some(0),
                Some(3),
                Some(9),
                Some(21),
                Some(22),
                Some(30),
            ] {
                let mut slot = prev.map(|p| Text::from_bytes(&src[40 - p..]));
                Text::put(&mut slot, &src[..n]);
                assert_eq!(slot.as_ref().unwrap().as_bytes(), &src[..n], "{n} {prev:?}");
                assert_eq!(slot.unwrap(), Text::from_bytes(&src[..n]));
                let mut t = Text::from_bytes(&src[40 - prev.unwrap_or(0)..]);
                t.set(&src[..n]);
                assert_eq!(t.as_bytes(), &src[..n], "{n} {prev:?}");
            }
            assert_eq!(Text::from_bytes(&src[..n]).as_bytes(), &src[..n]);
        }
    }

    #[test]
    fn text_escapes_on_display() {
        let t = Text::from_bytes(b"a\x1b[1m\xff");
        assert_eq!(t.to_string(), "a\\x1b[1m\\xff");
    }
}
