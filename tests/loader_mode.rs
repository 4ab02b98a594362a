//! Mode changes: flag edits on the named profile only, comments kept, symlinks,
//! reloads; and a sweep over every profile of Debian's tree and upstream's corpus.

use crate::common::{require, shared};
use crate::loader::{real_parser, td};
use crate::loader_cli::{aactl, fake_apparmorfs, s};
use apparmor::loader::mode::{IndexedFile, ModeChange, edit_flags};
use std::path::{Path, PathBuf};

/// Checks one edit: only lines inside the profile's head changed, the profile
/// now has the wanted flags, and every other profile's flags are unchanged.
fn check_edit(path: &Path, text: &str, name: &str, change: ModeChange) -> Result<(), String> {
    let before = IndexedFile::from_text(path.to_owned(), text.to_owned());
    let (new, fc) = edit_flags(path, text, name, change).map_err(|e| e.to_string())?;
    let after = IndexedFile::from_text(path.to_owned(), new.clone());
    if after.parse_error.is_some() {
        return Err(format!(
            "{name}: edited text does not parse: {:?}",
            after.parse_error
        ));
    }
    // Same line count, and at most one changed line (the profile's head line).
    let a: Vec<&str> = text.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() != b.len() {
        return Err(format!("{name}: line count changed"));
    }
    let changed: Vec<usize> = (0..a.len()).filter(|i| a[*i] != b[*i]).collect();
    if changed.len() > 1 {
        return Err(format!("{name}: {} lines changed", changed.len()));
    }
    for i in &changed {
        // Comments on the changed line are kept too.
        if let Some(pos) = a[*i].find(" #") {
            if !b[*i].ends_with(&a[*i][pos..]) {
                return Err(format!("{name}: trailing comment lost on line {}", i + 1));
            }
        }
    }
    for (p0, p1) in before.profiles.iter().zip(&after.profiles) {
        if p0.name != p1.name {
            return Err(format!("{name}: profile list changed"));
        }
        if p0.name == name {
            let ok = match change {
                ModeChange::Complain => {
                    p1.flags.contains(&"complain".to_string())
                        && !p1.flags.iter().any(|f| f == "enforce" || f == "kill")
                }
                ModeChange::Enforce => !p1.flags.iter().any(|f| {
                    ["complain", "kill", "unconfined", "prompt", "default_allow"]
                        .contains(&f.as_str())
                }),
                ModeChange::Audit => p1.flags.contains(&"audit".to_string()),
                m @ (ModeChange::Kill | ModeChange::Prompt | ModeChange::DefaultAllow) => {
                    let want = m.mode_flag().unwrap_or_default();
                    p1.flags.iter().any(|f| f == want)
                        && p1.flags.iter().all(|f| {
                            f == want || !apparmor::policy::edit::MODE_FLAGS.contains(&f.as_str())
                        })
                }
                _ => true,
            };
            if !ok || fc.after != p1.flags {
                return Err(format!("{name}: flags now {:?}", p1.flags));
            }
        } else if p0.flags != p1.flags {
            return Err(format!("{}: flags of another profile changed", p1.name));
        }
    }
    Ok(())
}

fn sweep(dir: &Path) -> (usize, usize, Vec<String>) {
    let mut profiles = 0;
    let mut skipped_files = 0;
    let mut failures = Vec::new();
    for entry in walkdir::WalkDir::new(dir).max_depth(1).min_depth(1) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        // A file that cannot be read (or is not UTF-8) counts as not parsed,
        // not as silently absent.
        let Ok(f) = IndexedFile::read(entry.path()) else {
            skipped_files += 1;
            continue;
        };
        if f.parse_error.is_some() {
            skipped_files += 1;
            continue;
        }
        for p in &f.profiles {
            profiles += 1;
            for change in [
                ModeChange::Complain,
                ModeChange::Enforce,
                ModeChange::Audit,
                ModeChange::Kill,
                ModeChange::Prompt,
                ModeChange::DefaultAllow,
            ] {
                if let Err(e) = check_edit(&f.path, &f.text, &p.name, change) {
                    failures.push(format!("{}: {}: {e}", f.path.display(), change.as_str()));
                }
            }
        }
    }
    (profiles, skipped_files, failures)
}

