use std::process::ExitCode;

use graphbridge::{config, convert, logging, server};

fn main() -> ExitCode {
    let command = match config::parse(std::env::args_os(), |name| std::env::var(name).ok()) {
        Ok(command) => command,
        Err(error) => error.exit(),
    };
    match command {
        config::Command::Serve(config) => {
            logging::init(config.log_format);
            let mut runtime = tokio::runtime::Builder::new_multi_thread();
            if config.worker_threads > 0 {
                runtime.worker_threads(config.worker_threads.into());
            }
            let runtime = runtime.enable_all().build().expect("tokio runtime");
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
