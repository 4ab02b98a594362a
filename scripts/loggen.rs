//! Log generator and parse driver for scripts/bench-log.
//!
//! `loggen gen N PATH`: writes an N-line auditd log (deterministic): about
//! 30% AppArmor records of every class (file, capability, network inet and
//! unix, dbus USER_AVC, signal, ptrace, mount, pivot_root, mqueue, io_uring,
//! userns, change_profile, status; some hex-encoded names, some ENRICHED
//! trailers), each followed by the SYSCALL/CWD/PATH/PROCTITLE records of its
//! event, mixed with USER_* and other noise.
//!
//! `loggen parse [--no-group] [--threads N] PATH`: streams PATH through
//! `apparmor::log::LogReader` (pre-filter, parse, and unless `--no-group`
//! the merging of SYSCALL/CWD/PATH/PROCTITLE into the records) and prints
//! the counts: the work measured against libapparmor's `parse_record`.
//! `--threads 1` parses on one thread; the default uses one per CPU.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use apparmor::log::reader::{LogReader, ReaderOptions};
use apparmor::log::source::open_file;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

#[path = "rng.rs"]
mod rng;
use rng::Rng;

const PROFILES: &[&str] = &[
    "/usr/bin/evince",
    "/usr/sbin/cupsd",
    "firefox",
    "snap.lxd.daemon",
    "/usr/lib/snapd/snap-confine",
    "docker-default",
    "cri-containerd.apparmor.d//&unconfined",
    "/usr/bin/man//null-/usr/bin/groff",
];
const PATHS: &[&str] = &[
    "/etc/shadow",
    "/home/user/.ssh/id_rsa",
    "/proc/1234/mounts",
    "/run/user/1000/bus",
    "/var/lib/dpkg/status",
    "/dev/urandom",
    "/tmp/.X11-unix/X0",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];
const COMMS: &[&str] = &[
    "evince", "cupsd", "firefox", "lxd", "cat", "python3", "java",
];

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

