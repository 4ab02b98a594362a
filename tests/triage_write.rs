//! `--suggest` against profiles on disk, `--generalize`, and `--write`
//! (local override, include line, diff, dry run, atomic replace).

use crate::common;
use crate::triage_conformance::aactl;

fn fixture() -> (tempfile::TempDir, String, String) {
    let t = tempfile::tempdir().unwrap();
    let src = common::repo().join("testdata/triage/profiles");
    let dst = t.path().join("apparmor.d");
    std::fs::create_dir_all(dst.join("abstractions")).unwrap();
    for f in ["usr.sbin.cupsd", "abstractions/base"] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    let log = common::repo().join("testdata/triage/cupsd.log");
    (
        t,
        dst.to_str().unwrap().to_owned(),
        log.to_str().unwrap().to_owned(),
    )
}

#[test]
fn rules_allowed_on_disk_are_not_suggested() {
    let (_t, dir, log) = fixture();
    let (code, out, err) = aactl(&["log", "--suggest", "--profile-dir", &dir, &log]);
    assert_eq!(code, 0);
    // setuid (profile) and /dev/null w (abstraction) are allowed; r on
    // /etc/cups/a.conf is allowed by /etc/cups/** r, only w is missing
    assert_eq!(
        out,
        "/usr/sbin/cupsd {\n  capability chown,\n  /etc/cups/a.conf w,\n  owner /home/bob/.cups/x r,\n  ^hat {\n    owner /y r,\n  }\n}\n"
    );
    assert!(err.contains("2 rule(s) left out"), "{err}");
    // without the profile directory everything is suggested
    let (_, out, _) = aactl(&["log", "--suggest", "--profile-dir", "/nonexistent", &log]);
    assert!(
        out.contains("capability setuid,") && out.contains("/dev/null w,"),
        "{out}"
    );
}

#[test]
fn generalize_shows_the_raw_value() {
    let (_t, dir, log) = fixture();
    let (_, out, _) = aactl(&[
        "log",
        "--suggest",
        "--generalize",
        "--profile-dir",
        &dir,
        &log,
    ]);
    assert!(
        out.contains("  owner @{HOME}/.cups/x r, # raw: /home/bob/.cups/x\n"),
        "{out}"
    );
    let p = apparmor::policy::parse_str(&out, apparmor::diag::FileId(0));
    assert!(p.is_ok(), "{:?}", p.diagnostics);
}

#[test]
fn write_appends_to_the_local_override() {
    let (_t, dir, log) = fixture();
    let profile = format!("{dir}/usr.sbin.cupsd");
    let local = format!("{dir}/local/usr.sbin.cupsd");
    let before = std::fs::read_to_string(&profile).unwrap();
    // dry run: the diff, no change
    let (code, out, _) = aactl(&[
        "log",
        "--suggest",
        "--write",
        "--dry-run",
        "--profile-dir",
        &dir,
        &log,
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("--- /dev/null\n+++ {local}\n")),
        "{out}"
    );
    assert!(
        out.contains("+capability chown,\n+/etc/cups/a.conf w,\n+owner /home/bob/.cups/x r,\n"),
        "{out}"
    );
    assert!(
        out.contains("+  include if exists <local/usr.sbin.cupsd>\n }"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&profile).unwrap(), before);
    assert!(!std::path::Path::new(&local).exists());
    // write
    let (code, _, err) = aactl(&["log", "--suggest", "--write", "--profile-dir", &dir, &log]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("rules for hats"), "{err}");
    let after = std::fs::read_to_string(&profile).unwrap();
    assert!(
        after.starts_with("# cupsd profile\n"),
        "comments kept: {after}"
    );
    assert!(after.contains("  /etc/cups/** r,   # config\n"), "{after}");
    assert!(
        after.ends_with("  include if exists <local/usr.sbin.cupsd>\n}\n"),
        "{after}"
    );
    let l = std::fs::read_to_string(&local).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&local).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o644,
            "a new local override is readable by all"
        );
    }
    assert!(
        l.contains("capability chown,\n/etc/cups/a.conf w,\nowner /home/bob/.cups/x r,\n"),
        "{l}"
    );
    // now the profile (through its local include) allows everything but the hat's rule
    let (_, out, _) = aactl(&["log", "--suggest", "--profile-dir", &dir, &log]);
    assert_eq!(
        out,
        "/usr/sbin/cupsd {\n  ^hat {\n    owner /y r,\n  }\n}\n"
    );
    // and a second write has nothing to do
    let (_, out, err) = aactl(&["log", "--suggest", "--write", "--profile-dir", &dir, &log]);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("nothing to write"), "{err}");
}

#[test]
fn write_keeps_a_symlinked_profile_a_link() {
    // an admin's profile that is a link into another folder: the link
    // stays a link and the file it points at gets the include line
    let (t, dir, log) = fixture();
    let real_dir = t.path().join("real");
    std::fs::create_dir_all(&real_dir).unwrap();
    let profile = format!("{dir}/usr.sbin.cupsd");
    let real = real_dir.join("usr.sbin.cupsd");
    std::fs::rename(&profile, &real).unwrap();
    std::os::unix::fs::symlink("../real/usr.sbin.cupsd", &profile).unwrap();
    let (code, _, err) = aactl(&["log", "--suggest", "--write", "--profile-dir", &dir, &log]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::symlink_metadata(&profile).unwrap();
    assert!(
        md.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    let after = std::fs::read_to_string(&real).unwrap();
    assert!(
        after.ends_with("  include if exists <local/usr.sbin.cupsd>\n}\n"),
        "{after}"
    );
}

#[test]
fn write_keeps_the_owner() {
    use std::os::unix::fs::MetadataExt;
    // keeping another user's ownership needs root (CI runs as root)
    if common::require(
        common::is_root().then_some(()),
        "root (chown to another user)",
    )
    .is_none()
    {
        return;
    }
    let (_t, dir, log) = fixture();
    let profile = format!("{dir}/usr.sbin.cupsd");
    std::os::unix::fs::chown(&profile, Some(4321), Some(4322)).unwrap();
    let (code, _, err) = aactl(&["log", "--suggest", "--write", "--profile-dir", &dir, &log]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::metadata(&profile).unwrap();
    assert!(
        std::fs::read_to_string(&profile)
            .unwrap()
            .contains("include if exists")
    );
    assert_eq!((md.uid(), md.gid()), (4321, 4322));
}
