//! Rule-specific checks (spec §5.2, §5.5): qualifiers, capability, network,
//! unix, dbus, signal, ptrace, mount family, mqueue, io_uring, userns,
//! change_profile and rlimit.

use super::tables::*;
use super::{Checker, codes};
use crate::diag::Span;
use crate::policy::ast::*;
use std::collections::HashSet;

/// `peer=(label=…)` written where only a flat label is allowed.
fn is_group(c: &Cond) -> bool {
    match &c.value {
        CondValue::Group(_) => true,
        CondValue::List(v) => v.iter().any(|w| !w.quoted && w.text.contains('=')),
        _ => false,
    }
}

fn perm_words(c: &CondRule) -> Vec<&Word> {
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

    fn perms_in(&mut self, kind: &str, allowed: &[&str], c: &CondRule) {
        for w in perm_words(c) {
            if !allowed.contains(&w.text.as_str()) {
                self.error(
                    codes::RULE_PERMS,
                    w.span,
                    format!("{kind} rule: invalid access '{}'", w.text),
                );
            }
        }
    }

    fn no_words(&mut self, kind: &str, c: &CondRule) {
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
    fn conds(&mut self, kind: &str, c: &[&Cond], known: &[&str], in_ok: bool) -> bool {
        self.conds_rep(kind, c, known, in_ok, &[])
    }

    fn conds_rep(
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

    fn single(&mut self, kind: &str, cond: &Cond) -> Option<Word> {
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

    fn glob_values(&mut self, cond: &Cond) {
        match &cond.value {
            CondValue::Single(w) => self.glob(w),
            CondValue::List(v) => v.iter().for_each(|w| self.glob(w)),
            CondValue::Group(g) => g.iter().for_each(|c| self.glob_values(c)),
            CondValue::None => {}
        }
    }

    fn capability(&mut self, names: &[Word]) {
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
                    format!("Invalid capability {n}."),
                );
            }
        }
    }

    fn peer_perms(&mut self, kind: &str, c: &CondRule, has_peer: bool, span: Span) {
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

    fn network(&mut self, c: &CondRule, span: Span) {
        self.perms_in("network", NET_PERMS, c);
        let words: Vec<&Word> = c.words().collect();
        let mut family: Option<&str> = None;
        let mut valid = true;
        match words.as_slice() {
            [] => {}
            [a] => {
                let a = a.text.as_str();
                if NET_FAMILIES.contains(&a) {
                    family = Some(a);
                } else if !NET_TYPES.contains(&a) && !matches!(a, "tcp" | "udp" | "icmp") {
                    valid = false;
                }
            }
            [a, b] => {
                let (a, b) = (a.text.as_str(), b.text.as_str());
                family = Some(a);
                valid = NET_FAMILIES.contains(&a)
                    && (NET_TYPES.contains(&b)
                        || (matches!(b, "tcp" | "udp") && matches!(a, "inet" | "inet6"))
                        || (b == "icmp" && a == "inet"));
            }
            _ => valid = false,
        }
        if !valid {
            let at = words.first().map(|w| w.span).unwrap_or(span);
            self.error(codes::NETWORK, at, "Invalid network entry.");
            return;
        }
        let conds: Vec<&Cond> = c.conds().collect();
        if !self.conds(
            "network",
            &conds,
            &["ip", "port", "interface", "label", "peer"],
            false,
        ) {
            return;
        }
        let mut has_peer = false;
        let mut addr_conds = false;
        for cond in &conds {
            match cond.name.as_str() {
                "ip" | "port" => {
                    addr_conds = true;
                    self.net_addr(cond);
                }
                "interface" | "label" => self.glob_values(cond),
                "peer" => {
                    has_peer = true;
                    addr_conds = true;
                    let CondValue::Group(g) = &cond.value else {
                        self.error(
                            codes::NETWORK,
                            cond.span,
                            "network peer conditional requires a group: peer=(…)",
                        );
                        continue;
                    };
                    let inner: Vec<&Cond> = g.iter().collect();
                    for i in &inner {
                        if i.name == "interface" {
                            self.error(codes::NETWORK, i.span, "interface cannot be set for peer");
                            return;
                        }
                    }
                    if !self.conds("network", &inner, &["ip", "port", "label"], false) {
                        return;
                    }
                    for i in inner {
                        match i.name.as_str() {
                            "ip" | "port" => self.net_addr(i),
                            _ => self.glob_values(i),
                        }
                    }
                }
                _ => {}
            }
        }
        if addr_conds && family.is_some_and(|f| !matches!(f, "inet" | "inet6")) {
            self.error(
                codes::NETWORK,
                span,
                "network family does not support local or peer conditionals",
            );
        }
        self.peer_perms("network", c, has_peer, span);
    }

    fn net_addr(&mut self, cond: &Cond) {
        let Some(w) = self.single("network", cond) else {
            return;
        };
        let v = w.value();
        let ok = if cond.name == "ip" {
            v == "none" || v.parse::<std::net::IpAddr>().is_ok()
        } else {
            let port = |s: &str| {
                !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_digit())
                    && s.parse::<u32>().is_ok_and(|p| p <= 65535)
            };
            match v.split_once('-') {
                None => port(&v),
                Some((a, b)) => {
                    port(a) && port(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok()
                }
            }
        };
        if !ok {
            self.error(
                codes::NETWORK,
                w.span,
                format!("network invalid {}='{}'", cond.name, w.text),
            );
        }
    }

    fn unix(&mut self, c: &CondRule, span: Span) {
        self.perms_in("unix", NET_PERMS, c);
        self.no_words("unix", c);
        let conds: Vec<&Cond> = c.conds().collect();
        for cond in &conds {
            match cond.name.as_str() {
                "protocol" => {
                    self.error(
                        codes::UNIX,
                        cond.span,
                        "unix rule: 'protocol' conditional is not currently supported",
                    );
                    return;
                }
                "label" => {
                    self.error(
                        codes::UNIX,
                        cond.span,
                        "unix rule: 'label' conditional is only valid in the peer expression",
                    );
                    return;
                }
                _ => {}
            }
        }
        if !self.conds("unix", &conds, &["type", "addr", "peer"], false) {
            return;
        }
        let mut has_peer = false;
        for cond in &conds {
            match cond.name.as_str() {
                "type" => {
                    if let Some(w) = self.single("unix", cond) {
                        if !UNIX_TYPES.contains(&w.text.as_str()) {
                            self.error(
                                codes::UNIX,
                                w.span,
                                format!("unix rule: invalid socket type '{}'", w.text),
                            );
                        }
                    }
                }
                "addr" => self.unix_addr(cond),
                "peer" => {
                    has_peer = true;
                    let CondValue::Group(g) = &cond.value else {
                        continue;
                    };
                    let inner: Vec<&Cond> = g.iter().collect();
                    if !self.conds("unix", &inner, &["addr", "label"], false) {
                        return;
                    }
                    for i in inner {
                        if i.name == "addr" {
                            self.unix_addr(i);
                        } else {
                            self.glob_values(i);
                        }
                    }
                }
                _ => {}
            }
        }
        self.peer_perms("unix", c, has_peer, span);
    }

    fn unix_addr(&mut self, cond: &Cond) {
        let Some(w) = self.single("unix", cond) else {
            return;
        };
        let v = w.value();
        if !(v.starts_with('@') || v == "none" || v == "auto" || v.starts_with("@{")) {
            self.error(
                codes::UNIX,
                w.span,
                format!("unix rule: invalid value for addr='{}'", w.text),
            );
            return;
        }
        self.glob(&w);
    }

    fn dbus(&mut self, c: &CondRule, span: Span) {
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

    fn signal(&mut self, c: &CondRule, _span: Span) {
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

    fn ptrace(&mut self, c: &CondRule, _span: Span) {
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

    fn simple_kind(&mut self, kind: &str, perms: &[&str], known: &[&str], c: &CondRule) {
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

    fn mqueue(&mut self, c: &CondRule, span: Span) {
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

    fn mount(&mut self, rule: &Rule, c: &CondRule, span: Span) {
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
                    for (i, (f, v, s)) in flags.iter().enumerate() {
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

    fn pivot_root(&mut self, c: &CondRule) {
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

    fn change_profile(&mut self, c: &ChangeProfileRule, span: Span) {
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

    fn rlimit(&mut self, r: &RlimitRule, span: Span) {
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
