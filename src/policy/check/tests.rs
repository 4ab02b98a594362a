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

fn codes_for(version: crate::policy::ParserVersion, text: &str) -> Vec<&'static str> {
    let opts = CheckOptions {
        version,
        ..Default::default()
    };
    run(text, &opts).into_iter().map(|(c, _)| c).collect()
}

#[test]
fn release_gates() {
    use crate::policy::ParserVersion::{V3_0, V4_1, V5_0, V6_0};
    let p = |body: &str| format!("/p {{\n{body}\n}}\n");
    for (text, gate_3, gate_4) in [
        (p("priority=1 /a r,"), Some(codes::NEEDS_4_QUALIFIER), None),
        (p("userns,"), Some(codes::NEEDS_4_RULE), None),
        (p("all,"), Some(codes::NEEDS_4_RULE), None),
        (
            p("network inet stream ip=::1,"),
            Some(codes::NEEDS_4_NETWORK),
            None,
        ),
        (p("network (send),"), Some(codes::NEEDS_4_NETWORK), None),
        (
            p("mount options=(lazytime) /a -> /b,"),
            Some(codes::NEEDS_4_MOUNT),
            None,
        ),
        (
            p("mount options=(unbindable) /a,"),
            Some(codes::NEEDS_4_MOUNT),
            None,
        ),
        (
            "/p flags=(interruptible) {\n}\n".into(),
            Some(codes::NEEDS_4_FLAG),
            None,
        ),
        (
            p("network interface=lo,"),
            Some(codes::NEEDS_5_NETWORK),
            Some(codes::NEEDS_5_NETWORK),
        ),
        (
            "/p flags=(attach_disconnected.ipc) {\n}\n".into(),
            Some(codes::NEEDS_5_FLAG),
            Some(codes::NEEDS_5_FLAG),
        ),
        (
            "@{A} ?= x\n/p {\n}\n".into(),
            Some(codes::NEEDS_5_VARIABLE),
            Some(codes::NEEDS_5_VARIABLE),
        ),
        (
            p("/run/@{exec_path} r,"),
            Some(codes::NEEDS_5_VARIABLE),
            Some(codes::NEEDS_5_VARIABLE),
        ),
        (
            "$A=true\n/p {\n  if $A and true {\n    /a r,\n  }\n}\n".into(),
            Some(codes::NEEDS_5_CONDITION),
            Some(codes::NEEDS_5_CONDITION),
        ),
        (
            "/p {\n  if defined $U {\n    /a r,\n  }\n}\n".into(),
            None,
            Some(codes::NEEDS_5_CONDITION),
        ),
        (
            "profile p + identities=(a) {\n}\n".into(),
            Some(codes::NEEDS_5_IDENTITY),
            Some(codes::NEEDS_5_IDENTITY),
        ),
        (
            "abi <kernel>,\n/p {\n}\n".into(),
            Some(codes::NEEDS_5_ABI),
            Some(codes::NEEDS_5_ABI),
        ),
    ] {
        let want = |g: Option<&'static str>| g.into_iter().collect::<Vec<_>>();
        assert_eq!(codes_for(V3_0, &text), want(gate_3), "3.0: {text}");
        assert_eq!(codes_for(V4_1, &text), want(gate_4), "4.1: {text}");
        assert!(codes_for(V5_0, &text).is_empty(), "5.0: {text}");
        assert!(codes_for(V6_0, &text).is_empty(), "6.0: {text}");
    }
}

#[test]
fn merged_exec_by_release() {
    use crate::policy::ParserVersion::{V3_0, V4_1, V5_0};
    let p = |body: &str| format!("/p {{\n{body}\n}}\n");
    // priority decides for the same path (4.1 and later)
    let prio = p("priority=-10 /usr/bin/bwrap px -> q,\n/usr/bin/bwrap rix,");
    assert!(codes_for(V4_1, &prio).is_empty());
    assert!(codes_for(V5_0, &prio).is_empty());
    let equal = p("priority=1 /b px -> q,\npriority=1 /b rix,");
    assert_eq!(codes_for(V5_0, &equal), [codes::MERGED_X]);
    // a class pattern beats wildcards from 4.1 on
    let qt = p("/usr/lib/qt[56]/QtWeb cx -> c,\n/** pux,");
    assert_eq!(codes_for(V3_0, &qt), [codes::MERGED_X]);
    assert!(codes_for(V4_1, &qt).is_empty());
    assert!(codes_for(V5_0, &qt).is_empty());
    // link targets take transition entries before 5.0
    let links: String = (1..=13).map(|i| format!("/t l -> /b{i},\n")).collect();
    assert_eq!(codes_for(V4_1, &p(&links)), [codes::TRANSITIONS]);
    assert!(codes_for(V5_0, &p(&links)).is_empty());
    // an unparenthesised option list is one (unknown) option on every release
    let mount = p("mount options=ro,noexec /dev -> /mnt,");
    for v in [V3_0, V4_1, V5_0] {
        assert_eq!(codes_for(v, &mount), [codes::MOUNT]);
    }
}
