//! Source-preserving edits of policy text.
//!
//! Edits touch only the bytes they must: everything else (comments, blank
//! lines, indentation, other profiles) is returned unchanged. They work on
//! text; writing the file atomically is the caller's job.

use crate::diag::FileId;
use crate::policy::ast::{Item, Profile, Word};
use crate::policy::parse::{ParseMode, parse};

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// No profile (or hat/child, addressed as `parent//child`) has that name.
    #[error("profile '{0}' not found")]
    ProfileNotFound(String),
}

/// The profile modes: flags of which a profile may carry at most one.
pub const MODE_FLAGS: &[&str] = &[
    "enforce",
    "complain",
    "kill",
    "unconfined",
    "prompt",
    "default_allow",
];

/// Finds the profile named `name` in `items`: a top-level name, or a path of
/// names joined by `//` for hats and child profiles (`/usr/bin/foo//bar`).
/// Names compare after removing quotes and processing escapes.
pub fn find_profile<'a>(items: &'a [Item], name: &str) -> Option<&'a Profile> {
    let mut all = Vec::new();
    crate::policy::ast::collect_profiles(items, &mut all);
    if let Some(p) = all.iter().find(|p| p.name.value() == name) {
        return Some(p);
    }
    // parent//child addressing: try every split point (names may contain `//`)
    let mut search = 0;
    while let Some(i) = name[search..].find("//") {
        let (head, tail) = name.split_at(search + i);
        let tail = &tail[2..];
        if let Some(parent) = all.iter().find(|p| p.name.value() == head) {
            if let Some(c) = find_profile(&parent.items, tail) {
                return Some(c);
            }
        }
        search += i + 2;
    }
    None
}

/// The flags of profile `name` in `src`, or `None` when it has none.
pub fn profile_flags(src: &str, name: &str) -> Result<Option<Vec<String>>, EditError> {
    let parsed = parse(src, FileId(0), ParseMode::Policy);
    let p = find_profile(&parsed.ast.items, name)
        .ok_or_else(|| EditError::ProfileNotFound(name.to_string()))?;
    Ok(p.flags
        .as_ref()
        .map(|f| f.flags.iter().map(Word::value).collect()))
}

/// Returns `src` with the flags of profile `name` replaced by `flags`
/// (written `flags=(a, b)`), touching only the profile head: an existing
/// flags list is rewritten in place, a missing one is inserted after the last
/// head token, and an empty `flags` removes the list. Hats and children are
/// addressed as `parent//child`.
pub fn set_profile_flags(src: &str, name: &str, flags: &[String]) -> Result<String, EditError> {
    let parsed = parse(src, FileId(0), ParseMode::Policy);
    let p = find_profile(&parsed.ast.items, name)
        .ok_or_else(|| EditError::ProfileNotFound(name.to_string()))?;
    let list = flags
        .iter()
        .map(|f| Word::new(f.clone()).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let new = format!("flags=({list})");
    let mut out = String::with_capacity(src.len() + new.len() + 1);
    match &p.flags {
        Some(f) => {
            let r = f.span.range();
            if flags.is_empty() {
                // drop the list and the blanks before it
                let before = src[..r.start].trim_end_matches([' ', '\t']);
                out.push_str(before);
                out.push_str(&src[r.end..]);
            } else {
                out.push_str(&src[..r.start]);
                out.push_str(&new);
                out.push_str(&src[r.end..]);
            }
        }
        None => {
            if flags.is_empty() {
                return Ok(src.to_string());
            }
            let at = head_end(p);
            out.push_str(&src[..at]);
            out.push(' ');
            out.push_str(&new);
            out.push_str(&src[at..]);
        }
    }
    Ok(out)
}

/// Returns `src` with profile `name` switched to `mode` (one of
/// [`MODE_FLAGS`], or `None` for the default enforce mode written as no mode
/// flag): other mode flags are removed, the remaining flags kept in order.
pub fn set_profile_mode(src: &str, name: &str, mode: Option<&str>) -> Result<String, EditError> {
    let current = profile_flags(src, name)?.unwrap_or_default();
    let mut flags: Vec<String> = current
        .into_iter()
        .filter(|f| !MODE_FLAGS.contains(&f.as_str()))
        .collect();
    if let Some(m) = mode {
        flags.insert(0, m.to_string());
    }
    set_profile_flags(src, name, &flags)
}

fn head_end(p: &Profile) -> usize {
    p.head_span.end as usize
}

/// A unified diff of `before` → `after` (three lines of context), headed
/// `--- a` / `+++ b`; empty when they are equal. Only the lines that differ are
/// marked `-`/`+`; the text is not escaped (the caller escapes for a terminal).
pub fn unified_diff(a: &str, b: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(a, b)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "# keep me\nabi <abi/3.0>,\n\nprofile foo /usr/bin/foo   flags=(attach_disconnected,complain) { # c\n  /a r,  # why\n  ^hat {\n  }\n}\n\n/usr/bin/bar {\n  #x\n}\n";

    #[test]
    fn replaces_existing_flags_only_in_head() {
        let out = set_profile_mode(SRC, "foo", Some("enforce")).unwrap();
        assert_eq!(
            out,
            SRC.replace(
                "flags=(attach_disconnected,complain)",
                "flags=(enforce, attach_disconnected)"
            )
        );
        let out = set_profile_flags(SRC, "foo", &[]).unwrap();
        assert!(out.contains("profile foo /usr/bin/foo { # c\n"));
    }

    #[test]
    fn inserts_flags_and_addresses_hats() {
        let out = set_profile_mode(SRC, "/usr/bin/bar", Some("complain")).unwrap();
        assert_eq!(
            out,
            SRC.replace("/usr/bin/bar {", "/usr/bin/bar flags=(complain) {")
        );
        let out = set_profile_mode(SRC, "foo//hat", Some("complain")).unwrap();
        assert!(out.contains("  ^hat flags=(complain) {\n"));
        assert_eq!(
            profile_flags(&out, "foo//hat").unwrap(),
            Some(vec!["complain".to_string()])
        );
        assert!(matches!(
            set_profile_mode(SRC, "nope", None),
            Err(EditError::ProfileNotFound(_))
        ));
    }
}
