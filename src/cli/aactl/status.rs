//! `aactl status`: loaded profiles by namespace and mode, confined processes, kernel
//! parameters and a features summary, as tables (tabled) or as JSON ([`StatusReport`],
//! schema in aactl(1), "JSON OUTPUT").
//!
//! Everything comes from a [`System`] (the live host or a `--root` snapshot). Failing
//! preconditions (module absent, AppArmor disabled, no securityfs, `profiles` unreadable)
//! stop the command with a message naming the path and exit status 2. Every string taken
//! from /proc or a profile name is escaped ([`crate::escape`]) before it reaches a table.

use super::ps::{self, PsRow, SCHEMA, State, mode_word, opt, write_json};
use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::label::{Label, Mode};
use crate::system::{Enabled, Features, System, SystemError};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;

/// Checks that AppArmor can be inspected on `sys`: the module is present, enabled at boot
/// (or has private interfaces), and the AppArmor securityfs directory is mounted.
///
/// # Errors
/// A message naming the path concerned: `<root>/sys/module/apparmor` missing,
/// `parameters/enabled` not `Y` or unreadable, no `securityfs` entry in `<root>/proc/mounts`.
pub fn preflight(sys: &System) -> Result<(), CliError> {
    if !sys.module_present() {
        return Err(CliError(format!(
            "AppArmor is not available: {} does not exist",
            sys.module_dir().display()
        )));
    }
    let enabled = sys.parameter_path("enabled");
    match sys.enabled() {
        Enabled::Yes | Enabled::PrivateOnly => Ok(()),
        Enabled::NotAvailable => Err(CliError(format!(
            "AppArmor is not available: {} is missing",
            enabled.display()
        ))),
        Enabled::DisabledAtBoot => Err(CliError(format!(
            "AppArmor is disabled: {} is not Y (boot with apparmor=1)",
            enabled.display()
        ))),
        Enabled::NoPermission => Err(CliError(format!(
            "permission denied reading {}",
            enabled.display()
        ))),
        Enabled::NoPolicyInterface => Err(CliError(format!(
            "AppArmor is enabled but its filesystem is not mounted: no securityfs entry with \
             an apparmor directory in {}",
            sys.path("/proc/mounts").display()
        ))),
    }
}

/// Reads the `profiles` list for `aactl`: an open error, or a read error after opening (the
/// path is a directory, an I/O error mid-file), is an error naming the path; a partial list
/// is never shown as if it were complete.
///
/// # Errors
/// The message for the open or read error.
pub(crate) fn read_profiles(sys: &System) -> Result<crate::system::ProfilesList, CliError> {
    complete(sys.profiles())
}

/// The list of [`read_profiles`], or the message for its open or read error.
fn complete(
    list: Result<crate::system::ProfilesList, SystemError>,
) -> Result<crate::system::ProfilesList, CliError> {
    let list = list.map_err(|e| profiles_error(&e))?;
    if let Some(why) = &list.read_error {
        return Err(CliError(format!(
            "cannot read {}: {why}",
            list.path.display()
        )));
    }
    Ok(list)
}

/// The message for a `profiles` file that cannot be opened.
fn profiles_error(e: &SystemError) -> CliError {
    match e {
        SystemError::PermissionDenied { path, .. } => CliError(format!(
            "cannot read {}: permission denied (the kernel lists profiles only to root with \
             CAP_MAC_ADMIN)",
            path.display()
        )),
        SystemError::Io { path, source } => CliError(format!(
            "cannot read {}: {}",
            path.display(),
            crate::system::strerror(source)
        )),
        other => CliError::from_error(other),
    }
}

/// One loaded profile in the status report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProfileRow {
    /// Policy namespace relative to the reader (`ns1//ns2` when nested); `null` for the
    /// reader's own namespace.
    pub namespace: Option<String>,
    /// Profile name within its namespace, hats included (`parent//hat`).
    pub name: String,
    /// Mode (`prompt` for the kernel's `user`; unknown words verbatim).
    pub mode: Mode,
    /// Attachment text from the `policy/` tree; `null` when the tree does not have the
    /// profile, or when the kernel keeps only the compiled pattern (it prints `<unknown>`;
    /// see [`ProfileRow::attach_kind`]).
    pub attach: Option<String>,
    /// `"text"` when [`ProfileRow::attach`] holds the kernel's attachment text, `"pattern"`
    /// when the kernel has only a compiled attachment pattern (its `attach` file reads
    /// `<unknown>`), `null` when the policy tree does not have the profile.
    pub attach_kind: Option<&'static str>,
}

