use super::words::policy_word;

use super::*;

fn one(line: &str) -> String {
    let (v, _) = crate::log::parse_str(line, "t");
    let mut s = Suggestions::default();
    for r in &v {
        s.add(r, &super::super::classify::profiles_of(r));
    }
    s.render()
}

#[test]
fn words() {
    assert_eq!(policy_word(b"/a b", true).to_string(), "\"/a b\"");
    assert_eq!(policy_word(b"/a*[x]", true).to_string(), "/a\\*\\[x\\]");
    assert_eq!(
        policy_word(b"/a\x1b\xff", true).to_string(),
        "\"/a\\x1b\\xff\""
    );
    assert_eq!(
        policy_word(b"/dev/shm/test(me", true).to_string(),
        "/dev/shm/test(me"
    );
    assert_eq!(policy_word(b"/!", true).to_string(), "\"/!\"");
}

proptest::proptest! {
    /// Any logged name becomes a rule that the parser reads back as
    /// the same AST, and whose literal is the name (lossy for bytes
    /// that are not UTF-8).
    #[test]
    fn any_name_round_trips(name in proptest::collection::vec(proptest::num::u8::ANY, 1..40),
                            prof in "[a-z/][a-z0-9 ./_-]{0,12}") {
        let mut path = b"/".to_vec();
        path.extend_from_slice(&name);
        let mut s = Suggestions::default();
        s.add_draft(&prof, Draft::File { owner: true, path: path.clone(), perms: ['r'].into(), exec: false });
        let text = s.render();
        proptest::prop_assert!(!text.bytes().any(|b| b < 0x20 && b != b'\n'), "{}", text);
        let parsed = crate::policy::parse_str(&text, crate::diag::FileId(0));
        proptest::prop_assert!(parsed.is_ok(), "{}: {:?}", text, parsed.diagnostics);
        let ours = s.blocks();
        let got = parsed.ast.profiles();
        proptest::prop_assert_eq!(got.len(), 1);
        proptest::prop_assert_eq!(got[0], &ours[0]);
        if let Item::Rule(RuleEntry { rule: Rule::File(f), .. }) = &ours[0].items[0] {
            let lit = super::super::ondisk::literal(f.path.as_ref().unwrap());
            proptest::prop_assert_eq!(lit, String::from_utf8_lossy(&path).into_owned());
        }
    }
}

#[test]
fn untrusted_rules_apart_per_permission_and_hat() {
    let kernel = r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" class="file" profile="p//hat" name="/x" comm="c" requested_mask="r" denied_mask="r" fsuid=1 ouid=0"#;
    let forged = |profile: &str, mask: &str, name: &str| {
        format!(
            "Nov 29 18:00:00 h mallory: type=1400 audit(1.2:4): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"{profile}\" name=\"{name}\" comm=\"c\" requested_mask=\"{mask}\" denied_mask=\"{mask}\" fsuid=1 ouid=0"
        )
    };
    let add = |s: &mut Suggestions, line: &str| {
        let (v, _) = crate::log::parse_str(line, "t");
        for r in &v {
            s.add(r, &super::super::classify::profiles_of(r));
        }
    };
    // a forged `rw` after the kernel's `r`: only `w` is untrusted
    let mut s = Suggestions::default();
    add(&mut s, kernel);
    add(&mut s, &forged("p//hat", "rw", "/x"));
    assert_eq!(s.render(), "profile p {\n  ^hat {\n    /x r,\n  }\n}\n");
    assert_eq!(
        s.render_untrusted(),
        "profile p {\n  ^hat {\n    /x w,\n  }\n}\n"
    );
    // the kernel's record after the forged one takes its rule: the hat
    // is left out of the untrusted part, which keeps p's own rule
    let mut s = Suggestions::default();
    add(&mut s, &forged("p//hat", "r", "/x"));
    add(&mut s, &forged("p", "r", "/z"));
    add(&mut s, kernel);
    assert_eq!((s.rule_count(), s.untrusted_rule_count()), (1, 1));
    assert_eq!(s.render_untrusted(), "profile p {\n  /z r,\n}\n");
    s.trust_untrusted();
    assert_eq!(
        s.render(),
        "profile p {\n  /z r,\n  ^hat {\n    /x r,\n  }\n}\n"
    );
    assert_eq!(s.untrusted_rule_count(), 0);
}

