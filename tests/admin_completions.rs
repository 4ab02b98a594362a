//! `aactl completions bash|zsh|fish`: scripts generated from aactl's own options.
//! The bash script is loaded into bash and asked for completions as the shell would.

use crate::common::aactl;

/// Completions bash offers after `words` (the last one being completed).
fn bash_complete(script: &std::path::Path, words: &[&str]) -> Option<Vec<String>> {
    let cword = words.len() - 1;
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', r"'\''")))
        .collect();
    let prog = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={cword}; _aactl aactl {} {}; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        quoted[cword],
        quoted[cword.saturating_sub(1)],
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &prog])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

#[test]
fn bash_completes_subcommands_options_and_values() {
    let (code, script, err) = aactl(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    assert!(script.contains("complete -F _aactl"), "{script}");
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("aactl.bash");
    std::fs::write(&p, &script).unwrap();
    let Some(subs) = bash_complete(&p, &["aactl", "comp"]) else {
        println!("SKIP: bash not found");
        return;
    };
    assert_eq!(subs, ["complain", "completions"]);
    assert_eq!(
        bash_complete(&p, &["aactl", "complain", "--no-r"]).unwrap(),
        ["--no-reload"]
    );
    assert_eq!(
        bash_complete(&p, &["aactl", "log", "--format", ""]).unwrap(),
        ["text", "json"]
    );
    let values: Vec<String> = bash_complete(&p, &["aactl", "completions", ""])
        .unwrap()
        .into_iter()
        .filter(|w| !w.starts_with('-'))
        .collect();
    assert_eq!(values, ["bash", "zsh", "fish"]);
}

/// zsh and fish: every subcommand is in the script, and the shell (when installed)
/// accepts its syntax.
#[test]
fn zsh_and_fish_scripts_name_every_subcommand() {
    let subs: Vec<String> = apparmor::cli::aactl::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(subs.len() > 20, "{subs:?}");
    for (shell, check) in [("zsh", ["-n"]), ("fish", ["--no-execute"])] {
        let (code, script, err) = aactl(&["completions", shell]);
        assert_eq!(code, 0, "{err}");
        for s in &subs {
            assert!(script.contains(s.as_str()), "{shell}: {s} missing");
        }
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("aactl.sh");
        std::fs::write(&p, &script).unwrap();
        match std::process::Command::new(shell)
            .args(check)
            .arg(&p)
            .output()
        {
            Ok(o) => assert!(
                o.status.success(),
                "{shell}: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(_) => println!("SKIP: {shell} not installed; syntax not checked"),
        }
    }
    let (code, _, err) = aactl(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
}