#[test]
fn flags_edit_keeps_everything_else_in_debians_tree() {
    let dir = Path::new("/etc/apparmor.d");
    let Some(dir) = require(
        dir.join("usr.bin.man").exists().then_some(dir),
        "Debian's /etc/apparmor.d",
    ) else {
        return;
    };
    let (n, skipped, failures) = sweep(dir);
    println!("debian tree: {n} profiles edited 6 ways, {skipped} files not parsed");
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(skipped, 0, "every Debian profile file should parse");
    assert!(n > 30);
}

#[test]
fn flags_edit_keeps_everything_else_in_upstream_corpus() {
    let Some(shared) = shared() else { return };
    let (n, skipped, failures) = sweep(&shared.join("corpus/profiles-upstream"));
    println!("upstream corpus: {n} profiles edited 6 ways, {skipped} files not parsed");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(n > 200);
}

fn tree() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("apparmor.d");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::copy(td("profiles/foo"), base.join("foo")).unwrap();
    std::fs::write(
        base.join("bar"),
        "# bar's header comment\n/usr/bin/bar {  # trailing\n  /etc/bar r,\n}\n",
    )
    .unwrap();
    (d, base)
}

/// Runs `aactl MODE --base BASE --no-reload --parser /nonexistent ARGS...`:
/// a file edit only (the parser is never run).
fn edit_only(base: &Path, mode: &str, args: &[&str]) -> (u8, String, String) {
    let head = [
        mode,
        "--base",
        s(base),
        "--no-reload",
        "--parser",
        "/nonexistent",
    ];
    aactl(&[&head[..], args].concat())
}

