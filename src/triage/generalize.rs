//! `--generalize`: rewrite suggested file rules with the tunables of
//! `tunables/global` (`@{HOME}`, `@{PROC}`, `@{pid}`, `@{tid}`, `@{uid}`,
//! `@{run}`, `@{sys}`, `@{multiarch}`) so that one rule covers every user,
//! process and architecture; the raw value is kept as a trailing comment.
//! Off by default: a generalised rule allows more than what was logged.

use crate::policy::ast::*;

fn is_num(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Rewrites one path as written in a rule (escaped policy text). Returns
/// `None` when no tunable applies.
pub fn generalize_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    // parts[0] is "" for an absolute path
    if parts.len() < 2 || !parts[0].is_empty() {
        return None;
    }
    let rest = |from: usize| -> String {
        if from >= parts.len() {
            String::new()
        } else {
            format!("/{}", parts[from..].join("/"))
        }
    };
    let out = match parts[1] {
        "home" if parts.len() > 2 && !parts[2].is_empty() => format!("@{{HOME}}{}", rest(3)),
        "root" => format!("@{{HOME}}{}", rest(2)),
        "proc" => {
            let mut s = String::from("@{PROC}");
            let mut i = 2;
            if parts.get(2).is_some_and(|p| is_num(p)) {
                s.push_str("/@{pid}");
                i = 3;
                if parts.get(3) == Some(&"task") && parts.get(4).is_some_and(|p| is_num(p)) {
                    s.push_str("/task/@{tid}");
                    i = 5;
                }
            }
            s + &rest(i)
        }
        "sys" => format!("@{{sys}}{}", rest(2)),
        "run" | "var" if parts[1] == "run" || parts.get(2) == Some(&"run") => {
            let base = if parts[1] == "run" { 2 } else { 3 };
            if parts.get(base) == Some(&"user") && parts.get(base + 1).is_some_and(|p| is_num(p)) {
                format!("@{{run}}/user/@{{uid}}{}", rest(base + 2))
            } else {
                format!("@{{run}}{}", rest(base))
            }
        }
        "usr" | "lib"
            if parts
                .iter()
                .any(|p| p.ends_with("-linux-gnu") || p.ends_with("-linux-gnueabihf")) =>
        {
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
                .join("/")
        }
        _ => return None,
    };
    (out != path).then_some(out)
}

/// Rewrites a suggested rule (file rules only) and returns the new rule
/// with the raw path as a comment (`raw: /home/otis/.config/x`), or the
/// rule unchanged and `None`.
pub fn generalize(e: &RuleEntry) -> (RuleEntry, Option<String>) {
    if let Rule::File(f) = &e.rule
        && let Some(p) = &f.path
        && let Some(g) = generalize_path(&p.text)
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
}
