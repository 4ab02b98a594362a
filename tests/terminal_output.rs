//! aactl's tables on terminals of different widths: snapshots (insta) of every table (and of
//! `check`'s diagnostics) at 80 and 200 columns (`COLUMNS`) and with colour forced
//! (`--color always`), checks of the width rules (`--wide`, pipes, `NO_COLOR`), and `aactl`
//! run inside tmux at 80×40, where no line of `status`, `ps`, `log` or `log --summary` may
//! be wider than the terminal.

use crate::common;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const VM: &str = "testdata/systems/debian12-vm";
const LOG: &str = "testdata/triage/cupsd.log";
const DMESG: &str = "testdata/triage/vm-dmesg.txt";

/// Runs the built aactl in the repository (stdout a pipe) with `env` added to a fixed
/// environment; returns exit status, stdout and stderr as one text.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aactl"));
    c.args(args)
        .current_dir(common::repo())
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run aactl");
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A fake host with one policy namespace (so `status` names it in a heading).
fn one_namespace() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "proc/mounts",
        "securityfs /sys/kernel/security securityfs rw 0 0\n",
    );
    w("sys/module/apparmor/parameters/enabled", "Y\n");
    w(
        "sys/kernel/security/apparmor/profiles",
        "/usr/lib/x86_64-linux-gnu/some-daemon/helper-with-a-long-name (enforce)\n\
         nscd (complain)\nping (enforce)\n",
    );
    w(
        "proc/42/attr/current",
        "/usr/lib/x86_64-linux-gnu/some-daemon/helper-with-a-long-name (enforce)\n",
    );
    w("proc/42/comm", "helper-with-a-long-name\n");
    w("proc/43/attr/current", "nscd (complain)\n");
    w("proc/43/comm", "nscd\n");
    d
}

/// The tables, each as `(name, args)`; `root` replaces `{ONE}`.
fn tables(one: &str) -> Vec<(&'static str, Vec<String>)> {
    let v = |a: &[&str]| {
        a.iter()
            .map(|s| s.replace("{ONE}", one))
            .collect::<Vec<_>>()
    };
    vec![
        ("status", v(&["--root", VM, "status"])),
        ("status_one_ns", v(&["--root", "{ONE}", "status"])),
        ("ps", v(&["--root", VM, "ps", "--confined"])),
        ("log", v(&["log", LOG])),
        ("log_summary", v(&["log", "--summary", LOG])),
        ("log_summary_dmesg", v(&["log", "--summary", DMESG])),
        (
            "check",
            v(&[
                "check",
                "--parser-version=4.1",
                "testdata/policy/invalid/syntax.sd",
            ]),
        ),
    ]
}

#[test]
fn snapshots_at_80_and_200_columns_and_in_colour() {
    let one = one_namespace();
    let one_path = one.path().to_str().unwrap().to_owned();
    for (name, args) in tables(&one_path) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for cols in ["80", "200"] {
            let text = run_env(&args, &[("COLUMNS", cols)]).replace(&one_path, "[ONE]");
            insta::assert_snapshot!(format!("{name}_{cols}"), text);
        }
        let mut coloured = vec!["--color", "always"];
        coloured.extend(&args);
        let text =
            run_env(&coloured, &[("COLUMNS", "80"), ("NO_COLOR", "1")]).replace(&one_path, "[ONE]");
        assert!(text.contains("\u{1b}["), "{name}: no colour in\n{text}");
        insta::assert_snapshot!(format!("{name}_80_colour"), text);
    }
}

