//! AppArmor globs (AARE after variable expansion) as anchored regexes, and a cached
//! matcher: used to compare rules with what a log asked for and attachments with
//! executables.

use std::collections::HashMap;

/// Converts an AppArmor glob (after variable expansion) to an anchored
/// regex: `**` any text, `*` within a path component, `?` one character
/// but `/`, `[…]` and `[^…]` classes, `{a,b}` alternatives, `\c` literal.
pub fn glob_regex(glob: &str) -> String {
    let mut re = String::from("^");
    let mut chars = glob.chars().peekable();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    re.push_str(&regex::escape(&n.to_string()));
                }
            }
            '*' => {
                if chars.peek() == Some(&'*') {
                    chars.next();
                    re.push_str(".*");
                } else {
                    re.push_str("[^/]*");
                }
            }
            '?' => re.push_str("[^/]"),
            '[' => {
                re.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    re.push('^');
                }
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    if matches!(n, '\\' | '[' | '&' | '~') {
                        re.push('\\');
                    }
                    re.push(n);
                }
                re.push(']');
            }
            '{' => {
                depth += 1;
                re.push_str("(?:");
            }
            ',' if depth > 0 => re.push('|'),
            '}' if depth > 0 => {
                depth -= 1;
                re.push(')');
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    for _ in 0..depth {
        re.push(')');
    }
    re.push('$');
    re
}

/// Most compiled globs [`glob_match`] keeps per thread.
const GLOB_CACHE: usize = 4096;

thread_local! {
    static GLOBS: std::cell::RefCell<HashMap<String, Option<regex::Regex>>> =
        std::cell::RefCell::new(HashMap::new());
}

/// True when the glob `pattern` matches the literal `text` (a glob that
/// does not compile matches nothing). Compiled globs are kept per thread
/// (up to 4096; the cache is emptied when full), so that asking again with
/// the same glob costs one match.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    GLOBS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(r) = cache.get(pattern) {
            return r.as_ref().is_some_and(|r| r.is_match(text));
        }
        if cache.len() >= GLOB_CACHE {
            cache.clear();
        }
        let r = regex::Regex::new(&glob_regex(pattern)).ok();
        let m = r.as_ref().is_some_and(|r| r.is_match(text));
        cache.insert(pattern.to_owned(), r);
        m
    })
}
