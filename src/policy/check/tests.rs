//! Unit tests of the semantic checks on small profiles.

use super::{CheckOptions, Features, check, codes};
use crate::policy::resolve::{Resolver, SearchPath};
use std::path::Path;

fn run(text: &str, opts: &CheckOptions) -> Vec<(&'static str, bool)> {
    let mut r = Resolver::new(SearchPath::default());
    let res = r.resolve_text(Path::new("t"), text.to_string());
    assert!(res.is_ok(), "{:?}", res.diagnostics);
    check(&res, &r.sources, opts)
        .into_iter()
        .map(|d| (d.code, d.is_error()))
        .collect()
}

fn codes_of(body: &str) -> Vec<&'static str> {
    run(&format!("/p {{\n{body}\n}}\n"), &CheckOptions::default())
        .into_iter()
        .map(|(c, _)| c)
        .collect()
}

#[test]
fn file_modes() {
    assert!(codes_of("/a r,\n/b Pix,\n/c cux -> k,\n/d RWM,\ndeny /e x,").is_empty());
    assert_eq!(codes_of("/a wa,"), [codes::APPEND_WRITE]);
    assert_eq!(codes_of("/a ixpx,"), [codes::EXEC_CONFLICT]);
    assert!(codes_of("/a pxpxpx,").is_empty());
    assert_eq!(codes_of("/a rx,"), [codes::BARE_X]);
    assert_eq!(codes_of("deny /a ix,"), [codes::DENY_EXEC]);
    assert_eq!(codes_of("unsafe r /a,"), [codes::EXEC_KEYWORD]);
    assert_eq!(codes_of("/a px,\n/a ix,"), [codes::MERGED_X]);
    assert!(codes_of("/a pix,\nunsafe pix /a,").is_empty());
    assert_eq!(codes_of("/a Pix,\nunsafe Pix /a,"), [codes::MERGED_X]);
    assert_eq!(codes_of("lpx /a -> /b,"), [codes::LINK_EXEC]);
    assert_eq!(codes_of("/a{b} r,"), [codes::GLOB]);
    assert_eq!(codes_of("/a ux,"), [codes::UNCONFINED_EXEC]);
}

#[test]
fn rule_kinds() {
    assert!(codes_of("network inet tcp,\nnetwork ip=::1 port=1-2,\nnetwork tcp,").is_empty());
    assert_eq!(codes_of("network inet6 icmp,"), [codes::NETWORK]);
    assert_eq!(codes_of("network port=443-80,"), [codes::NETWORK]);
    assert_eq!(codes_of("network unix ip=::1,"), [codes::NETWORK]);
    assert_eq!(codes_of("owner capability chown,"), [codes::OWNER]);
    assert_eq!(codes_of("capability CAP_CHOWN,"), [codes::CAPABILITY]);
    assert_eq!(codes_of("signal set=(hup rtmin+33),"), [codes::SIGNAL]);
    assert!(codes_of("signal set=hup set=(int, rtmin+32),").is_empty());
    assert_eq!(codes_of("mount options=(ro,rw) -> /m/,"), [codes::MOUNT]);
    assert!(codes_of("mount options in (ro,rw) -> /m/,").is_empty());
    assert_eq!(codes_of("set rlimit cpu <= 500ms,"), [codes::RLIMIT]);
    assert!(
        codes_of("set rlimit cpu <= 2,\nset rlimit data <= 4M,\nset rlimit nice <= -20,")
            .is_empty()
    );
    assert_eq!(codes_of("set rlimit data <= 4g,"), [codes::RLIMIT]);
    assert_eq!(
        codes_of("change_profile foo -> bar,"),
        [codes::CHANGE_PROFILE]
    );
    assert_eq!(codes_of("dbus bind name=a path=/b,"), [codes::DBUS]);
    assert_eq!(codes_of("unix addr=/x,"), [codes::UNIX]);
}

#[test]
fn untaken_branches_and_flags() {
    let t = "${B} = false\n/p flags=(complain,kill) {\n  if ${B} {\n    /a wa,\n  }\n}\n";
    let got = run(t, &CheckOptions::default());
    assert!(got.contains(&(codes::APPEND_WRITE, true)));
    assert!(got.contains(&(codes::FLAG_CONFLICT, true)));
    let got = run("/p {\n}\n/p {\n}\n", &CheckOptions::default());
    assert_eq!(got, [(codes::DUPLICATE_PROFILE, true)]);
}

#[test]
fn feature_abi_and_werror() {
    let f = Features::parse("caps {mask {chown newcap\n}\n}\n").unwrap();
    let opts = CheckOptions {
        features: Some(f),
        werror: false,
        ..Default::default()
    };
    let got = run(
        "/p {\n  capability newcap,\n  signal,\n  signal send,\n}\n",
        &opts,
    );
    assert_eq!(got, [(codes::NOT_ENFORCED, false)]);
    let opts = CheckOptions {
        werror: true,
        ..opts
    };
    let got = run("/p {\n  signal,\n}\n", &opts);
    assert_eq!(got, [(codes::NOT_ENFORCED, true)]);
}

#[test]
fn hostile_inputs_finish() {
    let long = format!(
        "/{}* px,\n/{}* ix,",
        "a".repeat(100_000),
        "a".repeat(100_000)
    );
    let many: String = (0..600)
        .map(|i| format!("/d{i}/* px,\n/d{i}/x* ix,\n"))
        .collect();
    let alts = format!("/{}x* px,\n/* ix,", "{a,b}".repeat(60));
    let deep = format!("/{}a{} r,", "{".repeat(200), "}".repeat(200));
    for body in [long, many, alts, deep] {
        let _ = run(&format!("/p {{\n{body}\n}}\n"), &CheckOptions::default());
    }
}
