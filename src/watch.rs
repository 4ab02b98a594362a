//! `--watch SECONDS` of the load and mode commands: after a load, follow a log
//! source for a while and collect the records of the loaded profiles (their
//! hats and children included) with the rules that would allow them
//! (the triage module does the work:
//! [`crate::triage::follow`], [`crate::triage::RecordFilter`],
//! [`crate::triage::Suggestions`]).

use crate::log::Record;
use crate::log::reader::{LineSource, LogReader, ReaderOptions};
use crate::policy::ParserVersion;
use crate::triage::{RecordFilter, Suggestions};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Most records kept for display (the suggestions still see every record).
pub const MAX_WATCH_RECORDS: usize = 1000;

/// What a watch saw.
#[derive(Debug, Default)]
pub struct Watched {
    /// The kept records (denied and allowed: complain mode logs `ALLOWED`),
    /// with the loaded profiles each is attributed to; at most
    /// [`MAX_WATCH_RECORDS`].
    pub records: Vec<(Record, Vec<String>)>,
    /// Records matched beyond [`MAX_WATCH_RECORDS`].
    pub dropped: u64,
    /// The rules that would allow them, per profile.
    pub suggestions: Suggestions,
    /// A read error that ended the watch early.
    pub error: Option<String>,
}

/// The triage filter keeping records of the profiles `names` (exact names;
/// `name//hat` and `name//child` go with `name`). `None` when `names` is empty.
pub fn profile_filter(names: &[String]) -> Option<RecordFilter> {
    if names.is_empty() {
        return None;
    }
    let alts: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
    let re = regex::Regex::new(&format!("^(?:{})(?://.*)?$", alts.join("|"))).ok()?;
    Some(RecordFilter {
        profile: Some(re),
        ..RecordFilter::default()
    })
}

/// Reads `src` until `stop` is set or `duration` has passed (a timer thread
/// sets `stop`), keeping the records of the profiles `names` (see
/// [`profile_filter`]) and their suggested rules. `src` must end when `stop`
/// is set (as [`crate::triage::follow::FollowFile`] and
/// [`crate::triage::follow::FollowJournal`] do).
pub fn watch(
    src: Box<dyn LineSource>,
    stop: Arc<AtomicBool>,
    duration: Duration,
    names: &[String],
) -> Watched {
    watch_for(src, stop, duration, names, ParserVersion::LATEST)
}

/// [`watch`] with the rules written for apparmor_parser release `parser`
/// ([`Suggestions::for_parser`]).
pub fn watch_for(
    src: Box<dyn LineSource>,
    stop: Arc<AtomicBool>,
    duration: Duration,
    names: &[String],
    parser: ParserVersion,
) -> Watched {
    let mut out = Watched {
        suggestions: Suggestions::for_parser(parser),
        ..Watched::default()
    };
    let Some(filter) = profile_filter(names) else {
        return out;
    };
    let timer_stop = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(duration);
        timer_stop.store(true, Ordering::SeqCst);
    });
    let opts = ReaderOptions {
        // Records must show as they come (no holding back for audit grouping).
        group: false,
        ..ReaderOptions::default()
    };
    let mut reader = LogReader::new(src, opts);
    for item in reader.by_ref() {
        match item {
            Ok(r) => {
                if let Some(profs) = filter.apply(&r) {
                    out.suggestions.add(&r, &profs);
                    if out.records.len() < MAX_WATCH_RECORDS {
                        out.records.push((r, profs));
                    } else {
                        out.dropped += 1;
                    }
                }
            }
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_keeps_hats_and_children_not_prefixes() {
        let f = profile_filter(&["ping".into(), "a.b".into()]).unwrap();
        let re = f.profile.unwrap();
        for yes in ["ping", "ping//hat", "ping//null-/bin/x", "a.b"] {
            assert!(re.is_match(yes), "{yes}");
        }
        for no in ["pingx", "xping", "aXb", "other//ping"] {
            assert!(!re.is_match(no), "{no}");
        }
        assert!(profile_filter(&[]).is_none());
    }
}
