//! Whether AppArmor can be inspected at all, and the complete `profiles` list.

use super::InspectError;
use crate::system::{Enabled, ProfilesList, System, SystemError};

/// Checks that AppArmor can be inspected on `sys`: the module is present, enabled at boot
/// (or has private interfaces), and the AppArmor securityfs directory is mounted.
///
/// # Errors
/// An [`InspectError`] naming the path concerned: `<root>/sys/module/apparmor` missing,
/// `parameters/enabled` not `Y` or unreadable, no `securityfs` entry in `<root>/proc/mounts`.
pub fn preflight(sys: &System) -> Result<(), InspectError> {
    if !sys.module_present() {
        return Err(InspectError::ModuleMissing {
            path: sys.module_dir(),
        });
    }
    let path = sys.parameter_path("enabled");
    match sys.enabled() {
        Enabled::Yes | Enabled::PrivateOnly => Ok(()),
        Enabled::NotAvailable => Err(InspectError::NotAvailable { path }),
        Enabled::DisabledAtBoot => Err(InspectError::Disabled { path }),
        Enabled::NoPermission => Err(InspectError::EnabledPermission { path }),
        Enabled::NoPolicyInterface => Err(InspectError::NotMounted {
            mounts: sys.path("/proc/mounts"),
        }),
    }
}

/// Reads the `profiles` list: an open error, or a read error after opening (the path is a
/// directory, an I/O error mid-file), is an error naming the path; a partial list is never
/// returned as if it were complete.
///
/// # Errors
/// [`InspectError::ProfilesPermission`], [`InspectError::ProfilesRead`], or another
/// [`InspectError::System`] error of the lookup.
pub fn read_profiles(sys: &System) -> Result<ProfilesList, InspectError> {
    complete(sys.profiles())
}

/// The list, or the error for its open or read failure.
pub(super) fn complete(
    list: Result<ProfilesList, SystemError>,
) -> Result<ProfilesList, InspectError> {
    let list = list.map_err(profiles_error)?;
    if let Some(why) = &list.read_error {
        return Err(InspectError::ProfilesRead {
            path: list.path.clone(),
            reason: why.clone(),
        });
    }
    Ok(list)
}

/// The error for a `profiles` file that cannot be opened.
fn profiles_error(e: SystemError) -> InspectError {
    match e {
        SystemError::PermissionDenied { path, .. } => InspectError::ProfilesPermission { path },
        SystemError::Io { path, source } => InspectError::ProfilesRead {
            path,
            reason: crate::system::strerror(&source),
        },
        other => InspectError::System(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_errors_name_the_path() {
        let e = SystemError::io(
            "/s/profiles",
            std::io::Error::from_raw_os_error(13), // EACCES
        );
        let m = profiles_error(e).to_string();
        assert!(
            m.starts_with("cannot read /s/profiles: permission denied"),
            "{m}"
        );
        let e = SystemError::io("/s/profiles", std::io::Error::from_raw_os_error(2));
        assert_eq!(
            profiles_error(e).to_string(),
            "cannot read /s/profiles: No such file or directory"
        );
    }
}
