//! Profile-level checks (`S03xx`): names and namespaces, attachments,
//! flags, xattrs on hats, identities and duplicate definitions.

use super::tables::*;
use super::{Checker, codes};
use crate::policy::ast::*;
use crate::policy::resolve::ResolvedProfile;

impl Checker<'_> {
    /// Checks of one profile head as written.
    pub(super) fn profile_head(&mut self, p: &Profile) {
        self.profile_name(p);
        if let Some(a) = &p.attachment {
            let v = a.value();
            if !(v.starts_with('/') || a.text.starts_with("@{")) {
                self.error(
                    codes::PROFILE_NAME,
                    a.span,
                    "Profile attachment must begin with a '/' or variable.",
                );
            } else {
                self.glob(a);
            }
        }
        if p.is_hat() && p.xattrs.is_some() {
            self.error(
                codes::PROFILE_HEAD,
                p.head_span,
                "hat profiles can't use xattrs matches",
            );
        }
        for ids in &p.identities {
            if ids.is_empty() {
                self.error(
                    codes::PROFILE_HEAD,
                    p.head_span,
                    "syntax error: empty identities list",
                );
            }
            for w in ids {
                let v = w.value();
                if v.contains(' ') && !v.starts_with('/') {
                    self.error(
                        codes::PROFILE_HEAD,
                        w.span,
                        "Space character not allowed in identities",
                    );
                }
            }
        }
        if let Some(f) = &p.flags {
            self.flags(f);
        }
    }

    fn profile_name(&mut self, p: &Profile) {
        let n = &p.name;
        if let Some(vars) = self.vars {
            for r in crate::policy::resolve::Variables::references(&n.text) {
                let builtin = matches!(r.as_str(), "profile_name" | "attach_path" | "exec_path");
                if !builtin && !vars.is_set(&r) {
                    self.error(
                        codes::PROFILE_NAME,
                        n.span,
                        format!("Failed to find declaration for: @{{{r}}}"),
                    );
                }
            }
        }
        for builtin in ["profile_name"] {
            if n.text.contains(&format!("@{{{builtin}}}")) {
                self.error(
                    codes::PROFILE_NAME,
                    n.span,
                    format!("Failed to find declaration for: @{{{builtin}}} (not defined in a profile name)"),
                );
            }
        }
        let v = n.value();
        if let Some(rest) = v.strip_prefix(':') {
            match rest.find(':') {
                None => self.error(codes::PROFILE_NAME, n.span, "Namespace not terminated"),
                Some(0) => self.error(codes::PROFILE_NAME, n.span, "Empty namespace"),
                Some(i) => {
                    let name = rest[i + 1..].trim_start_matches("//");
                    if name.is_empty() {
                        self.error(
                            codes::PROFILE_NAME,
                            n.span,
                            "Empty profile name after namespace",
                        );
                    }
                }
            }
        }
    }

    fn flags(&mut self, f: &Flags) {
        if f.flags.is_empty() {
            self.error(codes::FLAG, f.span, "syntax error: empty flags list");
            return;
        }
        let mut modes: Vec<(&str, &Word)> = Vec::new();
        let mut plain: Vec<(String, &Word)> = Vec::new();
        let mut values: Vec<(String, String, &Word)> = Vec::new();
        for w in &f.flags {
            let v = w.value();
            if let Some((name, val)) = v.split_once('=') {
                match name {
                    "kill.signal" => {
                        if !is_signal(val) {
                            self.error(
                                codes::FLAG,
                                w.span,
                                format!("unknown signal specified for kill.signal='{val}'"),
                            );
                            continue;
                        }
                    }
                    "error" => {
                        if !ERRNOS.contains(&val.to_ascii_uppercase().as_str()) {
                            self.error(
                                codes::FLAG,
                                w.span,
                                format!("unknown error code specified for error='{val}'"),
                            );
                            continue;
                        }
                    }
                    "attach_disconnected.path" | "attach_disconnected.ipc" => {
                        let exp = self
                            .vars
                            .and_then(|vars| vars.expand(val).ok())
                            .unwrap_or_else(|| val.to_string());
                        let first = exp.trim_start_matches('{');
                        if !first.starts_with('/') {
                            self.error(codes::FLAG, w.span, format!("{name} must begin with a /"));
                            continue;
                        }
                        if name == "attach_disconnected.ipc" {
                            plain.push(("attach_disconnected.ipc".into(), w));
                        }
                    }
                    _ => {
                        self.error(codes::FLAG, w.span, format!("Invalid profile flag: {v}."));
                        continue;
                    }
                }
                if let Some((_, prev, pw)) = values.iter().find(|(n, _, _)| n == name) {
                    if prev != val {
                        let _ = pw;
                        self.error(
                            codes::FLAG_CONFLICT,
                            w.span,
                            format!(
                                "Profile flag '{name}' conflicts with a different {name}= value"
                            ),
                        );
                    }
                    continue;
                }
                values.push((name.to_string(), val.to_string(), w));
                continue;
            }
            if !FLAGS.contains(&v.as_str()) {
                self.error(codes::FLAG, w.span, format!("Invalid profile flag: {v}."));
                continue;
            }
            if let Some(m) = MODE_FLAGS.iter().find(|m| **m == v) {
                if let Some((prev, _)) = modes.iter().find(|(p, _)| p != m) {
                    self.error(
                        codes::FLAG_CONFLICT,
                        w.span,
                        format!("Profile flag '{m}' conflicts with '{prev}'"),
                    );
                    continue;
                }
                modes.push((m, w));
            }
            plain.push((v, w));
        }
        for (a, b) in FLAG_CONFLICTS {
            let wa = plain.iter().find(|(n, _)| n == a);
            let wb = plain.iter().find(|(n, _)| n == b);
            if let (Some(_), Some((_, w))) = (wa, wb) {
                self.error(
                    codes::FLAG_CONFLICT,
                    w.span,
                    format!("Profile flag '{b}' conflicts with '{a}'"),
                );
            }
        }
    }

    /// Top-level profile definitions of a file: duplicates.
    pub(super) fn top_profiles(&mut self, profiles: &[ResolvedProfile]) {
        self.duplicates(profiles, "");
    }

    /// Duplicate names among siblings.
    pub(super) fn duplicates(&mut self, sibs: &[ResolvedProfile], parent: &str) {
        for (i, p) in sibs.iter().enumerate() {
            if sibs[..i].iter().any(|q| q.name == p.name) {
                let msg = if parent.is_empty() {
                    format!("Multiple definitions for profile {} exist", p.name)
                } else {
                    let own = p.name.rsplit("//").next().unwrap_or(&p.name);
                    format!("Multiple definitions for hat {own} in profile {parent} exist")
                };
                self.error(codes::DUPLICATE_PROFILE, p.span, msg);
            }
        }
    }
}
