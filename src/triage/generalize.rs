//! `--generalize`: rewrite suggested file rules with the tunables of
//! `tunables/global` (`@{HOME}`, `@{PROC}`, `@{pid}`, `@{tid}`, `@{uid}`,
//! `@{run}`, `@{sys}`, `@{multiarch}`) so that one rule covers every user,
//! process and architecture; the raw value is kept as a trailing comment.
//! Off by default: a generalised rule allows more than what was logged.
//!
//! A rewritten path is kept only when it still matches the logged path once
//! its variables are expanded (with the values of the profile directory's
//! `tunables/global`, or the values Debian and upstream ship): `@{HOME}` is
//! `/home/*/` and `/root/`, directories, so `/home/notes.txt` stays as it is
//! and `/home/otis` (no trailing slash) too. When the most general form does
//! not match, a less general one is tried (`/proc/0/stat`: `@{pid}` starts
//! at 1, so `@{PROC}/0/stat`).

use crate::policy::ast::*;
use crate::policy::resolve::vars::Variables;
use crate::triage::ondisk::{glob_match, literal};

fn is_num(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The values of the tunables this module writes as upstream's and
/// Debian's `tunables/home`, `tunables/proc`, `tunables/kernelvars`,
/// `tunables/run`, `tunables/sys` and `tunables/multiarch` define them (the
/// same in AppArmor 3.0, 4.1 and 5.0).
const DEFAULTS: &[(&str, &[&str])] = &[
    ("HOMEDIRS", &["/home/"]),
    ("HOME", &["@{HOMEDIRS}/*/", "/root/"]),
    ("PROC", &["/proc/"]),
    (
        "pid",
        &[
            "{[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],\
[1-9][0-9][0-9][0-9][0-9][0-9],[1-4][0-9][0-9][0-9][0-9][0-9][0-9]}",
        ],
    ),
    ("tid", &["@{pid}"]),
    (
        "uid",
        &[
            "{[0-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],\
[1-9][0-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9][0-9],\
[1-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9],\
[1-4][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]}",
        ],
    ),
    ("sys", &["/sys/"]),
    ("run", &["/run/", "/var/run/"]),
    ("multiarch", &["*-linux-gnu*"]),
];

/// Rewrites paths with tunables, checking each rewrite against the
/// variables' values.
#[derive(Debug, Clone)]
pub struct Generalizer {
    vars: Variables,
}

impl Default for Generalizer {
    /// With the values upstream and Debian ship.
    fn default() -> Self {
        Self::with(Variables::new())
    }
}

impl Generalizer {
    /// With the variables `vars` (a profile directory's `tunables/global`
    /// after resolution); a tunable `vars` does not define takes the value
    /// upstream and Debian ship.
    pub fn with(mut vars: Variables) -> Self {
        for (name, values) in DEFAULTS {
            if !vars.is_set(name) {
                let values = values.iter().map(|v| (*v).to_owned()).collect();
                // cannot fail: the name is not set
                let _ = vars.assign(name, AssignOp::Set, values);
            }
        }
        Generalizer { vars }
    }

    /// True when `candidate` (policy text with variables), expanded, matches
    /// the literal path `lit`.
    pub fn matches(&self, candidate: &str, lit: &str) -> bool {
        self.vars
            .expand(candidate)
            .is_ok_and(|glob| glob_match(&glob, lit))
    }

    /// Rewrites one path as written in a rule (escaped policy text): the
    /// most general rewrite whose expansion matches the path. `None` when
    /// no tunable applies or none matches.
    pub fn path(&self, path: &str) -> Option<String> {
        let lit = literal(&Word {
            text: path.to_owned(),
            quoted: false,
            span: Span::default(),
        });
        candidates(path)
            .into_iter()
            .find(|c| c != path && self.matches(c, &lit))
    }

    /// Rewrites a suggested rule (file rules only) and returns the new rule
    /// with the raw path as a comment (`raw: /home/otis/.config/x`), or the
    /// rule unchanged and `None`.
    pub fn rule(&self, e: &RuleEntry) -> (RuleEntry, Option<String>) {
        if let Rule::File(f) = &e.rule
            && let Some(p) = &f.path
            && let Some(g) = self.path(&p.text)
        {
            let mut e2 = e.clone();
            if let Rule::File(f2) = &mut e2.rule
                && let Some(p2) = &mut f2.path
            {
                p2.text = g;
            }
            return (e2, Some(format!("raw: {p}")));
        }
        (e.clone(), None)
    }
}

/// The rewrites of `path` with tunables, most general first (not checked).
fn candidates(path: &str) -> Vec<String> {
    let parts: Vec<&str> = path.split('/').collect();
    // parts[0] is "" for an absolute path
    if parts.len() < 2 || !parts[0].is_empty() {
        return Vec::new();
    }
    let rest = |from: usize| -> String {
        if from >= parts.len() {
            String::new()
        } else {
            format!("/{}", parts[from..].join("/"))
        }
    };
    match parts[1] {
        "home" if parts.len() > 2 && !parts[2].is_empty() => {
            vec![format!("@{{HOME}}{}", rest(3))]
        }
        "root" => vec![format!("@{{HOME}}{}", rest(2))],
        "proc" => {
            let mut out = Vec::new();
            if parts.get(2).is_some_and(|p| is_num(p)) {
                if parts.get(3) == Some(&"task") && parts.get(4).is_some_and(|p| is_num(p)) {
                    out.push(format!("@{{PROC}}/@{{pid}}/task/@{{tid}}{}", rest(5)));
                }
                out.push(format!("@{{PROC}}/@{{pid}}{}", rest(3)));
            }
            out.push(format!("@{{PROC}}{}", rest(2)));
            out
        }
        "sys" => vec![format!("@{{sys}}{}", rest(2))],
        "run" | "var" if parts[1] == "run" || parts.get(2) == Some(&"run") => {
            let base = if parts[1] == "run" { 2 } else { 3 };
            let mut out = Vec::new();
            if parts.get(base) == Some(&"user") && parts.get(base + 1).is_some_and(|p| is_num(p)) {
                out.push(format!("@{{run}}/user/@{{uid}}{}", rest(base + 2)));
            }
            out.push(format!("@{{run}}{}", rest(base)));
            out
        }
        "usr" | "lib"
            if parts
                .iter()
                .any(|p| p.ends_with("-linux-gnu") || p.ends_with("-linux-gnueabihf")) =>
        {
            vec![
                parts
                    .iter()
                    .map(|p| {
                        if p.ends_with("-linux-gnu") || p.ends_with("-linux-gnueabihf") {
                            "@{multiarch}"
                        } else {
                            p
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/"),
            ]
        }
        _ => Vec::new(),
    }
}

/// Rewrites one path as written in a rule (escaped policy text), checked
/// against the tunables' values upstream and Debian ship
/// ([`Generalizer::path`]). Returns `None` when no tunable applies.
pub fn generalize_path(path: &str) -> Option<String> {
    Generalizer::default().path(path)
}

/// Rewrites a suggested rule (file rules only) and returns the new rule
/// with the raw path as a comment (`raw: /home/otis/.config/x`), or the
/// rule unchanged and `None`; checked against the tunables' values
/// upstream and Debian ship ([`Generalizer::rule`]).
pub fn generalize(e: &RuleEntry) -> (RuleEntry, Option<String>) {
    Generalizer::default().rule(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let g = |s: &str| generalize_path(s);
        assert_eq!(
            g("/home/otis/.config/k").as_deref(),
            Some("@{HOME}/.config/k")
        );
        assert_eq!(g("/root/.cache/x").as_deref(), Some("@{HOME}/.cache/x"));
        assert_eq!(
            g("/proc/1234/task/77/stat").as_deref(),
            Some("@{PROC}/@{pid}/task/@{tid}/stat")
        );
        assert_eq!(
            g("/proc/sys/kernel/x").as_deref(),
            Some("@{PROC}/sys/kernel/x")
        );
        assert_eq!(
            g("/run/user/1000/bus").as_deref(),
            Some("@{run}/user/@{uid}/bus")
        );
        assert_eq!(g("/var/run/motd").as_deref(), Some("@{run}/motd"));
        assert_eq!(g("/sys/class/x/").as_deref(), Some("@{sys}/class/x/"));
        assert_eq!(
            g("/usr/lib/x86_64-linux-gnu/libc.so.6").as_deref(),
            Some("/usr/lib/@{multiarch}/libc.so.6")
        );
        assert_eq!(g("/etc/passwd"), None);
    }

    #[test]
    fn only_rewrites_that_match() {
        let g = |s: &str| generalize_path(s);
        // @{HOME} is a directory: a file right under /home, or a home
        // directory without its trailing slash, is not in it
        assert_eq!(g("/home/b.c"), None);
        assert_eq!(g("/home/otis"), None);
        assert_eq!(g("/root"), None);
        assert_eq!(g("/home/otis/").as_deref(), Some("@{HOME}/"));
        assert_eq!(g("/root/").as_deref(), Some("@{HOME}/"));
        // @{pid} starts at 1 and has at most 7 digits
        assert_eq!(g("/proc/0/stat").as_deref(), Some("@{PROC}/0/stat"));
        assert_eq!(
            g("/proc/99999999/stat").as_deref(),
            Some("@{PROC}/99999999/stat")
        );
        assert_eq!(
            g("/proc/12/task/0/comm").as_deref(),
            Some("@{PROC}/@{pid}/task/0/comm")
        );
        assert_eq!(g("/proc").as_deref(), None);
        assert_eq!(g("/proc/").as_deref(), Some("@{PROC}/"));
        assert_eq!(g("/var/run").as_deref(), None);
        // escaped characters stay literal
        assert_eq!(g("/home/u/a\\ b").as_deref(), Some("@{HOME}/a\\ b"));
    }

    #[test]
    fn the_directory_decides() {
        let mut v = Variables::new();
        v.assign(
            "HOMEDIRS",
            AssignOp::Set,
            vec!["/home/".into(), "/srv/home/".into()],
        )
        .unwrap();
        let g = Generalizer::with(v);
        assert_eq!(g.path("/srv/home/u/x").as_deref(), None); // no rewrite rule for /srv
        assert_eq!(g.path("/home/u/x").as_deref(), Some("@{HOME}/x"));
        let mut v = Variables::new();
        v.assign("HOME", AssignOp::Set, vec!["/home/*/".into()])
            .unwrap();
        let g = Generalizer::with(v);
        assert_eq!(g.path("/root/x"), None);
    }

    proptest::proptest! {
        /// Every rewrite matches the path it came from.
        #[test]
        fn rewrites_match(parts in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just("home".to_string()),
                proptest::strategy::Just("proc".to_string()),
                proptest::strategy::Just("run".to_string()),
                proptest::strategy::Just("var".to_string()),
                proptest::strategy::Just("user".to_string()),
                proptest::strategy::Just("task".to_string()),
                proptest::strategy::Just("x86_64-linux-gnu".to_string()),
                proptest::strategy::Just(String::new()),
                "[0-9]{1,9}",
                "[a-z.]{1,4}",
            ], 1..6)) {
            let path = format!("/{}", parts.join("/"));
            let g = Generalizer::default();
            if let Some(r) = g.path(&path) {
                let re = regex::Regex::new(&crate::triage::ondisk::glob_regex(
                    &g.vars.expand(&r).unwrap())).unwrap();
                proptest::prop_assert!(re.is_match(&path), "{path} -> {r}");
            }
        }
    }
}
