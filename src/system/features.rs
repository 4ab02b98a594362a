//! The kernel's feature set: a tree of named directories and leaf values, as
//! the kernel publishes it under `securityfs/apparmor/features` and as
//! apparmor_parser reads it from a features file (`-M FILE`, the nested
//! `name {value}` text) or a copied directory. [`System::features`](super::System::features)
//! reads the running kernel's; [`Features::load`] reads a file or directory given
//! on the command line. Both give the same [`Features`].

use std::collections::BTreeMap;
use std::path::Path;

/// The network feature directories, oldest first.
const NETWORK_FEATURES: [&str; 3] = ["network", "network_v8", "network_v9"];

/// A node of the `features/` tree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum FeatureNode {
    /// A leaf's text: a file's content verbatim when read from a directory
    /// (normally one value and `\n`), trimmed when parsed from the text format.
    Value(String),
    /// A directory: entries by name (byte order, like `alphasort` in the C locale).
    Dir(BTreeMap<String, FeatureNode>),
}

/// A kernel feature set: the running kernel's ([`System::features`](super::System::features))
/// or one read from a features file or directory ([`Features::load`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Features {
    /// The tree; a [`FeatureNode::Value`] when `features` is a file that already holds a
    /// flattened feature string.
    pub root: FeatureNode,
}

impl Features {
    /// The flattened feature string libapparmor builds (the format of
    /// `/usr/share/apparmor-features/features`): for each entry in byte order, skipping names
    /// starting with `.`, `NAME {` then the leaf's text or the children, then `}\n`.
    pub fn to_feature_string(&self) -> String {
        self.flatten(false)
    }

    /// The flattened text of [`Features::to_feature_string`]; with
    /// `leaf_newline` every leaf's value ends in a newline (the ABI file of
    /// [`Features::to_abi_text`]).
    pub(super) fn flatten(&self, leaf_newline: bool) -> String {
        fn go(map: &BTreeMap<String, FeatureNode>, nl: bool, out: &mut String) {
            for (name, node) in map {
                if name.starts_with('.') {
                    continue;
                }
                out.push_str(name);
                out.push_str(" {");
                match node {
                    FeatureNode::Value(v) => {
                        out.push_str(v);
                        if nl && !v.ends_with('\n') {
                            out.push('\n');
                        }
                    }
                    FeatureNode::Dir(d) => go(d, nl, out),
                }
                out.push_str("}\n");
            }
        }
        match &self.root {
            FeatureNode::Value(v) => v.clone(),
            FeatureNode::Dir(d) => {
                let mut s = String::new();
                go(d, leaf_newline, &mut s);
                s
            }
        }
    }

