//! Conformance of parse + resolve (`aactl check --syntax-only`) against
//! upstream's simple_tests, real profile trees, and apparmor_parser 3.0.8's
//! `-N` profile names.

use crate::common;
use crate::policy_syntax::{cases, load_case};
use apparmor::policy::resolve::include::dir_entries;
use apparmor::policy::resolve::{Resolved, Resolver, SearchPath};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const EXCEPTIONS: &str = "tests/policy_exceptions.txt";

/// Checked-in exceptions: `relative/path.sd<TAB>reason`.
fn exceptions() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(common::repo().join(EXCEPTIONS)).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (p, r) = l.split_once('\t').unwrap_or((l, ""));
            (p.trim().to_string(), r.trim().to_string())
        })
        .collect()
}

/// A working directory where `simple_tests/…` and `../tst/simple_tests/…`
/// resolve to the corpus, as in upstream's `parser/tst` harness.
fn harness_cwd(root: &Path) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tst = tmp.path().join("tst");
    std::fs::create_dir(&tst).expect("mkdir");
    std::os::unix::fs::symlink(root, tst.join("simple_tests")).expect("symlink");
    (tmp, tst)
}

fn first_error(r: &Resolved, res: &Resolver) -> String {
    r.diagnostics
        .iter()
        .find(|d| d.is_error())
        .map(|d| {
            let (p, l, c) = res
                .sources
                .locate(d.span)
                .map(|(p, l, c)| (p.display().to_string(), l, c))
                .unwrap_or_default();
            format!("{p}:{l}:{c}: [{}] {}", d.code, d.message)
        })
        .unwrap_or_default()
}

#[test]
fn simple_tests_pass_cases_are_accepted() {
    let Some(shared) = common::shared() else {
        return;
    };
    let root = shared.join("corpus/parser-simple-tests");
    let (_tmp, cwd) = harness_cwd(&root);
    let mut res = Resolver::new(SearchPath {
        include_dirs: vec![root.clone()],
        base: None,
        cwd,
        within: Vec::new(),
    });
    let listed = exceptions();
    let mut failing = BTreeMap::new();
    let mut n = 0;
    for p in cases(&root) {
        let Some((text, pass, skip)) = load_case(&p) else {
            continue;
        };
        if !pass || skip {
            continue;
        }
        n += 1;
        let rel = p.strip_prefix(&root).unwrap().display().to_string();
        let r = res.resolve_text(&p, text);
        if !r.is_ok() {
            failing.insert(rel, first_error(&r, &res));
        }
    }
    println!(
        "simple_tests: {n} PASS cases, {} rejected, {} listed exceptions",
        failing.len(),
        listed.len()
    );
    let unexpected: Vec<_> = failing
        .iter()
        .filter(|(k, _)| !listed.contains_key(*k))
        .collect();
    let fixed: Vec<_> = listed
        .keys()
        .filter(|k| !failing.contains_key(*k))
        .collect();
    for (k, e) in &unexpected {
        println!("  UNEXPECTED REJECT {k}: {e}");
    }
    for k in &fixed {
        println!("  LISTED BUT ACCEPTED {k} (remove it from {EXCEPTIONS})");
    }
    assert!(unexpected.is_empty() && fixed.is_empty());
}

/// (tree root, base dir) pairs of real profile trees.
fn trees() -> Vec<(PathBuf, PathBuf)> {
    let mut v = Vec::new();
    let etc = PathBuf::from("/etc/apparmor.d");
    if common::require(
        etc.join("tunables/global").exists().then_some(()),
        "Debian's /etc/apparmor.d",
    )
    .is_some()
    {
        v.push((etc.clone(), etc.clone()));
        let extra = PathBuf::from("/usr/share/apparmor/extra-profiles");
        if common::require(
            extra.is_dir().then_some(()),
            "apparmor-profiles extra-profiles",
        )
        .is_some()
        {
            v.push((extra, etc));
        }
    }
    if let Some(s) = common::shared() {
        let up = s.join("corpus/profiles-upstream");
        v.push((up.clone(), up));
    }
    v
}

