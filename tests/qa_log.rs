//! QA: hostile and malformed input for `aactl log` (plain, `--summary`,
//! `--suggest`, `--write --dry-run`). Each test is the regression test of
//! one fix.

use apparmor::cli::Io;
use apparmor::log::{EventType, Parsed, parse_line};
use std::io::Write;

fn aactl(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = {
        let mut io = Io::new(&mut out, &mut err);
        let mut argv = vec!["aactl".into()];
        argv.extend(args.iter().map(std::ffi::OsString::from));
        apparmor::cli::aactl::run(argv, &mut io)
    };
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn temp_log(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
    f
}

/// Lines that merely mention `apparmor="DENIED"` without being records.
const GARBAGE: &[&str] = &[
    r#"type=AVC msg=audit(garbage apparmor="DENIED" operation="#,
    r#"random apparmor="DENIED" text"#,
    r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" name="/x"#,
    r#"kernel: audit(17 apparmor="DENIED" operation="open" name="/x""#,
    r#"type=AVC msg=audit(1.2:3): apparmor="DENIED""#,
    r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="#,
];

#[test]
fn garbage_lines_are_invalid_records() {
    for g in GARBAGE {
        match parse_line(g.as_bytes()) {
            Parsed::AppArmor(r) => {
                assert_eq!(r.event, EventType::Invalid, "{g}");
                assert!(r.problem.is_some(), "{g}");
            }
            _ => panic!("{g}: must be counted as an invalid AppArmor record"),
        }
    }
    // a real record next to them still parses
    let ok = r#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" name="/x" pid=1"#;
    match parse_line(ok.as_bytes()) {
        Parsed::AppArmor(r) => assert_eq!(r.event, EventType::Denied),
        _ => panic!("real record lost"),
    }
}

#[test]
fn garbage_lines_hidden_counted_and_flagged() {
    let f = temp_log(&(GARBAGE.join("\n") + "\n"));
    let p = f.path().to_str().unwrap();
    let (code, out, err) = aactl(&["log", "--file", p, "--stats"]);
    assert!(
        !out.contains("DENIED"),
        "garbage shown as denials (exit {code}):\n{out}"
    );
    let all = format!("{out}{err}");
    assert!(
        all.contains(&format!("{} invalid", GARBAGE.len())),
        "stats:\n{all}"
    );
    let (_, out, _) = aactl(&["log", "--file", p, "--invalid", "--format", "json"]);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(lines.len(), GARBAGE.len(), "{out}");
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["event"], "AA_RECORD_INVALID", "{l}");
        assert!(v["problem"].is_string(), "{l}");
    }
}
