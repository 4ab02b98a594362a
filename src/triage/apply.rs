//! Applying an answered review plan: [`choose`] checks the answers against
//! the current plan and turns them into rule lines per profile;
//! [`plan_profile_file`] writes those lines into a profile file's text,
//! inside the block of the profile, hat or child they belong to (a missing
//! hat block is created, and so is the child profile of a `Cx -> NAME`
//! transition), keeping the file's comments and layout.

use super::plan::{Action, Plan, Proposal, exec_letter_of};
use crate::policy::ast::{Item, Profile};
use serde::Deserialize;

/// Errors in an answers document.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswerError {
    /// Not a plan document.
    #[error("not a triage plan: {0}")]
    Document(String),
    /// An answer's id is not in the current plan.
    #[error(
        "{id}: no such proposal in the current plan (already applied, or the log or the \
         profiles changed since the plan was made: make a new one with aactl triage --json)"
    )]
    UnknownId {
        /// The id.
        id: String,
    },
    /// The chosen rule is not one of the proposal's candidates.
    #[error("{id}: rule {rule:?} is not one of the candidates")]
    NotCandidate {
        /// The id.
        id: String,
        /// The rule given.
        rule: String,
    },
    /// The action does not fit the proposal's kind or the chosen rule.
    #[error("{id}: action {action} {why}")]
    Action {
        /// The id.
        id: String,
        /// The action.
        action: String,
        /// Why not.
        why: String,
    },
}

/// One answer as read back (only `id`, `action`, `rule`, `target` and
/// `audit` are used; the other fields of the plan may be left in or
/// removed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Answer {
    /// The proposal's id.
    pub id: String,
    /// What to do (`null`: nothing).
    #[serde(default)]
    pub action: Option<Action>,
    /// The chosen candidate (`null`: the first fitting the action).
    #[serde(default)]
    pub rule: Option<String>,
    /// For [`Action::Named`]: the profile name the program runs under.
    #[serde(default)]
    pub target: Option<String>,
    /// Write the rule with the `audit` prefix (`audit deny …` for deny).
    #[serde(default)]
    pub audit: bool,
}

#[derive(Debug, Deserialize)]
struct AnswerDoc {
    #[serde(default)]
    kind: Option<String>,
    proposals: Vec<Answer>,
}

/// Parses an answers document (a plan with `action` and `rule` filled in).
///
/// # Errors
/// [`AnswerError::Document`] when the JSON is not a plan.
pub fn parse_answers(text: &str) -> Result<Vec<Answer>, AnswerError> {
    let doc: AnswerDoc =
        serde_json::from_str(text).map_err(|e| AnswerError::Document(e.to_string()))?;
    if let Some(k) = &doc.kind
        && k != super::plan::PLAN_KIND
    {
        return Err(AnswerError::Document(format!(
            "kind is {k:?}, not {:?}",
            super::plan::PLAN_KIND
        )));
    }
    Ok(doc.proposals)
}

/// One rule to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The proposal.
    pub id: String,
    /// The profile (`a`, `a//hat`).
    pub profile: String,
    /// The rule line (`deny ` included).
    pub rule: String,
    /// A child profile this rule transitions to (`Cx -> NAME`): created in
    /// the profile when missing, allowed to map the program.
    pub child: Option<(String, String)>,
    /// Only records of unverified senders support it.
    pub untrusted: bool,
}

