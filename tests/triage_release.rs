//! `aactl log --suggest --parser-version X.Y` against the real parsers: for
//! every case of corpus/libapparmor-logs and each release (3.0.8 on the
//! host, 4.1.0 of trixie and 5.0.2 of sid through their reference
//! userlands), the suggested profile blocks are compiled by that release's
//! `apparmor_parser -QK` and must be accepted.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The suggested blocks of one case, written for `version`, as one policy
/// text (every block, untrusted records trusted so that all rules are in).
fn suggested(input: &Path, version: &str) -> String {
    let (code, out, err) = common::aactl_lossy(&[
        "log",
        "--suggest",
        "--trust-userspace-records",
        "--parser-version",
        version,
        "--profile-dir",
        "/nonexistent",
        input.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{}: {err}", input.display());
    out
}

fn cases(shared: &Path) -> Vec<PathBuf> {
    let dir = shared.join("corpus/libapparmor-logs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "in"))
        .collect();
    v.sort();
    v
}

/// Compiles `policy` with `parser` (a command ready for its arguments);
/// `Err(stderr)` when rejected.
fn compiles(mut parser: Command, file: &Path) -> Result<(), String> {
    let o = parser
        .args(["-QK", "--skip-cache"])
        .arg(file)
        .env("LC_ALL", "C")
        .output()
        .expect("apparmor_parser runs");
    if o.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// Runs every case for one release; returns (cases with rules, accepted).
fn check_release(shared: &Path, version: &str, parser: &dyn Fn() -> Command) -> (usize, usize) {
    let tmp = tempfile::tempdir().unwrap();
    let (mut with_rules, mut ok, mut fails) = (0, 0, Vec::new());
    for input in cases(shared) {
        let policy = suggested(&input, version);
        if !policy.contains(",\n") {
            continue;
        }
        with_rules += 1;
        let file = tmp.path().join("suggested");
        std::fs::write(&file, &policy).unwrap();
        match compiles(parser(), &file) {
            Ok(()) => ok += 1,
            Err(e) => fails.push(format!("{}:\n{policy}{e}", input.display())),
        }
    }
    println!(
        "suggest for {version}: {with_rules} cases with rules, {ok} accepted by the release's parser"
    );
    assert!(fails.is_empty(), "{version}:\n{}", fails.join("\n"));
    (with_rules, ok)
}

#[test]
fn suggestions_compile_on_host_3_0() {
    let Some(shared) = common::shared() else {
        return;
    };
    let parser = apparmor::loader::find_parser_from_env().ok();
    let Some(parser) = common::require(parser, "apparmor_parser (3.0.8) on the host") else {
        return;
    };
    let v = apparmor::loader::Loader::new(
        apparmor::loader::Parser::new(&parser),
        apparmor::loader::SystemRunner,
    )
    .version()
    .unwrap_or_default();
    if !v.starts_with("3.0") {
        common::require(None::<()>, "a 3.0 apparmor_parser on the host");
        return;
    }
    let (n, ok) = check_release(&shared, "3.0", &|| Command::new(&parser));
    assert!(n >= 60 && ok == n);
    // the coarse form is what 3.0 gets
    let net = suggested(
        &shared.join("corpus/libapparmor-logs/file_perm_network_receive_lp1577051.in"),
        "3.0",
    );
    assert!(!net.contains("network ("), "{net}");
    // and the check discriminates: 6.0's fine-grained form is rejected by 3.0
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("latest");
    std::fs::write(
        &f,
        suggested(
            &shared.join("corpus/libapparmor-logs/file_perm_network_receive_lp1577051.in"),
            "6.0",
        ),
    )
    .unwrap();
    assert!(compiles(Command::new(&parser), &f).is_err());
}

#[test]
fn suggestions_compile_on_trixie_4_1() {
    let Some(shared) = common::shared() else {
        return;
    };
    let Some(p) = common::platform("trixie") else {
        return;
    };
    let (n, ok) = check_release(&shared, "4.1", &|| p.command("apparmor_parser"));
    assert!(n >= 60 && ok == n);
    // 4.1 keeps the fine-grained form
    let net = suggested(
        &shared.join("corpus/libapparmor-logs/file_perm_network_receive_lp1577051.in"),
        "4.1",
    );
    assert!(net.contains("network (send) inet6 stream ip="), "{net}");
}

#[test]
fn suggestions_compile_on_sid_5_0() {
    let Some(shared) = common::shared() else {
        return;
    };
    let Some(p) = common::platform("sid") else {
        return;
    };
    let (n, ok) = check_release(&shared, "5.0", &|| p.command("apparmor_parser"));
    assert!(n >= 60 && ok == n);
}
