//! Our log parser against libapparmor of each release: 3.0.8 (the host's
//! libapparmor-dev), 4.1.0 (trixie) and 5.0.2 (sid). A small C program,
//! compiled against each release's library (inside its reference userland
//! with `chroot ROOT gcc`, then run there), prints every field of
//! `parse_record`'s result for each case of corpus/libapparmor-logs in
//! `test_multi`'s layout; ours is rendered the same way
//! ([`apparmor::log::render::test_multi`]) and compared, limited to the
//! fields that release's record has. Differences are listed in
//! `tests/log_releases_known_differences.txt` (enforced both ways) and in
//! COMPATIBILITY.md; agreement with 5.0.2 is the bar.

use crate::common;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The harness: one block per file named on the command line, the whole
/// file handed to `parse_record` as one text (as libapparmor's own test
/// driver does). Fields that only newer releases have are behind macros
/// set from the release's header.
const HARNESS: &str = r#"
#include <aalogparse/aalogparse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s(const char *label, const char *v)
{
	if (v)
		printf("%s: %s\n", label, v);
}

static void n(const char *label, unsigned long v, unsigned long unset)
{
	if (v != unset)
		printf("%s: %ld\n", label, (long)v);
}

static const char *kinds[] = { "AA_RECORD_INVALID", "AA_RECORD_ERROR",
	"AA_RECORD_AUDIT", "AA_RECORD_ALLOWED", "AA_RECORD_DENIED",
	"AA_RECORD_HINT", "AA_RECORD_STATUS" };

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f)
			return 2;
		static char buf[1 << 16];
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = 0;
		printf("=== %s\n", argv[i]);
		aa_log_record *r = parse_record(buf);
		if (!r) {
			printf("(no record)\n");
			continue;
		}
		unsigned e = (unsigned)r->event;
		s("Event type", e < 7 ? kinds[e] : "UNKNOWN EVENT TYPE");
		s("Audit ID", r->audit_id);
		s("Operation", r->operation);
		s("Mask", r->requested_mask);
		s("Denied Mask", r->denied_mask);
		n("fsuid", r->fsuid, (unsigned long)-1);
		n("ouid", r->ouid, (unsigned long)-1);
		s("Profile", r->profile);
		s("Peer profile", r->peer_profile);
		s("Peer", r->peer);
		s("Name", r->name);
		s("Command", r->comm);
		s("Name2", r->name2);
		s("Namespace", r->NS_FIELD);
		s("Attribute", r->attribute);
		n("Task", r->task, 0);
		n("Parent", r->parent, 0);
		n("Token", r->magic_token, 0);
		s("Info", r->info);
		s("Peer info", r->peer_info);
		n("ErrorCode", (unsigned long)(long)r->error_code, 0);
		n("PID", r->pid, 0);
		n("Peer PID", r->peer_pid, 0);
		s("Active hat", r->active_hat);
#ifdef HAVE_ADDRS
		s("Net Addr", r->net_addr);
		s("Peer Addr", r->peer_addr);
#endif
		s("Network family", r->net_family);
		s("Socket type", r->net_sock_type);
		s("Protocol", r->net_protocol);
		s("Local addr", r->net_local_addr);
		s("Foreign addr", r->net_foreign_addr);
		n("Local port", r->net_local_port, 0);
		n("Foreign port", r->net_foreign_port, 0);
		s("DBus bus", r->dbus_bus);
		s("DBus path", r->dbus_path);
		s("DBus interface", r->dbus_interface);
		s("DBus member", r->dbus_member);
		s("Signal", r->signal);
		s("FS Type", r->fs_type);
		s("Flags", r->flags);
		s("Src name", r->src_name);
#ifdef HAVE_EXECPATH
		s("Execpath", r->execpath);
#endif
#ifdef HAVE_CLASS
		s("Class", r->rule_class);
#endif
		n("Epoch", (unsigned long)r->epoch, 0);
		n("Audit subid", r->audit_sub_id, 0);
		free_record(r);
	}
	return 0;
}
"#;

/// Labels of fields a release's record may lack, with the header text that
/// shows it has them.
const OPTIONAL: &[(&str, &str)] = &[
    ("Net Addr", "char *net_addr;"),
    ("Peer Addr", "char *peer_addr;"),
    ("Execpath", "char *execpath;"),
    ("Class", "char *rule_class;"),
];

/// Where one release's libapparmor is: `None` root = the host.
struct Release {
    name: &'static str,
    root: Option<PathBuf>,
}

impl Release {
    fn header(&self) -> String {
        let p = match &self.root {
            Some(r) => r.join("usr/include/aalogparse/aalogparse.h"),
            None => PathBuf::from("/usr/include/aalogparse/aalogparse.h"),
        };
        std::fs::read_to_string(p).unwrap_or_default()
    }

    /// A command running `program` (a path as the release sees it).
    fn command(&self, program: &str) -> Command {
        match &self.root {
            Some(r) => {
                let mut c = Command::new("chroot");
                c.arg(r).arg(program);
                c
            }
            None => Command::new(program),
        }
    }
}

