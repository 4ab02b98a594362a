//! File-rule checks (`S01xx`): permission strings, exec modes, `subset`,
//! link/exec conflicts and merged exec-mode conflicts within a profile.

use super::{Checker, codes};
use crate::diag::Span;
use crate::policy::ast::*;

/// An exec transition as written: the kind (`i p c u`), an optional fallback
/// (`i` or `u` in `pix`/`cux`), whether the environment is scrubbed and the
/// named target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecMode {
    /// `i`, `p`, `c` or `u`.
    pub kind: char,
    /// `i`/`u` fallback of `pix`, `pux`, `cix`, `cux`.
    pub fallback: Option<char>,
    /// Environment scrubbing is not done (`px`, `unsafe …`).
    pub unsafe_: bool,
}

/// The parsed permission string of a file rule.
#[derive(Debug, Clone, Default)]
pub struct FilePerms {
    /// Has `w`.
    pub write: bool,
    /// Has `a`.
    pub append: bool,
    /// Has `l`.
    pub link: bool,
    /// Has `x` (with or without qualifier).
    pub exec: bool,
    /// The exec transition, when qualified.
    pub mode: Option<ExecMode>,
}

fn off(w: &Word, i: usize) -> Span {
    if w.quoted {
        return w.span;
    }
    Span {
        file: w.span.file,
        start: w.span.start.saturating_add(i as u32),
        end: w.span.start.saturating_add(i as u32 + 1),
    }
}

impl Checker<'_> {
    /// A named transition target (`-> name`, `-> :ns:name`): apparmor_parser
    /// 3.0.8 accepts empty namespaces and names here, so only globs are checked.
    pub(super) fn transition_target(&mut self, t: &Word) {
        if !t.text.starts_with(':') {
            self.glob(t);
        }
    }

    /// Parses and checks a permission word. `leading` tells the leading form
    /// (case of the exec letter then says nothing about scrubbing), `exec_mod`
    /// the `safe`/`unsafe` keyword.
    pub(super) fn file_perms(
        &mut self,
        w: &Word,
        deny: bool,
        leading: bool,
        exec_mod: Option<ExecMod>,
    ) -> FilePerms {
        let mut p = FilePerms::default();
        let mut pending: Option<(char, usize, bool)> = None; // kind, offset, upper
        let mut fallback: Option<char> = None;
        let text = w.text.as_bytes();
        for (i, &c) in text.iter().enumerate() {
            // upper-case R W A L K M X mean the same as lower case
            let c = match c as char {
                c @ ('R' | 'W' | 'A' | 'L' | 'K' | 'M' | 'X') => c.to_ascii_lowercase(),
                c => c,
            };
            match c {
                'r' | 'k' | 'm' => {}
                'w' => p.write = true,
                'a' => p.append = true,
                'l' => p.link = true,
                'i' | 'I' | 'u' | 'U'
                    if pending.is_some_and(|(k, _, _)| k == 'p' || k == 'c')
                        && fallback.is_none() =>
                {
                    fallback = Some(c.to_ascii_lowercase());
                }
                'i' | 'I' | 'u' | 'U' | 'p' | 'P' | 'c' | 'C' => {
                    if pending.is_some() {
                        self.error(
                            codes::EXEC_CONFLICT,
                            off(w, i),
                            format!("Exec qualifier '{c}' invalid, conflicting qualifier already specified"),
                        );
                        return p;
                    }
                    pending = Some((c.to_ascii_lowercase(), i, c.is_ascii_uppercase()));
                }
                'x' => {
                    p.exec = true;
                    match pending.take() {
                        Some((kind, at, upper)) => {
                            if deny {
                                self.error(
                                    codes::DENY_EXEC,
                                    off(w, at),
                                    "Invalid mode, in deny rules 'x' must not be preceded by exec qualifier 'i', 'p', or 'u'",
                                );
                                return p;
                            }
                            let unsafe_ = match exec_mod {
                                Some(ExecMod::Unsafe) => true,
                                Some(ExecMod::Safe) => false,
                                None if leading => false,
                                None => !upper && kind != 'i',
                            };
                            let m = ExecMode {
                                kind,
                                fallback: fallback.take(),
                                unsafe_,
                            };
                            match &p.mode {
                                Some(prev) if *prev != m => {
                                    self.error(
                                        codes::EXEC_CONFLICT,
                                        off(w, at),
                                        format!("Exec qualifier '{}' invalid, conflicting qualifier already specified", text[at] as char),
                                    );
                                    return p;
                                }
                                _ => p.mode = Some(m),
                            }
                        }
                        None if !deny && p.mode.is_none() => {
                            self.error(
                                codes::BARE_X,
                                off(w, i),
                                "Invalid perms, 'x' must be preceded by exec qualifier 'i', 'p', or 'u'",
                            );
                            return p;
                        }
                        None => {}
                    }
                }
                _ => {
                    self.error(
                        codes::BAD_PERMS,
                        off(w, i),
                        format!("Invalid mode, unknown permission '{c}'"),
                    );
                    return p;
                }
            }
        }
        if let Some((c, at, _)) = pending {
            self.error(
                codes::BAD_PERMS,
                off(w, at),
                format!("Invalid mode, exec qualifier '{c}' must be followed by 'x'"),
            );
        }
        if p.write && p.append {
            self.error(
                codes::APPEND_WRITE,
                w.span,
                "Conflict 'a' and 'w' perms are mutually exclusive.",
            );
        }
        if let Some(m) = &p.mode {
            // apparmor_parser's `dangerous` warning: plain `ux` / `unsafe ux`
            if m.kind == 'u' && m.unsafe_ {
                self.warning(
                    codes::UNCONFINED_EXEC,
                    w.span,
                    "Unconfined exec qualifier (ux) allows some dangerous environment variables to be passed to the unconfined process; 'man 5 apparmor.d' for details.",
                );
            }
        }
        p
    }

    /// Checks a file rule (perms, exec keyword, subset, link and target).
    pub(super) fn file_rule(&mut self, q: &Qualifiers, r: &FileRule, span: Span) {
        let deny = q.access == Some(Access::Deny);
        if let Some(path) = &r.path {
            self.glob(path);
        }
        if let Some(t) = &r.target {
            self.transition_target(t);
        }
        let Some(w) = &r.perms else {
            // bare `file,`
            if deny && r.path.is_none() {
                self.error(
                    codes::DENY_EXEC,
                    span,
                    "Invalid mode, in deny rules 'x' must not be preceded by exec qualifier 'i', 'p', or 'u'",
                );
            }
            return;
        };
        let p = self.file_perms(w, deny, r.leading, r.exec_mod);
        if r.exec_mod.is_some() && p.mode.is_none() {
            let kw = if r.exec_mod == Some(ExecMod::Safe) {
                "safe"
            } else {
                "unsafe"
            };
            self.error(
                codes::EXEC_KEYWORD,
                span,
                format!("{kw} rule missing exec permissions"),
            );
        }
        if r.subset && !p.link {
            self.error(
                codes::SUBSET,
                span,
                "subset can only be used with link rules.",
            );
        }
        if let Some(t) = &r.target {
            if p.link && p.mode.is_some() && r.leading {
                self.error(
                    codes::LINK_EXEC,
                    w.span,
                    "link and exec perms conflict on a file rule using ->",
                );
            }
            if p.link && r.leading && t.text.starts_with(':') {
                self.error(
                    codes::LINK_EXEC,
                    t.span,
                    "link perms are not allowed on a named profile transition.",
                );
            }
        }
    }
}
