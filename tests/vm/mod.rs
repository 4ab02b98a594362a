//! The VM suite: our `aa-status` and `aactl` against each release's reference
//! `aa-status` on live AppArmor kernels (Debian's cloud kernels under qemu
//! TCG), following ../shared/spec/vm-harness.md. Three kernels, each with the
//! reference userland of its own release in the guest (see [`KERNELS`]):
//! Linux 6.1 with Debian 12's AppArmor 3.0.8 (the host's), 6.12 with
//! Debian 13's 4.1.0 and 7.2 with sid's 5.0.2 (the roots built by
//! `scripts/platforms/root`).
//!
//! The guest side is in `scripts/vm/` (kernel fetch, initramfs, guest `/init`,
//! step files and suites). This test only calls `scripts/vm/run` with
//! arguments and compares what came back, as data. Per kernel:
//! - boot 1 (`aavm.suite=status`): the release's profiles and the test
//!   profiles loaded, processes started under enforce, complain, kill,
//!   unconfined-mode, hat, stacked and child-namespace labels; every aa-status
//!   option run with the reference and ours; the aactl inspection commands,
//!   live and on a snapshot; user namespaces under a profile with and without
//!   `userns,` (`scripts/vm/guest/steps/userns.sh`); then the loader
//!   (`scripts/vm/guest/steps/loader.sh`): replace, load and unload of a
//!   shipped profile, enforce/complain and disable/enable in a copy of the
//!   profile folder, load errors, denials under an enforce and a complain
//!   profile read back with `aactl log kernel` (`--summary`, `--suggest`), and
//!   `remove-unknown`, each verified through securityfs;
//! - boot 2 (`apparmor=0`, `aavm.suite=disabled`): the "not enabled" exits.
//!
//! It prints one line per kernel, `VM suite (6.12): N passed, M failed`, then
//! the total, and fails when any check failed. Skips (fails under
//! `AA_REQUIRE_ORACLES=1`) when not root, without qemu, or when a kernel or a
//! reference userland cannot be fetched. `AA_VM_KERNELS=6.1,7.2` runs some of
//! the kernels; `AA_VM_JOBS=N` boots N kernels at a time (default 2: qemu
//! TCG uses one host core per guest, and two at a time took 220 s where one
//! at a time took 281 s on the shared 2-core machine).

mod genprof;
mod loader;
mod modes;
mod report;
mod status;
mod systems;
mod toolbox;

use crate::common;
use apparmor::policy::ParserVersion;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One kernel of the suite and the reference userland booted with it.
pub(super) struct Kernel {
    /// The Debian release (`scripts/vm/run --release`).
    pub release: &'static str,
    /// The kernel's version line, as printed in the summary.
    pub linux: &'static str,
    /// The reference AppArmor release in the guest (its aa-status and parser).
    pub aa: ParserVersion,
    /// The shipped profile file the loader step replaces, unloads and loads
    /// again (`AAVM_REPLACE` in the guest), with its profiles and their modes.
    pub replace: (
        &'static str,
        &'static [(&'static str, Option<&'static str>)],
    ),
}

impl Kernel {
    /// The kernel mediates user namespace creation (`namespaces/mask`
    /// announces `userns_create`: Linux 6.12 and later).
    pub fn mediates_userns(&self) -> bool {
        self.aa >= ParserVersion::V4_1
    }
}

/// The kernels of the suite, oldest first.
pub(super) const KERNELS: &[Kernel] = &[
    Kernel {
        release: "bookworm",
        linux: "6.1",
        aa: ParserVersion::V3_0,
        replace: (
            "usr.bin.man",
            &[
                ("/usr/bin/man", Some("enforce")),
                ("man_filter", Some("enforce")),
                ("man_groff", Some("enforce")),
            ],
        ),
    },
    Kernel {
        release: "trixie",
        linux: "6.12",
        aa: ParserVersion::V4_1,
        replace: (
            "usr.sbin.dnsmasq",
            &[
                ("dnsmasq", Some("complain")),
                ("dnsmasq//libvirt_leaseshelper", Some("complain")),
            ],
        ),
    },
    Kernel {
        release: "sid",
        linux: "7.2",
        aa: ParserVersion::V5_0,
        replace: (
            "usr.sbin.dnsmasq",
            &[
                ("dnsmasq", Some("complain")),
                ("dnsmasq//libvirt_leaseshelper", Some("complain")),
            ],
        ),
    },
];

/// One command run in the guest (`run ID CMD...` in scripts/vm/guest/lib.sh).
pub(super) struct Check {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub rc: i32,
    /// Killed by the guest's per-command timeout (`RUN_TIMEOUT` in lib.sh).
    pub timed_out: bool,
}

