//! `rolodex-server`: wiring only. Reads the settings (`rolodex_config::Settings`: `--config` /
//! `ROLODEX_CONFIG`, then `ROLODEX_*`), sets up logs, opens the store (running its migrations), on
//! first start creates the organisation and prints its admin API key once, serves the API
//! (`rolodex_web::router`) and, on SQLite by default, runs the job worker in-process
//! (`rolodex_runtime`). Ctrl-C or SIGTERM stops accepting, lets requests and jobs in flight finish,
//! and exits 0. See `docs/server.md`.

/// mimalloc instead of the system allocator: sync and import allocate many short-lived rows and
/// documents, and glibc malloc spent about a third of execute's client time on them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use async_trait::async_trait;
use rolodex_config::{KeyOrigin, LogFormat, Settings};
use rolodex_domain::Region;
use rolodex_domain::ports::storage::AccountStore as _;
use rolodex_runtime::{Mode, RuntimeDeps, WorkerConfig, concurrency_with, standard_registry};
use rolodex_store::{Store, StoreConfig, TokenCipher};
use rolodex_web::{AppState, Check, Limits, Readiness, StateConfig, WebhookSettings};
use secrecy::ExposeSecret as _;
use tokio::sync::watch;

const USAGE: &str = "rolodex-server [--config FILE]\n\n\
Serves the Rolodex API. With no settings it uses ./rolodex.db (SQLite), listens on 127.0.0.1:8080 and runs the\n\
job worker in-process. Settings come from a TOML file (--config or ROLODEX_CONFIG) and ROLODEX_* variables;\n\
see docs/server.md.";

/// `--config FILE` (or `--config=FILE`), `--help`, `--version`.
fn config_arg() -> anyhow::Result<Option<Option<PathBuf>>> {
    let mut args = std::env::args().skip(1);
    let mut config = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("rolodex-server {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--config" => config = Some(PathBuf::from(args.next().ok_or_else(|| anyhow!("--config needs a FILE"))?)),
            other => match other.strip_prefix("--config=") {
                Some(path) => config = Some(PathBuf::from(path)),
                None => anyhow::bail!("unknown argument `{other}`\n\n{USAGE}"),
            },
        }
    }
    Ok(Some(config))
}