#[test]
fn enforce_edits_only_the_named_profile_not_its_hats() {
    // Upstream's aa-enforce also strips the hat's own complain flag (§5 item 33).
    let (_d, base) = tree();
    let (code, out, err) = edit_only(&base, "enforce", &["foo"]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(base.join("foo")).unwrap();
    assert_eq!(
        text,
        "# comment kept\nprofile foo /usr/bin/foo {\n  /etc/passwd r,\n  ^hat flags=(complain) {\n    /tmp/** rw,\n  }\n  profile child {\n  }\n}\n"
    );
    assert!(out.contains("foo: complain -> enforce"), "{out}");
}

#[test]
fn complain_on_a_hat_only_and_by_program_path() {
    let (_d, base) = tree();
    let (code, _, err) = edit_only(&base, "complain", &["foo//child"]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(base.join("foo")).unwrap();
    assert!(
        text.contains("  profile child flags=(complain) {\n"),
        "{text}"
    );
    assert!(text.contains("profile foo /usr/bin/foo flags=(complain) {\n"));
    // By program path (the attachment) and by name: the trailing comment stays.
    let (code, _, err) = edit_only(&base, "complain", &["/usr/bin/bar"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(base.join("bar")).unwrap(),
        "# bar's header comment\n/usr/bin/bar flags=(complain) {  # trailing\n  /etc/bar r,\n}\n"
    );
}

#[test]
fn unknown_profile_is_an_error_not_exit_0() {
    let (_d, base) = tree();
    let (code, _out, err) = edit_only(&base, "complain", &["nosuchprofile", "foo"]);
    assert_eq!(code, 1);
    assert!(err.contains("profile nosuchprofile not found in"), "{err}");
    // The other target is still done.
    assert!(
        std::fs::read_to_string(base.join("foo"))
            .unwrap()
            .contains("profile foo /usr/bin/foo flags=(complain)")
    );
}

#[test]
fn disable_and_enable_manage_the_symlink() {
    let (_d, base) = tree();
    let (code, _, err) = edit_only(&base, "disable", &["foo"]);
    assert_eq!(code, 0, "{err}");
    let link = base.join("disable/foo");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        std::fs::canonicalize(base.join("foo")).unwrap()
    );
    // The profile text is untouched by disable.
    assert_eq!(
        std::fs::read_to_string(base.join("foo")).unwrap(),
        std::fs::read_to_string(td("profiles/foo")).unwrap()
    );
    let (code, _, err) = edit_only(&base, "enable", &["foo"]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::symlink_metadata(&link).is_err());
    // complain removes a disable link; enforce also removes force-complain.
    std::fs::create_dir_all(base.join("force-complain")).unwrap();
    std::os::unix::fs::symlink(base.join("bar"), base.join("force-complain/bar")).unwrap();
    std::os::unix::fs::symlink(base.join("bar"), base.join("disable/bar")).unwrap();
    let (code, _, err) = edit_only(&base, "enforce", &["/usr/bin/bar"]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::symlink_metadata(base.join("force-complain/bar")).is_err());
    assert!(std::fs::symlink_metadata(base.join("disable/bar")).is_err());
}

#[test]
fn edit_keeps_owner_and_permissions() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (_d, base) = tree();
    let f = base.join("bar");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::metadata(&f).unwrap();
    let (code, _, err) = edit_only(&base, "audit", &["/usr/bin/bar"]);
    assert_eq!(code, 0, "{err}");
    let after = std::fs::metadata(&f).unwrap();
    assert_eq!(after.permissions().mode() & 0o7777, 0o600);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert_ne!(
        after.ino(),
        before.ino(),
        "written through a temp file and rename"
    );
    assert!(
        std::fs::read_to_string(&f)
            .unwrap()
            .contains("/usr/bin/bar flags=(audit) {")
    );
}

#[test]
fn dry_run_shows_link_edit_and_reload_without_changing_anything() {
    let (_d, base) = tree();
    std::fs::create_dir_all(base.join("disable")).unwrap();
    std::os::unix::fs::symlink(base.join("foo"), base.join("disable/foo")).unwrap();
    let before = std::fs::read_to_string(base.join("foo")).unwrap();
    let (code, out, err) = aactl(&[
        "enforce",
        "--base",
        s(&base),
        "--parser",
        "/usr/sbin/apparmor_parser",
        "--dry-run",
        "foo",
    ]);
    assert_eq!(code, 0, "{err}");
    let b = base.display();
    assert_eq!(
        out,
        format!(
            "rm {b}/disable/foo\n\
             --- {b}/foo\n\
             +++ {b}/foo\n\
             @@ -1,5 +1,5 @@\n\
             \x20# comment kept\n\
             -profile foo /usr/bin/foo flags=(complain) {{\n\
             +profile foo /usr/bin/foo {{\n\
             \x20  /etc/passwd r,\n\
             \x20  ^hat flags=(complain) {{\n\
             \x20    /tmp/** rw,\n\
             $ /usr/sbin/apparmor_parser --replace --Include={b} --base={b} --verbose -- {b}/foo\n"
        )
    );
    assert_eq!(std::fs::read_to_string(base.join("foo")).unwrap(), before);
    assert!(std::fs::symlink_metadata(base.join("disable/foo")).is_ok());
}

#[test]
fn complain_reloads_with_the_real_parser() {
    let Some(p) = real_parser() else { return };
    let (_d, base) = tree();
    let fs = fake_apparmorfs();
    let (code, out, err) = aactl(&[
        "enforce",
        "--base",
        s(&base),
        "--apparmorfs",
        s(fs.path()),
        "-K",
        "--parser",
        s(&p),
        "--json",
        "foo",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["ok"], true);
    assert_eq!(r["changes"][0]["profile"], "foo");
    assert_eq!(r["changes"][0]["before"], serde_json::json!(["complain"]));
    assert_eq!(r["changes"][0]["after"], serde_json::json!([]));
    let done: Vec<_> = r["report"]["done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(done, ["child", "hat", "foo"]);
    assert!(std::fs::metadata(fs.path().join(".replace")).unwrap().len() > 0);
}

#[test]
fn unparsable_file_is_not_edited_and_the_line_is_named() {
    // G-01's profile: our parser rejects it like apparmor_parser 3.0.8 does, so a
    // mode change refuses to rewrite it instead of guessing.
    let (_d, base) = tree();
    let f = base.join("g01");
    std::fs::copy(td("profiles/g01-mount-operator"), &f).unwrap();
    let before = std::fs::read_to_string(&f).unwrap();
    let (code, _out, err) = edit_only(&base, "complain", &["p"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("not edited: the policy parser reports line 3:"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), before);
}

#[test]
fn edited_debian_tree_still_parses_in_apparmor_parser() {
    // Every top-level profile of every Debian file switched to complain, then the
    // real parser (--names: parse only) must accept the edited copies and list the
    // same profiles as for the originals.
    let Some(p) = real_parser() else { return };
    let dir = Path::new("/etc/apparmor.d");
    if require(
        dir.join("usr.bin.man").exists().then_some(()),
        "Debian's /etc/apparmor.d",
    )
    .is_none()
    {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let mut edited = 0;
    for f in apparmor::loader::profile_files(dir).unwrap() {
        let Ok(i) = IndexedFile::read(&f) else {
            continue;
        };
        let mut text = i.text.clone();
        for prof in i.profiles.iter().filter(|p| p.top_level) {
            text = edit_flags(&f, &text, &prof.name, ModeChange::Complain)
                .unwrap()
                .0;
            edited += 1;
        }
        let after = IndexedFile::from_text(f.clone(), text.clone());
        for prof in after.profiles.iter().filter(|p| p.top_level) {
            assert!(
                prof.flags.contains(&"complain".to_string()),
                "{}",
                prof.name
            );
        }
        std::fs::write(out.path().join(f.file_name().unwrap()), text).unwrap();
    }
    let names = |d: &Path| {
        let o = std::process::Command::new(&p)
            .args([
                "--names",
                "--base=/etc/apparmor.d",
                "--Include=/etc/apparmor.d",
                "--",
            ])
            .arg(d)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut v: Vec<String> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    println!("{edited} top-level profiles edited");
    assert!(edited > 20);
    assert_eq!(names(out.path()), names(dir));
}

#[test]
fn program_path_matches_an_attachment_glob() {
    // Debian's dnsmasq profile attaches to /usr/{bin,sbin}/dnsmasq.
    let (_d, base) = tree();
    std::fs::write(
        base.join("baz"),
        "profile baz /usr/{bin,sbin}/baz flags=(attach_disconnected) {\n}\n",
    )
    .unwrap();
    let (code, out, err) = edit_only(&base, "complain", &["/usr/sbin/baz"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("baz: enforce,attach_disconnected -> complain,attach_disconnected; ok"),
        "{out}"
    );
    let (code, _, _) = edit_only(&base, "complain", &["/usr/lib/baz"]);
    assert_eq!(code, 1);
}

#[test]
fn enforcing_an_unconfined_profile_needs_force() {
    let (_d, base) = tree();
    std::fs::write(
        base.join("u"),
        "profile u flags=(unconfined) {\n  userns,\n}\n",
    )
    .unwrap();
    let (code, _, err) = edit_only(&base, "enforce", &["u"]);
    assert_eq!(code, 1);
    assert!(err.contains("flagged unconfined"), "{err}");
    let (code, _, err) = edit_only(&base, "enforce", &["u", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(base.join("u")).unwrap(),
        "profile u {\n  userns,\n}\n"
    );
}

#[test]
fn no_apparmorfs_means_no_edit_unless_no_reload() {
    // An empty --root has no securityfs: the reload cannot happen, so nothing is edited.
    let (_d, base) = tree();
    let root = tempfile::tempdir().unwrap();
    let before = std::fs::read_to_string(base.join("foo")).unwrap();
    let (code, _, err) = aactl(&[
        "enforce",
        "--root",
        s(root.path()),
        "--base",
        s(&base),
        "--parser",
        "/bin/true",
        "foo",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--apparmorfs DIR"), "{err}");
    assert!(err.contains("--no-reload"), "{err}");
    assert_eq!(std::fs::read_to_string(base.join("foo")).unwrap(), before);
    // A named --apparmorfs that does not exist is refused the same way.
    let (code, _, err) = aactl(&[
        "complain",
        "--base",
        s(&base),
        "--apparmorfs",
        "/nonexistent/apparmor",
        "--parser",
        "/bin/true",
        "/usr/bin/bar",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/apparmor not found"), "{err}");
}

#[test]
fn failed_reload_restores_the_file_and_links() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, base) = tree();
    let fs = fake_apparmorfs();
    let f = base.join("foo");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::create_dir_all(base.join("disable")).unwrap();
    std::os::unix::fs::symlink(&f, base.join("disable/foo")).unwrap();
    let before = std::fs::read_to_string(&f).unwrap();
    // /bin/false: a parser run that fails with no output.
    let (code, out, err) = aactl(&[
        "enforce",
        "--base",
        s(&base),
        "--apparmorfs",
        s(fs.path()),
        "--parser",
        "/bin/false",
        "foo",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "foo: complain -> enforce; FAILED (reload failed; file restored; use --no-reload to only edit the file)"
        ),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), before);
    let meta = std::fs::metadata(&f).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert_eq!(
        std::fs::read_link(base.join("disable/foo")).unwrap(),
        f,
        "the removed disable/ link is put back"
    );
    // JSON says so too.
    let (code, out, _) = aactl(&[
        "complain",
        "--base",
        s(&base),
        "--apparmorfs",
        s(fs.path()),
        "--parser",
        "/bin/false",
        "--json",
        "/usr/bin/bar",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"][0]["restored"], true, "{out}");
    assert!(
        !std::fs::read_to_string(base.join("bar"))
            .unwrap()
            .contains("complain")
    );
}

#[test]
fn symlinked_profile_file_is_edited_once() {
    let (_d, base) = tree();
    std::fs::write(
        base.join("multi"),
        "profile one /usr/bin/one {\n}\nprofile two /usr/bin/two flags=(complain) {\n}\n",
    )
    .unwrap();
    // "link" sorts before "multi": the real file's name must still be the one reported.
    std::os::unix::fs::symlink(base.join("multi"), base.join("link")).unwrap();
    let (code, out, err) = aactl(&["complain", "--base", s(&base), "--no-reload", "one", "two"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "complain {}/multi: one: enforce -> complain; two: complain -> complain; ok\n",
            base.display()
        )
    );
    assert!(
        std::fs::symlink_metadata(base.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(base.join("multi"))
            .unwrap()
            .contains("profile one /usr/bin/one flags=(complain) {")
    );
}

/// A file of three long profiles: `--dry-run` of a mode change on the file shows
/// a unified diff whose `-`/`+` lines are exactly the three changed head lines.
#[test]
fn dry_run_diff_marks_only_the_changed_lines() {
    let (_d, base) = tree();
    let mut text = String::from("# three profiles\n");
    for n in ["a", "b", "c"] {
        text.push_str(&format!("profile {n} /usr/bin/{n} {{\n"));
        for k in 0..30 {
            text.push_str(&format!("  /srv/{n}/{k} r,\n"));
        }
        text.push_str("}\n");
    }
    std::fs::write(base.join("three"), &text).unwrap();
    let file = base.join("three");
    let (code, out, err) = aactl(&[
        "complain",
        "--base",
        s(&base),
        "--no-reload",
        "--dry-run",
        s(&file),
    ]);
    assert_eq!(code, 0, "{err}");
    let f = file.display();
    assert!(
        out.starts_with(&format!("--- {f}\n+++ {f}\n@@ -1,5 +1,5 @@\n")),
        "{out}"
    );
    let removed: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    let added: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert_eq!(
        removed,
        [
            "-profile a /usr/bin/a {",
            "-profile b /usr/bin/b {",
            "-profile c /usr/bin/c {"
        ]
    );
    assert_eq!(
        added,
        [
            "+profile a /usr/bin/a flags=(complain) {",
            "+profile b /usr/bin/b flags=(complain) {",
            "+profile c /usr/bin/c flags=(complain) {"
        ]
    );
    // Three hunks of at most 7 lines each, not the whole file.
    assert_eq!(out.lines().filter(|l| l.starts_with("@@")).count(), 3);
    assert!(out.lines().count() < 30, "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

/// Text and JSON name the mode: no mode flag is `enforce`; JSON keeps the
/// flags as written in `before`/`after`.
#[test]
fn mode_lines_name_enforce() {
    let (_d, base) = tree();
    let (code, out, err) = edit_only(&base, "complain", &["/usr/bin/bar"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(" /usr/bin/bar: enforce -> complain; ok"),
        "{out}"
    );
    let (code, out, err) = edit_only(&base, "enforce", &["--json", "/usr/bin/bar"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = &v["results"][0]["changes"][0];
    assert_eq!(c["mode_before"], "complain", "{out}");
    assert_eq!(c["mode_after"], "enforce", "{out}");
    assert_eq!(c["before"], serde_json::json!(["complain"]), "{out}");
    assert_eq!(c["after"], serde_json::json!([]), "{out}");
}
