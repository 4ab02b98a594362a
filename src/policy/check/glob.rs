//! AARE (glob) well-formedness (`S0109`): balanced `[]` and `{}`, at least
//! one comma inside each `{}`, no trailing lone `\`.

/// Checks the glob as written (escapes unprocessed). On error returns the
/// byte offset of the offending character and apparmor_parser's message gist.
pub fn check_aare(text: &str) -> Result<(), (usize, String)> {
    let b = text.as_bytes();
    let mut i = 0;
    // stack of (offset of '{', commas seen)
    let mut braces: Vec<(usize, usize)> = Vec::new();
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if i + 1 >= b.len() {
                    return Err((i, "Regex grouping error: trailing backslash".into()));
                }
                i += 2;
                continue;
            }
            b'@' if b.get(i + 1) == Some(&b'{')
                && b.get(i + 2).is_some_and(|c| c.is_ascii_alphabetic()) =>
            {
                // unexpanded variable reference: skip to its '}'
                match b[i..].iter().position(|&c| c == b'}') {
                    Some(p) => {
                        i += p + 1;
                        continue;
                    }
                    None => {
                        return Err((i, "Regex grouping error: Unclosed {".into()));
                    }
                }
            }
            b'[' => {
                let start = i;
                i += 1;
                if b.get(i) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    return Err((
                        start,
                        "Regex grouping error: Invalid empty character class []".into(),
                    ));
                }
                loop {
                    match b.get(i) {
                        None => {
                            return Err((start, "Regex grouping error: Unclosed [".into()));
                        }
                        Some(b'\\') => i += 2,
                        Some(b']') => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b']' => {
                return Err((
                    i,
                    "Regex grouping error: Invalid close ], no matching open [ detected".into(),
                ));
            }
            b'{' => {
                if braces.len() >= 50 {
                    return Err((
                        i,
                        "Regex grouping error: Exceeded maximum nesting of {}".into(),
                    ));
                }
                braces.push((i, 0));
            }
            b',' => {
                if let Some(top) = braces.last_mut() {
                    top.1 += 1;
                }
            }
            b'}' => match braces.pop() {
                None => {
                    return Err((
                        i,
                        "Regex grouping error: Invalid close }, no matching open { detected".into(),
                    ));
                }
                Some((start, 0)) => {
                    return Err((
                        start,
                        "Regex grouping error: Invalid number of items between {}".into(),
                    ));
                }
                Some(_) => {}
            },
            _ => {}
        }
        i += 1;
    }
    if let Some((start, _)) = braces.first() {
        return Err((*start, "Regex grouping error: Unclosed {".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_aare;

    #[test]
    fn globs() {
        for ok in [
            "/a/b",
            "/a{b,c}",
            "/{,u}random",
            "[^a]x",
            "a\\{b",
            "@{HOME}/x",
            "/a[\\]]",
        ] {
            assert!(check_aare(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/a{b}",
            "/a{}",
            "/a[",
            "/a]",
            "/a}",
            "x{y,z",
            "a\\",
            "/alpha/[]beta",
            "/a[]]",
        ] {
            assert!(check_aare(bad).is_err(), "{bad}");
        }
    }
}

/// One matching unit of a brace-free glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    /// `?`: one byte other than `/`.
    One,
    /// `[…]`: one byte from the set (bit `c % 64` of word `c / 64`).
    Class([u64; 4]),
    /// `*`: any run without `/`.
    Star,
    /// `**`: any run.
    StarStar,
}

/// True when `s` contains AARE special characters (is not one exact path).
pub(super) fn is_glob(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'*' | b'?' | b'[' | b'{' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Expands `{a,b}` alternations; `None` when there would be more than `max`.
fn expand_braces(s: &str, max: usize) -> Option<Vec<String>> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'[' => {
                while i < b.len() && b[i] != b']' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' => {
                // find the matching '}' and the top-level commas
                let (mut depth, mut j, mut parts, mut start) = (0usize, i + 1, Vec::new(), i + 1);
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 1,
                        b'{' => depth += 1,
                        b'}' if depth == 0 => break,
                        b'}' => depth -= 1,
                        b',' if depth == 0 => {
                            parts.push(&s[start..j]);
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return None;
                }
                parts.push(&s[start..j]);
                let (pre, post) = (&s[..i], &s[j + 1..]);
                let mut out = Vec::new();
                for p in parts {
                    for e in expand_braces(&format!("{pre}{p}{post}"), max)? {
                        out.push(e);
                        if out.len() > max {
                            return None;
                        }
                    }
                }
                return Some(out);
            }
            _ => i += 1,
        }
    }
    Some(vec![s.to_string()])
}

fn tokens(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut v = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                v.push(Tok::Lit(b[i + 1]));
                i += 2;
                continue;
            }
            b'*' if b.get(i + 1) == Some(&b'*') => {
                while b.get(i) == Some(&b'*') {
                    i += 1;
                }
                v.push(Tok::StarStar);
                continue;
            }
            b'*' => v.push(Tok::Star),
            b'?' => v.push(Tok::One),
            b'[' => {
                let mut set = [false; 256];
                let mut j = i + 1;
                let neg = b.get(j) == Some(&b'^');
                if neg {
                    j += 1;
                }
                let mut prev: Option<u8> = None;
                while j < b.len() && b[j] != b']' {
                    let mut c = b[j];
                    if c == b'\\' && j + 1 < b.len() {
                        j += 1;
                        c = b[j];
                    } else if c == b'-'
                        && prev.is_some()
                        && b.get(j + 1).is_some_and(|&n| n != b']')
                    {
                        let lo = prev.unwrap_or(0);
                        let hi = b[j + 1];
                        for x in lo..=hi.max(lo) {
                            set[x as usize] = true;
                        }
                        j += 2;
                        prev = None;
                        continue;
                    }
                    set[c as usize] = true;
                    prev = Some(c);
                    j += 1;
                }
                if neg {
                    for x in set.iter_mut() {
                        *x = !*x;
                    }
                    set[b'/' as usize] = false;
                }
                let mut bits = [0u64; 4];
                for (c, _) in set.iter().enumerate().filter(|(_, on)| **on) {
                    bits[c / 64] |= 1 << (c % 64);
                }
                v.push(Tok::Class(bits));
                i = j + 1;
                continue;
            }
            c => v.push(Tok::Lit(c)),
        }
        i += 1;
    }
    v
}

