//! AARE (glob) well-formedness (spec §4): balanced `[]` and `{}`, at least
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
            b'@' if b.get(i + 1) == Some(&b'{') => {
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
