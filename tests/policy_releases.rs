//! Release-aware checking (`CheckOptions::version`) against the real parsers
//! of each release line: Debian 12's 3.0.8 (the host's), Debian 13's 4.1.0
//! and sid's 5.0.2 (reference userlands, `crate::common::platform`).
//!
//! `corpus_verdicts_match_each_release` runs every parser on every
//! non-skipped upstream parser test case as upstream's harness does and
//! compares its verdict with ours for that release; 5.0.2 must agree on every
//! case, 3.0.8 and 4.1.0 may differ only on the cases listed (with reasons) in
//! tests/policy_releases_known_differences.txt, and a listed case that agrees
//! fails the test too. `shipped_trees_match_their_release` checks each
//! release's own /etc/apparmor.d with that release's version and parser.
//!
//! Parser verdicts are recorded at test time on two worker threads and cached
//! under the cargo target directory, keyed by the parser's `--version` output
//! and the content of what it was run on.

use crate::policy_semantic::{Case, cases};
use apparmor::diag::Diagnostic;
use apparmor::policy::ParserVersion;
use apparmor::policy::check::{CheckOptions, Features, check};
use apparmor::policy::resolve::include::dir_entries;
use apparmor::policy::resolve::{Resolver, SearchPath};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A case the parser has not finished after this long counts as rejected
/// (3.0.8 takes many minutes on one of upstream's cases).
const TIMEOUT: Duration = Duration::from_secs(60);

/// A parser of one release line.
struct Release {
    version: ParserVersion,
    /// Builds a command running this release's `apparmor_parser`.
    command: Box<dyn Fn() -> Command + Sync>,
    /// Its `--version` output (part of the cache key).
    ident: String,
    /// The root of its userland (`/` for the host).
    root: PathBuf,
}

/// The releases whose parser is available here (a skip notice for the others).
fn releases() -> Vec<Release> {
    let mut v = Vec::new();
    let host = Path::new("/usr/sbin/apparmor_parser");
    if crate::common::require(
        host.exists().then_some(()),
        "apparmor_parser 3.0 (Debian 12 package apparmor)",
    )
    .is_some()
    {
        v.push((
            ParserVersion::V3_0,
            Box::new(|| Command::new("/usr/sbin/apparmor_parser"))
                as Box<dyn Fn() -> Command + Sync>,
            PathBuf::from("/"),
        ));
    }
    for (suite, version) in [
        ("trixie", ParserVersion::V4_1),
        ("sid", ParserVersion::V5_0),
    ] {
        if let Some(p) = crate::common::platform(suite) {
            let root = p.root.clone();
            v.push((
                version,
                Box::new(move || p.command("apparmor_parser")),
                root,
            ));
        }
    }
    v.into_iter()
        .map(|(version, command, root)| {
            let out = command()
                .arg("--version")
                .output()
                .expect("run apparmor_parser");
            let ident = String::from_utf8_lossy(&out.stdout).into_owned();
            let found = ParserVersion::from_version_output(&ident);
            assert_eq!(found, Some(version), "unexpected parser version: {ident}");
            Release {
                version,
                command,
                ident,
                root,
            }
        })
        .collect()
}

/// A parser's verdict.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Accept,
    Reject,
    Timeout,
}

impl Verdict {
    fn letter(self) -> char {
        match self {
            Verdict::Accept => 'A',
            Verdict::Reject => 'R',
            Verdict::Timeout => 'T',
        }
    }
    fn from_letter(c: &str) -> Option<Verdict> {
        Some(match c {
            "A" => Verdict::Accept,
            "R" => Verdict::Reject,
            "T" => Verdict::Timeout,
            _ => return None,
        })
    }
}

