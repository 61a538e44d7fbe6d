//! Storage benchmarks of issue #3 point 7 (`harness = false`; prints figures, asserts nothing):
//!
//! - applying approved sync items (half creates, half updates of existing contacts, each with its
//!   provider link, audit row and item result) through `SyncRunStore::apply_batch` in batches,
//!   against a one-item-per-call loop over the same kind of items, measured in the same run;
//! - job queue throughput: claim + complete with 4 concurrent workers.
//!
//! Runs on SQLite (a temp file) always, and on PostgreSQL when `BENCH_DATABASE_URL` (or
//! `TEST_DATABASE_URL`) names a server: a uuid-named database is created and dropped. Sizes:
//! `BENCH_ITEMS` (default 100000), `BENCH_LOOP_ITEMS` (default 5000), `BENCH_JOBS` (default 20000).
//! Selection, for quick iterations: `BENCH_BACKEND` = `sqlite`, `postgres` or `all` (default) and
//! `BENCH_PARTS` = a comma list of `apply`, `loop`, `jobs` (default all three). Batches:
//! `BENCH_BATCH` items each (default 5000), `BENCH_STREAMS` in flight at once (default: the store's
//! `apply_concurrency`, 3 on PostgreSQL with this pool, 1 on SQLite; when more than 1, a run with
//! one at a time follows). For experiments, `BENCH_SETUP_SQL` is run on the PostgreSQL bench
//! database after the migrations.
#![allow(clippy::unwrap_used, clippy::print_stdout, reason = "a benchmark binary: fail loudly, print figures")]

/// The allocator the `rolodex` binaries use.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use rolodex_domain::ports::SystemClock;
use rolodex_domain::ports::storage::{
    Actor, ApplyBatch, ApplyChange, ApplyOp, ConnectionStore, ItemDecision, JobQueue, NewJob, NewSyncItem, NewSyncRun,
    ProviderLink, ReviewState, SyncKind, SyncRunStore, SyncStatus,
};
use rolodex_domain::{ConnectionId, ContactId, IncomingContact, OrgId, SyncItemId, SyncRunId};
use rolodex_store::{Store, StoreConfig, TokenCipher};
use rolodex_testkit::store::contract::{new_connection, person};
use time::OffsetDateTime;

const BATCH: usize = 5000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn open(url: String) -> Store {
    Store::connect_with_clock(
        StoreConfig { url, max_connections: 8, cipher: TokenCipher::from_bytes([7; 32]) },
        Arc::new(SystemClock),
    )
    .await
    .unwrap()
}

fn fields(i: usize) -> rolodex_domain::ContactFields {
    person(&format!("Given{i}"), &format!("Family{i}"), Some(&format!("p{i}@bench.example")), None)
}

fn link(conn: ConnectionId, i: usize) -> ProviderLink {
    ProviderLink {
        contact_id: ContactId::new_v7(),
        connection_id: conn,
        external_id: format!("ext-{i}"),
        external_version: Some("1".to_owned()),
        snapshot: None,
        snapshot_hash: Some(format!("h{i}")),
        remote_updated_at: None,
        synced_at: OffsetDateTime::UNIX_EPOCH,
    }
}

async fn new_run(store: &Store, org: OrgId) -> SyncRunId {
    let run = NewSyncRun {
        id: SyncRunId::new_v7(),
        user_id: None,
        connection_id: None,
        provider: "bench".to_owned(),
        kind: SyncKind::Manual,
        status: SyncStatus::Executing,
        filters: serde_json::json!({}),
    };
    store.create_run(org, run).await.unwrap().id
}

