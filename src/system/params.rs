//! `/sys/module/apparmor/parameters/*` and "is AppArmor enabled?" (docs/runtime.md,
//! "Module parameters").

use super::{System, SystemError, read_trimmed};
use crate::label::Mode;
use std::collections::BTreeMap;
use std::io;

/// The module parameters, typed. A parameter that is absent or cannot be read (non-root
/// callers get EACCES, a disabled AppArmor gives EINVAL) is `None`; its name is then listed in
/// [`Parameters::unreadable`] when the file exists. [`Parameters::raw`] keeps every readable
/// file's text (newline dropped), for snapshots and for parameters newer than this crate.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Parameters {
    /// `enabled` (`Y`/`N`): AppArmor enabled at boot.
    pub enabled: Option<bool>,
    /// `available` (stacking kernels only).
    pub available: Option<bool>,
    /// `mode`: the global policy mode.
    pub mode: Option<Mode>,
    /// `audit`: `normal`, `quiet_denied`, `quiet`, `noquiet` or `all`.
    pub audit: Option<String>,
    /// `audit_header`: records start with `apparmor="TYPE"`.
    pub audit_header: Option<bool>,
    /// `debug`.
    pub debug: Option<bool>,
    /// `lock_policy`: once `Y`, load/replace/remove are refused.
    pub lock_policy: Option<bool>,
    /// `logsyscall` (ignored by the kernel).
    pub logsyscall: Option<bool>,
    /// `path_max`: path buffer size in bytes.
    pub path_max: Option<u64>,
    /// `paranoid_load` (deprecated).
    pub paranoid_load: Option<bool>,
    /// `hash_policy`: profiles get `sha256` files.
    pub hash_policy: Option<bool>,
    /// `export_binary`: loaded blobs are kept under `policy/raw_data`.
    pub export_binary: Option<bool>,
    /// `rawdata_compression_level`: zstd level for kept blobs.
    pub rawdata_compression_level: Option<i64>,
    /// Every readable parameter file: name → text without the trailing newline.
    pub raw: BTreeMap<String, String>,
    /// Parameter files that exist but could not be read.
    pub unreadable: Vec<String>,
}

fn yn(s: &str) -> Option<bool> {
    match s.trim() {
        "Y" | "y" | "1" => Some(true),
        "N" | "n" | "0" => Some(false),
        _ => None,
    }
}

impl Parameters {
    /// Builds the typed view from name → text pairs (pure; used by [`System::parameters`]).
    pub fn from_raw(raw: BTreeMap<String, String>) -> Parameters {
        let get = |k: &str| raw.get(k).map(|s| s.trim().to_owned());
        Parameters {
            enabled: get("enabled").as_deref().and_then(yn),
            available: get("available").as_deref().and_then(yn),
            mode: get("mode").map(|m| Mode::from_word(&m)),
            audit: get("audit"),
            audit_header: get("audit_header").as_deref().and_then(yn),
            debug: get("debug").as_deref().and_then(yn),
            lock_policy: get("lock_policy").as_deref().and_then(yn),
            logsyscall: get("logsyscall").as_deref().and_then(yn),
            path_max: get("path_max").and_then(|v| v.parse().ok()),
            paranoid_load: get("paranoid_load").as_deref().and_then(yn),
            hash_policy: get("hash_policy").as_deref().and_then(yn),
            export_binary: get("export_binary").as_deref().and_then(yn),
            rawdata_compression_level: get("rawdata_compression_level")
                .and_then(|v| v.parse().ok()),
            raw,
            unreadable: Vec::new(),
        }
    }
}

/// The answer of libapparmor's `aa_is_enabled` (docs/runtime.md, "Module parameters").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enabled {
    /// Enabled and the policy interface is mounted.
    Yes,
    /// `parameters/enabled` is missing: no AppArmor in this kernel (ENOSYS).
    NotAvailable,
    /// Disabled at boot (`enabled` is `N`; ECANCELED).
    DisabledAtBoot,
    /// Enabled, but securityfs/apparmor is not mounted (ENOENT).
    NoPolicyInterface,
    /// `enabled` could not be read for lack of permission.
    NoPermission,
    /// Only private interfaces exist (`available` = `Y` but not enabled; EBUSY).
    PrivateOnly,
}

impl System {
    /// `<root>/sys/module/apparmor/parameters/NAME`.
    pub fn parameter_path(&self, name: &str) -> std::path::PathBuf {
        self.module_dir().join("parameters").join(name)
    }

    /// Reads one parameter's text (newline dropped).
    ///
    /// # Errors
    /// The I/O error with the path ([`SystemError::PermissionDenied`] for EACCES/EPERM).
    pub fn parameter(&self, name: &str) -> Result<String, SystemError> {
        let p = self.parameter_path(name);
        read_trimmed(&self.root, &p).map_err(|e| SystemError::io(p, e))
    }

    /// Reads every file of `parameters/`. Unreadable files are listed in
    /// [`Parameters::unreadable`], not fatal.
    ///
    /// # Errors
    /// When the `parameters` directory itself cannot be listed.
    pub fn parameters(&self) -> Result<Parameters, SystemError> {
        let dir = self.module_dir().join("parameters");
        let rd = super::fs::read_dir(&self.root, &dir).map_err(|e| SystemError::io(&dir, e))?;
        let mut raw = BTreeMap::new();
        let mut unreadable = Vec::new();
        for entry in rd {
            let name = entry.name.to_string_lossy().into_owned();
            match read_trimmed(&self.root, &dir.join(&entry.name)) {
                Ok(v) => {
                    raw.insert(name, v);
                }
                Err(_) => unreadable.push(name),
            }
        }
        unreadable.sort();
        let mut p = Parameters::from_raw(raw);
        p.unreadable = unreadable;
        Ok(p)
    }

    /// libapparmor's `aa_is_enabled`: the first byte of `parameters/enabled` must be `Y`
    /// (else `available` = `Y` means private-only), then securityfs must be found.
    pub fn enabled(&self) -> Enabled {
        let first = |name: &str| -> io::Result<u8> {
            let b = crate::system::fs::read_limited(
                &self.root,
                self.parameter_path(name),
                super::fs::limits::PAGE,
            )?;
            Ok(b.first().copied().unwrap_or(0))
        };
        let mut private_only = false;
        match first("enabled") {
            Ok(b'Y') => {}
            other => {
                if matches!(first("available"), Ok(b'Y')) {
                    private_only = true;
                } else {
                    return match other {
                        Ok(_) => Enabled::DisabledAtBoot,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => Enabled::NotAvailable,
                        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                            Enabled::NoPermission
                        }
                        Err(_) => Enabled::NotAvailable,
                    };
                }
            }
        }
        match self.securityfs() {
            Ok(_) if private_only => Enabled::PrivateOnly,
            Ok(_) => Enabled::Yes,
            Err(_) => Enabled::NoPolicyInterface,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_parameters() {
        let raw: BTreeMap<String, String> = [
            ("enabled", "Y"),
            ("mode", "user"),
            ("path_max", "2048"),
            ("lock_policy", "N"),
            ("audit", "normal"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let p = Parameters::from_raw(raw);
        assert_eq!(p.enabled, Some(true));
        assert_eq!(p.mode, Some(Mode::Prompt));
        assert_eq!(p.path_max, Some(2048));
        assert_eq!(p.lock_policy, Some(false));
        assert_eq!(p.audit.as_deref(), Some("normal"));
        assert_eq!(p.debug, None);
    }
}