/// Compiles the harness for `rel`, runs it on every case and returns the
/// blocks by case name. The work folder is inside the root (removed after).
fn libapparmor_blocks(rel: &Release, cases: &[(String, PathBuf)]) -> BTreeMap<String, String> {
    let header = rel.header();
    let base = match &rel.root {
        Some(r) => r.join("tmp"),
        None => std::env::temp_dir(),
    };
    let work = tempfile::Builder::new()
        .prefix("aa-harness-")
        .tempdir_in(&base)
        .expect("work folder in the root's /tmp");
    // the path as the release sees it
    let inside = match &rel.root {
        Some(r) => Path::new("/").join(work.path().strip_prefix(r).unwrap()),
        None => work.path().to_path_buf(),
    };
    std::fs::write(work.path().join("h.c"), HARNESS).unwrap();
    let mut cc = rel.command("gcc");
    cc.args(["-O1", "-std=gnu99", "-o"])
        .arg(inside.join("h"))
        .arg(inside.join("h.c"));
    cc.arg(if header.contains("aa_namespace;") {
        "-DNS_FIELD=aa_namespace"
    } else {
        "-DNS_FIELD=namespace"
    });
    if header.contains("char *net_addr;") {
        cc.arg("-DHAVE_ADDRS");
    }
    if header.contains("char *execpath;") {
        cc.arg("-DHAVE_EXECPATH");
    }
    if header.contains("char *rule_class;") {
        cc.arg("-DHAVE_CLASS");
    }
    cc.arg("-lapparmor").env("LC_ALL", "C");
    let o = cc.output().expect("gcc runs");
    assert!(
        o.status.success(),
        "{}: gcc: {}",
        rel.name,
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::create_dir(work.path().join("cases")).unwrap();
    let mut run = rel.command(inside.join("h").to_str().unwrap());
    for (n, p) in cases {
        std::fs::copy(p, work.path().join("cases").join(n)).unwrap();
        run.arg(inside.join("cases").join(n));
    }
    let o = run.env("LC_ALL", "C").output().expect("harness runs");
    assert!(o.status.success(), "{}: harness failed", rel.name);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut out = BTreeMap::new();
    for block in text.split("=== ").skip(1) {
        let (path, body) = block.split_once('\n').unwrap();
        let name = Path::new(path).file_name().unwrap().to_string_lossy();
        out.insert(name.into_owned(), body.to_owned());
    }
    out
}

/// One test case's text as libapparmor's test driver sees it, joined as
/// the conformance test joins it.
fn ours(input: &[u8], header: &str) -> String {
    let mut joined = Vec::new();
    for (i, l) in input.split(|&b| b == b'\n').enumerate() {
        if l.is_empty() {
            continue;
        }
        if i > 0 {
            if matches!(l.first(), Some(b' ' | b'\t')) {
                joined.push(b' ');
            } else {
                break;
            }
        }
        joined.extend_from_slice(l);
    }
    let r = apparmor::log::render::test_multi(&apparmor::log::parse_line(&joined));
    let text = String::from_utf8_lossy(&r).into_owned();
    // only the fields this release's record has
    text.lines()
        .filter(|l| {
            !OPTIONAL
                .iter()
                .any(|(label, decl)| l.starts_with(&format!("{label}: ")) && !header.contains(decl))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn known() -> BTreeMap<(String, String), String> {
    let text =
        std::fs::read_to_string(common::repo().join("tests/log_releases_known_differences.txt"))
            .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let (r, c, why) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap_or(""));
            ((r.to_owned(), c.to_owned()), why.to_owned())
        })
        .collect()
}

fn compare(rel: &Release) {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = shared.join("corpus/libapparmor-logs");
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(n, _)| n.ends_with(".in"))
        .collect();
    cases.sort();
    let theirs = libapparmor_blocks(rel, &cases);
    let header = rel.header();
    let known = known();
    let (mut same, mut listed, mut fails) = (0, 0, Vec::new());
    for (n, p) in &cases {
        let case = n.trim_end_matches(".in").to_owned();
        let ours = ours(&std::fs::read(p).unwrap(), &header);
        let theirs = theirs.get(n).cloned().unwrap_or_default();
        let key = (rel.name.to_owned(), case.clone());
        match (ours == theirs, known.contains_key(&key)) {
            (true, false) => same += 1,
            (false, true) => listed += 1,
            (true, true) => fails.push(format!("{case}: listed for {} but agrees", rel.name)),
            (false, false) => fails.push(format!(
                "{case} ({}):\n--- ours\n{ours}--- libapparmor\n{theirs}",
                rel.name
            )),
        }
    }
    println!(
        "libapparmor {}: {} cases, {same} identical, {listed} listed differences, {} failures",
        rel.name,
        cases.len(),
        fails.len()
    );
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    let compat = std::fs::read_to_string(common::repo().join("COMPATIBILITY.md")).unwrap();
    for (r, c) in known.keys().filter(|k| k.0 == rel.name) {
        assert!(
            compat.contains(&format!("`{c}`")),
            "COMPATIBILITY.md does not list {c} ({r})"
        );
    }
}

fn platform_release(suite: &'static str, name: &'static str) -> Option<Release> {
    let p = common::platform(suite)?;
    common::require(common::is_root().then_some(()), "root (chroot)")?;
    Some(Release {
        name,
        root: Some(p.root),
    })
}

#[test]
fn libapparmor_3_0_8_host() {
    let has = Path::new("/usr/include/aalogparse/aalogparse.h").exists();
    if common::require(has.then_some(()), "libapparmor-dev (3.0.8) on the host").is_none() {
        return;
    }
    compare(&Release {
        name: "3.0.8",
        root: None,
    });
}

#[test]
fn libapparmor_4_1_0_trixie() {
    if let Some(r) = platform_release("trixie", "4.1.0") {
        compare(&r);
    }
}

#[test]
fn libapparmor_5_0_2_sid() {
    if let Some(r) = platform_release("sid", "5.0.2") {
        compare(&r);
    }
}