/// A run of `n` approved items over a fresh organisation: `n / 2` contacts exist already (they
/// get updates), `n - n / 2` are new. Returns the org and the changes, ready to apply.
async fn prepare(store: &Store, n: usize, tag: &str) -> (OrgId, SyncRunId, Vec<ApplyChange>) {
    let org = OrgId::new_v7();
    let conn = store.create_connection(org, new_connection("ghl", &format!("bench-{tag}"))).await.unwrap().id;
    // Existing contacts, created through a batch (not timed).
    let existing = n / 2;
    let seed_run = new_run(store, org).await;
    let mut ids = Vec::with_capacity(existing);
    let mut seed_items = Vec::with_capacity(existing);
    let mut seed_changes = Vec::with_capacity(existing);
    for i in 0..existing {
        let (item, id) = (SyncItemId::new_v7(), ContactId::new_v7());
        ids.push(id);
        seed_items.push(item_of(item, i));
        seed_changes.push(ApplyChange { item_id: item, op: ApplyOp::Create { id, fields: fields(i) }, link: None });
    }
    store.add_items(org, seed_run, seed_items).await.unwrap();
    for chunk in seed_changes.chunks(BATCH) {
        let batch = ApplyBatch {
            run_id: seed_run,
            actor: Actor::System("bench".to_owned()),
            changes: chunk.to_vec(),
            cursor: None,
            jobs: vec![],
            known: vec![],
        };
        store.apply_batch(org, batch).await.unwrap();
    }
    // The measured run.
    let run = new_run(store, org).await;
    let mut items = Vec::with_capacity(n);
    let mut changes = Vec::with_capacity(n);
    for i in 0..n {
        let item = SyncItemId::new_v7();
        items.push(item_of(item, i));
        let op = if i < existing {
            let mut f = fields(i);
            f.company = Some("Updated Co".to_owned());
            ApplyOp::Update { id: *ids.get(i).unwrap(), expected_version: 1, fields: f }
        } else {
            ApplyOp::Create { id: ContactId::new_v7(), fields: fields(i) }
        };
        changes.push(ApplyChange { item_id: item, op, link: Some(link(conn, i)) });
    }
    for chunk in items.chunks(20_000) {
        store.add_items(org, run, chunk.to_vec()).await.unwrap();
    }
    (org, run, changes)
}

fn item_of(id: SyncItemId, i: usize) -> NewSyncItem {
    NewSyncItem {
        id,
        incoming: IncomingContact { external_id: Some(format!("ext-{i}")), fields: fields(i), ..Default::default() },
        decision: ItemDecision::Create,
        target_contact_id: None,
        confidence: 1.0,
        diff: serde_json::json!([]),
        recommendation: serde_json::json!({}),
        review: ReviewState::Approved,
    }
}

async fn apply(
    store: &Store,
    org: OrgId,
    run: SyncRunId,
    changes: Vec<ApplyChange>,
    per: usize,
    streams: usize,
) -> (usize, Duration) {
    let n = changes.len();
    let start = Instant::now();
    let mut written = 0;
    // Up to `streams` batches in flight, each its own transaction, as execute keeps them.
    let mut inflight = std::collections::VecDeque::new();
    for chunk in changes.chunks(per) {
        let batch = ApplyBatch {
            run_id: run,
            actor: Actor::System("bench".to_owned()),
            changes: chunk.to_vec(),
            cursor: None,
            jobs: vec![],
            known: vec![],
        };
        if inflight.len() >= streams.max(1) {
            let done: tokio::task::JoinHandle<usize> = inflight.pop_front().unwrap();
            written += done.await.unwrap();
        }
        let store = store.clone();
        inflight.push_back(tokio::spawn(async move { store.apply_batch(org, batch).await.unwrap().contacts.len() }));
    }
    for done in inflight {
        written += done.await.unwrap();
    }
    let took = start.elapsed();
    assert_eq!(written, n, "every item wrote its contact");
    (n, took)
}

/// The load average (`/proc/loadavg`, first three fields), printed beside every figure: the
/// benchmark machine is shared, and a figure means little without it.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_owned())
}

/// Whether `part` is selected by `BENCH_PARTS` (a comma list; unset means every part).
fn part(name: &str) -> bool {
    std::env::var("BENCH_PARTS").map_or(true, |v| v.split(',').any(|p| p.trim() == name))
}

/// Whether `backend` is selected by `BENCH_BACKEND` (`sqlite`, `postgres` or `all`, the default).
fn backend_selected(name: &str) -> bool {
    std::env::var("BENCH_BACKEND").map_or(true, |v| v == "all" || v == name)
}

