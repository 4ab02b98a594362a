//! Reading what aa-status and the kernel print, as data: JSON that keeps
//! duplicate keys, the text and JSON reports, the kernel's profiles list.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

/// A JSON value that keeps duplicate object keys (3.0.8 and 6.0 emit the
/// same exe twice in `processes` when it runs in two modes).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Number(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Json::Array(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, Json>()? {
                    v.push((k, x));
                }
                Ok(Json::Object(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Json {
    pub fn parse(text: &[u8]) -> Result<Json, String> {
        serde_json::from_slice(text).map_err(|e| format!("invalid JSON: {e}"))
    }
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(v) => v.iter().find(|(k, _)| k == key).map(|(_, x)| x),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
    /// Every string and number anywhere in the value (keys included).
    pub fn scalars(&self, out: &mut BTreeSet<String>) {
        match self {
            Json::String(s) | Json::Number(s) => {
                out.insert(s.clone());
            }
            Json::Array(v) => v.iter().for_each(|x| x.scalars(out)),
            Json::Object(v) => v.iter().for_each(|(k, x)| {
                out.insert(k.clone());
                x.scalars(out)
            }),
            _ => {}
        }
    }
}

/// What an aa-status report says, as data.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Report {
    /// (mode, profile name)
    pub profiles: BTreeSet<(String, String)>,
    /// (mode, exe, pid, label); the label is the full label even where the
    /// text output prints it empty (label equal to exe).
    pub processes: BTreeSet<(String, String, String, String)>,
    /// "N profiles are loaded." / "N processes have profiles defined."
    pub totals: Option<(usize, usize)>,
}

impl Report {
    /// Parses the text report of 3.0.8 or 6.0 (`aa-status`, `--verbose`).
    pub fn from_text(text: &str) -> Result<Report, String> {
        let header = regex::Regex::new(
            r"^(\d+) (profiles|processes) (?:are in (\S+) mode|are unconfined but have a profile defined)\.$",
        )
        .expect("regex");
        let proc_line = regex::Regex::new(r"^   (.*) \((\d+)\) (.*)$").expect("regex");
        let mut r = Report::default();
        let (mut loaded, mut defined) = (None, None);
        // (kind, mode, announced count, listed count)
        let mut section: Option<(String, String, usize, usize)> = None;
        let mut sections = Vec::new();
        for line in text.lines() {
            if let Some(n) = line.strip_suffix(" profiles are loaded.") {
                loaded = n.parse().ok();
            } else if let Some(n) = line.strip_suffix(" processes have profiles defined.") {
                defined = n.parse().ok();
            } else if let Some(c) = header.captures(line) {
                sections.extend(section.take());
                let mode = c.get(3).map_or("unconfined", |m| m.as_str());
                section = Some((
                    c[2].to_string(),
                    mode.to_string(),
                    c[1].parse().unwrap_or(0),
                    0,
                ));
            } else if let Some(item) = line.strip_prefix("   ") {
                let Some((kind, mode, _, listed)) = section.as_mut() else {
                    return Err(format!("list line outside a section: {line:?}"));
                };
                *listed += 1;
                if kind == "profiles" {
                    r.profiles.insert((mode.clone(), item.to_string()));
                } else {
                    let c = proc_line
                        .captures(line)
                        .ok_or_else(|| format!("bad process line {line:?}"))?;
                    let label = if c[3].is_empty() { &c[1] } else { &c[3] };
                    r.processes.insert((
                        mode.clone(),
                        c[1].to_string(),
                        c[2].to_string(),
                        label.to_string(),
                    ));
                }
            } else if line != "apparmor module is loaded." {
                return Err(format!("unexpected line {line:?}"));
            }
        }
        sections.extend(section);
        for (kind, mode, announced, listed) in &sections {
            if announced != listed {
                return Err(format!(
                    "{kind} in {mode} mode: header says {announced}, {listed} listed"
                ));
            }
        }
        match (loaded, defined) {
            (Some(l), Some(d)) => r.totals = Some((l, d)),
            _ => return Err("missing the totals lines".into()),
        }
        Ok(r)
    }

    /// Parses `--json` / `--pretty-json` output (schema version "2").
    pub fn from_json(text: &[u8]) -> Result<Report, String> {
        Report::from_json_value(&Json::parse(text)?)
    }

    /// As [`Report::from_json`], from a parsed value.
    pub fn from_json_value(j: &Json) -> Result<Report, String> {
        if j.get("version").and_then(Json::as_str) != Some("2") {
            return Err("\"version\" is not \"2\"".into());
        }
        let mut r = Report::default();
        let Some(Json::Object(profiles)) = j.get("profiles") else {
            return Err("no \"profiles\" object".into());
        };
        for (name, mode) in profiles {
            let mode = mode.as_str().ok_or("profile mode is not a string")?;
            r.profiles.insert((mode.to_string(), name.clone()));
        }
        let Some(Json::Object(procs)) = j.get("processes") else {
            return Err("no \"processes\" object".into());
        };
        for (exe, list) in procs {
            let Json::Array(list) = list else {
                return Err(format!("processes[{exe:?}] is not an array"));
            };
            for p in list {
                let field = |k: &str| {
                    p.get(k)
                        .and_then(Json::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| format!("process of {exe:?} lacks string {k:?}"))
                };
                r.processes.insert((
                    field("status")?,
                    exe.clone(),
                    field("pid")?,
                    field("profile")?,
                ));
            }
        }
        Ok(r)
    }

    /// Differences between two reports (empty when equal as data).
    pub fn diff(&self, other: &Report, a: &str, b: &str) -> Result<(), String> {
        let mut msg = Vec::new();
        for x in self.profiles.difference(&other.profiles) {
            msg.push(format!("profile {x:?} only in {a}"));
        }
        for x in other.profiles.difference(&self.profiles) {
            msg.push(format!("profile {x:?} only in {b}"));
        }
        for x in self.processes.difference(&other.processes) {
            msg.push(format!("process {x:?} only in {a}"));
        }
        for x in other.processes.difference(&self.processes) {
            msg.push(format!("process {x:?} only in {b}"));
        }
        if let (Some(x), Some(y)) = (self.totals, other.totals) {
            if x != y {
                msg.push(format!(
                    "totals (profiles, processes) {a} {x:?} vs {b} {y:?}"
                ));
            }
        }
        if msg.is_empty() {
            Ok(())
        } else {
            msg.truncate(12);
            Err(msg.join("; "))
        }
    }
}

/// The profiles the kernel lists in `profiles` (as aa-status would split them).
pub(super) fn kernel_profiles(snapshot: &Path) -> Result<BTreeSet<(String, String)>, String> {
    let p = snapshot.join("sys/kernel/security/apparmor/profiles");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let (name, mode) = line
            .strip_suffix(')')
            .and_then(|l| l.rsplit_once(" ("))
            .ok_or_else(|| format!("cannot split profiles line {line:?}"))?;
        set.insert((mode.to_string(), name.to_string()));
    }
    Ok(set)
}
