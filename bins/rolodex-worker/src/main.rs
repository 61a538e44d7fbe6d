//! `rolodex-worker` binary: parses the flags, sets up structured logs, opens the store, registers
//! the standard job handlers (`rolodex_runtime::standard_registry`) and runs the worker runtime
//! (`rolodex_runtime::run`) until SIGTERM / Ctrl-C (or, with `--once`, until the due jobs are
//! drained).

/// mimalloc instead of the system allocator: sync and import allocate many short-lived rows and
/// documents, and glibc malloc spent about a third of execute's client time on them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use rolodex_domain::Region;
use rolodex_runtime::{Mode, RuntimeDeps, WorkerConfig, concurrency_with, parse_concurrency, standard_registry};
use rolodex_store::{Store, StoreConfig, TokenCipher};
use secrecy::SecretString;

/// Runs Rolodex background jobs.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// `postgres://…` or `sqlite://path`.
    #[arg(long, env = "ROLODEX_DATABASE_URL")]
    database_url: String,
    /// Base64 of the 32-byte key that encrypts connection tokens at rest.
    #[arg(long, env = "ROLODEX_TOKEN_KEY", hide_env_values = true)]
    token_key: String,
    /// Drain the due jobs and exit.
    #[arg(long)]
    once: bool,
    /// A job kind (its queue) and how many of its jobs run at once: `sync.scheduled=2`. Repeatable.
    /// Overrides the standard queues (`sync.scheduled=1`, `default=4`); other kinds are added.
    #[arg(long = "concurrency", value_name = "KIND=N", value_parser = parse_concurrency)]
    concurrency: Vec<(String, usize)>,
    /// Region (ISO 3166 alpha-2) for phone numbers written without a country code.
    #[arg(long, value_name = "CC", env = "ROLODEX_DEFAULT_REGION", default_value = "US")]
    default_region: String,
    /// Lease per claimed job, in seconds (heartbeats come every third of it).
    #[arg(long, default_value_t = 60)]
    lease_secs: u64,
    /// Wait between claims when nothing is due, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Seconds the jobs in flight get to finish after SIGTERM before they are released.
    #[arg(long, default_value_t = 30)]
    grace_secs: u64,
    /// This worker's id in job leases (default: rolodex-worker-<pid>).
    #[arg(long)]
    worker_id: Option<String>,
    /// `json` or `pretty` (default: pretty on a terminal, JSON otherwise).
    #[arg(long)]
    log_format: Option<String>,
    /// Database pool size.
    #[arg(long, default_value_t = 8)]
    max_connections: usize,
}

fn init_logs(format: Option<&str>) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match format {
        Some("json") => true,
        Some("pretty") => false,
        Some(other) => anyhow::bail!("--log-format must be json or pretty, not `{other}`"),
        None => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init()
    } else {
        builder.init()
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logs(args.log_format.as_deref())?;
    let region = Region::parse(&args.default_region).map_err(|e| anyhow::anyhow!("--default-region: {e}"))?;
    let cipher = TokenCipher::from_base64(&SecretString::from(args.token_key)).context("reading --token-key")?;
    let store = Store::connect(StoreConfig { url: args.database_url, max_connections: args.max_connections, cipher })
        .await
        .context("opening the store")?;
    let deps = RuntimeDeps::new(store.clone(), region).context("building the provider adapters")?;
    let registry = Arc::new(standard_registry(&deps));
    let config = WorkerConfig {
        worker_id: args.worker_id.unwrap_or_else(|| format!("rolodex-worker-{}", std::process::id())),
        queues: concurrency_with(&args.concurrency),
        lease: Duration::from_secs(args.lease_secs.max(1)),
        poll_interval: Duration::from_millis(args.poll_ms.max(10)),
        shutdown_grace: Duration::from_secs(args.grace_secs),
        ..WorkerConfig::default()
    };
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        rolodex_runtime::shutdown_signal().await;
        tracing::info!("shutdown signal received");
        let _ = stop.send(true);
    });
    let mode = if args.once { Mode::Once } else { Mode::UntilShutdown };
    let stats = rolodex_runtime::run(Arc::new(store), registry, config, mode, shutdown).await;
    tracing::info!(?stats, "bye");
    Ok(())
}
