//! `aactl exporter`: serves `/metrics` over HTTP (tiny_http, no async runtime) for
//! Prometheus to scrape, reading the state again for a scrape at most once a second (by
//! default) and following the log in a thread to count records as they arrive.
//!
//! Read-only: it reads what `aactl metrics` reads and writes nothing. It listens on
//! loopback unless told otherwise; requests are handled one at a time; the record counts
//! are bounded ([`crate::metrics::Limits`]).

use super::{CliError, Exit};
use crate::cli::Io;
use crate::error::chain;
use crate::escape::escape_str;
use crate::log::reader::{LogReader, ReaderOptions};
use crate::log::source::{JournalQuery, detect};
use crate::log::{LineSource, Source};
use crate::metrics::{Format, RecordCounts, StateMetrics, collect_state, render};
use crate::system::System;
use clap::{Arg, ArgMatches, Command};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the follower waits before opening the log again after an error.
const RETRY: Duration = Duration::from_secs(5);

/// The clap definition of `aactl exporter`.
pub(super) fn command() -> Command {
    super::metrics::shared_args(
        Command::new("exporter")
            .about("Serve AppArmor's state and record counts to Prometheus over HTTP")
            .long_about(
                "Serve /metrics over HTTP for Prometheus: the metrics of aactl metrics, the \
                 state read again for a scrape at most once a second, the records counted \
                 as they arrive in the log (followed like aactl log --follow: a file across \
                 rotation, or the journal; from the moment the exporter starts). OpenMetrics \
                 when the scraper asks for it, else the Prometheus text format. Runs until \
                 interrupted.",
            ),
    )
    .arg(
        Arg::new("refresh-interval")
            .long("refresh-interval")
            .value_name("SECONDS")
            .default_value("1")
            .value_parser(clap::value_parser!(f64))
            .help(
                "Read the state again for a scrape only when the last reading is older than \
                 this (0: for every scrape)",
            ),
    )
    .arg(
        Arg::new("listen")
            .long("listen")
            .value_name("ADDR")
            .default_value("127.0.0.1:9747")
            .value_parser(clap::value_parser!(SocketAddr))
            .help("Address and port to listen on (port 0: any free port, printed on stderr)"),
    )
}

/// What the HTTP loop and the log follower share.
#[derive(Default)]
struct Shared {
    counts: RecordCounts,
    errors: BTreeMap<String, u64>,
}