impl Check {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn describe(&self) -> String {
        if self.timed_out {
            return format!(
                "hung: killed by the guest's timeout; stderr {:?}",
                clip(&String::from_utf8_lossy(&self.stderr))
            );
        }
        format!(
            "rc {}, stdout {:?}, stderr {:?}",
            self.rc,
            clip(&self.out()),
            clip(&String::from_utf8_lossy(&self.stderr))
        )
    }
}

pub(super) fn clip(s: &str) -> String {
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s.to_string()
    }
}

/// The unpacked `/results` of one boot.
pub(super) struct Results {
    pub dir: PathBuf,
}

impl Results {
    pub fn check(&self, id: &str) -> Result<Check, String> {
        let d = self.dir.join("checks").join(id);
        let rc = std::fs::read_to_string(d.join("rc"))
            .map_err(|_| format!("check {id} did not run in the guest"))?;
        Ok(Check {
            stdout: std::fs::read(d.join("stdout")).unwrap_or_default(),
            stderr: std::fs::read(d.join("stderr")).unwrap_or_default(),
            rc: rc
                .trim()
                .parse()
                .map_err(|_| format!("check {id}: bad rc"))?,
            timed_out: d.join("timeout").exists(),
        })
    }
    pub fn note(&self, key: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join("notes").join(key))
            .ok()
            .map(|s| s.trim_end().to_string())
    }
    pub fn step_ms(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(self.dir.join("steps")) {
            for e in rd.flatten() {
                let name = e
                    .file_name()
                    .to_string_lossy()
                    .trim_end_matches(".ms")
                    .to_string();
                let v = std::fs::read_to_string(e.path()).unwrap_or_default();
                m.insert(name, v.trim().to_string());
            }
        }
        m
    }
}

/// Passed and failed checks of one kernel, printed as they are decided.
pub(super) struct Tally {
    /// The kernel's version line (`6.12`), prefixed to every printed line.
    pub kernel: &'static str,
    pub passed: usize,
    pub failed: Vec<String>,
    /// Wall time of the kernel's boots and checks.
    pub seconds: f64,
}

impl Tally {
    fn new(kernel: &'static str) -> Tally {
        Tally {
            kernel,
            passed: 0,
            failed: Vec::new(),
            seconds: 0.0,
        }
    }
    pub fn record(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("vm {}: ok      {name}", self.kernel);
            }
            Err(e) => {
                println!("vm {}: FAILED  {name}: {e}", self.kernel);
                self.failed.push(name.to_string());
            }
        }
    }
    /// Prints an informational line.
    pub fn say(&self, what: &str) {
        println!("vm {}: {what}", self.kernel);
    }
}

pub(super) fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// Runs `scripts/vm/run`; returns the results folder, or why it failed.
///
/// With `AA_VM_REUSE=1` the results of an earlier boot in `out` are compared
/// again without booting (for working on the comparisons).
fn boot(k: &Kernel, out: &Path, suite: &str, extra: &[&str]) -> Result<Results, String> {
    if std::env::var("AA_VM_REUSE").is_ok_and(|v| v == "1") && out.join("results/checks").is_dir() {
        println!("vm {}: reusing the results in {}", k.linux, out.display());
        return Ok(Results {
            dir: out.join("results"),
        });
    }
    let mut cmd = Command::new(common::repo().join("scripts/vm/run"));
    cmd.arg("--out")
        .arg(out)
        .arg("--suite")
        .arg(suite)
        .args(extra);
    let t = std::time::Instant::now();
    let st = cmd
        .status()
        .map_err(|e| format!("cannot run scripts/vm/run: {e}"))?;
    println!(
        "vm {}: boot {suite}: {:.1} s (build + boot + guest steps)",
        k.linux,
        t.elapsed().as_secs_f64()
    );
    if !st.success() {
        return Err(format!(
            "scripts/vm/run --release {} --suite {suite} failed: {st}",
            k.release
        ));
    }
    Ok(Results {
        dir: out.join("results"),
    })
}

