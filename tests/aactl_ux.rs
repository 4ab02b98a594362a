//! First-use problems of `aactl` (exit codes, JSON conventions, messages, preflight, wording),
//! each pinned by a test.

use crate::aactl_status::{aactl, mixed, on};

/// Input that cannot be read exits 2 with a message naming the path, for `log` (plain and
/// triage views) and `check`; `check` prints no "0 file(s) checked" line then.
#[test]
fn unreadable_input_exits_2_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let missing = dir.path().join("nonexistent");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["log", missing],
        vec!["log", d],
        vec!["log", "--format", "json", missing],
        vec!["log", "--summary", missing],
        vec!["log", "--suggest", missing],
        vec!["check", missing],
    ] {
        let (code, out, err) = aactl(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        let path = args.last().unwrap();
        assert!(err.contains(path), "{args:?}: {err}");
        assert!(!out.contains("file(s) checked"), "{args:?}: {out}");
    }
    // one readable file and one missing: still 2, and the summary counts the one read
    let good = dir.path().join("good");
    std::fs::write(&good, "profile good { }\n").unwrap();
    let (code, out, err) = aactl(&["check", good.to_str().unwrap(), missing]);
    assert_eq!(code, 2, "{err}");
    assert!(out.contains("1 file(s) checked, 0 invalid"), "{out}");
}

/// `ps --mode WORD` keeps unknown words (newer kernels) but warns, suggesting the closest mode.
#[test]
fn ps_unknown_mode_warns() {
    let (code, out, err) = on(&mixed(), &["ps", "--mode", "enforced"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("aactl: warning: no known mode 'enforced'; did you mean 'enforce'?"),
        "{err}"
    );
    assert!(!out.contains("enforce)"), "{out}");
    let (_, _, err) = on(&mixed(), &["ps", "--mode", "bogus"]);
    assert!(err.contains("no known mode 'bogus'"), "{err}");
    assert!(!err.contains("did you mean"), "{err}");
    for known in ["enforce", "complain,kill", "user", "mixed"] {
        let (code, _, err) = on(&mixed(), &["ps", "--mode", known]);
        assert_eq!(code, 0);
        assert_eq!(err, "", "{known}");
    }
}
