//! A large generated log streamed through a pipe (never stored) into
//! `aactl log - --summary`: the memory high-water mark stays bounded and
//! does not grow with the input. Default 48 MiB; `AA_TRIAGE_BIG_MB=200`
//! (or more) for the full-size run.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn large_log_summarises_in_bounded_memory() {
    let mb: u64 = std::env::var("AA_TRIAGE_BIG_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    let total = mb << 20;
    let mut child = Command::new(env!("CARGO_BIN_EXE_aactl"))
        .args([
            "log",
            "-",
            "--summary",
            "--format",
            "json",
            "--profile-dir",
            "/nonexistent",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let written = Arc::new(AtomicU64::new(0));
    let w2 = written.clone();
    let writer = std::thread::spawn(move || {
        let mut records = 0u64;
        let mut buf = String::with_capacity(1 << 20);
        let mut i: u64 = 0;
        while w2.load(Ordering::Relaxed) < total {
            buf.clear();
            while buf.len() < (1 << 20) - 1024 {
                // 7 profiles x 500 paths: 3500 groups, ever-new pids,
                // serials and times; a SYSCALL record per event
                let line = format!(
                    "type=AVC msg=audit({}.{:03}:{i}): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/bin/app{}\" name=\"/var/lib/data/file{}\" pid={} comm=\"worker{}\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 ouid=0\n\
type=SYSCALL msg=audit({}.{:03}:{i}): arch=c000003e syscall=257 success=no exit=-13 pid={} uid=1000 comm=\"worker\" exe=\"/usr/bin/app\"\n",
                    1_700_000_000 + i / 1000,
                    i % 1000,
                    i % 7,
                    i % 500,
                    1000 + i,
                    i % 20,
                    1_700_000_000 + i / 1000,
                    i % 1000,
                    1000 + i,
                );
                buf.push_str(&line);
                records += 1;
                i += 1;
            }
            if stdin.write_all(buf.as_bytes()).is_err() {
                break;
            }
            w2.fetch_add(buf.len() as u64, Ordering::Relaxed);
        }
        drop(stdin);
        records
    });
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let (mut hwm_quarter, mut hwm_late, mut hwm) = (0u64, 0u64, 0u64);
    loop {
        if let Some(h) = vm_hwm_kib(pid) {
            hwm = hwm.max(h);
            let w = written.load(Ordering::Relaxed);
            if w < total / 4 {
                hwm_quarter = hwm;
            }
            if w < total / 10 * 9 {
                hwm_late = hwm;
            }
        }
        if writer.is_finished() && child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let records = writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    let v: serde_json::Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(v["records"], records);
    assert_eq!(v["groups"].as_array().unwrap().len(), 3500);
    println!(
        "streamed {} MiB ({records} denials): VmHWM {} KiB after a quarter, {} KiB after 90%, \
         {} KiB at the end (with the output)",
        written.load(Ordering::Relaxed) >> 20,
        hwm_quarter,
        hwm_late,
        hwm
    );
    assert!(hwm < 64 * 1024, "VmHWM {hwm} KiB");
    assert!(
        hwm_late <= hwm_quarter + 8 * 1024,
        "memory grows with the input: {hwm_quarter} KiB -> {hwm_late} KiB"
    );
}