fn init_logs(settings: &Settings) {
    let filter = settings
        .log
        .filter
        .as_deref()
        .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        .or_else(|| tracing_subscriber::EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    let json = match settings.log.format {
        Some(LogFormat::Json) => true,
        Some(LogFormat::Pretty) => false,
        None => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// `/readyz`: the database answers, and every migration this binary embeds is applied (checked on
/// each call: a database reverted or replaced under a running server is reported).
struct StoreReadiness {
    store: Store,
    embedded_migrations: usize,
}

#[async_trait]
impl Readiness for StoreReadiness {
    async fn check(&self) -> Vec<Check> {
        let database = match self.store.list_orgs().await {
            Ok(_) => {
                Check { name: "database".into(), ok: true, detail: format!("{} answers", self.store.backend_name()) }
            }
            Err(e) => Check { name: "database".into(), ok: false, detail: rolodex_web::error::chain(&e) },
        };
        let migrations = match self.store.pending_migrations().await {
            Ok(pending) if pending.is_empty() => Check {
                name: "migrations".into(),
                ok: true,
                detail: format!("all {} migrations applied", self.embedded_migrations),
            },
            Ok(pending) => Check {
                name: "migrations".into(),
                ok: false,
                detail: format!(
                    "{} migration(s) not applied ({}): restart the server or run `rolodex migrate`",
                    pending.len(),
                    pending.join(", ")
                ),
            },
            Err(e) => Check { name: "migrations".into(), ok: false, detail: rolodex_web::error::chain(&e) },
        };
        vec![database, migrations]
    }
}

/// Runs the in-process job worker until `stop` turns true.
fn spawn_worker(
    deps: &RuntimeDeps,
    settings: &Settings,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<rolodex_runtime::WorkerStats> {
    let registry = Arc::new(standard_registry(deps));
    let config = WorkerConfig {
        worker_id: format!("rolodex-server-{}", std::process::id()),
        queues: concurrency_with(&settings.worker.concurrency),
        shutdown_grace: Duration::from_secs(10),
        ..WorkerConfig::default()
    };
    let queue = Arc::new(deps.store.clone());
    tokio::spawn(rolodex_runtime::run(queue, registry, config, Mode::UntilShutdown, stop))
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let region = Region::parse(&settings.default_region).map_err(|e| anyhow!("default_region: {e}"))?;
    let key = settings.resolve_token_key()?;
    match &key.origin {
        KeyOrigin::Configured => tracing::info!("token encryption key from the settings"),
        KeyOrigin::File(p) => tracing::info!(file = %p.display(), "token encryption key read"),
        KeyOrigin::Generated(p) => {
            tracing::info!(file = %p.display(), "token encryption key generated (keep this file with the database)")
        }
    }
    let cipher = TokenCipher::from_base64(&key.key).context("reading the token encryption key")?;
    let url = settings.database.redacted_url();
    let store = Store::connect(StoreConfig {
        url: settings.database.url.clone(),
        max_connections: settings.database.max_connections,
        cipher,
    })
    .await
    .with_context(|| format!("opening database `{url}`"))?;
    tracing::info!(database = %url, backend = store.backend_name(), "database ready");

    let deps = RuntimeDeps::new(store.clone(), region).context("building the provider adapters")?;
    let webhooks = WebhookSettings::highlevel(
        settings.ghl.webhook_public_key.as_deref(),
        Duration::from_secs(settings.ghl.webhook_max_skew_secs),
        region,
    )
    .context("reading ghl.webhook_public_key")?;
    let readiness = StoreReadiness {
        store: store.clone(),
        embedded_migrations: rolodex_store::migration_names(store.backend_name()).len(),
    };
    let state = AppState::new(
        store.clone(),
        StateConfig {
            sources: Arc::new(deps.sources.clone()),
            readiness: Arc::new(readiness),
            clock: deps.clock.clone(),
            ids: deps.ids.clone(),
            sync: deps.settings,
            webhooks,
            limits: Limits { api: settings.server.body_limit, webhook: settings.server.webhook_body_limit },
            region,
        },
    );

    if let Some(first) = rolodex_web::bootstrap::first_start(&store, &*deps.ids).await.context("first start")? {
        tracing::info!(org = %first.org, key = %first.key, "first start: organisation and admin API key created");
        println!("First start: created organisation {} and an admin API key (shown only this once):", first.org);
        println!("API key: {}", first.secret.expose_secret());
    }

    let listener = tokio::net::TcpListener::bind(settings.server.listen)
        .await
        .with_context(|| format!("listening on {}", settings.server.listen))?;
    let addr = listener.local_addr().context("reading the listen address")?;
    println!("Listening on http://{addr}");

    let (stop, stopped) = watch::channel(false);
    let stop = Arc::new(stop);
    let worker = if settings.runs_worker() {
        tracing::info!("running the job worker in-process");
        Some(spawn_worker(&deps, &settings, stopped))
    } else {
        tracing::info!("no in-process worker: run rolodex-worker (or set ROLODEX_WORKER=on)");
        None
    };
    let signal_stop = stop.clone();
    let served = axum::serve(listener, rolodex_web::router(state))
        .with_graceful_shutdown(async move {
            rolodex_runtime::shutdown_signal().await;
            tracing::info!("shutting down: finishing requests and jobs in flight");
            let _ = signal_stop.send(true);
        })
        .await;
    let _ = stop.send(true);
    if let Some(worker) = worker {
        match worker.await {
            Ok(stats) => tracing::info!(?stats, "worker stopped"),
            Err(e) => tracing::error!(error = %e, "worker task failed"),
        }
    }
    served.context("serving HTTP")?;
    tracing::info!("bye");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match config_arg() {
        Ok(Some(config)) => config,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let settings = match Settings::load(config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs(&settings);
    match serve(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "rolodex-server failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
