//! Rule-specific checks: the dispatch over rule kinds, qualifiers (`S02xx`),
//! the shared helpers for permissions and conditionals, and the capability,
//! change_profile and rlimit checks. Network and unix rules are in `net.rs`,
//! dbus, signal, ptrace, mqueue, io_uring and userns in `ipc.rs`, the mount
//! family in `mount.rs`.

use super::tables::*;
use super::{Checker, codes};
use crate::diag::Span;
use crate::policy::ast::*;
use std::collections::HashSet;

/// `peer=(label=…)` written where only a flat label is allowed.
pub(super) fn is_group(c: &Cond) -> bool {
    match &c.value {
        CondValue::Group(_) => true,
        CondValue::List(v) => v.iter().any(|w| !w.quoted && w.text.contains('=')),
        _ => false,
    }
}

/// `{lead} X?` for the candidate X closest to `word` ([`crate::diag::suggest::closest`]),
/// or nothing when none is close.
fn did_you_mean<'a>(
    lead: &str,
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    match crate::diag::suggest::closest(word, candidates) {
        Some(c) => format!("{lead} {c}?"),
        None => String::new(),
    }
}

pub(super) fn perm_words(c: &CondRule) -> Vec<&Word> {
    c.perms.iter().flat_map(|p| p.words.iter()).collect()
}