async fn bench_apply(store: &Store, backend: &str) {
    let n = env_usize("BENCH_ITEMS", 100_000);
    let loop_n = env_usize("BENCH_LOOP_ITEMS", 5000);
    let mut batched = None;
    let per = env_usize("BENCH_BATCH", BATCH);
    let advised = store.apply_concurrency();
    let streams = env_usize("BENCH_STREAMS", advised);
    if part("apply") {
        // The rate execute gets (as many batches in flight as the store advises), and, when that
        // is more than one, one batch at a time beside it.
        let mut runs = vec![streams];
        if streams > 1 {
            runs.push(1);
        }
        for streams in runs {
            let (org, run, changes) = prepare(store, n, &format!("{backend}-batched-{streams}")).await;
            let (done, took) = apply(store, org, run, changes, per, streams).await;
            let rate = done as f64 / took.as_secs_f64();
            batched.get_or_insert(rate);
            println!(
                "[{backend}] apply_batch: {done} items ({} creates, {} updates, each with link + audit row + item result) \
                 in batches of {per}, {streams} in flight: {:.2} s = {rate:.0} contacts/s (load {})",
                done - done / 2,
                done / 2,
                took.as_secs_f64(),
                load()
            );
        }
    }
    if part("loop") {
        let (org, run, changes) = prepare(store, loop_n, &format!("{backend}-loop")).await;
        let (done, took) = apply(store, org, run, changes, 1, 1).await;
        let one = done as f64 / took.as_secs_f64();
        let ratio = batched.map_or_else(|| "n/a (apply not run)".to_owned(), |b| format!("{:.1}x", b / one));
        println!(
            "[{backend}] one item per call: {done} items in {:.2} s = {one:.0} contacts/s; batched / one-at-a-time = {ratio} (load {})",
            took.as_secs_f64(),
            load()
        );
    }
}

async fn bench_jobs(store: Arc<Store>, backend: &str) {
    let n = env_usize("BENCH_JOBS", 20_000);
    let org = OrgId::new_v7();
    let run = new_run(&store, org).await;
    for start in (0..n).step_by(2000) {
        let jobs = (start..(start + 2000).min(n))
            .map(|i| NewJob::new("bench", serde_json::json!({ "i": i })).on_queue("bench"))
            .collect();
        let batch = ApplyBatch {
            run_id: run,
            actor: Actor::System("bench".to_owned()),
            changes: vec![],
            cursor: None,
            jobs,
            known: vec![],
        };
        store.apply_batch(org, batch).await.unwrap();
    }
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("bench-{w}");
            let mut done = 0usize;
            loop {
                let jobs = store.claim(&["bench"], &name, Duration::from_secs(60), 10).await.unwrap();
                if jobs.is_empty() {
                    return done;
                }
                for j in jobs {
                    store.complete(j.org_id, j.id, &name).await.unwrap();
                    done += 1;
                }
            }
        }));
    }
    let mut done = 0;
    for w in workers {
        done += w.await.unwrap();
    }
    let took = started.elapsed();
    assert_eq!(done, n, "every job completed once");
    println!(
        "[{backend}] job queue: {done} jobs claimed (10 per claim) and completed by 4 workers in {:.2} s = {:.0} jobs/s (load {})",
        took.as_secs_f64(),
        done as f64 / took.as_secs_f64(),
        load()
    );
}

async fn run_all(store: Store, backend: &str) {
    bench_apply(&store, backend).await;
    if part("jobs") {
        bench_jobs(Arc::new(store), backend).await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; there are no tests here.
    }
    let dir = tempfile::tempdir().unwrap();
    if backend_selected("sqlite") {
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        run_all(open(url).await, "sqlite").await;
    }
    if !backend_selected("postgres") {
        return;
    }
    let Ok(admin) = std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL")) else {
        println!("[postgres] skipped: set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server");
        return;
    };
    let name = format!("rolodex_bench_{}", uuid::Uuid::new_v4().simple());
    let mut c = AsyncPgConnection::establish(&admin).await.unwrap();
    c.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let store = open(format!("{base}/{name}")).await;
    // Experiments: SQL run on the bench database after the migrations (say, a schema variant).
    if let Ok(sql) = std::env::var("BENCH_SETUP_SQL") {
        let mut db = AsyncPgConnection::establish(&format!("{base}/{name}")).await.unwrap();
        db.batch_execute(&sql).await.unwrap();
        println!("[postgres] BENCH_SETUP_SQL: {sql}");
    }
    run_all(store, "postgres").await;
    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.unwrap();
}