fn lock(s: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    // A panic in the follower must not stop the scrapes: the counts stay usable.
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The source to follow: the one the options name, else the place records go on this host
/// (of a rotated set the live file), as `aactl log --follow` picks it. `None` when there is
/// none that can be followed.
fn follow_source(m: &ArgMatches, sys: &System) -> Option<Source> {
    // From now on: the journal's past is not counted, as a file's is not.
    let query = JournalQuery {
        since: Some("now".to_owned()),
        ..JournalQuery::default()
    };
    if let Some(s) = super::metrics::explicit_log(m, query.clone()) {
        return Some(s);
    }
    let c = detect(sys).candidates;
    let first = c
        .iter()
        .find(|s| !matches!(s.0, Source::Kernel))
        .map(|s| s.1.clone())?;
    let chosen = c.into_iter().rfind(|(_, why)| *why == first)?.0;
    Some(match chosen {
        Source::Journal(_) => Source::Journal(query),
        s => s,
    })
}

fn open_follower(
    src: &Source,
    sys: &System,
    stop: &Arc<AtomicBool>,
) -> Option<Box<dyn LineSource>> {
    match src {
        Source::File(p) if p.as_os_str() != "-" => Some(Box::new(
            crate::triage::follow::FollowFile::new(p.clone(), false, stop.clone())
                .within(sys.root()),
        )),
        Source::Journal(q) => Some(Box::new(crate::triage::follow::FollowJournal::new(
            q.clone(),
            sys.root().to_path_buf(),
            stop.clone(),
        ))),
        _ => None,
    }
}

/// Follows `src` until `stop`, counting records into `shared`; a read error is counted
/// (stage `log`) and the source opened again after [`RETRY`].
fn follow(src: Source, sys: System, shared: Arc<Mutex<Shared>>, stop: Arc<AtomicBool>) {
    let opts = ReaderOptions {
        // Grouping would hold a record back until its audit event is complete.
        group: false,
        threads: 1,
        ..ReaderOptions::default()
    };
    while !stop.load(Ordering::SeqCst) {
        let Some(line_src) = open_follower(&src, &sys, &stop) else {
            return;
        };
        let mut reader = LogReader::new(line_src, opts.clone());
        let mut failed = false;
        while let Some(item) = reader.next_ref() {
            match item {
                Ok(r) => {
                    lock(&shared).counts.count(r);
                }
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            *lock(&shared).errors.entry("log".to_owned()).or_default() += 1;
        }
        let t = Instant::now();
        while t.elapsed() < RETRY && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The state, read again when older than `ttl`.
struct StateCache {
    sys: System,
    ttl: Duration,
    parser_version: Option<String>,
    last: Option<(Instant, StateMetrics)>,
}

impl StateCache {
    fn get(&mut self, shared: &Mutex<Shared>) -> StateMetrics {
        if let Some((t, s)) = &self.last
            && t.elapsed() < self.ttl
        {
            return s.clone();
        }
        let s = collect_state(&self.sys, self.parser_version.clone());
        if !s.errors.is_empty() {
            let mut g = lock(shared);
            for (stage, _) in &s.errors {
                *g.errors.entry((*stage).to_owned()).or_default() += 1;
            }
        }
        self.last = Some((Instant::now(), s.clone()));
        s
    }
}

/// `resp` with the `Content-Type` `v`.
fn typed<R: std::io::Read>(resp: tiny_http::Response<R>, v: &str) -> tiny_http::Response<R> {
    match tiny_http::Header::from_bytes(&b"Content-Type"[..], v.as_bytes()) {
        Ok(h) => resp.with_header(h),
        Err(()) => resp,
    }
}

/// Answers one request: `/metrics` with the exposition, `/` with a pointer to it, anything
/// else 404; methods other than GET and HEAD 405.
fn answer(
    req: tiny_http::Request,
    cache: &mut StateCache,
    shared: &Mutex<Shared>,
    with_records: bool,
) {
    use tiny_http::{Method, Response};
    let path = req.url().split('?').next().unwrap_or("").to_owned();
    if !matches!(req.method(), Method::Get | Method::Head) {
        let _ = req.respond(Response::from_string("method not allowed\n").with_status_code(405));
        return;
    }
    match path.as_str() {
        "/metrics" => {
            let format = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Accept"))
                .map_or(Format::Prometheus, |h| {
                    Format::from_accept(h.value.as_str())
                });
            let state = cache.get(shared);
            let text = {
                let g = lock(shared);
                render(
                    Some(&state),
                    with_records.then_some(&g.counts),
                    &g.errors,
                    format,
                )
            };
            let _ = req.respond(typed(Response::from_string(text), format.content_type()));
        }
        "/" => {
            let _ = req.respond(typed(
                Response::from_string("aactl exporter: the metrics are at /metrics\n"),
                "text/plain; charset=utf-8",
            ));
        }
        _ => {
            let _ = req.respond(Response::from_string("not found\n").with_status_code(404));
        }
    }
}

/// Runs `aactl exporter` until Ctrl-C.
///
/// # Errors
/// The address cannot be listened on.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let ttl = m.get_one::<f64>("refresh-interval").copied().unwrap_or(1.0);
    let ttl = Duration::try_from_secs_f64(ttl)
        .map_err(|_| CliError(format!("--refresh-interval {ttl}: not a number of seconds")))?;
    let addr = *m
        .get_one::<SocketAddr>("listen")
        .ok_or_else(|| CliError("--listen: no address".into()))?;
    let server = tiny_http::Server::http(addr)
        .map_err(|e| CliError(format!("--listen {addr}: {}", escape_str(&e.to_string()))))?;
    let bound = server
        .server_addr()
        .to_ip()
        .map_or_else(|| addr.to_string(), |a| a.to_string());
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let _ = ctrlc::set_handler(move || s2.store(true, Ordering::SeqCst));
    let shared = Arc::new(Mutex::new(Shared {
        counts: super::metrics::counts(m),
        errors: BTreeMap::new(),
    }));
    let with_records = !m.get_flag("no-log");
    let mut follower = None;
    if with_records {
        match follow_source(m, &sys) {
            Some(src) if matches!(src, Source::File(_) | Source::Journal(_)) => {
                let _ = writeln!(
                    io.err,
                    "aactl: exporter: counting records of {}",
                    escape_str(&src.describe())
                );
                let (sys2, sh, st) = (sys.clone(), shared.clone(), stop.clone());
                follower = Some(std::thread::spawn(move || follow(src, sys2, sh, st)));
            }
            Some(src) => {
                return Err(CliError(format!(
                    "--log {}: the exporter follows a file or the journal, not standard \
                     input or the ring buffer",
                    escape_str(&src.describe())
                )));
            }
            None => {
                let _ = writeln!(
                    io.err,
                    "aactl: warning: no file or journal holds this host's AppArmor records: \
                     records are not counted (give --log SOURCE)"
                );
                *lock(&shared).errors.entry("log".to_owned()).or_default() += 1;
            }
        }
    }
    let _ = writeln!(
        io.err,
        "aactl: exporter listening on http://{bound}/metrics"
    );
    let _ = io.err.flush();
    let mut cache = StateCache {
        ttl,
        parser_version: super::metrics::parser_version(&sys),
        sys,
        last: None,
    };
    while !stop.load(Ordering::SeqCst) {
        match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(req)) => answer(req, &mut cache, &shared, with_records),
            Ok(None) => {}
            Err(e) => {
                let _ = writeln!(io.err, "aactl: exporter: {}", escape_str(&chain(&e)));
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    if let Some(f) = follower {
        let _ = f.join();
    }
    Ok(Exit::Success)
}
