//! The library's layers (see `src/lib.rs`): a module may use only modules of a lower rank.
//! Reads every `src/**.rs`, collects the top-level modules each one names through
//! `crate::…` (in `use` lines and paths), and fails on an edge that points up or
//! sideways. `ALLOWED` lists the edges that exist today and are to be removed; an
//! entry that no longer occurs fails too, so the list only shrinks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Rank of each top-level module: vocabulary, host, domains, workflows, front ends.
const RANKS: &[(&str, u32)] = &[
    ("escape", 0),
    ("error", 0),
    ("label", 1),
    ("diag", 1),
    ("system", 2),
    ("inspect", 3),
    ("policy", 3),
    ("log", 3),
    ("triage", 4),
    ("loader", 4),
    ("runtime", 4),
    ("watch", 5),
    ("metrics", 5),
    ("cli", 6),
];

/// Edges that break the rule today, each to be removed (then deleted here).
const ALLOWED: &[(&str, &str)] = &[];

fn rank(m: &str) -> Option<u32> {
    RANKS.iter().find(|(n, _)| *n == m).map(|(_, r)| *r)
}

/// The top-level module a file under `src/` belongs to (`None` for lib.rs).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let m = first.strip_suffix(".rs").unwrap_or(first);
    (m != "lib").then(|| m.to_owned())
}

/// Every `crate::NAME` and every name inside `use crate::{A, B::…}` in `text`,
/// comments left out.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                // use crate::{a, b::c, …} — the group may span lines; the first
                // line's names are enough for the usual one-line groups, and the
                // multi-line ones are caught by the loop below.
                for part in group.split([',', '}']) {
                    let name: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.insert(name);
                    }
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
            rest = after;
        }
    }
    // Multi-line `use crate::{` groups: take the first segment of each line inside.
    let mut in_group = false;
    for line in text.lines() {
        let t = line.trim();
        // `use`, `pub use`, `pub(crate) use` …: the visibility does not matter here.
        let stmt = t.find("use crate::{").map_or("", |i| &t[i..]);
        if t.split_whitespace().any(|w| w == "use")
            && stmt.starts_with("use crate::{")
            && !t.contains('}')
        {
            in_group = true;
            continue;
        }
        if in_group {
            if t.starts_with('}') {
                in_group = false;
                continue;
            }
            let name: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn layers_point_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for e in walkdir::WalkDir::new(&src) {
        let e = e.unwrap();
        if e.path().extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let rel = e.path().strip_prefix(&src).unwrap();
        let Some(from) = module_of(rel) else { continue };
        let text = std::fs::read_to_string(e.path()).unwrap();
        for to in crate_refs(&text) {
            if to != from && rank(&to).is_some() {
                edges
                    .entry((from.clone(), to))
                    .or_default()
                    .push(rel.display().to_string());
            }
        }
    }
    let mut bad = Vec::new();
    for ((from, to), files) in &edges {
        let (Some(rf), Some(rt)) = (rank(from), rank(to)) else {
            bad.push(format!("{from} -> {to}: module not in RANKS ({files:?})"));
            continue;
        };
        if rt >= rf && !ALLOWED.contains(&(from.as_str(), to.as_str())) {
            bad.push(format!(
                "{from} (rank {rf}) -> {to} (rank {rt}) in {files:?}"
            ));
        }
    }
    for (from, to) in ALLOWED {
        if !edges.contains_key(&(from.to_string(), to.to_string())) {
            bad.push(format!(
                "{from} -> {to} is allowed but gone: delete it from ALLOWED"
            ));
        }
    }
    // Every top-level module has a rank.
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        if let Some(m) = module_of(Path::new(&e.file_name())) {
            if rank(&m).is_none() {
                bad.push(format!("src/{m}: no rank in RANKS"));
            }
        }
    }
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}
