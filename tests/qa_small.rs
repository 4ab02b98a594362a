//! Regression tests for small robustness fixes: aa-status JSON keys, the
//! policy variable resolver, option bounds and date checks, `--root`
//! checks, and one-line error messages.

use crate::common::aactl;
use crate::qa_status::{SFS, aa_status, fake_root};

#[test]
fn aa_status_json_has_each_profile_key_once() {
    // Two names that read the same once invalid UTF-8 is replaced, and a
    // name listed twice (in one mode, then in two modes).
    let d = fake_root();
    std::fs::write(
        d.path().join(SFS).join("profiles"),
        b"a\xff (enforce)\na\xfe (enforce)\nb (complain)\nb (complain)\nc (enforce)\nc (complain)\n",
    )
    .unwrap();
    let (out, err, code) = aa_status(d.path(), &["--json", "--show=profiles"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "{\"version\": \"2\", \"profiles\": {\"a\u{fffd}\": \"enforce\", \"c\": \"enforce\", \"b\": \"complain\"}}\n"
    );
    let (out, _, code) = aa_status(d.path(), &["--pretty-json", "--show=profiles"]);
    assert_eq!(code, 0);
    for key in ["\"a\u{fffd}\"", "\"b\"", "\"c\""] {
        assert_eq!(out.matches(key).count(), 1, "{key} in {out}");
    }
    // The counts and the text report still list every line, as upstream.
    let (out, _, _) = aa_status(d.path(), &["--json", "--count", "--show=profiles"]);
    assert_eq!(out, "{\"version\": \"2\", \"profile_count\": 6}\n");
    let (out, _, _) = aa_status(d.path(), &["--show=profiles"]);
    assert!(out.contains("6 profiles are loaded.\n"), "{out}");
    assert!(out.contains("3 profiles are in enforce mode.\n"), "{out}");
}

/// A profile using `@{V0}`, where `@{Vi}` holds `x@{Vi+1}` and the last one
/// `end` (or, with `cycle`, the last one refers back to `@{V0}`).
fn variable_chain(n: usize, cycle: bool) -> String {
    let mut s = String::new();
    for i in 0..n {
        let value = if i + 1 < n {
            format!("x@{{V{}}}", i + 1)
        } else if cycle {
            "@{V0}".to_owned()
        } else {
            "end".to_owned()
        };
        s += &format!("@{{V{i}}}={value}\n");
    }
    s + "profile a {\n  /@{V0} r,\n}\n"
}

#[test]
fn a_long_variable_chain_is_not_recursion() {
    let d = tempfile::tempdir().unwrap();
    let chain = d.path().join("chain");
    for n in [40, 1000] {
        std::fs::write(&chain, variable_chain(n, false)).unwrap();
        let (code, out, err) = aactl(&["check", "--syntax-only", chain.to_str().unwrap()]);
        assert_eq!(code, 0, "{n}: {out}{err}");
    }
    // apparmor_parser agrees for 40 (when installed)
    if let Ok(p) = apparmor::loader::find_parser_from_env() {
        std::fs::write(&chain, variable_chain(40, false)).unwrap();
        let st = std::process::Command::new(p)
            .args(["-Q", "-K"])
            .arg(&chain)
            .output()
            .unwrap();
        assert!(st.status.success(), "{st:?}");
    }
    // a real cycle, however long, is still reported
    std::fs::write(&chain, variable_chain(50, true)).unwrap();
    let (code, out, _) = aactl(&["check", "--syntax-only", chain.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is referenced recursively"), "{out}");
    // past the bound: a distinct message, not "recursively"
    std::fs::write(&chain, variable_chain(1100, false)).unwrap();
    let (code, out, _) = aactl(&["check", "--syntax-only", chain.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is nested too deeply"), "{out}");
    assert!(!out.contains("recursively"), "{out}");
}

#[test]
fn a_long_run_of_variable_openers_is_checked_in_linear_time() {
    // 400 KB of `@{` in a rule, in a variable's value, and before a
    // closing brace (every `@{` then reaches the same `}`). Each took 2.5 to
    // 7 s in a debug build when every `@{` searched for its `}` or scanned
    // the name up to it; now about 0.1 s.
    let run = "@{".repeat(200_000);
    let d = tempfile::tempdir().unwrap();
    for (what, text) in [
        ("rule", format!("profile a {{\n  /{run} r,\n}}\n")),
        (
            "rule, closed",
            format!("profile a {{\n  /x{run}b}} r,\n}}\n"),
        ),
        (
            "value, closed",
            format!("@{{X}}={run}}}\nprofile a {{\n  /@{{X}} r,\n}}\n"),
        ),
        ("name", format!("profile {run} {{\n}}\n")),
    ] {
        let f = d.path().join("p");
        std::fs::write(&f, &text).unwrap();
        let t = std::time::Instant::now();
        let (code, _, err) = aactl(&["check", f.to_str().unwrap()]);
        let took = t.elapsed();
        assert!(code <= 1, "{what}: {err}");
        assert!(
            took < std::time::Duration::from_secs(2),
            "{what}: {took:?} for {} bytes",
            text.len()
        );
    }
}
