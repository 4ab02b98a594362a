//! Network and unix-socket rule checks: families, types, protocols and addresses.

use super::tables::*;
use super::{Checker, codes};
use crate::diag::Span;
use crate::policy::ast::*;

impl Checker<'_> {
    pub(super) fn network(&mut self, c: &CondRule, span: Span) {
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

    pub(super) fn net_addr(&mut self, cond: &Cond) {
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

    pub(super) fn unix(&mut self, c: &CondRule, span: Span) {
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

    pub(super) fn unix_addr(&mut self, cond: &Cond) {
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
}