/// Runs `cmd` under coreutils' `timeout` (which signals the whole process
/// group it runs, so the compiler child the parser forks ends too) with
/// `stdin` as input.
fn run(cmd: Command, stdin: Option<&str>) -> Verdict {
    let mut t = Command::new("timeout");
    t.args(["-s", "KILL"])
        .arg(TIMEOUT.as_secs().to_string())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => t.env(k, v),
            None => t.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        t.current_dir(d);
    }
    let mut child = t
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run apparmor_parser under timeout");
    if let (Some(mut si), Some(text)) = (child.stdin.take(), stdin) {
        let _ = si.write_all(text.as_bytes());
    }
    match child.wait().ok().and_then(|s| s.code()) {
        Some(0) => Verdict::Accept,
        // timeout's own codes: the time ran out
        Some(124 | 137) | None => Verdict::Timeout,
        Some(_) => Verdict::Reject,
    }
}

/// Runs `job(i)` for every `i < n` on two worker threads; results in order.
fn on_two_workers<T: Send>(n: usize, job: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let mut all: Vec<(usize, T)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return out;
                        }
                        out.push((i, job(i)));
                    }
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// The parser's verdicts on `inputs` (key, runner input; `salt`: anything
/// else the verdicts depend on), from the cache
/// under the target directory when this parser already ran on exactly these
/// inputs, else run (and cached).
fn cached_verdicts(
    release: &Release,
    what: &str,
    salt: &str,
    inputs: &[(String, String)],
    job: impl Fn(usize) -> Verdict + Sync,
) -> (Vec<Verdict>, bool) {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    release.ident.hash(&mut h);
    salt.hash(&mut h);
    inputs.hash(&mut h);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("policy-releases");
    let file = dir.join(format!(
        "{what}-{}-{:016x}.tsv",
        release.version.as_str(),
        h.finish()
    ));
    if let Ok(text) = std::fs::read_to_string(&file) {
        let map: HashMap<&str, Verdict> = text
            .lines()
            .filter_map(|l| {
                let (k, v) = l.rsplit_once('\t')?;
                Some((k, Verdict::from_letter(v)?))
            })
            .collect();
        let got: Option<Vec<Verdict>> = inputs
            .iter()
            .map(|(k, _)| map.get(k.as_str()).copied())
            .collect();
        if let Some(mut v) = got {
            // a time-out depends on how loaded the machine was: asked again
            let again: Vec<usize> = (0..v.len()).filter(|&i| v[i] == Verdict::Timeout).collect();
            if !again.is_empty() {
                let redo = on_two_workers(again.len(), |j| job(again[j]));
                for (&i, r) in again.iter().zip(redo) {
                    v[i] = r;
                }
                save_verdicts(&dir, &file, inputs, &v);
            }
            return (v, true);
        }
    }
    let v = on_two_workers(inputs.len(), job);
    save_verdicts(&dir, &file, inputs, &v);
    (v, false)
}

/// Writes the verdicts cache `file` (in `dir`).
fn save_verdicts(dir: &Path, file: &Path, inputs: &[(String, String)], v: &[Verdict]) {
    let _ = std::fs::create_dir_all(dir);
    let text: String = inputs
        .iter()
        .zip(v)
        .map(|((k, _), v)| format!("{k}\t{}\n", v.letter()))
        .collect();
    let _ = std::fs::write(file, text);
}

/// (release, case) → reason, from the checked-in list.
fn known_differences() -> BTreeMap<(String, String), String> {
    let p = crate::common::repo().join("tests/policy_releases_known_differences.txt");
    let text = std::fs::read_to_string(p).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut it = l.splitn(3, char::is_whitespace);
            let (v, case) = (it.next()?, it.next()?);
            Some((
                (v.to_string(), case.to_string()),
                it.next()?.trim().to_string(),
            ))
        })
        .collect()
}

