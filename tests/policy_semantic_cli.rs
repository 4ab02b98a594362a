//! `aactl check` with semantic checks: each file of testdata/policy/semantic
//! ends with `# expect CODE SEVERITY LINE:COL` lines, compared with the JSON
//! output; `--syntax-only`, `--Werror` and `--features` behave.

use std::path::Path;
use std::process::Command;

fn aactl(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
        .arg("check")
        .args([
            "--parser-version",
            "6.0",
            "--base",
            "/nonexistent",
            "--format",
            "json",
        ])
        .args(args)
        .current_dir(crate::common::repo())
        .output()
        .expect("run aactl");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

fn diags(v: &serde_json::Value) -> Vec<String> {
    v["files"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["diagnostics"].as_array().cloned().unwrap_or_default())
        .map(|d| {
            format!(
                "{} {} {}:{}",
                d["code"].as_str().unwrap_or(""),
                d["severity"].as_str().unwrap_or(""),
                d["line"],
                d["column"]
            )
        })
        .collect()
}

#[test]
fn testdata_diagnostics_match_expectations() {
    let dir = crate::common::repo().join("testdata/policy/semantic");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "sd") {
            continue;
        }
        n += 1;
        let text = std::fs::read_to_string(&p).unwrap();
        let want: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect "))
            .map(str::to_string)
            .collect();
        let rel = Path::new("testdata/policy/semantic").join(p.file_name().unwrap());
        let (code, v) = aactl(&[rel.to_str().unwrap()]);
        assert_eq!(diags(&v), want, "{}", rel.display());
        let errors = want.iter().any(|w| w.contains(" error "));
        assert_eq!(code, if errors { 1 } else { 0 }, "{}", rel.display());
        for d in v["files"][0]["diagnostics"].as_array().unwrap() {
            assert_eq!(d["file"].as_str(), rel.to_str());
            assert!(!d["message"].as_str().unwrap().is_empty());
        }
    }
    assert!(n >= 15);
}

#[test]
fn werror_and_syntax_only() {
    let f = "testdata/policy/semantic/warning.sd";
    let (code, v) = aactl(&[f]);
    assert_eq!(code, 0);
    assert_eq!(diags(&v), vec!["S0111 warning 2:19"]);
    let (code, v) = aactl(&["--Werror", f]);
    assert_eq!(code, 1);
    assert_eq!(diags(&v), vec!["S0111 error 2:19"]);
    // semantic errors are not reported with --syntax-only
    let (code, v) = aactl(&["--syntax-only", "testdata/policy/semantic/network.sd"]);
    assert_eq!(code, 0);
    assert!(diags(&v).is_empty());
}

#[test]
fn features_file_teaches_capabilities() {
    let tmp = tempfile::tempdir().unwrap();
    let prof = tmp.path().join("p");
    std::fs::write(&prof, "/usr/bin/foo {\n  capability newcap,\n}\n").unwrap();
    let feats = tmp.path().join("features");
    std::fs::write(&feats, "caps {mask {chown newcap\n}\n}\n").unwrap();
    let (code, v) = aactl(&[prof.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(diags(&v), vec!["S0501 error 2:14"]);
    let (code, _) = aactl(&[
        "--features",
        feats.to_str().unwrap(),
        prof.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    // a rule class the ABI lacks: a warning, an error with --Werror
    let sig = tmp.path().join("s");
    std::fs::write(&sig, "/usr/bin/foo {\n  signal send,\n}\n").unwrap();
    let (code, v) = aactl(&["--features", feats.to_str().unwrap(), sig.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(diags(&v), vec!["S0601 warning 2:3"]);
    let (code, _) = aactl(&[
        "--Werror",
        "--features",
        feats.to_str().unwrap(),
        sig.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let (code, _) = aactl(&["--abi", "/nonexistent/features", prof.to_str().unwrap()]);
    assert_eq!(code, 2);
}
