//! Resolution: include forms and search, directory order, include-once,
//! variables from tunables, conditions, the resolved view.

use apparmor::policy::ast::{Rule, Word};
use apparmor::policy::resolve::{Resolved, Resolver, SearchPath, codes};
use std::path::Path;

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

fn resolve(d: &Path, file: &str) -> (Resolved, Resolver) {
    let mut r = Resolver::new(SearchPath {
        include_dirs: vec![d.join("inc")],
        base: Some(d.join("base")),
        cwd: d.join("cwd"),
        within: Vec::new(),
    });
    std::fs::create_dir_all(d.join("cwd")).unwrap();
    let res = r.resolve_file(&d.join(file)).unwrap();
    (res, r)
}

fn paths(res: &Resolved, profile: usize) -> Vec<String> {
    res.profiles[profile]
        .rules
        .iter()
        .filter_map(|r| match &r.rule {
            Rule::File(f) => f.path.as_ref().map(Word::value),
            _ => None,
        })
        .collect()
}

#[test]
fn tunables_expand_into_alternations_and_rules_keep_their_origin() {
    let d = tree(&[
        ("base/tunables/global", "include <tunables/home>\n"),
        (
            "base/tunables/home",
            "@{HOME}=@{HOMEDIRS}/*/ /root/\n@{HOMEDIRS}=/home/\ninclude if exists <tunables/home.d>\n",
        ),
        ("base/tunables/home.d/site", "@{HOMEDIRS}+=/srv/home/\n"),
        ("base/abstractions/base", "/etc/ld.so.cache r,\n"),
        (
            "p",
            "include <tunables/global>\nprofile p /usr/bin/p {\n  include <abstractions/base>\n  include <abstractions/base>\n  owner @{HOME}/.p r,\n  @{exec_path} mr,\n}\n",
        ),
    ]);
    let (res, r) = resolve(d.path(), "p");
    assert!(res.is_ok(), "{:?}", res.diagnostics);
    assert_eq!(
        paths(&res, 0),
        vec![
            "/etc/ld.so.cache",
            "{/root,{/home,/srv/home}/*}/.p",
            "/usr/bin/p"
        ]
    );
    // the abstraction's rule points into the abstraction file, line 1
    let (path, line, col) = r.sources.locate(res.profiles[0].rules[0].span).unwrap();
    assert!(path.ends_with("abstractions/base"));
    assert_eq!((line, col), (1, 1));
    let (path, line, _) = r.sources.locate(res.profiles[0].rules[1].span).unwrap();
    assert!(path.ends_with("p"));
    assert_eq!(line, 5);
}

#[test]
fn search_order_quotes_and_if_exists() {
    let d = tree(&[
        ("inc/x", "/from/inc r,\n"),
        ("base/x", "/from/base r,\n"),
        ("base/only", "/only/base r,\n"),
        ("cwd/x", "/from/cwd r,\n"),
        (
            "p",
            "profile p {\n  include <x>\n  include <only>\n  include \"x\"\n  include if exists <nope>\n  include if exists \"nope\"\n}\n",
        ),
        ("q", "profile q {\n  include <nope>\n}\n"),
        ("abs", "profile q {\n  include </etc/hostname>\n}\n"),
    ]);
    let (res, _) = resolve(d.path(), "p");
    assert!(res.is_ok(), "{:?}", res.diagnostics);
    assert_eq!(paths(&res, 0), vec!["/from/inc", "/only/base", "/from/cwd"]);
    let (res, _) = resolve(d.path(), "q");
    assert_eq!(res.diagnostics[0].code, codes::INCLUDE_NOT_FOUND);
    assert_eq!(res.diagnostics[0].message, "Could not open 'nope'");
    // <> names are joined to the search dirs even when absolute
    let (res, _) = resolve(d.path(), "abs");
    assert!(!res.is_ok());
}

#[test]
fn directory_includes_consume_entries_last_name_first() {
    let d = tree(&[
        ("inc/v1/a_def", "@{Z}=/a\n"),
        ("inc/v1/b_add", "@{Z}+=/b\n"),
        ("inc/v2/a_add", "@{Z}+=/b\n"),
        ("inc/v2/b_def", "@{Z}=/a\n"),
        ("inc/v2/README", "garbage {\n"),
        ("inc/v2/x.dpkg-old", "garbage {\n"),
        ("inc/v2/y.rpmsave", "garbage {\n"),
        ("p1", "include <v1>\nprofile p {\n  @{Z} r,\n}\n"),
        ("p2", "include <v2/>\nprofile p {\n  @{Z} r,\n}\n"),
    ]);
    let (res, _) = resolve(d.path(), "p1");
    assert!(!res.is_ok());
    let (res, _) = resolve(d.path(), "p2");
    assert!(res.is_ok(), "{:?}", res.diagnostics);
    assert_eq!(paths(&res, 0), vec!["{/a,/b}"]);
    assert!(
        res.diagnostics
            .iter()
            .any(|x| x.code == codes::IGNORED && x.message.contains("y.rpmsave"))
    );
}

#[test]
fn conditions_and_undefined_variables() {
    let d = tree(&[(
        "p",
        "${B} = true\n@{S} = a b\n@{T} = a b c\nprofile p {\n  if ${B} and not defined @{NOPE} {\n    /yes r,\n  } else {\n    /no r,\n    @{UNDEF_UNTAKEN} r,\n  }\n  if @{S} == b {\n    /never r,\n  } else if @{S} in @{T} {\n    /in r,\n  }\n  audit deny {\n    owner /q w,\n  }\n  @{UNDEF}/x r,\n  if $unset {\n  }\n}\n",
    )]);
    let (res, r) = resolve(d.path(), "p");
    let errs: Vec<_> = res.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].message, "Failed to find declaration for: @{UNDEF}");
    assert_eq!(r.sources.locate(errs[0].span).unwrap().1, 19);
    assert!(errs[1].message.contains("Unset boolean variable $unset"));
    let rules = &res.profiles[0].rules;
    assert!(matches!(&rules[0].rule, Rule::File(f) if f.path.as_ref().unwrap().text == "/yes"));
    assert!(matches!(&rules[1].rule, Rule::File(f) if f.path.as_ref().unwrap().text == "/in"));
    assert!(rules[2].quals.audit && rules[2].quals.owner.is_some());
}

#[test]
fn aliases_duplicate_matching_file_rules() {
    let d = tree(&[(
        "p",
        "alias /usr/ -> /User/,\nprofile p {\n  /usr/bin/x r,\n  /etc/x r,\n}\n",
    )]);
    let (res, _) = resolve(d.path(), "p");
    assert!(res.is_ok(), "{:?}", res.diagnostics);
    assert_eq!(
        res.aliases,
        vec![("/usr/".to_string(), "/User/".to_string())]
    );
    assert_eq!(paths(&res, 0), vec!["/User/bin/x", "/usr/bin/x", "/etc/x"]);
}