/// Our first error on `case` when checking for `version`, as upstream's
/// harness runs the parser (cwd holding `simple_tests`, `-I` the corpus).
fn our_errors(
    shared: &Path,
    cwd: &Path,
    cases: &[Case],
    versions: &[ParserVersion],
) -> Vec<Vec<Option<Diagnostic>>> {
    let root = shared.join("corpus/parser-simple-tests");
    let features = Features::load(&shared.join("corpus/parser-features/features.all")).unwrap();
    let opts: Vec<CheckOptions> = versions
        .iter()
        .map(|v| CheckOptions {
            features: Some(features.clone()),
            werror: false,
            version: *v,
        })
        .collect();
    cases
        .iter()
        .map(|case| {
            let mut r = Resolver::new(SearchPath {
                include_dirs: vec![root.clone()],
                base: None,
                cwd: cwd.to_path_buf(),
                within: Vec::new(),
            });
            let res = r.resolve_text(Path::new("<stdin>"), case.text.clone());
            opts.iter()
                .map(|o| {
                    let mut d = res.diagnostics.clone();
                    d.extend(check(&res, &r.sources, o));
                    d.into_iter().find(Diagnostic::is_error)
                })
                .collect()
        })
        .collect()
}

#[test]
fn corpus_verdicts_match_each_release() {
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let started = Instant::now();
    let releases = releases();
    let root = shared.join("corpus/parser-simple-tests");
    let conf = shared.join("corpus/parser-features/parser.conf");
    let features = shared.join("corpus/parser-features/features.all");
    let tmp = tempfile::tempdir().unwrap();
    // upstream runs from parser/tst: some cases include "../tst/simple_tests/…"
    let cwd = tmp.path().join("tst");
    std::fs::create_dir(&cwd).unwrap();
    std::os::unix::fs::symlink(&root, cwd.join("simple_tests")).unwrap();
    let all: Vec<Case> = cases(&root).into_iter().filter(|c| !c.skip).collect();
    let versions: Vec<ParserVersion> = releases.iter().map(|r| r.version).collect();
    let ours = our_errors(&shared, &cwd, &all, &versions);
    let inputs: Vec<(String, String)> = all
        .iter()
        .map(|c| (c.rel.clone(), c.text.clone()))
        .collect();
    // the feature ABI is part of what the verdicts depend on
    let salt = std::fs::read_to_string(&features).unwrap_or_default();
    let known = known_differences();
    let mut failures = Vec::new();
    for (k, rel) in releases.iter().enumerate() {
        let t = Instant::now();
        let (theirs, cached) = cached_verdicts(rel, "corpus", &salt, &inputs, |i| {
            let mut cmd = (rel.command)();
            cmd.arg("--config-file")
                .arg(&conf)
                .arg("-M")
                .arg(&features)
                .args(["-Q", "-K", "-I"])
                .arg(&root)
                .current_dir(&cwd);
            run(cmd, Some(&all[i].text))
        });
        let v = rel.version.as_str();
        let mut same = 0;
        for (i, case) in all.iter().enumerate() {
            let our = &ours[i][k];
            let agree = (theirs[i] == Verdict::Accept) == our.is_none();
            let listed = known.contains_key(&(v.to_string(), case.rel.clone()));
            if agree {
                same += 1;
                if listed {
                    failures.push(format!("{v} {}: listed but now agrees", case.rel));
                }
            } else if !listed || rel.version >= ParserVersion::V5_0 {
                failures.push(format!(
                    "{v} {}: apparmor_parser {:?}, ours {}",
                    case.rel,
                    theirs[i],
                    our.as_ref()
                        .map(|d| format!("{} {}", d.code, d.message))
                        .unwrap_or_else(|| "accepts".into())
                ));
            }
        }
        println!(
            "parser {v}: same on {same}/{} cases ({:.1} s{})",
            all.len(),
            t.elapsed().as_secs_f64(),
            if cached { ", cached verdicts" } else { "" }
        );
    }
    println!("wall time {:.1} s", started.elapsed().as_secs_f64());
    for f in &failures {
        println!("  {f}");
    }
    assert!(failures.is_empty(), "{} differences", failures.len());
}

/// Every file under `dir` (path relative to it, content), sorted: what a
/// tree's verdicts depend on.
fn tree_content(dir: &Path) -> String {
    let mut v: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(e.path()).unwrap_or_default())
        })
        .collect();
    v.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    format!("{:016x}", h.finish())
}

