//! Which release of `apparmor_parser` a profile is checked for.
//!
//! The profile language grew between releases: 3.0 (Debian 12), 4.1 (Debian
//! 13), 5.0 (Debian sid, Ubuntu 25.x) and 6.0 (upstream). A construct that an
//! older parser does not know is an error when checking for that release, and
//! writers ([`crate::triage`]) emit only what the target release accepts.
//! COMPATIBILITY.md lists what each release gates.

use std::fmt;
use std::str::FromStr;

/// A release line of `apparmor_parser`, oldest first (so `<` means "older").
///
/// Versions in between map to the release line whose language they share:
/// any 3.x is [`V3_0`](Self::V3_0), 4.x is [`V4_1`](Self::V4_1), 5.x is
/// [`V5_0`](Self::V5_0), 6.0 and later are [`V6_0`](Self::V6_0); a release
/// before 3.0 is treated as 3.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ParserVersion {
    /// AppArmor 3.0.x (Debian 12: 3.0.8).
    V3_0,
    /// AppArmor 4.0.x and 4.1.x (Debian 13: 4.1.0).
    V4_1,
    /// AppArmor 5.0.x (Debian sid: 5.0.2).
    V5_0,
    /// AppArmor 6.0 and later (upstream).
    V6_0,
}

impl ParserVersion {
    /// The newest language this crate knows; the default when no parser is installed.
    pub const LATEST: ParserVersion = ParserVersion::V6_0;
    /// Every release line, oldest first.
    pub const ALL: [ParserVersion; 4] = [
        ParserVersion::V3_0,
        ParserVersion::V4_1,
        ParserVersion::V5_0,
        ParserVersion::V6_0,
    ];

    /// `"3.0"`, `"4.1"`, `"5.0"` or `"6.0"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParserVersion::V3_0 => "3.0",
            ParserVersion::V4_1 => "4.1",
            ParserVersion::V5_0 => "5.0",
            ParserVersion::V6_0 => "6.0",
        }
    }

    /// The release line of a `MAJOR.MINOR[.PATCH…]` version number.
    pub fn from_numbers(major: u32, _minor: u32) -> ParserVersion {
        match major {
            0..=3 => ParserVersion::V3_0,
            4 => ParserVersion::V4_1,
            5 => ParserVersion::V5_0,
            _ => ParserVersion::V6_0,
        }
    }

    /// The release line named in `apparmor_parser --version`'s output
    /// (`AppArmor parser version 4.1.0`, possibly with a suffix such as
    /// `~beta1`), or `None` when the text carries no version number.
    pub fn from_version_output(text: &str) -> Option<ParserVersion> {
        let rest = text.split("version").nth(1)?;
        ParserVersion::from_release(rest.split_whitespace().next()?)
    }

    /// The release line of a release string as packages and `--version`
    /// print it, suffixes allowed (`4.1.0~beta5`, `3.0.8-3`); `None` when it
    /// does not start with a number. [`FromStr`] is the strict form for
    /// command-line values.
    pub fn from_release(text: &str) -> Option<ParserVersion> {
        let (major, minor) = numbers(text.trim())?;
        Some(ParserVersion::from_numbers(major, minor))
    }
}

/// `MAJOR.MINOR` at the start of `s` (`4.1.0~beta1` → (4, 1)).
fn numbers(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor_text: String = parts
        .next()
        .unwrap_or("0")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor_text.parse().unwrap_or(0)))
}

impl fmt::Display for ParserVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not a parser version: the text is echoed (escape it before printing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a parser version (expected 3.0, 4.1, 5.0 or 6.0, or a full version such as 4.1.0)")]
pub struct ParseVersionError;

impl FromStr for ParserVersion {
    type Err = ParseVersionError;
    /// `3.0`, `3.0.8`, `4`, `4.1`, `5.0.2`, `6.0` …: `MAJOR[.MINOR[.PATCH…]]`,
    /// numbers only, from 3 on (no release line before 3.0 is modelled, so
    /// `2.13` is an error rather than a check for another language).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.split('.')
            .any(|n| n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(ParseVersionError);
        }
        let (major, minor) = numbers(s).ok_or(ParseVersionError)?;
        if major < 3 {
            return Err(ParseVersionError);
        }
        Ok(ParserVersion::from_numbers(major, minor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_parser_output() {
        assert_eq!("3.0.8".parse(), Ok(ParserVersion::V3_0));
        assert_eq!("4.1".parse(), Ok(ParserVersion::V4_1));
        assert_eq!("4.0.3".parse(), Ok(ParserVersion::V4_1));
        assert_eq!("5".parse(), Ok(ParserVersion::V5_0));
        assert_eq!("6.0".parse(), Ok(ParserVersion::V6_0));
        assert_eq!("7.1".parse(), Ok(ParserVersion::V6_0));
        assert!("x".parse::<ParserVersion>().is_err());
        assert!("".parse::<ParserVersion>().is_err());
        // malformed, or older than the oldest line modelled
        for bad in ["2", "2.13", "0.9", "4.1.", ".4", "4..1", "4.1.0~rc1", "4,1"] {
            assert!(bad.parse::<ParserVersion>().is_err(), "{bad}");
        }
        assert_eq!(
            ParserVersion::from_release("2.13.6"),
            Some(ParserVersion::V3_0)
        );
        let out = "AppArmor parser version 5.0.2\nCopyright (C) 1999-2008 Novell Inc.\n";
        assert_eq!(
            ParserVersion::from_version_output(out),
            Some(ParserVersion::V5_0)
        );
        assert_eq!(
            ParserVersion::from_version_output("AppArmor parser version 4.1.0~beta5"),
            Some(ParserVersion::V4_1)
        );
        assert_eq!(ParserVersion::from_version_output("nothing"), None);
        assert_eq!(
            ParserVersion::from_release("3.0.8-3"),
            Some(ParserVersion::V3_0)
        );
        assert_eq!(ParserVersion::from_release("~x"), None);
        assert!(ParserVersion::V3_0 < ParserVersion::V5_0);
    }
}
