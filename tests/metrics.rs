//! `aactl metrics` and `aactl exporter` against real Prometheus tools (Debian's
//! `prometheus` package, installed by scripts/install-deps): `promtool check metrics` on
//! the output for every snapshot and fake root, `promtool check rules` and `promtool test
//! rules` for contrib/prometheus, and a real Prometheus server scraping the exporter over a
//! snapshot and a growing log. Without the tools each test prints a SKIP notice (a failure
//! under AA_REQUIRE_ORACLES=1).

use crate::common;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `program` when it runs (`--version`), else a skip notice.
fn tool(program: &str) -> Option<PathBuf> {
    let ok = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    common::require(
        ok.then(|| PathBuf::from(program)),
        &format!("{program} (Debian package prometheus, scripts/install-deps)"),
    )
}

/// Runs `promtool ARGS` with `input` on stdin: (success, stdout + stderr).
fn promtool(args: &[&str], input: &[u8]) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(common::repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Every root a test reads: the real snapshots of testdata/systems and the fake roots of
/// testdata/status.
fn roots() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in ["testdata/systems", "testdata/status"] {
        for e in std::fs::read_dir(common::repo().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                let root = p.join("root");
                v.push(if root.is_dir() { root } else { p });
            }
        }
    }
    v.sort();
    assert!(v.len() >= 2, "{v:?}");
    v
}

fn records_log() -> PathBuf {
    common::repo().join("testdata/metrics/records.log")
}

#[test]
fn promtool_accepts_the_output_on_every_root() {
    if tool("promtool").is_none() {
        return;
    }
    let log = records_log();
    let log = log.to_str().unwrap();
    let mut checked = 0;
    for root in roots() {
        let root = root.to_str().unwrap();
        for extra in [&["--no-log"][..], &["--log", log][..]] {
            let mut args = vec!["metrics", "--root", root];
            args.extend_from_slice(extra);
            let (code, out, err) = common::aactl(&args);
            assert_eq!(code, 0, "{args:?}: {err}");
            assert!(out.contains("apparmor_enabled 1\n"), "{root}: {out}");
            let (ok, lint) = promtool(&["check", "metrics"], out.as_bytes());
            assert!(ok, "promtool check metrics on {args:?}:\n{lint}\n{out}");
            checked += 1;
        }
    }
    // A generated root with hostile names (quotes, newlines, control characters in
    // namespaces, modes and labels).
    if let Some(python) = common::require(
        Command::new("python3")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success()),
        "python3 (scripts/fake-system)",
    ) {
        drop(python);
        let d = tempfile::tempdir().unwrap();
        let st = Command::new(common::repo().join("scripts/fake-system"))
            .args(["gen", d.path().to_str().unwrap()])
            .args(["--profiles", "300", "--procs", "600", "--awkward"])
            .status()
            .unwrap();
        assert!(st.success());
        let (code, out, err) =
            common::aactl_lossy(&["metrics", "--root", d.path().to_str().unwrap(), "--no-log"]);
        assert_eq!(code, 0, "{err}");
        let (ok, lint) = promtool(&["check", "metrics"], out.as_bytes());
        assert!(ok, "promtool check metrics (awkward root):\n{lint}\n{out}");
        checked += 1;
    }
    eprintln!("promtool check metrics: {checked} expositions accepted");
}

#[test]
fn alert_rules_check_and_pass_their_unit_tests() {
    if tool("promtool").is_none() {
        return;
    }
    let dir = common::repo().join("contrib/prometheus");
    let mut rules = 0;
    let mut tests = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        let rel = format!("contrib/prometheus/{name}");
        if name.ends_with(".rules.yml") {
            let (ok, out) = promtool(&["check", "rules", &rel], b"");
            assert!(ok, "promtool check rules {rel}:\n{out}");
            rules += 1;
        } else if name.ends_with(".test.yml") {
            let (ok, out) = promtool(&["test", "rules", &rel], b"");
            assert!(ok, "promtool test rules {rel}:\n{out}");
            tests += 1;
        }
    }
    assert!(
        rules >= 1 && tests >= 1,
        "{rules} rule files, {tests} tests"
    );
}

#[test]
fn records_count_kernel_senders_only_unless_trusted() {
    let log = records_log();
    let log = log.to_str().unwrap();
    let root = common::repo().join("testdata/systems/debian12-vm");
    let root = root.to_str().unwrap();
    let sum = |out: &str, name: &str| -> u64 {
        out.lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    };
    let (code, out, err) = common::aactl(&["metrics", "--root", root, "--log", log]);
    assert_eq!(code, 0, "{err}");
    // the syslog line tagged kernel: is not the kernel's outside kern.log
    assert_eq!(sum(&out, "apparmor_records_total{"), 4, "{out}");
    assert_eq!(
        sum(
            &out,
            "apparmor_records_unverified_total{provenance=\"untrusted\"}"
        ),
        2
    );
    let (_, out, _) = common::aactl(&[
        "metrics",
        "--root",
        root,
        "--log",
        log,
        "--trust-userspace-records",
    ]);
    assert_eq!(sum(&out, "apparmor_records_total{"), 6, "{out}");
    let (_, out, _) = common::aactl(&[
        "metrics",
        "--root",
        root,
        "--log",
        log,
        "--max-profiles",
        "1",
    ]);
    assert!(out.contains("profile=\"other\""), "{out}");
    assert_eq!(sum(&out, "apparmor_records_folded_total"), 3, "{out}");
}

