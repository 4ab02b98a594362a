//! Semantic-check conformance: `#=EXRESULT` of upstream's parser
//! simple_tests, Debian's apparmor_parser 3.0.8 verdicts, and real trees.

use apparmor::diag::Diagnostic;
use apparmor::policy::check::{CheckOptions, Features, check};
use apparmor::policy::resolve::{Resolver, SearchPath};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A simple_tests case as upstream's simple.pl feeds it to the parser.
pub struct Case {
    /// Path relative to the corpus root (`file/ok_1.sd`).
    pub rel: String,
    /// Text with the `#=` header lines removed.
    pub text: String,
    /// `#=EXRESULT PASS`.
    pub pass: bool,
    /// `#=TODO` or `#=DISABLED`.
    pub skip: bool,
}

fn load_case(root: &Path, path: &Path) -> Option<Case> {
    let raw = std::fs::read(path).ok()?;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let mut pass = None;
    let mut skip = false;
    let mut text = String::new();
    for line in raw.split_inclusive('\n') {
        let lower = line.trim_start().to_ascii_lowercase();
        if lower.starts_with("#=exresult") {
            pass = Some(lower.contains("pass"));
        } else if lower.starts_with("#=todo") {
            skip = true;
        } else if lower.starts_with("#=disabled") {
            skip = true;
            break;
        } else if !lower.starts_with("#=description") {
            text.push_str(line);
        }
    }
    Some(Case {
        rel: path.strip_prefix(root).ok()?.display().to_string(),
        text,
        pass: pass?,
        skip,
    })
}

/// Every `.sd` case under `root`, sorted.
pub fn cases(root: &Path) -> Vec<Case> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "sd"))
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v.iter().filter_map(|p| load_case(root, p)).collect()
}

/// Runs parse, resolution and semantic checks on every case as upstream's
/// harness does (cwd holding `simple_tests`, `-I` the corpus, `-M
/// features.all`); returns (case, first error) in corpus order.
pub fn verdicts(shared: &Path) -> Vec<(Case, Option<Diagnostic>, String)> {
    let root = shared.join("corpus/parser-simple-tests");
    let features = Features::load(&shared.join("corpus/parser-features/features.all")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // upstream runs from parser/tst: some cases include "../tst/simple_tests/…"
    let cwd = tmp.path().join("tst");
    std::fs::create_dir(&cwd).unwrap();
    std::os::unix::fs::symlink(&root, cwd.join("simple_tests")).unwrap();
    let opts = CheckOptions {
        features: Some(features),
        werror: false,
    };
    let mut out = Vec::new();
    for case in cases(&root) {
        let mut r = Resolver::new(SearchPath {
            include_dirs: vec![root.clone()],
            base: None,
            cwd: cwd.clone(),
        });
        let res = r.resolve_text(Path::new("<stdin>"), case.text.clone());
        let mut diags = res.diagnostics.clone();
        diags.extend(check(&res, &r.sources, &opts));
        let first = diags.into_iter().find(Diagnostic::is_error);
        let loc = first
            .as_ref()
            .and_then(|d| {
                let s = r.sources.get(d.span.file)?;
                let (l, _) = s.line_col(d.span.start as usize);
                Some(format!("line {l}: {}", s.text.lines().nth(l - 1)?.trim()))
            })
            .unwrap_or_default();
        out.push((case, first, loc));
    }
    out
}

fn known_differences() -> BTreeMap<String, String> {
    let p = crate::common::repo().join("tests/policy_semantic_known_differences.txt");
    let text = std::fs::read_to_string(p).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (case, reason) = l.split_once(char::is_whitespace)?;
            Some((case.to_string(), reason.trim().to_string()))
        })
        .collect()
}

#[test]
fn simple_tests_exresult_agreement() {
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let known = known_differences();
    let mut n = 0usize;
    let mut agree = 0usize;
    let mut unlisted = Vec::new();
    let mut fixed = Vec::new();
    for (case, err, loc) in verdicts(&shared) {
        if case.skip {
            continue;
        }
        n += 1;
        let ok = err.is_none() == case.pass;
        let listed = known.contains_key(&case.rel);
        if ok {
            agree += 1;
            if listed {
                fixed.push(case.rel.clone());
            }
        } else if !listed {
            let want = if case.pass { "PASS" } else { "FAIL" };
            let got = err
                .map(|d| format!("{} {}", d.code, d.message))
                .unwrap_or_else(|| "accepted".into());
            unlisted.push(format!("{} (expected {want}): {got} [{loc}]", case.rel));
        }
    }
    let pct = 100.0 * agree as f64 / n.max(1) as f64;
    println!("simple_tests #=EXRESULT agreement: {agree}/{n} ({pct:.2}%)");
    for u in &unlisted {
        println!("  unlisted: {u}");
    }
    for f in &fixed {
        println!("  listed but now agrees: {f}");
    }
    assert!(
        unlisted.is_empty(),
        "{} unlisted disagreements",
        unlisted.len()
    );
    assert!(
        fixed.is_empty(),
        "{} listed cases now agree: remove them",
        fixed.len()
    );
    assert!(pct >= 99.5, "agreement {pct:.2}% < 99.5%");
}
