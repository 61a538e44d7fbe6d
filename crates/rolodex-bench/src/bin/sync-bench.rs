//! `sync-bench`: the pull sync end to end on a real store (issue #5, section 5). Seeds `--existing`
//! contacts into a fresh database through the sync service (a first sync of a generated provider
//! account: preview, auto-approved creates, execute), then times [`SyncService::preview`] of
//! `--incoming` contacts from the same account against them (updates of existing contacts through
//! their provider link, near-duplicates written differently, new people), approves the
//! high-confidence items, and times [`SyncService::execute`].
//!
//! The source is in memory but does the adapter's work inside the timed part: each page is parsed
//! from raw strings (names, emails, phones in several formats) into `IncomingContact`s when fetched.
//!
//! For experiments, `BENCH_SETUP_SQL` is run on the PostgreSQL bench database after the seed (so it
//! affects the timed preview and execute, not the seed), and with `BENCH_KEEP_DB` set the PostgreSQL
//! bench database is kept for inspection.
//!
//! ```sh
//! cargo run --release -p rolodex-bench --bin sync-bench -- --backend sqlite
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p rolodex-bench --bin sync-bench -- --backend postgres
//! ```

/// The allocator the `rolodex` binaries use.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use async_trait::async_trait;
use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use rolodex_app::sync::{
    AutoApprove, ExecuteReport, FetchMode, PreviewReport, PreviewRequest, SyncPorts, SyncService, SyncSettings,
};
use rolodex_bench::{cpu_seconds, peak_rss_mib, rss_mib};
use rolodex_domain::ports::storage::{
    AccountStore, Actor, ConnectionSettings, ConnectionStore, ContactStore, NewConnection, SyncKind, Tokens,
};
use rolodex_domain::ports::{ChangePage, ContactSource, FetchRequest, PageToken, ProviderError, SyncCursor, V7Ids};
use rolodex_domain::raw::RawContact;
use rolodex_domain::{ConnectionId, OrgId, Region};
use rolodex_store::{Store, StoreConfig, TokenCipher};
use rolodex_testkit::generate::{GeneratorConfig, generate};

#[derive(Debug, Parser)]
struct Args {
    /// `sqlite` (a temp file), `postgres` (a fresh database next to `BENCH_DATABASE_URL`), or `both`.
    #[arg(long, default_value = "both")]
    backend: String,
    /// Existing contacts (seeded by a first sync).
    #[arg(long, default_value_t = 100_000)]
    existing: usize,
    /// Incoming contacts in the timed preview.
    #[arg(long, default_value_t = 100_000)]
    incoming: usize,
    /// Share of the incoming contacts that are the existing contacts' own provider records, changed
    /// (matched through their provider link).
    #[arg(long, default_value_t = 0.2)]
    update_share: f64,
    /// Share of the other incoming contacts that are near-duplicates of existing people (new
    /// provider records written differently); the rest are new people.
    #[arg(long, default_value_t = 0.5)]
    duplicate_rate: f64,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Contacts per source page.
    #[arg(long, default_value_t = 500)]
    page: usize,
    /// Items applied per transaction (`SyncSettings::apply_batch`).
    #[arg(long, default_value_t = SyncSettings::default().apply_batch)]
    apply_batch: u32,
    /// Batches in flight at once during execute (`SyncSettings::apply_concurrency`; default: the
    /// store's advice).
    #[arg(long)]
    apply_concurrency: Option<usize>,
    /// Items written at a time during preview (`SyncSettings::item_batch`).
    #[arg(long, default_value_t = SyncSettings::default().item_batch)]
    item_batch: usize,
    /// Contacts whose store lookups the preview makes together (`SyncSettings::lookup_batch`).
    #[arg(long, default_value_t = SyncSettings::default().lookup_batch)]
    lookup_batch: usize,
    /// Also time the same preview with one contact looked up at a time (the alternative), first.
    #[arg(long)]
    compare_sequential: bool,
    /// PostgreSQL: skip the `ANALYZE` after the seed (see `Db::analyze`).
    #[arg(long = "no-analyze", action = clap::ArgAction::SetFalse)]
    analyze: bool,
    /// Database pool size.
    #[arg(long, default_value_t = 8)]
    pool: usize,
}

