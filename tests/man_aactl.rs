//! Generates `man/aactl.1` and fails when the committed page is stale.
//!
//! NAME, SYNOPSIS, OPTIONS and one COMMANDS subsection per subcommand (recursively) come
//! from `apparmor::cli::aactl::command()` through clap_mangen; DESCRIPTION, JSON OUTPUT,
//! EXIT STATUS, EXAMPLES, FILES and SEE ALSO are written below. Regenerate with
//! `INSTA_UPDATE=always cargo test --test integration man_aactl`.

use crate::common;
use clap_mangen::Man;

/// The page date: bumped by hand at release time, never the build date.
const DATE: &str = "2026-11-29";

const DESCRIPTION: &str = r#".SH DESCRIPTION
\fBaactl\fR inspects and manages AppArmor on a Linux host. Each job is a subcommand (see
\fBCOMMANDS\fR); the inspection commands print tables meant for people, or with
\fB\-\-json\fR a versioned JSON document meant for scripts (see \fBJSON OUTPUT\fR).
.PP
Every inspection command reads the system state under a root directory: \fI/\fR by default,
or the directory given with \fB\-\-root\fR \fIDIR\fR (which must exist: a missing one is a
usage error, exit 2, for every command). Such a directory has the layout of a
root file system restricted to what AppArmor exposes (\fIproc/mounts\fR, \fIproc/PID/attr\fR,
\fIsys/module/apparmor/parameters\fR, \fIsys/kernel/security/apparmor\fR), as written by
\fBaactl snapshot\fR; attach one to a bug report and the same commands give the same answer
on another machine.
.PP
Text that comes from the kernel or from processes (profile names, labels, command names,
executable paths) is printed with control characters escaped (\fB\en\fR, \fB\et\fR,
\fB\ex1b\fR, ...), so a hostile process name cannot rewrite the terminal. JSON output
carries the exact text, escaped by the JSON encoder; bytes that are not UTF\-8 are replaced
by U+FFFD.
.PP
\fBaactl status\fR counts the loaded profiles per policy namespace and mode, lists them with
their attachments, lists the confined processes, the module parameters (typed) and a summary
of the kernel's feature set (policy ABI versions, label stacking, the rule classes the
kernel mediates). Its first lines name the installed \fBapparmor_parser\fR with its version and
the policy language release it accepts, and the policy ABI versions the kernel accepts
(\fIfeatures/policy/versions\fR). With \fB\-\-root\fR the parser is not shown (JSON: null): a
snapshot has no parser of its own and the host's says nothing about it. A line of the
kernel's profile list that is not \fINAME\fR (\fIMODE\fR) is reported on standard error and
skipped.
.PP
\fBaactl ps\fR lists processes with their label, the label's mode and every profile of the
label's stack with its namespace and its own mode (the kernel prints a single mode for a
label, \fBmixed\fR when the stacked profiles differ; the per\-profile modes come from the
profile list). By default every process is listed, unconfined ones and those whose label
cannot be read included; \fB\-\-confined\fR, \fB\-\-mode\fR, \fB\-\-profile\fR and
\fB\-\-namespace\fR narrow the list. Filters of different kinds must all match; repeated
values of one filter are alternatives. A \fB\-\-mode\fR word that is not a known mode is
still matched verbatim (a newer kernel can print new modes), with a warning.
.PP
\fBaactl snapshot\fR \fIDIR\fR copies what \fBstatus\fR, \fBps\fR and \fBaa\-status\fR(8)
read into \fIDIR\fR, laid out as a root directory, for \fB\-\-root\fR \fIDIR\fR. It fails
(status 2) when AppArmor cannot be inspected, as \fBstatus\fR does; \fB\-\-force\fR writes
what there is and warns.
With \fB\-\-archive\fR \fIFILE\fR.tar.gz it writes one bug\-report file instead: the same
state plus the profile directory (\fB\-\-loaded\-only\fR: only the files of loaded profiles),
the last AppArmor records (\fB\-\-records\fR \fIN\fR, 1000 by default), the kernel release and
command line, the parser version, the \fIapparmor_*\fR sysctls and
\fIaactl\-bundle/manifest.json\fR, which lists every entry and what may be private;
\fB\-\-redact\fR hashes user names in \fI/home\fR paths and the command line. Unpacked, the
bundle's top folder is a root for \fB\-\-root\fR.
.PP
\fBaactl check\fR parses and checks profile files as \fBapparmor_parser\fR(8) would
(grammar, includes, variables and semantic rules), walking a directory as the parser walks
\fI/etc/apparmor.d\fR. Each problem is reported with file, line, column and a stable code;
\fB\-\-format json\fR (or \fB\-\-json\fR) prints one document instead. It checks the
language of one parser release: \fB\-\-parser\-version\fR \fIX.Y\fR (3.0, 4.1, 5.0 or 6.0),
by default the release of the installed \fBapparmor_parser\fR, read from its
\fB\-\-version\fR (6.0 when none is installed; when it does not answer within 5 seconds,
fails, or prints no version, a warning says so and 6.0 is assumed).
A construct that release does not know is an error whose code names the release that
introduced it (\fBV41\fR\fIxx\fR: 4.x, \fBV50\fR\fIxx\fR: 5.0), and checks that changed
between releases (conflicting exec modes of overlapping patterns, \fBpriority=\fR) follow the
chosen release; the feature ABI (\fB\-\-features\fR) still decides what is enforced. The
summary line names the release checked for.
.PP
\fBaactl log\fR reads AppArmor audit records from files (plain, rotated or compressed),
standard input, the journal or the kernel ring buffer; without a source it finds where this
host sends them. A systemd journal file given as a source (its header starts with
\fBLPKSHHRH\fR) is read through \fBjournalctl \-\-file\fR, not as text. By default it prints one escaped line per record (NDJSON with
\fB\-\-format json\fR). Filters (\fB\-\-profile\fR, \fB\-\-operation\fR, \fB\-\-class\fR,
\fB\-\-mode\fR, \fB\-\-pid\fR, \fB\-\-comm\fR) apply to every view. \fB\-\-summary\fR groups
the records by profile, class, operation, target and mask with counts and times;
\fB\-\-suggest\fR prints the rules that would allow them (leaving out what the profiles on
disk already allow) and with \fB\-\-write\fR appends them to the profiles' local overrides;
the rules are written in the language of the \fBapparmor_parser\fR release given by
\fB\-\-parser\-version\fR (default the installed parser's, else the newest): for 3.0 a
fine\-grained network rule becomes \fBnetwork\fR \fIFAMILY TYPE\fR, and rule kinds or options
the release lacks (userns, io_uring, mqueue for 3.0) give no rule, with the reason;
\fB\-\-follow\fR keeps reading a file or the journal as records arrive (see
\fIdocs/triage.md\fR).
.PP
Any local user can write a syslog line or a journal entry (\fBlogger\fR(1)) that looks like
an AppArmor denial, so each record carries its provenance, judged by the channel it came
through and never by its text: the kernel (auditd's log, the ring buffer, a syslog line
tagged \fBkernel:\fR, the journal's kernel and audit transports), a trusted helper (the
D\-Bus daemon, identified by the audit subsystem or by journald's own fields), or a sender
that is not verified. Records of unverified senders are listed marked \fB(untrusted)\fR;
the rules only they support are printed apart by \fB\-\-suggest\fR, under an
\fBUNTRUSTED\fR comment, and \fB\-\-write\fR skips them, saying how many on standard error,
unless \fB\-\-trust\-userspace\-records\fR is given.
.PP
\fBaactl load\fR, \fBreplace\fR and \fBunload\fR run \fBapparmor_parser\fR(8) with the
right options and report a result per file and per profile; \fBunload\fR also removes loaded
profiles by name. \fB\-\-dry\-run\fR prints the exact commands and changes nothing.
.PP
\fBaactl enforce\fR, \fBcomplain\fR, \fBaudit\fR, \fBdisable\fR and \fBenable\fR change a
profile's mode where it is defined: only that profile's flags are rewritten (comments and
layout kept, the file replaced atomically; \fBdisable\fR and \fBenable\fR manage the
\fIdisable/\fR link), then the profile is reloaded. A profile is named by its name, its file
(a bare file name such as \fBusr.sbin.nscd\fR is looked for in the profile directory; under
\fB\-\-root\fR an absolute path is taken inside the root) or the program path it attaches to;
a name that is not found is answered with the closest profile or file name. Each result
line names the mode before and after (\fBenforce\fR when no mode flag is written), and
\fB\-\-dry\-run\fR shows the edit as a unified diff.
.PP
\fBaactl kill\fR and \fBprompt\fR set those modes the same way, and \fBaactl mode\fR
\fIMODE\fR sets any of \fBenforce\fR, \fBcomplain\fR, \fBkill\fR (a denied access kills
the task; the kernel logs \fBapparmor="KILLED"\fR), \fBunconfined\fR (the profile attaches
but does not confine), \fBprompt\fR and \fBdefault_allow\fR (what no rule covers is
allowed). The \fBunconfined\fR mode is set with \fBaactl mode unconfined\fR because
\fBaactl unconfined\fR lists unconfined processes. \fBprompt\fR and \fBdefault_allow\fR
need apparmor_parser 4.1 or later: the release is \fB\-\-parser\-version\fR, else the one
the parser that reloads reports, else 6.0 when none is installed, and a mode it rejects stops
the command before any file is touched (status 2).
.PP
\fBaactl remove\-unknown\fR unloads the profiles that are loaded but defined by no file of
the profile directories.
.PP
\fBaactl fmt\fR \fIPATH\fR... formats profile files and folders in place: one item per line,
two spaces per level, \fB#include\fR written \fBinclude\fR, every comment and blank\-line
group kept, nothing reordered, so the policy compiles to the same binary. \fB\-\-check\fR
prints the diff and exits 1 when a file is not formatted; \fB\-\-diff\fR prints it and
writes nothing. A file with a syntax error is left alone (status 2).
.PP
\fBaactl features\fR prints the kernel's feature ABI (or the snapshot's, with \fB\-\-root\fR) in
the file format of \fBapparmor_parser \-M\fR and \fBaactl check \-\-features\fR;
\fB\-w\fR \fIFILE\fR writes it. \fB\-\-diff\fR \fIA\fR \fIB\fR compares two feature sets
(files, features folders or roots) and lists what \fIB\fR adds, removes and changes (status 1
when they differ).
.PP
\fBaactl unconfined\fR lists the processes that run unconfined and hold a listening socket
(TCP in LISTEN, unconnected UDP and raw sockets, Unix sockets accepting connections), read from
the socket tables of each process's network namespace and its \fI/proc/PID/fd\fR links;
\fB\-\-all\fR takes any socket, \fB\-\-paranoid\fR every unconfined process. Each row names the
executable (with the script for an interpreter) and the profile that would attach to it, by
the attachments of the loaded profiles and then of the files in \fB\-\-profile\-dir\fR:
"loaded, not applied" when the process started before that profile was loaded (restart it),
"not loaded" when only a file defines it.
.PP
\fBaactl exec\fR \fB\-p\fR \fIPROFILE\fR [\fB\-n\fR \fINS\fR] [\fB\-i\fR] [\fB\-\-stack\fR]
\fB\-\-\fR \fICOMMAND\fR... runs \fICOMMAND\fR under \fIPROFILE\fR (aa\-exec): aactl asks the kernel
for the profile at its next exec (at once with \fB\-i\fR; stacked on its label with
\fB\-\-stack\fR) and executes \fICOMMAND\fR in its place. When the kernel refuses, the message
says whether the profile is not loaded or the change is not permitted (status 2).
.PP
\fBaactl metrics\fR prints the state and the log's AppArmor records, counted, as Prometheus
metrics (see \fBMETRICS\fR); with \fB\-\-output\fR \fIFILE\fR it replaces \fIFILE\fR
atomically, for node_exporter's textfile collector. \fBaactl exporter\fR serves the same
metrics over HTTP (\fI/metrics\fR on 127.0.0.1:9747 by default) for Prometheus to scrape,
reading the state again for a scrape at most once a second and following the log to count
records as they arrive. Both count only records the kernel sent unless
\fB\-\-trust\-userspace\-records\fR is given. Setting them up across many hosts, alert rules
and feeding the records into log pipelines: \fIdocs/fleet.md\fR and
\fIcontrib/prometheus/\fR.
.PP
\fBaactl triage\fR reads records as \fBaactl log\fR does and prints the review plan: one
proposal per distinct access the profiles on disk do not allow yet, with its records and the
candidate rules, most specific first (\fB\-\-json\fR: the document in \fBJSON OUTPUT\fR).
\fB\-\-answers\fR \fIFILE\fR applies that document with the answers filled in: exactly the
chosen rules are written, each inside the block of its profile, hat or child (or a
top\-level profile's into its \fIlocal/\fR override with \fB\-\-local\fR), after a unified
diff; \fB\-\-dry\-run\fR shows the diff only, \fB\-\-reload\fR reloads the changed files
and \fB\-\-set\-mode\fR \fBenforce\fR|\fBcomplain\fR also switches their mode (the
full\-screen review offers both at Save); otherwise the exact \fBaactl replace\fR command
is printed.
.PP
\fBaactl autodep\fR \fIPROGRAM\fR writes a starting profile in complain mode (newest ABI of
the profile directory, \fItunables/global\fR, \fIabstractions/base\fR, for a \fB#!\fR
script the interpreter's abstraction and the interpreter); an existing file is never
overwritten. \fBaactl genprof\fR \fIPROGRAM\fR [\fB\-\-\fR \fIARGS\fR] writes or switches
the profile to complain mode, loads it, runs the program (or waits for Enter), builds the
plan over the records logged for it since, and with \fB\-\-answers\fR applies them and
switches the profile to enforce mode.
.PP
\fBaactl completions\fR \fISHELL\fR prints the completion script for \fBbash\fR,
\fBzsh\fR or \fBfish\fR, generated from this version's own options (see \fBEXAMPLES\fR for
where each shell reads it).
"#;

const JSON_OUTPUT: &str = r#".SH "JSON OUTPUT"
The conventions differ by command; each is described below.
.PP
\fBaactl status \-\-json\fR, \fBaactl ps \-\-json\fR and \fBaactl check \-\-format json\fR
(or \fB\-\-json\fR) print one JSON object whose \fBschema\fR member is the schema version
(currently \fB1\fR) and whose \fBkind\fR names the command. Within a schema version members
are only ever added; a member that changes meaning or disappears bumps the version. In these
documents absent or unreadable values are \fBnull\fR, never left out.
.PP
\fBaactl unconfined \-\-json\fR prints one object of \fBkind\fR \fBaactl\-unconfined\fR with
\fBschema\fR, \fBroot\fR, \fBscope\fR (\fBlistening\fR, \fBall\fR or \fBparanoid\fR) and
\fBprocesses\fR by pid, each with \fBpid\fR, \fBcomm\fR, \fBexe\fR, \fBcmdline\fR (the arguments,
first 4 KiB), \fBlabel\fR, \fBattach\fR (null, or \fBprofile\fR, \fBloaded\fR, \fBfile\fR and
\fBconflicts_with\fR, the other profiles that match as well: the kernel attaches none),
\fBhas_profile\fR (a loaded profile would attach without conflict) and \fBsockets\fR: each
\fBinode\fR with \fBsocket\fR, null when the socket is in no table, or its \fBprotocol\fR
(\fBtcp\fR, \fBtcp6\fR, \fBudp\fR, \fBudp6\fR, \fBraw\fR, \fBraw6\fR, \fBunix\fR), \fBlocal\fR
address, \fBstate\fR as \fBss\fR names it, \fBlistening\fR and \fBinode\fR.
.PP
\fBaactl log \-\-format json\fR (or \fB\-\-json\fR) prints NDJSON, one object per record,
versioned by its own \fBversion\fR member; absent fields are left out (see below).
.PP
The loader commands (\fBload\fR, \fBreplace\fR, \fBunload\fR, \fBenforce\fR, \fBcomplain\fR,
\fBkill\fR, \fBprompt\fR, \fBmode\fR, \fBaudit\fR, \fBdisable\fR, \fBenable\fR,
\fBremove\-unknown\fR) with \fB\-\-json\fR print one
indented object with \fBaction\fR, \fBok\fR, \fBdry_run\fR and \fBresults\fR (one entry per
file or profile), and for \fBprompt\fR and \fBdefault_allow\fR \fBparser_release\fR (the
release the flag was checked for); they have no \fBschema\fR or \fBkind\fR member yet.
.PP
Mode words are \fBenforce\fR,
\fBcomplain\fR, \fBprompt\fR (the kernel's \fBuser\fR), \fBkill\fR, \fBunconfined\fR,
\fBmixed\fR, or any newer word the kernel prints, verbatim. Namespaces are relative to the
reader's own namespace, nested levels joined by \fB//\fR; \fBnull\fR is the reader's own.
.SS "Process object (aactl ps, aactl status)"
.TP
\fBpid\fR
Process id (number).
.TP
\fBcomm\fR
Command name, or null.
.TP
\fBexe\fR
Executable path (the \fIexe\fR link, resolved on the live host), or null.
.TP
\fBlabel\fR
The AppArmor attribute as read, e.g. \fBa//&:ns:b (mixed)\fR, or null when unreadable.
.TP
\fBstate\fR
\fBconfined\fR (at least one real profile), \fBunconfined\fR (only unconfined
pseudo\-profiles, or an empty attribute), \fBhidden\fR (\fB\-\-\-\fR: not visible from this
namespace), \fBunreadable\fR, or \fBinvalid\fR (not an AppArmor label, e.g. another LSM's
context).
.TP
\fBmode\fR
The label's mode; \fBunconfined\fR for an unconfined task; null for hidden, unreadable and
invalid labels.
.TP
\fBstack\fR
Array of the label's profiles in order, each an object with \fBnamespace\fR (string or null),
\fBprofile\fR (name with hats, \fIparent//hat\fR) and \fBmode\fR (that profile's own mode;
\fBunconfined\fR for a namespace's unconfined pseudo\-profile; null when unknown). Empty for
hidden, unreadable and invalid labels.
.TP
\fBexe_profile\fR
For an unconfined process in the reader's namespace, the loaded profile whose name is the
executable's path (loaded after the process started, so not applied until it restarts);
otherwise null.
.SS "aactl ps \-\-json"
.TP
\fBschema\fR, \fBkind\fR
\fB1\fR and \fB"aactl\-ps"\fR.
.TP
\fBroot\fR
The root directory read.
.TP
\fBprocesses\fR
Array of process objects, by pid, after filtering.
.SS "aactl status \-\-json"
.TP
\fBschema\fR, \fBkind\fR
\fB1\fR and \fB"aactl\-status"\fR.
.TP
\fBroot\fR, \fBsecurityfs\fR
The root directory read and the AppArmor directory found from \fIproc/mounts\fR.
.TP
\fBnamespace\fR
The reader's namespace name (\fI.ns_name\fR), or null.
.TP
\fBrevision\fR
The policy revision counter (number), or null.
.TP
\fBprofiles\fR
An object: \fBpath\fR (the profile list read), \fBtotal\fR (number of profiles),
\fBnamespaces\fR (array, the reader's namespace first, each with \fBnamespace\fR,
\fBtotal\fR and \fBmodes\fR, an object from mode word to count holding only modes that
occur), \fBprofiles\fR (array sorted by namespace then name, each with \fBnamespace\fR,
\fBname\fR, \fBmode\fR, \fBattach\fR, the attachment text from the policy tree or null, and
\fBattach_kind\fR: \fB"text"\fR when \fBattach\fR holds the text, \fB"pattern"\fR when the
kernel keeps only the compiled attachment pattern (its \fIattach\fR file reads
\fB<unknown>\fR; \fBattach\fR is null and the table shows \fB(pattern)\fR), null when the
policy tree does not have the profile) and
\fBmalformed\fR (skipped lines of the list, each with \fBline\fR, 1\-based, and \fBtext\fR).
.TP
\fBprocesses\fR
Array of the confined process objects, by pid.
.TP
\fBunconfined_with_profile\fR
Array of the unconfined process objects whose \fBexe_profile\fR is set, by pid.
.TP
\fBparameters\fR
Object from module parameter name to value: \fBY\fR/\fBN\fR become booleans, decimal numbers
become numbers, \fBmode\fR becomes a mode word, anything else stays a string.
.TP
\fBunreadable_parameters\fR
Names of parameter files that exist but could not be read (most need root).
.TP
\fBfeatures\fR
Null when the feature tree is unreadable; otherwise an object: \fBpolicy_abi\fR (policy
versions such as \fB"v8"\fR, ascending), \fBdomain_version\fR (string or null),
\fBstacking\fR (boolean), \fBrule_classes\fR (object from rule class \- file, capability,
network, unix, mount, pivot_root, signal, ptrace, dbus, rlimit, change_profile, userns,
io_uring, mqueue \- to a boolean telling whether the kernel mediates it) and
\fBtop_level\fR (the feature tree's top\-level entries).
.TP
\fBparser\fR
The installed \fBapparmor_parser\fR: \fBpath\fR, \fBversion\fR (as \fB\-\-version\fR prints
it, e.g. \fB"4.1.0"\fR, or null) and \fBlanguage\fR (the policy language release line it
accepts: \fB"3.0"\fR, \fB"4.1"\fR, \fB"5.0"\fR or \fB"6.0"\fR, or null). Null when no parser
is found, and always with \fB\-\-root\fR.
.TP
\fBsysctls\fR
Object from sysctl name (\fBkernel.apparmor_restrict_unprivileged_userns\fR,
\fB…_unconfined\fR, \fB…_io_uring\fR and any other
\fBkernel.apparmor_restrict_unprivileged_*\fR) to value (a number, a string when not
decimal, null when unreadable), read from \fI/proc/sys/kernel/\fR under the root; empty
when the kernel has none (Debian's kernels).
.TP
\fBaudit\fR
The audit subsystem's state from \fBauditctl \-s\fR: \fBstatus\fR (\fBenabled\fR,
\fBfailure\fR, \fBpid\fR of the audit daemon or 0, \fBrate_limit\fR, \fBbacklog_limit\fR,
\fBlost\fR, \fBbacklog\fR, \fBbacklog_wait_time\fR, \fBbacklog_wait_time_actual\fR, each a
number or null when not printed; null when auditctl failed), \fBproblems\fR (why AppArmor
records may be missing: records lost, a rate limit, a full backlog, auditing off) and
\fBerror\fR (why auditctl could not tell, such as not being root, or null). Null when
auditctl is not installed, and always with \fB\-\-root\fR.
.SS "aactl check \-\-format json"
One object, also when a path could not be read (exit status 2).
.TP
\fBschema\fR, \fBkind\fR
\fB1\fR and \fB"aactl\-check"\fR.
.TP
\fBvalid\fR
True when every file was read and none is invalid.
.TP
\fBchecked\fR, \fBinvalid\fR
Number of files read and checked, and how many of them have an error.
.TP
\fBparser_version\fR
The parser release line checked for: \fB"3.0"\fR, \fB"4.1"\fR, \fB"5.0"\fR or \fB"6.0"\fR.
.TP
\fBunreadable\fR
Array of the paths that could not be read, each with \fBpath\fR and \fBerror\fR (the message
also printed on standard error).
.TP
\fBfiles\fR
Array of the files checked, in order, each with \fBpath\fR, \fBvalid\fR (boolean),
\fBprofiles\fR (the names of the profiles it defines, hats as \fIparent//hat\fR) and
\fBdiagnostics\fR (array, each with \fBcode\fR, a stable code such as \fBP0001\fR,
\fBseverity\fR (\fBerror\fR, \fBwarning\fR or \fBnote\fR), \fBfile\fR (the file the span is in, which can
be an included file), \fBline\fR and \fBcolumn\fR (1\-based; column in bytes) and
\fBmessage\fR).
.SS "aactl log \-\-format json"
NDJSON: one object per AppArmor record, one per line, in the order read. The members are
specified in \fIdocs/log\-schema.md\fR: \fBversion\fR (\fB2\fR), \fBevent\fR
(\fBAA_RECORD_DENIED\fR, \fBAA_RECORD_ALLOWED\fR, ...), \fBoperation\fR, \fBclass\fR,
\fBprofile\fR, \fBname\fR, \fBrequested_mask\fR, \fBdenied_mask\fR, \fBpid\fR, \fBcomm\fR,
the network, D\-Bus, signal and mount fields, \fBcontext\fR (the other records of the same
audit event), \fBprovenance\fR, \fBsource\fR, \fBline\fR and \fBtime\fR (RFC 3339, UTC).
Unlike the documents above, a field the record does not have is left out, not \fBnull\fR;
\fBprovenance\fR is on every record: \fBkernel\fR (the kernel's AppArmor module),
\fBtrusted\-helper\fR (dbus\-daemon or dbus\-broker, as the audit subsystem or journald
identified the sender) or \fBuntrusted\fR (a sender nobody vouches for: another program's
syslog line, a line without kernel framing, a journal entry of a user process; anyone can
write one). Version 2 added \fBprovenance\fR. With \fB\-\-stats\fR, a \fBstats\fR object goes
to standard error. \fB\-\-summary\fR prints one object with \fBrecords\fR, \fBgroups\fR and
\fBoverflow_records\fR; \fB\-\-suggest\fR one object with \fBprofiles\fR,
\fBuntrusted_profiles\fR (rules only untrusted records support), \fBno_rule\fR and
\fBparser_version\fR (the release the rules are written for; all in \fIdocs/triage.md\fR).
.SS "aactl triage \-\-json (the review plan)"
One object: \fBschema\fR (\fB1\fR), \fBkind\fR (\fBtriage\-plan\fR) and \fBproposals\fR,
one per distinct access the profiles on disk do not allow yet, sorted by profile and kind.
A proposal has \fBid\fR (16 hex digits, the same for the same access in a later run),
\fBprofile\fR (\fIa//hat\fR for a hat or child: its rule is written inside that block),
\fBkind\fR (\fBfile\fR, \fBexec\fR, \fBcapability\fR, \fBnetwork\fR, \fBdbus\fR,
\fBsignal\fR, \fBptrace\fR, \fBmount\fR, \fBunix\fR, ...), \fBrecords\fR (\fBcount\fR,
\fBuntrusted\fR, \fBfirst\fR, \fBlast\fR and up to three \fBsamples\fR with \fBevent\fR,
\fBoperation\fR, \fBtarget\fR, \fBmask\fR, \fBcomm\fR, \fBpid\fR, \fBtime\fR,
\fBprovenance\fR and \fBsource\fR), \fBcandidates\fR (rule texts, most specific first:
the exact rule, for an owner access the rule without \fBowner\fR, the path with tunables
where their values still match it, globbed paths with and
without the extension, then \fBinclude <abstractions/X>\fR for each abstraction that
allows the access; for \fBexec\fR: \fBmrix\fR, \fBCx \-> NAME\fR, \fBcx \-> NAME\fR,
\fBPx\fR, \fBpx\fR, \fBUx\fR, \fBux\fR, the upper\-case forms scrubbing the environment),
\fBchild\fR (exec: the child profile's name), \fBaction\fR and \fBrule\fR (both
\fBnull\fR) and \fBaudit\fR (\fBfalse\fR). For \fB\-\-answers\fR set \fBaction\fR to
\fBallow\fR, \fBdeny\fR or \fBignore\fR, or for exec to \fBinherit\fR, \fBchild\fR,
\fBprofile\fR, \fBunconfined\fR or \fBnamed\fR, and \fBrule\fR to one of the candidates
(\fBnull\fR: the first that fits the action). \fBnamed\fR runs the program under the
profile named by \fBtarget\fR: the chosen \fBPx\fR, \fBpx\fR, \fBCx\fR or \fBcx\fR
candidate (default the first \fBPx\fR one) keeps its mode and gets \fB\-> TARGET\fR
(\fBPATH Px \-> TARGET,\fR; a child transition creates the child profile TARGET).
\fBaudit\fR \fBtrue\fR writes the rule with the \fBaudit\fR prefix (\fBaudit deny ...\fR
for deny). Only \fBid\fR, \fBaction\fR, \fBrule\fR, \fBtarget\fR and \fBaudit\fR are
read; an id not in the current plan, a rule not among the candidates, an exec action on
another kind, \fBnamed\fR without \fBtarget\fR, a \fBtarget\fR on another action, or
\fBaudit\fR on an include line is an error naming the id, and nothing is written. A proposal
only untrusted records support is not written
without \fB\-\-trust\-userspace\-records\fR.
"#;

const METRICS: &str = r#".SH METRICS
What \fBaactl metrics\fR prints and \fBaactl exporter\fR serves. Label values are escaped
by the encoder; every family is bounded in size whatever the host or its log holds.
.TP
\fBapparmor_enabled\fR
1 when AppArmor is enabled and its securityfs directory mounted, else 0 (the other state
metrics are then left out).
.TP
\fBapparmor_info\fR{\fBkernel_release\fR, \fBparser_version\fR}
Always 1; the parser version is empty under \fB\-\-root\fR.
.TP
\fBapparmor_policy_revision\fR
The kernel's policy revision counter (grows on every load, replacement and removal).
.TP
\fBapparmor_profiles\fR{\fBnamespace\fR, \fBmode\fR}
Loaded profiles; \fBnamespace\fR is empty for the reader's own. Modes \fBenforce\fR,
\fBcomplain\fR, \fBkill\fR, \fBunconfined\fR and \fBprompt\fR are always present for the
reader's namespace. At most 64 namespaces and 16 mode words, the rest as \fBother\fR.
.TP
\fBapparmor_processes\fR{\fBmode\fR}
Processes by their label's mode (\fBmixed\fR for a stack in different modes), or \fBhidden\fR,
\fBunreadable\fR or \fBinvalid\fR for a label without one.
.TP
\fBapparmor_processes_unconfined_with_profile\fR
Unconfined processes whose executable has a loaded profile.
.TP
\fBapparmor_records_total\fR{\fBprofile\fR, \fBevent\fR, \fBclass\fR, \fBoperation\fR}
AppArmor records sent by the kernel (all records with \fB\-\-trust\-userspace\-records\fR).
\fBevent\fR is \fBdenied\fR, \fBallowed\fR, \fBaudit\fR, \fBkilled\fR, \fBauto\fR, \fBhint\fR,
\fBstatus\fR or \fBerror\fR. The first 200 profiles (\fB\-\-max\-profiles\fR) keep their
name, later ones count as \fBother\fR; \fBclass\fR and \fBoperation\fR keep 64 values each;
past 2000 series a new combination counts under \fBother\fR: at most 2008 series.
.TP
\fBapparmor_records_folded_total\fR
Records counted with a label value replaced by \fBother\fR.
.TP
\fBapparmor_records_unverified_total\fR{\fBprovenance\fR}
Records not counted because the kernel did not send them: \fBtrusted\-helper\fR or
\fBuntrusted\fR.
.TP
\fBapparmor_scrape_errors_total\fR{\fBstage\fR}
Failures to read \fBenabled\fR, \fBprofiles\fR, \fBprocesses\fR, \fBrevision\fR or the
\fBlog\fR. \fBaactl metrics\fR then exits 1 (the output is still written).
"#;

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success (also \fB\-\-help\fR and \fB\-\-version\fR).
.TP
\fB1\fR
The command ran but found a problem: an invalid profile (\fBcheck\fR), a failed load, a
profile not found (the loader and mode commands).
.TP
\fB2\fR
Usage error (including a \fB\-\-root\fR \fIDIR\fR that is not a directory), or input that
could not be read (a profile file or directory for \fBcheck\fR,
a log source for \fBlog\fR), or the state could not be inspected; a message on standard
error names the path:
AppArmor is not available (\fIsys/module/apparmor\fR or its \fIparameters/enabled\fR is
missing), disabled at boot (\fIparameters/enabled\fR is not \fBY\fR), or its file system is
not mounted (no \fBsecurityfs\fR entry with an \fIapparmor\fR directory in
\fIproc/mounts\fR); for \fBaactl status\fR also when the profile list cannot be opened
(without root the kernel refuses it), and for every command when \fIproc\fR cannot be
listed; the same for \fBaactl snapshot\fR unless \fB\-\-force\fR. The commands that
load, unload or reload (\fBload\fR, \fBreplace\fR, \fBunload\fR, \fBenforce\fR,
\fBcomplain\fR, \fBaudit\fR, \fBdisable\fR, \fBenable\fR, \fBremove\-unknown\fR,
\fBgenprof\fR) make the same check before anything reaches the parser or the kernel, unless
\fB\-\-dry\-run\fR, \fB\-\-skip\-kernel\-load\fR or \fB\-\-no\-reload\fR leave the kernel out or
\fB\-\-apparmorfs\fR names its interface; \fBload\fR, \fBreplace\fR and \fBunload\fR also
exit 2, running nothing, when a profile file is missing, unreadable or not a regular file
(one line per path). Unlike
\fBaa\-status\fR(8), which uses 1, 3 and 4 for these, \fBaactl\fR keeps one status for
"could not inspect" and tells the cause in the message.
Every command also exits 2 when standard output cannot be written, with the one message
\fBaactl: cannot write to standard output: \fR\fIREASON\fR; a reader that went away
(\fBEPIPE\fR, as in \fBaactl ps | head\fR) ends the output quietly and keeps the status.
.SH DIAGNOSTICS
Every message \fBaactl\fR prints on standard error starts with \fBaactl: \fR (warnings with
\fBaactl: warning: \fR), usage errors included.
"#;

const EXAMPLES: &str = r#".SH EXAMPLES
Loaded policy, confined processes, parameters and features (\fBstatus\fR); the enforced profiles only, counted:
.PP
.nf
.RS
aactl status
aactl status \-\-mode enforce \-\-count
.RE
.fi
.PP
The profiles of one policy namespace, with \fBjq\fR(1):
.PP
.nf
.RS
aactl status \-\-json | jq '.profiles.profiles[] | select(.namespace == "lxd")'
.RE
.fi
.PP
What confines process 1234, processes in complain or kill mode, and those confined by a profile or one of its hats (\fBps\fR):
.PP
.nf
.RS
aactl ps \-\-pid 1234
aactl ps \-\-mode complain,kill
aactl ps \-\-profile /usr/sbin/cupsd
.RE
.fi
.PP
A snapshot for a bug report, as a folder or one archive; the same report read back from it on another machine (\fBsnapshot\fR):
.PP
.nf
.RS
aactl snapshot /tmp/host1
aactl snapshot \-\-archive /tmp/host1.tar.gz \-\-redact
aactl \-\-root /tmp/host1 status
.RE
.fi
.PP
Check profiles before deploying them, for the parser release of the target hosts (\fBcheck\fR); reformat them (\fBfmt\fR):
.PP
.nf
.RS
aactl check /etc/apparmor.d/usr.sbin.nscd
aactl check \-\-parser\-version 4.1 ./profiles/
aactl fmt \-\-diff ./profiles/usr.bin.foo
.RE
.fi
.PP
Denials of the last hour for one profile, grouped with the rules that would allow them; then write those rules (\fBlog\fR):
.PP
.nf
.RS
aactl log \-\-since \-1h \-\-profile /usr/sbin/nscd \-\-summary
aactl log \-\-since \-1h \-\-profile /usr/sbin/nscd \-\-suggest \-\-write \-\-dry\-run
aactl log /var/log/journal/*/system.journal \-\-class cap
.RE
.fi
.PP
Review the denials one by one and apply the chosen rules into local overrides (\fBtriage\fR):
.PP
.nf
.RS
aactl triage \-\-since today
aactl triage \-\-json > plan.json; aactl triage \-\-answers plan.json \-\-local \-\-reload
.RE
.fi
.PP
A starting profile for a program, and the full cycle of profiling it (\fBautodep\fR, \fBgenprof\fR):
.PP
.nf
.RS
aactl autodep \-\-dry\-run /usr/bin/foo
aactl genprof /usr/bin/foo \-\- \-\-selftest
.RE
.fi
.PP
Load new profiles, reload changed ones, unload one (\fBload\fR, \fBreplace\fR, \fBunload\fR); see the exact commands first:
.PP
.nf
.RS
aactl load \-\-dry\-run /etc/apparmor.d/usr.bin.foo
aactl replace /etc/apparmor.d/usr.bin.foo \-\-watch 60
aactl unload /usr/bin/foo
.RE
.fi
.PP
Switch modes by profile name or by the file name in /etc/apparmor.d; the diff first (\fBenforce\fR, \fBcomplain\fR, \fBaudit\fR, \fBdisable\fR, \fBenable\fR):
.PP
.nf
.RS
aactl complain \-\-dry\-run usr.sbin.nscd
aactl enforce nscd
aactl audit \-\-remove nscd
aactl disable usr.bin.foo
aactl enable usr.bin.foo
.RE
.fi
.PP
The other profile modes (\fBkill\fR, \fBprompt\fR, and any mode with \fBmode\fR):
.PP
.nf
.RS
aactl kill usr.bin.foo
aactl prompt \-\-dry\-run usr.bin.foo
aactl mode unconfined usr.bin.foo
.RE
.fi
.PP
Unconfined processes that listen on the network, and every unconfined process (\fBunconfined\fR):
.PP
.nf
.RS
aactl unconfined
aactl unconfined \-\-paranoid \-\-json
.RE
.fi
.PP
Run a command under a loaded profile, or stacked on the current one (\fBexec\fR):
.PP
.nf
.RS
aactl exec \-p usr.bin.foo \-\- /usr/bin/foo \-\-help
aactl exec \-\-stack \-p sandbox \-\- /bin/sh
.RE
.fi
.PP
Unload the profiles that are no longer on disk (\fBremove\-unknown\fR):
.PP
.nf
.RS
aactl remove\-unknown \-\-dry\-run
.RE
.fi
.PP
The kernel's feature ABI for \fBapparmor_parser \-M\fR, and what changed between two hosts (\fBfeatures\fR):
.PP
.nf
.RS
aactl features \-w /etc/apparmor.d/abi/host
aactl features \-\-diff /tmp/host1 /tmp/host2
.RE
.fi
.PP
AppArmor metrics for node_exporter's textfile collector, and an exporter for Prometheus (\fBmetrics\fR, \fBexporter\fR):
.PP
.nf
.RS
aactl metrics \-\-output /var/lib/prometheus/node\-exporter/apparmor.prom
aactl exporter \-\-listen 127.0.0.1:9747
.RE
.fi
.PP
Shell completions (\fBcompletions\fR):
.PP
.nf
.RS
aactl completions bash > /etc/bash_completion.d/aactl
aactl completions zsh > /usr/local/share/zsh/site\-functions/_aactl
aactl completions fish > ~/.config/fish/completions/aactl.fish
.RE
.fi
"#;

const ENVIRONMENT: &str = r#".SH ENVIRONMENT
.TP
\fBCOLUMNS\fR
The width tables and record lines are fitted to. Without it, a terminal's own width is
used, and a pipe or a file gets full lines; set, it applies to a pipe too. \fB\-\-wide\fR
turns fitting off. A table is fitted by wrapping its free\-text columns (paths, names,
rules); a pid, a count or a mode is never cut. A narrow \fBlog \-\-summary\fR merges its
columns (OPERATION is the class and operation, ACCESS the suggested rule, WHEN the first and
last times, BY the commands and pids).
.TP
\fBNO_COLOR\fR
Set to a non\-empty value, no colour with \fB\-\-color auto\fR (the default);
\fB\-\-color always\fR still colours. Colour is used only on a terminal, and not with
\fBTERM=dumb\fR.
.PP
Progress bars (reading a log file of 16 MiB or more, checking 50 files or more) are drawn on
standard error only when it is a terminal, and never with JSON output.
"#;

const FILES: &str = r#".SH FILES
All paths are read under the \fB\-\-root\fR directory when one is given.
.TP
\fI/proc/mounts\fR
Where securityfs is mounted.
.TP
\fI/sys/kernel/security/apparmor/profiles\fR
The loaded profiles and their modes.
.TP
\fI/sys/kernel/security/apparmor/policy/\fR
Per\-profile \fIname\fR, \fImode\fR and \fIattach\fR, by namespace.
.TP
\fI/sys/kernel/security/apparmor/features/\fR
The kernel's feature set.
.TP
\fI/sys/kernel/security/apparmor/revision\fR, \fI.ns_name\fR
Policy revision and the reader's namespace.
.TP
\fI/sys/module/apparmor/parameters/\fR
Module parameters.
.TP
\fI/proc/PID/attr/apparmor/current\fR, \fI/proc/PID/attr/current\fR
A process's label (the first where the kernel has it).
.TP
\fI/proc/PID/exe\fR, \fI/proc/PID/comm\fR
A process's executable and command name.
.TP
\fI/proc/sys/kernel/apparmor_restrict_unprivileged_*\fR
The unprivileged\-user restrictions some kernels (Ubuntu's) add; shown by \fBstatus\fR and
kept by \fBsnapshot\fR.
.PP
\fBstatus\fR and \fBlog\fR also run \fBauditctl \-s\fR (on \fBPATH\fR, else in
\fI/sbin\fR or \fI/usr/sbin\fR; C locale, 3 s limit) when it is installed and no
\fB\-\-root\fR is given: \fBstatus\fR prints the audit state, \fBlog\fR warns when records
were lost and, when it finds no records, adds the state to its explanation and asks again a
second later to tell whether \fBlost\fR is growing.
"#;

const SEE_ALSO: &str = r#".SH "SEE ALSO"
\fBaa\-status\fR(8), \fBapparmor\fR(7), \fBapparmor_parser\fR(8), \fBprometheus\fR(1),
\fBpromtool\fR(1)
"#;

fn render_part(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    f(&mut buf).expect("render to memory");
    String::from_utf8(buf).expect("roff is UTF-8")
}

/// roff's quote-string preamble, which clap_mangen writes before every rendered part.
const PREAMBLE: [&str; 2] = [".ie \\n(.g .ds Aq \\(aq", ".el .ds Aq '"];

/// Drops the preamble lines and, with `header`, the `.SH` line of a rendered part.
fn part(s: String, header: bool) -> String {
    let mut out = String::new();
    let mut dropped_header = !header;
    for line in s.lines() {
        if PREAMBLE.contains(&line) {
            continue;
        }
        if !dropped_header && line.starts_with(".SH") {
            dropped_header = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `text` with roff's `-` escaped.
fn roff_escape(text: &str) -> String {
    text.replace('-', "\\-")
}

/// Markdown-style `code` spans in clap's help texts become bold (roff has no backticks).
fn no_backticks(roff: &str) -> String {
    let mut out = String::new();
    for (i, piece) in roff.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("\\fB{piece}\\fR"));
        } else {
            out.push_str(piece);
        }
    }
    assert!(
        roff.matches('`').count() % 2 == 0,
        "unbalanced backticks in: {roff}"
    );
    out
}

/// One synopsis line for `cmd` shown as `name`: every option with its value names
/// (`[\-\-root DIR]`, `[\-m|\-\-mode MODE]...`), then the positionals as in `--help`.
fn synopsis(cmd: &clap::Command, name: &str) -> String {
    let mut parts = vec![format!("\\fB{}\\fR", roff_escape(name))];
    let values = |a: &clap::Arg| -> String {
        let names: Vec<String> = a
            .get_value_names()
            .map(|v| v.iter().map(|s| s.to_string()).collect())
            .unwrap_or_else(|| vec![a.get_id().to_string().to_uppercase()]);
        names
            .iter()
            .map(|n| format!("\\fI{}\\fR", roff_escape(n)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if a.is_positional() {
            continue;
        }
        let mut flag = Vec::new();
        if let Some(c) = a.get_short() {
            flag.push(format!("\\fB\\-{c}\\fR"));
        }
        if let Some(l) = a.get_long() {
            flag.push(format!("\\fB\\-\\-{}\\fR", roff_escape(l)));
        }
        let mut item = flag.join("|");
        if a.get_action().takes_values() {
            let optional = a.get_num_args().is_some_and(|n| n.min_values() == 0);
            if optional {
                item.push_str(&format!(" [{}]", values(a)));
            } else {
                item.push_str(&format!(" {}", values(a)));
            }
        }
        let repeat = matches!(
            a.get_action(),
            clap::ArgAction::Append | clap::ArgAction::Count
        );
        let mut s = if a.is_required_set() {
            item
        } else {
            format!("[{item}]")
        };
        if repeat {
            s.push_str("...");
        }
        parts.push(s);
    }
    for a in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let many = a.get_num_args().is_some_and(|n| n.max_values() > 1)
            || matches!(a.get_action(), clap::ArgAction::Append);
        let v = values(a);
        let mut s = if a.is_required_set() {
            v
        } else {
            format!("[{v}]")
        };
        if many {
            s.push_str("...");
        }
        parts.push(s);
    }
    if cmd.has_subcommands() {
        parts.push("\\fICOMMAND\\fR".to_owned());
    }
    parts.join(" ") + "\n"
}

/// Adds each option's visible aliases (`\-\-features`, `\-\-abi`) to its entry in a rendered
/// options section; clap_mangen leaves them out.
fn with_aliases(cmd: &clap::Command, opts: &str) -> String {
    let mut out = opts.to_owned();
    for a in cmd.get_arguments() {
        let (Some(long), Some(aliases)) = (a.get_long(), a.get_visible_aliases()) else {
            continue;
        };
        let head = format!("\\fB\\-\\-{}\\fR", roff_escape(long));
        let extra: String = aliases
            .iter()
            .map(|al| format!(", \\fB\\-\\-{}\\fR", roff_escape(al)))
            .collect();
        out = out
            .lines()
            .map(|l| {
                if l.starts_with(&head) || l.contains(&format!(", {head}")) {
                    let at = l.find(&head).unwrap() + head.len();
                    format!("{}{extra}{}", &l[..at], &l[at..])
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
    }
    out
}

/// The built `aactl` command as the page shows it (no `help` subcommand).
fn built() -> clap::Command {
    let mut cmd = apparmor::cli::aactl::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// One `.SS` subsection per subcommand (depth first): synopsis, description, options.
fn commands(cmd: &clap::Command, out: &mut String) {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_owned();
        out.push_str(&format!(".SS \"{name}\"\n"));
        let man = Man::new(sub.clone());
        out.push_str(&synopsis(sub, &name));
        if sub.get_long_about().or(sub.get_about()).is_some() {
            out.push_str(".PP\n");
            out.push_str(&no_backticks(&part(
                render_part(|w| man.render_description_section(w)),
                true,
            )));
        }
        let opts = part(render_part(|w| man.render_options_section(w)), true);
        if !opts.trim().is_empty() {
            out.push_str(".PP\nOptions:\n");
            out.push_str(&no_backticks(&with_aliases(sub, &opts)));
        }
        commands(sub, out);
    }
}

/// The whole page.
pub fn render() -> String {
    let cmd = built();
    // The same footer as aa-status(8) (tests/status_man.rs): "apparmor VERSION", "AppArmor".
    let man = Man::new(cmd.clone())
        .title("AACTL")
        .date(DATE)
        .source(format!("apparmor {}", env!("CARGO_PKG_VERSION")))
        .manual("AppArmor")
        .section("1");
    let mut page = String::new();
    page.push_str(&render_part(|w| man.render_title(w)));
    page.push_str(&part(render_part(|w| man.render_name_section(w)), false));
    page.push_str(".SH SYNOPSIS\n");
    page.push_str(&synopsis(&cmd, "aactl"));
    page.push_str(DESCRIPTION);
    page.push_str(&no_backticks(&part(
        render_part(|w| man.render_options_section(w)),
        false,
    )));
    page.push_str(".SH COMMANDS\n");
    commands(&cmd, &mut page);
    page.push_str(JSON_OUTPUT);
    page.push_str(METRICS);
    page.push_str(EXIT_STATUS);
    page.push_str(EXAMPLES);
    page.push_str(ENVIRONMENT);
    page.push_str(FILES);
    page.push_str(SEE_ALSO);
    // troff reads bytes: non-ASCII text from the help strings becomes named glyphs.
    page.replace('…', "\\[u2026]")
}

#[test]
fn committed_page_is_current() {
    let path = common::repo().join("man/aactl.1");
    let fresh = render();
    if common::update_generated() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "man/aactl.1 is stale: run `INSTA_UPDATE=always cargo test --test integration man_aactl`"
    );
}

#[test]
fn page_covers_every_subcommand_and_option() {
    let page = render();
    let cmd = built();
    fn walk(cmd: &clap::Command, page: &str) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = sub.get_bin_name().unwrap_or(sub.get_name());
            assert!(
                page.contains(&format!(".SS \"{name}\"")),
                "no section for {name}"
            );
            for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
                if let Some(long) = arg.get_long() {
                    let roff = format!("\\-\\-{}", long.replace('-', "\\-"));
                    assert!(page.contains(&roff), "{name}: --{long} not documented");
                }
            }
            walk(sub, page);
        }
    }
    walk(&cmd, &page);
    for s in ["status", "ps"] {
        assert!(page.contains(&format!(".SS \"aactl {s}\"")), "{s}");
    }
}

/// Every member of the JSON documents (from the fake tree) is named in JSON OUTPUT, so the
/// documentation cannot silently fall behind the schema.
#[test]
fn json_output_section_names_every_member() {
    use crate::aactl_status::{mixed, on};
    fn keys(v: &serde_json::Value, skip_maps: &[&str], out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    // Maps keyed by data (mode words, parameter or class names) are not schema.
                    if !skip_maps.contains(&k.as_str()) {
                        keys(v, skip_maps, out);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| keys(x, skip_maps, out)),
            _ => {}
        }
    }
    let skip = ["modes", "parameters", "rule_classes"];
    let mut all = Vec::new();
    for args in [&["status", "--json"][..], &["ps", "--json"]] {
        let (code, out, _) = on(&mixed(), args);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        keys(&v, &skip, &mut all);
    }
    all.sort();
    all.dedup();
    assert!(all.len() > 25, "{all:?}");
    for k in all {
        assert!(
            JSON_OUTPUT.contains(&format!("\\fB{k}\\fR")),
            "JSON member {k} is not documented in JSON OUTPUT"
        );
    }
}

/// Every member of `aactl check --format json` (with a diagnostic and an unreadable path) is
/// named in JSON OUTPUT.
#[test]
fn json_output_section_names_every_check_member() {
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("bad");
    std::fs::write(&bad, "profile bad {\n  /x rwq,\n}\n").unwrap();
    let missing = d.path().join("missing");
    let (code, out, _) = crate::aactl_status::aactl(&[
        "check",
        "--json",
        "--base",
        "/nonexistent",
        bad.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    keys(v, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    keys(&v, &mut all);
    assert!(all.contains(&"severity".to_string()), "{all:?}");
    assert!(all.contains(&"error".to_string()), "{all:?}");
    for k in all {
        assert!(
            JSON_OUTPUT.contains(&format!("\\fB{k}\\fR")),
            "check JSON member {k} is not documented in JSON OUTPUT"
        );
    }
}

/// The user-facing shape of the page: synopsis values, a paragraph per subcommand, exit
/// statuses, no Markdown, aliases, and the footer of aa-status(8).
#[test]
fn page_reads_well() {
    let page = render();
    assert!(
        page.contains("\\fBaactl\\fR [\\fB\\-\\-root\\fR \\fIDIR\\fR]"),
        "synopsis"
    );
    assert!(page.contains("[\\fB\\-m\\fR|\\fB\\-\\-mode\\fR \\fIMODE\\fR]..."));
    assert!(page.contains("[\\fISOURCE\\fR]...\n"), "log synopsis");
    assert!(!page.contains('`'), "Markdown backticks in roff");
    assert!(page.is_ascii(), "non-ASCII text in roff");
    assert!(page.contains("\\fB\\-\\-features\\fR, \\fB\\-\\-abi\\fR"));
    let exit = page.split(".SH \"EXIT STATUS\"").nth(1).unwrap();
    assert!(exit.contains("profile not found"));
    let desc = page
        .split(".SH DESCRIPTION")
        .nth(1)
        .unwrap()
        .split(".SH OPTIONS")
        .next()
        .unwrap();
    for sub in built().get_subcommands() {
        let bold = format!("\\fB{}\\fR", sub.get_name().replace('-', "\\-"));
        let full = format!("\\fBaactl {}\\fR", sub.get_name().replace('-', "\\-"));
        assert!(
            desc.contains(&bold) || desc.contains(&full),
            "DESCRIPTION does not cover {}",
            sub.get_name()
        );
    }
    // EXAMPLES: every subcommand, and no path of this repository.
    let examples = page
        .split(".SH EXAMPLES")
        .nth(1)
        .unwrap()
        .split(".SH ")
        .next()
        .unwrap();
    assert!(
        !examples.contains("testdata"),
        "repository path in EXAMPLES"
    );
    for sub in built().get_subcommands() {
        let cmd = format!("aactl {}", sub.get_name().replace('-', "\\-"));
        assert!(
            examples.contains(&cmd),
            "EXAMPLES has no example of {}",
            sub.get_name()
        );
    }
    for flag in ["\\-\\-summary", "\\-\\-suggest", "\\-\\-follow"] {
        assert!(desc.contains(flag), "{flag}");
    }
    // same footer (source and manual) as aa-status(8)
    let th = |text: &str| -> String {
        let l = text
            .lines()
            .find(|l| l.starts_with(".TH "))
            .unwrap()
            .to_owned();
        l.splitn(5, ' ').nth(4).unwrap().to_owned()
    };
    let status = std::fs::read_to_string(common::repo().join("man/aa-status.8")).unwrap();
    assert_eq!(th(&page), th(&status));
}