/// The kernel's `attach` text for an attachment it keeps only as a compiled pattern.
pub const ATTACH_PATTERN_ONLY: &str = "<unknown>";

/// Splits the kernel's `attach` text into ([`ProfileRow::attach`], [`ProfileRow::attach_kind`]).
fn attach_fields(raw: Option<&String>) -> (Option<String>, Option<&'static str>) {
    match raw.map(|a| a.trim_end_matches('\n')) {
        None => (None, None),
        Some(ATTACH_PATTERN_ONLY) => (None, Some("pattern")),
        Some(a) => (Some(a.to_owned()), Some("text")),
    }
}

/// Profile counts of one namespace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NamespaceCounts {
    /// The namespace (`null` for the reader's own).
    pub namespace: Option<String>,
    /// All profiles of the namespace.
    pub total: usize,
    /// Mode word → number of profiles (only modes that occur).
    pub modes: BTreeMap<String, usize>,
}

/// A `profiles` line that is not `NAME (MODE)`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Malformed {
    /// 1-based line number.
    pub line: usize,
    /// The line without its newline.
    pub text: String,
}

/// The profile section.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProfilesSection {
    /// The `profiles` file read.
    pub path: PathBuf,
    /// All profiles.
    pub total: usize,
    /// Per namespace, the reader's first, then by name.
    pub namespaces: Vec<NamespaceCounts>,
    /// Every profile, by namespace then name (bytewise).
    pub profiles: Vec<ProfileRow>,
    /// Lines skipped because they do not split.
    pub malformed: Vec<Malformed>,
}

/// A summary of the kernel's feature set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeaturesSummary {
    /// Policy ABI versions the kernel accepts (`policy/versions/*`: `v5`, `v6`, …).
    pub policy_abi: Vec<String>,
    /// `domain/version` (e.g. `1.2`).
    pub domain_version: Option<String>,
    /// Label stacking (`domain/stack`).
    pub stacking: bool,
    /// Rule class → whether the kernel mediates it (see [`RULE_CLASSES`]).
    pub rule_classes: BTreeMap<String, bool>,
    /// Top-level feature directories as listed.
    pub top_level: Vec<String>,
}

/// Policy rule classes and the feature paths any of which shows kernel support.
pub const RULE_CLASSES: &[(&str, &[&str])] = &[
    ("file", &["file"]),
    ("capability", &["caps", "capability"]),
    ("network", &["network", "network_v8", "network_v9"]),
    (
        "unix",
        &[
            "network/af_unix",
            "network_v8/af_unix",
            "network_v9/af_unix",
        ],
    ),
    ("mount", &["mount"]),
    ("pivot_root", &["namespaces/pivot_root"]),
    ("signal", &["signal"]),
    ("ptrace", &["ptrace"]),
    ("dbus", &["dbus"]),
    ("rlimit", &["rlimit"]),
    ("change_profile", &["domain/change_profile"]),
    ("userns", &["namespaces/userns_create"]),
    ("io_uring", &["io_uring"]),
    ("mqueue", &["ipc/posix_mqueue"]),
];

/// Builds the features summary (pure).
pub fn summarize_features(f: &Features) -> FeaturesSummary {
    use crate::system::FeatureNode;
    let children = |path: &str| -> Vec<String> {
        match f.get(path) {
            Some(FeatureNode::Dir(d)) => d.keys().cloned().collect(),
            _ => Vec::new(),
        }
    };
    let mut policy_abi = children("policy/versions");
    policy_abi.sort_by_key(|v| {
        (
            v.trim_start_matches('v').parse::<u64>().unwrap_or(u64::MAX),
            v.clone(),
        )
    });
    FeaturesSummary {
        policy_abi,
        domain_version: f.value("domain/version").map(str::to_owned),
        stacking: f.supports("domain/stack"),
        rule_classes: RULE_CLASSES
            .iter()
            .map(|(class, paths)| (class.to_string(), paths.iter().any(|p| f.supports(p))))
            .collect(),
        top_level: children(""),
    }
}

