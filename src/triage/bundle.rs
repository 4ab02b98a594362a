//! Bug-report bundles: one `.tar.gz` file that holds what a maintainer needs to
//! see a host's AppArmor state, laid out like a root directory so that every
//! `--root` reader reads the unpacked bundle as it reads the host.
//!
//! Inside the archive, under one top folder named after the file:
//!
//! - the runtime state of a snapshot ([`crate::system::snapshot`]): `proc/` (per
//!   process label, executable, comm; `mounts`), `sys/` (securityfs' profiles
//!   list, policy tree, features, revision; module parameters);
//! - `etc/apparmor.d/`: the profile directory (files, folders and symbolic links
//!   as links, never followed; the binary `cache/` left out), or with
//!   [`BundleOptions::loaded_only`] only the top-level profile files that define
//!   a loaded profile (plus every folder: abstractions, tunables, local overrides);
//! - the last AppArmor records (lines holding `apparmor=`) of the first log
//!   source that has some, in `var/log/audit/audit.log` (auditd's log) or
//!   `var/log/kern.log` (journal, syslog, ring buffer), where the log readers
//!   look under a root;
//! - `proc/sys/kernel/osrelease`, `proc/cmdline` and every
//!   `proc/sys/kernel/apparmor_*` setting (the unprivileged-user restrictions);
//! - `aactl-bundle/parser-version` (what the caller passes) and
//!   `aactl-bundle/manifest.json`: every entry with its size and whether it may
//!   be private ([`Manifest`]).
//!
//! Redaction ([`BundleOptions::redact`]) replaces each `/home/NAME` in file
//! contents and link targets by `/home/~` and the first 12 hex digits of
//! NAME's SHA-256 (the same user gives the same name throughout), and the
//! kernel command line by its SHA-256.
//!
//! Entry names are always relative, made of the names read from folders (no
//! `..`, no absolute path); the archive is written to a temporary file beside
//! the destination and renamed into place, never replacing an existing file.

use crate::system::System;
use crate::system::fs::{self as sfs, EntryKind};
use crate::system::snapshot::SnapshotError;
use std::collections::{BTreeSet, VecDeque};
use std::path::{Component, Path, PathBuf};

/// The default number of records kept.
pub const DEFAULT_RECORDS: usize = 1000;

/// The folder of the bundle's own files (manifest, parser version).
pub const META_DIR: &str = "aactl-bundle";

/// What to put into a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleOptions {
    /// The last this many AppArmor records are kept (0: none).
    pub records: usize,
    /// Only the top-level profile files that define a loaded profile.
    pub loaded_only: bool,
    /// Hash home folder names and the kernel command line.
    pub redact: bool,
    /// The first line of `apparmor_parser --version`, when the caller found a parser.
    pub parser_version: Option<String>,
    /// The profile directory, inside the system's root.
    pub profile_dir: PathBuf,
    /// The program named in the manifest (`aactl 0.1.0`).
    pub tool: String,
}

