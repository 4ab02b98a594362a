//! Exit status of `aa-status` (upstream's `AA_EXIT_*` constants, documented in aa-status(8)).

use super::StatusError;

/// The exit status of `aa-status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExitStatus {
    /// 0: success (AppArmor enabled, policy listed).
    Enabled = 0,
    /// 1: AppArmor not present or not enabled; also a usage error.
    Disabled = 1,
    /// 2: no policy loaded.
    NoPolicy = 2,
    /// 3: the AppArmor filesystem is not mounted (no control).
    NoControl = 3,
    /// 4: the profile list cannot be read (permission or other open error).
    NoPermission = 4,
    /// 42: internal error (a filter that does not compile, a failed process scan).
    InternalError = 42,
}

impl ExitStatus {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(e: ExitStatus) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

impl From<&StatusError> for ExitStatus {
    /// The one mapping from errors to exit codes.
    fn from(e: &StatusError) -> Self {
        match e {
            StatusError::NotPresent { .. } => ExitStatus::Disabled,
            StatusError::NoSecurityfs { .. } => ExitStatus::NoControl,
            StatusError::ProfilesPermission { .. } | StatusError::ProfilesOpen { .. } => {
                ExitStatus::NoPermission
            }
            StatusError::Processes(_) => ExitStatus::InternalError,
        }
    }
}