#[test]
fn file_owner_and_masks() {
    let out = one(
        r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="mknod" class="file" profile="pacdiff" name="/root/x.swx" comm="vim" requested_mask="c" denied_mask="c" fsuid=0 ouid=0"#,
    );
    assert_eq!(out, "profile pacdiff {\n  owner /root/x.swx w,\n}\n");
}

#[test]
fn junk_ptrace_target_gives_no_rule() {
    let line = "type=AVC msg=audit(1494272099.261:3455): apparmor=\"DENIED\" operation=\"ptrace\" profile=\"/bin/netstat\" pid=1962 comm=\"netstat\" requested_mask=\"trace\" denied_mask=\"trace\" peer=\"/usr/bin/x\" target=8022C0FF81A0FFFF8022C0FF81A0FFFF1080CBFF81A0FFFF";
    let (v, _) = crate::log::parse_str(line, "t");
    let mut s = Suggestions::default();
    s.add(&v[0], &["/bin/netstat".to_owned()]);
    assert!(!s.render().contains("ptrace"), "{}", s.render());
    let reasons: Vec<&str> = s.notes.keys().map(|k| k.reason.0.as_str()).collect();
    assert_eq!(
        reasons,
        ["ptrace target is binary data (a kernel bug), not a label"]
    );
}

#[test]
fn rules_for_older_releases() {
    use crate::policy::ParserVersion;
    let lines = "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"sendmsg\" class=\"net\" profile=\"p\" pid=1 comm=\"c\" family=\"inet6\" sock_type=\"stream\" protocol=6 requested_mask=\"send\" denied_mask=\"send\" laddr=::1 lport=80 faddr=::1 fport=5000\n\
type=AVC msg=audit(1.2:4): apparmor=\"DENIED\" operation=\"signal\" class=\"signal\" profile=\"p\" pid=1 comm=\"c\" requested_mask=\"send\" denied_mask=\"send\" signal=tstp peer=\"q\"\n\
type=AVC msg=audit(1.2:5): apparmor=\"DENIED\" operation=\"userns_create\" class=\"namespace\" profile=\"p\" pid=1 comm=\"c\" requested=\"userns_create\" denied=\"userns_create\"\n\
type=AVC msg=audit(1.2:6): apparmor=\"DENIED\" operation=\"mount\" class=\"mount\" info=\"failed flags match\" error=-13 profile=\"p\" name=\"/x/\" pid=1 comm=\"c\" flags=\"rw, nosymfollow\"\n";
    let (v, _) = crate::log::parse_str(lines, "t");
    let render = |p: ParserVersion| {
        let mut s = Suggestions::for_parser(p);
        for r in &v {
            s.add(r, &["p".to_owned()]);
        }
        (s.render(), s.notes.len())
    };
    let (latest, notes) = render(ParserVersion::V6_0);
    assert!(latest.contains("network (send) inet6 stream ip=::1 port=80 peer=(ip=::1 port=5000),"));
    assert!(latest.contains("signal send set=tstp peer=q,"), "{latest}");
    assert!(latest.contains("userns create,"));
    assert!(latest.contains("nosymfollow"), "{latest}");
    assert_eq!(notes, 0);
    let (v41, _) = render(ParserVersion::V4_1);
    assert!(v41.contains("network (send) inet6 stream ip=::1"));
    assert!(v41.contains("signal send set=stp peer=q,"), "{v41}");
    let (v30, notes) = render(ParserVersion::V3_0);
    assert_eq!(
        v30,
        "profile p {\n  network inet6 stream,\n  signal send set=stp peer=q,\n}\n"
    );
    assert_eq!(notes, 2);
}
