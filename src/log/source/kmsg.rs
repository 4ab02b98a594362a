//! The kernel ring buffer: `dmesg`, else `/dev/kmsg` (running host only).

use super::LogError;
use crate::log::reader::{BufReadLines, LineSource};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

pub(super) fn open_kernel(root: &Path) -> Result<Box<dyn LineSource>, LogError> {
    if root != Path::new("/") {
        return Err(LogError::Kernel(format!(
            "the ring buffer belongs to the running kernel, not to {}",
            root.display()
        )));
    }
    // dmesg first (it handles permissions and formats); then /dev/kmsg.
    match Command::new("dmesg")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
    {
        Ok(o) if o.status.success() => {
            return Ok(Box::new(BufReadLines::new(
                io::Cursor::new(o.stdout),
                "dmesg",
            )));
        }
        Ok(o) => {
            let msg = String::from_utf8_lossy(&o.stderr).trim().to_owned();
            return open_kmsg()
                .map_err(|e| LogError::Kernel(format!("dmesg failed ({msg}); /dev/kmsg: {e}")));
        }
        Err(_) => {}
    }
    open_kmsg().map_err(|e| LogError::Kernel(format!("dmesg not found; /dev/kmsg: {e}")))
}

fn open_kmsg() -> io::Result<Box<dyn LineSource>> {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking: a read at the end returns EAGAIN instead of waiting for new messages.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open("/dev/kmsg")?;
    Ok(Box::new(BufReadLines::new(
        BufReader::with_capacity(64 << 10, KmsgReader(f)),
        "kmsg",
    )))
}

/// /dev/kmsg returns one record per read; EPIPE (records overwritten) is skipped.
struct KmsgReader(File);

impl Read for KmsgReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.raw_os_error() == Some(32) => continue,
                r => return r,
            }
        }
    }
}
