//! A starting profile for a program, as the AppArmor utils' autodep writes
//! one: the newest policy ABI of the profile directory, the global
//! tunables, the program's path as name and attachment, the base
//! abstraction, for a `#!` script the interpreter's abstraction and the
//! interpreter (`ix`) with read access to the script, the local override,
//! and `flags=(complain)` so that the first runs log instead of deny.

use std::path::{Path, PathBuf};

/// Errors finding the program.
#[derive(Debug, thiserror::Error)]
pub enum AutodepError {
    /// The program was not found (on the search path, under the root).
    #[error("{}: not found{}", crate::escape::escape_str(name), if looked.is_empty() { String::new() } else { format!(" (looked in: {looked})") })]
    NotFound {
        /// The name as given.
        name: String,
        /// The folders looked in.
        looked: String,
    },
    /// The program's path holds a character a starting profile cannot carry
    /// safely (a control character, or one of `<>"\\#` in the name of the
    /// local override it includes): refused rather than written, since the
    /// name ends up in policy text.
    #[error("{}: refused: the path holds {what}; rename the program or write its profile by hand", crate::escape::escape_str(&path.to_string_lossy()))]
    UnsafeName {
        /// The program's path.
        path: PathBuf,
        /// What was found.
        what: String,
    },
    /// Reading the program failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A starting profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Starter {
    /// The program's real path (links followed, relative to the root).
    pub program: PathBuf,
    /// The profile name (the program's path).
    pub name: String,
    /// The profile file's name in the profile directory (`usr.bin.foo`).
    pub file_name: String,
    /// The interpreter, for a `#!` script.
    pub interpreter: Option<PathBuf>,
    /// The profile text.
    pub text: String,
}

/// The real path of `program` under `root`: a name without `/` is looked
/// up in `search` (the `PATH` folders), a path is taken as given; links
/// are followed inside `root`. Returned relative to `root` (absolute).
///
/// # Errors
/// [`AutodepError::NotFound`] when no such file exists.
pub fn locate(root: &Path, program: &str, search: &[PathBuf]) -> Result<PathBuf, AutodepError> {
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        search.iter().map(|d| d.join(program)).collect()
    };
    for c in &candidates {
        if !c.is_absolute() {
            continue;
        }
        let under = root.join(c.strip_prefix("/").unwrap_or(c));
        if !under.is_file() {
            continue;
        }
        let rel = follow_links(root, c);
        return Ok(rel);
    }
    Err(AutodepError::NotFound {
        name: program.to_owned(),
        looked: if program.contains('/') {
            String::new()
        } else {
            search
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        },
    })
}

/// `path` (absolute, relative to `root`) with symbolic links of its last
/// component followed inside `root` (an absolute link target is taken
/// from the root, as the program sees it there).
fn follow_links(root: &Path, path: &Path) -> PathBuf {
    let mut cur = path.to_path_buf();
    for _ in 0..40 {
        let under = root.join(cur.strip_prefix("/").unwrap_or(&cur));
        let Ok(t) = std::fs::read_link(&under) else {
            break;
        };
        let next = if t.is_absolute() {
            t
        } else {
            cur.parent().unwrap_or(Path::new("/")).join(t)
        };
        // lexical normalisation of `.` and `..`
        let mut n = PathBuf::from("/");
        for c in next.components() {
            match c {
                std::path::Component::ParentDir => {
                    n.pop();
                }
                std::path::Component::Normal(x) => n.push(x),
                _ => {}
            }
        }
        cur = n;
    }
    cur
}

/// The abstraction of an interpreter (by its file name), as the utils
/// choose it: shells → `bash`, `perl*` → `perl`, `python*` → `python`,
/// `ruby*` → `ruby`, `php*` → `php`.
pub fn interpreter_abstraction(interp: &Path) -> Option<&'static str> {
    let n = interp.file_name()?.to_str()?;
    Some(match n {
        "sh" | "bash" | "dash" => "abstractions/bash",
        _ if n.starts_with("perl") => "abstractions/perl",
        _ if n.starts_with("python") => "abstractions/python",
        _ if n.starts_with("ruby") => "abstractions/ruby",
        _ if n.starts_with("php") => "abstractions/php",
        _ => return None,
    })
}

