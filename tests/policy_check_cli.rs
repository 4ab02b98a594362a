//! `aactl check`: exit codes, text and JSON output, directory walking, -I order.

use apparmor::cli::{Io, aactl};
use std::path::Path;

fn run(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["aactl".into(), "check".into()];
    argv.extend(args.iter().map(std::ffi::OsString::from));
    let code = {
        let mut io = Io::new(&mut out, &mut err);
        aactl::run(argv, &mut io)
    };
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn exit_codes_and_text() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().display().to_string();
    let good = write(d.path(), "good", "profile good {\n  /a r,\n}\n");
    let bad = write(d.path(), "bad", "profile bad {\n  /a r\n  /b r,\n}\n");
    let (c, out, _) = run(&["--base", &base, &good]);
    assert_eq!(c, 0, "{out}");
    let (c, out, _) = run(&["--base", &base, "--syntax-only", &good, &bad]);
    assert_eq!(c, 1);
    assert!(out.contains(&format!("{bad}:3:3")), "{out}");
    assert!(out.contains("error[P0009]"), "{out}");
    assert!(out.contains("2 file(s) checked, 1 invalid"), "{out}");
    let (c, _, err) = run(&["--base", &base, &format!("{base}/missing")]);
    assert_eq!(c, 2, "{err}");
    let (c, _, _) = run(&[]);
    assert_eq!(c, 2);
    let (c, _, _) = run(&["--format", "yaml", &good]);
    assert_eq!(c, 2);
}

#[test]
fn json_output() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().display().to_string();
    let bad = write(
        d.path(),
        "bad",
        "@{X}=/x\nprofile bad {\n  @{Y}/a r,\n  ^hat {\n  }\n}\n",
    );
    let (c, out, _) = run(&["--base", &base, "--format", "json", &bad]);
    assert_eq!(c, 1);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["valid"], false);
    let f = &v["files"][0];
    assert_eq!(f["profiles"], serde_json::json!(["bad", "bad//hat"]));
    let d0 = &f["diagnostics"][0];
    assert_eq!(d0["code"], "R0005");
    assert_eq!(d0["line"], 3);
    assert_eq!(d0["column"], 3);
    assert_eq!(d0["severity"], "error");
    assert!(d0["message"].as_str().unwrap().contains("@{Y}"));
}

#[test]
fn directories_and_search_order() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let base = write(p, "base/abstractions/x", "/from/base r,\n");
    let base_dir = Path::new(&base)
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .display()
        .to_string();
    write(p, "inc1/abstractions/x", "/from/inc1 r,\n");
    write(p, "inc2/abstractions/x", "/from/inc2 r,\n");
    write(
        p,
        "profiles/a",
        "profile a {\n  include <abstractions/x>\n}\n",
    );
    write(p, "profiles/README", "not a profile {\n");
    write(p, "profiles/b.dpkg-old", "garbage {\n");
    write(p, "profiles/c.rpmsave", "garbage {\n");
    write(p, "profiles/.hidden", "garbage {\n");
    write(p, "profiles/sub/c", "garbage {\n");
    let profiles = p.join("profiles").display().to_string();
    let (c, out, err) = run(&["--base", &base_dir, &profiles]);
    assert_eq!(c, 0, "{out}");
    assert!(
        err.contains("Ignoring: '") && err.contains("c.rpmsave'"),
        "{err}"
    );
    assert!(out.contains("1 file(s) checked"), "{out}");
    // -I directories are searched in order before the base
    let mut r = apparmor::policy::resolve::Resolver::new(apparmor::policy::resolve::SearchPath {
        include_dirs: vec![p.join("inc2"), p.join("inc1")],
        base: Some(base_dir.clone().into()),
        cwd: p.to_path_buf(),
        within: Vec::new(),
    });
    let res = r.resolve_file(&p.join("profiles/a")).unwrap();
    let apparmor::policy::ast::Rule::File(f) = &res.profiles[0].rules[0].rule else {
        panic!()
    };
    assert_eq!(f.path.as_ref().unwrap().text, "/from/inc2");
}