impl Default for BundleOptions {
    fn default() -> Self {
        BundleOptions {
            records: DEFAULT_RECORDS,
            loaded_only: false,
            redact: false,
            parser_version: None,
            profile_dir: PathBuf::from("/etc/apparmor.d"),
            tool: format!("apparmor {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// One entry of the [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    /// Path inside the top folder (`proc/1/comm`).
    pub path: String,
    /// `file`, `dir` or `symlink`.
    pub kind: String,
    /// Bytes (files only).
    pub size: u64,
    /// What the part of the bundle is (`process`, `policy`, `records`, …).
    pub part: String,
    /// May hold private data (process names, paths, users' files, the command line).
    pub private: bool,
}

/// `aactl-bundle/manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Always `aactl-bundle`.
    pub format: String,
    /// The format's version (1).
    pub version: u32,
    /// The program that wrote it.
    pub tool: String,
    /// Whether [`BundleOptions::redact`] was set.
    pub redacted: bool,
    /// Whether [`BundleOptions::loaded_only`] was set.
    pub loaded_only: bool,
    /// Records kept, and where they were read.
    pub records: usize,
    /// The log source the records came from.
    pub records_source: Option<String>,
    /// `proc/sys/kernel/osrelease`.
    pub kernel_release: Option<String>,
    /// The parser's version line.
    pub parser_version: Option<String>,
    /// What may be private, in words.
    pub privacy: Vec<String>,
    /// Every entry (the manifest itself excepted), in archive order.
    pub entries: Vec<ManifestEntry>,
}

/// What a bundle holds, for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleSummary {
    /// Lines of the `profiles` list.
    pub profiles: usize,
    /// Processes.
    pub processes: usize,
    /// Files of the profile directory.
    pub policy_files: usize,
    /// AppArmor records.
    pub records: usize,
    /// Archive entries.
    pub entries: usize,
}

/// Why a bundle could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The destination exists already.
    #[error("{} exists; not replaced", path.display())]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// The runtime state could not be copied.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// A file of the bundle or the archive could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// What was being written.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

fn werr(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Write {
        path: path.to_path_buf(),
        source,
    }
}

fn put(path: &Path, data: &[u8]) -> Result<(), BundleError> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(werr(p))?;
    }
    std::fs::write(path, data).map_err(werr(path))
}

/// The top folder's name for an archive path: the file name without
/// `.tar.gz`/`.tgz` (`bundle` when nothing is left).
pub fn top_name(dest: &Path) -> String {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".tar.gz")
        .or_else(|| name.strip_suffix(".tgz"))
        .unwrap_or(&name);
    let clean: String = stem
        .chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect();
    if clean.is_empty() || clean == "." || clean == ".." {
        "bundle".into()
    } else {
        clean
    }
}

/// Writes a bundle of `sys` to `dest` (a `.tar.gz` file that must not exist).
///
/// # Errors
/// [`BundleError::Exists`]; [`BundleError::Snapshot`] when the runtime state
/// cannot be read (see [`crate::system::snapshot::snapshot`]);
/// [`BundleError::Write`] naming what could not be written. Parts that cannot be
/// read (no log, no profile directory) are left out.
pub fn write_bundle(
    sys: &System,
    dest: &Path,
    opts: &BundleOptions,
) -> Result<BundleSummary, BundleError> {
    if std::fs::symlink_metadata(dest).is_ok() {
        return Err(BundleError::Exists {
            path: dest.to_path_buf(),
        });
    }
    let tmp = tempfile::tempdir().map_err(werr(dest))?;
    let top = tmp.path().join("root");
    let snap = sys.snapshot(&top)?;
    let mut summary = BundleSummary {
        profiles: snap.profiles,
        processes: snap.processes,
        ..BundleSummary::default()
    };
    let root = sys.root().to_path_buf();

    // Kernel release, command line, the apparmor_* settings.
    let kernel_release = copy_small(sys, "/proc/sys/kernel/osrelease", &top)?
        .map(|b| String::from_utf8_lossy(&b).trim().to_string());
    if let Some(cmdline) = read_small(sys, "/proc/cmdline") {
        let text = if opts.redact {
            format!("sha256:{}\n", hex_sha256(cmdline.trim_ascii_end()))
        } else {
            String::from_utf8_lossy(&cmdline).into_owned()
        };
        put(&top.join("proc/cmdline"), text.as_bytes())?;
    }
    if let Ok(entries) = sfs::read_dir(&root, &sys.path("/proc/sys/kernel")) {
        for e in entries {
            let name = e.name.to_string_lossy();
            if name.starts_with("apparmor_") && e.kind == Some(EntryKind::File) {
                copy_small(sys, &format!("/proc/sys/kernel/{name}"), &top)?;
            }
        }
    }

    // The profile directory.
    let loaded: Option<BTreeSet<String>> = if opts.loaded_only {
        Some(
            sys.profiles()
                .map(|l| {
                    l.profiles()
                        .map(|(n, _)| n.split("//").next().unwrap_or(n).to_string())
                        .collect()
                })
                .unwrap_or_default(),
        )
    } else {
        None
    };
    let pdir = sys.path(&opts.profile_dir);
    let rel = opts
        .profile_dir
        .strip_prefix("/")
        .unwrap_or(&opts.profile_dir);
    summary.policy_files = copy_tree(&root, &pdir, &top.join(rel), loaded.as_ref(), 0)?;

    // Records.
    let mut records_source = None;
    if opts.records > 0 {
        if let Some((lines, name, audit)) = last_records(sys, opts.records) {
            summary.records = lines.len();
            let mut text = Vec::new();
            for l in lines {
                text.extend_from_slice(&l);
                text.push(b'\n');
            }
            let p = if audit {
                "var/log/audit/audit.log"
            } else {
                "var/log/kern.log"
            };
            put(&top.join(p), &text)?;
            records_source = Some(name);
        }
    }
    if let Some(v) = &opts.parser_version {
        put(
            &top.join(META_DIR).join("parser-version"),
            format!("{}\n", v.trim_end()).as_bytes(),
        )?;
    }

    if opts.redact {
        redact_tree(&top).map_err(werr(&top))?;
    }

    // The manifest, then the archive. The bundle's own folder is listed too,
    // also when only the manifest goes into it.
    let meta = top.join(META_DIR);
    std::fs::create_dir_all(&meta).map_err(werr(&meta))?;
    let mut entries = Vec::new();
    list(&top, Path::new(""), &mut entries).map_err(werr(&top))?;
    let manifest = Manifest {
        format: "aactl-bundle".into(),
        version: 1,
        tool: opts.tool.clone(),
        redacted: opts.redact,
        loaded_only: opts.loaded_only,
        records: summary.records,
        records_source,
        kernel_release,
        parser_version: opts.parser_version.clone(),
        privacy: privacy_notes(opts.redact),
        entries,
    };
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    put(&top.join(META_DIR).join("manifest.json"), &json)?;
    summary.entries = manifest.entries.len() + 1;
    write_archive(&top, &top_name(dest), dest)?;
    Ok(summary)
}