/// The JSON document of `aactl status --json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusReport {
    /// [`SCHEMA`].
    pub schema: u32,
    /// Always `"aactl-status"`.
    pub kind: &'static str,
    /// The system root that was read.
    pub root: PathBuf,
    /// The AppArmor securityfs directory.
    pub securityfs: PathBuf,
    /// The reader's namespace (`.ns_name`), `null` when unreadable.
    pub namespace: Option<String>,
    /// Policy revision counter, `null` when unreadable.
    pub revision: Option<u64>,
    /// Loaded profiles.
    pub profiles: ProfilesSection,
    /// Confined processes (objects as in `aactl ps --json`).
    pub processes: Vec<PsRow>,
    /// Unconfined processes whose executable has a loaded profile (it was loaded after they
    /// started); objects as in `aactl ps --json`.
    pub unconfined_with_profile: Vec<PsRow>,
    /// Module parameters: name → typed value (`Y`/`N` → boolean, a decimal → number, `mode`
    /// → mode word, otherwise the text).
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// Parameter files that exist but could not be read.
    pub unreadable_parameters: Vec<String>,
    /// Features summary, `null` when `features/` is unreadable.
    pub features: Option<FeaturesSummary>,
    /// Why `features` is `null` (the path and the reason) unless `features/` is simply
    /// absent; printed as a warning on stderr, not part of the JSON document.
    #[serde(skip)]
    pub features_error: Option<String>,
}

