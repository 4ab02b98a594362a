//! AppArmor labels and modes (label syntax: docs/runtime.md).
//!
//! A *label* is what the kernel prints for a task's confinement (`/proc/PID/attr/current`),
//! for each line of `securityfs/apparmor/profiles`, and in audit records:
//!
//! | text | meaning |
//! | --- | --- |
//! | `unconfined` | no confinement (no mode suffix) |
//! | `/usr/bin/foo (enforce)` | one profile, with the label's mode |
//! | `apache2//phpsysinfo (complain)` | a hat or child profile: `parent//child` |
//! | `a//&b (mixed)` | a stack of two profiles; `mixed` when their modes differ |
//! | `:ns:name (enforce)` | a profile in policy namespace `ns` (relative to the reader) |
//! | `:ns1//ns2:deep (enforce)` | nested namespaces are joined by `//` |
//! | `:ns://name` | the namespace-qualified form accepted by `.remove` |
//! | `lxc//&:ns:a//&b` | stack mixing namespaces: a prefix applies to the following components |
//!
//! [`Label`] keeps the label text exactly as the kernel printed it (so [`Display`](std::fmt::Display)
//! round-trips byte for byte) and splits it into [`Component`]s on demand. [`Mode`] is the
//! mode word; `user` (the kernel's word for prompt mode) reads as [`Mode::Prompt`], and an
//! unknown word is kept as [`Mode::Unknown`] so that nothing is dropped or miscounted.
//!
//! This module does no I/O. The rules follow libapparmor's `aa_splitcon` and the kernel's
//! `aa_label_snxprint` as described in the spec.

use std::fmt;

/// The mode of a profile or of a whole label.
///
/// Ordered as aa-status (upstream 6.0) lists its sections: enforce, complain, prompt, kill,
/// unconfined, mixed, then unknown words in byte order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// `enforce`: rules are enforced, denials are logged.
    Enforce,
    /// `complain`: nothing is denied, would-be denials are logged.
    Complain,
    /// `prompt` (printed `user` by 6.x kernels): denials are sent to a user-space prompter.
    Prompt,
    /// `kill`: a denial kills the task.
    Kill,
    /// `unconfined`: the profile is loaded in unconfined mode.
    Unconfined,
    /// `mixed`: a stacked label whose profiles are in different modes.
    Mixed,
    /// Any other word (a newer kernel, or `-` from the kernel's corner case), kept verbatim.
    Unknown(String),
}

impl Mode {
    /// Reads a mode word as the kernel or aa-status prints it. `user` and `prompt` both give
    /// [`Mode::Prompt`]; anything unrecognised is kept in [`Mode::Unknown`]. Never fails.
    pub fn from_word(word: &str) -> Mode {
        match word {
            "enforce" => Mode::Enforce,
            "complain" => Mode::Complain,
            "prompt" | "user" => Mode::Prompt,
            "kill" => Mode::Kill,
            "unconfined" => Mode::Unconfined,
            "mixed" => Mode::Mixed,
            other => Mode::Unknown(other.to_owned()),
        }
    }

    /// The word aa-status prints (`prompt` for [`Mode::Prompt`]; unknown words verbatim).
    pub fn as_str(&self) -> &str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Complain => "complain",
            Mode::Prompt => "prompt",
            Mode::Kill => "kill",
            Mode::Unconfined => "unconfined",
            Mode::Mixed => "mixed",
            Mode::Unknown(s) => s,
        }
    }

    /// The word the kernel prints and accepts (`user` for [`Mode::Prompt`]).
    pub fn kernel_word(&self) -> &str {
        match self {
            Mode::Prompt => "user",
            other => other.as_str(),
        }
    }

    /// The six modes aa-status has a section for, in its order.
    pub const SECTIONS: [Mode; 6] = [
        Mode::Enforce,
        Mode::Complain,
        Mode::Prompt,
        Mode::Kill,
        Mode::Unconfined,
        Mode::Mixed,
    ];
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Mode {
    /// Serialises as the aa-status word (`prompt`, not `user`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl serde::Serialize for Label {
    /// Serialises as the kernel's text (`NAME (MODE)`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::str::FromStr for Mode {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Mode::from_word(s))
    }
}

