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
