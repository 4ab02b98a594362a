//! `--filter.*`: POSIX **basic** regular expressions (what upstream's `regcomp` without
//! `REG_EXTENDED` accepts, including the GNU extensions `\|`, `\+`, `\?`, `\<`, `\>`, `\b`,
//! `\B`, `\w`, `\W`, `\s`, `\S`), translated to the `regex` crate's syntax.
//!
//! In a BRE `(`, `)`, `{`, `}`, `|`, `+` and `?` are literal characters; grouping is `\(…\)`,
//! intervals are `\{m,n\}`. `*` is literal at the start of the expression or of a group or
//! alternative; `^` is an anchor only at such a start and `$` only at such an end. Matching is
//! unanchored (a search), and `.` matches a newline, as `regexec` does without `REG_NEWLINE`.
//! Back-references (`\1`…`\9`) have no equivalent in `regex` and are reported as an error.

use regex::Regex;

/// Why a BRE could not be translated or compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The expression is invalid (unbalanced `\(`, unterminated `[`, bad interval, trailing `\`).
    #[error("invalid basic regular expression {pattern:?}: {reason}")]
    Invalid {
        /// The expression as given.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
    /// A construct `regex` cannot express (back-references).
    #[error("unsupported in basic regular expression {pattern:?}: {reason}")]
    Unsupported {
        /// The expression as given.
        pattern: String,
        /// The construct.
        reason: String,
    },
}

/// A compiled `--filter.*` expression.
#[derive(Debug, Clone)]
pub struct Filter {
    source: String,
    /// `None` for [`Filter::any`].
    regex: Option<Regex>,
}

impl Filter {
    /// The filter that matches everything (upstream's default `.*`).
    pub fn any() -> Filter {
        Filter {
            source: ".*".into(),
            regex: None,
        }
    }

    /// Compiles a POSIX basic regular expression.
    ///
    /// # Errors
    /// [`FilterError`] when the expression is invalid or uses back-references.
    pub fn new(bre: &str) -> Result<Filter, FilterError> {
        let translated = translate_bre(bre)?;
        let regex = Regex::new(&translated).map_err(|e| FilterError::Invalid {
            pattern: bre.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Filter {
            source: bre.to_owned(),
            regex: Some(regex),
        })
    }

    /// Unanchored search, like `regexec(…) == 0`.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.as_ref().is_none_or(|r| r.is_match(text))
    }

    /// True for [`Filter::any`] (matches everything without looking).
    pub fn is_any(&self) -> bool {
        self.regex.is_none()
    }

    /// The expression as given.
    pub fn source(&self) -> &str {
        &self.source
    }
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_punctuation() {
        out.push('\\');
    }
    out.push(c);
}

/// Translates a POSIX BRE (with GNU extensions) into `regex` syntax.
///
/// # Errors
/// [`FilterError::Invalid`] or [`FilterError::Unsupported`].
pub fn translate_bre(bre: &str) -> Result<String, FilterError> {
    let invalid = |reason: &str| FilterError::Invalid {
        pattern: bre.to_owned(),
        reason: reason.to_owned(),
    };
    let chars: Vec<char> = bre.chars().collect();
    let mut out = String::from("(?s)");
    let mut depth = 0usize;
    // True at the start of the expression, a group or an alternative.
    let mut at_start = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = at_start;
        at_start = false;
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err(invalid("trailing backslash"));
                };
                i += 2;
                match n {
                    '(' => {
                        depth += 1;
                        out.push('(');
                        at_start = true;
                    }
                    ')' => {
                        if depth == 0 {
                            return Err(invalid("unmatched \\)"));
                        }
                        depth -= 1;
                        out.push(')');
                    }
                    '|' => {
                        out.push('|');
                        at_start = true;
                    }
                    '{' => {
                        if start {
                            return Err(invalid("interval without operand"));
                        }
                        let mut j = i;
                        let mut body = String::new();
                        while j < chars.len()
                            && !(chars[j] == '\\' && chars.get(j + 1) == Some(&'}'))
                        {
                            body.push(chars[j]);
                            j += 1;
                        }
                        if j >= chars.len() {
                            return Err(invalid("unterminated \\{"));
                        }
                        let ok = !body.is_empty()
                            && body.chars().all(|c| c.is_ascii_digit() || c == ',')
                            && body.matches(',').count() <= 1
                            && !body.starts_with(',');
                        if !ok {
                            return Err(invalid("bad interval"));
                        }
                        if let Some((a, b)) = body.split_once(',')
                            && !b.is_empty()
                            && a.parse::<u32>().ok() > b.parse::<u32>().ok()
                        {
                            return Err(invalid("bad interval"));
                        }
                        out.push('{');
                        out.push_str(&body);
                        out.push('}');
                        i = j + 2;
                    }
                    '}' => return Err(invalid("unmatched \\}")),
                    '+' | '?' => {
                        if start {
                            push_literal(&mut out, n);
                        } else {
                            out.push(n);
                        }
                    }
                    '<' => out.push_str(r"\b{start}"),
                    '>' => out.push_str(r"\b{end}"),
                    'b' => out.push_str(r"\b"),
                    'B' => out.push_str(r"\B"),
                    'w' => out.push_str(r"\w"),
                    'W' => out.push_str(r"\W"),
                    's' => out.push_str(r"\s"),
                    'S' => out.push_str(r"\S"),
                    '`' => out.push_str(r"\A"),
                    '\'' => out.push_str(r"\z"),
                    '1'..='9' => {
                        return Err(FilterError::Unsupported {
                            pattern: bre.to_owned(),
                            reason: format!("back-reference \\{n}"),
                        });
                    }
                    other => push_literal(&mut out, other),
                }
                continue;
            }
            '*' => {
                if start {
                    push_literal(&mut out, '*');
                } else {
                    out.push('*');
                }
            }
            '^' => {
                if start {
                    out.push('^');
                    at_start = true;
                } else {
                    push_literal(&mut out, '^');
                }
            }
            '$' => {
                let at_end = i + 1 == chars.len()
                    || (chars[i + 1] == '\\' && matches!(chars.get(i + 2), Some(')') | Some('|')));
                if at_end {
                    out.push('$');
                } else {
                    push_literal(&mut out, '$');
                }
            }
            '.' => out.push('.'),
            '[' => {
                let (class, next) = translate_bracket(&chars, i)
                    .ok_or_else(|| invalid("unterminated [ or unknown class name"))?;
                out.push_str(&class);
                i = next;
                continue;
            }
            other => push_literal(&mut out, other),
        }
        i += 1;
    }
    if depth != 0 {
        return Err(invalid("unmatched \\("));
    }
    Ok(out)
}

