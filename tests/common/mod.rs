//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

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
/// Times are read and shown in UTC (whatever the host's zone), as the
/// pinned outputs expect; [`aactl_in_zone`] runs it in another zone.
pub fn aactl_raw(args: &[&str]) -> (u8, Vec<u8>, Vec<u8>) {
    aactl_raw_in(args, jiff::tz::TimeZone::UTC)
}

/// [`aactl`] with times read and shown in the IANA zone `zone`
/// (`Europe/Berlin`), as if `TZ` named it.
pub fn aactl_in_zone(zone: &str, args: &[&str]) -> (u8, String, String) {
    let tz = jiff::tz::TimeZone::get(zone).expect("the tz database has the zone");
    let (code, out, err) = aactl_raw_in(args, tz);
    (
        code,
        String::from_utf8(out).expect("stdout is UTF-8"),
        String::from_utf8(err).expect("stderr is UTF-8"),
    )
}

fn aactl_raw_in(args: &[&str], tz: jiff::tz::TimeZone) -> (u8, Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("aactl")
        .chain(args.iter().copied())
        .map(std::ffi::OsString::from)
        .collect();
    let code = {
        let mut io = apparmor::cli::Io::new(&mut out, &mut err).with_time_zone(tz);
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

/// The file offsets (`pos:` of /proc/PID/fdinfo) of every descriptor that
/// process `pid` has open on `path`; empty when it has none (or has exited).
pub fn open_offsets(pid: u32, path: &std::path::Path) -> Vec<u64> {
    let want = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == want))
        .filter_map(|fd| {
            let info = std::fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                fd.file_name().to_string_lossy()
            ))
            .ok()?;
            info.lines()
                .find_map(|l| l.strip_prefix("pos:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .collect()
}

/// Waits until process `pid` has `path` open at an offset for which `ok`
/// holds (a condition, not a guess at how long starting takes); panics,
/// naming `what`, after 60 s.
pub fn wait_for_offset(pid: u32, path: &std::path::Path, what: &str, ok: impl Fn(u64) -> bool) {
    let t = std::time::Instant::now();
    while !open_offsets(pid, path).into_iter().any(&ok) {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(60),
            "{what}: after 60 s pid {pid} has {} open at {:?}",
            path.display(),
            open_offsets(pid, path)
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Waits until process `pid` follows `path` from its end (a follower that
/// starts at the end: `--follow`, `--watch`): `path` is open at an offset
/// equal to its current length. `path` must not be empty, so that the offset
/// of a descriptor not yet moved to the end (0) cannot pass for it.
pub fn wait_until_following(pid: u32, path: &std::path::Path) {
    let len = std::fs::metadata(path).expect("the followed file").len();
    assert!(len > 0, "{} must not be empty", path.display());
    wait_for_offset(pid, path, "following from the end", |pos| pos == len);
}

/// Installs `text` as the executable script `path` (mode 0755), through
/// [`install_executable`].
pub fn install_script(path: &std::path::Path, text: &str) {
    let src = path.with_extension("script-source");
    std::fs::write(&src, text).unwrap();
    install_executable(&src, path);
    std::fs::remove_file(&src).unwrap();
}

/// Copies `src` to `dst` as an executable (mode 0755). The copy is written
/// by `install(1)`, never opened for writing in this process: a descriptor
/// open for writing here could be inherited by a child that another test
/// thread is forking at that moment, and exec of `dst` would then fail with
/// ETXTBSY ("Text file busy") until that child execs.
pub fn install_executable(src: &std::path::Path, dst: &std::path::Path) {
    let st = std::process::Command::new("install")
        .arg("-m")
        .arg("0755")
        .arg(src)
        .arg(dst)
        .status()
        .expect("install(1)");
    assert!(st.success(), "install {} {}", src.display(), dst.display());
}

/// True when generated files (man/aa-status.8, man/aactl.1) should be rewritten: the same
/// switch as the insta snapshots, `INSTA_UPDATE=always`, and never under CI (see
/// tests/snapshots_human.rs).
pub fn update_generated() -> bool {
    std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always")
        && !std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A reference userland of another Debian release (`trixie`: AppArmor 4.1.0,
/// `sid`: 5.0.2), built by `scripts/platforms/root SUITE` under
/// `AA_PLATFORMS_DIR` (default `/var/tmp/aa-platforms`).
#[derive(Debug, Clone)]
pub struct Platform {
    /// `trixie` or `sid`.
    pub suite: &'static str,
    /// The root folder (`…/root-SUITE`).
    pub root: PathBuf,
}

impl Platform {
    /// A command running `program` (a path inside the root such as
    /// `/usr/sbin/aa-status`, or a bare name) of this release on the host's
    /// view, through `scripts/platforms/run` (the root's loader and
    /// libraries; apparmor_parser with the root's pinned features file).
    pub fn command(&self, program: &str) -> std::process::Command {
        let mut c = std::process::Command::new(repo().join("scripts/platforms/run"));
        c.env("AA_PLATFORMS_DIR", self.root.parent().unwrap_or(&self.root))
            .arg(self.suite)
            .arg(program);
        c
    }

    /// The root's copy of a file (`/etc/apparmor.d` → `ROOT/etc/apparmor.d`).
    pub fn path(&self, inside: &str) -> PathBuf {
        self.root.join(inside.trim_start_matches('/'))
    }
}

/// The reference userland of `suite` if it has been built, else a skip
/// notice (a failure under `AA_REQUIRE_ORACLES=1`).
pub fn platform(suite: &'static str) -> Option<Platform> {
    let base = std::env::var_os("AA_PLATFORMS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/aa-platforms"));
    let root = base.join(format!("root-{suite}"));
    let found = root
        .join(".complete")
        .exists()
        .then_some(Platform { suite, root });
    require(
        found,
        &format!("the {suite} reference userland (scripts/platforms/root {suite}, as root)"),
    )
}

/// Copies the tree `src` into `dst` (created): folders recursively, symbolic
/// links as links (not followed), regular files by content; other entries
/// (FIFOs, devices) are left out.
pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let (a, b) = (e.path(), dst.join(e.file_name()));
        let md = std::fs::symlink_metadata(&a).unwrap();
        if md.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&a).unwrap(), &b).unwrap();
        } else if md.is_dir() {
            copy_tree(&a, &b);
        } else if md.is_file() {
            std::fs::copy(&a, &b).unwrap();
        }
    }
}
