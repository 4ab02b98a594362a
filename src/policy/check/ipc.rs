//! Message-passing rule checks: dbus, signal, ptrace and mqueue, plus the
//! shared helper for kinds that take only permissions and known conditionals.

use super::rules::{is_group, perm_words};
use super::tables::*;
use super::{Checker, codes};
use crate::diag::Span;
use crate::policy::ast::*;

impl Checker<'_> {
    pub(super) fn dbus(&mut self, c: &CondRule, span: Span) {
        self.perms_in("dbus", DBUS_PERMS, c);
        self.no_words("dbus", c);
        let conds: Vec<&Cond> = c.conds().collect();
        for cond in &conds {
            if cond.name == "label" {
                self.error(
                    codes::DBUS,
                    cond.span,
                    "dbus rule: 'label' can only be used inside of the \"peer=()\" grouping",
                );
                return;
            }
        }
        let known = ["bus", "path", "interface", "member", "name", "peer"];
        if !self.conds("dbus", &conds, &known, false) {
            return;
        }
        let mut message = false;
        let mut service = false;
        let mut only_bus = true;
        for cond in &conds {
            if cond.name == "peer" {
                message = true;
                only_bus = false;
                let CondValue::Group(g) = &cond.value else {
                    continue;
                };
                let inner: Vec<&Cond> = g.iter().collect();
                // 3.0.8 accepts any dbus conditional inside peer=()
                let inner_known = ["name", "label", "bus", "path", "interface", "member"];
                if !self.conds("dbus", &inner, &inner_known, false) {
                    return;
                }
                for i in inner {
                    if let Some(w) = self.single("dbus", i) {
                        self.glob(&w);
                    }
                }
                continue;
            }
            match cond.name.as_str() {
                "path" | "interface" | "member" => {
                    message = true;
                    only_bus = false;
                }
                "name" => {
                    service = true;
                    only_bus = false;
                }
                _ => {}
            }
            if let Some(w) = self.single("dbus", cond) {
                self.glob(&w);
            }
        }
        if message && service {
            self.error(
                codes::DBUS,
                span,
                "dbus rule contains message conditionals and service conditionals",
            );
            return;
        }
        for w in perm_words(c) {
            let t = w.text.as_str();
            if message && t == "bind" {
                self.error(codes::DBUS, w.span, "dbus rule: invalid access 'bind' with message conditionals (path, interface, member, peer)");
                return;
            }
            if service
                && matches!(
                    t,
                    "send" | "receive" | "read" | "write" | "r" | "w" | "rw" | "wr"
                )
            {
                self.error(codes::DBUS, w.span, "dbus rule: invalid access with service conditional 'name': only 'bind' is allowed");
                return;
            }
            if t == "eavesdrop" && !only_bus {
                self.error(
                    codes::DBUS,
                    w.span,
                    "dbus rule: 'eavesdrop' can only be used with the 'bus' conditional",
                );
                return;
            }
        }
    }

    pub(super) fn signal(&mut self, c: &CondRule, _span: Span) {
        self.perms_in("signal", SIGNAL_PERMS, c);
        self.no_words("signal", c);
        let conds: Vec<&Cond> = c.conds().collect();
        if !self.conds_rep("signal", &conds, &["set", "peer"], false, &["set"]) {
            return;
        }
        for cond in conds {
            match cond.name.as_str() {
                "set" => {
                    for w in cond.values() {
                        let v = w.value();
                        for s in v.split(',').filter(|s| !s.is_empty()) {
                            if s.contains('=') || !is_signal(s) {
                                self.error(
                                    codes::SIGNAL,
                                    w.span,
                                    format!("unknown signal \"{s}\""),
                                );
                                return;
                            }
                        }
                    }
                }
                _ => {
                    if is_group(cond) {
                        self.error(
                            codes::RULE_COND,
                            cond.span,
                            "signal rule: peer must be a label (peer=NAME), not a group",
                        );
                        return;
                    }
                    if let Some(w) = self.single("signal", cond) {
                        self.glob(&w);
                    }
                }
            }
        }
    }

    pub(super) fn ptrace(&mut self, c: &CondRule, _span: Span) {
        // `write` is a ptrace access word the grammar table lacks
        let mut c = c.clone();
        if c.perms.is_none() {
            if let Some(Arg::Word(w)) = c.args.first() {
                if w.text == "write" {
                    let w = w.clone();
                    c.args.remove(0);
                    c.perms = Some(Perms {
                        words: vec![w],
                        paren: false,
                    });
                }
            }
        }
        let c = &c;
        let mut allowed = PTRACE_PERMS.to_vec();
        allowed.push("write");
        self.perms_in("ptrace", &allowed, c);
        self.no_words("ptrace", c);
        let conds: Vec<&Cond> = c.conds().collect();
        if !self.conds("ptrace", &conds, &["peer"], false) {
            return;
        }
        for cond in conds {
            if is_group(cond) {
                self.error(
                    codes::RULE_COND,
                    cond.span,
                    "ptrace rule: peer must be a label (peer=NAME), not a group",
                );
                return;
            }
            if let Some(w) = self.single("ptrace", cond) {
                self.glob(&w);
            }
        }
    }

    pub(super) fn simple_kind(&mut self, kind: &str, perms: &[&str], known: &[&str], c: &CondRule) {
        self.perms_in(kind, perms, c);
        self.no_words(kind, c);
        let conds: Vec<&Cond> = c.conds().collect();
        if !self.conds(kind, &conds, known, false) {
            return;
        }
        for cond in conds {
            if let Some(w) = self.single(kind, cond) {
                self.glob(&w);
            }
        }
    }

    pub(super) fn mqueue(&mut self, c: &CondRule, span: Span) {
        self.perms_in("mqueue", MQUEUE_PERMS, c);
        let conds: Vec<&Cond> = c.conds().collect();
        if !self.conds("mqueue", &conds, &["type", "label"], false) {
            return;
        }
        let mut ty: Option<String> = None;
        for cond in &conds {
            if let Some(w) = self.single("mqueue", cond) {
                if cond.name == "type" {
                    if !matches!(w.text.as_str(), "posix" | "sysv") {
                        self.error(
                            codes::MQUEUE,
                            w.span,
                            format!("mqueue rule: invalid type '{}'", w.text),
                        );
                        return;
                    }
                    ty = Some(w.text.clone());
                } else {
                    self.glob(&w);
                }
            }
        }
        let words: Vec<&Word> = c.words().collect();
        if words.len() > 1 {
            self.error(
                codes::MQUEUE,
                words[1].span,
                "mqueue rule: only one queue name allowed",
            );
            return;
        }
        if let Some(w) = words.first() {
            let v = w.value();
            let name_ty = if v.starts_with('/') || v.starts_with("@{") {
                "posix"
            } else if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                "sysv"
            } else {
                self.error(
                    codes::MQUEUE,
                    w.span,
                    "mqueue rule: message queue names must begin with a / or be a positive integer",
                );
                return;
            };
            if let Some(t) = &ty {
                if t != name_ty {
                    self.error(
                        codes::MQUEUE,
                        w.span,
                        format!(
                            "mqueue rule: queue name '{}' does not match type={t}",
                            w.text
                        ),
                    );
                }
            }
        }
        let _ = span;
    }
}