fn privacy_notes(redacted: bool) -> Vec<String> {
    let mut v = vec![
        "proc/*: the names, executables and AppArmor labels of every process".to_string(),
        "var/log/*: AppArmor records name files, processes, users' ids and peers".to_string(),
        "etc/apparmor.d/local and other overrides may name users' files".to_string(),
        "proc/cmdline: the kernel command line".to_string(),
    ];
    if redacted {
        v.push(
            "redacted: /home/NAME became /home/~HASH in contents and link targets, and the \
             kernel command line its SHA-256; other paths and names are as they were"
                .to_string(),
        );
    }
    v
}

fn read_small(sys: &System, path: &str) -> Option<Vec<u8>> {
    sfs::read_limited(sys.root(), sys.path(path), sfs::limits::PAGE).ok()
}

/// Copies a small file of the system (absolute `path`) into `top`, returning its bytes.
fn copy_small(sys: &System, path: &str, top: &Path) -> Result<Option<Vec<u8>>, BundleError> {
    let Some(b) = read_small(sys, path) else {
        return Ok(None);
    };
    put(&top.join(path.trim_start_matches('/')), &b)?;
    Ok(Some(b))
}

/// Copies the folder `src` (under `root`, links never followed) to `dst`;
/// returns the number of regular files copied.
fn copy_tree(
    root: &Path,
    src: &Path,
    dst: &Path,
    loaded: Option<&BTreeSet<String>>,
    depth: usize,
) -> Result<usize, BundleError> {
    let Ok(entries) = sfs::read_dir(root, src) else {
        return Ok(0);
    };
    if depth > 16 {
        return Ok(0);
    }
    std::fs::create_dir_all(dst).map_err(werr(dst))?;
    let mut n = 0;
    for e in entries {
        let name = e.name.to_string_lossy().into_owned();
        let (s, d) = (src.join(&e.name), dst.join(&e.name));
        match e.kind {
            Some(EntryKind::Dir) if !(depth == 0 && name == "cache") => {
                n += copy_tree(root, &s, &d, loaded, depth + 1)?;
            }
            Some(EntryKind::File) => {
                let Ok(bytes) = sfs::read_limited(root, &s, sfs::limits::POLICY_FILE) else {
                    continue;
                };
                if depth == 0
                    && let Some(names) = loaded
                    && !defines_loaded(&bytes, names)
                {
                    continue;
                }
                std::fs::write(&d, &bytes).map_err(werr(&d))?;
                n += 1;
            }
            Some(EntryKind::Symlink) => {
                if loaded.is_some() && depth == 0 {
                    continue;
                }
                if let Ok(target) = sfs::read_link(root, &s) {
                    std::os::unix::fs::symlink(&target, &d).map_err(werr(&d))?;
                }
            }
            _ => {}
        }
    }
    Ok(n)
}