/// A provider account in memory: raw records, parsed page by page when fetched (the adapter's work).
struct RawSource {
    pages: Mutex<Vec<Option<Vec<RawContact>>>>,
    region: Region,
}

impl RawSource {
    fn new(records: Vec<RawContact>, page: usize, region: Region) -> Self {
        let mut pages = Vec::new();
        let mut it = records.into_iter().peekable();
        while it.peek().is_some() {
            pages.push(Some(it.by_ref().take(page.max(1)).collect()));
        }
        Self { pages: Mutex::new(pages), region }
    }
}

#[async_trait]
impl ContactSource for RawSource {
    fn provider(&self) -> &'static str {
        "bench"
    }

    async fn fetch(&self, request: FetchRequest) -> Result<ChangePage, ProviderError> {
        let index = match &request {
            FetchRequest::Full => 0,
            FetchRequest::Page(PageToken(t)) => t.parse().map_err(|_| ProviderError::NotFound(t.clone()))?,
            FetchRequest::Since(_) => return Err(ProviderError::NotFound("no incremental listing".into())),
        };
        let (raw, count) = {
            let mut pages = self.pages.lock().map_err(|_| ProviderError::Transient("poisoned".into()))?;
            let count = pages.len();
            (pages.get_mut(index).and_then(Option::take).unwrap_or_default(), count)
        };
        let upserts = raw.into_iter().map(|r| r.into_incoming(self.region)).collect();
        let last = index + 1 >= count;
        Ok(ChangePage {
            upserts,
            deletions: Vec::new(),
            next_page: (!last).then(|| PageToken((index + 1).to_string())),
            next_cursor: last.then(|| SyncCursor("bench-cursor".into())),
            reset: false,
        })
    }
}

/// The data: the account's records for the first sync, and the records of the timed one.
struct Data {
    seed: Vec<RawContact>,
    incoming: Vec<RawContact>,
    updates: usize,
    duplicates: usize,
}

fn data(args: &Args) -> Data {
    let updates = ((args.incoming as f64) * args.update_share.clamp(0.0, 1.0)).round() as usize;
    let updates = updates.min(args.existing);
    let others = args.incoming - updates;
    let g = generate(&GeneratorConfig {
        seed: args.seed,
        existing: args.existing,
        incoming: others,
        duplicate_rate: args.duplicate_rate,
    });
    let duplicates = g.truth.len();
    // Changed provider records of existing contacts, spread over the account.
    let step = args.existing.checked_div(updates).unwrap_or(1).max(1);
    let mut changed: Vec<RawContact> = g
        .existing
        .iter()
        .step_by(step)
        .take(updates)
        .enumerate()
        .map(|(k, r)| {
            let mut r = r.clone();
            r.job_title = Some(format!("Head of Things {k}"));
            if k % 2 == 0 {
                r.company = Some(format!("Renamed Pty Ltd {}", k % 97));
            }
            r
        })
        .collect();
    // Interleave: the changes among the near-duplicates and new people, as a listing would be.
    let mut incoming = Vec::with_capacity(args.incoming);
    let mut rest = g.incoming.into_iter();
    let mut changed_iter = changed.drain(..);
    let every = args.incoming.checked_div(updates).map_or(usize::MAX, |e| e.max(1));
    for k in 0..args.incoming {
        let next = if k % every == 0 { changed_iter.next().or_else(|| rest.next()) } else { rest.next() };
        match next.or_else(|| changed_iter.next()) {
            Some(r) => incoming.push(r),
            None => break,
        }
    }
    Data { seed: g.existing, incoming, updates, duplicates }
}

/// A fresh database: a temp SQLite file, or a new PostgreSQL database dropped afterwards.
struct Db {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Db {
    fn sqlite() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        Ok(Self { url, _dir: Some(dir), pg: None })
    }

    async fn postgres() -> Result<Self> {
        let admin = std::env::var("BENCH_DATABASE_URL").context("BENCH_DATABASE_URL is not set")?;
        let name = format!("rolodex_sync_bench_{}", uuid::Uuid::new_v4().simple());
        let mut c = AsyncPgConnection::establish(&admin).await.context("connecting to BENCH_DATABASE_URL")?;
        c.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Ok(Self { url: format!("{base}/{name}"), _dir: None, pg: Some((admin, name)) })
    }

