//! Why the runtime state could not be inspected. Every variant names the path concerned.

use crate::system::SystemError;
use std::path::PathBuf;

/// An error reading the runtime state (see [`super::preflight`], [`super::read_profiles`],
/// [`super::processes`] and [`super::collect`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// The module directory does not exist: AppArmor is not built into the kernel.
    #[error("AppArmor is not available: {} does not exist", path.display())]
    ModuleMissing {
        /// `<root>/sys/module/apparmor`.
        path: PathBuf,
    },
    /// The module has no `enabled` parameter.
    #[error("AppArmor is not available: {} is missing", path.display())]
    NotAvailable {
        /// The `enabled` parameter file.
        path: PathBuf,
    },
    /// The `enabled` parameter is not `Y`.
    #[error("AppArmor is disabled: {} is not Y (boot with apparmor=1)", path.display())]
    Disabled {
        /// The `enabled` parameter file.
        path: PathBuf,
    },
    /// The `enabled` parameter could not be read.
    #[error("permission denied reading {}", path.display())]
    EnabledPermission {
        /// The `enabled` parameter file.
        path: PathBuf,
    },
    /// No securityfs mount with an apparmor directory.
    #[error(
        "AppArmor is enabled but its filesystem is not mounted: no securityfs entry with an \
         apparmor directory in {}",
        mounts.display()
    )]
    NotMounted {
        /// The mount table that was searched (`<root>/proc/mounts`).
        mounts: PathBuf,
    },
    /// The kernel refused to list the profiles (it does so only for privileged readers).
    #[error(
        "cannot read {}: permission denied (the kernel lists profiles only to root with \
         CAP_MAC_ADMIN)",
        path.display()
    )]
    ProfilesPermission {
        /// The `profiles` file.
        path: PathBuf,
    },
    /// The `profiles` list could not be opened, or reading it stopped part way (a partial
    /// list is never shown as if it were complete).
    #[error("cannot read {}: {reason}", path.display())]
    ProfilesRead {
        /// The `profiles` file.
        path: PathBuf,
        /// The reason, as C's `strerror` words it.
        reason: String,
    },
    /// Any other failure of the host layer (it names its path itself).
    #[error(transparent)]
    System(#[from] SystemError),
}