/// Boots one kernel twice (status suite, `apparmor=0`) and records its checks.
fn run_kernel(k: &Kernel, base: &Path, bins: &[String]) -> Tally {
    let mut t = Tally::new(k.linux);
    let start = std::time::Instant::now();
    let out = base.join(k.release);
    let mut extra = vec!["--release", k.release];
    for b in bins {
        extra.extend(["--bin", b.as_str()]);
    }
    let status = boot(k, &out.join("status"), "status", &extra);
    t.record(
        "boot status suite",
        status.as_ref().map(drop).map_err(Clone::clone),
    );
    if let Ok(r) = &status {
        t.say(&format!(
            "kernel {}, guest boot {} ms, steps (ms) {:?}",
            r.note("kernel").unwrap_or_default(),
            r.note("boot_ms").unwrap_or_default(),
            r.step_ms()
        ));
        status::status_checks(k, r, &mut t);
        loader::userns_checks(k, r, &mut t);
        loader::loader_checks(k, r, &mut t);
        genprof::genprof_checks(k, r, &mut t);
        toolbox::toolbox_checks(k, r, &mut t);
        modes::modes_checks(k, r, &mut t);
        modes::audit_checks(r, &mut t);
    }

    let initrd = out.join("status/initrd.gz");
    let initrd = initrd.to_string_lossy().into_owned();
    let disabled = boot(
        k,
        &out.join("disabled"),
        "disabled",
        &[
            "--release",
            k.release,
            "--initrd",
            &initrd,
            "--append",
            "apparmor=0",
        ],
    );
    t.record(
        "boot apparmor=0",
        disabled.as_ref().map(drop).map_err(Clone::clone),
    );
    if let Ok(r) = &disabled {
        status::disabled_checks(k, r, &mut t);
    }
    t.seconds = start.elapsed().as_secs_f64();
    t
}

/// Whether kernel `k` can run here: its kernel package fetched, its reference
/// userland present (a skip notice, or a failure under AA_REQUIRE_ORACLES=1).
fn available(k: &Kernel) -> bool {
    if k.release != "bookworm" && common::platform(k.release).is_none() {
        return false;
    }
    let fetched = Command::new(common::repo().join("scripts/vm/fetch-kernel"))
        .arg(k.release)
        .output();
    common::require(
        fetched.ok().filter(|o| o.status.success()),
        &format!(
            "Debian {}'s cloud kernel (scripts/vm/fetch-kernel {}, VM suite)",
            k.release, k.release
        ),
    )
    .is_some()
}

#[test]
fn vm_suite() {
    if common::require(common::is_root().then_some(()), "root (VM suite)").is_none() {
        return;
    }
    let qemu = Command::new("qemu-system-x86_64").arg("--version").output();
    if common::require(
        qemu.ok().filter(|o| o.status.success()),
        "qemu-system-x86_64 (VM suite)",
    )
    .is_none()
    {
        return;
    }
    let wanted = std::env::var("AA_VM_KERNELS").ok();
    let kernels: Vec<&Kernel> = KERNELS
        .iter()
        .filter(|k| {
            wanted.as_deref().is_none_or(|w| {
                w.split(',')
                    .any(|x| x.trim() == k.linux || x.trim() == k.release)
            })
        })
        .filter(|k| available(k))
        .collect();
    let jobs: usize = std::env::var("AA_VM_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2);
    let start = std::time::Instant::now();
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("vm-suite");
    let mut bins = vec![
        format!("aa-status={}", env!("CARGO_BIN_EXE_aa-status")),
        format!("aactl={}", env!("CARGO_BIN_EXE_aactl")),
    ];
    // The library's spawn_under is run through examples/container_runtime when it is
    // built next to aactl (`cargo build --example container_runtime`); else its check
    // is left out.
    let example = Path::new(env!("CARGO_BIN_EXE_aactl"))
        .with_file_name("examples")
        .join("container_runtime");
    if example.is_file() {
        bins.push(format!("container_runtime={}", example.display()));
    } else {
        println!(
            "vm: {} not built: the spawn_under check is left out",
            example.display()
        );
    }
    // `jobs` kernels at a time; each thread takes the next kernel not started,
    // newest (slowest: most policy, most checks) first, so that the short
    // ones fill in beside it.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut tallies: Vec<(usize, Tally)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs.min(kernels.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(i) = kernels.len().checked_sub(i + 1) else {
                            break;
                        };
                        let k = kernels[i];
                        done.push((i, run_kernel(k, &base, &bins)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("VM worker thread"))
            .collect()
    });
    tallies.sort_by_key(|(i, _)| *i);

    println!("vm: total {:.1} s", start.elapsed().as_secs_f64());
    let mut failed = Vec::new();
    let mut passed = 0;
    for (_, t) in &tallies {
        let line = format!(
            "VM suite ({}): {} passed, {} failed ({:.0} s)",
            t.kernel,
            t.passed,
            t.failed.len(),
            t.seconds
        );
        // Straight to the process's stderr, past libtest's capture, so that
        // the line is in every CI log, passing or not.
        let _ = writeln!(std::io::stderr(), "{line}");
        passed += t.passed;
        failed.extend(t.failed.iter().map(|f| format!("{}: {f}", t.kernel)));
    }
    let _ = writeln!(
        std::io::stderr(),
        "VM suite: {passed} passed, {} failed ({} kernels, {:.0} s)",
        failed.len(),
        tallies.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(failed.is_empty(), "VM suite failures: {failed:?}");
}
