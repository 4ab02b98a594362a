//! A feature set as a file and the difference between two sets: what
//! `aactl features` writes (`-w FILE`) and compares (`--diff A B`).

use super::features::{FeatureNode, Features};
use std::collections::BTreeMap;

impl Features {
    /// The feature ABI file: the text format that `apparmor_parser -M FILE`
    /// (`--features-file`) and [`Features::load`] read. For each entry in byte
    /// order (names starting with `.` skipped), `NAME {` then the children or the
    /// leaf's value ending in one newline, then `}` and a newline. For a set read
    /// from a kernel directory this is exactly [`Features::to_feature_string`]
    /// (every kernel leaf ends in a newline); a set parsed from a file (leaves
    /// trimmed) gets the newline back, so writing, parsing and writing again
    /// gives the same text.
    ///
    /// ```
    /// use apparmor::system::Features;
    /// let f = Features::parse("caps {mask {chown kill}}\ndomain {stack {yes\n}\n}\n").unwrap();
    /// let text = f.to_abi_text();
    /// assert_eq!(text, "caps {mask {chown kill\n}\n}\ndomain {stack {yes\n}\n}\n");
    /// assert_eq!(Features::parse(&text).unwrap(), f);
    /// ```
    pub fn to_abi_text(&self) -> String {
        self.flatten(true)
    }

    /// Every leaf as `path` (`domain/stack`) → value with surrounding
    /// whitespace trimmed, in path order (names starting with `.` skipped).
    pub fn leaves(&self) -> BTreeMap<String, String> {
        fn go(prefix: &str, node: &FeatureNode, out: &mut BTreeMap<String, String>) {
            match node {
                FeatureNode::Value(v) => {
                    out.insert(prefix.to_string(), v.trim().to_string());
                }
                FeatureNode::Dir(d) => {
                    for (name, child) in d {
                        if name.starts_with('.') {
                            continue;
                        }
                        let p = if prefix.is_empty() {
                            name.clone()
                        } else {
                            format!("{prefix}/{name}")
                        };
                        go(&p, child, out);
                    }
                }
            }
        }
        let mut out = BTreeMap::new();
        if let FeatureNode::Dir(_) = &self.root {
            go("", &self.root, &mut out);
        }
        out
    }

    /// What `newer` adds to and removes from `self`, leaf by leaf (an empty
    /// folder counts as nothing). A leaf in both with another value is a
    /// [`ValueChange`]; word lists (`caps/mask`) also say which words came and went.
    pub fn diff(&self, newer: &Features) -> FeaturesDiff {
        let (a, b) = (self.leaves(), newer.leaves());
        let mut d = FeaturesDiff::default();
        for (p, v) in &b {
            match a.get(p) {
                None => d.added.push(p.clone()),
                Some(old) if old != v => {
                    let (ow, nw): (Vec<&str>, Vec<&str>) = (
                        old.split_ascii_whitespace().collect(),
                        v.split_ascii_whitespace().collect(),
                    );
                    d.changed.push(ValueChange {
                        path: p.clone(),
                        before: old.clone(),
                        after: v.clone(),
                        added_words: nw
                            .iter()
                            .filter(|w| !ow.contains(w))
                            .map(|w| w.to_string())
                            .collect(),
                        removed_words: ow
                            .iter()
                            .filter(|w| !nw.contains(w))
                            .map(|w| w.to_string())
                            .collect(),
                    });
                }
                Some(_) => {}
            }
        }
        d.removed = a.keys().filter(|p| !b.contains_key(*p)).cloned().collect();
        d
    }
}

/// The difference between two feature sets ([`Features::diff`]); paths are
/// leaf paths such as `domain/stack`, in byte order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeaturesDiff {
    /// Leaves only the newer set has.
    pub added: Vec<String>,
    /// Leaves only the older set has.
    pub removed: Vec<String>,
    /// Leaves in both whose values differ.
    pub changed: Vec<ValueChange>,
}

impl FeaturesDiff {
    /// True when the sets have the same leaves and values.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// One leaf whose value differs between two feature sets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ValueChange {
    /// Leaf path (`caps/mask`).
    pub path: String,
    /// Older value (trimmed).
    pub before: String,
    /// Newer value (trimmed).
    pub after: String,
    /// Blank-separated words of the newer value missing from the older.
    pub added_words: Vec<String>,
    /// Blank-separated words of the older value missing from the newer.
    pub removed_words: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_leaves_and_words() {
        let a = Features::parse("caps {mask {chown kill\n}\n}\nfile {mask {r w\n}\n}\n").unwrap();
        let b =
            Features::parse("caps {mask {chown bpf\n}\n}\nio_uring {sqpoll {yes\n}\n}\n").unwrap();
        let d = a.diff(&b);
        assert_eq!(d.added, ["io_uring/sqpoll"]);
        assert_eq!(d.removed, ["file/mask"]);
        assert_eq!(d.changed[0].added_words, ["bpf"]);
        assert_eq!(d.changed[0].removed_words, ["kill"]);
        assert!(a.diff(&a).is_empty());
        let again = Features::parse(&a.to_abi_text()).unwrap();
        assert_eq!(again, a);
        assert_eq!(again.to_abi_text(), a.to_abi_text());
    }
}