fn apparmor_record(rng: &mut Rng, ts: &str) -> String {
    let prof = rng.pick(PROFILES);
    let prof = if prof.contains(' ') {
        hex(prof)
    } else {
        format!("\"{prof}\"")
    };
    let kind = rng.pick(&["DENIED", "DENIED", "DENIED", "ALLOWED", "AUDIT"]);
    let pid = 1000 + rng.below(30000);
    let comm = rng.pick(COMMS);
    let class = rng.below(14);
    let body = match class {
        0..=3 => {
            let name = rng.pick(PATHS);
            let name = if rng.below(10) == 0 {
                hex(&format!("{name} copy"))
            } else {
                format!("\"{name}\"")
            };
            let mask = rng.pick(&["r", "w", "rw", "wc", "x", "m", "k", "l"]);
            let op = rng.pick(&["open", "mknod", "unlink", "exec", "file_mmap", "link"]);
            format!(
                "apparmor=\"{kind}\" operation=\"{op}\" class=\"file\" profile={prof} name={name} pid={pid} comm=\"{comm}\" requested_mask=\"{mask}\" denied_mask=\"{mask}\" fsuid=1000 ouid={}",
                if rng.below(2) == 0 { 1000 } else { 0 }
            )
        }
        4 => format!(
            "apparmor=\"{kind}\" operation=\"capable\" class=\"cap\" profile={prof} pid={pid} comm=\"{comm}\" capability={} capname=\"{}\"",
            rng.below(40),
            rng.pick(&["sys_admin", "net_admin", "dac_override", "sys_ptrace"])
        ),
        5 => format!(
            "apparmor=\"{kind}\" operation=\"connect\" class=\"net\" info=\"failed af match\" error=-13 profile={prof} pid={pid} comm=\"{comm}\" family=\"inet6\" sock_type=\"stream\" protocol=6 requested=\"send receive connect\" denied=\"connect\" saddr=::1 src=45658 daddr=::ffff:192.168.1.100 dest=80"
        ),
        6 => format!(
            "apparmor=\"{kind}\" operation=\"connect\" class=\"net\" profile={prof} pid={pid} comm=\"{comm}\" family=\"unix\" sock_type=\"stream\" protocol=0 requested=\"send receive connect\" denied=\"send receive connect\" addr=none peer_addr=\"@/tmp/dbus-x\" peer=\"unconfined\""
        ),
        7 => format!(
            "apparmor=\"{kind}\" operation=\"signal\" class=\"signal\" profile={prof} pid={pid} comm=\"{comm}\" requested_mask=\"send\" denied_mask=\"send\" signal=term peer=\"/usr/bin/pulseaudio\""
        ),
        8 => format!(
            "apparmor=\"{kind}\" operation=\"ptrace\" class=\"ptrace\" profile={prof} pid={pid} comm=\"{comm}\" requested_mask=\"read\" denied_mask=\"read\" peer=\"unconfined\""
        ),
        9 => format!(
            "apparmor=\"{kind}\" operation=\"mount\" class=\"mount\" info=\"failed mntpnt match\" error=-13 profile={prof} name=\"/mnt/\" pid={pid} comm=\"mount\" fstype=\"ext4\" srcname=\"/dev/sdb1\" flags=\"rw, nosuid\""
        ),
        10 => format!(
            "apparmor=\"{kind}\" operation=\"open\" class=\"posix_mqueue\" profile={prof} name=\"/queue\" pid={pid} comm=\"{comm}\" requested=\"read create\" denied=\"read\" fsuid=0 ouid=0"
        ),
        11 => format!(
            "apparmor=\"{kind}\" operation=\"userns_create\" class=\"namespace\" profile={prof} pid={pid} comm=\"{comm}\" requested=\"userns_create\" denied=\"userns_create\" target=\"unprivileged_userns\" execpath=\"/usr/bin/bwrap\""
        ),
        12 => format!(
            "apparmor=\"{kind}\" operation=\"uring_sqpoll\" class=\"io_uring\" profile={prof} pid={pid} comm=\"{comm}\" requested=\"sqpoll\" denied=\"sqpoll\""
        ),
        _ => format!(
            "apparmor=\"STATUS\" operation=\"profile_replace\" info=\"same as current profile, skipping\" profile=\"unconfined\" name=\"{}\" pid={pid} comm=\"apparmor_parser\"",
            rng.pick(PROFILES)
        ),
    };
    let enriched = if rng.below(4) == 0 {
        "\x1dFSUID=\"user\" OUID=\"root\""
    } else {
        ""
    };
    format!("type=AVC msg=audit({ts}): {body}{enriched}")
}

