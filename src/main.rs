use std::process::ExitCode;

use graphbridge::{config, logging, server};

fn main() -> ExitCode {
    let command = match config::parse(std::env::args_os(), |name| std::env::var(name).ok()) {
        Ok(command) => command,
        Err(error) => error.exit(),
    };
    match command {
        config::Command::Serve(config) => {
            logging::init(config.log_format);
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            let served = runtime.block_on(async {
                let signal = server::termination_signal()?;
                server::Bound::new(config)?.serve(signal).await
            });
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(%error, "graphbridge stopped");
                    eprintln!("graphbridge: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
