//! Turning an error and its causes into one line of text, for every message the tools print.

/// An error and its sources joined by `: `, each cause once: an error whose own text
/// already ends with its source's text (some types print their cause themselves) does not
/// get it again, and a cause whose text is already at the end is skipped. An I/O error is
/// written as C's `strerror` does, without Rust's ` (os error N)` suffix.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = plain(e);
    let mut src = e.source();
    while let Some(s) = src {
        let raw = s.to_string();
        let text = plain(s);
        match msg.strip_suffix(raw.as_str()) {
            Some(head) if !raw.is_empty() => msg = format!("{head}{text}"),
            _ if msg.ends_with(text.as_str()) => {}
            _ => {
                msg.push_str(": ");
                msg.push_str(&text);
            }
        }
        src = s.source();
    }
    msg
}

/// The text of one error, an I/O error without ` (os error N)`.
fn plain(e: &(dyn std::error::Error + 'static)) -> String {
    match e.downcast_ref::<std::io::Error>() {
        Some(io) => strerror(io),
        None => e.to_string(),
    }
}

/// The text of an I/O error the way C's `strerror` prints it (without Rust's
/// ` (os error N)` suffix), e.g. `No such file or directory`. Also reachable as
/// `system::strerror`.
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_owned(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read /x: {source}")]
    struct Repeats {
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer {
        #[source]
        source: Repeats,
    }

    #[test]
    fn each_cause_once() {
        let e = Outer {
            source: Repeats {
                source: std::io::Error::from_raw_os_error(2),
            },
        };
        assert_eq!(
            chain(&e),
            "outer: cannot read /x: No such file or directory"
        );
    }
}
