use std::process::ExitCode;

use graphbridge::{config, convert, logging, server};

// Why mimalloc, and why without transparent huge pages: Cargo.toml and BENCHMARKS.md §4.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let command = match config::parse(std::env::args_os(), |name| std::env::var(name).ok()) {
        Ok(command) => command,
        Err(error) => error.exit(),
    };
    match command {
        config::Command::Serve(config) => {
            graphbridge::malloc::tune();
            logging::init(config.log_format);
            let workers = match config.worker_threads {
                0 => std::thread::available_parallelism().map_or(1, usize::from),
                n => n.into(),
            };
            // Large translations run on the blocking pool and are CPU-bound: more threads than
            // cores would add no speed, only translations held in memory at once.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .max_blocking_threads(workers)
                .enable_all()
                .build()
                .expect("tokio runtime");
            let served = runtime.block_on(async {
                let signal = server::termination_signal()?;
                server::Bound::new(*config)?.serve(signal).await
            });
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(%error, "graphbridge stopped");
                    ExitCode::FAILURE
                }
            }
        }
        config::Command::Convert { direction } => {
            let converted = convert::read_stdin().and_then(|input| {
                convert::convert(&direction, &input, &mut std::io::stdout().lock(), &mut std::io::stderr().lock())
            });
            match converted {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("graphbridge convert: {error}");
                    // One violation is the message already.
                    let violations = error.violations();
                    for violation in violations.iter().skip(usize::from(violations.len() == 1)).take(1000) {
                        eprintln!("  {}: {}", violation.field, violation.description);
                    }
                    ExitCode::FAILURE
                }
            }
        }
    }
}
