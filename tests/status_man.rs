//! man/aa-status.8: generated from the clap definition (`cli::aa_status::command`) plus the
//! hand-written sections in `cli::aa_status::man`. Fails when the committed page is stale;
//! `INSTA_UPDATE=always cargo test --test integration status_man` rewrites it.

use crate::common;
use apparmor::cli::aa_status::{command, getopt, man};

fn render() -> String {
    let m = clap_mangen::Man::new(command())
        .title("AA-STATUS")
        .section("8")
        .date(man::DATE)
        .source(format!("apparmor {}", env!("CARGO_PKG_VERSION")))
        .manual("AppArmor");
    let mut buf = Vec::new();
    m.render_title(&mut buf).unwrap();
    m.render_name_section(&mut buf).unwrap();
    m.render_synopsis_section(&mut buf).unwrap();
    buf.extend_from_slice(man::DESCRIPTION.as_bytes());
    m.render_options_section(&mut buf).unwrap();
    for s in [man::EXIT_STATUS, man::EXAMPLES, man::FILES, man::SEE_ALSO] {
        buf.extend_from_slice(s.as_bytes());
    }
    String::from_utf8(buf).unwrap()
}

#[test]
fn aa_status_man_page_is_current() {
    let path = common::repo().join("man/aa-status.8");
    let fresh = render();
    if common::update_generated() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "man/aa-status.8 is stale: run `INSTA_UPDATE=always cargo test --test integration status_man`"
    );
}

#[test]
fn every_option_is_documented_and_parsed() {
    let page = render();
    let usage = apparmor::cli::aa_status::usage::usage("aa-status")
        + &apparmor::cli::aa_status::usage::legacy("aa-status");
    let cmd = command();
    let clap_longs: Vec<&str> = cmd.get_arguments().filter_map(|a| a.get_long()).collect();
    for o in getopt::LONG_OPTS {
        assert!(
            clap_longs.contains(&o.name),
            "--{} missing from command()",
            o.name
        );
        let roff = format!("\\-\\-{}", o.name.replace('-', "\\-"));
        assert!(
            page.contains(&roff),
            "--{} missing from the man page",
            o.name
        );
        assert!(
            usage.contains(&format!("--{}", o.name)),
            "--{} missing from usage",
            o.name
        );
    }
    assert_eq!(clap_longs.len(), getopt::LONG_OPTS.len());
    for section in ["EXIT STATUS", "EXAMPLES", "FILES", "DESCRIPTION"] {
        assert!(page.contains(section));
    }
    for code in ["0", "1", "2", "3", "4", "42"] {
        assert!(
            page.contains(&format!(".TP\n\\fB{code}\\fR\n")),
            "exit {code}"
        );
    }
}
