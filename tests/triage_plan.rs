//! `aactl triage`: the review plan (`--json`), answers edited by a script and
//! applied (`--answers`): glob choice, abstraction choice, exec transitions
//! (inherit, child, profile), a hat, a new hat, deny, ignore, provenance,
//! `--local`, `--dry-run`, and bad answers.

use crate::common;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub(crate) fn fixture() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let src = common::repo().join("testdata/triage/profiles");
    let dst = t.path().join("apparmor.d");
    std::fs::create_dir_all(dst.join("abstractions")).unwrap();
    for f in ["usr.sbin.cupsd", "abstractions/base"] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    std::fs::copy(
        common::repo().join("testdata/triage/plan/nameservice"),
        dst.join("abstractions/nameservice"),
    )
    .unwrap();
    (t, dst)
}

pub(crate) fn log() -> String {
    common::repo()
        .join("testdata/triage/plan/audit.log")
        .to_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn plan(dir: &Path) -> Value {
    let (code, out, err) = common::aactl(&[
        "triage",
        "--json",
        "--profile-dir",
        dir.to_str().unwrap(),
        &log(),
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// The proposal whose first candidate contains `needle`.
fn find<'a>(plan: &'a mut Value, profile: &str, needle: &str) -> &'a mut Value {
    plan["proposals"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["profile"] == profile && p["candidates"][0].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no proposal {profile} {needle}"))
}

pub(crate) fn answer(
    plan: &mut Value,
    profile: &str,
    needle: &str,
    action: &str,
    rule: Option<&str>,
) {
    let p = find(plan, profile, needle);
    p["action"] = action.into();
    if let Some(r) = rule {
        p["rule"] = r.into();
    }
}

pub(crate) fn apply(dir: &Path, answers: &Value, extra: &[&str]) -> (u8, String, String) {
    let f = dir.parent().unwrap().join("answers.json");
    std::fs::write(&f, serde_json::to_string_pretty(answers).unwrap()).unwrap();
    let mut args = vec![
        "triage".to_owned(),
        "--profile-dir".into(),
        dir.to_str().unwrap().into(),
        "--answers".into(),
        f.to_str().unwrap().into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(log());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    common::aactl(&a)
}

pub(crate) const CUPSD: &str = "/usr/sbin/cupsd";

#[test]
fn the_plan_lists_candidates_most_specific_first() {
    let (_t, dir) = fixture();
    let mut p = plan(&dir);
    assert_eq!(p["schema"], 1);
    assert_eq!(p["kind"], "triage-plan");
    let ppd = find(&mut p, CUPSD, "a.ppd").clone();
    assert_eq!(ppd["kind"], "file");
    assert_eq!(ppd["action"], Value::Null);
    assert_eq!(ppd["audit"], false);
    assert!(ppd.get("target").is_none(), "{ppd}");
    assert_eq!(ppd["records"]["count"], 1);
    assert_eq!(ppd["records"]["samples"][0]["provenance"], "kernel");
    assert_eq!(
        ppd["candidates"],
        serde_json::json!([
            "/etc/cups/ppd/a.ppd w,",
            "/etc/cups/ppd/*.ppd w,",
            "/etc/cups/ppd/* w,",
            "/etc/cups/ppd/**.ppd w,",
            "/etc/cups/ppd/** w,",
            "/etc/cups/**.ppd w,",
            "/etc/cups/** w,",
            "/etc/**.ppd w,",
            "/etc/** w,"
        ])
    );
    let pw = find(&mut p, CUPSD, "/etc/passwd").clone();
    assert_eq!(
        pw["candidates"].as_array().unwrap().last().unwrap(),
        "include <abstractions/nameservice>"
    );
    let exec = find(&mut p, CUPSD, "/usr/bin/b").clone();
    assert_eq!(exec["kind"], "exec");
    assert_eq!(
        exec["candidates"],
        serde_json::json!([
            "/usr/bin/b mrix,",
            "/usr/bin/b Cx -> b,",
            "/usr/bin/b cx -> b,",
            "/usr/bin/b Px,",
            "/usr/bin/b px,",
            "/usr/bin/b Ux,",
            "/usr/bin/b ux,"
        ])
    );
    let shadow = find(&mut p, CUPSD, "/etc/shadow").clone();
    assert_eq!(shadow["records"]["untrusted"], 1);
    // capability setuid and /etc/cups/** r are allowed on disk: not proposed
    let all = serde_json::to_string(&p).unwrap();
    assert!(!all.contains("setuid"), "{all}");
    // the same log gives the same ids
    assert_eq!(plan(&dir)["proposals"], plan(&dir)["proposals"]);
}

#[test]
fn answers_are_written_into_their_blocks() {
    let (t, dir) = fixture();
    let mut p = plan(&dir);
    answer(
        &mut p,
        CUPSD,
        "a.ppd",
        "allow",
        Some("/etc/cups/ppd/*.ppd w,"),
    );
    answer(
        &mut p,
        CUPSD,
        "/etc/passwd",
        "allow",
        Some("include <abstractions/nameservice>"),
    );
    answer(&mut p, CUPSD, "/usr/bin/a", "inherit", None);
    answer(&mut p, CUPSD, "/usr/bin/b", "child", None);
    answer(
        &mut p,
        CUPSD,
        "/usr/bin/c",
        "profile",
        Some("/usr/bin/c px,"),
    );
    answer(
        &mut p,
        &format!("{CUPSD}//hat"),
        "/var/hat/log",
        "allow",
        None,
    );
    answer(&mut p, &format!("{CUPSD}//newhat"), "/srv/x", "allow", None);
    answer(&mut p, CUPSD, "sys_admin", "deny", None);
    answer(&mut p, CUPSD, "net_admin", "ignore", None);
    // only an unverified sender supports it: not written
    answer(&mut p, CUPSD, "/etc/shadow", "allow", None);
    let before = std::fs::read_to_string(dir.join("usr.sbin.cupsd")).unwrap();
    let (code, out, err) = apply(&dir, &p, &["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("usr.sbin.cupsd")).unwrap(),
        before
    );
    insta::assert_snapshot!(
        "triage_answers_diff",
        out.replace(t.path().to_str().unwrap(), "[TMP]")
    );
    let (code, out2, err) = apply(&dir, &p, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, out2);
    assert!(err.contains("not written: only records whose sender is not verified"));
    assert!(err.contains("aactl replace "), "{err}");
    let after = std::fs::read_to_string(dir.join("usr.sbin.cupsd")).unwrap();
    assert_eq!(
        after,
        "# cupsd profile
/usr/sbin/cupsd {
  include <abstractions/base>
  capability setuid,
  /etc/cups/** r,   # config

  ^hat {
    /x r,
    /var/hat/log w,
  }
  deny capability sys_admin,
  /usr/bin/a mrix,
  /usr/bin/b Cx -> b,
  /usr/bin/c px,
  /etc/cups/ppd/*.ppd w,
  include <abstractions/nameservice>
  profile b {
    include <abstractions/base>

    /usr/bin/b mr,
  }
  ^newhat {
    /srv/x r,
  }
}
"
    );
    let parsed = apparmor::policy::parse_str(&after, apparmor::diag::FileId(0));
    assert!(parsed.is_ok(), "{:?}", parsed.diagnostics);
    // what was written is no longer proposed; ignored and untrusted ones are
    let mut again = plan(&dir);
    let left: Vec<String> = again["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["candidates"][0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, ["capability net_admin,", "/etc/shadow r,"], "{again}");
    // --trust-userspace-records writes the untrusted one too
    answer(&mut again, CUPSD, "/etc/shadow", "allow", None);
    let (code, _, err) = apply(&dir, &again, &["--trust-userspace-records"]);
    assert_eq!(code, 0, "{err}");
    let last = std::fs::read_to_string(dir.join("usr.sbin.cupsd")).unwrap();
    assert!(last.contains("  /etc/shadow r,\n"), "{last}");
}

#[test]
fn local_writes_top_level_rules_to_the_override() {
    let (_t, dir) = fixture();
    let mut p = plan(&dir);
    answer(&mut p, CUPSD, "net_admin", "allow", None);
    answer(
        &mut p,
        &format!("{CUPSD}//hat"),
        "/var/hat/log",
        "allow",
        None,
    );
    let (code, _, err) = apply(&dir, &p, &["--local"]);
    assert_eq!(code, 0, "{err}");
    let local = std::fs::read_to_string(dir.join("local/usr.sbin.cupsd")).unwrap();
    assert!(local.contains("capability net_admin,\n"), "{local}");
    let prof = std::fs::read_to_string(dir.join("usr.sbin.cupsd")).unwrap();
    assert!(
        prof.contains("    /var/hat/log w,\n  }\n  include if exists <local/usr.sbin.cupsd>\n}"),
        "{prof}"
    );
    assert!(!prof.contains("net_admin"));
}

#[test]
fn bad_answers_name_the_proposal() {
    let (_t, dir) = fixture();
    let mut p = plan(&dir);
    let id = find(&mut p, CUPSD, "a.ppd")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    answer(&mut p, CUPSD, "a.ppd", "allow", Some("/ w,"));
    let (code, _, err) = apply(&dir, &p, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&id) && err.contains("not one of the candidates"),
        "{err}"
    );

    let mut p = plan(&dir);
    answer(&mut p, CUPSD, "a.ppd", "child", None);
    let (code, _, err) = apply(&dir, &p, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("only for exec proposals"), "{err}");

    let mut p = plan(&dir);
    answer(
        &mut p,
        CUPSD,
        "/usr/bin/a",
        "profile",
        Some("/usr/bin/a Ux,"),
    );
    let (code, _, err) = apply(&dir, &p, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("does not match the chosen rule"), "{err}");

    // an unknown id with an action is refused; without one (or with ignore)
    // it asks for nothing and is passed over
    let mut p = plan(&dir);
    answer(&mut p, CUPSD, "a.ppd", "allow", None);
    find(&mut p, CUPSD, "a.ppd")["id"] = "0000000000000000".into();
    let (code, _, err) = apply(&dir, &p, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("0000000000000000: no such proposal"), "{err}");
    assert!(err.contains("already applied"), "{err}");
    let mut p = plan(&dir);
    find(&mut p, CUPSD, "a.ppd")["id"] = "0000000000000000".into();
    let (code, _, err) = apply(&dir, &p, &[]);
    assert_eq!(code, 0, "{err}");
    // nothing was written by any of them
    let prof = std::fs::read_to_string(dir.join("usr.sbin.cupsd")).unwrap();
    let orig =
        std::fs::read_to_string(common::repo().join("testdata/triage/profiles/usr.sbin.cupsd"))
            .unwrap();
    assert_eq!(prof, orig);
}

#[test]
fn named_transitions_and_audit() {
    let (_t, dir) = fixture();
    let mut p = plan(&dir);
    // named: the first Px form by default; the chosen rule picks the
    // unsafe or the child form; a child named so is created
    answer(&mut p, CUPSD, "/usr/bin/a", "named", None);
    find(&mut p, CUPSD, "/usr/bin/a")["target"] = "helper".into();
    answer(&mut p, CUPSD, "/usr/bin/b", "named", Some("/usr/bin/b px,"));
    find(&mut p, CUPSD, "/usr/bin/b")["target"] = "other profile".into();
    answer(
        &mut p,
        CUPSD,
        "/usr/bin/c",
        "named",
        Some("/usr/bin/c cx -> c,"),
    );
    find(&mut p, CUPSD, "/usr/bin/c")["target"] = "cchild".into();
    answer(&mut p, CUPSD, "net_admin", "allow", None);
    find(&mut p, CUPSD, "net_admin")["audit"] = true.into();
    answer(&mut p, CUPSD, "/etc/passwd", "deny", None);
    find(&mut p, CUPSD, "/etc/passwd")["audit"] = true.into();
    let (code, out, err) = apply(&dir, &p, &[]);
    assert_eq!(code, 0, "{err}");
    for line in [
        "+  /usr/bin/a Px -> helper,",
        "+  /usr/bin/b px -> \"other profile\",",
        "+  /usr/bin/c cx -> cchild,",
        "+  profile cchild {",
        "+  audit capability net_admin,",
        "+  audit deny /etc/passwd r,",
    ] {
        assert!(out.contains(line), "{line:?} not in\n{out}");
    }
    let after = std::fs::read_to_string(dir.join("usr.sbin.cupsd")).unwrap();
    let parsed = apparmor::policy::parse_str(&after, apparmor::diag::FileId(0));
    assert!(parsed.is_ok(), "{:?}\n{after}", parsed.diagnostics);
    // nothing of it is proposed again
    let again = serde_json::to_string(&plan(&dir)).unwrap();
    for gone in [
        "/usr/bin/a",
        "/usr/bin/b",
        "/usr/bin/c",
        "net_admin",
        "/etc/passwd",
    ] {
        assert!(!again.contains(gone), "{gone} proposed again: {again}");
    }
}

#[test]
fn bad_named_and_audit_answers() {
    // needle, action, rule, target, audit, the error
    type Case<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        bool,
        &'a str,
    );
    let cases: &[Case<'_>] = &[
        ("/usr/bin/a", "named", None, None, false, "needs a target"),
        (
            "a.ppd",
            "named",
            None,
            Some("x"),
            false,
            "only for exec proposals",
        ),
        (
            "/usr/bin/a",
            "named",
            Some("/usr/bin/a Ux,"),
            Some("x"),
            false,
            "needs a profile (Px, px) or child (Cx, cx) rule",
        ),
        (
            "/usr/bin/a",
            "named",
            None,
            Some("a\tb"),
            false,
            "control characters",
        ),
        ("a.ppd", "allow", None, Some("x"), false, "takes no target"),
        (
            "/etc/passwd",
            "allow",
            Some("include <abstractions/nameservice>"),
            None,
            true,
            "cannot be audited",
        ),
    ];
    for (needle, action, rule, target, audit, why) in cases {
        let (_t, dir) = fixture();
        let mut p = plan(&dir);
        answer(&mut p, CUPSD, needle, action, *rule);
        let pr = find(&mut p, CUPSD, needle);
        if let Some(t) = target {
            pr["target"] = (*t).into();
        }
        pr["audit"] = (*audit).into();
        let id = pr["id"].as_str().unwrap().to_owned();
        let (code, _, err) = apply(&dir, &p, &[]);
        assert_eq!(code, 2, "{needle} {action}: {err}");
        assert!(
            err.contains(&id) && err.contains(why),
            "{why:?} not in {err}"
        );
    }
}

#[test]
fn reload_and_mode_after_the_writes() {
    let (_t, dir) = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let calls = tmp.path().join("calls");
    let parser = crate::loader::fake_parser(
        tmp.path(),
        &format!("echo \"$@\" >> {}\nexit 0", calls.display()),
    );
    let fs = crate::loader_cli::fake_apparmorfs();
    let loader = [
        "--parser",
        parser.to_str().unwrap(),
        "--apparmorfs",
        fs.path().to_str().unwrap(),
    ];
    // neither --reload nor --set-mode: the exact command to run
    let mut p = plan(&dir);
    answer(&mut p, CUPSD, "net_admin", "allow", None);
    let (code, _, err) = apply(&dir, &p, &loader);
    assert_eq!(code, 0, "{err}");
    let file = dir.join("usr.sbin.cupsd");
    assert!(
        err.contains(&format!(
            "aactl: reload the profile with: aactl replace {} --base {} --parser {} --apparmorfs {}",
            file.display(),
            dir.display(),
            parser.display(),
            fs.path().display()
        )),
        "{err}"
    );
    assert!(!calls.exists());
    // --set-mode complain: the flag written, the file reloaded
    let mut p = plan(&dir);
    answer(&mut p, CUPSD, "sys_admin", "allow", None);
    let mut extra = loader.to_vec();
    extra.extend(["--set-mode", "complain"]);
    let (code, _, err) = apply(&dir, &p, &extra);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("/usr/sbin/cupsd flags=(complain) {"),
        "{text}"
    );
    let called = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        called.lines().filter(|l| l.contains("--replace")).count(),
        1,
        "{called}"
    );
    // --reload under a --root that is not this system: refused, with why
    // and the command; exit 1
    let mut p = plan(&dir);
    answer(&mut p, CUPSD, "a.ppd", "allow", None);
    let root = dir.parent().unwrap().to_str().unwrap().to_owned();
    let f = dir.parent().unwrap().join("answers.json");
    std::fs::write(&f, p.to_string()).unwrap();
    let (code, _, err) = common::aactl(&[
        "--root",
        &root,
        "triage",
        "--profile-dir",
        dir.to_str().unwrap(),
        "--answers",
        f.to_str().unwrap(),
        "--reload",
        &log(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "aactl: not reloaded: the profiles are those of --root {root}"
        )),
        "{err}"
    );
    assert!(
        err.contains(
            "aactl: reload the profile on the system of --root with: aactl replace /apparmor.d/usr.sbin.cupsd"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&calls).unwrap(), called);
}

/// A fake root with a profile directory (ABI 3.0 and 4.0), a binary and a
/// `#!/bin/sh` script.
fn fake_root() -> tempfile::TempDir {
    let r = tempfile::tempdir().unwrap();
    let d = r.path().join("etc/apparmor.d");
    std::fs::create_dir_all(d.join("abi")).unwrap();
    std::fs::create_dir_all(d.join("abstractions")).unwrap();
    std::fs::write(d.join("abi/3.0"), "").unwrap();
    std::fs::write(d.join("abi/4.0"), "").unwrap();
    std::fs::create_dir_all(r.path().join("usr/bin")).unwrap();
    std::fs::copy("/bin/true", r.path().join("usr/bin/tool")).unwrap();
    std::os::unix::fs::symlink("tool", r.path().join("usr/bin/tool-link")).unwrap();
    r
}

#[test]
fn autodep_writes_a_starting_profile() {
    let r = fake_root();
    let root = r.path().to_str().unwrap();
    // a link is followed to the real program
    let (code, _, err) = common::aactl(&["--root", root, "autodep", "/usr/bin/tool-link"]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(r.path().join("etc/apparmor.d/usr.bin.tool")).unwrap();
    assert_eq!(
        text,
        "abi <abi/4.0>,\n\ninclude <tunables/global>\n\n/usr/bin/tool flags=(complain) {\n  include <abstractions/base>\n\n  /usr/bin/tool mr,\n\n  include if exists <local/usr.bin.tool>\n}\n"
    );
    assert!(apparmor::policy::parse_str(&text, apparmor::diag::FileId(0)).is_ok());
    // never overwritten
    let (code, _, err) = common::aactl(&["--root", root, "autodep", "/usr/bin/tool"]);
    assert_eq!(code, 2);
    assert!(err.contains("exists; not overwritten"), "{err}");
    // a script: the interpreter's abstraction, the interpreter, the script
    common::install_script(&r.path().join("usr/bin/hello"), "#!/bin/sh\necho hi\n");
    let (code, out, err) =
        common::aactl(&["--root", root, "autodep", "--dry-run", "/usr/bin/hello"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "abi <abi/4.0>,\n\ninclude <tunables/global>\n\n/usr/bin/hello flags=(complain) {\n  include <abstractions/base>\n  include <abstractions/bash>\n\n  /bin/sh ix,\n  /usr/bin/hello r,\n\n  include if exists <local/usr.bin.hello>\n}\n"
    );
    assert!(!r.path().join("etc/apparmor.d/usr.bin.hello").exists());
    let (code, _, err) = common::aactl(&["--root", root, "autodep", "/usr/bin/missing"]);
    assert_eq!(code, 2);
    assert!(err.contains("/usr/bin/missing: not found"), "{err}");
}

/// genprof with a fake apparmor_parser (records its arguments) and a program
/// that logs its own denial: plan first, then answers, then enforce.
#[test]
fn genprof_loads_runs_reviews_and_enforces() {
    let r = fake_root();
    let root = r.path().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let calls = tmp.path().join("calls");
    let parser = crate::loader::fake_parser(
        tmp.path(),
        &format!("echo \"$@\" >> {}\nexit 0", calls.display()),
    );
    let fs = crate::loader_cli::fake_apparmorfs();
    let log = tmp.path().join("audit.log");
    std::fs::write(&log, "").unwrap();
    // the program: logs a kernel-style denial for its profile, stamped now
    common::install_script(
        &r.path().join("usr/bin/app"),
        &format!(
            "#!/bin/sh\necho \"type=AVC msg=audit($(date +%s).000:1): apparmor=\\\"ALLOWED\\\" operation=\\\"open\\\" profile=\\\"/usr/bin/app\\\" name=\\\"/etc/app.conf\\\" pid=$$ comm=\\\"app\\\" requested_mask=\\\"r\\\" denied_mask=\\\"r\\\" fsuid=0 ouid=1\" >> {}\n",
            log.display()
        ),
    );
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--root",
            root,
            "genprof",
            "--parser",
            parser.to_str().unwrap(),
            "--apparmorfs",
            fs.path().to_str().unwrap(),
            "--file",
            log.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push("--run".into());
        v.push("/usr/bin/app".into());
        v
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        common::aactl(&a)
    };
    let (code, out, err) = run(args(&["--json"]));
    assert_eq!(code, 0, "{err}");
    let profile = r.path().join("etc/apparmor.d/usr.bin.app");
    assert!(
        std::fs::read_to_string(&profile)
            .unwrap()
            .contains("flags=(complain)")
    );
    let mut plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["proposals"].as_array().unwrap().len(), 1, "{plan}");
    plan["proposals"][0]["action"] = "allow".into();
    let answers = tmp.path().join("answers.json");
    std::fs::write(&answers, plan.to_string()).unwrap();
    let (code, out, err) = run(args(&["--answers", answers.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("+  /etc/app.conf r,\n"), "{out}");
    let text = std::fs::read_to_string(&profile).unwrap();
    assert!(!text.contains("complain"), "{text}");
    assert!(text.contains("  /etc/app.conf r,\n"), "{text}");
    let calls = std::fs::read_to_string(&calls).unwrap();
    // replace (new profile), complain (second run), enforce
    assert_eq!(
        calls.lines().filter(|l| l.contains("--replace")).count(),
        3,
        "{calls}"
    );
}