/// Why a text is not a label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// The text is empty (after dropping one trailing newline).
    #[error("empty label")]
    Empty,
    /// Strict splitting ([`Label::split_con`]) found no ` (MODE)` suffix and the text is not
    /// `unconfined`. Carries the offending text.
    #[error("label {0:?} has no \" (mode)\" suffix")]
    NoMode(String),
}

/// A label: the profile name(s) as printed by the kernel, plus the optional mode suffix.
///
/// Build one with [`Label::split_con`] (the strict rule aa-status applies to every
/// `profiles` line and every `attr/current`), with [`Label::parse`] (lenient: a missing mode is
/// fine, as in audit records), or with [`Label::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    name: String,
    mode: Option<Mode>,
}

/// Splits `text` like libapparmor's `aa_splitcon`: one trailing `\n` is dropped; `unconfined`
/// gives no mode; otherwise the text must end in `)` and the **last** ` (` (at a position > 0)
/// starts the mode. Returns `(name, mode word)`; `None` when the text cannot be split.
///
/// So a name that itself holds parentheses splits at the last ` (`:
/// `(odd) (enforce)` → (`(odd)`, `enforce`).
pub fn split_con(text: &str) -> Option<(&str, Option<&str>)> {
    let t = text.strip_suffix('\n').unwrap_or(text);
    if t.is_empty() {
        return None;
    }
    if t == "unconfined" {
        return Some((t, None));
    }
    let b = t.as_bytes();
    if b.len() <= 3 || b[b.len() - 1] != b')' {
        return None;
    }
    // Scan backwards from the second-to-last byte for " (" at a position > 0.
    let mut i = b.len() - 2;
    while i > 0 {
        if b[i] == b'(' && b[i - 1] == b' ' && i - 1 > 0 {
            return Some((&t[..i - 1], Some(&t[i + 1..b.len() - 1])));
        }
        i -= 1;
    }
    None
}

impl Label {
    /// A label from its parts. `name` is the text before the mode suffix, e.g. `a//&:ns:b`.
    pub fn new(name: impl Into<String>, mode: Option<Mode>) -> Label {
        Label {
            name: name.into(),
            mode,
        }
    }

    /// The `unconfined` label (no mode).
    pub fn unconfined() -> Label {
        Label::new("unconfined", None)
    }

    /// Strict parse with `aa_splitcon` rules (see [`split_con`]): `NAME (MODE)` or exactly
    /// `unconfined`, one trailing `\n` allowed.
    ///
    /// # Errors
    /// [`LabelError::Empty`] for an empty text, [`LabelError::NoMode`] for anything else that
    /// does not split (`foo`, `foo(enforce)`, `a\t(enforce)`, `:ns:unconfined`, `---`, another
    /// LSM's context).
    pub fn split_con(text: &str) -> Result<Label, LabelError> {
        match split_con(text) {
            Some((name, mode)) => Ok(Label::new(name, mode.map(Mode::from_word))),
            None => {
                let t = text.strip_suffix('\n').unwrap_or(text);
                if t.is_empty() {
                    Err(LabelError::Empty)
                } else {
                    Err(LabelError::NoMode(t.to_owned()))
                }
            }
        }
    }

    /// Lenient parse: like [`Label::split_con`], but a text without a ` (MODE)` suffix is
    /// taken whole as the name with no mode (`:ns:unconfined`, `---`, or a profile name as it
    /// appears in an audit record).
    ///
    /// # Errors
    /// [`LabelError::Empty`] when the text is empty after dropping one trailing `\n`.
    pub fn parse(text: &str) -> Result<Label, LabelError> {
        match split_con(text) {
            Some((name, mode)) => Ok(Label::new(name, mode.map(Mode::from_word))),
            None => {
                let t = text.strip_suffix('\n').unwrap_or(text);
                if t.is_empty() {
                    Err(LabelError::Empty)
                } else {
                    Ok(Label::new(t, None))
                }
            }
        }
    }

    /// The label text without the mode suffix, exactly as printed (e.g. `a//&:ns:b`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The mode suffix, if the label had one.
    pub fn mode(&self) -> Option<&Mode> {
        self.mode.as_ref()
    }