/// Whether a profile file defines one of `names` (a file that does not parse, or
/// whose names use variables, is kept: it cannot be told).
fn defines_loaded(bytes: &[u8], names: &BTreeSet<String>) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let parsed = crate::policy::parse_str(&text, crate::diag::FileId(0));
    if !parsed.is_ok() {
        return true;
    }
    let profiles = parsed.ast.profiles();
    profiles.is_empty()
        || profiles
            .iter()
            .any(|p| p.name.text.contains("@{") || names.contains(&p.name.text))
}

/// The last `n` lines holding `apparmor=` of the first log source that has any:
/// the lines, the source's name, and whether it is auditd's log.
fn last_records(sys: &System, n: usize) -> Option<(VecDeque<Vec<u8>>, String, bool)> {
    use crate::log::reader::NextLine;
    let detected = crate::log::detect(sys);
    for (source, why) in &detected.candidates {
        let Ok(mut src) = crate::log::open(source, sys) else {
            continue;
        };
        let mut keep: VecDeque<Vec<u8>> = VecDeque::new();
        let mut buf = Vec::new();
        while let Ok(Some(next)) = src.next_line(&mut buf, 1 << 20) {
            match next {
                NextLine::Line(_) if memchr::memmem::find(&buf, b"apparmor=").is_some() => {
                    if keep.len() == n {
                        keep.pop_front();
                    }
                    keep.push_back(std::mem::take(&mut buf));
                }
                NextLine::Idle => break,
                _ => {}
            }
        }
        if !keep.is_empty() {
            return Some((keep, source.describe(), why.starts_with("auditd")));
        }
    }
    None
}

/// Every entry under `dir` (relative paths, sorted, links not followed), but
/// those whose name is not UTF-8.
fn list(dir: &Path, rel: &Path, out: &mut Vec<ManifestEntry>) -> std::io::Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for name in names {
        // the manifest and the archive name entries by text: a name that is not
        // UTF-8 cannot be named faithfully there and is left out
        if name.to_str().is_none() {
            continue;
        }
        let p = dir.join(&name);
        let r = rel.join(&name);
        let md = std::fs::symlink_metadata(&p)?;
        let shown = r.to_string_lossy().into_owned();
        let (part, private) = classify(&shown);
        let kind = if md.is_dir() {
            "dir"
        } else if md.file_type().is_symlink() {
            "symlink"
        } else {
            "file"
        };
        out.push(ManifestEntry {
            path: shown,
            kind: kind.into(),
            size: if md.is_file() { md.len() } else { 0 },
            part: part.into(),
            private,
        });
        if md.is_dir() {
            list(&p, &r, out)?;
        }
    }
    Ok(())
}