/// Checks `answers` against `plan` and returns the rules to write, in plan
/// order. An answer without action, or `ignore`, gives nothing (and may name a
/// proposal the plan no longer has).
///
/// # Errors
/// [`AnswerError`] naming the first answer that does not fit.
pub fn choose(plan: &Plan, answers: &[Answer]) -> Result<Vec<Chosen>, AnswerError> {
    for a in answers {
        // an answer that asks for nothing may name a proposal that is gone
        let asks = a.action.is_some_and(|x| x != Action::Ignore);
        if asks && !plan.proposals.iter().any(|p| p.id == a.id) {
            return Err(AnswerError::UnknownId { id: a.id.clone() });
        }
    }
    let mut out = Vec::new();
    for p in &plan.proposals {
        let Some(a) = answers.iter().find(|a| a.id == p.id) else {
            continue;
        };
        let Some(action) = a.action else { continue };
        if action == Action::Ignore {
            continue;
        }
        if let Some(r) = &a.rule
            && !p.candidates.contains(r)
        {
            return Err(AnswerError::NotCandidate {
                id: p.id.clone(),
                rule: r.clone(),
            });
        }
        let rule = pick(p, action, a.rule.as_deref(), a.target.as_deref())?;
        let name = match action {
            Action::Named => a.target.as_ref(),
            _ => p.child.as_ref(),
        };
        let child = match (exec_letter_of(&rule), name) {
            (Some('c'), Some(name)) if p.kind == "exec" => {
                Some((name.clone(), exec_path(&rule).to_owned()))
            }
            _ => None,
        };
        let rule = if action == Action::Deny {
            deny_form(p, &rule)
        } else {
            rule
        };
        let rule = if a.audit {
            if rule.starts_with("include ") {
                return Err(bad(
                    p,
                    action,
                    "cannot be audited: an include line has no audit prefix",
                ));
            }
            format!("audit {rule}")
        } else {
            rule
        };
        out.push(Chosen {
            id: p.id.clone(),
            profile: p.profile.clone(),
            rule,
            child,
            untrusted: !p.records.trusted(),
        });
    }
    Ok(out)
}

fn bad(p: &Proposal, action: Action, why: &str) -> AnswerError {
    AnswerError::Action {
        id: p.id.clone(),
        action: serde_json::to_value(action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        why: why.to_owned(),
    }
}

fn pick(
    p: &Proposal,
    action: Action,
    rule: Option<&str>,
    target: Option<&str>,
) -> Result<String, AnswerError> {
    let first = || p.candidates.first().cloned();
    if action == Action::Named {
        if p.kind != "exec" {
            return Err(bad(p, action, "is only for exec proposals"));
        }
        let target = target
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| bad(p, action, "needs a target (the profile name)"))?;
        let base = match rule {
            Some(r) if matches!(exec_letter_of(r), Some('p' | 'c')) => r.to_owned(),
            Some(_) => {
                return Err(bad(
                    p,
                    action,
                    "needs a profile (Px, px) or child (Cx, cx) rule",
                ));
            }
            None => p
                .candidates
                .iter()
                .find(|c| exec_letter_of(c) == Some('p'))
                .cloned()
                .ok_or_else(|| bad(p, action, "has no candidate"))?,
        };
        return named_rule(&base, target).map_err(|why| bad(p, action, &why));
    }
    if target.is_some() {
        return Err(bad(p, action, "takes no target (only named does)"));
    }
    match action.exec_letter() {
        None => rule
            .map(str::to_owned)
            .or_else(first)
            .ok_or_else(|| bad(p, action, "has no candidate")),
        Some(_) if p.kind != "exec" => Err(bad(p, action, "is only for exec proposals")),
        Some(l) => match rule {
            Some(r) if exec_letter_of(r) == Some(l) => Ok(r.to_owned()),
            Some(_) => Err(bad(p, action, "does not match the chosen rule")),
            None => p
                .candidates
                .iter()
                .find(|c| exec_letter_of(c) == Some(l))
                .cloned()
                .ok_or_else(|| bad(p, action, "has no candidate")),
        },
    }
}

/// The rule `base` (a profile or child transition: `PATH Px,`, `PATH cx ->
/// NAME,`) with its transition going to profile `target` instead: `PATH Px
/// -> TARGET,` (the mode, so the safe or unsafe form, kept). The name is
/// quoted where the policy language needs it.
///
/// # Errors
/// Why the name cannot be written (control characters, or the rule does not
/// parse).
pub fn named_rule(base: &str, target: &str) -> Result<String, String> {
    let target = target.trim();
    if target.is_empty() {
        return Err("needs a target (the profile name)".into());
    }
    if target.chars().any(|c| c.is_control() || c == '"') {
        return Err(format!(
            "target {target:?}: control characters and quotes are not allowed"
        ));
    }
    let owner = if base.starts_with("owner ") {
        "owner "
    } else {
        ""
    };
    let path = exec_path(base);
    let body = base.trim_start_matches("owner ");
    let head = body.split(" -> ").next().unwrap_or(body);
    let mode = head
        .trim_end_matches(',')
        .rsplit_once(' ')
        .map_or("", |(_, m)| m);
    let name = super::suggest::policy_word(target.as_bytes(), false);
    let rule = format!("{owner}{path} {mode} -> {name},");
    let probe = format!("profile p {{\n  {rule}\n}}\n");
    if !crate::policy::parse_str(&probe, crate::diag::FileId(0)).is_ok() {
        return Err(format!(
            "target {target:?}: the rule {rule:?} does not parse"
        ));
    }
    Ok(rule)
}

