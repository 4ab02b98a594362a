//! Awkward input for the parallel block reader: it must give the records,
//! line numbers, counters and errors of the line-by-line reader.

use apparmor::log::Record;
use apparmor::log::reader::{BufReadLines, LogReader, ReaderOptions, Stats};
use std::io::{self, BufReader, Read};

/// A reader that gives `data` in chunks of `chunk` bytes, then fails
/// (a truncated .gz, an I/O error on a disk).
struct FailsAfter {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.data.len() {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn log_lines(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        out.extend_from_slice(
            format!(
                "type=AVC msg=audit(1700000000.100:{i}): apparmor=\"DENIED\" operation=\"open\" \
                 class=\"file\" profile=\"/usr/bin/p\" name=\"/tmp/f{i}\" pid=1 comm=\"c\" \
                 requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
            )
            .as_bytes(),
        );
    }
    out
}

/// Records, stats and the line of the error, read with `threads`.
fn read_failing(data: &[u8], chunk: usize, threads: usize) -> (Vec<Record>, Stats, Option<u64>) {
    let src = BufReadLines::new_bulk(
        BufReader::new(FailsAfter {
            data: data.to_vec(),
            pos: 0,
            chunk,
        }),
        "failing.log",
    );
    let opts = ReaderOptions {
        threads,
        ..ReaderOptions::default()
    };
    let mut r = LogReader::new(src, opts);
    let mut recs = Vec::new();
    let mut err = None;
    for x in r.by_ref() {
        match x {
            Ok(rec) => recs.push(rec),
            Err(e) => {
                assert!(err.is_none(), "a second error: {e}");
                // the records still open come after the error
                err = Some(e.line);
            }
        }
    }
    (recs, r.stats().clone(), err)
}

/// A read error in the middle of a block: the lines read before it are
/// still parsed and reported, then the error, as by the line reader.
#[test]
fn read_error_mid_block_keeps_the_lines_before_it() {
    let mut data = log_lines(6000);
    // end on half a line, as a truncated .gz does
    data.extend_from_slice(b"type=AVC msg=audit(1700000000.100:9999): appar");
    for chunk in [4096, 100_000] {
        let (seq, seq_stats, seq_err) = read_failing(&data, chunk, 1);
        assert_eq!(seq.len(), 6000, "chunk {chunk}");
        assert_eq!(seq_err, Some(6000), "chunk {chunk}");
        for threads in [2, 7] {
            let (par, par_stats, par_err) = read_failing(&data, chunk, threads);
            assert_eq!(par.len(), seq.len(), "chunk {chunk} threads {threads}");
            assert!(par == seq, "chunk {chunk} threads {threads}");
            assert_eq!(par_stats, seq_stats, "chunk {chunk} threads {threads}");
            assert_eq!(par_err, seq_err, "chunk {chunk} threads {threads}");
        }
    }
}

/// Events of every shape: with and without context, USER_AVC continued on
/// a second line, invalid AppArmor records, noise, long lines.
fn varied_log(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let id = format!("audit(1700000000.{:03}:{})", i % 1000, i + 1);
        let line = match i % 7 {
            0 => format!(
                "type=AVC msg={id}: apparmor=\"DENIED\" operation=\"open\" class=\"file\" \
                 profile=\"/usr/bin/p{i}\" name=\"/tmp/f\" pid=1 comm=\"c\" \
                 requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n\
                 type=SYSCALL msg={id}: arch=c000003e syscall=257 success=no exit=-13 \
                 items=1 ppid=1 pid=42 comm=\"cat\" exe=\"/usr/bin/cat\" key=(null)\n\
                 type=CWD msg={id}: cwd=\"/root\"\n\
                 type=PATH msg={id}: item=0 name=\"/etc/x\" nametype=NORMAL\n\
                 type=PROCTITLE msg={id}: proctitle=636174002F6574632F78\n"
            ),
            1 => format!(
                "type=AVC msg={id}: apparmor=\"ALLOWED\" operation=\"capable\" class=\"cap\" \
                 profile=\"q\" pid=2 comm=\"d\" capability=13 capname=\"dac_override\"\n"
            ),
            2 => format!(
                "type=USER_AVC msg={id}: pid=1 uid=0 auid=4294967295 ses=4294967295 \
                 subj=unconfined msg='apparmor=\"DENIED\" operation=\"dbus_method_call\" \
                 bus=\"system\" path=\"/org/x\" interface=\"org.x\" member=\"M\" mask=\"send\" \
                 name=\"org.x\" pid=2 label=\"snap.x\" peer_label=\"unconfined\"\n \
                 exe=\"/usr/bin/dbus-daemon\" sauid=103 hostname=? addr=? terminal=?'\n"
            ),
            3 => format!("type=AVC msg={id}: apparmor=\"DENIED\" operation=\n"),
            4 => format!(
                "Nov 29 12:00:00 host kernel: noise {}\n",
                "z".repeat(i % 5000)
            ),
            5 => format!(
                "type=AVC msg={id}: apparmor=\"DENIED\" operation=\"mount\" class=\"mount\" \
                 info=\"failed mntpnt match\" error=-13 profile=\"m\" name=\"/mnt/\" pid=3 \
                 comm=\"mount\" fstype=\"ext4\" srcname=\"/dev/sdb1\" flags=\"rw, nosuid\"\n\
                 type=SYSCALL msg={id}: arch=c000003e syscall=165 success=no exit=-13\n"
            ),
            _ => "\r\n".to_string(),
        };
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// `next_ref` lends records whose storage is reused (with several threads,
/// boxes travel to the workers and back): every lent record equals the one
/// the iterator gives, nothing stale is left from an earlier record.
#[test]
fn next_ref_equals_next_with_threads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.log");
    std::fs::write(&p, varied_log(20_000)).unwrap();
    let read = |threads: usize, lend: bool| {
        let opts = ReaderOptions {
            threads,
            ..ReaderOptions::default()
        };
        let mut r = LogReader::new(apparmor::log::source::open_file(&p).unwrap(), opts);
        let mut recs = Vec::new();
        if lend {
            while let Some(x) = r.next_ref() {
                recs.push(x.unwrap().clone());
            }
        } else {
            recs.extend(r.by_ref().map(Result::unwrap));
        }
        (recs, r.stats().clone())
    };
    let (seq, seq_stats) = read(1, false);
    assert!(seq.len() > 10_000, "{}", seq.len());
    assert!(seq.iter().any(|r| r.context.is_some()));
    for (threads, lend) in [(1, true), (2, false), (2, true), (7, true)] {
        let (got, stats) = read(threads, lend);
        assert_eq!(got.len(), seq.len(), "threads {threads} lend {lend}");
        for (i, (a, b)) in got.iter().zip(&seq).enumerate() {
            assert!(
                a == b,
                "record {i} (line {}), threads {threads} lend {lend}",
                b.provenance.line
            );
        }
        assert_eq!(stats, seq_stats, "threads {threads} lend {lend}");
    }
}

/// Lines of 200 KiB make blocks of one or two lines: the context of an
/// event can arrive two or more blocks after its AppArmor record, still
/// within the grouping window. It must be grouped as by the line reader.
#[test]
fn context_several_small_blocks_later_is_grouped() {
    let mut data = Vec::new();
    let noise = format!("Nov 29 12:00:00 host kernel: {}\n", "n".repeat(200 << 10));
    for i in 0..12 {
        data.extend_from_slice(
            format!(
                "type=AVC msg=audit(1700000000.100:{i}): apparmor=\"DENIED\" operation=\"open\" \
                 class=\"file\" profile=\"/usr/bin/p\" name=\"/tmp/f\" pid=1 comm=\"c\" \
                 requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
            )
            .as_bytes(),
        );
        for _ in 0..i % 6 {
            data.extend_from_slice(noise.as_bytes());
        }
        data.extend_from_slice(
            format!(
                "type=SYSCALL msg=audit(1700000000.100:{i}): arch=c000003e syscall=257 \
                 success=no exit=-13 comm=\"cat\" exe=\"/usr/bin/cat\"\n"
            )
            .as_bytes(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("wide.log");
    std::fs::write(&p, &data).unwrap();
    let read = |threads: usize| {
        let opts = ReaderOptions {
            threads,
            ..ReaderOptions::default()
        };
        let mut r = LogReader::new(apparmor::log::source::open_file(&p).unwrap(), opts);
        let recs: Vec<Record> = r.by_ref().map(Result::unwrap).collect();
        (recs, r.stats().clone())
    };
    let (seq, seq_stats) = read(1);
    assert_eq!(seq.len(), 12);
    assert!(seq.iter().all(|r| r.context.is_some()));
    for threads in [2, 7] {
        let (par, par_stats) = read(threads);
        assert_eq!(par.len(), seq.len(), "threads {threads}");
        for (i, (a, b)) in par.iter().zip(&seq).enumerate() {
            assert!(
                a == b,
                "record {i} (line {}), threads {threads}",
                b.provenance.line
            );
        }
        assert_eq!(par_stats, seq_stats, "threads {threads}");
    }
}
