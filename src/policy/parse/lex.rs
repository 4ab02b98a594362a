//! Lexical primitives (words, permission tokens, variables, blanks) as nom
//! parsers over `&str`.
//!
//! The language is context dependent, so there is no global tokenizer: each
//! grammar area picks the word shape it needs (path/label word, list value,
//! rule-mode word, quoted string, mode string, conditional name).

use nom::{
    IResult, Parser,
    bytes::complete::{tag, take_while, take_while1},
    character::complete::{char, satisfy},
    combinator::recognize,
    error::{Error, ErrorKind},
    sequence::pair,
};

/// Blanks: space and TAB only.
pub(super) fn blanks(i: &str) -> IResult<&str, &str> {
    take_while(|c| c == ' ' || c == '\t').parse(i)
}

/// `[A-Za-z][A-Za-z0-9_]*`.
pub(super) fn ident(i: &str) -> IResult<&str, &str> {
    recognize(pair(
        satisfy(|c| c.is_ascii_alphabetic()),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))
    .parse(i)
}

/// A conditional or flag name: identifier that may also contain `.` and `-`.
pub(super) fn cond_ident(i: &str) -> IResult<&str, &str> {
    recognize(pair(
        satisfy(|c| c.is_ascii_alphabetic()),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.'),
    ))
    .parse(i)
}

/// A comment from `#` to end of line (newline not consumed); yields the text after `#`.
pub(super) fn comment(i: &str) -> IResult<&str, &str> {
    let (i, _) = char('#').parse(i)?;
    take_while(|c| c != '\n' && c != '\r').parse(i)
}

/// `"…"` with `\"` and `\\` escapes; yields the text between the quotes.
/// Fails (Error) when the closing quote is missing.
pub(super) fn quoted(i: &str) -> IResult<&str, &str> {
    let (rest, _) = char('"').parse(i)?;
    let b = rest.as_bytes();
    let mut k = 0;
    while k < b.len() {
        match b[k] {
            b'\\' if k + 1 < b.len() => k += 2,
            b'"' => return Ok((&rest[k + 1..], &rest[..k])),
            0 => break,
            _ => k += 1,
        }
    }
    Err(nom::Err::Error(Error::new(i, ErrorKind::Char)))
}

/// True for the bytes that always end a word: blanks, CR, LF, `"`, `!`, NUL.
pub(super) fn is_hard_stop(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'!' | 0)
}

/// Scans a word as apparmor_parser's lexer does for names and paths: stops at blanks, CR, LF,
/// `"`, `!`, at any byte for which `stop` holds, and at a `,` that is not
/// immediately followed by another word byte. `\x` escapes are taken as pairs
/// (except before a line end). Fails on an empty word.
pub(super) fn word_with(i: &str, stop: impl Fn(u8) -> bool) -> IResult<&str, &str> {
    let b = i.as_bytes();
    let mut k = 0;
    while k < b.len() {
        let c = b[k];
        if c == b'\\' && k + 1 < b.len() && b[k + 1] != b'\n' && b[k + 1] != b'\r' {
            k += 2;
            continue;
        }
        if is_hard_stop(c) || stop(c) {
            break;
        }
        if c == b',' {
            match b.get(k + 1) {
                Some(&n) if !is_hard_stop(n) && n != b',' && !stop(n) => {}
                _ => break,
            }
        }
        k += 1;
    }
    // never split a multi-byte char (all stop bytes are ASCII, but be safe)
    while k > 0 && !i.is_char_boundary(k) {
        k -= 1;
    }
    if k == 0 {
        return Err(nom::Err::Error(Error::new(i, ErrorKind::TakeWhile1)));
    }
    Ok((&i[k..], &i[..k]))
}

/// A path/label/id word (IDS / LABEL).
pub(super) fn ids(i: &str) -> IResult<&str, &str> {
    word_with(i, |_| false)
}

/// A word in a rule mode (IDS_NOASSIGN): also stops at `=`, `(` and `)`.
pub(super) fn rule_word(i: &str) -> IResult<&str, &str> {
    word_with(i, |c| matches!(c, b'=' | b')' | b'('))
}

/// A list value inside `( … )`: stops at any `,`, `(`, `)`.
pub(super) fn list_value(i: &str) -> IResult<&str, &str> {
    let b = i.as_bytes();
    let mut k = 0;
    while k < b.len() {
        let c = b[k];
        if c == b'\\' && k + 1 < b.len() && b[k + 1] != b'\n' {
            k += 2;
            continue;
        }
        if is_hard_stop(c) || matches!(c, b',' | b'(' | b')') {
            break;
        }
        k += 1;
    }
    while k > 0 && !i.is_char_boundary(k) {
        k -= 1;
    }
    if k == 0 {
        return Err(nom::Err::Error(Error::new(i, ErrorKind::TakeWhile1)));
    }
    Ok((&i[k..], &i[..k]))
}

/// A permission token (`rw`, `ix`, `Px`, …), only when followed by whitespace or `,`.
pub(super) fn modes(i: &str) -> IResult<&str, &str> {
    let b = i.as_bytes();
    let mut k = 0;
    let is = |k: usize, set: &[u8]| b.get(k).is_some_and(|c| set.contains(c));
    loop {
        if is(k, b"rRwWalLmMkxX") {
            k += 1;
        } else if is(k, b"pPcC") && is(k + 1, b"xX") {
            k += 2;
        } else if is(k, b"pPcC") && is(k + 1, b"iIuU") && is(k + 2, b"xX") {
            k += 3;
        } else if is(k, b"iIuU") && is(k + 1, b"xX") {
            k += 2;
        } else {
            break;
        }
    }
    let ok_end = matches!(b.get(k), Some(b' ' | b'\t' | b'\n' | b'\r' | b','));
    if k == 0 || !ok_end {
        return Err(nom::Err::Error(Error::new(i, ErrorKind::Char)));
    }
    Ok((&i[k..], &i[..k]))
}

/// A keyword `kw` not followed by an identifier byte.
pub(super) fn keyword<'a>(kw: &'static str) -> impl Fn(&'a str) -> IResult<&'a str, &'a str> {
    move |i: &'a str| {
        let (rest, m) = tag(kw).parse(i)?;
        if rest
            .as_bytes()
            .first()
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            return Err(nom::Err::Error(Error::new(i, ErrorKind::Tag)));
        }
        Ok((rest, m))
    }
}

/// A set variable reference `@{NAME}` or `@NAME`; yields NAME.
pub(super) fn set_var(i: &str) -> IResult<&str, &str> {
    let (r, _) = char('@').parse(i)?;
    if let Ok((r2, _)) = char::<&str, Error<&str>>('{').parse(r) {
        let (r3, name) = ident(r2)?;
        let (r4, _) = char('}').parse(r3)?;
        return Ok((r4, name));
    }
    ident(r)
}

/// A boolean variable reference `${NAME}` or `$NAME`; yields NAME.
pub(super) fn bool_var(i: &str) -> IResult<&str, &str> {
    let (r, _) = char('$').parse(i)?;
    if let Ok((r2, _)) = char::<&str, Error<&str>>('{').parse(r) {
        let (r3, name) = ident(r2)?;
        let (r4, _) = char('}').parse(r3)?;
        return Ok((r4, name));
    }
    ident(r)
}

/// An optionally signed decimal integer.
pub(super) fn integer(i: &str) -> IResult<&str, &str> {
    recognize(pair(
        take_while(|c| c == '-' || c == '+'),
        take_while1(|c: char| c.is_ascii_digit()),
    ))
    .parse(i)
}
