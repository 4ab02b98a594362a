//! Release gating: constructs the target parser release does not know.
//!
//! [`CheckOptions::version`](super::CheckOptions::version) names the release
//! line being checked for. A construct introduced by a newer release is an
//! error with a `V`-prefixed code naming that release (`V41xx`: introduced
//! by 4.x, `V50xx`: by 5.0); see the [`codes`](super::codes) module.
//! Everything else (the rule-local and merged-rule checks) follows the
//! newest language, except where a release relaxed a check (merged exec
//! rules) or tightened one (mount option conflicts): those look at the
//! target version where they are made.

use super::rules::perm_words;
use super::{Checker, codes};
use crate::diag::Span;
use crate::policy::ParserVersion;
use crate::policy::ast::*;
use crate::policy::resolve::{Construct, Use};

/// Profile flags 3.0 knows (any other flag needs 4.x or 5.0).
const FLAGS_3_0: &[&str] = &[
    "enforce",
    "complain",
    "kill",
    "unconfined",
    "audit",
    "mediate_deleted",
    "delegate_deleted",
    "attach_disconnected",
    "no_attach_disconnected",
    "chroot_relative",
    "namespace_relative",
    "chroot_attach",
    "chroot_no_attach",
];

/// Mount options that 4.x added to 3.0's table.
pub(super) const MOUNT_OPTIONS_4: &[&str] = &[
    "nostrictatime",
    "lazytime",
    "nolazytime",
    "symfollow",
    "nosymfollow",
];

/// Signal names 5.0 added (older releases spell the same signals `stp`
/// and `io`).
const NEWER_SIGNAL_NAMES: &[&str] = &["tstp", "poll"];

/// Why release `version` of apparmor_parser would reject `entry` as a
/// construct it does not know yet (the message of the `V`-coded error
/// `aactl check --parser-version` gives, such as "the `userns` rule needs
/// AppArmor 4.1 or later; apparmor_parser 3.0 rejects it"), or `None` when that release knows
/// every construct in it. Other problems of the rule are not looked at.
/// Writers use it to emit only what the target release accepts.
pub fn needs_newer(entry: &RuleEntry, version: ParserVersion) -> Option<String> {
    let opts = super::CheckOptions {
        features: None,
        werror: false,
        version,
    };
    let mut c = Checker {
        opts: &opts,
        vars: None,
        aliases: Default::default(),
        diags: Vec::new(),
    };
    c.release_rule(&entry.quals, &entry.rule, entry.span);
    c.diags.into_iter().next().map(|d| d.message)
}

