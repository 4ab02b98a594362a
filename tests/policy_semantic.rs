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
        ..Default::default()
    };
    let mut out = Vec::new();
    for case in cases(&root) {
        let mut r = Resolver::new(SearchPath {
            include_dirs: vec![root.clone()],
            base: None,
            cwd: cwd.clone(),
            within: Vec::new(),
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
    let mut cats: BTreeMap<&str, usize> = BTreeMap::new();
    for reason in known.values() {
        let cat = reason
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map(|(c, _)| c)
            .unwrap_or("uncategorised");
        *cats.entry(cat).or_default() += 1;
    }
    println!("known differences by category: {cats:?}");
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

/// Cases Debian's 3.0.8 parser supports: those where its recorded verdict
/// agrees with `#=EXRESULT` (spec/simple_tests-verdicts.tsv); the rest use
/// syntax newer than 3.0.8.
fn supported_by_308(shared: &Path) -> std::collections::HashSet<String> {
    let t = std::fs::read_to_string(shared.join("spec/simple_tests-verdicts.tsv")).unwrap();
    t.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.get(5) == Some(&"yes")).then(|| f[0].trim_start_matches("simple_tests/").to_string())
        })
        .collect()
}

fn apparmor_parser() -> Option<PathBuf> {
    ["/sbin/apparmor_parser", "/usr/sbin/apparmor_parser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Runs `apparmor_parser -QK` as upstream's harness does; true when accepted.
fn oracle_accepts(parser: &Path, shared: &Path, cwd: &Path, text: &str) -> bool {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let root = shared.join("corpus/parser-simple-tests");
    let mut child = Command::new(parser)
        .arg("--config-file")
        .arg(shared.join("corpus/parser-features/parser.conf"))
        .arg("-M")
        .arg(shared.join("corpus/parser-features/features.all"))
        .args(["-Q", "-K", "-I"])
        .arg(&root)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run apparmor_parser");
    if let Some(mut si) = child.stdin.take() {
        let _ = si.write_all(text.as_bytes());
    }
    child.wait().is_ok_and(|s| s.success())
}

#[test]
fn simple_tests_same_verdict_as_apparmor_parser_308() {
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let Some(parser) = crate::common::require(
        apparmor_parser(),
        "apparmor_parser (Debian package apparmor)",
    ) else {
        return;
    };
    let supported = supported_by_308(&shared);
    let root = shared.join("corpus/parser-simple-tests");
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("tst");
    std::fs::create_dir(&cwd).unwrap();
    std::os::unix::fs::symlink(&root, cwd.join("simple_tests")).unwrap();
    let known = known_differences();
    let ours: Vec<_> = verdicts(&shared)
        .into_iter()
        .filter(|(case, _, _)| supported.contains(&case.rel) && !case.skip)
        .collect();
    // the oracle runs take most of the time: two workers
    let half = ours.len().div_ceil(2);
    let theirs: Vec<bool> = std::thread::scope(|s| {
        let hs: Vec<_> = ours
            .chunks(half.max(1))
            .map(|chunk| {
                let (parser, shared, cwd) = (&parser, &shared, &cwd);
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(c, _, _)| oracle_accepts(parser, shared, cwd, &c.text))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let n = ours.len();
    let mut same = 0;
    let mut diffs = Vec::new();
    for ((case, err, _), theirs) in ours.into_iter().zip(theirs) {
        if theirs == err.is_none() {
            same += 1;
        } else if !known.contains_key(&case.rel) {
            diffs.push(format!(
                "{}: apparmor_parser {} ours {}",
                case.rel,
                if theirs { "accepts" } else { "rejects" },
                err.map(|d| format!("{} {}", d.code, d.message))
                    .unwrap_or_else(|| "accepts".into())
            ));
        }
    }
    println!("apparmor_parser 3.0.8 verdicts: same on {same}/{n} supported cases");
    for d in &diffs {
        println!("  {d}");
    }
    assert!(n > 1000, "too few supported cases ({n})");
    assert!(
        diffs.is_empty(),
        "{} unlisted verdict differences",
        diffs.len()
    );
}

/// (tree root, base dir) of real profile trees.
fn trees() -> Vec<(PathBuf, PathBuf)> {
    let mut v = Vec::new();
    let etc = PathBuf::from("/etc/apparmor.d");
    if crate::common::require(
        etc.join("tunables/global").exists().then_some(()),
        "Debian's /etc/apparmor.d",
    )
    .is_some()
    {
        v.push((etc.clone(), etc.clone()));
        let extra = PathBuf::from("/usr/share/apparmor/extra-profiles");
        if extra.is_dir() {
            v.push((extra, etc));
        }
    }
    if let Some(s) = crate::common::shared() {
        let up = s.join("corpus/profiles-upstream");
        v.push((up.clone(), up));
    }
    v
}

#[test]
fn real_trees_have_no_semantic_errors() {
    use apparmor::policy::resolve::include::dir_entries;
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let features = Features::load(&shared.join("corpus/parser-features/features.all")).unwrap();
    let opts = CheckOptions {
        features: Some(features),
        werror: false,
        ..Default::default()
    };
    let mut bad = Vec::new();
    let (mut files_n, mut warnings) = (0, 0);
    for (root, base) in trees() {
        let mut r = Resolver::new(SearchPath {
            include_dirs: vec![],
            base: Some(base),
            cwd: root.clone(),
            within: Vec::new(),
        });
        let (files, _) = dir_entries(&root).expect("list tree");
        let mut tree_bad = 0;
        for f in &files {
            let res = r.resolve_file(f).expect("read");
            let diags = check(&res, &r.sources, &opts);
            warnings += diags.iter().filter(|d| !d.is_error()).count();
            if let Some(d) = res.diagnostics.iter().chain(&diags).find(|d| d.is_error()) {
                tree_bad += 1;
                let (p, l, c) = r.sources.locate(d.span).unwrap();
                bad.push(format!("{}:{l}:{c}: {} {}", p.display(), d.code, d.message));
            }
        }
        println!(
            "{}: {} files, {tree_bad} with errors",
            root.display(),
            files.len()
        );
        files_n += files.len();
    }
    println!(
        "real trees: {files_n} files, {} with errors, {warnings} warnings",
        bad.len()
    );
    for b in &bad {
        println!("  {b}");
    }
    assert!(bad.is_empty());
}

/// Our verdict on one profile text (parse, resolve, semantic checks).
fn our_verdict(text: &str, opts: &CheckOptions) -> Option<Diagnostic> {
    let mut r = Resolver::new(SearchPath::default());
    let res = r.resolve_text(Path::new("probe"), text.to_string());
    let mut d = res.diagnostics.clone();
    d.extend(check(&res, &r.sources, opts));
    d.into_iter().find(Diagnostic::is_error)
}

#[test]
fn rule_probes_same_verdict_as_apparmor_parser_308() {
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let Some(parser) = crate::common::require(
        apparmor_parser(),
        "apparmor_parser (Debian package apparmor)",
    ) else {
        return;
    };
    let features = shared.join("corpus/parser-features/features.all");
    let opts = CheckOptions {
        features: Some(Features::load(&features).unwrap()),
        werror: false,
        ..Default::default()
    };
    let list = std::fs::read_to_string(
        crate::common::repo().join("testdata/policy/semantic/probes-3.0.8.txt"),
    )
    .unwrap();
    // (rule, must differ)
    let probes: Vec<(String, bool)> = list
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("!skip "))
        .map(|l| match l.strip_prefix("!6.0 ") {
            Some(r) => (r.split("  #").next().unwrap().trim().to_string(), true),
            None => (l.trim().to_string(), false),
        })
        .collect();
    let text = |rule: &str| match rule.strip_prefix("@file ") {
        Some(f) => format!("{}\n", f.replace("\\n", "\n")),
        None => format!("/usr/bin/foo {{\n  {rule}\n}}\n"),
    };
    let tmp = tempfile::tempdir().unwrap();
    let half = probes.len().div_ceil(2);
    let theirs: Vec<bool> = std::thread::scope(|s| {
        let hs: Vec<_> = probes
            .chunks(half)
            .enumerate()
            .map(|(k, chunk)| {
                let (parser, features, dir, text) = (&parser, &features, tmp.path(), &text);
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(rule, _)| {
                            let f = dir.join(format!("probe{k}"));
                            std::fs::write(&f, text(rule)).unwrap();
                            std::process::Command::new(parser)
                                .args(["-QK", "-M"])
                                .arg(features)
                                .arg(&f)
                                .stdout(std::process::Stdio::null())
                                .stderr(std::process::Stdio::null())
                                .status()
                                .is_ok_and(|s| s.success())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut bad = Vec::new();
    for ((rule, differ), theirs) in probes.iter().zip(theirs) {
        let ours = our_verdict(&text(rule), &opts);
        let agree = ours.is_none() == theirs;
        if agree == *differ {
            bad.push(format!(
                "{rule}: apparmor_parser {}, ours {}{}",
                if theirs { "accepts" } else { "rejects" },
                ours.map(|d| format!("{} {}", d.code, d.message))
                    .unwrap_or_else(|| "accepts".into()),
                if *differ {
                    " (listed as a 6.0 difference)"
                } else {
                    ""
                }
            ));
        }
    }
    println!(
        "rule probes: {} compared, {} mismatches",
        probes.len(),
        bad.len()
    );
    for b in &bad {
        println!("  {b}");
    }
    assert!(bad.is_empty());
}