/// Whether a single-character token can match the byte `c`.
fn can_match(t: &Tok, c: u8) -> bool {
    match t {
        Tok::Lit(x) => *x == c,
        Tok::One => c != b'/',
        Tok::Class(s) => s[usize::from(c / 64)] & (1 << (c % 64)) != 0,
        Tok::Star => c != b'/',
        Tok::StarStar => true,
    }
}

/// The bytes a token can match as a 256-bit set.
fn byte_set(t: &Tok) -> [u64; 4] {
    match t {
        Tok::Lit(x) => {
            let mut s = [0u64; 4];
            s[usize::from(x / 64)] |= 1 << (x % 64);
            s
        }
        Tok::Class(s) => *s,
        Tok::One | Tok::Star => {
            let mut s = [u64::MAX; 4];
            // `/` (0x2f) is bit 47 of the first word
            s[0] &= !(1 << b'/');
            s
        }
        Tok::StarStar => [u64::MAX; 4],
    }
}

/// True when some byte other than NUL matches both tokens.
fn one_char_overlap(a: &Tok, b: &Tok) -> bool {
    match (a, b) {
        (Tok::Lit(x), t) | (t, Tok::Lit(x)) => *x != 0 && can_match(t, *x),
        _ => {
            let (x, y) = (byte_set(a), byte_set(b));
            // NUL (bit 0 of the first word) never counts
            (x[0] & y[0] & !1) != 0 || (1..4).any(|k| x[k] & y[k] != 0)
        }
    }
}

fn is_star(t: &Tok) -> bool {
    matches!(t, Tok::Star | Tok::StarStar)
}

/// True when some string matches both token lists.
fn tokens_intersect(a: &[Tok], b: &[Tok]) -> bool {
    // (i, j) visited: bit i * (b.len() + 1) + j
    let width = b.len() + 1;
    let mut seen = vec![false; (a.len() + 1) * width];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        let at = i * width + j;
        if seen[at] {
            continue;
        }
        seen[at] = true;
        if i == a.len() && j == b.len() {
            return true;
        }
        let (ta, tb) = (a.get(i), b.get(j));
        if let Some(t) = ta.filter(|t| is_star(t)) {
            stack.push((i + 1, j));
            if let Some(u) = tb {
                if is_star(u) || one_char_overlap(t, u) {
                    stack.push((i, j + 1));
                }
            }
        }
        if let Some(u) = tb.filter(|t| is_star(t)) {
            stack.push((i, j + 1));
            if let Some(t) = ta {
                if !is_star(t) && one_char_overlap(t, u) {
                    stack.push((i + 1, j));
                }
            }
        }
        if let (Some(t), Some(u)) = (ta, tb) {
            if !is_star(t) && !is_star(u) && one_char_overlap(t, u) {
                stack.push((i + 1, j + 1));
            }
        }
    }
    false
}

/// The `{…}` alternatives of one glob, tokenized once, split into those with a
/// wildcard and the exact ones (literals; with `classes_exact`, 4.x and later, also
/// `[…]` classes). A glob with more than 256 alternatives has none here: it is
/// compared with nothing (a miss, never a false error).
pub(super) struct Alternatives {
    wild: Vec<Vec<Tok>>,
    finite: Vec<Vec<Tok>>,
}

impl Alternatives {
    /// Expands and tokenizes `s`.
    pub(super) fn new(s: &str, classes_exact: bool) -> Self {
        let (mut wild, mut finite) = (Vec::new(), Vec::new());
        for x in expand_braces(s, 256).unwrap_or_default() {
            let t = tokens(&x);
            if t.iter().all(|x| is_exact(x, classes_exact)) {
                finite.push(t);
            } else {
                wild.push(t);
            }
        }
        Alternatives { wild, finite }
    }

