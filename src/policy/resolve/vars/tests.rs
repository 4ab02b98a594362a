//! Tests of variable expansion and its memo.
use super::*;

#[test]
fn expansion_and_slashes() {
    let mut v = Variables::new();
    v.assign("HOMEDIRS", AssignOp::Set, vec!["/home/".into()])
        .unwrap();
    v.assign(
        "HOME",
        AssignOp::Set,
        vec!["@{HOMEDIRS}/*/".into(), "/root/".into()],
    )
    .unwrap();
    assert_eq!(v.expand("@{HOME}/.x").unwrap(), "{/home/*,/root}/.x");
    assert_eq!(v.expand("\\@{HOME}").unwrap(), "\\@{HOME}");
    assert_eq!(v.expand("/a/@{U}"), Err(VarError::Undefined("U".into())));
    v.assign("R", AssignOp::Set, vec!["@{R}".into()]).unwrap();
    assert!(matches!(v.expand("@{R}"), Err(VarError::Recursive(_))));
    assert!(v.assign("HOME", AssignOp::Set, vec![]).is_err());
    assert!(v.assign("Q", AssignOp::Append, vec![]).is_err());
    v.assign("Q", AssignOp::SetDefault, vec!["1".into()])
        .unwrap();
    v.assign("Q", AssignOp::SetDefault, vec!["2".into()])
        .unwrap();
    assert_eq!(v.values("Q").unwrap(), vec!["1"]);
}

/// `@{V0}` = `@{V1}`, …, `@{V(n-1)}` = `end`.
fn chain(n: usize) -> Variables {
    let mut v = Variables::new();
    for i in 0..n {
        let value = if i + 1 < n {
            format!("x@{{V{}}}", i + 1)
        } else {
            "end".into()
        };
        v.assign(&format!("V{i}"), AssignOp::Set, vec![value])
            .unwrap();
    }
    v
}

#[test]
fn a_long_chain_is_not_recursion_but_a_cycle_is() {
    // 40 deep (apparmor_parser accepts it) and the deepest allowed.
    let v = chain(40);
    assert_eq!(v.values("V0").unwrap(), [format!("{}end", "x".repeat(39))]);
    let v = chain(MAX_VAR_DEPTH);
    assert_eq!(v.expand("@{V0}").unwrap().len(), MAX_VAR_DEPTH - 1 + 3);
    let v = chain(MAX_VAR_DEPTH + 1);
    assert!(matches!(v.expand("@{V0}"), Err(VarError::TooDeep(_))));
    // A cycle through three variables, at the end of a long chain.
    let mut v = chain(100);
    v.assign("V99", AssignOp::Replace, vec!["@{C1}".into()])
        .unwrap();
    v.assign("C1", AssignOp::Set, vec!["@{C2}".into()]).unwrap();
    v.assign("C2", AssignOp::Set, vec!["a".into(), "@{C1}".into()])
        .unwrap();
    assert_eq!(v.expand("@{V0}"), Err(VarError::Recursive("C1".into())));
}

#[test]
fn kept_expansions_give_the_same_results_and_errors() {
    // deep chains (within and past the depth bound), a doubling chain (past the
    // size budget part way down) and a cycle, each expanded with a memo already
    // holding parts of them, must give what a fresh expansion gives
    let mut texts: Vec<String> = Vec::new();
    let mut deep = chain(MAX_VAR_DEPTH + 1);
    for i in 0..20 {
        let v = format!("{{@{{D{}}}x,@{{D{}}}yy/}}", i + 1, i + 1);
        deep.assign(&format!("D{i}"), AssignOp::Set, vec![v, "/a/".into()])
            .unwrap();
    }
    deep.assign("D20", AssignOp::Set, vec!["end".into()])
        .unwrap();
    deep.assign("C1", AssignOp::Set, vec!["@{C2}".into()])
        .unwrap();
    deep.assign("C2", AssignOp::Set, vec!["a".into(), "@{C1}".into()])
        .unwrap();
    deep.assign("W", AssignOp::Set, vec!["@{V2}".into(), "w/".into()])
        .unwrap();
    for i in (0..=20).rev() {
        texts.push(format!("/@{{D{i}}}/@{{D{i}}}"));
    }
    for i in [MAX_VAR_DEPTH, 3, 2, 1, 0] {
        texts.push(format!("@{{V{i}}}/x"));
    }
    texts.extend(["@{W}/@{W}", "@{C1}", "@{C2}/b", "@{U}", "/@{W}"].map(String::from));
    let mut memo = Memo::default();
    let mut kinds = HashSet::new();
    for t in texts.iter().chain(texts.iter().rev()) {
        let fresh = deep.expand(t);
        kinds.insert(match &fresh {
            Ok(_) => "ok",
            Err(VarError::TooLarge(_)) => "large",
            Err(VarError::TooDeep(_)) => "deep",
            Err(VarError::Recursive(_)) => "cycle",
            Err(_) => "other",
        });
        assert_eq!(deep.expand_with(t, &mut memo), fresh, "{t}");
    }
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    // a change of the table empties the memo
    deep.set_builtin("D20", Some(vec!["other".into()]));
    assert_eq!(deep.expand_with("@{D19}", &mut memo), deep.expand("@{D19}"));
    assert!(
        deep.expand_with("@{D19}", &mut memo)
            .unwrap()
            .contains("other")
    );
    // a built-in set again drops what looked it up, and only that
    assert_eq!(deep.expand_with("@{V3}", &mut memo), deep.expand("@{V3}"));
    deep.set_builtin("D20", Some(vec!["third".into()]));
    assert!(
        deep.expand_with("@{D18}", &mut memo)
            .unwrap()
            .contains("third")
    );
    assert_eq!(deep.expand_with("@{V3}", &mut memo), deep.expand("@{V3}"));
    deep.set_builtin("D20", None);
    assert_eq!(
        deep.expand_with("@{D19}", &mut memo),
        Err(VarError::Undefined("D20".into()))
    );
    for t in &texts {
        assert_eq!(deep.expand_with(t, &mut memo), deep.expand(t), "{t}");
    }
}

#[test]
fn c_ints() {
    assert_eq!(parse_c_int("010"), Some(8));
    assert_eq!(parse_c_int("0x10"), Some(16));
    assert_eq!(parse_c_int("-3"), Some(-3));
    assert_eq!(parse_c_int("a"), None);
}