/// Translates the bracket expression starting at `chars[start] == '['`; returns the `regex`
/// class and the index after the closing `]`.
fn translate_bracket(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut i = start + 1;
    let mut out = String::from("[");
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            out.push(']');
            return Some((out, i + 1));
        }
        first = false;
        if c == '[' && matches!(chars.get(i + 1), Some(':') | Some('=') | Some('.')) {
            let kind = chars[i + 1];
            let mut j = i + 2;
            let mut name = String::new();
            while j + 1 < chars.len() && !(chars[j] == kind && chars[j + 1] == ']') {
                name.push(chars[j]);
                j += 1;
            }
            if j + 1 >= chars.len() {
                return None;
            }
            match kind {
                ':' => {
                    // regcomp refuses unknown class names (REG_ECTYPE); `regex` would read
                    // `[:foo:]` as a nested set of the characters `:`, `f`, `o`.
                    const CLASSES: [&str; 12] = [
                        "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print",
                        "punct", "space", "upper", "xdigit",
                    ];
                    if !CLASSES.contains(&name.as_str()) {
                        return None;
                    }
                    out.push_str("[:");
                    out.push_str(&name);
                    out.push_str(":]");
                }
                _ => {
                    let mut it = name.chars();
                    let ch = it.next()?;
                    if it.next().is_some() {
                        return None;
                    }
                    // `[[=a=]]`, `[[.n.]]`: the character itself (escaped only when it is
                    // punctuation; `\a` or `\n` would be a control character).
                    push_literal(&mut out, ch);
                }
            }
            i = j + 2;
            continue;
        }
        if c == '-' {
            // A '-' first or last is literal; in between it forms a range.
            let last = chars.get(i + 1) == Some(&']');
            if out.ends_with('[') || out.ends_with("[^") || last {
                out.push_str("\\-");
            } else {
                out.push('-');
            }
            i += 1;
            continue;
        }
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, text: &str) -> bool {
        Filter::new(re).unwrap().is_match(text)
    }

    #[test]
    fn ere_syntax_is_literal_in_bre() {
        assert!(!m("^(enforce|kill)$", "enforce"));
        assert!(m("^(enforce|kill)$", "(enforce|kill)"));
        assert!(m("(", "a(b"));
        assert!(!m("(", "ab"));
        assert!(m("a+", "a+"));
        assert!(!m("a+", "aa"));
        assert!(m("a?", "a?"));
        assert!(m("{1}", "x{1}"));
    }

    #[test]
    fn bre_operators() {
        assert!(m(r"^\(enforce\|kill\)$", "kill"));
        assert!(!m(r"^\(enforce\|kill\)$", "complain"));
        assert!(m(r"a\{2\}", "xaax"));
        assert!(!m(r"a\{2\}", "xax"));
        assert!(m(r"ab\+c", "abbc"));
        assert!(m("^[12]00$", "100"));
        assert!(!m("^[12]00$", "300"));
        assert!(m("*a", "*a"));
        assert!(m(r"\(*a\)", "*a"));
        assert!(m("a^b", "a^b"));
        assert!(m("a$b", "a$b"));
        assert!(m("b$", "ab"));
        assert!(m("^/usr/bin", "/usr/bin/man"));
        assert!(!m("^/usr/bin", "/usr/sbin/cupsd"));
        assert!(m("evince", "/usr/bin/evince"));
        assert!(m(".*", ""));
        assert!(m("a.b", "a\nb"));
        assert!(m("[]a]", "]"));
        assert!(m("[^]a]", "b"));
        assert!(m("[[:digit:]]", "5"));
        assert!(m("[a-c-]", "-"));
        assert!(m(r"[\]", "\\"));
        assert!(m(r"\<man\>", "/usr/bin/man"));
        assert!(m(r"\.", "."));
        assert!(!m(r"\.", "a"));
    }

    #[test]
    fn invalid_expressions() {
        for bad in [r"\(", r"\)", "[a", "a\\", r"a\{x\}", r"\{1\}"] {
            assert!(
                matches!(Filter::new(bad), Err(FilterError::Invalid { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            Filter::new(r"\(a\)\1"),
            Err(FilterError::Unsupported { .. })
        ));
    }
}
