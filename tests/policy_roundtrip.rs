//! `parse(print(ast)) == ast` over generated ASTs (proptest).

use apparmor::diag::{FileId, Span};
use apparmor::policy::ast::*;
use apparmor::policy::parse_str;
use proptest::prelude::*;

fn w(t: String) -> Word {
    Word {
        text: t,
        quoted: false,
        span: Span::default(),
    }
}

fn path() -> impl Strategy<Value = Word> {
    prop_oneof![
        "/[a-z]{1,5}(/[a-z*]{1,4}){0,2}".prop_map(w),
        "/[a-z]{1,3}/\\{[a-z]{1,3},[a-z]{0,3}\\}".prop_map(w),
        "@\\{HOME\\}/[a-z.]{1,5}".prop_map(w),
        "/[a-z]{1,3} [a-z]{1,3}".prop_map(|t| Word {
            text: t,
            quoted: true,
            span: Span::default()
        }),
    ]
}

fn name() -> impl Strategy<Value = Word> {
    prop_oneof![
        "[a-z][a-z0-9_.-]{0,8}".prop_map(w),
        "[a-z]{1,3} [a-z]{1,3}".prop_map(|t| Word {
            text: t,
            quoted: true,
            span: Span::default()
        })
    ]
}

fn value() -> impl Strategy<Value = Word> {
    "[a-z0-9/@][a-z0-9/._*-]{0,6}".prop_map(w)
}

fn cond(names: &'static [&'static str]) -> impl Strategy<Value = Cond> {
    (
        prop::sample::select(names),
        prop_oneof![
            value().prop_map(CondValue::Single),
            prop::collection::vec(value(), 1..3).prop_map(CondValue::List)
        ],
        any::<bool>(),
    )
        .prop_map(|(n, v, assign)| {
            let op = if assign && matches!(v, CondValue::List(_)) {
                CondOp::In
            } else {
                CondOp::Eq
            };
            Cond {
                name: n.to_string(),
                op,
                value: v,
                span: Span::default(),
            }
        })
}

fn peer() -> impl Strategy<Value = Cond> {
    prop::collection::vec(
        (
            prop::sample::select(&["label", "addr", "name"][..]),
            value(),
        ),
        1..3,
    )
    .prop_map(|v| Cond {
        name: "peer".into(),
        op: CondOp::Eq,
        value: CondValue::Group(
            v.into_iter()
                .map(|(n, x)| Cond {
                    name: n.into(),
                    op: CondOp::Eq,
                    value: CondValue::Single(x),
                    span: Span::default(),
                })
                .collect(),
        ),
        span: Span::default(),
    })
}

fn perms(words: &'static [&'static str]) -> impl Strategy<Value = Option<Perms>> {
    prop::option::of(
        (
            prop::collection::vec(prop::sample::select(words), 1..3),
            any::<bool>(),
        )
            .prop_map(|(v, paren)| {
                let paren = paren || v.len() > 1;
                Perms {
                    words: v.into_iter().map(|s| w(s.into())).collect(),
                    paren,
                }
            }),
    )
}

