//! Hand-written roff sections of aa-status(8). The NAME, SYNOPSIS and OPTIONS sections are
//! generated from [`super::command`] by the manual-page test (clap_mangen), which assembles
//! `man/aa-status.8` from those and the sections below.

/// The page date (bumped by hand at release time, never the build date).
pub const DATE: &str = "2026-11-29";

/// DESCRIPTION.
pub const DESCRIPTION: &str = r#".SH DESCRIPTION
\fBaa\-status\fR reports whether AppArmor is enabled, which profiles are loaded and in which
mode, and which processes are confined. It is a drop\-in replacement for upstream AppArmor
6.0's \fBaa\-status\fR: options, text output, usage text and exit status are the same, byte
for byte; the differences (always valid JSON, warnings instead of failures for malformed
lines of the kernel's profile list, escaped control characters) are listed in
COMPATIBILITY.md.
.PP
Options are parsed like \fBgetopt_long\fR(3): a long option may be abbreviated to any unique
prefix, options take effect from left to right, and parsing stops at the first argument that
is not an option (which is then an error).
.PP
The default report looks like this (processes are listed as
\fIEXE\fR (\fIPID\fR) \fIPROFILE\fR, the profile left empty when it equals the executable):
.PP
.nf
apparmor module is loaded.
2 profiles are loaded.
1 profiles are in enforce mode.
   /usr/sbin/cupsd
1 profiles are in complain mode.
   /usr/bin/evince
0 profiles are in prompt mode.
0 profiles are in kill mode.
0 profiles are in unconfined mode.
1 processes have profiles defined.
1 processes are in enforce mode.
   /usr/sbin/cupsd (812) 
0 processes are in complain mode.
0 processes are in prompt mode.
0 processes are in kill mode.
0 processes are unconfined but have a profile defined.
0 processes are in mixed mode.
.fi
.PP
Filters (\fB\-\-filter.mode\fR, \fB\-\-filter.profiles\fR, \fB\-\-filter.pid\fR,
\fB\-\-filter.exe\fR) are POSIX \fIbasic\fR regular expressions searched anywhere in the
text: \fB(\fR, \fB|\fR and \fB+\fR are ordinary characters; group with \fB\e(\fR...\fB\e)\fR
and alternate with \fB\e|\fR. The totals ("N profiles are loaded.") are never filtered.
"#;

/// EXIT STATUS.
pub const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success: AppArmor is enabled and the report was printed (also \fB\-\-help\fR).
.TP
\fB1\fR
AppArmor is not present or, for \fB\-\-enabled\fR, not enabled; also a usage error.
.TP
\fB2\fR
No policy is loaded (text and count output; JSON output then reports empty objects and exits 0).
.TP
\fB3\fR
The AppArmor filesystem (securityfs) is not mounted.
.TP
\fB4\fR
The list of loaded profiles cannot be read (for lack of privilege or another error).
.TP
\fB42\fR
Internal error: a filter that is not a valid basic regular expression, or /proc cannot be read.
"#;

/// EXAMPLES.
pub const EXAMPLES: &str = r#".SH EXAMPLES
.TP
\fBaa\-status \-\-enabled && echo on\fR
Test whether AppArmor is enabled.
.TP
\fBaa\-status \-\-enforced\fR
Print the number of profiles in enforce mode.
.TP
\fBaa\-status \-\-show=processes \-\-filter.mode='^\e(enforce\e|kill\e)$'\fR
List the processes in enforce or kill mode.
.TP
\fBaa\-status \-\-json | jq '.profiles'\fR
Profiles and modes as a JSON object.
.TP
\fBaa\-status \-\-count \-\-filter.profiles=firefox\fR
Count the profiles and processes whose profile name contains "firefox".
"#;

/// FILES.
pub const FILES: &str = r#".SH FILES
.TP
\fI/proc/mounts\fR
Where the securityfs mount point is found.
.TP
\fI/sys/kernel/security/apparmor/profiles\fR
The loaded profiles and their modes (under the securityfs mount point).
.TP
\fI/sys/kernel/security/apparmor/policy/profiles/*/identity\fR
Profile identities, where the kernel provides them.
.TP
\fI/sys/module/apparmor/parameters/enabled\fR
Whether AppArmor was enabled at boot.
.TP
\fI/proc/PID/attr/apparmor/current\fR, \fI/proc/PID/attr/current\fR
Each process's label; \fI/proc/PID/exe\fR its executable.
"#;

/// SEE ALSO.
pub const SEE_ALSO: &str = r#".SH "SEE ALSO"
\fBaactl\fR(1), \fBapparmor\fR(7), \fBapparmor_parser\fR(8), \fBaa\-enabled\fR(1)
"#;