#[test]
fn output_replaces_the_file_atomically() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("apparmor.prom");
    let root = common::repo().join("testdata/systems/debian12-vm");
    let args = [
        "metrics",
        "--root",
        root.to_str().unwrap(),
        "--no-log",
        "--output",
        file.to_str().unwrap(),
    ];
    let (code, out, err) = common::aactl(&args);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let first = std::fs::read_to_string(&file).unwrap();
    assert!(first.contains("apparmor_profiles{"), "{first}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o644
    );
    std::fs::write(&file, "old").unwrap();
    let (code, _, err) = common::aactl(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    // No temporary file is left beside it (the textfile collector reads only *.prom, but
    // a leftover would pile up).
    let names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["apparmor.prom"]);
    let nested = d.path().join("new/folder/apparmor.prom");
    let (code, _, err) = common::aactl(&[
        "metrics",
        "--root",
        root.to_str().unwrap(),
        "--no-log",
        "--output",
        nested.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "creates the folder: {err}");
    assert_eq!(std::fs::read_to_string(&nested).unwrap(), first);
}

#[test]
fn snapshot_metrics_on_the_vm_snapshot() {
    let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args(["metrics", "--root", "testdata/systems/debian12-vm"])
        .args(["--log", "testdata/metrics/records.log"])
        .current_dir(common::repo())
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!("metrics_debian12_vm", text);
}

/// A child process killed (and reaped) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port that was free a moment ago on loopback.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` over HTTP/1.0: (status, body).
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant query against Prometheus: each result's labels and value.
fn query(prom: SocketAddr, q: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let Ok((200, body)) = http_get(prom, &format!("/api/v1/query?query={}", url_encode(q))) else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let labels = r["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let value = r["value"][1].as_str().unwrap().parse().unwrap();
            (labels, value)
        })
        .collect()
}

/// The single value of `q`, `None` while there is none.
fn scalar(prom: SocketAddr, q: &str) -> Option<f64> {
    query(prom, q).first().map(|x| x.1)
}