fn generate(n: u64, path: &Path) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut serial = 1000u64;
    let mut secs = 1_700_000_000u64;
    let mut lines = 0u64;
    while lines < n {
        serial += 1;
        secs += rng.below(2);
        let ts = format!("{secs}.{:03}:{serial}", rng.below(1000));
        let r = rng.below(100);
        if r < 43 {
            if rng.below(12) == 0 {
                // dbus-daemon's USER_AVC
                writeln!(
                    w,
                    "type=USER_AVC msg=audit({ts}): pid=812 uid=102 auid=4294967295 ses=4294967295 subj=unconfined msg='apparmor=\"DENIED\" operation=\"dbus_method_call\"  bus=\"system\" path=\"/org/freedesktop/login1\" interface=\"org.freedesktop.login1.Manager\" member=\"Inhibit\" mask=\"send\" name=\"org.freedesktop.login1\" pid={} label=\"{}\" peer_pid=1 peer_label=\"unconfined\" exe=\"/usr/bin/dbus-daemon\" sauid=102 hostname=? addr=? terminal=?'\x1dUID=\"messagebus\" AUID=\"unset\"",
                    1000 + rng.below(30000),
                    rng.pick(PROFILES)
                )?;
                lines += 1;
                continue;
            }
            writeln!(w, "{}", apparmor_record(&mut rng, &ts))?;
            lines += 1;
            // the rest of the event: SYSCALL, CWD, PATH, PROCTITLE
            if rng.below(4) == 0 {
                let comm = rng.pick(COMMS);
                writeln!(
                    w,
                    "type=SYSCALL msg=audit({ts}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7ffd2b1c a2=80000 a3=0 items=1 ppid=1 pid=4242 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"{comm}\" exe=\"/usr/bin/{comm}\" subj={} key=(null)\x1dARCH=x86_64 SYSCALL=openat AUID=\"user\" UID=\"user\" GID=\"user\"",
                    rng.pick(PROFILES).replace(' ', "_")
                )?;
                writeln!(w, "type=CWD msg=audit({ts}): cwd=\"/home/user\"")?;
                writeln!(
                    w,
                    "type=PATH msg=audit({ts}): item=0 name=\"{}\" nametype=UNKNOWN cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
                    rng.pick(PATHS)
                )?;
                writeln!(
                    w,
                    "type=PROCTITLE msg=audit({ts}): proctitle={}",
                    hex("cat\0/etc/shadow")
                )?;
                lines += 4;
            }
        } else {
            let t = rng.pick(&[
                "USER_ACCT",
                "USER_START",
                "USER_END",
                "CRED_ACQ",
                "CRED_DISP",
                "USER_LOGIN",
                "SERVICE_START",
                "SERVICE_STOP",
                "BPF",
            ]);
            let line = match t {
                "BPF" => format!(
                    "type=BPF msg=audit({ts}): prog-id={} op=LOAD",
                    rng.below(500)
                ),
                "SERVICE_START" | "SERVICE_STOP" => format!(
                    "type={t} msg=audit({ts}): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='unit=systemd-tmpfiles-clean comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'\x1dUID=\"root\" AUID=\"unset\""
                ),
                _ => format!(
                    "type={t} msg=audit({ts}): pid={} uid=0 auid=1000 ses=3 subj=unconfined msg='op=PAM:session_open grantors=pam_selinux,pam_loginuid,pam_keyinit,pam_limits,pam_systemd,pam_unix acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'\x1dUID=\"root\" AUID=\"user\"",
                    1000 + rng.below(30000)
                ),
            };
            writeln!(w, "{line}")?;
            lines += 1;
        }
    }
    w.flush()
}

fn parse(path: &Path, group: bool, threads: usize) -> Result<(), String> {
    let src = open_file(path).map_err(|e| e.to_string())?;
    let opts = ReaderOptions {
        group,
        threads,
        ..ReaderOptions::default()
    };
    let mut r = LogReader::new(src, opts);
    let mut denials = 0u64;
    let mut with_context = 0u64;
    while let Some(rec) = r.next_ref() {
        let rec = rec.map_err(|e| e.to_string())?;
        if rec.event.is_denial() {
            denials += 1;
        }
        if rec.context.is_some() {
            with_context += 1;
        }
    }
    let st = r.stats();
    println!(
        "lines {} records {} invalid {} denials {} grouped-records {} with-context {}",
        st.lines, st.records, st.invalid, denials, st.grouped, with_context
    );
    Ok(())
}

const USAGE: &str = "usage: loggen gen N PATH | loggen parse [--no-group] [--threads N] PATH";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let res = match args.get(1).map(String::as_str) {
        Some("gen") if args.len() == 4 => match args[2].parse::<u64>() {
            Ok(n) => generate(n, Path::new(&args[3])).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
        Some("parse") => {
            // parse [--no-group] [--threads N] PATH
            let mut group = true;
            let mut threads = 0;
            let mut path = None;
            let mut it = args[2..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--no-group" => group = false,
                    "--threads" => threads = it.next().and_then(|n| n.parse().ok()).unwrap_or(0),
                    p => path = Some(p),
                }
            }
            match path {
                Some(p) => parse(Path::new(p), group, threads),
                None => Err(USAGE.into()),
            }
        }
        _ => Err(USAGE.into()),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loggen: {e}");
            ExitCode::from(2)
        }
    }
}
