//! Mode edits over every profile of the real trees: only the head changes,
//! the result parses, and the profile then has the requested mode.

use apparmor::diag::FileId;
use apparmor::policy::edit::{MODE_FLAGS, profile_flags, set_profile_mode};
use apparmor::policy::parse_str;
use std::path::PathBuf;

#[test]
fn mode_edits_touch_only_the_head() {
    let mut roots = vec![
        PathBuf::from("/etc/apparmor.d"),
        PathBuf::from("/usr/share/apparmor/extra-profiles"),
    ];
    if let Some(s) = crate::common::shared_dir() {
        roots.push(s.join("corpus/profiles-upstream"));
    }
    let mut edited = 0;
    for root in roots {
        let Ok((files, _)) = apparmor::policy::resolve::include::dir_entries(&root) else {
            continue;
        };
        for f in files {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
            let parsed = parse_str(&text, FileId(0));
            let mut names = Vec::new();
            for p in parsed.ast.profiles() {
                let n = p.name.value();
                names.push(n.clone());
                for c in p.children() {
                    names.push(format!("{n}//{}", c.name.value()));
                }
            }
            for name in names {
                for mode in ["complain", "enforce"] {
                    let out = set_profile_mode(&text, &name, Some(mode)).unwrap();
                    let flags = profile_flags(&out, &name).unwrap().unwrap();
                    assert_eq!(flags[0], mode, "{}: {name}", f.display());
                    assert_eq!(
                        flags
                            .iter()
                            .filter(|f| MODE_FLAGS.contains(&f.as_str()))
                            .count(),
                        1
                    );
                    let again = parse_str(&out, FileId(0));
                    assert_eq!(again.is_ok(), parsed.is_ok(), "{}: {name}", f.display());
                    // everything outside one line is byte-identical
                    let a: Vec<&str> = text.lines().collect();
                    let b: Vec<&str> = out.lines().collect();
                    assert_eq!(a.len(), b.len(), "{}: {name}", f.display());
                    assert!(
                        a.iter().zip(&b).filter(|(x, y)| x != y).count() <= 1,
                        "{}: {name}",
                        f.display()
                    );
                    edited += 1;
                }
            }
        }
    }
    println!("mode edits checked: {edited}");
}