#[test]
fn shipped_trees_match_their_release() {
    let started = Instant::now();
    let mut failures = Vec::new();
    for rel in releases() {
        let v = rel.version.as_str();
        let etc = rel.root.join("etc/apparmor.d");
        if crate::common::require(
            etc.join("tunables/global").exists().then_some(()),
            &format!("the profiles shipped with AppArmor {v} ({})", etc.display()),
        )
        .is_none()
        {
            continue;
        }
        let features = rel.root.join("usr/share/apparmor-features/features");
        let opts = CheckOptions {
            features: Features::load(&features).ok(),
            werror: false,
            version: rel.version,
        };
        // includes resolve in the root's tree and may not leave the root
        let mut r = Resolver::new(SearchPath {
            include_dirs: Vec::new(),
            base: Some(etc.clone()),
            cwd: etc.clone(),
            within: vec![std::fs::canonicalize(&rel.root).unwrap()],
        });
        let (files, _) = dir_entries(&etc).expect("list the tree");
        let ours: Vec<Option<String>> = files
            .iter()
            .map(|f| {
                let res = r.resolve_file(f).expect("read");
                let diags = check(&res, &r.sources, &opts);
                res.diagnostics
                    .iter()
                    .chain(&diags)
                    .find(|d| d.is_error())
                    .map(|d| {
                        let (p, l, c) = r.sources.locate(d.span).unwrap();
                        format!("{}:{l}:{c}: {} {}", p.display(), d.code, d.message)
                    })
            })
            .collect();
        let inputs: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.display().to_string(), String::new()))
            .collect();
        let t = Instant::now();
        let (theirs, cached) = cached_verdicts(&rel, "tree", &tree_content(&etc), &inputs, |i| {
            let mut cmd = (rel.command)();
            cmd.args(["-Q", "-K", "-b"]).arg(&etc).arg(&files[i]);
            run(cmd, None)
        });
        let mut same = 0;
        for ((f, our), their) in files.iter().zip(&ours).zip(&theirs) {
            if let Some(e) = our {
                failures.push(format!("{v}: {e}"));
            }
            if (*their == Verdict::Accept) == our.is_none() {
                same += 1;
            } else {
                failures.push(format!(
                    "{v} {}: apparmor_parser {their:?}, ours {}",
                    f.display(),
                    our.as_deref().unwrap_or("accepts")
                ));
            }
        }
        println!(
            "shipped profiles of {v} ({}): same on {same}/{} files, {} with errors of ours ({:.1} s{})",
            etc.display(),
            files.len(),
            ours.iter().flatten().count(),
            t.elapsed().as_secs_f64(),
            if cached { ", cached verdicts" } else { "" }
        );
        // Debian 13's plasmashell profile relies on an exact `[…]` pattern
        // beside `/** pux` (3.0 rejects that; 4.1 does not)
        if rel.version == ParserVersion::V4_1 {
            let plasma = etc.join("plasmashell");
            let i = files.iter().position(|f| *f == plasma);
            assert!(i.is_some_and(|i| ours[i].is_none()), "plasmashell: {i:?}");
        }
    }
    println!("wall time {:.1} s", started.elapsed().as_secs_f64());
    for f in &failures {
        println!("  {f}");
    }
    assert!(
        failures.is_empty(),
        "{} differences or errors",
        failures.len()
    );
}

