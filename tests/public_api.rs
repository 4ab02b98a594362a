//! Public functions that no other part of the crate calls are API for other crates: each
//! is used here the way a consumer would, so that it stays working (or is removed).

use apparmor::label::{Label, Mode};
use apparmor::loader::{
    Action, LoadError, Loader, Parser, RawOutput, RecordingRunner, diagnose::error_file,
};
use apparmor::policy::ast::IncludeTarget;
use apparmor::policy::{ParseMode, parse_file, parse_fragment};
use std::path::Path;

#[test]
fn a_label_splits_into_name_and_mode() {
    let l = Label::split_con("/usr/bin/foo (complain)\n").unwrap();
    assert_eq!(
        l.into_parts(),
        ("/usr/bin/foo".to_owned(), Some(Mode::Complain))
    );
}

#[test]
fn fragments_and_files_parse() {
    let f = parse_fragment("/etc/hosts r,\n", apparmor::diag::FileId(0));
    assert!(f.is_ok(), "{:?}", f.diagnostics);
    assert_eq!(f.ast.items.len(), 1);

    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("p");
    std::fs::write(
        &p,
        "include <tunables/global>\nprofile p { /etc/hosts r, }\n",
    )
    .unwrap();
    let mut map = apparmor::diag::SourceMap::default();
    let parsed = parse_file(&p, &mut map, ParseMode::Policy).unwrap();
    assert!(parsed.is_ok());
    let search =
        parsed.ast.items.iter().any(
            |i| matches!(i, apparmor::policy::ast::Item::Include(inc) if inc.target.is_search()),
        );
    assert!(search);
    assert!(!IncludeTarget::Quoted("x".into()).is_search());
    // A missing file is an error, not a panic.
    assert!(parse_file(&d.path().join("nope"), &mut map, ParseMode::Policy).is_err());
}

#[test]
fn a_loader_exposes_its_parser_options_and_runner() {
    let parser = Parser::new("/usr/sbin/apparmor_parser").base("/etc/apparmor.d");
    assert_eq!(parser.get_base(), Some(Path::new("/etc/apparmor.d")));
    let mut loader = Loader::new(parser, RecordingRunner::new());
    loader.runner_mut().outputs.push_back(RawOutput::exited(
        2,
        "",
        "File /x not found, skipping...\n",
    ));
    let report = loader.run_file(Action::Replace, Path::new("/x")).unwrap();
    assert!(!report.ok());
    let file = report.errors.iter().find_map(error_file);
    assert_eq!(file, Some(Path::new("/x")));
    assert!(matches!(report.errors[0], LoadError::FileNotFound { .. }));
    let runner = loader.into_runner();
    assert_eq!(runner.commands().len(), 1);
}

#[test]
fn a_container_runtime_asks_through_runtime() {
    use apparmor::policy::attach::{AttachMatch, AttachTable, Attachment, Origin};
    use apparmor::runtime;
    use apparmor::system::System;
    let d = tempfile::tempdir().unwrap();
    let put = |rel: &str, text: &str| {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    put("sys/module/apparmor/parameters/enabled", "Y\n");
    put(
        "proc/mounts",
        "securityfs /sys/kernel/security securityfs rw 0 0\n",
    );
    put(
        "sys/kernel/security/apparmor/profiles",
        "docker-default (enforce)\n",
    );
    put("proc/9/attr/current", "docker-default (enforce)\n");
    put("proc/10/attr/current", "");
    put("proc/11/attr/current", "---\n");
    put("proc/13/attr/current", "system_u:system_r:init_t:s0\n");
    let sys = System::with_root(d.path());
    assert!(runtime::is_enabled(&sys));
    assert_eq!(
        runtime::profile_mode(&sys, "docker-default").unwrap(),
        Some(Mode::Enforce)
    );
    assert!(!runtime::is_loaded(&sys, "web").unwrap());
    assert_eq!(
        runtime::pid_label(&sys, 9).unwrap().name(),
        "docker-default"
    );
    assert_eq!(
        runtime::pid_label(&sys, 10).unwrap().to_string(),
        "unconfined"
    );
    assert!(matches!(
        runtime::pid_label(&sys, 11),
        Err(runtime::RuntimeError::Hidden { pid: 11 })
    ));
    assert!(matches!(
        runtime::pid_label(&sys, 13),
        Err(runtime::RuntimeError::Label { pid: 13, .. })
    ));
    assert!(matches!(
        runtime::pid_label(&sys, 12),
        Err(runtime::RuntimeError::Task(_))
    ));
    // Not usable: the reason.
    let empty = tempfile::tempdir().unwrap();
    assert!(runtime::usable(&System::with_root(empty.path())).is_err());
    let t = AttachTable::new(vec![Attachment {
        profile: "web".into(),
        pattern: "/srv/web/**".into(),
        origin: Origin::Loaded,
    }]);
    assert!(matches!(
        t.find("/srv/web/bin/run"),
        Some(AttachMatch::One(_))
    ));
}
