//! `pulse-agent` binary: parse the command line, run, map the outcome to an exit code
//! (0 success, 1 runtime failure, 2 bad usage).

use std::path::Path;
use std::process::ExitCode;

use pulse_agent::cli::{self, Command, DEFAULT_TOKEN_FILE, USAGE};

fn main() -> ExitCode {
    let args = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    let env = |key: &str| std::env::var(key).ok();
    match cli::parse(args, env, Path::new(DEFAULT_TOKEN_FILE)) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("pulse-agent {}", pulse_agent::VERSION);
            ExitCode::SUCCESS
        }
        Ok(Command::Run(config)) => match pulse_agent::run::run(config) {
            0 => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        },
        Err(e) => {
            eprintln!("pulse-agent: {e}");
            ExitCode::from(2)
        }
    }
}