    /// PostgreSQL: refreshes the planner's statistics after the bulk seed, as autovacuum does
    /// within a minute of a bulk load (it is off on some machines, the benchmark one included;
    /// without statistics the key lookups scan every key of the organisation).
    async fn analyze(&self) -> Result<()> {
        if self.pg.is_some() {
            let mut c = AsyncPgConnection::establish(&self.url).await?;
            c.batch_execute("ANALYZE").await?;
            if let Ok(sql) = std::env::var("BENCH_SETUP_SQL") {
                c.batch_execute(&sql).await?;
                println!("BENCH_SETUP_SQL: {sql}");
            }
        }
        Ok(())
    }

    async fn drop_pg(&mut self) {
        if let Some((admin, name)) = self.pg.take()
            && let Ok(mut c) = AsyncPgConnection::establish(&admin).await
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
        }
    }
}

struct Timed<T> {
    value: T,
    wall: f64,
    cpu: f64,
}

async fn timed<T, F: std::future::Future<Output = Result<T>>>(f: F) -> Result<Timed<T>> {
    let (t, c) = (Instant::now(), cpu_seconds().unwrap_or(0.0));
    let value = f.await?;
    Ok(Timed { value, wall: t.elapsed().as_secs_f64(), cpu: cpu_seconds().unwrap_or(0.0) - c })
}

fn preview_line(label: &str, t: &Timed<PreviewReport>) -> String {
    let c = &t.value.counts;
    format!(
        "{label:<22} {:>7.2} s  ({:.2} CPU s of this process; {:.0} contacts/s): fetched {}, listed {} \
         (create {}, update {}, merge {}, skip {}, review {}), unchanged {}, auto-approved {}",
        t.wall,
        t.cpu,
        c.fetched as f64 / t.wall,
        c.fetched,
        c.listed,
        c.create,
        c.update,
        c.merge,
        c.skip,
        c.review,
        c.unchanged,
        c.auto_approved
    )
}

fn execute_line(label: &str, t: &Timed<ExecuteReport>) -> String {
    let r = &t.value;
    let applied = r.created + r.updated + r.merged + r.skipped;
    format!(
        "{label:<22} {:>7.2} s  ({:.2} CPU s of this process; {:.0} items/s): created {}, updated {}, merged {}, \
         skipped {}, failed {}, {} batches",
        t.wall,
        t.cpu,
        applied as f64 / t.wall,
        r.created,
        r.updated,
        r.merged,
        r.skipped,
        r.failed,
        r.batches
    )
}

async fn bench(backend: &str, args: &Args, data: &Data) -> Result<()> {
    let mut db = if backend == "postgres" { Db::postgres().await? } else { Db::sqlite()? };
    let result = bench_on(&db, args, data).await;
    if std::env::var_os("BENCH_KEEP_DB").is_none() {
        db.drop_pg().await;
    }
    result
}