/// The part of the bundle a path belongs to, and whether it may be private.
fn classify(path: &str) -> (&'static str, bool) {
    let under = |p: &str| path == p || path.starts_with(&format!("{p}/"));
    if under("proc/cmdline") {
        ("kernel command line", true)
    } else if under("proc/sys") {
        ("kernel settings", false)
    } else if under("proc/mounts") {
        ("mounts", false)
    } else if under("proc") {
        ("process", true)
    } else if under("sys") {
        ("kernel AppArmor state", false)
    } else if under("var/log") {
        ("records", true)
    } else if under("etc/apparmor.d/local") {
        ("policy (local overrides)", true)
    } else if under("etc") {
        ("policy", false)
    } else if under(META_DIR) {
        ("bundle", false)
    } else {
        ("other", true)
    }
}

fn hex_sha256(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Replaces the user name of each `/home/NAME` by `~` and 12 hex digits of its SHA-256.
pub fn redact_homes(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = memchr::memmem::find(rest, b"/home/") {
        let (head, tail) = rest.split_at(i + 6);
        out.extend_from_slice(head);
        let end = tail
            .iter()
            .position(|&c| matches!(c, b'/' | b'"' | b'\'' | b' ' | b'\n' | b'\t' | b',' | b')'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        // globs and variables (`/home/*/`, `@{HOME}`) are policy, not users
        if name.is_empty()
            || name
                .iter()
                .any(|c| matches!(c, b'*' | b'@' | b'{' | b'[' | b'?'))
        {
            rest = tail;
            continue;
        }
        out.push(b'~');
        out.extend_from_slice(&hex_sha256(name).as_bytes()[..12]);
        rest = &tail[end..];
    }
    out.extend_from_slice(rest);
    out
}

/// Checks that an entry name is relative and has no `..` (it is built from
/// folder entries, so this only guards against a mistake).
fn safe_name(p: &Path) -> bool {
    p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// [`redact_homes`] over every file's contents and link's target under `dir`.
fn redact_tree(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        let md = std::fs::symlink_metadata(&p)?;
        if md.is_dir() {
            redact_tree(&p)?;
        } else if md.file_type().is_symlink() {
            let t = std::fs::read_link(&p)?;
            let r = redact_homes(t.as_os_str().as_encoded_bytes());
            if r != t.as_os_str().as_encoded_bytes() {
                std::fs::remove_file(&p)?;
                std::os::unix::fs::symlink(String::from_utf8_lossy(&r).as_ref(), &p)?;
            }
        } else if md.is_file() {
            let b = std::fs::read(&p)?;
            let r = redact_homes(&b);
            if r != b {
                std::fs::write(&p, r)?;
            }
        }
    }
    Ok(())
}

fn write_archive(top: &Path, name: &str, dest: &Path) -> Result<(), BundleError> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".aactl-")
        .tempfile_in(dir)
        .map_err(werr(dest))?;
    let gz = flate2::write::GzEncoder::new(tmp.as_file(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    let mut entries = Vec::new();
    list(top, Path::new(""), &mut entries).map_err(werr(top))?;
    let base = Path::new(name);
    for e in &entries {
        let rel = Path::new(&e.path);
        let path = base.join(rel);
        if !safe_name(&path) {
            continue;
        }
        let src = top.join(rel);
        let mut h = tar::Header::new_gnu();
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        let r = match e.kind.as_str() {
            "dir" => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                tar.append_data(&mut h, &path, std::io::empty())
            }
            "symlink" => {
                let target = std::fs::read_link(&src).map_err(werr(&src))?;
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                tar.append_link(&mut h, &path, &target)
            }
            _ => {
                let data = std::fs::read(&src).map_err(werr(&src))?;
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                tar.append_data(&mut h, &path, data.as_slice())
            }
        };
        r.map_err(werr(dest))?;
    }
    let gz = tar.into_inner().map_err(werr(dest))?;
    gz.finish().map_err(werr(dest))?;
    tmp.as_file().sync_all().map_err(werr(dest))?;
    tmp.persist_noclobber(dest)
        .map_err(|e| BundleError::Write {
            path: dest.to_path_buf(),
            source: e.error,
        })?;
    Ok(())
}
