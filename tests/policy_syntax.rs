//! Parser conformance over upstream's parser simple_tests (syntax only).

use apparmor::diag::FileId;
use apparmor::policy::parse_str;
use std::path::{Path, PathBuf};

/// Strips the `#=` header lines as upstream's simple.pl does; returns
/// (text, expected PASS, todo, disabled).
pub fn load_case(path: &Path) -> Option<(String, bool, bool)> {
    let raw = std::fs::read(path).ok()?;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let mut pass = None;
    let mut skip = false;
    let mut out = String::new();
    for line in raw.split_inclusive('\n') {
        let l = line.trim_start();
        let lower = l.to_ascii_lowercase();
        if lower.starts_with("#=exresult") {
            pass = Some(lower.contains("pass"));
            continue;
        }
        if lower.starts_with("#=todo") {
            skip = true;
            continue;
        }
        if lower.starts_with("#=disabled") {
            skip = true;
            break;
        }
        if lower.starts_with("#=description") {
            continue;
        }
        out.push_str(line);
    }
    Some((out, pass?, skip))
}

pub fn cases(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "sd"))
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v
}

#[test]
fn simple_tests_pass_cases_parse() {
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let root = shared.join("corpus/parser-simple-tests");
    let mut fails = Vec::new();
    let mut n = 0;
    for p in cases(&root) {
        let Some((text, pass, skip)) = load_case(&p) else {
            continue;
        };
        if !pass || skip {
            continue;
        }
        n += 1;
        let parsed = parse_str(&text, FileId(0));
        if let Some(d) = parsed.diagnostics.iter().find(|d| d.is_error()) {
            let rel = p.strip_prefix(&root).unwrap().display().to_string();
            fails.push(format!(
                "{rel}: {} at {:?}: {:?}",
                d.message,
                d.span,
                &text[d.span.range().start.min(text.len())..]
                    .chars()
                    .take(40)
                    .collect::<String>()
            ));
        }
    }
    println!(
        "simple_tests PASS cases: {n}, syntax failures: {}",
        fails.len()
    );
    for f in &fails {
        println!("  {f}");
    }
    assert!(fails.is_empty());
}

#[test]
fn simple_tests_roundtrip_and_fail_stats() {
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let root = shared.join("corpus/parser-simple-tests");
    let mut rt_fail = Vec::new();
    let (mut nfail, mut rejected) = (0, 0);
    for p in cases(&root) {
        let Some((text, pass, _skip)) = load_case(&p) else {
            continue;
        };
        let parsed = parse_str(&text, FileId(0));
        if !pass {
            nfail += 1;
            if !parsed.is_ok() {
                rejected += 1;
            }
        }
        if parsed.is_ok() {
            let printed = parsed.ast.to_string();
            let again = parse_str(&printed, FileId(0));
            if again.ast != parsed.ast || !again.is_ok() {
                rt_fail.push(format!(
                    "{}\n--- printed:\n{printed}\n--- diags {:?}",
                    p.display(),
                    again.diagnostics
                ));
            }
        }
    }
    println!(
        "FAIL cases rejected by syntax alone: {rejected}/{nfail}; roundtrip failures: {}",
        rt_fail.len()
    );
    for f in rt_fail.iter().take(5) {
        println!("{f}");
    }
    assert!(rt_fail.is_empty());
}

/// Top-level profile files of a tree parse as policy; every other file as a fragment.
#[test]
fn real_trees_parse() {
    use apparmor::policy::{ParseMode, parse::parse};
    let mut roots = vec![
        PathBuf::from("/etc/apparmor.d"),
        PathBuf::from("/usr/share/apparmor/extra-profiles"),
    ];
    if let Some(s) = crate::common::shared_dir() {
        roots.push(s.join("corpus/profiles-upstream"));
    }
    let mut n = 0;
    let mut fails = Vec::new();
    for root in roots {
        for e in walkdir::WalkDir::new(&root)
            .sort_by_file_name()
            .into_iter()
            .filter_map(|e| e.ok())
        {
            if !e.file_type().is_file() {
                continue;
            }
            let Ok(bytes) = std::fs::read(e.path()) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let rel = e.path().strip_prefix(&root).unwrap();
            // abi files are feature lists and README is prose, not policy
            if rel.starts_with("abi") || e.file_name() == "README" {
                continue;
            }
            let top = rel.components().count() == 1;
            let mode = if top {
                ParseMode::Policy
            } else {
                ParseMode::Fragment
            };
            n += 1;
            let parsed = parse(&text, FileId(0), mode);
            if let Some(d) = parsed.diagnostics.iter().find(|d| d.is_error()) {
                let at = d.span.range().start.min(text.len());
                fails.push(format!(
                    "{}: {} {:?}",
                    e.path().display(),
                    d.message,
                    text[at..].chars().take(50).collect::<String>()
                ));
            } else {
                let again = parse(&parsed.ast.to_string(), FileId(0), mode);
                if again.ast != parsed.ast {
                    fails.push(format!("{}: roundtrip differs", e.path().display()));
                }
            }
        }
    }
    println!(
        "real tree files parsed and round-tripped: {n}, failures: {}",
        fails.len()
    );
    for f in fails.iter().take(40) {
        println!("  {f}");
    }
    assert!(fails.is_empty());
}

#[test]
#[ignore = "a report, not a check: lists the FAIL cases the grammar alone accepts (the semantic checks reject them; see policy_semantic)"]
fn list_syntax_fail_cases_we_accept() {
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let root = shared.join("corpus/parser-simple-tests");
    let tsv = std::fs::read_to_string(shared.join("spec/simple_tests-verdicts.tsv")).unwrap();
    let mut n = 0;
    for line in tsv.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() < 10 || c[1] != "FAIL" {
            continue;
        }
        let gist = c[9];
        if !(gist.contains("syntax error") || gist.contains("Lexer") || gist.contains("unexpected"))
        {
            continue;
        }
        let rel = c[0].trim_start_matches("simple_tests/");
        let Some((text, _, _)) = load_case(&root.join(rel)) else {
            continue;
        };
        let p = parse_str(&text, FileId(0));
        if p.is_ok() {
            n += 1;
            println!("{rel}\t{gist}");
        }
    }
    println!("{n} syntax-FAIL cases accepted");
}