fn file_rule() -> impl Strategy<Value = Rule> {
    (
        any::<bool>(),
        prop::option::of(prop::sample::select(&[ExecMod::Safe, ExecMod::Unsafe][..])),
        path(),
        prop::sample::select(&["r", "rw", "mr", "ix", "Px", "Cx", "rwk", "l", "Pix", "a"][..]),
        any::<bool>(),
        prop::option::of(name()),
    )
        .prop_map(|(keyword, exec_mod, path, perms, leading, target)| {
            Rule::File(FileRule {
                keyword,
                exec_mod,
                path: Some(path),
                perms: Some(w(perms.into())),
                leading,
                subset: false,
                target,
            })
        })
}

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        file_rule(),
        Just(Rule::File(FileRule {
            keyword: true,
            exec_mod: None,
            path: None,
            perms: None,
            leading: false,
            subset: false,
            target: None
        })),
        prop::collection::vec(
            prop::sample::select(&["chown", "setuid", "sys_admin"][..]).prop_map(|s| w(s.into())),
            0..3
        )
        .prop_map(Rule::Capability),
        (
            perms(&["create", "bind", "send"]),
            prop::collection::vec(
                prop::sample::select(&["inet", "inet6", "stream"][..])
                    .prop_map(|s| Arg::Word(w(s.into()))),
                0..2
            ),
            prop::option::of(peer())
        )
            .prop_map(|(perms, mut args, p)| {
                args.extend(p.map(Arg::Cond));
                Rule::Network(CondRule {
                    perms,
                    args,
                    target: None,
                })
            }),
        (
            perms(&["send", "receive", "r"]),
            prop::collection::vec(cond(&["set", "peer"]), 0..3)
        )
            .prop_map(|(perms, c)| Rule::Signal(CondRule {
                perms,
                args: c.into_iter().map(Arg::Cond).collect(),
                target: None
            })),
        (
            perms(&["send", "bind", "rw"]),
            prop::collection::vec(cond(&["bus", "path", "member"]), 0..3),
            prop::option::of(peer())
        )
            .prop_map(|(perms, c, p)| {
                let mut args: Vec<Arg> = c.into_iter().map(Arg::Cond).collect();
                args.extend(p.map(Arg::Cond));
                Rule::Dbus(CondRule {
                    perms,
                    args,
                    target: None,
                })
            }),
        (
            prop::collection::vec(cond(&["options", "fstype"]), 0..2),
            prop::option::of(path()),
            prop::option::of(path())
        )
            .prop_map(|(c, src, tgt)| {
                let mut args: Vec<Arg> = c.into_iter().map(Arg::Cond).collect();
                args.extend(src.map(Arg::Word));
                Rule::Mount(CondRule {
                    perms: None,
                    args,
                    target: tgt,
                })
            }),
        prop::option::of(path()).prop_map(|p| Rule::Umount(CondRule {
            perms: None,
            args: p.into_iter().map(Arg::Word).collect(),
            target: None
        })),
        Just(Rule::Userns(CondRule::default())),
        Just(Rule::All),
        (
            prop::option::of(prop::sample::select(&[ExecMod::Safe, ExecMod::Unsafe][..])),
            path(),
            prop::option::of(name())
        )
            .prop_map(|(m, e, t)| Rule::ChangeProfile(ChangeProfileRule {
                exec_mod: m,
                exec: Some(e),
                target: t
            })),
        (any::<bool>(), path(), path()).prop_map(|(subset, from, to)| Rule::Link(LinkRule {
            subset,
            from,
            to
        })),
    ]
}

fn quals() -> impl Strategy<Value = Qualifiers> {
    (
        prop::option::of(-1000i64..1000),
        any::<bool>(),
        prop::option::of(prop::sample::select(
            &[Access::Allow, Access::Deny, Access::Prompt][..],
        )),
        prop::option::of(prop::sample::select(&[Owner::Owner, Owner::Other][..])),
    )
        .prop_map(|(priority, audit, access, owner)| Qualifiers {
            priority,
            audit,
            access,
            owner,
            span: Span::default(),
        })
}

fn comment() -> impl Strategy<Value = Comment> {
    " [a-z ]{0,10}".prop_map(|text| Comment {
        text,
        trailing: false,
        span: Span::default(),
    })
}

