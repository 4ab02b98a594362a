//! The parallel block reader (a regular file parsed on several threads)
//! gives exactly the records and counters of the line-by-line reader: same
//! order, grouping across block boundaries (interleaved audit events,
//! records whose context arrives at the start of the next block),
//! continuation lines, oversized lines, a last line without a newline,
//! gzip input, AppArmor records of one event separated by other lines, and
//! records that arrive after their event ended.

use apparmor::log::Record;
use apparmor::log::reader::{LogReader, ReaderOptions, Stats};
use apparmor::log::source::open_file;
use std::io::Write;
use std::path::Path;

#[path = "../scripts/rng.rs"]
mod rng;
use rng::Rng;

fn avc(serial: u64, i: u64) -> String {
    format!(
        "type=AVC msg=audit(1700000000.{:03}:{serial}): apparmor=\"DENIED\" operation=\"open\" \
         class=\"file\" profile=\"/usr/bin/p{}\" name=\"/tmp/f{i}\" pid={} comm=\"c\" \
         requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0",
        serial % 1000,
        i % 7,
        1000 + i
    )
}

fn ctx(serial: u64, kind: u64) -> String {
    let id = format!("audit(1700000000.{:03}:{serial})", serial % 1000);
    match kind {
        0 => format!(
            "type=SYSCALL msg={id}: arch=c000003e syscall=257 success=no exit=-13 a0=1 items=1 \
             ppid=1 pid=42 auid=1000 uid=1000 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 \
             fsgid=0 tty=pts0 ses=3 comm=\"cat\" exe=\"/usr/bin/cat\" key=(null)"
        ),
        1 => format!("type=CWD msg={id}: cwd=\"/root\""),
        2 => format!("type=PATH msg={id}: item=0 name=\"/etc/x\" inode=1 nametype=NORMAL"),
        _ => format!("type=PROCTITLE msg={id}: proctitle=636174002F6574632F78"),
    }
}

/// About `bytes` of log: AppArmor events with their context (sometimes
/// interleaved with the next event, sometimes late), noise, USER_AVC
/// records continued on a second line, and now and then a very long line.
fn gen_log(bytes: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    let mut out = Vec::new();
    let mut serial = 1000;
    let mut late: Vec<(usize, String)> = Vec::new();
    let mut n = 0u64;
    while out.len() < bytes {
        n += 1;
        serial += 1;
        let mut lines = vec![avc(serial, n)];
        match r.below(12) {
            0..=3 => {
                for k in 0..4 {
                    lines.push(ctx(serial, k));
                }
            }
            4 => {
                // context arrives a few lines later, after other records
                for k in 0..4 {
                    late.push((r.below(20) as usize + 1, ctx(serial, k)));
                }
            }
            5 => lines.push(format!(
                "type=USER_AVC msg=audit(1700000001.000:{serial}): pid=1 uid=0 auid=1 \
                 ses=1 msg='apparmor=\"DENIED\" operation=\"dbus_method_call\" bus=\"system\""
            )),
            6 => lines.push(format!(
                "type=USER_LOGIN msg=audit(1700000002.000:{}): pid=1 uid=0 msg='op=login'",
                serial + 100_000
            )),
            7 => lines.push(format!("Nov 29 18:00:00 host kernel: noise line {n}")),
            8 if r.below(40) == 0 => lines.push("x".repeat(70_000)),
            10 => {
                // a second AppArmor record of the same event some lines
                // later (other records between), then its context: across
                // a block boundary now and then
                let d = r.below(30) as usize + 1;
                late.push((d, avc(serial, n + 500_000)));
                for k in 0..4 {
                    late.push((d + r.below(8) as usize + 1, ctx(serial, k)));
                }
            }
            11 => {
                // the event ends (PROCTITLE, EOE), then more records with
                // its id arrive: they start a new event
                lines.push(ctx(serial, 3));
                let id = format!("audit(1700000000.{:03}:{serial})", serial % 1000);
                lines.push(format!("type=EOE msg={id}: "));
                late.push((r.below(10) as usize + 1, avc(serial, n + 700_000)));
                late.push((r.below(10) as usize + 1, ctx(serial, 0)));
            }
            _ => {}
        }
        if lines.len() > 1 && lines[1].starts_with("type=USER_AVC") {
            // the second half of the USER_AVC, on a continuation line
            lines.insert(2, "  path=\"/org/x\" label=\"p\"'".to_string());
        }
        for l in lines {
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
        for x in &mut late {
            x.0 -= 1;
        }
        for (_, l) in late.iter().filter(|x| x.0 == 0) {
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
        late.retain(|x| x.0 > 0);
    }
    // the last line without its newline
    out.extend_from_slice(avc(serial + 1, n + 1).as_bytes());
    out
}

fn read_all(path: &Path, threads: usize, max_line: usize) -> (Vec<Record>, Stats) {
    let opts = ReaderOptions {
        threads,
        max_line,
        ..ReaderOptions::default()
    };
    let mut r = LogReader::new(open_file(path).unwrap(), opts);
    let recs: Vec<Record> = r.by_ref().map(Result::unwrap).collect();
    (recs, r.stats().clone())
}

fn assert_same(path: &Path, max_line: usize) {
    let (seq, seq_stats) = read_all(path, 1, max_line);
    assert!(seq.len() > 1000, "{}", seq.len());
    assert!(seq.iter().any(|r| r.context.is_some()));
    for threads in [2, 3, 8] {
        let (par, par_stats) = read_all(path, threads, max_line);
        assert_eq!(par.len(), seq.len(), "threads {threads}");
        for (i, (a, b)) in par.iter().zip(&seq).enumerate() {
            assert!(
                a == b,
                "record {i}, threads {threads}, max line {max_line}: line {} vs {}, context {:?} vs {:?}",
                a.provenance.line,
                b.provenance.line,
                a.context.as_ref().map(|c| &c.records),
                b.context.as_ref().map(|c| &c.records)
            );
        }
        assert_eq!(par_stats, seq_stats, "threads {threads}");
    }
}

#[test]
fn parallel_equals_sequential() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [1, 7, 42] {
        let p = dir.path().join(format!("audit-{seed}.log"));
        std::fs::write(&p, gen_log(3 << 20, seed)).unwrap();
        assert_same(&p, 16 << 20);
        // lines over 64 KiB skipped as oversized, in both readers
        assert_same(&p, 64 << 10);
    }
}

#[test]
fn parallel_equals_sequential_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.log.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&gen_log(2 << 20, 3)).unwrap();
    gz.finish().unwrap();
    assert_same(&p, 16 << 20);
}

