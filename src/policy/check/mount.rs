//! Mount-family rule checks: mount, remount, umount and pivot_root.

use super::tables::*;
use super::{Checker, codes};
use crate::diag::Span;
use crate::policy::ParserVersion;
use crate::policy::ast::*;

impl Checker<'_> {
    pub(super) fn mount(&mut self, rule: &Rule, c: &CondRule, span: Span) {
        let kind = rule.keyword();
        if let Some(p) = &c.perms {
            if let Some(w) = p.words.first() {
                self.error(
                    codes::MOUNT,
                    w.span,
                    format!("{kind} rule: unexpected '{}'", w.text),
                );
                return;
            }
        }
        let conds: Vec<&Cond> = c.conds().collect();
        let known = ["fstype", "vfstype", "options", "option"];
        let mut props_only_eq = false;
        let mut remount_eq = false;
        let mut any_eq_opts = false;
        for cond in &conds {
            if !known.contains(&cond.name.as_str()) {
                self.error(
                    codes::MOUNT,
                    cond.span,
                    format!("{kind} rule: unsupported mount condition '{}'", cond.name),
                );
                return;
            }
            if !matches!(cond.op, CondOp::Eq | CondOp::In) {
                self.error(
                    codes::MOUNT,
                    cond.span,
                    "only \"=\" and 'in' allowed in mount conditionals",
                );
                return;
            }
            if matches!(cond.value, CondValue::None | CondValue::Group(_)) {
                self.error(
                    codes::MOUNT,
                    cond.span,
                    format!("{kind} rule: invalid mount conditional '{}'", cond.name),
                );
                return;
            }
            if cond.name.starts_with("option") {
                // without parentheses the value is one option: `options=ro,noexec`
                // names an option called "ro,noexec"
                if let CondValue::Single(w) = &cond.value {
                    if w.text.contains(',') {
                        self.error(
                            codes::MOUNT,
                            w.span,
                            format!("unsupported mount option value '{}'", w.value()),
                        );
                        return;
                    }
                }
                let mut flags: Vec<(&str, bool, Span)> = Vec::new();
                let mut all_prop = true;
                for w in cond.values() {
                    for o in w.text.split(',').filter(|s| !s.is_empty()) {
                        if !is_mount_option(o) {
                            self.error(
                                codes::MOUNT,
                                w.span,
                                format!("unsupported mount option value '{o}'"),
                            );
                            return;
                        }
                        if !MOUNT_PROPAGATION.contains(&o) {
                            all_prop = false;
                        }
                        if let Some((f, v)) = mount_flag(o) {
                            flags.push((f, v, w.span));
                        }
                    }
                }
                if cond.op == CondOp::Eq {
                    any_eq_opts = true;
                    remount_eq |= cond
                        .values()
                        .iter()
                        .any(|w| w.text.split(',').any(|o| o == "remount"));
                    props_only_eq |= all_prop && !cond.values().is_empty();
                    // 3.0 let conflicting options through
                    let check_conflicts = self.opts.version >= ParserVersion::V4_1;
                    for (i, (f, v, s)) in flags.iter().enumerate().filter(|_| check_conflicts) {
                        if flags[..i].iter().any(|(g, u, _)| g == f && u != v) {
                            self.error(
                                codes::MOUNT,
                                *s,
                                format!("{kind} rule: conflicting flags in the rule"),
                            );
                            return;
                        }
                    }
                }
            } else {
                for w in cond.values() {
                    self.glob(w);
                }
            }
        }
        if let Some(t) = &c.target {
            if let Some(cond) = conds.iter().find(|x| x.span.start > t.span.start) {
                self.error(
                    codes::MOUNT,
                    cond.span,
                    format!("{kind} rule: mount point conditions not currently supported"),
                );
                return;
            }
        }
        let words: Vec<&Word> = c.words().collect();
        for w in &words {
            self.glob(w);
        }
        if let Some(t) = &c.target {
            self.glob(t);
        }
        if matches!(rule, Rule::Mount(_))
            && props_only_eq
            && any_eq_opts
            && !words.is_empty()
            && c.target.is_some()
        {
            self.error(
                codes::MOUNT,
                span,
                "mount rule: propagation type options (shared, slave, private, unbindable) cannot be used with a mount source",
            );
        }
        if matches!(rule, Rule::Mount(_)) && remount_eq && !words.is_empty() {
            self.error(
                codes::MOUNT,
                words[0].span,
                "mount rule: 'remount' cannot be used with a mount source",
            );
        }
        if words.len() > 1 {
            self.error(
                codes::MOUNT,
                words[1].span,
                format!("{kind} rule: unexpected '{}'", words[1].text),
            );
        }
    }

    pub(super) fn pivot_root(&mut self, c: &CondRule) {
        for cond in c.conds() {
            if cond.name != "oldroot" {
                self.error(codes::MOUNT, cond.span, "invalid pivotroot conditional");
                return;
            }
        }
        for w in c.words() {
            self.glob(w);
        }
    }
}