impl Checker<'_> {
    /// Qualifier checks that depend on the rule kind.
    pub(super) fn qualifiers(&mut self, q: &Qualifiers, rule: &Rule, span: Span) {
        // qualifiers written on this rule (a qualifier block's `owner` only
        // applies to the file rules inside it)
        let own =
            q.span.end > q.span.start && q.span.file == span.file && q.span.start >= span.start;
        let span = if own { q.span } else { span };
        if let Some(p) = q.priority {
            if p > 1000 {
                self.error(
                    codes::PRIORITY,
                    span,
                    format!("invalid priority {p} > 1000"),
                );
            } else if p < -1000 {
                self.error(
                    codes::PRIORITY,
                    span,
                    format!("invalid priority {p} < -1000"),
                );
            }
        }
        let kw = rule.keyword();
        if own && q.owner.is_some() && !matches!(rule, Rule::File(_) | Rule::Link(_)) {
            let msg = match rule {
                Rule::Capability(_) | Rule::ChangeProfile(_) => {
                    format!("owner conditional not allowed on {kw} rules")
                }
                _ => format!("owner prefix not allowed on {kw} rules"),
            };
            self.error(codes::OWNER, span, msg);
        }
        if q.priority.is_some() && matches!(rule, Rule::Network(_) | Rule::All) {
            self.error(
                codes::PRIORITY,
                span,
                format!("priority prefix not allowed on {kw} rules"),
            );
        }
    }

    /// Dispatches the rule-local checks.
    pub(super) fn rule(&mut self, q: &Qualifiers, rule: &Rule, span: Span) {
        if self.release_rule(q, rule, span) {
            return;
        }
        self.qualifiers(q, rule, span);
        match rule {
            Rule::File(f) => self.file_rule(q, f, span),
            Rule::Link(l) => {
                self.glob(&l.from);
                self.glob(&l.to);
            }
            Rule::Capability(names) => self.capability(names),
            Rule::Network(c) => self.network(c, span),
            Rule::Unix(c) => self.unix(c, span),
            Rule::Dbus(c) => self.dbus(c, span),
            Rule::Signal(c) => self.signal(c, span),
            Rule::Ptrace(c) => self.ptrace(c, span),
            Rule::Mount(c) | Rule::Remount(c) | Rule::Umount(c) => self.mount(rule, c, span),
            Rule::PivotRoot(c) => self.pivot_root(c),
            Rule::Mqueue(c) => self.mqueue(c, span),
            Rule::IoUring(c) => self.simple_kind("io_uring", IOURING_PERMS, &["label"], c),
            Rule::Userns(c) => self.simple_kind("userns", USERNS_PERMS, &[], c),
            Rule::ChangeProfile(c) => self.change_profile(c, span),
            Rule::Rlimit(r) => self.rlimit(r, span),
            Rule::All => {}
        }
    }

    pub(super) fn perms_in(&mut self, kind: &str, allowed: &[&str], c: &CondRule) {
        for w in perm_words(c) {
            if !allowed.contains(&w.text.as_str()) {
                self.error(
                    codes::RULE_PERMS,
                    w.span,
                    format!(
                        "{kind} rule: invalid access '{}'{}",
                        w.text,
                        did_you_mean("; did you mean", &w.text, allowed.iter().copied())
                    ),
                );
            }
        }
    }

    pub(super) fn no_words(&mut self, kind: &str, c: &CondRule) {
        if let Some(w) = c.words().next() {
            self.error(
                codes::RULE_SYNTAX,
                w.span,
                format!(
                    "{kind} rule: unexpected '{}' (missing a conditional name?)",
                    w.text
                ),
            );
        }
    }

    /// Every conditional named at most once; known names; operator `=`
    /// unless `in_ok`; single values unless `list_ok`.
    pub(super) fn conds(&mut self, kind: &str, c: &[&Cond], known: &[&str], in_ok: bool) -> bool {
        self.conds_rep(kind, c, known, in_ok, &[])
    }

    pub(super) fn conds_rep(
        &mut self,
        kind: &str,
        c: &[&Cond],
        known: &[&str],
        in_ok: bool,
        repeat_ok: &[&str],
    ) -> bool {
        let mut seen = HashSet::new();
        let mut ok = true;
        for cond in c {
            if !known.contains(&cond.name.as_str()) {
                self.error(
                    codes::RULE_COND,
                    cond.span,
                    format!("invalid {kind} conditional \"{}\"", cond.name),
                );
                ok = false;
                continue;
            }
            if !seen.insert(cond.name.as_str()) && !repeat_ok.contains(&cond.name.as_str()) {
                self.error(
                    codes::RULE_COND,
                    cond.span,
                    format!(
                        "{kind} conditional \"{}\" can only be specified once",
                        cond.name
                    ),
                );
                ok = false;
            }
            let assign_ok = cond.op == CondOp::Assign && cond.name == "label";
            if !in_ok && cond.op != CondOp::Eq && !assign_ok {
                self.error(
                    codes::RULE_COND,
                    cond.span,
                    format!(
                        "unsupported operator in {kind} conditional \"{}\": only \"=\" allowed",
                        cond.name
                    ),
                );
                ok = false;
            }
            if matches!(cond.value, CondValue::None) {
                self.error(
                    codes::RULE_COND,
                    cond.span,
                    format!("{kind} conditional \"{}\" requires a value", cond.name),
                );
                ok = false;
            }
        }
        ok
    }

    pub(super) fn single(&mut self, kind: &str, cond: &Cond) -> Option<Word> {
        match &cond.value {
            CondValue::Single(w) => Some(w.clone()),
            CondValue::List(v) if v.len() == 1 => Some(v[0].clone()),
            _ => {
                self.error(
                    codes::RULE_COND,
                    cond.span,
                    format!(
                        "{kind} conditional \"{}\" only supports a single value",
                        cond.name
                    ),
                );
                None
            }
        }
    }

    pub(super) fn glob_values(&mut self, cond: &Cond) {
        match &cond.value {
            CondValue::Single(w) => self.glob(w),
            CondValue::List(v) => v.iter().for_each(|w| self.glob(w)),
            CondValue::Group(g) => g.iter().for_each(|c| self.glob_values(c)),
            CondValue::None => {}
        }
    }

    pub(super) fn capability(&mut self, names: &[Word]) {
        for w in names {
            let n = w.text.as_str();
            let known = CAPABILITIES.contains(&n)
                || self
                    .opts
                    .features
                    .as_ref()
                    .is_some_and(|f| f.words("caps/mask").contains(&n));
            if !known {
                self.error(
                    codes::CAPABILITY,
                    w.span,
                    format!(
                        "Invalid capability {n}.{}",
                        did_you_mean(" Did you mean", n, CAPABILITIES.iter().copied())
                    ),
                );
            }
        }
    }

    pub(super) fn peer_perms(&mut self, kind: &str, c: &CondRule, has_peer: bool, span: Span) {
        if !has_peer {
            return;
        }
        for w in perm_words(c) {
            if NET_PERMS.contains(&w.text.as_str()) && !PEER_PERMS.contains(&w.text.as_str()) {
                let _ = kind;
                self.error(
                    codes::PEER_PERMS,
                    w.span,
                    "'create', 'shutdown', 'getattr', 'setattr', 'getopt', 'setopt', 'bind' and 'listen' cannot be used with peer socket conditionals",
                );
                return;
            }
        }
        let _ = span;
    }

    pub(super) fn change_profile(&mut self, c: &ChangeProfileRule, span: Span) {
        if let Some(t) = &c.target {
            self.transition_target(t);
        }
        // `change_profile safe,`: the keyword was read as the exec condition
        let bare_kw = c.exec_mod.is_none()
            && c.exec
                .as_ref()
                .is_some_and(|e| !e.quoted && matches!(e.text.as_str(), "safe" | "unsafe"));
        if bare_kw {
            self.error(
                codes::CHANGE_PROFILE,
                span,
                "Exec condition is required when unsafe or safe keywords are present",
            );
            return;
        }
        match (&c.exec_mod, &c.exec) {
            (Some(_), None) => self.error(
                codes::CHANGE_PROFILE,
                span,
                "Exec condition is required when unsafe or safe keywords are present",
            ),
            (_, Some(e)) if !(e.value().starts_with('/') || e.text.starts_with("@{")) => self
                .error(
                    codes::CHANGE_PROFILE,
                    e.span,
                    "Exec condition must begin with '/'.",
                ),
            (_, Some(e)) => self.glob(e),
            _ => {}
        }
    }

    pub(super) fn rlimit(&mut self, r: &RlimitRule, span: Span) {
        let name = r.resource.as_str();
        if !RLIMITS.contains(&name) {
            self.error(codes::RLIMIT, span, format!("INVALID RLIMIT '{name}'"));
            return;
        }
        let mut text = r.value.value();
        if let Some(u) = &r.unit {
            text.push_str(&u.value());
        }
        if text == "infinity" {
            return;
        }
        let bad = |s: &mut Self| {
            s.error(
                codes::RLIMIT,
                r.value.span,
                format!("RLIMIT '{name}' invalid value {text}"),
            );
        };
        let digits_end = text
            .char_indices()
            .find(|&(i, ch)| !(ch.is_ascii_digit() || (i == 0 && ch == '-')))
            .map(|(i, _)| i)
            .unwrap_or(text.len());
        let (num, unit) = text.split_at(digits_end);
        let Some(n) = crate::policy::resolve::vars::parse_c_int(num) else {
            bad(self);
            return;
        };
        match name {
            "cpu" | "rttime" => {
                if n < 0 {
                    return bad(self);
                }
                let mult = if unit.is_empty() {
                    Some(if name == "cpu" { 1_000_000 } else { 1 })
                } else {
                    time_unit_us(unit)
                };
                let Some(m) = mult else {
                    return bad(self);
                };
                if name == "cpu" && n != 0 && (n as u64).saturating_mul(m) < 1_000_000 {
                    self.error(
                        codes::RLIMIT,
                        r.value.span,
                        format!("RLIMIT '{name}' {text} < minimum value of 1s"),
                    );
                }
            }
            "nice" => {
                if !unit.is_empty() {
                    return bad(self);
                }
                if !(-20..=19).contains(&n) {
                    self.error(
                        codes::RLIMIT,
                        r.value.span,
                        format!("RLIMIT '{name}' out of range (-20 .. 19) {n}"),
                    );
                }
            }
            "nofile" | "ofile" | "nproc" | "locks" | "sigpending" | "rtprio" => {
                if n < 0 || !unit.is_empty() {
                    bad(self);
                }
            }
            _ => {
                let unit_ok =
                    unit.is_empty() || ["KB", "MB", "GB"].iter().any(|u| u.starts_with(unit));
                if n < 0 || !unit_ok {
                    bad(self);
                }
            }
        }
    }
}