    /// Consumes the label into its name and mode.
    pub fn into_parts(self) -> (String, Option<Mode>) {
        (self.name, self.mode)
    }

    /// True for the plain `unconfined` label (no mode suffix).
    pub fn is_unconfined(&self) -> bool {
        self.mode.is_none() && self.name == "unconfined"
    }

    /// True when the label stacks more than one profile (`a//&b`).
    pub fn is_stack(&self) -> bool {
        self.name.contains("//&")
    }

    /// The profiles of the label, split at `//&`. A component without its own `:NS:` prefix
    /// belongs to the namespace of the component before it (the kernel prints a prefix only
    /// when the namespace changes); the first component without a prefix is in the reader's
    /// namespace (`namespace: None`).
    pub fn components(&self) -> Vec<Component<'_>> {
        let mut out = Vec::new();
        let mut ns: Option<&str> = None;
        for part in self.name.split("//&") {
            let (own_ns, profile) = split_namespace(part);
            if own_ns.is_some() {
                ns = own_ns;
            }
            out.push(Component {
                namespace: ns,
                profile,
            });
        }
        out
    }
}

/// Splits `:NS:NAME` or `:NS://NAME` into (`Some(NS)`, `NAME`); other text is (`None`, text).
fn split_namespace(part: &str) -> (Option<&str>, &str) {
    if let Some(rest) = part.strip_prefix(':')
        && let Some(end) = rest.find(':')
    {
        let ns = &rest[..end];
        let name = &rest[end + 1..];
        let name = name.strip_prefix("//").unwrap_or(name);
        return (Some(ns), name);
    }
    (None, part)
}

impl fmt::Display for Label {
    /// Prints `NAME (MODE)`, or `NAME` alone when there is no mode: the kernel's format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(m) = &self.mode {
            write!(f, " ({})", m.kernel_word())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Label {
    type Err = LabelError;
    /// Same as [`Label::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Label::parse(s)
    }
}

/// One profile of a (possibly stacked) label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Component<'a> {
    /// The policy namespace relative to the reader (`ns1//ns2` for nested ones), `None` for the
    /// reader's own namespace.
    pub namespace: Option<&'a str>,
    /// The profile name, including hats or children (`parent//child`).
    pub profile: &'a str,
}

impl<'a> Component<'a> {
    /// The profile path split at `//`: the top-level profile first, then each hat or child.
    pub fn path(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.profile.split("//")
    }

    /// The top-level profile (before the first `//`).
    pub fn base(&self) -> &'a str {
        self.profile.split("//").next().unwrap_or(self.profile)
    }

    /// True when this is a hat or child profile (`parent//child`).
    pub fn is_hat(&self) -> bool {
        self.profile.contains("//")
    }

    /// True for a namespace's `unconfined` pseudo-profile.
    pub fn is_unconfined(&self) -> bool {
        self.profile == "unconfined"
    }

    /// The namespace path split at `//` (empty for the reader's namespace).
    pub fn namespace_path(&self) -> Vec<&'a str> {
        self.namespace
            .map(|n| n.split("//").collect())
            .unwrap_or_default()
    }
}