/// The path of an exec rule (its text up to the mode).
fn exec_path(rule: &str) -> &str {
    let body = rule.trim_start_matches("owner ");
    let head = body.split(" -> ").next().unwrap_or(body);
    head.rsplit_once(' ').map_or(head, |(p, _)| p)
}

/// The deny form of a chosen rule: `deny RULE`; an exec rule denies `x`
/// (a deny rule names no transition).
fn deny_form(p: &Proposal, rule: &str) -> String {
    if p.kind == "exec" || exec_letter_of(rule).is_some() {
        let owner = if rule.starts_with("owner ") {
            "owner "
        } else {
            ""
        };
        return format!("deny {owner}{} x,", exec_path(rule));
    }
    format!("deny {rule}")
}

/// Errors writing into a profile file's text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InsertError {
    /// The profile is not defined in the text.
    #[error("profile {0} not found in the file")]
    NotFound(String),
}

fn find_in<'a>(items: &'a [Item], name: &str) -> Option<&'a Profile> {
    items.iter().find_map(|it| match it {
        Item::Profile(p) if p.name.value() == name => Some(&**p),
        _ => None,
    })
}

/// Byte offset of the closing brace of a profile block and the indent
/// of its body.
fn close_of(text: &str, p: &Profile) -> Option<(usize, String)> {
    let end = (p.span.end as usize).min(text.len());
    let close = text[..end].rfind('}')?;
    let start = (p.span.start as usize).min(close);
    let head_line = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[head_line..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    Some((close, format!("{indent}  ")))
}

/// Inserts `lines` (rule lines or whole blocks, each without indent; a
/// block's inner lines indented by two spaces) before the closing brace of
/// profile `path` (`["top", "hat"]`).
fn insert_lines(text: &str, path: &[&str], lines: &[String]) -> Result<String, InsertError> {
    let ast = crate::policy::parse_str(text, crate::diag::FileId(0)).ast;
    let mut p =
        find_in(&ast.items, path[0]).ok_or_else(|| InsertError::NotFound(path[0].into()))?;
    for (i, n) in path.iter().enumerate().skip(1) {
        p = p
            .children()
            .into_iter()
            .find(|c| c.name.value() == *n)
            .ok_or_else(|| InsertError::NotFound(path[..=i].join("//")))?;
    }
    let (close, indent) =
        close_of(text, p).ok_or_else(|| InsertError::NotFound(path.join("//")))?;
    let block = &text[p.span.start as usize..close];
    let mut add = String::new();
    for l in lines {
        let single = !l.contains('\n');
        if single && block.lines().any(|b| b.trim() == l.trim()) {
            continue;
        }
        for part in l.lines() {
            if !part.is_empty() {
                add.push_str(&indent);
            }
            add.push_str(part);
            add.push('\n');
        }
    }
    if add.is_empty() {
        return Ok(text.to_owned());
    }
    let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
    let mut out = text.to_owned();
    if text[line_start..close].trim().is_empty() {
        out.insert_str(
            before_local_include(text, p.span.start as usize, line_start),
            &add,
        );
    } else {
        out.insert_str(close, &format!("\n{add}"));
    }
    Ok(out)
}

/// Where new lines go when the block's closing brace (on its own line at
/// `line_start`) follows its `include if exists <local/…>` line: before
/// that line (and before a blank line above it), so the override stays
/// last; else `line_start`.
fn before_local_include(text: &str, block_start: usize, line_start: usize) -> usize {
    let prev =
        |end: usize| (end > block_start).then(|| text[..end - 1].rfind('\n').map_or(0, |i| i + 1));
    let Some(inc) = prev(line_start).filter(|&i| i > block_start) else {
        return line_start;
    };
    let t = text[inc..line_start].trim();
    if !(t.starts_with("include if exists <local/") || t.starts_with("#include if exists <local/"))
    {
        return line_start;
    }
    match prev(inc).filter(|&i| i > block_start) {
        Some(blank) if text[blank..inc].trim().is_empty() => blank,
        _ => inc,
    }
}

/// True when profile `path` exists in `text`.
fn has_block(text: &str, path: &[&str]) -> bool {
    let ast = crate::policy::parse_str(text, crate::diag::FileId(0)).ast;
    let Some(mut p) = find_in(&ast.items, path[0]) else {
        return false;
    };
    for n in &path[1..] {
        match p.children().into_iter().find(|c| c.name.value() == *n) {
            Some(c) => p = c,
            None => return false,
        }
    }
    true
}

/// Writes `rules` (all of profiles defined in this file) into `text`:
/// each rule inside its profile's or hat's block; a missing hat is
/// created in its parent as `^NAME { … }`; the child profile of a chosen
/// `Cx -> NAME` is created when missing, with `include
/// <abstractions/base>` and read/map access to the program.
///
/// # Errors
/// [`InsertError::NotFound`] when a top-level profile is not in the text.
pub fn plan_profile_file(text: &str, rules: &[&Chosen]) -> Result<String, InsertError> {
    let mut text = text.to_owned();
    // group by profile, in order
    let mut order: Vec<&str> = Vec::new();
    for c in rules {
        if !order.contains(&c.profile.as_str()) {
            order.push(&c.profile);
        }
    }
    for prof in order {
        let path: Vec<&str> = prof.split("//").collect();
        let lines: Vec<String> = rules
            .iter()
            .filter(|c| c.profile == prof)
            .map(|c| c.rule.clone())
            .collect();
        // create missing hats from the top down
        for depth in 2..=path.len() {
            if !has_block(&text, &path[..depth]) {
                let hat = format!("^{} {{\n}}", path[depth - 1]);
                text = insert_lines(&text, &path[..depth - 1], &[hat])?;
            }
        }
        text = insert_lines(&text, &path, &lines)?;
        for c in rules.iter().filter(|c| c.profile == prof) {
            if let Some((name, exe)) = &c.child {
                let mut child_path = path.clone();
                child_path.push(name);
                if !has_block(&text, &child_path) {
                    let block = format!(
                        "profile {name} {{\n  include <abstractions/base>\n\n  {exe} mr,\n}}"
                    );
                    text = insert_lines(&text, &path, &[block])?;
                }
            }
        }
    }
    Ok(text)
}

pub use crate::policy::edit::unified_diff;

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(profile: &str, rule: &str) -> Chosen {
        Chosen {
            id: String::new(),
            profile: profile.into(),
            rule: rule.into(),
            child: None,
            untrusted: false,
        }
    }

    #[test]
    fn inserts_into_blocks() {
        let t = "# c\n/usr/bin/x {\n  /a r, # keep\n\n  ^h {\n    /b r,\n  }\n}\n";
        let a = chosen("/usr/bin/x", "/c r,");
        let b = chosen("/usr/bin/x//h", "/d w,");
        let c = chosen("/usr/bin/x//new", "/e r,");
        let out = plan_profile_file(t, &[&a, &b, &c]).unwrap();
        assert_eq!(
            out,
            "# c\n/usr/bin/x {\n  /a r, # keep\n\n  ^h {\n    /b r,\n    /d w,\n  }\n  /c r,\n  ^new {\n    /e r,\n  }\n}\n"
        );
        assert_eq!(plan_profile_file(&out, &[&a]).unwrap(), out);
    }

    #[test]
    fn rules_go_before_the_local_include() {
        let t = "/x {\n  /a r,\n\n  include if exists <local/x>\n}\n";
        let out = plan_profile_file(t, &[&chosen("/x", "/b r,")]).unwrap();
        assert_eq!(
            out,
            "/x {\n  /a r,\n  /b r,\n\n  include if exists <local/x>\n}\n"
        );
        let t = "/x {\n  include if exists <local/x>\n}\n";
        let out = plan_profile_file(t, &[&chosen("/x", "/b r,")]).unwrap();
        assert_eq!(out, "/x {\n  /b r,\n  include if exists <local/x>\n}\n");
    }

    #[test]
    fn named_rules() {
        assert_eq!(named_rule("/bin/a Px,", "b").unwrap(), "/bin/a Px -> b,");
        assert_eq!(
            named_rule("/bin/a px,", "b c").unwrap(),
            "/bin/a px -> \"b c\","
        );
        assert_eq!(
            named_rule("owner /bin/a Cx -> a,", "kid").unwrap(),
            "owner /bin/a Cx -> kid,"
        );
        assert!(named_rule("/bin/a Px,", "").is_err());
        assert!(named_rule("/bin/a Px,", "a\nb").is_err());
    }
}
