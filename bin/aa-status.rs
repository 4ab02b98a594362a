//! `aa-status`: drop-in replacement for AppArmor's aa-status(8).
//! All logic lives in [`apparmor::cli::aa_status`]; this file only connects the process to it.
fn main() -> std::process::ExitCode {
    apparmor::cli::aa_status::main()
}