/// Exec rules whose merge each release judges differently (`S0108`,
/// `S0112`, `priority=`), the unparenthesised mount option list, and the
/// signal names 5.0 added (`tstp`, `poll`; also what triage writes): each
/// profile body is run through every parser and compared with ours for
/// its release.
const MERGE_PROBES: &[&str] = &[
    "priority=-10 /usr/bin/bwrap px -> q,\n/usr/bin/bwrap rix,",
    "priority=1 /usr/bin/bwrap px,\n/usr/bin/bwrap ix,",
    "priority=1 /usr/bin/bwrap px -> q,\npriority=1 /usr/bin/bwrap rix,",
    "/usr/bin/bwrap px -> q,\n/usr/bin/bwrap rix,",
    "/usr/lib/qt[56]/QtWeb cx -> c,\n/** pux,",
    "/usr/lib/qt5/QtWeb cx -> c,\n/** pux,",
    "priority=5 /usr/bin/* px,\n/usr/bin/b* ix,",
    "/usr/bin/* px,\n/usr/bin/b* ix,",
    "/usr/bin/b[ab] ix,\n/usr/bin/** px,",
    "/usr/bin/b{a,b} ix,\n/usr/bin/** px,",
    "/usr/bin/b? ix,\n/usr/bin/** px,",
    "/a[bc] ix,\n/a[cd] px,",
    "/a[bc] ix,\n/ac px,",
    "/a{b,c} ix,\n/a[cd] px,",
    "/a{b,c} ix,\n/a{c,d} px,",
    "/a{b,c} ix,\n/ac px,",
    "mount options=ro,noexec /dev -> /mnt,",
    "mount options=(ro,noexec) /dev -> /mnt,",
    "@12 /tmp/foo l -> /tmp/bar@,",
    "@13 /tmp/foo l -> /tmp/bar@,",
    "@12 /bin/x@ px -> c@,",
    "@13 /bin/x@ px -> c@,",
    "@7 /bin/x@ px -> c@,\n/bin/y@ cx -> c@,",
    "signal (send) set=(tstp) peer=q,",
    "signal (receive) set=(poll, int),",
    "signal (send) set=(stp, io) peer=q,",
];

/// A probe's profile text: `@N body` repeats the body N times with `@`
/// replaced by the repetition's number.
fn probe_text(p: &str) -> String {
    let body = match p.strip_prefix('@') {
        Some(rest) => {
            let (n, body) = rest.split_once(' ').unwrap();
            (1..=n.parse::<usize>().unwrap())
                .map(|i| body.replace('@', &i.to_string()))
                .collect::<Vec<_>>()
                .join("\n")
        }
        None => p.to_string(),
    };
    format!("profile test /usr/bin/foo {{\n{body}\n}}\n")
}

#[test]
fn merge_probes_match_each_release() {
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let conf = shared.join("corpus/parser-features/parser.conf");
    let features = shared.join("corpus/parser-features/features.all");
    let ft = Features::load(&features).unwrap();
    let inputs: Vec<(String, String)> = MERGE_PROBES
        .iter()
        .map(|p| (p.replace('\n', " "), probe_text(p)))
        .collect();
    let mut failures = Vec::new();
    for rel in releases() {
        let opts = CheckOptions {
            features: Some(ft.clone()),
            werror: false,
            version: rel.version,
        };
        let salt = std::fs::read_to_string(&features).unwrap_or_default();
        let (theirs, _) = cached_verdicts(&rel, "merge", &salt, &inputs, |i| {
            let mut cmd = (rel.command)();
            cmd.arg("--config-file")
                .arg(&conf)
                .arg("-M")
                .arg(&features)
                .arg("-QK");
            run(cmd, Some(&inputs[i].1))
        });
        let mut same = 0;
        for ((key, text), their) in inputs.iter().zip(&theirs) {
            let mut r = Resolver::new(SearchPath::default());
            let res = r.resolve_text(Path::new("probe"), text.clone());
            let mut d = res.diagnostics.clone();
            d.extend(check(&res, &r.sources, &opts));
            let our = d.into_iter().find(Diagnostic::is_error);
            if (*their == Verdict::Accept) == our.is_none() {
                same += 1;
            } else {
                failures.push(format!(
                    "{} `{key}`: apparmor_parser {their:?}, ours {}",
                    rel.version,
                    our.map(|d| format!("{} {}", d.code, d.message))
                        .unwrap_or_else(|| "accepts".into())
                ));
            }
        }
        println!(
            "merge probes, parser {}: same on {same}/{}",
            rel.version,
            inputs.len()
        );
    }
    for f in &failures {
        println!("  {f}");
    }
    assert!(failures.is_empty(), "{} differences", failures.len());
}