fn leaf_item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (quals(), rule()).prop_map(|(quals, rule)| Item::Rule(RuleEntry { quals, rule, span: Span::default() })),
        1 => Just(Item::Rule(RuleEntry { quals: Qualifiers::default(), rule: Rule::Rlimit(RlimitRule { resource: "nofile".into(), value: w("10".into()), unit: None }), span: Span::default() })),
        1 => comment().prop_map(Item::Comment),
        1 => "abstractions/[a-z]{1,6}".prop_map(|n| Item::Include(Include { hash: false, if_exists: false, target: IncludeTarget::Angle { name: n, quoted: false }, span: Span::default() })),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    prop_oneof![
        "[a-z]{1,4}".prop_map(Expr::Bool),
        "[a-z]{1,4}".prop_map(|n| Expr::Defined { name: n, set: true }),
        "[a-z]{1,4}".prop_map(|n| Expr::Not(Box::new(Expr::Bool(n)))),
        ("[a-z]{1,4}", "[a-z]{1,4}")
            .prop_map(|(a, b)| Expr::And(Box::new(Expr::Bool(a)), Box::new(Expr::Bool(b)))),
        ("[a-z]{1,4}", "[a-z]{1,4}").prop_map(|(a, b)| Expr::Cmp(
            Operand::Var(a),
            CmpOp::Eq,
            Operand::Word(w(b))
        )),
    ]
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    let leaf = prop::collection::vec(leaf_item(), 0..5);
    leaf.prop_recursive(2, 24, 4, |inner| {
        prop::collection::vec(
            prop_oneof![
                3 => leaf_item(),
                1 => (name(), inner.clone()).prop_map(|(n, items)| Item::Profile(Box::new(Profile { kind: ProfileKind::Profile, name: n, attachment: None, xattrs: None, identities: vec![], flags: None, items, head_span: Span::default(), span: Span::default() }))),
                1 => (expr(), inner.clone(), prop::option::of(inner.clone())).prop_map(|(cond, then, e)| Item::If(Box::new(IfBlock { cond, then, otherwise: e.map(Else::Block), span: Span::default() }))),
                1 => (quals().prop_filter("block needs a qualifier", |q| !q.is_empty() && q.priority.is_none()), inner).prop_map(|(quals, items)| Item::Block(QualBlock { quals, items, span: Span::default() })),
            ],
            0..5,
        )
    })
}

fn flags() -> impl Strategy<Value = Option<Flags>> {
    prop::option::of(
        (
            any::<bool>(),
            prop::collection::vec(
                prop::sample::select(
                    &[
                        "complain",
                        "attach_disconnected",
                        "kill.signal=hup",
                        "enforce",
                    ][..],
                ),
                1..3,
            ),
        )
            .prop_map(|(keyword, v)| Flags {
                keyword,
                flags: v.into_iter().map(|s| w(s.into())).collect(),
                span: Span::default(),
            }),
    )
}

fn profile() -> impl Strategy<Value = Item> {
    (
        prop_oneof![
            name().prop_map(|n| (ProfileKind::Profile, n)),
            "/[a-z]{1,5}(/[a-z*]{1,4}){0,2}".prop_map(|p| (ProfileKind::Bare, w(p))),
            name().prop_map(|n| (ProfileKind::Caret, n))
        ],
        prop::option::of(path()),
        flags(),
        items(),
    )
        .prop_map(|((kind, name), attachment, flags, items)| {
            let attachment = if kind == ProfileKind::Profile {
                attachment
            } else {
                None
            };
            let name = if kind == ProfileKind::Bare && name.quoted {
                Word {
                    text: format!("/{}", name.text),
                    ..name
                }
            } else {
                name
            };
            Item::Profile(Box::new(Profile {
                kind,
                name,
                attachment,
                xattrs: None,
                identities: vec![],
                flags,
                items,
                head_span: Span::default(),
                span: Span::default(),
            }))
        })
}

fn policy() -> impl Strategy<Value = PolicyFile> {
    (
        prop::collection::vec(
            prop_oneof![
                comment().prop_map(Item::Comment),
                Just(Item::Abi(Abi {
                    target: IncludeTarget::Angle {
                        name: "abi/3.0".into(),
                        quoted: false
                    },
                    span: Span::default()
                })),
                (
                    "[A-Za-z][a-z_]{0,5}",
                    prop::collection::vec(path(), 1..3),
                    prop::sample::select(
                        &[
                            AssignOp::Set,
                            AssignOp::Append,
                            AssignOp::SetDefault,
                            AssignOp::Replace
                        ][..]
                    )
                )
                    .prop_map(|(name, values, op)| Item::Variable(VarAssign {
                        name,
                        op,
                        values,
                        span: Span::default()
                    })),
            ],
            0..4,
        ),
        prop::collection::vec(profile(), 0..3),
    )
        .prop_map(|(mut pre, profs)| {
            pre.extend(profs);
            PolicyFile {
                items: pre,
                span: Span::default(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn print_then_parse_is_identity(ast in policy()) {
        let text = ast.to_string();
        let parsed = parse_str(&text, FileId(0));
        prop_assert!(parsed.is_ok(), "{text}\n{:?}", parsed.diagnostics);
        prop_assert_eq!(parsed.ast, ast, "{}", text);
    }
}
