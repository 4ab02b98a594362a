//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared reference folder (`AA_SHARED_DIR`, else `../shared`), if present.
pub fn shared_dir() -> Option<PathBuf> {
    let p = std::env::var_os("AA_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"));
    p.join("README.md").exists().then_some(p)
}

/// True when CI demands that oracle tests run instead of skipping.
pub fn oracles_required() -> bool {
    std::env::var("AA_REQUIRE_ORACLES").is_ok_and(|v| v == "1")
}

/// Skips (returns `None` after printing a notice) or, under
/// `AA_REQUIRE_ORACLES=1`, panics, when `what` is unavailable.
pub fn require<T>(value: Option<T>, what: &str) -> Option<T> {
    if value.is_none() {
        if oracles_required() {
            panic!("AA_REQUIRE_ORACLES=1 but {what} is not available");
        }
        eprintln!("SKIP: {what} is not available");
    }
    value
}

/// The shared folder, or a skip notice (a failure under `AA_REQUIRE_ORACLES=1`).
pub fn shared() -> Option<PathBuf> {
    require(shared_dir(), "../shared (set AA_SHARED_DIR)")
}

/// True when running as root (needed for `unshare -m` and the VM).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Runs `aactl ARGS…` in process: (exit code, stdout, stderr) as bytes.
pub fn aactl_raw(args: &[&str]) -> (u8, Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("aactl")
        .chain(args.iter().copied())
        .map(std::ffi::OsString::from)
        .collect();
    let code = {
        let mut io = apparmor::cli::Io::new(&mut out, &mut err);
        apparmor::cli::aactl::run(argv, &mut io)
    };
    (code, out, err)
}

/// [`aactl_raw`] with stdout and stderr checked to be UTF-8.
pub fn aactl(args: &[&str]) -> (u8, String, String) {
    let (code, out, err) = aactl_raw(args);
    (
        code,
        String::from_utf8(out).expect("stdout is UTF-8"),
        String::from_utf8(err).expect("stderr is UTF-8"),
    )
}

/// [`aactl_raw`] with bytes that are not UTF-8 replaced (for hostile input).
pub fn aactl_lossy(args: &[&str]) -> (u8, String, String) {
    let (code, out, err) = aactl_raw(args);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}