/// Display width of a line (escape sequences removed).
fn width(line: &str) -> usize {
    let mut n = 0;
    let mut esc = false;
    for c in line.chars() {
        match (esc, c) {
            (false, '\u{1b}') => esc = true,
            (true, 'm') => esc = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

#[test]
fn columns_fits_every_line() {
    let one = one_namespace();
    let one_path = one.path().to_str().unwrap().to_owned();
    for (name, args) in tables(&one_path) {
        // check's diagnostics come from annotate-snippets, which does not wrap a message
        if name == "check" {
            continue;
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for cols in [80usize, 100, 120] {
            let text = run_env(&args, &[("COLUMNS", &cols.to_string())]);
            let out = text.split("--- stdout\n").nth(1).unwrap();
            let out = out.split("--- stderr\n").next().unwrap();
            for l in out.lines() {
                assert!(
                    width(l) <= cols,
                    "{name} at {cols}: {} columns: {l:?}",
                    width(l)
                );
            }
        }
    }
}

#[test]
fn pipes_get_full_lines_and_wide_turns_fitting_off() {
    let piped = run_env(&["log", "--summary", LOG], &[]);
    let wide = run_env(&["log", "--summary", "--wide", LOG], &[("COLUMNS", "80")]);
    assert_eq!(piped, wide);
    assert!(piped.lines().any(|l| width(l) > 80), "{piped}");
    assert!(piped.contains("| FIRST "), "{piped}");
    assert!(!piped.contains('\u{1b}'), "{piped}");
    // NO_COLOR is honoured in auto mode (a pipe gets none anyway); never means never
    let never = run_env(&["--color", "never", "ps", "--root", VM], &[]);
    assert!(!never.contains('\u{1b}'));
    // an explicit --color always beats NO_COLOR
    let always = run_env(
        &["--color", "always", "--root", VM, "ps"],
        &[("NO_COLOR", "1")],
    );
    assert!(always.contains("\u{1b}[32menforce\u{1b}[0m"), "{always}");
    let bad = run_env(&["--color", "sometimes", "ps"], &[]);
    assert!(bad.starts_with("exit: 2"), "{bad}");
}

#[test]
fn check_diagnostics_and_diffs_in_colour() {
    let text = run_env(
        &[
            "--color",
            "always",
            "check",
            "--parser-version=4.1",
            "testdata/policy/invalid/syntax.sd",
        ],
        &[],
    );
    assert!(text.contains("\u{1b}["), "{text}");
    let plain = run_env(
        &[
            "check",
            "--parser-version=4.1",
            "testdata/policy/invalid/syntax.sd",
        ],
        &[],
    );
    assert!(!plain.contains('\u{1b}'), "{plain}");
    let diff = apparmor::cli::table::paint_diff(true, "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z\n");
    assert_eq!(
        diff,
        "\u{1b}[1m--- a\u{1b}[0m\n\u{1b}[1m+++ b\u{1b}[0m\n\u{1b}[36m@@ -1 +1 @@\u{1b}[0m\n\
         \u{1b}[31m-x\u{1b}[0m\n\u{1b}[32m+y\u{1b}[0m\n z\n"
    );
}

fn tmux(args: &[&str]) -> Option<String> {
    let o = Command::new("tmux").args(args).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Runs `aactl ARGS` in a fresh tmux server on an 80×40 terminal (no COLUMNS, no NO_COLOR)
/// and returns every line it printed (scrollback included, wrapped lines joined, so a line
/// wider than the terminal shows as one long line).
fn in_tmux(dir: &Path, n: usize, args: &str) -> String {
    let sock = dir.join(format!("tmux{n}.sock"));
    let sock = sock.to_str().unwrap();
    let cmd = format!(
        "cd {} && env -u COLUMNS -u NO_COLOR TZ=UTC {} {args}; code=$?; echo; echo EXIT=$code; sleep 60",
        common::repo().display(),
        env!("CARGO_BIN_EXE_aactl"),
    );
    tmux(&[
        "-S",
        sock,
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "80",
        "-y",
        "40",
        &cmd,
    ])
    .expect("tmux new-session");
    let end = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let s = tmux(&["-S", sock, "capture-pane", "-p", "-J", "-S", "-"]).unwrap_or_default();
        if s.contains("EXIT=") {
            break s;
        }
        assert!(Instant::now() < end, "aactl {args} never finished:\n{s}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = tmux(&["-S", sock, "kill-server"]);
    text
}

#[test]
fn tmux_80_columns() {
    let tmux_ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if common::require(tmux_ok.then_some(()), "tmux").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let runs = [
        format!("--root {VM} status"),
        format!("--root {VM} ps"),
        format!("log {LOG}"),
        format!("log {DMESG}"),
        format!("log --summary {LOG}"),
        format!("log --summary {DMESG}"),
    ];
    for (n, args) in runs.iter().enumerate() {
        let text = in_tmux(dir.path(), n, args);
        assert!(text.contains("EXIT=0"), "aactl {args}:\n{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 3, "aactl {args}:\n{text}");
        for l in &lines {
            let w = l.trim_end().chars().count();
            assert!(w <= 80, "aactl {args}: a line of {w} columns: {l:?}");
        }
        eprintln!(
            "tmux 80x40: aactl {args}: {} lines, widest {}",
            lines.len(),
            lines
                .iter()
                .map(|l| l.trim_end().chars().count())
                .max()
                .unwrap_or(0)
        );
    }
}
