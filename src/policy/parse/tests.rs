use super::*;

fn ok(src: &str) -> PolicyFile {
    let p = parse(src, FileId(0), ParseMode::Policy);
    assert!(p.is_ok(), "{src:?}: {:?}", p.diagnostics);
    let again = parse(&p.ast.to_string(), FileId(0), ParseMode::Policy);
    assert_eq!(again.ast, p.ast, "roundtrip of {src:?} via {}", p.ast);
    p.ast
}

fn bad(src: &str) -> Vec<Diagnostic> {
    let p = parse(src, FileId(0), ParseMode::Policy);
    assert!(!p.is_ok(), "{src:?} should fail");
    p.diagnostics
}

fn body(src: &str) -> Vec<Item> {
    let f = ok(&format!("profile t {{\n{src}\n}}\n"));
    match &f.items[0] {
        Item::Profile(p) => p.items.clone(),
        other => panic!("{other:?}"),
    }
}

fn rule(src: &str) -> RuleEntry {
    match body(src).into_iter().next() {
        Some(Item::Rule(r)) => r,
        other => panic!("{other:?}"),
    }
}

fn file(src: &str) -> FileRule {
    match rule(src).rule {
        Rule::File(f) => f,
        other => panic!("{other:?}"),
    }
}

#[test]
fn lexer_traps() {
    assert_eq!(file("/a/{b,c} r,").path.unwrap().text, "/a/{b,c}");
    assert_eq!(file("/a/b#c r,").path.unwrap().text, "/a/b#c");
    assert_eq!(file("/a r,#x").path.unwrap().text, "/a");
    bad("profile foo{\n}\n");
    bad("@{A}:=/b\n");
    ok("@{A} := /b\n");
    bad("profile t {\n/a Px->b,\n}\n");
    assert_eq!(file("/a Px -> b,").target.unwrap().text, "b");
    bad("profile t {\n/a r,,\n}\n");
    bad("profile t {\n^ hat {\n}\n}\n");
    bad("profile t {\n/a r /b r,\n}\n");
    bad("profile t flags=(complain) xattrs=(a=b) {\n}\n");
    bad("foo {\n}\n");
    bad("@{A} = /a, /b\n");
    bad("profile t {\n");
    bad("}\n");
}

#[test]
fn heads() {
    let f = ok(
        "/usr/bin/foo (complain) {\n}\n\"/a b\" {\n}\n:ns:name {\n}\nprofile x /bin/x xattrs=(user.a=b c) + identities=(a b) flags=(attach_disconnected, kill.signal=hup) {\n  ^hat {\n  }\n  hat h2 {\n  }\n  profile child {\n  }\n}\n",
    );
    let ps = f.profiles();
    assert_eq!(ps.len(), 4);
    assert_eq!(ps[0].kind, ProfileKind::Bare);
    assert!(!ps[0].flags.as_ref().unwrap().keyword);
    assert_eq!(ps[1].name.text, "/a b");
    assert_eq!(ps[3].attachment.as_ref().unwrap().text, "/bin/x");
    assert_eq!(ps[3].flags.as_ref().unwrap().flags.len(), 2);
    assert_eq!(ps[3].identities[0].len(), 2);
    let kids = ps[3].children();
    assert_eq!(kids.len(), 3);
    assert!(kids[0].is_hat() && kids[1].is_hat() && !kids[2].is_hat());
}

#[test]
fn preamble() {
    let f = ok(
        "abi <abi/3.0>,\n#include <tunables/global>\ninclude if exists <local/x> # c\ninclude \"/a b\"\ninclude foo\n@{A}=/a \"b c\" \\\n /d\n@{B} += x\n${X} = true\nalias /usr/ -> /User/,\n",
    );
    assert!(matches!(&f.items[0], Item::Abi(_)));
    assert!(matches!(&f.items[1], Item::Include(i) if i.hash));
    assert!(matches!(&f.items[2], Item::Include(i) if i.if_exists));
    assert!(matches!(&f.items[3], Item::Comment(c) if c.trailing));
    assert!(
        matches!(&f.items[4], Item::Include(i) if i.target == IncludeTarget::Quoted("/a b".into()))
    );
    assert!(matches!(&f.items[6], Item::Variable(v) if v.values.len() == 3));
    assert!(matches!(&f.items[7], Item::Variable(v) if v.op == AssignOp::Append));
    assert!(matches!(&f.items[8], Item::Boolean(_)));
    assert!(matches!(&f.items[9], Item::Alias(_)));
}

