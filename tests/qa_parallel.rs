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
