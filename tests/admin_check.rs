//! `aactl check`: the chain of includes that led to an error, and did-you-mean for
//! capability names and permission words.

use crate::common::aactl;

#[test]
fn an_error_in_an_included_file_names_the_include_chain() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let a = dir.join("a");
    let b = dir.join("b");
    let c = dir.join("c");
    std::fs::write(
        &a,
        format!(
            "profile foo /usr/bin/foo {{\n  /etc/hosts r,\n  include \"{}\"\n}}\n",
            b.display()
        ),
    )
    .unwrap();
    std::fs::write(&b, format!("# b\n\n\n\n\n\ninclude \"{}\"\n", c.display())).unwrap();
    std::fs::write(&c, "# c\n  /tmp/x rwz,\n").unwrap();
    let (code, out, err) = aactl(&["check", "--color", "never", a.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let note = format!(
        "= note: in file {}, included from {}:7, included from {}:3",
        c.display(),
        b.display(),
        a.display()
    );
    assert!(out.contains(&note), "{out}");
    assert!(out.contains(&format!("--> {}:2:10", c.display())), "{out}");
    // JSON: the same chain, innermost include first.
    let (_, out, _) = aactl(&["check", "--json", a.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let diag = &v["files"][0]["diagnostics"][0];
    assert_eq!(
        diag["included_from"],
        serde_json::json!([
            {"path": b.display().to_string(), "line": 7},
            {"path": a.display().to_string(), "line": 3},
        ])
    );
    // An error in the checked file itself has no chain.
    std::fs::write(&c, "# c\n").unwrap();
    std::fs::write(&a, "profile foo {\n  /tmp/x rwz,\n}\n").unwrap();
    let (_, out, _) = aactl(&["check", "--color", "never", a.to_str().unwrap()]);
    assert!(!out.contains("note:"), "{out}");
}

#[test]
fn mistyped_capabilities_and_permissions_get_a_suggestion() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("t");
    std::fs::write(
        &p,
        "profile t {\n  capability net_admn,\n  capability sys_ptrce,\n  \
         signal (sendd) peer=foo,\n  unix (conect),\n  capability bogus,\n}\n",
    )
    .unwrap();
    let (code, out, _) = aactl(&["check", "--color", "never", p.to_str().unwrap()]);
    assert_eq!(code, 1);
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        errors,
        [
            "error[S0501]: Invalid capability net_admn. Did you mean net_admin?",
            "error[S0501]: Invalid capability sys_ptrce. Did you mean sys_ptrace?",
            "error[S0512]: signal rule: invalid access 'sendd'; did you mean send?",
            "error[S0512]: unix rule: invalid access 'conect'; did you mean connect?",
            "error[S0501]: Invalid capability bogus.",
        ]
    );
}

/// `aactl load` of a file whose include has an error: the parser names only the
/// innermost file; aactl adds the chain of includes from the loaded file.
#[test]
fn a_load_error_in_an_include_names_the_chain() {
    let Some(parser) = crate::loader::real_parser() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let base = d.path();
    std::fs::create_dir_all(base.join("abstractions")).unwrap();
    std::fs::write(
        base.join("abstractions/outer"),
        "# outer\ninclude <abstractions/inner>\n",
    )
    .unwrap();
    std::fs::write(
        base.join("abstractions/inner"),
        "# inner\n\n  capability bogus,\n",
    )
    .unwrap();
    let a = base.join("a");
    std::fs::write(
        &a,
        "profile a /usr/bin/a {\n  /etc/hosts r,\n  include <abstractions/outer>\n}\n",
    )
    .unwrap();
    let (code, out, err) = aactl(&[
        "load",
        "-Q",
        "--skip-cache",
        "--parser",
        parser.to_str().unwrap(),
        "--base",
        base.to_str().unwrap(),
        a.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let inner = base.join("abstractions/inner");
    let outer = base.join("abstractions/outer");
    let want = format!(
        "in file {}, included from {}:2, included from {}:3",
        inner.display(),
        outer.display(),
        a.display()
    );
    assert!(err.contains(&want), "{err}");
}