#[test]
fn rules() {
    let r = rule("priority=-5 audit deny owner /a rw,");
    assert_eq!(r.quals.priority, Some(-5));
    assert!(r.quals.audit);
    assert_eq!(r.quals.access, Some(Access::Deny));
    assert_eq!(r.quals.owner, Some(Owner::Owner));
    let f = file("file unsafe Px subset /a -> b,");
    assert!(f.keyword && f.leading && f.subset && f.exec_mod == Some(ExecMod::Unsafe));
    assert!(matches!(
        rule("file,").rule,
        Rule::File(FileRule { path: None, .. })
    ));
    assert!(matches!(rule("all,").rule, Rule::All));
    assert!(matches!(rule("capability setuid chown,").rule, Rule::Capability(v) if v.len() == 2));
    let Rule::Mount(m) = rule("mount options=ro,nodev /dev/a -> /mnt,").rule else {
        panic!()
    };
    assert_eq!(m.cond("options").unwrap().values()[0].text, "ro,nodev");
    assert_eq!(m.target.unwrap().text, "/mnt");
    let Rule::Network(n) =
        rule("network (create, bind) inet stream ip=1.2.3.4 peer=(port=80),").rule
    else {
        panic!()
    };
    assert_eq!(n.perms.as_ref().unwrap().words.len(), 2);
    assert_eq!(n.words().count(), 2);
    assert!(matches!(n.cond("peer").unwrap().value, CondValue::Group(_)));
    let Rule::Signal(s) = rule("signal send set=(hup, int) peer=foo,").rule else {
        panic!()
    };
    assert!(matches!(
        s.cond("peer").unwrap().value,
        CondValue::Single(_)
    ));
    let Rule::Dbus(d) =
        rule("dbus send\n  bus=session\n  path=/a\n  peer=(name=org.x label=foo),").rule
    else {
        panic!()
    };
    assert_eq!(d.conds().count(), 3);
    let Rule::Rlimit(r) = rule("set rlimit as <= 1 G,").rule else {
        panic!()
    };
    assert_eq!(r.unit.unwrap().text, "G");
    assert!(
        matches!(rule("change_profile unsafe /a -> b,").rule, Rule::ChangeProfile(c) if c.exec_mod == Some(ExecMod::Unsafe))
    );
    assert!(matches!(rule("userns,").rule, Rule::Userns(_)));
    assert!(matches!(
        rule("mount options in (ro, rw) -> /a,").rule,
        Rule::Mount(_)
    ));
    assert!(matches!(rule("unmount /a,").rule, Rule::Umount(_)));
    assert!(matches!(rule("link subset /a -> /b,").rule, Rule::Link(l) if l.subset));
    let items = body(
        "deny owner {\n  /a r,\n}\nif $B and not defined @{X} {\n  /b r,\n} else if (@{Y} == x) {\n} else {\n}",
    );
    assert!(matches!(&items[0], Item::Block(b) if b.items.len() == 1));
    assert!(matches!(&items[1], Item::If(_)));
}

#[test]
fn deep_nesting_is_diagnosed() {
    let mut s = String::from("profile t {\n");
    for _ in 0..10_000 {
        s.push_str("if $a {\n");
    }
    let p = parse(&s, FileId(0), ParseMode::Policy);
    assert!(p.diagnostics.iter().any(|d| d.code == codes::NESTING));
    let s = "(".repeat(100_000);
    let p = parse(
        &format!("profile t {{ if {s} {{ }} }}"),
        FileId(0),
        ParseMode::Policy,
    );
    assert!(!p.is_ok());
}

