//! Hostile inputs: binary bytes, huge lines, deep nesting, include loops,
//! unterminated quotes and braces. Each gets a diagnostic; none panics,
//! hangs or overflows the stack (parsing runs on a 2 MiB thread with a timeout).

use apparmor::diag::FileId;
use apparmor::policy::parse::{MAX_NESTING, ParseMode, parse};
use apparmor::policy::resolve::{MAX_INCLUDE_DEPTH, Resolver, SearchPath, codes};
use proptest::prelude::*;
use std::sync::mpsc;
use std::time::Duration;

/// Parses `text` on a small-stack thread; returns whether it had an error.
fn parse_guarded(name: &str, text: String) -> bool {
    let (tx, rx) = mpsc::channel();
    let n = name.to_string();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .name(n)
        .spawn(move || {
            let p = parse(&text, FileId(0), ParseMode::Policy);
            let _ = tx.send(!p.is_ok());
        })
        .expect("spawn");
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{name}: parser panicked or hung"))
}

fn cases() -> Vec<(&'static str, String)> {
    let mut bin = String::new();
    for i in 0..65536u32 {
        bin.push(char::from_u32((i * 7919) % 0x2FF).unwrap_or('\u{fffd}'));
    }
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let mib = 1 << 20;
    vec![
        ("binary", String::from_utf8_lossy(&bytes).into_owned()),
        ("codepoints", bin),
        ("nul", "profile a {\n  /a\0 r,\n}\n".into()),
        (
            "long word line",
            format!("profile a {{\n  /{} r\n}}\n", "a".repeat(mib)),
        ),
        (
            "long comma line",
            format!("profile a {{\n  {}\n}}\n", ",".repeat(mib)),
        ),
        (
            "long blank line",
            format!("profile a {{\n{}\n", " ".repeat(mib)),
        ),
        (
            "long quote",
            format!("profile a {{\n  \"{} r,\n}}\n", "x".repeat(mib)),
        ),
        (
            "nested braces",
            format!("profile a {}", "{".repeat(200_000)),
        ),
        ("nested profiles", "profile a {\n".repeat(100_000)),
        (
            "nested hats",
            format!("/a {{\n{}", "^h {\n".repeat(100_000)),
        ),
        (
            "nested ifs",
            format!("profile a {{\n{}", "if $x {\n".repeat(100_000)),
        ),
        (
            "nested parens",
            format!("profile a {{\n if {} $x {{ }}\n}}\n", "(".repeat(200_000)),
        ),
        (
            "nested nots",
            format!(
                "profile a {{\n if {} $x {{ }}\n}}\n",
                "not ".repeat(200_000)
            ),
        ),
        (
            "nested blocks",
            format!("profile a {{\n{}", "audit {\n".repeat(100_000)),
        ),
        ("unterminated quote", "profile \"a {\n  /a r,\n}\n".into()),
        ("unterminated brace", "profile a {\n  /a r,\n".into()),
        (
            "unterminated paren",
            "profile a flags=(complain {\n}\n".into(),
        ),
        (
            "unterminated include",
            "include <abstractions/base\n".into(),
        ),
        ("stray close", "}}}}\n".into()),
        (
            "many errors",
            "profile a {\n".to_string() + &"  /a r /b\n".repeat(50_000) + "}\n",
        ),
    ]
}

#[test]
fn hostile_texts_get_diagnostics() {
    for (name, text) in cases() {
        assert!(parse_guarded(name, text), "{name}: expected a diagnostic");
    }
    // just inside the limit still parses
    let ok = format!(
        "profile a {{\n{}{}}}\n",
        "audit {\n".repeat(MAX_NESTING - 2),
        "}\n".repeat(MAX_NESTING - 2)
    );
    assert!(!parse_guarded("at limit", ok));
}

#[test]
fn include_loops_and_depth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("a"), "include <b>\n/a r,\n").unwrap();
    std::fs::write(d.join("b"), "include <a>\n/b r,\n").unwrap();
    std::fs::write(d.join("self"), "include <self>\n").unwrap();
    std::fs::create_dir(d.join("chain")).unwrap();
    for i in 0..(MAX_INCLUDE_DEPTH + 10) {
        std::fs::write(
            d.join(format!("chain/{i}")),
            format!("include <chain/{}>\n", i + 1),
        )
        .unwrap();
    }
    std::fs::write(d.join("p1"), "profile p {\n  include <a>\n}\n").unwrap();
    std::fs::write(d.join("p2"), "include <self>\nprofile p {\n}\n").unwrap();
    std::fs::write(d.join("p3"), "profile p {\n  include <chain/0>\n}\n").unwrap();
    std::fs::write(d.join("p4"), "profile p {\n  include <chain/>\n}\n").unwrap();
    let mut r = Resolver::new(SearchPath {
        include_dirs: vec![d.to_path_buf()],
        base: None,
        cwd: d.to_path_buf(),
        within: Vec::new(),
    });
    // a <-> b: include-once within the block stops the loop silently (as upstream)
    let res = r.resolve_file(&d.join("p1")).unwrap();
    assert!(res.is_ok(), "{:?}", res.diagnostics);
    assert_eq!(res.profiles[0].rules.len(), 2);
    let res = r.resolve_file(&d.join("p3")).unwrap();
    assert!(
        res.diagnostics
            .iter()
            .any(|x| x.code == codes::INCLUDE_DEPTH),
        "{:?}",
        res.diagnostics
    );
    let res = r.resolve_file(&d.join("p4")).unwrap();
    assert!(!res.is_ok());
    let res = r.resolve_file(&d.join("p2")).unwrap();
    assert!(res.is_ok(), "{:?}", res.diagnostics);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_text_never_panics(s in "[ -~\\n\\t{}(),\"#@$^=<>:/\\\\]{0,200}") {
        let a = parse(&s, FileId(0), ParseMode::Policy);
        let b = parse(&s, FileId(0), ParseMode::Fragment);
        // whatever parsed cleanly prints and re-parses to the same AST
        if a.is_ok() {
            let again = parse(&a.ast.to_string(), FileId(0), ParseMode::Policy);
            prop_assert_eq!(again.ast, a.ast);
        }
        let _ = b;
    }

    #[test]
    fn arbitrary_profile_bodies_never_panic(s in "[a-z /@{},()=\\-\\n>\"#]{0,120}") {
        let text = format!("profile p {{\n{s}\n}}\n");
        let a = parse(&text, FileId(0), ParseMode::Policy);
        if a.is_ok() {
            let again = parse(&a.ast.to_string(), FileId(0), ParseMode::Policy);
            prop_assert_eq!(again.ast, a.ast);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_unicode_never_panics(s in any::<String>()) {
        let text = format!("profile p {{\n{s}\n}}\n{s}");
        let a = parse(&text, FileId(0), ParseMode::Policy);
        let _ = parse(&s, FileId(0), ParseMode::Fragment);
        let _ = apparmor::policy::edit::set_profile_mode(&text, "p", Some("complain"));
        if a.is_ok() {
            let again = parse(&a.ast.to_string(), FileId(0), ParseMode::Policy);
            prop_assert_eq!(again.ast, a.ast);
        }
    }
}