    /// The node at `path` (`domain/stack`), if the tree has it.
    pub fn get(&self, path: &str) -> Option<&FeatureNode> {
        let mut node = &self.root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            match node {
                FeatureNode::Dir(d) => node = d.get(part)?,
                FeatureNode::Value(_) => return None,
            }
        }
        Some(node)
    }

    /// True when the feature exists (its value is not checked), like `aa_features_supports`.
    pub fn supports(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// A leaf's value with surrounding whitespace trimmed (`domain/version` → `1.2`).
    pub fn value(&self, path: &str) -> Option<&str> {
        match self.get(path)? {
            FeatureNode::Value(v) => Some(v.trim()),
            FeatureNode::Dir(_) => None,
        }
    }

    /// Parses the text format (`name {child {value\n}\n}` …).
    pub fn parse(text: &str) -> Result<Features, FeaturesError> {
        let b = text.as_bytes();
        let mut pos = 0;
        let root = parse_dir(b, &mut pos, 0)?;
        Ok(Features { root })
    }

    /// Reads a features file, or a features directory (each file a leaf).
    ///
    /// # Errors
    /// [`FeaturesError::Io`] naming the file or directory entry that could
    /// not be read (missing, not a regular file, over 64 KiB in a directory);
    /// [`FeaturesError::File`] when a features file's text is not valid.
    pub fn load(path: &Path) -> Result<Features, FeaturesError> {
        let io = |source| FeaturesError::Io {
            path: path.to_path_buf(),
            source,
        };
        let md = std::fs::metadata(path).map_err(io)?;
        if md.is_dir() {
            Ok(Features {
                root: load_dir(path, 0)?,
            })
        } else {
            // A regular file only (a FIFO or /dev/zero is refused), size capped.
            let t = crate::system::fs::read_limited(
                Path::new("/"),
                path,
                crate::system::fs::limits::POLICY_FILE,
            )
            .map_err(io)?;
            Features::parse(&String::from_utf8_lossy(&t)).map_err(|e| FeaturesError::File {
                path: path.to_path_buf(),
                source: Box::new(e),
            })
        }
    }

    /// True when the kernel announces the feature at `path`: the entry exists,
    /// or its folder's `mask` file lists the last component as a word. Linux
    /// 6.12 and later announce user-namespace mediation as `namespaces/mask`
    /// holding `userns_create`, with no `namespaces/userns_create` entry, so
    /// `announces("namespaces/userns_create")` is true on either form.
    pub fn announces(&self, path: &str) -> bool {
        let path = path.trim_matches('/');
        if self.get(path).is_some() {
            return true;
        }
        path.rsplit_once('/').is_some_and(|(dir, word)| {
            word != "mask"
                && match self.get(&format!("{dir}/mask")) {
                    Some(FeatureNode::Value(v)) => v.split_whitespace().any(|w| w == word),
                    _ => false,
                }
        })
    }

    /// True when the feature at `path` exists, counting the later versions of a
    /// feature as apparmor_parser 3.0.8 does: `network` is provided by `network`,
    /// `network_v8` (Linux 5.x–6.x kernels) or `network_v9`; and `network/af_unix`
    /// (extended unix rules) is also met by any network feature, as the parser then
    /// downgrades a `unix` rule to a generic network rule and does not warn that
    /// it is not enforced. (pivot_root rules are checked against `mount` by
    /// `policy::check`.)
    pub fn has(&self, path: &str) -> bool {
        let path = path.trim_matches('/');
        if self.announces(path) {
            return true;
        }
        let any_network = || NETWORK_FEATURES.iter().any(|n| self.get(n).is_some());
        match path {
            "network" | "network/af_unix" => any_network(),
            _ => false,
        }
    }

    /// The whitespace-separated words of the leaf at `path` (empty if absent).
    pub fn words(&self, path: &str) -> Vec<&str> {
        match self.get(path) {
            Some(FeatureNode::Value(v)) => v.split_whitespace().collect(),
            _ => Vec::new(),
        }
    }
}

/// Why a feature set could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeaturesError {
    /// The file or directory could not be read.
    #[error("could not read features {}: {source}", path.display())]
    Io {
        /// The path given.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The features file at `path` is not valid ([`FeaturesError::Malformed`]
    /// or [`FeaturesError::Limit`]).
    #[error("{}", path.display())]
    File {
        /// The file given.
        path: std::path::PathBuf,
        /// What is wrong with its text.
        #[source]
        source: Box<FeaturesError>,
    },
    /// The text is not a features file (unbalanced braces).
    #[error("malformed features file at byte {offset}")]
    Malformed {
        /// Byte offset of the problem.
        offset: usize,
    },
    /// The text nests deeper than 32 levels, or has an entry
    /// longer than a kernel's feature files ever are (64 KiB): no kernel
    /// writes such a set, and reading it would take the stack or the time of
    /// every check.
    #[error("features file beyond limits at byte {offset}: {what}")]
    Limit {
        /// Byte offset of the problem.
        offset: usize,
        /// Which limit (`nested more than 32 levels`).
        what: &'static str,
    },
}