/// The interpreter of a script from its first line (`#!/bin/sh -e`,
/// `#!/usr/bin/env python3`): the program path, with `env`'s argument
/// looked up in `search` under `root`.
pub fn shebang(root: &Path, first: &[u8], search: &[PathBuf]) -> Option<PathBuf> {
    let line = first.strip_prefix(b"#!")?;
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let interp = words.next()?;
    if Path::new(interp).file_name().and_then(|n| n.to_str()) == Some("env") {
        let prog = words.find(|w| !w.starts_with('-'))?;
        return locate(root, prog, search)
            .ok()
            .or_else(|| Some(PathBuf::from(prog)));
    }
    Some(locate(root, interp, search).unwrap_or_else(|_| PathBuf::from(interp)))
}

/// The newest policy ABI file of the profile directory (`abi/4.0`), if any.
pub fn newest_abi(dir: &Path) -> Option<String> {
    let mut v: Vec<(Vec<u32>, String)> = std::fs::read_dir(dir.join("abi"))
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter_map(|n| {
            let parts: Option<Vec<u32>> = n.split('.').map(|p| p.parse().ok()).collect();
            parts.map(|p| (p, n))
        })
        .collect();
    v.sort();
    v.pop().map(|(_, n)| format!("abi/{n}"))
}

/// The profile file name for a program path: the path without its leading
/// `/`, every `/` a `.` (`/usr/bin/foo` → `usr.bin.foo`).
pub fn file_name_for(program: &Path) -> String {
    let s = program.to_string_lossy();
    s.trim_start_matches('/').replace('/', ".")
}

/// The starting profile for `program` (a real path, relative to `root`;
/// see [`locate`]), with the profile directory `dir` (for the ABI line).
///
/// # Errors
/// [`AutodepError::UnsafeName`] for a path with a control character or one
/// of `<>"\\#`; [`AutodepError::Io`] when the program cannot be read.
pub fn starter(
    root: &Path,
    program: &Path,
    dir: &Path,
    search: &[PathBuf],
) -> Result<Starter, AutodepError> {
    let bytes = program.as_os_str().as_encoded_bytes();
    let bad = bytes
        .iter()
        .find(|&&b| b < 0x20 || b == 0x7f || matches!(b, b'<' | b'>' | b'"' | b'\\' | b'#'));
    if let Some(&b) = bad {
        return Err(AutodepError::UnsafeName {
            path: program.to_owned(),
            what: if b < 0x20 || b == 0x7f {
                format!("the control character \\x{b:02x}")
            } else {
                format!("'{}'", b as char)
            },
        });
    }
    let under = root.join(program.strip_prefix("/").unwrap_or(program));
    let head = read_head(&under).map_err(|source| AutodepError::Io {
        path: program.to_owned(),
        source,
    })?;
    let interpreter = shebang(root, &head, search);
    let name_word =
        crate::triage::suggest::policy_word(program.as_os_str().as_encoded_bytes(), true);
    let file_name = file_name_for(program);
    let mut t = String::new();
    if let Some(abi) = newest_abi(dir) {
        t.push_str(&format!("abi <{abi}>,\n\n"));
    }
    t.push_str("include <tunables/global>\n\n");
    t.push_str(&format!("{name_word} flags=(complain) {{\n"));
    t.push_str("  include <abstractions/base>\n");
    if let Some(a) = interpreter.as_deref().and_then(interpreter_abstraction) {
        t.push_str(&format!("  include <{a}>\n"));
    }
    t.push('\n');
    match &interpreter {
        Some(i) => {
            let iw = crate::triage::suggest::policy_word(i.as_os_str().as_encoded_bytes(), true);
            t.push_str(&format!("  {iw} ix,\n  {name_word} r,\n"));
        }
        None => t.push_str(&format!("  {name_word} mr,\n")),
    }
    t.push_str(&format!("\n  include if exists <local/{file_name}>\n}}\n"));
    Ok(Starter {
        program: program.to_owned(),
        name: program.to_string_lossy().into_owned(),
        file_name,
        interpreter,
        text: t,
    })
}

/// The first line of a file (at most 256 bytes).
fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = [0u8; 256];
    let n = f.read(&mut buf)?;
    let line = buf[..n].split(|b| *b == b'\n').next().unwrap_or(&[]);
    Ok(line.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_interpreters() {
        assert_eq!(file_name_for(Path::new("/usr/bin/foo")), "usr.bin.foo");
        assert_eq!(
            interpreter_abstraction(Path::new("/usr/bin/python3.11")),
            Some("abstractions/python")
        );
        assert_eq!(
            interpreter_abstraction(Path::new("/bin/sh")),
            Some("abstractions/bash")
        );
        assert_eq!(interpreter_abstraction(Path::new("/usr/bin/awk")), None);
    }
}
