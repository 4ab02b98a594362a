//! `aactl`: inspect and manage AppArmor. All logic lives in [`apparmor::cli::aactl`].
fn main() -> std::process::ExitCode {
    apparmor::cli::aactl::main()
}