impl Checker<'_> {
    /// The target release line.
    pub(super) fn target(&self) -> ParserVersion {
        self.opts.version
    }

    /// True (and an error is reported) when `what`, introduced by
    /// `introduced`, is newer than the target release.
    pub(super) fn needs(
        &mut self,
        introduced: ParserVersion,
        code: &'static str,
        span: Span,
        what: &str,
    ) -> bool {
        let target = self.target();
        if target >= introduced {
            return false;
        }
        self.error(
            code,
            span,
            format!(
                "{what} needs AppArmor {} or later; apparmor_parser {} rejects it",
                introduced.as_str(),
                target.as_str()
            ),
        );
        true
    }

    /// Release gates of one rule; true when the rule uses something the
    /// target release does not know (its other checks are then skipped).
    pub(super) fn release_rule(&mut self, q: &Qualifiers, rule: &Rule, span: Span) -> bool {
        use ParserVersion::V4_1;
        if self.target() >= ParserVersion::V5_0 {
            return false;
        }
        let own =
            q.span.end > q.span.start && q.span.file == span.file && q.span.start >= span.start;
        let qspan = if own { q.span } else { span };
        if q.priority.is_some() && self.needs(V4_1, codes::NEEDS_4_QUALIFIER, qspan, "`priority=`")
        {
            return true;
        }
        if q.access == Some(Access::Prompt)
            && self.needs(
                V4_1,
                codes::NEEDS_4_QUALIFIER,
                qspan,
                "the `prompt` rule prefix",
            )
        {
            return true;
        }
        match rule {
            Rule::All | Rule::Mqueue(_) | Rule::IoUring(_) | Rule::Userns(_) => {
                let what = format!("the `{}` rule", rule.keyword());
                self.needs(V4_1, codes::NEEDS_4_RULE, span, &what)
            }
            Rule::Network(c) => self.release_network(c),
            Rule::Signal(c) => self.release_signal(c),
            Rule::Mount(c) | Rule::Remount(c) | Rule::Umount(c) => {
                self.release_mount(rule, c, span)
            }
            _ => false,
        }
    }

    fn release_network(&mut self, c: &CondRule) -> bool {
        use ParserVersion::{V4_1, V5_0};
        for cond in c.conds() {
            let newer = match cond.name.as_str() {
                "interface" | "label" => true,
                "peer" => matches!(&cond.value, CondValue::Group(g)
                    if g.iter().any(|i| i.name.starts_with("label"))),
                _ => false,
            };
            if newer {
                let what = format!("the network `{}=` conditional", cond.name);
                if self.needs(V5_0, codes::NEEDS_5_NETWORK, cond.span, &what) {
                    return true;
                }
            }
        }
        if let Some(w) = perm_words(c).first() {
            if self.needs(V4_1, codes::NEEDS_4_NETWORK, w.span, "network permissions") {
                return true;
            }
        }
        if let Some(cond) = c.conds().next() {
            let what = format!("the network `{}=` conditional", cond.name);
            if self.needs(V4_1, codes::NEEDS_4_NETWORK, cond.span, &what) {
                return true;
            }
        }
        false
    }

    fn release_signal(&mut self, c: &CondRule) -> bool {
        for cond in c.conds().filter(|x| x.name == "set") {
            for w in cond.values() {
                if let Some(name) = NEWER_SIGNAL_NAMES.iter().find(|n| w.text == **n) {
                    let what = format!("the signal name `{name}`");
                    if self.needs(ParserVersion::V5_0, codes::NEEDS_5_SIGNAL, w.span, &what) {
                        return true;
                    }
                }
            }
        }
        false
    }

    fn release_mount(&mut self, rule: &Rule, c: &CondRule, span: Span) -> bool {
        if self.target() >= ParserVersion::V4_1 {
            return false;
        }
        let mut props_only = None;
        for cond in c.conds().filter(|x| x.name.starts_with("option")) {
            for w in cond.values() {
                for o in w.text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if MOUNT_OPTIONS_4.contains(&o) {
                        let what = format!("the mount option `{o}`");
                        self.needs(ParserVersion::V4_1, codes::NEEDS_4_MOUNT, w.span, &what);
                        return true;
                    }
                    let prop = super::tables::MOUNT_PROPAGATION.contains(&o);
                    props_only = Some(props_only.unwrap_or(true) && prop);
                }
            }
        }
        // 3.0 cannot encode a propagation change whose mount point is
        // written as the lone path (without `->`)
        if matches!(rule, Rule::Mount(_))
            && props_only == Some(true)
            && c.target.is_none()
            && c.words().next().is_some()
        {
            return self.needs(
                ParserVersion::V4_1,
                codes::NEEDS_4_MOUNT,
                span,
                "a propagation mount rule naming its mount point without `->`",
            );
        }
        false
    }

    /// Release gates of a profile's flags and identities.
    pub(super) fn release_profile_head(&mut self, p: &Profile) {
        use ParserVersion::{V4_1, V5_0};
        if self.target() >= V5_0 {
            return;
        }
        if !p.identities.is_empty() {
            self.needs(
                V5_0,
                codes::NEEDS_5_IDENTITY,
                p.head_span,
                "`+ identities=`",
            );
        }
        let Some(f) = &p.flags else { return };
        for w in &f.flags {
            let v = w.value();
            let name = v.split_once('=').map_or(v.as_str(), |(n, _)| n);
            let (introduced, code) = if name == "attach_disconnected.ipc" {
                (V5_0, codes::NEEDS_5_FLAG)
            } else if FLAGS_3_0.contains(&name) && !v.contains('=') {
                continue;
            } else if super::tables::FLAGS.contains(&name)
                || matches!(name, "kill.signal" | "error" | "attach_disconnected.path")
            {
                (V4_1, codes::NEEDS_4_FLAG)
            } else {
                // unknown to every release: the flag check reports it
                continue;
            };
            let what = format!("the profile flag `{name}`");
            self.needs(introduced, code, w.span, &what);
        }
    }

    /// Release gates of what resolution met outside rules.
    pub(super) fn release_uses(&mut self, uses: &[Use]) {
        use ParserVersion::{V4_1, V5_0};
        if self.target() >= V5_0 {
            return;
        }
        for u in uses {
            match &u.construct {
                Construct::Assign(op) => {
                    let what = format!("the `{}` assignment", op.as_str());
                    self.needs(V5_0, codes::NEEDS_5_VARIABLE, u.span, &what);
                }
                Construct::AutoVariable(name) => {
                    let what = format!("the automatic variable `@{{{name}}}`");
                    self.needs(V5_0, codes::NEEDS_5_VARIABLE, u.span, &what);
                }
                Construct::AbiName(name) => {
                    let what = format!("`abi <{name}>`");
                    self.needs(V5_0, codes::NEEDS_5_ABI, u.span, &what);
                }
                Construct::Condition(e) => {
                    if let Some(what) = newer_condition(e) {
                        self.needs(V5_0, codes::NEEDS_5_CONDITION, u.span, what);
                    }
                }
                Construct::DefinedUnset(name) if self.target() == V4_1 => {
                    // 4.x rejects the test; 3.0 and 5.0 evaluate it as false
                    let what = format!("`defined {name}` on an unset boolean variable");
                    self.needs(V5_0, codes::NEEDS_5_CONDITION, u.span, &what);
                }
                _ => {}
            }
        }
    }
}

/// What in a condition needs 5.0: `and`/`or`, parentheses, comparisons and
/// the `true`/`false` literals (older releases know a boolean variable,
/// `not` and `defined` only).
fn newer_condition(e: &Expr) -> Option<&'static str> {
    match e {
        Expr::Bool(_) | Expr::Defined { .. } => None,
        Expr::Not(a) => newer_condition(a),
        Expr::And(..) | Expr::Or(..) => Some("`and`/`or` in a condition"),
        Expr::Paren(_) => Some("parentheses in a condition"),
        Expr::Cmp(..) => Some("a comparison in a condition"),
        Expr::Operand(_) => Some("`true`/`false` in a condition"),
    }
}