async fn bench_on(db: &Db, args: &Args, data: &Data) -> Result<()> {
    let region = Region::parse("AU").map_err(|e| anyhow!("{e}"))?;
    let config =
        StoreConfig { url: db.url.clone(), max_connections: args.pool, cipher: TokenCipher::from_bytes([9; 32]) };
    let store = Store::connect(config).await.map_err(|e| anyhow!("{e}"))?;
    let org = OrgId::new_v7();
    store.create_org(org, "bench").await?;
    let connection = ConnectionId::new_v7();
    let new = NewConnection {
        id: connection,
        user_id: None,
        provider: "bench".into(),
        account: "bench".into(),
        scopes: Vec::new(),
        tokens: Tokens { access_token: None, refresh_token: None, expires_at: None },
        settings: ConnectionSettings::default(),
    };
    store.create_connection(org, new).await?;
    let ports = SyncPorts {
        contacts: Arc::new(store.clone()),
        links: Arc::new(store.clone()),
        runs: Arc::new(store.clone()),
        cursors: Arc::new(store.clone()),
        audit: Arc::new(store.clone()),
        clock: Arc::new(rolodex_domain::ports::SystemClock),
        ids: Arc::new(V7Ids),
    };
    let settings = SyncSettings {
        apply_batch: args.apply_batch,
        item_batch: args.item_batch,
        lookup_batch: args.lookup_batch,
        apply_concurrency: args.apply_concurrency,
        ..SyncSettings::default()
    };
    let sequential = SyncService::new(ports.clone(), SyncSettings { lookup_batch: 1, ..settings });
    let sync = SyncService::new(ports, settings);
    let actor = Actor::System("bench".into());
    println!("backend: {} ({})", store.backend_name(), db.url.rsplit('/').next().unwrap_or_default());

    // Seed: the account's first sync, every contact a high-confidence create.
    let request = |auto| PreviewRequest {
        connection_id: Some(connection),
        mode: FetchMode::Full,
        kind: Some(SyncKind::Manual),
        auto_approve: auto,
        ..PreviewRequest::default()
    };
    let source = RawSource::new(data.seed.clone(), args.page, region);
    let seed_preview = timed(async {
        sync.preview(org, &source, request(AutoApprove::HighConfidence)).await.map_err(anyhow::Error::from)
    })
    .await?;
    println!("{}", preview_line("seed preview", &seed_preview));
    let run = seed_preview.value.run_id;
    let seed_exec = timed(async { sync.execute(org, run, actor.clone()).await.map_err(anyhow::Error::from) }).await?;
    println!("{}", execute_line("seed execute", &seed_exec));
    let existing = store.count_contacts(org).await?;
    if existing != args.existing as u64 {
        bail!("seeded {existing} contacts, expected {}", args.existing);
    }
    if args.analyze {
        let t = Instant::now();
        db.analyze().await?;
        if db.pg.is_some() {
            println!(
                "{:<22} {:>7.2} s  (planner statistics after the bulk seed)",
                "ANALYZE",
                t.elapsed().as_secs_f64()
            );
        }
    }

    // The timed sync (first, if asked, the same preview looking contacts up one at a time; a
    // preview writes no contacts, so both see the same store).
    if args.compare_sequential {
        let source = RawSource::new(data.incoming.clone(), args.page, region);
        let one = timed(async {
            sequential.preview(org, &source, request(AutoApprove::Never)).await.map_err(anyhow::Error::from)
        })
        .await?;
        println!("{}", preview_line("preview, 1 at a time", &one));
    }
    let source = RawSource::new(data.incoming.clone(), args.page, region);
    let rss_before = rss_mib().unwrap_or(f64::NAN);
    let preview =
        timed(async { sync.preview(org, &source, request(AutoApprove::Never)).await.map_err(anyhow::Error::from) })
            .await?;
    println!("{}", preview_line(&format!("preview, {} at a time", args.lookup_batch), &preview));
    let run = preview.value.run_id;
    let approve = timed(async { sync.approve_high_confidence(org, run).await.map_err(anyhow::Error::from) }).await?;
    println!("{:<22} {:>7.2} s  ({} high-confidence items approved)", "approve", approve.wall, approve.value);
    let exec = timed(async { sync.execute(org, run, actor.clone()).await.map_err(anyhow::Error::from) }).await?;
    println!("{}", execute_line("execute", &exec));
    let after = store.count_contacts(org).await?;
    println!(
        "contacts:        {existing} before, {after} after; memory: resident {:.0} MiB before the timed preview, peak {:.0} MiB (whole process)",
        rss_before,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    println!(
        "end to end:      preview {:.1} s + approve {:.1} s + execute {:.1} s = {:.1} s",
        preview.wall,
        approve.wall,
        exec.wall,
        preview.wall + approve.wall + exec.wall
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let backends: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => bail!("--backend must be sqlite, postgres or both, not `{other}`"),
    };
    let t = Instant::now();
    let data = data(&args);
    println!(
        "data: {} existing; {} incoming = {} changed existing records + {} near-duplicates + {} new people \
         (seed {}, generated in {:.1?})",
        data.seed.len(),
        data.incoming.len(),
        data.updates,
        data.duplicates,
        data.incoming.len() - data.updates - data.duplicates,
        args.seed,
        t.elapsed()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    for backend in backends {
        runtime.block_on(bench(backend, &args, &data))?;
    }
    Ok(())
}
