//! The AppArmor sysctls of `/proc/sys/kernel`: the unprivileged-user
//! restrictions that Ubuntu's kernels add (`apparmor_restrict_unprivileged_userns`,
//! `…_unconfined`, `…_io_uring`, and the `userns_complain`/`userns_force`
//! variants). With `…_userns` set, an unconfined process may not create a
//! user namespace unless a profile with a `userns,` rule attaches, which
//! changes what "unconfined" allows. Kernels without them (Debian's) have
//! none of these files.

use super::{System, fs};
use serde::Serialize;
use std::path::PathBuf;

/// The file-name prefix of the restriction sysctls in `/proc/sys/kernel`.
pub const RESTRICT_PREFIX: &str = "apparmor_restrict_unprivileged_";

/// One AppArmor sysctl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sysctl {
    /// The sysctl name (`kernel.apparmor_restrict_unprivileged_userns`).
    pub name: String,
    /// The file read under the root (`/proc/sys/kernel/…`).
    #[serde(skip)]
    pub path: PathBuf,
    /// Its value with the trailing newline removed; `None` when the file
    /// exists but could not be read.
    pub value: Option<String>,
}

impl Sysctl {
    /// The file name (`apparmor_restrict_unprivileged_userns`).
    pub fn file_name(&self) -> &str {
        self.name.strip_prefix("kernel.").unwrap_or(&self.name)
    }
}

impl System {
    /// The `/proc/sys/kernel/apparmor_restrict_unprivileged_*` sysctls under
    /// the root, by name; empty when the kernel has none (or `/proc/sys`
    /// cannot be listed). Only regular files are read, at most a page each.
    pub fn apparmor_sysctls(&self) -> Vec<Sysctl> {
        let dir = self.path("/proc/sys/kernel");
        let Ok(entries) = fs::read_dir(self.root(), &dir) else {
            return Vec::new();
        };
        let mut out: Vec<Sysctl> = entries
            .into_iter()
            .filter_map(|e| {
                let name = e.name.to_str()?.to_owned();
                // /proc reports sysctl files as regular files; a snapshot may
                // hold anything, and only regular files are read
                (name.starts_with(RESTRICT_PREFIX)
                    && matches!(e.kind, Some(fs::EntryKind::File) | None))
                .then_some(name)
            })
            .map(|name| {
                let path = dir.join(&name);
                let value = super::read_trimmed(self.root(), &path).ok();
                Sysctl {
                    name: format!("kernel.{name}"),
                    path,
                    value,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_restrictions_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let k = d.path().join("proc/sys/kernel");
        std::fs::create_dir_all(&k).unwrap();
        std::fs::write(k.join("apparmor_restrict_unprivileged_userns"), "1\n").unwrap();
        std::fs::write(k.join("apparmor_restrict_unprivileged_io_uring"), "0\n").unwrap();
        std::fs::write(k.join("apparmor_display_secid_mode"), "0\n").unwrap();
        std::fs::write(k.join("osrelease"), "6.8.0\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", k.join("apparmor_restrict_unprivileged_x"))
            .unwrap();
        let s = System::with_root(d.path()).apparmor_sysctls();
        let got: Vec<(&str, Option<&str>)> = s
            .iter()
            .map(|s| (s.name.as_str(), s.value.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("kernel.apparmor_restrict_unprivileged_io_uring", Some("0")),
                ("kernel.apparmor_restrict_unprivileged_userns", Some("1")),
            ]
        );
        assert_eq!(s[1].file_name(), "apparmor_restrict_unprivileged_userns");
        assert!(
            System::with_root(d.path().join("none"))
                .apparmor_sysctls()
                .is_empty()
        );
    }
}