#[test]
fn real_trees_have_no_errors() {
    let mut total = 0;
    let mut bad = Vec::new();
    for (root, base) in trees() {
        let mut res = Resolver::new(SearchPath {
            include_dirs: vec![],
            base: Some(base),
            cwd: root.clone(),
            within: Vec::new(),
        });
        let (files, _) = dir_entries(&root).expect("list tree");
        let mut profiles = 0;
        for f in &files {
            let r = res.resolve_file(f).expect("read");
            profiles += r.profile_names().len();
            if !r.is_ok() {
                bad.push(format!("{}: {}", f.display(), first_error(&r, &res)));
            }
        }
        println!(
            "{}: {} files, {profiles} profiles",
            root.display(),
            files.len()
        );
        total += files.len();
    }
    println!("real trees: {total} files, {} with errors", bad.len());
    for b in &bad {
        println!("  {b}");
    }
    assert!(bad.is_empty());
}

fn apparmor_parser() -> Option<PathBuf> {
    ["/sbin/apparmor_parser", "/usr/sbin/apparmor_parser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// `apparmor_parser -N` names, or None when it rejects the input.
fn oracle_names(
    parser: &Path,
    args: &[&str],
    stdin: Option<&str>,
    cwd: &Path,
) -> Option<Vec<String>> {
    use std::io::Write;
    let mut cmd = Command::new(parser);
    cmd.arg("-N").arg("-Q").args(args).current_dir(cwd);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().ok()?;
    {
        let mut si = child.stdin.take()?;
        if let Some(t) = stdin {
            let _ = si.write_all(t.as_bytes());
        }
    }
    let out = child.wait_with_output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    })
}

#[test]
fn profile_names_match_apparmor_parser() {
    let Some(parser) = common::require(
        apparmor_parser(),
        "apparmor_parser (Debian package apparmor)",
    ) else {
        return;
    };
    let mut compared = 0;
    let mut rejected = 0;
    let mut diffs = Vec::new();
    for (root, base) in trees() {
        let mut res = Resolver::new(SearchPath {
            include_dirs: vec![],
            base: Some(base.clone()),
            cwd: root.clone(),
            within: Vec::new(),
        });
        let (files, _) = dir_entries(&root).expect("list tree");
        for f in files {
            let Some(mut theirs) = oracle_names(
                &parser,
                &["-b", base.to_str().unwrap(), f.to_str().unwrap()],
                None,
                &root,
            ) else {
                rejected += 1;
                continue;
            };
            compared += 1;
            let mut ours = res.resolve_file(&f).expect("read").profile_names();
            theirs.sort();
            ours.sort();
            if ours != theirs {
                diffs.push(format!("{}: ours {ours:?} theirs {theirs:?}", f.display()));
            }
        }
    }
    if let Some(shared) = common::shared() {
        let root = shared.join("corpus/parser-simple-tests");
        let (_tmp, cwd) = harness_cwd(&root);
        let features = shared.join("corpus/parser-features/features.all");
        let mut res = Resolver::new(SearchPath {
            include_dirs: vec![root.clone()],
            base: None,
            cwd: cwd.clone(),
            within: Vec::new(),
        });
        for p in cases(&root) {
            let Some((text, pass, skip)) = load_case(&p) else {
                continue;
            };
            if !pass || skip {
                continue;
            }
            let args = [
                "-M",
                features.to_str().unwrap(),
                "-I",
                root.to_str().unwrap(),
            ];
            let Some(mut theirs) = oracle_names(&parser, &args, Some(&text), &cwd) else {
                rejected += 1;
                continue;
            };
            compared += 1;
            let mut ours = res.resolve_text(&p, text).profile_names();
            theirs.sort();
            ours.sort();
            if ours != theirs {
                diffs.push(format!("{}: ours {ours:?} theirs {theirs:?}", p.display()));
            }
        }
    }
    println!(
        "apparmor_parser -N: {compared} files compared, {rejected} rejected by 3.0.8 (skipped), {} differ",
        diffs.len()
    );
    for d in &diffs {
        println!("  {d}");
    }
    assert!(diffs.is_empty());
}