/// Reads a features directory; an error names the entry that could not be read.
fn load_dir(path: &Path, depth: usize) -> Result<FeatureNode, FeaturesError> {
    let mut m = BTreeMap::new();
    if depth > 16 {
        return Ok(FeatureNode::Dir(m));
    }
    use crate::system::fs;
    let host = Path::new("/");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| FeaturesError::Io { path: p, source }
    };
    for e in fs::read_dir(host, path).map_err(io(path))? {
        let name = e.name.to_string_lossy().into_owned();
        let p = path.join(&e.name);
        // The kernel's tree has no links; one in a copy is not followed (a loop).
        let node = match e.kind {
            Some(fs::EntryKind::Dir) => load_dir(&p, depth + 1)?,
            Some(fs::EntryKind::Symlink) => continue,
            _ => FeatureNode::Value(
                String::from_utf8_lossy(
                    &fs::read_limited(host, &p, fs::limits::FEATURE_ENTRY).map_err(io(&p))?,
                )
                .into_owned(),
            ),
        };
        m.insert(name, node);
    }
    Ok(FeatureNode::Dir(m))
}

/// Deepest nesting of the text form (a kernel's set is about 4 levels deep).
const MAX_TEXT_DEPTH: usize = 32;

/// Parses `name {…}` entries until `}` (when `depth` > 0) or the end.
fn parse_dir(b: &[u8], pos: &mut usize, depth: usize) -> Result<FeatureNode, FeaturesError> {
    let nested = depth > 0;
    if depth > MAX_TEXT_DEPTH {
        return Err(FeaturesError::Limit {
            offset: *pos,
            what: "nested more than 32 levels",
        });
    }
    let mut m = BTreeMap::new();
    loop {
        while *pos < b.len() && b[*pos].is_ascii_whitespace() {
            *pos += 1;
        }
        if *pos >= b.len() {
            if nested {
                return Err(FeaturesError::Malformed { offset: *pos });
            }
            return Ok(FeatureNode::Dir(m));
        }
        if b[*pos] == b'}' {
            if !nested {
                return Err(FeaturesError::Malformed { offset: *pos });
            }
            *pos += 1;
            return Ok(FeatureNode::Dir(m));
        }
        let start = *pos;
        while *pos < b.len() && b[*pos] != b'{' && !b[*pos].is_ascii_whitespace() {
            *pos += 1;
        }
        let name = String::from_utf8_lossy(&b[start..*pos]).into_owned();
        while *pos < b.len() && b[*pos].is_ascii_whitespace() {
            *pos += 1;
        }
        if *pos >= b.len() || b[*pos] != b'{' {
            return Err(FeaturesError::Malformed { offset: *pos });
        }
        *pos += 1;
        // a leaf when the content has no `{` before its closing `}`
        let rest = &b[*pos..];
        let close = rest.iter().position(|&c| c == b'}');
        let open = rest.iter().position(|&c| c == b'{');
        let node = match (close, open) {
            (Some(c), o) if o.is_none_or(|o| o > c) => {
                if c as u64 > crate::system::fs::limits::FEATURE_ENTRY {
                    return Err(FeaturesError::Limit {
                        offset: *pos,
                        what: "an entry longer than 64 KiB",
                    });
                }
                let v = String::from_utf8_lossy(&rest[..c]).trim().to_string();
                *pos += c + 1;
                FeatureNode::Value(v)
            }
            (None, _) => return Err(FeaturesError::Malformed { offset: *pos }),
            _ => parse_dir(b, pos, depth + 1)?,
        };
        m.insert(name, node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_features_text() {
        let f = Features::parse("caps {mask {chown kill\n}\n}\nnamespaces {profile {yes\n}\n}\n")
            .unwrap();
        assert_eq!(f.words("caps/mask"), vec!["chown", "kill"]);
        assert!(f.has("namespaces/profile"));
        assert!(!f.has("mount"));
        assert!(Features::parse("caps {mask {x").is_err());
    }

    #[test]
    fn network_v8_and_v9_provide_network() {
        for v in ["network", "network_v8", "network_v9"] {
            let f = Features::parse(&format!("{v} {{af_mask {{inet\n}}\n}}\n")).unwrap();
            assert!(f.has("network"), "{v}");
            assert!(f.has("network/af_unix"), "{v}: unix rules downgrade");
        }
        let f = Features::parse("mount {mask {mount\n}\n}\n").unwrap();
        assert!(!f.has("network"));
        assert!(!f.has("network/af_unix"));
        assert!(!f.has("network_v8"));
    }

    #[test]
    fn mask_words_announce_features() {
        // Linux 6.12+: userns mediation is a word of namespaces/mask
        let f =
            Features::parse("namespaces {mask {userns_create\n}\npivot_root {no\n}\n}\n").unwrap();
        assert!(f.announces("namespaces/userns_create"));
        assert!(f.has("namespaces/userns_create"));
        assert!(!f.announces("namespaces/other"));
        assert!(!f.announces("caps/mask/x"));
        let old = Features::parse("namespaces {userns_create {yes\n}\n}\n").unwrap();
        assert!(old.announces("namespaces/userns_create"));
    }

    #[test]
    fn text_beyond_limits_is_an_error() {
        let nested = |n: usize| format!("{}x{}", "a {".repeat(n), "}".repeat(n));
        assert!(Features::parse(&nested(10)).is_ok());
        assert!(matches!(
            Features::parse(&nested(40)),
            Err(FeaturesError::Limit { .. })
        ));
        // deep enough to overflow the stack if nesting were not bounded
        assert!(Features::parse(&"a {".repeat(1_000_000)).is_err());
        // a mask longer than any kernel file: refused, not scanned on every check
        let long = format!("m {{mask {{{}}}\n}}\n", "w ".repeat(40_000));
        assert!(matches!(
            Features::parse(&long),
            Err(FeaturesError::Limit { .. })
        ));
    }

    #[test]
    fn load_names_the_entry_it_cannot_read() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("features");
        std::fs::create_dir_all(d.join("namespaces")).unwrap();
        std::fs::write(d.join("namespaces/mask"), "userns_create\n").unwrap();
        assert!(
            Features::load(&d)
                .unwrap()
                .announces("namespaces/userns_create")
        );
        let mask = d.join("namespaces/mask");
        std::fs::remove_file(&mask).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &mask,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        match Features::load(&d) {
            Err(FeaturesError::Io { path, .. }) => assert_eq!(path, mask),
            other => panic!("{other:?}"),
        }
        let file = t.path().join("f");
        std::fs::write(&file, "a {").unwrap();
        let e = Features::load(&file).unwrap_err();
        assert_eq!(
            crate::error::chain(&e),
            format!("{}: malformed features file at byte 3", file.display())
        );
    }

    #[test]
    fn feature_string() {
        let mut dom = BTreeMap::new();
        dom.insert("stack".to_owned(), FeatureNode::Value("yes\n".into()));
        dom.insert("version".to_owned(), FeatureNode::Value("1.2\n".into()));
        let mut top = BTreeMap::new();
        top.insert("domain".to_owned(), FeatureNode::Dir(dom));
        top.insert("caps".to_owned(), FeatureNode::Dir(BTreeMap::new()));
        top.insert(".hidden".to_owned(), FeatureNode::Value("x\n".into()));
        let f = Features {
            root: FeatureNode::Dir(top),
        };
        assert_eq!(
            f.to_feature_string(),
            "caps {}\ndomain {stack {yes\n}\nversion {1.2\n}\n}\n"
        );
        assert!(f.supports("domain/stack"));
        assert!(!f.supports("domain/nope"));
        assert_eq!(f.value("domain/version"), Some("1.2"));
    }
}
