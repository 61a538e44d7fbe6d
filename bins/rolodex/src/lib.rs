//! The `rolodex` operator CLI as a library: the clap definitions ([`Cli`]) and one module per
//! command. The binary (`main.rs`) only parses the arguments and calls [`run`]; the end-to-end tests
//! (`tests/`) call [`run_async`] in process with a captured output, so they run exactly the code
//! the binary runs.
//!
//! Commands: `migrate`, `import`, `runs`, `review`, `execute`, `connections`, `sync`, `jobs`, `reindex`, and
//! `match` (in `match_cmd.rs`). Everything but `match` works on the database given by
//! `--database` / `ROLODEX_DATABASE_URL` (default `sqlite://rolodex.db`, created on first use) and
//! in one organisation ([`context`]). The use cases themselves live in `rolodex-app`; this crate
//! wires the store, the provider adapters (`rolodex_runtime::sources`) and the terminal. See
//! `docs/cli.md`.

mod cmd_connections;
mod cmd_import;
mod cmd_jobs;
mod cmd_reindex;
mod cmd_runs;
mod cmd_sync;
pub mod context;
mod match_cmd;
pub mod progress;
mod render;

use std::io::Write;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

pub use crate::context::{Console, DEFAULT_DATABASE_URL, Env};

/// Rolodex: keep a CRM's contacts in step with Microsoft 365, Google Contacts and GoHighLevel.
#[derive(Debug, Parser)]
#[command(name = "rolodex", version, about, propagate_version = true)]
pub struct Cli {
    /// The database: `sqlite://path/to/file.db` (`sqlite:///abs/path`) or `postgres://user@host/db`.
    /// Without it, `sqlite://rolodex.db` in the current directory, created on first use. An
    /// explicit SQLite file must exist (create it with `rolodex migrate`).
    #[arg(long, global = true, env = "ROLODEX_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database: Option<String>,
    /// The organisation to work in (its id). Default: the database's default organisation, created
    /// on first use.
    #[arg(long, global = true, env = "ROLODEX_ORG", value_name = "ID")]
    pub org: Option<String>,
    /// Base64 of the 32-byte key that encrypts connection tokens at rest (needed by `connections`
    /// and `sync`; generate one with `head -c 32 /dev/urandom | base64`).
    #[arg(long, global = true, env = "ROLODEX_TOKEN_KEY", value_name = "KEY", hide_env_values = true)]
    pub token_key: Option<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database if needed and run its pending migrations.
    Migrate,
    /// Import a CSV or vCard file: preview, show the proposed changes, confirm, execute.
    Import(cmd_import::ImportArgs),
    /// List sync runs, or show one with its items and counts.
    Runs(cmd_runs::RunsArgs),
    /// Review a run: approve, reject, override, bulk operations.
    Review(cmd_runs::ReviewArgs),
    /// Apply a run's approved items.
    Execute(cmd_runs::ExecuteArgs),
    /// Provider connections (accounts whose contacts Rolodex syncs).
    Connections(cmd_connections::ConnectionsArgs),
    /// Sync one connection: preview its changes, or preview and apply the high-confidence ones.
    Sync(cmd_sync::SyncArgs),
    /// Background jobs: list them, retry a dead one.
    Jobs(cmd_jobs::JobsArgs),
    /// Rewrite every contact's blocking keys from its fields: after an upgrade that changes how
    /// keys are made (the release notes say so), or as a repair. Safe to interrupt and run again.
    Reindex(cmd_reindex::ReindexArgs),
    /// Match contacts: link an incoming file to an existing one, or find duplicates in one file.
    Match(match_cmd::MatchArgs),
}

/// Runs a command on a new multi-thread runtime (the migration harness needs one).
///
/// # Errors
/// Whatever the command reports, with context for a person.
pub fn run(cli: Cli, console: Console, out: &mut dyn Write) -> Result<()> {
    if let Command::Match(args) = &cli.command {
        return match_cmd::run(args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(run_async(cli, Env { console, ..Env::default() }, out))
}

/// Runs a command inside a multi-thread tokio runtime; `env` says what the terminal can do and,
/// for tests, which clock the store uses.
///
/// # Errors
/// Whatever the command reports, with context for a person.
pub async fn run_async(cli: Cli, env: Env, out: &mut dyn Write) -> Result<()> {
    let database = cli.database.clone();
    let global = context::Global { database, org: cli.org.clone(), token_key: cli.token_key.clone() };
    match cli.command {
        Command::Migrate => context::migrate(&global, out).await,
        Command::Import(args) => cmd_import::run(&global, &env, args, out).await,
        Command::Runs(args) => cmd_runs::runs(&global, &env, args, out).await,
        Command::Review(args) => cmd_runs::review(&global, &env, args, out).await,
        Command::Execute(args) => cmd_runs::execute(&global, &env, args, out).await,
        Command::Connections(args) => cmd_connections::run(&global, &env, args, out).await,
        Command::Sync(args) => cmd_sync::run(&global, &env, args, out).await,
        Command::Jobs(args) => cmd_jobs::run(&global, &env, args, out).await,
        Command::Reindex(args) => cmd_reindex::run(&global, &env, args, out).await,
        Command::Match(args) => match_cmd::run(&args),
    }
}
