//! The one integration-test crate (one link instead of one per file).
//! Each module covers one area; shared helpers live in `common`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;
// concurrent edits of one profile file or local override (the edit lock)
mod edit_lock;
mod loader;
mod loader_cli;
mod loader_mode;
mod loader_mode_targets;
// every profile mode (kill, prompt, unconfined, default_allow): edits, release gates, real parsers
mod loader_modes_all;
mod loader_unknown;
// --watch: a log file appended to while the watch runs (FollowFile)
mod loader_watch;
mod policy_check_cli;
mod policy_conformance;
mod policy_edit;
mod policy_hostile;
mod policy_resolve;
mod policy_roundtrip;
mod policy_syntax;
// hostile and odd input for check, mode commands and loader
mod qa_policy;
// aa-status vs upstream 6.0's recorded results on the shared fake systems (root, unshare)
mod compliance;
// aa-status of 4.1.0 and 5.0.2 (reference userlands) vs ours on the same fake systems
mod status_releases;
// JSON-as-data reader used by the compliance tests
mod status_json;
// aactl status on fake trees: tables, JSON schema field by field, exit 2 cases
mod aactl_status;
// aactl ps: states, stacks, namespaces, filters, escaping
mod aactl_ps;
// aactl first-use fixes: exit codes, JSON conventions, messages, preflight, wording
mod aactl_ux;
// before the parser or the kernel: AppArmor enabled, profile files readable
mod admin_preflight;
// a systemd journal file given to aactl log: read through journalctl --file
mod admin_journal;
// aactl completions bash|zsh|fish, the bash script driven in bash
mod admin_completions;
// aactl check: include chains, did-you-mean for capabilities and permissions
mod admin_check;
// man/aactl.1: generated from aactl's clap definition plus written sections; stale check
mod man_aactl;
// generated fake systems: vs Debian 3.0.8 (root) and in-process through System::with_root
mod status_fake;
// System on testdata, aactl snapshot round trip, bad input
mod log_conformance;
// our log records vs libapparmor 3.0.8 (host), 4.1.0 and 5.0.2 (chroot into the reference userlands)
mod log_parallel;
mod log_pitfalls;
mod log_releases;
mod status_system;
// kernel.apparmor_restrict_unprivileged_* in status/snapshot; auditctl -s asked of stand-ins
mod status_restrictions;
// forged log lines (logger, a journal entry claiming dbus-daemon) never become
// written rules without --trust-userspace-records; kernel lines still do
mod log_provenance;
// awkward input for the parallel log reader vs the line reader
mod log_robust;
mod log_time_filters;
mod policy_releases;
mod policy_semantic;
// roddhjav/apparmor.d built as Debian builds it: our verdicts vs 5.0.2's recorded ones
mod policy_apparmord;
mod policy_semantic_cli;
mod qa_parallel;
// man/aa-status.8 is generated and current
mod status_man;
// the installed parser's release: stand-in parsers that hang, flood, fail or print escapes
mod parser_version_probe;
// insta snapshots of aactl's human-facing output (tests/snapshots/)
mod snapshots_human;
// live AppArmor kernel under qemu: ours vs Debian's aa-status, aactl, apparmor=0
mod vm;
// QA: hostile input for aa-status, aactl status/ps (FIFOs, loops, malformed files)
mod qa_status;
// small robustness fixes: JSON keys, variable chains, option bounds, --root, messages
mod qa_small;
// QA: hostile input for aactl log, --summary, --suggest, --write --dry-run
mod qa_log;
mod triage_big;
mod triage_conformance;
mod triage_follow;
mod triage_pitfalls;
// aactl triage: plan, answers edited by a script, applied; autodep and genprof
mod triage_plan;
// aactl triage: the full-screen review driven inside tmux
mod triage_tui;
// aactl unconfined on fake trees: sockets, scopes, attachments, --root
mod toolbox_unconfined;
// suggested rules for 3.0/4.1/5.0 compiled by each release's apparmor_parser
mod triage_release;
mod triage_write;
// one stdout policy for every aactl subcommand (/dev/full: one message, exit 2)
mod output_policy;
// the library's layers point only downward (src/lib.rs)
mod layering;
// hostile roots: every place read or written under --root as a link out of the root,
// a FIFO, a link to /dev/zero or a sparse file, for every command that uses it
mod trust_hostile;
// aactl metrics / exporter: promtool on every root, the alert rules' unit tests, a real
// Prometheus scraping the exporter over a snapshot and a growing log
mod metrics;
// public functions no other part of the crate calls, used as API
mod public_api;
// aactl snapshot --archive: a bundle of a fake system read back through --root
mod admin_bundle;
// aactl fmt; a formatted tree compiles to the same binary policy (3.0.8, 4.1, 5.0.2)
mod policy_format;
// aactl features: written ABI read back and compiled with -M; --diff
mod features_abi;
// tables fitted to 80 and 200 columns, colour (--color, NO_COLOR), aactl inside tmux at 80×40
mod terminal_output;
// findings of the hostile review and the first-use trial, pinned
mod trust_review;
