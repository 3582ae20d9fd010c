use std::process::ExitCode;

use graphbridge::cli::{self, config};

mod malloc;

// Why mimalloc, and why without transparent huge pages: Cargo.toml and BENCHMARKS.md §4.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let command = match config::parse(std::env::args_os(), |name| std::env::var(name).ok()) {
        Ok(command) => command,
        Err(error) => error.exit(),
    };
    if matches!(command, config::Command::Serve(_)) {
        malloc::tune();
    }
    cli::run(command)
}
