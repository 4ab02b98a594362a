//! `aa-status` of each release on the shared fake systems
//! (../shared/spec/aa-status-cases): Debian 13's 4.1.0 and sid's 5.0.2 run
//! through their reference userlands (a wrapper script executing
//! `scripts/platforms/run SUITE aa-status`, which keeps the program name in
//! usage texts) with the cases' own runner, at test time, as root.
//!
//! * 5.0.2 equals the recorded upstream 6.0 results on every invocation;
//! * ours equals 5.0.2 byte for byte on every invocation except the
//!   deliberate deviations of [`crate::compliance::DEVIATIONS`], checked the
//!   same way;
//! * 4.1.0 differs from 5.0.2 exactly on the invocations listed in
//!   `tests/status_releases_known_differences.txt` (enforced both ways; each
//!   case is in COMPATIBILITY.md).

use crate::common;
use crate::compliance::{self, DEVIATIONS, Outcome, load, text};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs every case with `binary`, returning the results per (case, invocation).
fn results(cases: &Path, binary: &Path) -> BTreeMap<(String, String), Outcome> {
    let (_guard, copy, names) = compliance::run_cases(cases, binary, "out-run");
    let mut out = BTreeMap::new();
    for case in names {
        let dir = copy.join(&case);
        for e in std::fs::read_dir(dir.join("out-6.0")).unwrap().flatten() {
            let f = e.file_name().to_string_lossy().into_owned();
            if let Some(inv) = f.strip_suffix(".cmd") {
                let o = load(&dir.join("out-run"), inv);
                out.insert((case.clone(), inv.to_owned()), o);
            }
        }
    }
    out
}

/// A wrapper executable that runs `suite`'s aa-status with its arguments
/// (the runner copies the binary it is given: a script that names the
/// release's program by absolute path survives the copy).
fn wrapper(dir: &Path, p: &common::Platform) -> PathBuf {
    let path = dir.join(format!("aa-status-{}", p.suite));
    let base = p.root.parent().unwrap_or(&p.root);
    common::install_script(
        &path,
        &format!(
            "#!/bin/bash\nexport AA_PLATFORMS_DIR='{}'\nexec '{}' {} aa-status \"$@\"\n",
            base.display(),
            common::repo().join("scripts/platforms/run").display(),
            p.suite
        ),
    );
    path
}

fn known() -> BTreeMap<(String, String), String> {
    let t =
        std::fs::read_to_string(common::repo().join("tests/status_releases_known_differences.txt"))
            .unwrap();
    t.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (key, why) = l.split_once('\t').expect("CASE/INVOCATION<TAB>why");
            let (c, i) = key.split_once('/').expect("CASE/INVOCATION");
            ((c.to_owned(), i.to_owned()), why.to_owned())
        })
        .collect()
}

fn show(o: &Outcome) -> String {
    format!(
        "stdout {:?}\n  stderr {:?}\n  rc {}",
        text(&o.stdout),
        text(&o.stderr),
        o.rc
    )
}

#[test]
fn aa_status_of_4_1_0_and_5_0_2_on_the_fake_systems() {
    let Some(shared) = common::shared() else {
        return;
    };
    if common::require(
        compliance::can_unshare().then_some(()),
        "root with unshare -m",
    )
    .is_none()
    {
        return;
    }
    let (Some(trixie), Some(sid)) = (common::platform("trixie"), common::platform("sid")) else {
        return;
    };
    let cases = shared.join("spec/aa-status-cases");
    let tmp = tempfile::tempdir().unwrap();
    let ours = results(&cases, Path::new(env!("CARGO_BIN_EXE_aa-status")));
    let v5 = results(&cases, &wrapper(tmp.path(), &sid));
    let v4 = results(&cases, &wrapper(tmp.path(), &trixie));
    let known = known();
    let mut fails = Vec::new();
    let (mut same5, mut dev5, mut diff4) = (0, 0, 0);
    for ((case, inv), r5) in &v5 {
        let dir = cases.join(case);
        // 5.0.2 = upstream 6.0 as recorded
        let recorded = load(&dir.join("out-6.0"), inv);
        if *r5 != recorded {
            fails.push(format!(
                "{case}/{inv}: 5.0.2 differs from out-6.0\n  {}",
                show(r5)
            ));
        }
        // ours = 5.0.2, but for the deliberate deviations
        let o = &ours[&(case.clone(), inv.clone())];
        let dev = DEVIATIONS.iter().find(|d| d.0 == case && d.1 == inv);
        match (o == r5, dev) {
            (true, None) => same5 += 1,
            (true, Some(_)) => fails.push(format!("{case}/{inv}: listed deviation but equal")),
            (false, Some(d)) => match compliance::check_deviation(d.2, &dir, inv, r5, o) {
                Ok(()) => dev5 += 1,
                Err(e) => fails.push(format!("{case}/{inv} ({}): {e}", d.3)),
            },
            (false, None) => fails.push(format!(
                "{case}/{inv}: ours differs from 5.0.2\n  5.0.2 {}\n  ours  {}",
                show(r5),
                show(o)
            )),
        }
        // 4.1.0 differs from 5.0.2 exactly where listed
        let r4 = &v4[&(case.clone(), inv.clone())];
        match (r4 == r5, known.contains_key(&(case.clone(), inv.clone()))) {
            (true, false) => {}
            (false, true) => diff4 += 1,
            (true, true) => fails.push(format!("{case}/{inv}: listed for 4.1.0 but equal")),
            (false, false) => fails.push(format!(
                "{case}/{inv}: 4.1.0 differs from 5.0.2\n  4.1.0 {}\n  5.0.2 {}",
                show(r4),
                show(r5)
            )),
        }
    }
    println!(
        "aa-status per release: {} invocations; ours = 5.0.2 on {same5}, {dev5} listed deviations; 4.1.0 differs from 5.0.2 on {diff4} (listed)",
        v5.len()
    );
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    assert_eq!(same5 + dev5, v5.len());
    let compat = std::fs::read_to_string(common::repo().join("COMPATIBILITY.md")).unwrap();
    for (c, _) in known.keys() {
        assert!(
            compat.contains(&format!("`{c}`")),
            "COMPATIBILITY.md does not name {c}"
        );
    }
}