/// A parameter's text as a typed JSON value.
pub fn typed_parameter(name: &str, text: &str) -> serde_json::Value {
    let t = text.trim();
    if name == "mode" {
        return serde_json::Value::String(Mode::from_word(t).as_str().to_owned());
    }
    match t {
        "Y" => return serde_json::Value::Bool(true),
        "N" => return serde_json::Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = t.parse::<i64>() {
        return serde_json::Value::from(n);
    }
    serde_json::Value::String(text.to_owned())
}

/// Reads everything `aactl status` shows.
///
/// # Errors
/// [`preflight`] failures, an unreadable `profiles` file, or an unlistable `/proc`.
pub fn collect(sys: &System) -> Result<StatusReport, CliError> {
    preflight(sys)?;
    let securityfs = sys.securityfs().map_err(|e| CliError::from_error(&e))?;
    // securityfs is found once (each lookup reads <root>/proc/mounts); its files are read
    // from there.
    let list = complete(sys.profiles_at(securityfs.join("profiles")))?;
    let policy = sys.policy_at(securityfs.join("policy")).ok();
    let mut attach: HashMap<(String, String), String> = HashMap::new();
    if let Some(p) = &policy {
        attachments(p, "", &mut attach);
    }
    let mut rows = Vec::new();
    let mut malformed = Vec::new();
    let mut modes = ps::ProfileModes::new();
    for l in &list.lines {
        match l {
            crate::system::ProfileLine::Profile { name, mode } => {
                modes.insert(name.clone(), mode.clone());
                let label = Label::new(name.clone(), None);
                let comp = label.components();
                let (ns, pname) = match comp.first() {
                    Some(c) if comp.len() == 1 => {
                        (c.namespace.map(str::to_owned), c.profile.to_owned())
                    }
                    _ => (None, name.clone()),
                };
                let (attach, attach_kind) =
                    attach_fields(attach.get(&(ns.clone().unwrap_or_default(), pname.clone())));
                rows.push(ProfileRow {
                    attach,
                    attach_kind,
                    namespace: ns,
                    name: pname,
                    mode: mode.clone(),
                });
            }
            crate::system::ProfileLine::Malformed { line, lineno } => malformed.push(Malformed {
                line: *lineno,
                text: line.strip_suffix('\n').unwrap_or(line).to_owned(),
            }),
        }
    }
    rows.sort_by(|a, b| {
        (a.namespace.as_deref().map(str::as_bytes), a.name.as_bytes())
            .cmp(&(b.namespace.as_deref().map(str::as_bytes), b.name.as_bytes()))
    });
    let mut namespaces: Vec<NamespaceCounts> = Vec::new();
    for r in &rows {
        if namespaces.last().is_none_or(|n| n.namespace != r.namespace) {
            namespaces.push(NamespaceCounts {
                namespace: r.namespace.clone(),
                total: 0,
                modes: BTreeMap::new(),
            });
        }
        if let Some(n) = namespaces.last_mut() {
            n.total += 1;
            *n.modes.entry(r.mode.as_str().to_owned()).or_default() += 1;
        }
    }
    let (processes, unconfined_with_profile): (Vec<PsRow>, Vec<PsRow>) =
        ps::collect_rows(sys, &modes)?
            .into_iter()
            .filter(|r| r.state == State::Confined || r.exe_profile.is_some())
            .partition(|r| r.state == State::Confined);
    let (parameters, unreadable_parameters) = match sys.parameters() {
        Ok(p) => (
            p.raw
                .iter()
                .map(|(k, v)| (k.clone(), typed_parameter(k, v)))
                .collect(),
            p.unreadable.clone(),
        ),
        Err(_) => (BTreeMap::new(), Vec::new()),
    };
    let (features, features_error) = match sys.features_at(securityfs.join("features")) {
        Ok(f) => (Some(summarize_features(&f)), None),
        // A tree without features/ (a minimal snapshot) is not worth a warning on every run.
        Err(e)
            if e.io_error()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
        {
            (None, None)
        }
        Err(e) => (None, Some(CliError::from_error(&e).0)),
    };
    let namespace = crate::system::read_bytes(
        sys.root(),
        securityfs.join(".ns_name"),
        crate::system::fs::limits::PAGE,
    )
    .ok()
    .map(|b| {
        String::from_utf8_lossy(&b)
            .trim_end_matches('\n')
            .to_owned()
    });
    let revision = sys.revision_at(securityfs.join("revision")).ok();
    Ok(StatusReport {
        schema: SCHEMA,
        kind: "aactl-status",
        root: sys.root().to_path_buf(),
        securityfs,
        namespace,
        revision,
        profiles: ProfilesSection {
            path: list.path.clone(),
            total: rows.len(),
            namespaces,
            profiles: rows,
            malformed,
        },
        processes,
        unconfined_with_profile,
        parameters,
        unreadable_parameters,
        features,
        features_error,
    })
}

/// (namespace path, full profile name) → attachment, for every profile of the policy tree.
///
/// A child profile's `name` file holds only its own name on mainline kernels (seen on
/// Debian 12's 6.1: `sub` for hat `vmtest-hat//sub`), the full name on others; both are
/// accepted.
fn attachments(
    ns: &crate::system::PolicyNamespace,
    path: &str,
    out: &mut HashMap<(String, String), String>,
) {
    fn go(
        ns: &str,
        parent: Option<&str>,
        p: &crate::system::PolicyProfile,
        out: &mut HashMap<(String, String), String>,
    ) {
        let full = match parent {
            Some(parent) if !p.name.starts_with(&format!("{parent}//")) => {
                format!("{parent}//{}", p.name)
            }
            _ => p.name.clone(),
        };
        if let Some(a) = &p.attach {
            out.insert((ns.to_owned(), full.clone()), a.clone());
        }
        for c in &p.children {
            go(ns, Some(&full), c, out);
        }
    }
    for p in &ns.profiles {
        go(path, None, p, out);
    }
    for child in &ns.namespaces {
        let sub = if path.is_empty() {
            child.name.clone()
        } else {
            format!("{path}//{}", child.name)
        };
        attachments(child, &sub, out);
    }
}

fn ns_cell(ns: Option<&str>) -> String {
    match ns {
        Some(ns) => format!(":{}:", escape_str(ns)),
        None => "(current)".to_owned(),
    }
}

/// A psql-style table without trailing spaces.
fn styled(b: tabled::builder::Builder) -> String {
    trim_lines(&b.build().with(tabled::settings::Style::psql()).to_string())
}

/// `s` with trailing spaces removed from every line.
pub(super) fn trim_lines(s: &str) -> String {
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

/// `one` or `many` by `n`.
fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// "1 profile is", "2 profiles are".
fn count(n: usize, one: &'static str, many: &'static str) -> String {
    format!("{n} {}", plural(n, one, many))
}

/// A label for the LABEL column: without the trailing ` (MODE)` the MODE column shows
/// (the JSON keeps the kernel's text).
fn label_cell(label: Option<&str>) -> String {
    match label {
        Some(l) => {
            let bare = l
                .strip_suffix(')')
                .and_then(|x| x.rfind(" (").map(|i| &x[..i]))
                .unwrap_or(l);
            opt(Some(bare))
        }
        None => opt(None),
    }
}

/// Renders the report as text tables.
pub fn render(r: &StatusReport, w: &mut dyn Write) -> std::io::Result<()> {
    let rev = r
        .revision
        .map(|n| format!(", policy revision {n}"))
        .unwrap_or_default();
    writeln!(
        w,
        "AppArmor is enabled; securityfs at {}{rev}.",
        escape_str(&r.securityfs.to_string_lossy())
    )?;
    writeln!(w)?;
    writeln!(
        w,
        "{} loaded.",
        count(r.profiles.total, "profile is", "profiles are")
    )?;
    let mut word_cols: Vec<String> = crate::status::PROFILE_SECTIONS
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect();
    for n in &r.profiles.namespaces {
        for k in n.modes.keys() {
            if !word_cols.contains(k) {
                word_cols.push(k.clone());
            }
        }
    }
    let mut b = tabled::builder::Builder::new();
    let mut head = vec!["NAMESPACE".to_owned()];
    head.extend(
        word_cols
            .iter()
            .map(|w| escape_str(&w.to_uppercase()).into_owned()),
    );
    head.push("TOTAL".to_owned());
    b.push_record(head);
    for n in &r.profiles.namespaces {
        let mut rec = vec![ns_cell(n.namespace.as_deref())];
        rec.extend(
            word_cols
                .iter()
                .map(|w| n.modes.get(w).copied().unwrap_or(0).to_string()),
        );
        rec.push(n.total.to_string());
        b.push_record(rec);
    }
    if !r.profiles.namespaces.is_empty() {
        writeln!(w, "{}", styled(b))?;
    }
    if !r.profiles.profiles.is_empty() {
        writeln!(w)?;
        let mut b = tabled::builder::Builder::new();
        b.push_record(["NAMESPACE", "PROFILE", "MODE", "ATTACHMENT"]);
        for p in &r.profiles.profiles {
            b.push_record([
                ns_cell(p.namespace.as_deref()),
                escape_str(&p.name).into_owned(),
                escape_str(p.mode.as_str()).into_owned(),
                match p.attach_kind {
                    Some("pattern") => "(pattern)".to_owned(),
                    _ => opt(p.attach.as_deref()),
                },
            ]);
        }
        writeln!(w, "{}", styled(b))?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "{} confined.",
        count(r.processes.len(), "process is", "processes are")
    )?;
    if !r.processes.is_empty() {
        let mut b = tabled::builder::Builder::new();
        b.push_record(["PID", "COMM", "EXE", "LABEL", "MODE"]);
        for p in &r.processes {
            b.push_record([
                p.pid.to_string(),
                opt(p.comm.as_deref()),
                opt(p.exe.as_deref()),
                label_cell(p.label.as_deref()),
                mode_word(p.mode.as_ref()),
            ]);
        }
        writeln!(w, "{}", styled(b))?;
    }
    if !r.unconfined_with_profile.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "{} unconfined but {} a profile defined (restart {} to confine {}).",
            count(
                r.unconfined_with_profile.len(),
                "process is",
                "processes are"
            ),
            plural(r.unconfined_with_profile.len(), "has", "have"),
            plural(r.unconfined_with_profile.len(), "it", "them"),
            plural(r.unconfined_with_profile.len(), "it", "them"),
        )?;
        let mut b = tabled::builder::Builder::new();
        b.push_record(["PID", "COMM", "EXE", "PROFILE"]);
        for p in &r.unconfined_with_profile {
            b.push_record([
                p.pid.to_string(),
                opt(p.comm.as_deref()),
                opt(p.exe.as_deref()),
                opt(p.exe_profile.as_deref()),
            ]);
        }
        writeln!(w, "{}", styled(b))?;
    }
    writeln!(w)?;
    writeln!(w, "Kernel parameters:")?;
    let mut b = tabled::builder::Builder::new();
    b.push_record(["PARAMETER", "VALUE"]);
    for (k, v) in &r.parameters {
        let shown = match v {
            serde_json::Value::Bool(true) => "yes".to_owned(),
            serde_json::Value::Bool(false) => "no".to_owned(),
            serde_json::Value::String(s) => escape_str(s).into_owned(),
            other => other.to_string(),
        };
        b.push_record([escape_str(k).into_owned(), shown]);
    }
    for k in &r.unreadable_parameters {
        b.push_record([escape_str(k).into_owned(), "(unreadable)".to_owned()]);
    }
    writeln!(w, "{}", styled(b))?;
    writeln!(w)?;
    match &r.features {
        None => writeln!(w, "Features: unreadable.")?,
        Some(f) => {
            writeln!(w, "Features:")?;
            let list = |v: &[String]| {
                if v.is_empty() {
                    "-".to_owned()
                } else {
                    v.iter()
                        .map(|s| escape_str(s).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            };
            let (yes, no): (Vec<String>, Vec<String>) = {
                let mut yes = Vec::new();
                let mut no = Vec::new();
                for (class, _) in RULE_CLASSES {
                    if f.rule_classes.get(*class).copied().unwrap_or(false) {
                        yes.push(class.to_string());
                    } else {
                        no.push(class.to_string());
                    }
                }
                (yes, no)
            };
            let mut b = tabled::builder::Builder::new();
            b.push_record(["FEATURE", "VALUE"]);
            b.push_record(["policy ABI versions".to_owned(), list(&f.policy_abi)]);
            b.push_record([
                "domain version".to_owned(),
                opt(f.domain_version.as_deref()),
            ]);
            b.push_record([
                "stacking".to_owned(),
                if f.stacking { "yes" } else { "no" }.to_owned(),
            ]);
            b.push_record(["rule classes supported".to_owned(), list(&yes)]);
            b.push_record(["rule classes not supported".to_owned(), list(&no)]);
            writeln!(w, "{}", styled(b))?;
        }
    }
    Ok(())
}

/// The clap definition of `aactl status`.
pub fn command() -> Command {
    Command::new("status")
        .about("Show loaded profiles, confined processes, kernel parameters and features")
        .long_about(
            "Show the loaded AppArmor profiles counted by policy namespace and mode and listed \
             by name, the confined processes, the module parameters and a summary of the \
             kernel's feature set.",
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("Print JSON (schema: aactl(1), JSON OUTPUT) instead of tables"),
        )
}

/// Runs `aactl status`.
///
/// # Errors
/// See [`collect`].
pub fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let report = collect(&sys)?;
    for mline in &report.profiles.malformed {
        let _ = writeln!(
            io.err,
            "aactl: warning: {}:{}: not a \"NAME (MODE)\" line: {}",
            escape_str(&report.profiles.path.to_string_lossy()),
            mline.line,
            escape_str(&mline.text)
        );
    }
    if let Some(why) = &report.features_error {
        let _ = writeln!(io.err, "aactl: warning: {}", escape_str(why));
    }
    let written = if m.get_flag("json") {
        write_json(io, &report)
    } else {
        render(&report, io.out)
    };
    ps::finish_output(io, written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_errors_name_the_path() {
        let e = SystemError::io(
            "/s/profiles",
            std::io::Error::from_raw_os_error(13), // EACCES
        );
        let m = profiles_error(&e).0;
        assert!(
            m.starts_with("cannot read /s/profiles: permission denied"),
            "{m}"
        );
        let e = SystemError::io("/s/profiles", std::io::Error::from_raw_os_error(2));
        assert_eq!(
            profiles_error(&e).0,
            "cannot read /s/profiles: No such file or directory"
        );
    }

    #[test]
    fn parameters_are_typed() {
        assert_eq!(typed_parameter("enabled", "Y"), serde_json::json!(true));
        assert_eq!(typed_parameter("debug", "N"), serde_json::json!(false));
        assert_eq!(typed_parameter("path_max", "2048"), serde_json::json!(2048));
        assert_eq!(typed_parameter("mode", "user"), serde_json::json!("prompt"));
        assert_eq!(
            typed_parameter("audit", "normal"),
            serde_json::json!("normal")
        );
    }
}