fn aactl(args: &[&str]) -> (u8, Vec<u8>) {
    let (code, out, _) = crate::common::aactl_raw(args);
    (code, out)
}

#[test]
fn aactl_log_output_does_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.log");
    std::fs::write(&p, gen_log(1 << 20, 11)).unwrap();
    let p = p.to_str().unwrap();
    for view in [
        &["--format", "json"][..],
        &[],
        &["--utc"],
        &["--summary"],
        &["--summary", "--format", "json"],
        &["--summary", "--mode", "all", "--profile-regex", "a|b"],
        &["--suggest"],
    ] {
        let run = |threads: &str| {
            let mut args = vec!["log", "--threads", threads, p];
            args.extend_from_slice(view);
            aactl(&args)
        };
        let (c1, o1) = run("1");
        let (c3, o3) = run("3");
        assert_eq!(c1, c3, "{view:?}");
        assert!(!o1.is_empty(), "{view:?}");
        assert!(o1 == o3, "{view:?}: output differs between 1 and 3 threads");
    }
}

/// Records rendered by the parser threads ([`ReaderOptions::prerender`]), one by one or
/// in runs, give the bytes the renderers write for the records of a plain read, line
/// numbers included.
#[test]
fn prerendered_records_match_the_renderers() {
    use apparmor::log::reader::Prerender;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.log");
    std::fs::write(&p, gen_log(2 << 20, 5)).unwrap();
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    for form in [Prerender::Json, Prerender::Text(berlin.clone())] {
        let render = |out: &mut Vec<u8>, rec: &apparmor::log::Record| {
            match &form {
                Prerender::Json => apparmor::log::ndjson::write_json_line(out, rec),
                Prerender::Text(tz) => apparmor::log::render::write_text_line(out, rec, tz),
            }
            out.push(b'\n');
        };
        let mut want = Vec::new();
        let plain = ReaderOptions {
            threads: 1,
            ..ReaderOptions::default()
        };
        let mut r = LogReader::new(open_file(&p).unwrap(), plain);
        let mut total = 0;
        while let Some(rec) = r.next_ref() {
            render(&mut want, rec.unwrap());
            total += 1;
        }
        let opts = ReaderOptions {
            threads: 3,
            prerender: Some(form.clone()),
            ..ReaderOptions::default()
        };
        let mut r = LogReader::new(open_file(&p).unwrap(), opts);
        let (mut got, mut rendered, mut runs) = (Vec::new(), 0, 0);
        while let Some(rec) = r.next_ref() {
            let rec = rec.unwrap();
            match rec.rendered.records() {
                0 => render(&mut got, rec),
                n => {
                    rendered += n;
                    runs += usize::from(n > 1);
                    rec.rendered.write_lines(&mut got, rec.provenance.line);
                }
            }
        }
        assert!(
            got == want,
            "{form:?}: prerendered output differs from the renderers'"
        );
        assert!(
            rendered * 10 > total * 9,
            "{rendered} of {total} rendered ahead"
        );
        assert!(runs > 0, "no run of records was rendered in one piece");
    }
}
