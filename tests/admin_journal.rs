//! A systemd journal file given to `aactl log` is recognised by its header and read
//! through `journalctl --file`, not parsed as text.

use crate::common::{aactl, repo};

/// The fixture (testdata/log/denied.journal.gz) decompressed into a temp dir, or
/// `None` (after a SKIP line) when journalctl is not installed.
fn journal_file() -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    let found = std::process::Command::new("journalctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("AA_REQUIRE_ORACLES").is_none(),
            "journalctl not installed"
        );
        println!("SKIP: journalctl not installed");
        return None;
    }
    let gz = std::fs::File::open(repo().join("testdata/log/denied.journal.gz")).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut bytes).unwrap();
    assert!(bytes.starts_with(b"LPKSHHRH"));
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("system.journal");
    std::fs::write(&p, bytes).unwrap();
    Some((d, p))
}

#[test]
fn a_journal_file_is_read_through_journalctl() {
    let Some((_d, p)) = journal_file() else {
        return;
    };
    let path = p.to_str().unwrap();
    let (code, out, err) = aactl(&["log", "--utc", path]);
    assert_eq!(code, 0, "{err}");
    // No NUL-byte warning: the file was not read as text.
    assert_eq!(err, "");
    assert_eq!(
        out,
        format!(
            "2023-11-14T22:13:20.123Z DENIED operation=open requested_mask=r denied_mask=r \
             fsuid=0 ouid=0 profile=/usr/sbin/nscd name=/etc/shadow comm=nscd pid=1234 \
             class=file [{path}:1]\n\
             2023-11-14T22:13:22.000Z DENIED operation=capable profile=/usr/sbin/nscd \
             name=net_admin comm=nscd pid=1234 class=cap capability=12 [{path}:2]\n"
        )
    );
    // JSON: the entries carry their journal cursor and kernel provenance.
    let (code, out, err) = aactl(&["log", "--json", path]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for v in &lines {
        assert_eq!(v["provenance"], "kernel");
        assert!(v["cursor"].as_str().unwrap().starts_with("s="), "{v}");
        assert_eq!(v["source"], path);
    }
    // Filters and the summary work on it as on a text log.
    let (code, out, err) = aactl(&["log", "--class", "cap", "--format", "json", path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    let (code, out, err) = aactl(&["log", "--summary", "--wide", path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/usr/sbin/nscd (2 records"), "{out}");
}

/// A damaged journal file is an error naming the file (journalctl's reason), status 2.
#[test]
fn a_damaged_journal_file_is_an_error() {
    let Some((d, p)) = journal_file() else {
        return;
    };
    let bytes = std::fs::read(&p).unwrap();
    let cut = d.path().join("cut.journal");
    std::fs::write(&cut, &bytes[..100]).unwrap();
    let (code, out, err) = aactl(&["log", cut.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("journalctl failed"), "{err}");
    assert!(err.contains("cut.journal"), "{err}");
}
