//! `rolodex`: the operator CLI binary. Wiring only: parse the arguments, look at the terminal, run
//! the command from the `rolodex_cli` library, and turn an error into a message and exit code 1.

/// mimalloc instead of the system allocator: sync and import allocate many short-lived rows and
/// documents, and glibc malloc spent about a third of execute's client time on them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use rolodex_cli::{Cli, Console};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let console = Console {
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        progress: std::io::stderr().is_terminal(),
    };
    let mut out = std::io::stdout().lock();
    match rolodex_cli::run(cli, console, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