impl fmt::Display for Component<'_> {
    /// Prints `:NS:NAME` or `NAME`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ns) = self.namespace {
            write!(f, ":{ns}:")?;
        }
        f.write_str(self.profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(s: &str) -> Option<(String, Option<String>)> {
        Label::split_con(s)
            .ok()
            .map(|l| (l.name().to_owned(), l.mode().map(|m| m.to_string())))
    }

    #[test]
    fn splitcon_vectors_from_spec() {
        let ok = |s: &str, n: &str, m: &str| {
            assert_eq!(
                strict(s),
                Some((n.to_owned(), Some(m.to_owned()))),
                "input {s:?}"
            )
        };
        ok("(odd) (enforce)", "(odd)", "enforce");
        ok("(odd) (enforce) (enforce)", "(odd) (enforce)", "enforce");
        ok("/usr/bin/😺 (enforce)", "/usr/bin/😺", "enforce");
        ok("odd (paren) name (enforce)", "odd (paren) name", "enforce");
        ok("trailing-paren) (enforce)", "trailing-paren)", "enforce");
        ok("/usr/bin/foo (complain)\n", "/usr/bin/foo", "complain");
        for bad in [
            "profile\t(enforce)",
            "profile(enforce)",
            "foo",
            ":ns:unconfined",
            "---",
            "system_u:system_r:foo_t:s0",
            " (x)",
            "a)",
        ] {
            assert_eq!(strict(bad), None, "input {bad:?}");
        }
        assert_eq!(Label::split_con(""), Err(LabelError::Empty));
        assert_eq!(Label::split_con("\n"), Err(LabelError::Empty));
        assert_eq!(strict("unconfined"), Some(("unconfined".into(), None)));
        assert_eq!(strict("unconfined\n"), Some(("unconfined".into(), None)));
    }

    #[test]
    fn modes() {
        assert_eq!(Mode::from_word("user"), Mode::Prompt);
        assert_eq!(Mode::from_word("prompt"), Mode::Prompt);
        assert_eq!(Mode::Prompt.as_str(), "prompt");
        assert_eq!(Mode::Prompt.kernel_word(), "user");
        let u = Mode::from_word("weird");
        assert_eq!(u, Mode::Unknown("weird".into()));
        assert_eq!(u.to_string(), "weird");
        assert!(Mode::Enforce < Mode::Complain && Mode::Kill < Mode::Mixed);
        assert!(Mode::Mixed < u);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "unconfined",
            "/usr/bin/foo (enforce)",
            "a//&b (mixed)",
            ":ns:name (complain)",
            ":ns://name",
            "/usr/sbin/apache2//HANDLING_UNTRUSTED_INPUT (enforce)",
            "lxc-container-default//&:lxd-c1_<var-snap-lxd-common-lxd>:unconfined (enforce)",
            "snap.foo.bar (user)",
            "x (-)",
        ] {
            assert_eq!(Label::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn components_of_every_form() {
        let l = Label::parse("/usr/sbin/apache2//HANDLING_UNTRUSTED_INPUT (enforce)").unwrap();
        let c = l.components();
        assert_eq!(c.len(), 1);
        assert!(c[0].is_hat());
        assert_eq!(c[0].base(), "/usr/sbin/apache2");
        assert_eq!(
            c[0].path().collect::<Vec<_>>(),
            ["/usr/sbin/apache2", "HANDLING_UNTRUSTED_INPUT"]
        );

        let l = Label::parse("a//&b (mixed)").unwrap();
        assert!(l.is_stack());
        assert_eq!(l.mode(), Some(&Mode::Mixed));
        let c = l.components();
        assert_eq!(
            c,
            [
                Component {
                    namespace: None,
                    profile: "a"
                },
                Component {
                    namespace: None,
                    profile: "b"
                }
            ]
        );

        let l = Label::parse(":ns1//ns2:deep (enforce)").unwrap();
        let c = l.components();
        assert_eq!(c[0].namespace, Some("ns1//ns2"));
        assert_eq!(c[0].namespace_path(), ["ns1", "ns2"]);
        assert_eq!(c[0].profile, "deep");
        assert_eq!(c[0].to_string(), ":ns1//ns2:deep");

        let l = Label::parse(":ns://name").unwrap();
        assert_eq!(l.mode(), None);
        assert_eq!(
            l.components(),
            [Component {
                namespace: Some("ns"),
                profile: "name"
            }]
        );

        // A prefix applies to the following components.
        let l = Label::parse(":ns:a//&b (enforce)").unwrap();
        assert_eq!(
            l.components(),
            [
                Component {
                    namespace: Some("ns"),
                    profile: "a"
                },
                Component {
                    namespace: Some("ns"),
                    profile: "b"
                }
            ]
        );
        let l = Label::parse("lxc//&:lxd:unconfined (enforce)").unwrap();
        let c = l.components();
        assert_eq!(
            c[0],
            Component {
                namespace: None,
                profile: "lxc"
            }
        );
        assert!(c[1].is_unconfined());
        assert_eq!(c[1].namespace, Some("lxd"));

        assert!(Label::parse("unconfined").unwrap().is_unconfined());
        assert!(!Label::parse(":ns:unconfined").unwrap().is_unconfined());
        assert_eq!(Label::parse(""), Err(LabelError::Empty));
    }
}
