//! `aactl`: inspect and manage AppArmor. All logic lives in [`apparmor::cli::aactl`].

/// mimalloc instead of the C library's allocator: `aactl log` parses on several threads and
/// frees on one what another allocated; glibc's arenas made that a fifth of the CPU time of
/// `aactl log --format json` (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    apparmor::cli::aactl::main()
}