    /// True when some alternative is exact (see [`finite_conflict`]).
    pub(super) fn has_finite(&self) -> bool {
        !self.finite.is_empty()
    }

    /// [`exec_globs_conflict`] of the two globs.
    pub(super) fn wild_conflict(&self, other: &Alternatives) -> bool {
        overlap(&self.wild, &other.wild)
    }

    /// [`finite_conflict`] of the two globs.
    pub(super) fn finite_conflict(&self, other: &Alternatives) -> bool {
        overlap(&self.finite, &other.finite)
    }
}

/// True when some path matches both globs (alternations expanded; gives
/// `false` when expansion would exceed 256 alternatives each).
#[cfg(test)]
pub(super) fn globs_intersect(a: &str, b: &str) -> bool {
    let all = |s: &str| {
        let x = Alternatives::new(s, false);
        x.wild.into_iter().chain(x.finite).collect::<Vec<_>>()
    };
    overlap(&all(a), &all(b))
}

/// Like [`globs_intersect`] but only between alternatives that both contain
/// wildcards: an exact path dominates globs, so apparmor_parser reports
/// conflicting exec modes only where two wildcard patterns overlap.
/// With `classes_exact` (4.x and later) an alternative made of literals and
/// `[…]` classes only counts as exact as well (see [`finite_conflict`]).
#[cfg(test)]
pub(super) fn exec_globs_conflict(a: &str, b: &str, classes_exact: bool) -> bool {
    Alternatives::new(a, classes_exact).wild_conflict(&Alternatives::new(b, classes_exact))
}

/// Whether the exact alternatives of `a` and `b` overlap: after `{…}`
/// expansion, those made of literals (and, with `classes_exact`, 4.x and
/// later, `[…]` classes). Exact alternatives outrank wildcard patterns but
/// conflict with each other.
#[cfg(test)]
pub(super) fn finite_conflict(a: &str, b: &str, classes_exact: bool) -> bool {
    Alternatives::new(a, classes_exact).finite_conflict(&Alternatives::new(b, classes_exact))
}

fn is_exact(t: &Tok, classes_exact: bool) -> bool {
    matches!(t, Tok::Lit(_)) || (classes_exact && matches!(t, Tok::Class(_)))
}

/// True when some alternative of `ta` and some of `tb` match a common path.
fn overlap(ta: &[Vec<Tok>], tb: &[Vec<Tok>]) -> bool {
    // bound the product search on hostile input (a miss, never a false error)
    let size = |v: &[Vec<Tok>]| v.iter().map(Vec::len).sum::<usize>();
    if size(ta).saturating_mul(size(tb)) > 4_000_000 {
        return false;
    }
    ta.iter().any(|x| tb.iter().any(|y| tokens_intersect(x, y)))
}

#[cfg(test)]
mod intersect_tests {
    use super::globs_intersect;

    #[test]
    fn intersections() {
        assert!(globs_intersect("/b*", "/*"));
        assert!(globs_intersect("/a*", "/*"));
        assert!(!globs_intersect("/a*", "/b*"));
        assert!(!globs_intersect("/a/*", "/a/b/c"));
        assert!(globs_intersect("/a/**", "/a/b/c"));
        assert!(globs_intersect("/{a,b}/x", "/b/*"));
        assert!(!globs_intersect("/usr/bin/[a-c]*", "/usr/bin/d*"));
        assert!(globs_intersect("/usr/bin/[^a]*", "/usr/bin/d*"));
        assert!(!globs_intersect("/x?", "/x"));
        use super::exec_globs_conflict;
        for classes_exact in [false, true] {
            assert!(exec_globs_conflict("/b*", "/*", classes_exact));
            assert!(!exec_globs_conflict(
                "/{,usr/}bin/bzip2",
                "/*",
                classes_exact
            ));
            assert!(exec_globs_conflict("/usr/*", "/**", classes_exact));
            assert!(!exec_globs_conflict("/usr/bin/foo", "/**", classes_exact));
        }
        // 3.0 treats a `[…]` class as a wildcard, 4.x and later as exact
        assert!(exec_globs_conflict("/usr/lib/qt[56]/QtWeb", "/**", false));
        assert!(!exec_globs_conflict("/usr/lib/qt[56]/QtWeb", "/**", true));
        use super::finite_conflict;
        assert!(finite_conflict("/a[bc]", "/a[cd]", true));
        assert!(finite_conflict("/a[bc]", "/ac", true));
        assert!(finite_conflict("/a{b,c}", "/a[cd]", true));
        assert!(!finite_conflict("/a[bc]", "/a*", true));
        assert!(!finite_conflict("/a[bc]", "/ad", true));
        assert!(!finite_conflict("/a[bc]", "/ac", false));
        assert!(finite_conflict("/a{b,c}", "/a{c,d}", false));
    }
}
