//! The command line: [`config`] (flags and `GRAPHBRIDGE_*` variables), [`logging`],
//! [`serve`] and [`convert`].

pub mod config;
pub mod convert;
pub mod graph_args;
pub mod logging;
pub mod serve;

use std::process::ExitCode;

use config::Command;

/// Runs a parsed command.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Serve(config) => {
            logging::init(config.log_format);
            serve::run(&config)
        }
        Command::Convert { direction } => {
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