#[test]
fn spans_point_at_source() {
    let src = "profile t {\n  /a r,\n}\n";
    let f = ok(src);
    let p = &f.profiles()[0];
    let Item::Rule(r) = &p.items[0] else { panic!() };
    assert_eq!(&src[r.span.range()], "/a r,");
    assert_eq!(&src[p.head_span.range()], "profile t");
}

#[test]
fn diagnostics_are_capped() {
    let s = format!("profile a {{\n{}}}\n", "  /a r /b\n".repeat(10_000));
    let p = parse(&s, FileId(0), ParseMode::Policy);
    assert_eq!(p.diagnostics.len(), MAX_DIAGNOSTICS);
    assert_eq!(p.diagnostics.last().unwrap().code, codes::TOO_MANY);
}

#[test]
fn recovery_keeps_later_rules() {
    let p = parse(
        "profile a {\n  /a r /b\n  /c r,\n  capability chown,\n}\n",
        FileId(0),
        ParseMode::Policy,
    );
    assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
    let prof = &p.ast.profiles()[0];
    assert_eq!(prof.items.len(), 2);
}

#[test]
fn preamble_after_profile_is_an_error() {
    bad("profile a {\n}\n@{X}=/x\n");
    bad("profile a {\n}\nabi <abi/3.0>,\n");
    bad("profile a {\n  @{X}=/x\n}\n");
    bad("profile a {\n  alias /a -> /b,\n}\n");
    ok("profile a {\n  abi <abi/3.0>,\n}\n");
}

#[test]
fn qualifier_spans() {
    let src = "profile t {\n  audit deny owner /a r,\n  capability,\n}\n";
    let f = ok(src);
    let p = &f.profiles()[0];
    let Item::Rule(r) = &p.items[0] else { panic!() };
    assert_eq!(&src[r.quals.span.range()], "audit deny owner");
    let Item::Rule(r) = &p.items[1] else { panic!() };
    assert!(r.quals.span.range().is_empty());
}

#[test]
fn more_traps() {
    bad("profile t {\n  network label:=x,\n}\n");
    ok("profile t {\n  network peer=(label:=x),\n}\n");
    ok("abi<abi/3.0>,\n#include<tunables/global>\n");
    bad("include<tunables/global>\n");
    bad("profile t {\n  link <= /a -> /b,\n}\n");
    bad("profile t {\n  unix peer=(label=(a b)),\n}\n");
    ok("profile t {\n  set rlimit nproc<=1,\n  set rlimit cpu <= 1 minutes,\n}\n");
    bad("profile t {\n  audit set rlimit nproc <= 1,\n}\n");
    bad("profile t {\n  userns (create),\n}\n");
    ok("profile t {\n  /a/b#c r, # real comment\n}\n");
}

#[test]
fn comments_inside_constructs_are_kept() {
    let src = "profile t # head\n  flags=(complain) {\n  dbus send # why\n    # more\n    bus=system,\n  /a r, # trailing\n  if $x # c\n  {\n  }\n}\n";
    let p = parse(src, FileId(0), ParseMode::Policy);
    assert!(p.is_ok(), "{:?}", p.diagnostics);
    let prof = &p.ast.profiles()[0];
    let texts: Vec<String> = prof
        .items
        .iter()
        .map(|i| match i {
            Item::Comment(c) => format!("#{}{}", c.text, if c.trailing { "T" } else { "" }),
            Item::Rule(r) => r.rule.keyword().to_string(),
            Item::If(_) => "if".into(),
            _ => "?".into(),
        })
        .collect();
    assert_eq!(
        texts,
        [
            "# head",
            "dbus",
            "# why",
            "# more",
            "file",
            "# trailingT",
            "if"
        ]
    );
    let Item::If(i) = &prof.items[6] else {
        panic!()
    };
    assert!(matches!(&i.then[0], Item::Comment(c) if c.text == " c"));
    let again = parse(&p.ast.to_string(), FileId(0), ParseMode::Policy);
    assert_eq!(again.ast, p.ast, "{}", p.ast);
}
