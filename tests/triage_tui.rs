//! `aactl triage` on a terminal: the full-screen review driven inside tmux
//! (keys sent with `send-keys`, the screen read with `capture-pane`). Each
//! review's files are compared byte for byte with what `--answers` writes for
//! the same answers: glob then allow, deny, exec inherit and child, a hat,
//! abort (nothing written), finish with save.

use crate::common;
use crate::triage_plan::{CUPSD, answer, apply, fixture, log, plan};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> Option<String> {
    let o = Command::new("tmux").args(args).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// One review running in its own tmux server (its own socket, so tests
/// run in parallel without sharing state).
struct Tui {
    sock: String,
    start: Instant,
}

impl Tui {
    fn start(dir: &Path) -> Option<Tui> {
        Tui::start_with(dir, "NO_COLOR=1")
    }

    /// [`Tui::start`] with these environment settings (`NAME=VALUE …`).
    fn start_with(dir: &Path, env: &str) -> Option<Tui> {
        Tui::start_opts(dir, env, "", "")
    }

    /// [`Tui::start_with`] with options before `triage` (`--root R`) and
    /// after it.
    fn start_opts(dir: &Path, env: &str, global: &str, opts: &str) -> Option<Tui> {
        let tmux_ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        common::require(tmux_ok.then_some(()), "tmux")?;
        // a socket per review: each its own server
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sock = dir.parent().unwrap().join(format!("tmux{n}.sock"));
        let cmd = format!(
            "env -u NO_COLOR {env} {} {global} triage --profile-dir {} {opts} {}; echo EXIT=$?; sleep 60",
            env!("CARGO_BIN_EXE_aactl"),
            dir.display(),
            log()
        );
        let sock = sock.to_str().unwrap().to_owned();
        tmux(&[
            "-S",
            &sock,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "40",
            &cmd,
        ])
        .expect("tmux new-session");
        let t = Tui {
            sock,
            start: Instant::now(),
        };
        t.wait("Proposal 1/");
        Some(t)
    }

    /// The screen with its colour and attribute escapes.
    fn screen_escapes(&self) -> String {
        tmux(&["-S", &self.sock, "capture-pane", "-p", "-e"]).unwrap_or_default()
    }

    fn screen(&self) -> String {
        tmux(&["-S", &self.sock, "capture-pane", "-p"]).unwrap_or_default()
    }

    /// Polls the screen until it shows `text` (8 s at most: a loaded machine).
    fn wait(&self, text: &str) -> String {
        let end = Instant::now() + Duration::from_secs(8);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(Instant::now() < end, "screen never showed {text:?}:\n{s}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            tmux(&["-S", &self.sock, "send-keys", k]).expect("send-keys");
        }
    }

    /// The number of the proposal on screen.
    fn current(&self) -> usize {
        let s = self.wait("Proposal ");
        let at = s.split("Proposal ").nth(1).unwrap();
        at[..at.find('/').unwrap()].parse().unwrap()
    }

    /// Answers the current proposal with `key` and waits for the next one
    /// (so that a following key is not read by the old screen).
    fn answer(&self, key: &str) {
        let n = self.current();
        self.keys(&[key]);
        self.wait(&format!("Proposal {}/", n + 1));
    }

    /// Moves right from the current proposal until the one whose first
    /// candidate is `first`.
    fn goto(&self, first: &str) {
        let want = format!("1. {first}");
        let mut n = self.current();
        loop {
            let s = self.wait(&format!("Proposal {n}/"));
            if s.contains(&want) {
                return;
            }
            assert!(n < 20, "no proposal {first}");
            self.keys(&["Right"]);
            n += 1;
        }
    }

    /// Polls the screen until it shows one of `texts`; which one.
    fn wait_any(&self, texts: &[&str]) -> usize {
        let end = Instant::now() + Duration::from_secs(8);
        loop {
            let s = self.screen();
            if let Some(i) = texts.iter().position(|t| s.contains(t)) {
                return i;
            }
            assert!(Instant::now() < end, "screen never showed {texts:?}:\n{s}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the program to end; its printed output.
    fn end(&self) -> String {
        let s = self.wait("EXIT=");
        eprintln!("tmux review took {:?}", self.start.elapsed());
        s
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = tmux(&["-S", &self.sock, "kill-server"]);
    }
}

/// Every file under `dir` with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The files `--answers` writes for these answers (profile, first
/// candidate's needle, action, rule).
fn expected(answers: &[(&str, &str, &str, Option<&str>)]) -> Vec<(String, Vec<u8>)> {
    expected_with(answers, &[])
}

/// [`expected`] with more options for `--answers`.
fn expected_with(
    answers: &[(&str, &str, &str, Option<&str>)],
    extra: &[&str],
) -> Vec<(String, Vec<u8>)> {
    let (_t, dir) = fixture();
    let mut p = plan(&dir);
    for (profile, needle, action, rule) in answers {
        answer(&mut p, profile, needle, action, *rule);
    }
    let (code, _, err) = apply(&dir, &p, extra);
    assert_eq!(code, 0, "{err}");
    tree(&dir)
}

/// Finish, check the diff shows `shown`, save (declining the reload where
/// this host could do it); the program's output.
fn finish_and_save(t: &Tui, shown: &str) -> String {
    t.keys(&["f"]);
    let s = t.wait("(S)ave");
    assert!(s.contains(shown), "{s}");
    t.keys(&["s"]);
    if t.wait_any(&["EXIT=", RELOAD]) == 1 {
        t.keys(&["n"]);
    }
    t.end()
}

const RELOAD: &str = "Reload the changed profiles now? [y/N]";

/// The files `--answers` writes for the plan as `edit` answers it.
fn expected_by(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<(String, Vec<u8>)> {
    let (_t, dir) = fixture();
    let mut p = plan(&dir);
    edit(&mut p);
    let (code, _, err) = apply(&dir, &p, &[]);
    assert_eq!(code, 0, "{err}");
    tree(&dir)
}

/// The proposal of `plan` whose first candidate contains `needle`.
fn proposal<'a>(plan: &'a mut serde_json::Value, needle: &str) -> &'a mut serde_json::Value {
    plan["proposals"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["candidates"][0].as_str().unwrap().contains(needle))
        .unwrap()
}

#[test]
fn audit_toggle() {
    let (_t, dir) = fixture();
    let Some(t) = Tui::start(&dir) else { return };
    t.goto("capability net_admin,");
    t.wait("Audi(t)");
    t.keys(&["t"]);
    let s = t.wait(">  1. audit capability net_admin,");
    assert!(s.contains("Audit:    on"), "{s}");
    // off and on again
    t.keys(&["t"]);
    t.wait(">  1. capability net_admin,");
    t.keys(&["t"]);
    t.wait(">  1. audit capability net_admin,");
    t.answer("a");
    t.goto("/etc/passwd r,");
    t.keys(&["t", "d"]);
    let out = finish_and_save(&t, "+  audit deny /etc/passwd r,");
    assert!(out.contains("EXIT=0"), "{out}");
    assert_eq!(
        tree(&dir),
        expected_by(|p| {
            let c = proposal(p, "net_admin");
            c["action"] = "allow".into();
            c["audit"] = true.into();
            let d = proposal(p, "/etc/passwd");
            d["action"] = "deny".into();
            d["audit"] = true.into();
        })
    );
}

#[test]
fn exec_named() {
    let (_t, dir) = fixture();
    let Some(t) = Tui::start(&dir) else { return };
    t.goto("/usr/bin/a mrix,");
    t.wait("(N)amed");
    // the unsafe profile form, then (N)amed
    t.keys(&["5"]);
    t.wait(">  5. /usr/bin/a px,");
    let n = t.current();
    t.keys(&["n"]);
    t.wait("Named: profile to run the program under");
    t.keys(&["h", "e", "l", "p", "e", "r"]);
    t.wait("rule: /usr/bin/a px -> helper,");
    t.keys(&["Enter"]);
    t.wait(&format!("Proposal {}/", n + 1));
    t.keys(&["Left"]);
    t.wait("[answered: named -> helper]");
    let out = finish_and_save(&t, "+  /usr/bin/a px -> helper,");
    assert!(out.contains("EXIT=0"), "{out}");
    assert_eq!(
        tree(&dir),
        expected_by(|p| {
            let a = proposal(p, "/usr/bin/a");
            a["action"] = "named".into();
            a["rule"] = "/usr/bin/a px,".into();
            a["target"] = "helper".into();
        })
    );
}

/// A fake apparmor_parser recording its arguments in `DIR/calls`, and a
/// fake apparmorfs; the options naming them.
fn fake_loader(dir: &Path) -> (String, tempfile::TempDir) {
    let calls = dir.join("calls");
    let parser =
        crate::loader::fake_parser(dir, &format!("echo \"$@\" >> {}\nexit 0", calls.display()));
    let fs = crate::loader_cli::fake_apparmorfs();
    let opts = format!(
        "--parser {} --apparmorfs {}",
        parser.display(),
        fs.path().display()
    );
    (opts, fs)
}

#[test]
fn reload_offered_and_accepted_in_complain_mode() {
    let (_t, dir) = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (opts, _fs) = fake_loader(tmp.path());
    let Some(t) = Tui::start_opts(&dir, "NO_COLOR=1", "", &opts) else {
        return;
    };
    t.goto("capability net_admin,");
    t.keys(&["a", "f"]);
    t.wait("(S)ave");
    t.keys(&["s"]);
    t.wait(RELOAD);
    t.keys(&["y"]);
    t.wait("Mode after the reload: (e)nforce (c)omplain (k)eep as written");
    t.keys(&["c"]);
    let out = t.end();
    assert!(out.contains("EXIT=0"), "{out}");
    let calls = std::fs::read_to_string(tmp.path().join("calls")).unwrap();
    assert_eq!(
        calls.lines().filter(|l| l.contains("--replace")).count(),
        1,
        "{calls}"
    );
    let text = std::fs::read_to_string(dir.join("usr.sbin.cupsd")).unwrap();
    assert!(
        text.contains("/usr/sbin/cupsd flags=(complain) {"),
        "{text}"
    );
    assert!(text.contains("  capability net_admin,\n"), "{text}");
}

#[test]
fn reload_offered_and_declined() {
    let (_t, dir) = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (opts, _fs) = fake_loader(tmp.path());
    let Some(t) = Tui::start_opts(&dir, "NO_COLOR=1", "", &opts) else {
        return;
    };
    t.goto("capability net_admin,");
    t.keys(&["a", "f"]);
    t.wait("(S)ave");
    t.keys(&["s"]);
    t.wait(RELOAD);
    t.keys(&["n"]);
    let out = t.end();
    assert!(out.contains("EXIT=0"), "{out}");
    assert!(
        out.contains("reload the profile with: aactl replace "),
        "{out}"
    );
    assert!(!tmp.path().join("calls").exists());
    assert_eq!(tree(&dir), expected(&[(CUPSD, "net_admin", "allow", None)]));
}

#[test]
fn reload_not_offered_under_another_root() {
    let (_t, dir) = fixture();
    let root = dir.parent().unwrap().display().to_string();
    let Some(t) = Tui::start_opts(&dir, "NO_COLOR=1", &format!("--root {root}"), "") else {
        return;
    };
    t.goto("capability net_admin,");
    t.keys(&["a", "f"]);
    t.wait("(S)ave");
    t.keys(&["s"]);
    let out = t.end();
    assert!(!out.contains(RELOAD), "{out}");
    assert!(out.contains("EXIT=0"), "{out}");
    // the message wraps at the pane's width: compare without line breaks
    let flat: String = out.lines().collect();
    assert!(
        flat.contains(&format!(
            "aactl: not reloaded: the profiles are those of --root {root}"
        )),
        "{out}"
    );
    assert!(
        flat.contains(
            "aactl: reload the profile on the system of --root with: aactl replace /apparmor.d/usr.sbin.cupsd"
        ),
        "{out}"
    );
}

#[test]
fn glob_then_allow() {
    let (_t, dir) = fixture();
    let Some(t) = Tui::start(&dir) else { return };
    t.goto("/etc/cups/ppd/a.ppd w,");
    let s = t.screen();
    for shown in [
        "Profile:  /usr/sbin/cupsd",
        "Kind:     file",
        "Records:  1  first 2023-11-14T22:13:20.100Z",
        "operation=open target=/etc/cups/ppd/a.ppd mask=w",
        "comm=cupsd pid=7 provenance=kernel at ",
        "audit.log:1",
        "(G)lob Glob with (E)xtension (O)wner",
    ] {
        assert!(s.contains(shown), "{shown:?} not in\n{s}");
    }
    t.keys(&["g"]);
    t.wait(">  2. /etc/cups/ppd/*.ppd w,");
    t.keys(&["g", "g"]);
    t.wait(">  4. /etc/cups/ppd/**.ppd w,");
    // back to 2 with a digit, then the extension-keeping glob
    t.keys(&["1", "e"]);
    t.wait(">  2. /etc/cups/ppd/*.ppd w,");
    t.keys(&["a"]);
    let out = finish_and_save(&t, "+  /etc/cups/ppd/*.ppd w,");
    assert!(out.contains("EXIT=0"), "{out}");
    assert_eq!(
        tree(&dir),
        expected(&[(CUPSD, "a.ppd", "allow", Some("/etc/cups/ppd/*.ppd w,"))])
    );
}

#[test]
fn deny() {
    let (_t, dir) = fixture();
    let Some(t) = Tui::start(&dir) else { return };
    t.goto("/etc/passwd r,");
    t.keys(&["d"]);
    let out = finish_and_save(&t, "deny /etc/passwd r,");
    assert!(out.contains("EXIT=0"), "{out}");
    assert_eq!(
        tree(&dir),
        expected(&[(CUPSD, "/etc/passwd", "deny", None)])
    );
}

#[test]
fn exec_inherit_and_child_and_a_hat() {
    let (_t, dir) = fixture();
    let Some(t) = Tui::start(&dir) else { return };
    t.goto("/usr/bin/b mrix,");
    t.wait("(I)nherit (C)hild (N)amed (P)rofile (U)nconfined");
    t.answer("i");
    t.goto("/usr/bin/c mrix,");
    // the unsafe (environment kept) child form, picked with an arrow
    t.keys(&["Down", "Down"]);
    t.wait(">  3. /usr/bin/c cx -> c,");
    t.answer("c");
    t.goto("/var/hat/log w,");
    t.keys(&["a"]);
    let out = finish_and_save(&t, "/usr/bin/b mrix,");
    assert!(out.contains("EXIT=0"), "{out}");
    assert_eq!(
        tree(&dir),
        expected(&[
            (CUPSD, "/usr/bin/b", "inherit", None),
            (CUPSD, "/usr/bin/c", "child", Some("/usr/bin/c cx -> c,")),
            ("/usr/sbin/cupsd//hat", "/var/hat/log", "allow", None),
        ])
    );
}

#[test]
fn abort_writes_nothing() {
    let (_t, dir) = fixture();
    let before = tree(&dir);
    let Some(t) = Tui::start(&dir) else { return };
    t.keys(&["a", "a"]);
    t.wait("Proposal 3/");
    t.keys(&["r"]);
    let out = t.end();
    assert!(out.contains("aborted, nothing written"), "{out}");
    assert_eq!(tree(&dir), before);
}

#[test]
fn cancel_at_the_diff_goes_back_then_save_writes() {
    let (_t, dir) = fixture();
    let before = tree(&dir);
    let Some(t) = Tui::start(&dir) else { return };
    t.goto("capability net_admin,");
    t.keys(&["a", "f"]);
    t.wait("(S)ave");
    t.keys(&["c"]);
    t.wait(" Denial ");
    assert_eq!(tree(&dir), before);
    let out = finish_and_save(&t, "capability net_admin,");
    assert!(out.contains("EXIT=0"), "{out}");
    assert_eq!(tree(&dir), expected(&[(CUPSD, "net_admin", "allow", None)]));
}

#[test]
fn exec_profile_and_a_typed_rule() {
    let (_t, dir) = fixture();
    let Some(t) = Tui::start(&dir) else { return };
    t.goto("/usr/bin/a mrix,");
    t.answer("p");
    t.goto("/etc/cups/ppd/a.ppd w,");
    // (N)ew starts from the selected candidate
    t.keys(&["n"]);
    t.wait("New rule");
    t.keys(&["BSpace", "BSpace", "r", "w", ","]);
    t.wait("/etc/cups/ppd/a.ppd rw,");
    t.keys(&["Enter"]);
    t.wait("> 10. /etc/cups/ppd/a.ppd rw,");
    t.keys(&["a"]);
    let out = finish_and_save(&t, "+  /etc/cups/ppd/a.ppd rw,");
    assert!(out.contains("EXIT=0"), "{out}");
    let profile = std::fs::read_to_string(dir.join("usr.sbin.cupsd")).unwrap();
    assert!(profile.contains("/usr/bin/a Px,"), "{profile}");
    assert!(profile.contains("/etc/cups/ppd/a.ppd rw,"), "{profile}");
}

#[test]
fn colour_unless_no_color() {
    let (_t, dir) = fixture();
    let Some(t) = Tui::start_with(&dir, "TERM=xterm-256color") else {
        return;
    };
    t.wait("Proposal 1/");
    let s = t.screen_escapes();
    // yellow background on the selected candidate
    let yellow = |s: &str| s.contains("[43m") || s.contains(";48;5;3m") || s.contains("[48;5;3m");
    assert!(yellow(&s), "{s:?}");
    t.keys(&["r"]);
    t.end();
    drop(t);
    let Some(t) = Tui::start_with(&dir, "TERM=xterm-256color NO_COLOR=1") else {
        return;
    };
    t.wait("Proposal 1/");
    let s = t.screen_escapes();
    assert!(!yellow(&s), "{s:?}");
    assert!(s.contains("\u{1b}[7m"), "{s:?}");
    t.keys(&["r"]);
    t.end();
}

#[test]
fn local_override_chosen_at_finish() {
    let (_t, dir) = fixture();
    let Some(t) = Tui::start(&dir) else { return };
    t.goto("capability net_admin,");
    t.answer("a");
    t.goto("/var/hat/log w,");
    t.keys(&["a", "f"]);
    t.wait("Changes (in the profile files)");
    t.keys(&["l"]);
    let s = t.wait("Changes (top-level rules to local/ overrides)");
    assert!(s.contains("local/usr.sbin.cupsd"), "{s}");
    t.keys(&["s"]);
    let out = t.end();
    assert!(out.contains("EXIT=0"), "{out}");
    assert_eq!(
        tree(&dir),
        expected_with(
            &[
                (CUPSD, "net_admin", "allow", None),
                ("/usr/sbin/cupsd//hat", "/var/hat/log", "allow", None),
            ],
            &["--local"]
        )
    );
}
