//! `rolodex`: the operator CLI. Wiring only: each subcommand lives in its own module and calls
//! the library crates.

mod match_cmd;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Rolodex: keep a CRM's contacts in step with Microsoft 365, Google Contacts and GoHighLevel.
#[derive(Debug, Parser)]
#[command(name = "rolodex", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Match contacts: link an incoming file to an existing one, or find duplicates in one file.
    Match(match_cmd::MatchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Match(args) => match_cmd::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
