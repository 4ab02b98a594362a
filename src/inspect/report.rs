//! The status report: loaded profiles by namespace and mode (with their attachments),
//! confined processes, module parameters and a summary of the kernel's feature set. This is
//! the document `aactl status --json` prints (schema in aactl(1), "JSON OUTPUT").

use super::process::{self, ProfileModes, PsRow, State};
use super::{InspectError, SCHEMA};
use crate::label::{Label, Mode};
use crate::system::{Features, System};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

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

/// The installed `apparmor_parser` as `aactl status` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParserInfo {
    /// Where it was found.
    pub path: PathBuf,
    /// Its release as `--version` prints it (`4.1.0`), `null` when it could not be run or
    /// printed no version.
    pub version: Option<String>,
    /// The policy language release line it accepts (`"3.0"`, `"4.1"`, `"5.0"` or `"6.0"`:
    /// any 4.x is `"4.1"`, …), `null` with `version`.
    pub language: Option<String>,
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
            .map(|(class, paths)| (class.to_string(), paths.iter().any(|p| f.announces(p))))
            .collect(),
        top_level: children(""),
    }
}

/// The JSON document of `aactl status --json`.
#[derive(Debug, serde::Serialize)]
pub struct StatusReport {
    /// [`super::SCHEMA`].
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
    /// The installed `apparmor_parser`: `null` when none is found, and always
    /// for a snapshot (a root other than `/`), whose policy the host's parser
    /// says nothing about. [`collect`] leaves it `None`; the caller that may
    /// run programs fills it in.
    pub parser: Option<ParserInfo>,
    /// The `kernel.apparmor_restrict_unprivileged_*` sysctls under the root:
    /// name → value (a decimal becomes a number; `null` when the file could not
    /// be read). Empty when the kernel has none.
    pub sysctls: BTreeMap<String, serde_json::Value>,
    /// The audit subsystem's state (`auditctl -s`): `null` when auditctl is not
    /// installed, and always for a snapshot (a root other than `/`). [`collect`]
    /// leaves it `None`; the caller that may run programs fills it in.
    pub audit: Option<AuditInfo>,
    /// Why `features` is `null` (the path and the reason) unless `features/` is simply
    /// absent; printed as a warning on stderr, not part of the JSON document.
    #[serde(skip)]
    pub features_error: Option<InspectError>,
}

/// What `auditctl -s` said, for [`StatusReport::audit`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditInfo {
    /// The state; `null` when auditctl failed.
    pub status: Option<crate::system::audit::AuditStatus>,
    /// Why AppArmor records may be missing
    /// ([`crate::system::audit::AuditStatus::problems`]).
    pub problems: Vec<String>,
    /// Why auditctl could not tell (not root, timed out, …), else `null`.
    pub error: Option<String>,
}

impl AuditInfo {
    /// Asks `auditctl -s` ([`crate::system::audit::query_audit_status`]);
    /// `None` when auditctl is not installed.
    pub fn query() -> Option<AuditInfo> {
        use crate::system::audit::{AuditQueryError, query_audit_status};
        match query_audit_status() {
            Ok(s) => Some(AuditInfo {
                problems: s.problems(),
                status: Some(s),
                error: None,
            }),
            Err(AuditQueryError::NotInstalled) => None,
            Err(e) => Some(AuditInfo {
                status: None,
                problems: Vec::new(),
                error: Some(crate::error::chain(&e)),
            }),
        }
    }
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

/// Reads everything `aactl status` shows: the one call behind it.
///
/// # Errors
/// [`super::preflight`] failures, an unreadable `profiles` file, or an unlistable `/proc`.
pub fn collect(sys: &System) -> Result<StatusReport, InspectError> {
    super::preflight(sys)?;
    let securityfs = sys.securityfs()?;
    // securityfs is found once (each lookup reads <root>/proc/mounts); its files are read
    // from there.
    let list = super::preflight::complete(sys.profiles_at(securityfs.join("profiles")))?;
    // only names and attachments: the profiles' modes come from the list
    let policy = sys.policy_attachments_at(securityfs.join("policy")).ok();
    let mut attach: HashMap<(String, String), String> = HashMap::new();
    if let Some(p) = &policy {
        attachments(p, "", &mut attach);
    }
    let mut rows = Vec::new();
    let mut malformed = Vec::new();
    let mut modes = ProfileModes::new();
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
    let namespaces = super::report_filter::count_namespaces(&rows);
    // `comm` only of the processes shown (on a host most are unconfined and not shown)
    let (processes, unconfined_with_profile): (Vec<PsRow>, Vec<PsRow>) =
        process::processes_without_comm(sys, &modes)?
            .into_iter()
            .filter(|r| r.state == State::Confined || r.exe_profile.is_some())
            .map(|mut r| {
                r.comm = sys.process_comm(r.pid);
                r
            })
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
        Err(e) => (None, Some(e.into())),
    };
    let namespace = crate::system::fs::read_limited(
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
        parser: None,
        sysctls: sys
            .apparmor_sysctls()
            .into_iter()
            .map(|s| {
                let v = match &s.value {
                    Some(t) => t
                        .trim()
                        .parse::<i64>()
                        .map_or_else(|_| serde_json::Value::from(t.as_str()), Into::into),
                    None => serde_json::Value::Null,
                };
                (s.name, v)
            })
            .collect(),
        audit: None,
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

#[cfg(test)]
mod tests {
    use super::*;

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