/// Waits (up to 20 s) until `q` gives `want`; fails at once when it goes past it.
fn wait_for_value(prom: SocketAddr, q: &str, want: f64) {
    let t = Instant::now();
    loop {
        let got = scalar(prom, q);
        if got == Some(want) {
            return;
        }
        if let Some(g) = got {
            assert!(g < want, "{q} = {g}, past {want}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{q}: {got:?} after 20 s, want {want}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// An auditd line of a kernel denial by `profile`.
fn kernel_line(serial: u32, profile: &str) -> String {
    format!(
        "type=AVC msg=audit(1700000000.{serial:03}:{serial}): apparmor=\"DENIED\" operation=\"open\" \
         class=\"file\" profile=\"{profile}\" name=\"/etc/shadow\" pid=170 comm=\"cat\" \
         requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
    )
}

/// A line any user can write with logger(1), claiming a denial.
fn forged_line(profile: &str) -> String {
    format!(
        "Nov 29 18:00:01 host mallory[4242]: apparmor=\"DENIED\" operation=\"open\" \
         class=\"file\" profile=\"{profile}\" name=\"/etc/shadow\" pid=170 comm=\"cat\" \
         requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
    )
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn prometheus_scrapes_the_exporter() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let started = Instant::now();
    let d = tempfile::tempdir().unwrap();
    let root = common::repo().join("testdata/systems/debian12-vm");
    let log = d.path().join("audit.log");
    std::fs::write(&log, kernel_line(1, "before-start")).unwrap();

    let mut exporter = Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args(["exporter", "--listen", "127.0.0.1:0", "--root"])
        .arg(&root)
        .arg("--log")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = exporter.id();
    let stderr = exporter.stderr.take().unwrap();
    let exporter = Killed(exporter);
    let mut lines = BufReader::new(stderr).lines();
    let addr: SocketAddr = loop {
        let l = lines.next().expect("exporter's stderr").unwrap();
        if let Some(rest) = l.strip_prefix("aactl: exporter listening on http://") {
            break rest.trim_end_matches("/metrics").parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    common::wait_until_following(pid, &log);

    let prom_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = d.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: aactl\n    static_configs:\n      - targets: ['{addr}']\n"
        ),
    )
    .unwrap();
    let prom_log = std::fs::File::create(d.path().join("prometheus.log")).unwrap();
    let prom = Killed(
        Command::new(prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                d.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(prom_log.try_clone().unwrap())
            .stderr(prom_log)
            .spawn()
            .unwrap(),
    );

    // The first scrape.
    let t = Instant::now();
    while scalar(prom_addr, "apparmor_enabled{job=\"aactl\"}").is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no scrape after 20 s: {}",
            std::fs::read_to_string(d.path().join("prometheus.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(scalar(prom_addr, "up{job=\"aactl\"}"), Some(1.0));
    assert_eq!(scalar(prom_addr, "apparmor_enabled"), Some(1.0));

    // Profile counts by namespace and mode equal aactl status --json.
    let (code, json, err) = common::aactl(&["status", "--json", "--root", root.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let status: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut want: BTreeMap<(String, String), f64> = BTreeMap::new();
    for ns in status["profiles"]["namespaces"].as_array().unwrap() {
        let name = ns["namespace"].as_str().unwrap_or("").to_owned();
        for (mode, n) in ns["modes"].as_object().unwrap() {
            want.insert((name.clone(), mode.clone()), n.as_f64().unwrap());
        }
    }
    let got: BTreeMap<(String, String), f64> = query(prom_addr, "apparmor_profiles > 0")
        .into_iter()
        .map(|(l, v)| {
            (
                (
                    l.get("namespace").cloned().unwrap_or_default(),
                    l["mode"].clone(),
                ),
                v,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        scalar(prom_addr, "apparmor_processes_unconfined_with_profile"),
        Some(status["unconfined_with_profile"].as_array().unwrap().len() as f64)
    );
    assert_eq!(
        scalar(prom_addr, "apparmor_policy_revision"),
        status["revision"].as_f64()
    );
    // Nothing was appended yet: the line already there is not counted.
    assert_eq!(scalar(prom_addr, "sum(apparmor_records_total)"), None);

    // Records appended: the kernel's count, the forged ones only apart.
    let mut batch = String::new();
    for i in 0..4 {
        batch.push_str(&kernel_line(10 + i, "vmtest-enforce"));
        batch.push_str(&forged_line("vmtest-enforce"));
    }
    batch.push_str(&kernel_line(20, "vmtest-complain"));
    append(&log, &batch);
    wait_for_value(prom_addr, "sum(apparmor_records_total)", 5.0);
    wait_for_value(
        prom_addr,
        "sum(apparmor_records_unverified_total{provenance=\"untrusted\"})",
        4.0,
    );
    assert_eq!(
        scalar(
            prom_addr,
            "apparmor_records_total{profile=\"vmtest-enforce\",event=\"denied\",class=\"file\",operation=\"open\"}"
        ),
        Some(4.0)
    );
    let mut batch = String::new();
    for i in 0..7 {
        batch.push_str(&kernel_line(30 + i, "vmtest-enforce"));
    }
    append(&log, &batch);
    wait_for_value(prom_addr, "sum(apparmor_records_total)", 12.0);
    // Two more scrapes: still exactly 12.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(scalar(prom_addr, "sum(apparmor_records_total)"), Some(12.0));
    assert_eq!(
        scalar(prom_addr, "sum(apparmor_scrape_errors_total)"),
        Some(0.0)
    );
    let (status, _) = http_get(addr, "/nope").unwrap();
    assert_eq!(status, 404);
    drop(prom);
    drop(exporter);
    eprintln!(
        "prometheus_scrapes_the_exporter: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The version word of `apparmor_parser --version`'s first line.
fn version_of(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .lines()
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn info_names_the_parser_of_each_release() {
    let mut seen = 0;
    for suite in ["trixie", "sid"] {
        let Some(p) = common::platform(suite) else {
            continue;
        };
        let want = version_of(
            &p.command("apparmor_parser")
                .arg("--version")
                .output()
                .unwrap()
                .stdout,
        );
        let d = tempfile::tempdir().unwrap();
        // The release's parser first on PATH, run through its own loader.
        common::install_script(
            &d.path().join("apparmor_parser"),
            &format!(
                "#!/bin/sh\nAA_PLATFORMS_DIR='{}' exec '{}' {suite} apparmor_parser \"$@\"\n",
                p.root.parent().unwrap().display(),
                common::repo().join("scripts/platforms/run").display()
            ),
        );
        let out = Command::new(env!("CARGO_BIN_EXE_aactl"))
            .args(["metrics", "--no-log"])
            .env(
                "PATH",
                format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", d.path().display()),
            )
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("parser_version=\"{want}\"")),
            "{suite}: want {want}:\n{text}"
        );
        seen += 1;
    }
    eprintln!("parser_version checked for {seen} reference releases");
}
