//! Integration tests of the worker runtime against the real job queue (`rolodex-store` on a
//! temporary SQLite file): outcomes, retries and dead jobs, per-kind concurrency, recurring
//! schedules, the shutdown rules, a worker on a current-thread runtime, and the standard registry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rolodex_app::jobs::{JobFailure, JobHandler};
use rolodex_domain::OrgId;
use rolodex_domain::Region;
use rolodex_domain::ports::Clock;
use rolodex_domain::ports::storage::{Job, JobQueue, JobState, NewJob, Schedule};
use rolodex_runtime::{Mode, Registry, RuntimeDeps, WorkerConfig, WorkerStats};
use rolodex_store::{Store, StoreConfig, TokenCipher};
use time::OffsetDateTime;
use tokio::sync::watch;

struct TestClock(Mutex<OffsetDateTime>);

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TestClock {
    fn advance(&self, by: time::Duration) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }
}

struct Env {
    store: Arc<Store>,
    clock: Arc<TestClock>,
    org: OrgId,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
    let clock = Arc::new(TestClock(Mutex::new(OffsetDateTime::now_utc())));
    let config = StoreConfig { url, max_connections: 4, cipher: TokenCipher::from_bytes([7; 32]) };
    let store = Store::connect_with_clock(config, clock.clone()).await.expect("store");
    Env { store: Arc::new(store), clock, org: OrgId::new_v7(), _dir: dir }
}

/// Runs what the payload says: `{"fail": "transient" | "retry_now" | "permanent", "sleep_ms": n}`.
#[derive(Default)]
struct Scripted {
    runs: AtomicUsize,
    running: AtomicUsize,
    max_running: AtomicUsize,
}

#[async_trait]
impl JobHandler for Scripted {
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        if let Some(ms) = job.payload.get("sleep_ms").and_then(serde_json::Value::as_u64) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        match job.payload.get("fail").and_then(serde_json::Value::as_str) {
            Some("transient") => Err(JobFailure::transient("try later")),
            Some("retry_now") => {
                Err(JobFailure { retry_after: Some(Duration::ZERO), ..JobFailure::transient("again") })
            }
            Some("permanent") => Err(JobFailure::permanent("bad payload")),
            _ => Ok(()),
        }
    }
}

fn config(queues: &[(&str, usize)]) -> WorkerConfig {
    WorkerConfig {
        worker_id: "test-worker".into(),
        queues: queues.iter().map(|(q, n)| ((*q).to_owned(), *n)).collect(),
        poll_interval: Duration::from_millis(20),
        ..WorkerConfig::default()
    }
}

async fn enqueue(e: &Env, kind: &str, payload: serde_json::Value, attempts: u32) {
    e.store.enqueue(e.org, NewJob::new(kind, payload).on_queue(kind).max_attempts(attempts)).await.expect("enqueue");
}

async fn count(e: &Env, state: JobState) -> usize {
    e.store.list_jobs(e.org, state, 100).await.expect("list").len()
}

async fn run_once(e: &Env, registry: Registry, queues: &[(&str, usize)]) -> WorkerStats {
    let (_stop, shutdown) = watch::channel(false);
    rolodex_runtime::run(e.store.clone(), Arc::new(registry), config(queues), Mode::Once, shutdown).await
}

#[tokio::test(flavor = "multi_thread")]
async fn once_drains_due_jobs_with_retries_and_dead_jobs() {
    let e = env().await;
    let h = Arc::new(Scripted::default());
    for _ in 0..3 {
        enqueue(&e, "test", serde_json::json!({}), 3).await;
    }
    enqueue(&e, "test", serde_json::json!({ "fail": "retry_now" }), 2).await;
    enqueue(&e, "test", serde_json::json!({ "fail": "permanent" }), 5).await;
    enqueue(&e, "test", serde_json::json!({ "fail": "transient" }), 5).await;
    e.store.enqueue(e.org, NewJob::new("unknown", serde_json::json!({})).on_queue("test")).await.expect("enqueue");

    let stats = run_once(&e, Registry::new().with("test", h.clone()), &[("test", 2)]).await;
    assert_eq!(
        (stats.completed, stats.retried, stats.dead),
        (3, 2, 3),
        "retry_now: retried then dead; permanent and unknown kind: dead; transient: retried, not due yet"
    );
    assert_eq!(count(&e, JobState::Completed).await, 3);
    assert_eq!(count(&e, JobState::Retryable).await, 1, "the backoff keeps it for later");
    let dead = e.store.list_jobs(e.org, JobState::Dead, 10).await.expect("list");
    let mut errors: Vec<&str> = dead.iter().filter_map(|j| j.last_error.as_deref()).collect();
    errors.sort_unstable();
    assert_eq!(errors, ["again", "bad payload", "no handler for job kind `unknown` on this worker"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_kind_runs_at_most_its_concurrency() {
    let e = env().await;
    let (slow, fast) = (Arc::new(Scripted::default()), Arc::new(Scripted::default()));
    for _ in 0..6 {
        enqueue(&e, "slow", serde_json::json!({ "sleep_ms": 80 }), 3).await;
        enqueue(&e, "fast", serde_json::json!({ "sleep_ms": 80 }), 3).await;
    }
    let registry = Registry::new().with("slow", slow.clone()).with("fast", fast.clone());
    let stats = run_once(&e, registry, &[("slow", 2), ("fast", 3)]).await;
    assert_eq!(stats.completed, 12);
    assert_eq!(slow.max_running.load(Ordering::SeqCst), 2);
    assert_eq!(fast.max_running.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn due_schedules_become_jobs() {
    let e = env().await;
    let h = Arc::new(Scripted::default());
    let job = NewJob::new("test", serde_json::json!({})).on_queue("test");
    e.store.upsert_schedule(e.org, "tick", Schedule::EveryMinutes(5), job).await.expect("schedule");
    assert_eq!(run_once(&e, Registry::new().with("test", h.clone()), &[("test", 1)]).await.completed, 0);
    e.clock.advance(time::Duration::minutes(6));
    assert_eq!(run_once(&e, Registry::new().with("test", h.clone()), &[("test", 1)]).await.completed, 1);
    assert_eq!(h.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_shutdown_it_stops_claiming_and_finishes_what_is_in_flight() {
    let e = env().await;
    let h = Arc::new(Scripted::default());
    for _ in 0..3 {
        enqueue(&e, "test", serde_json::json!({ "sleep_ms": 300 }), 3).await;
    }
    let (stop, shutdown) = watch::channel(false);
    let registry = Arc::new(Registry::new().with("test", h.clone()));
    let worker = tokio::spawn(rolodex_runtime::run(
        e.store.clone(),
        registry,
        config(&[("test", 1)]),
        Mode::UntilShutdown,
        shutdown,
    ));
    while h.runs.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).expect("signal");
    let stats = worker.await.expect("worker");
    assert_eq!((stats.completed, stats.released), (1, 0), "the job in flight finished");
    assert_eq!(h.runs.load(Ordering::SeqCst), 1, "nothing claimed after the signal");
    assert_eq!(count(&e, JobState::Available).await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_that_outlast_the_grace_period_are_released() {
    let e = env().await;
    let h = Arc::new(Scripted::default());
    enqueue(&e, "test", serde_json::json!({ "sleep_ms": 10_000 }), 3).await;
    let (stop, shutdown) = watch::channel(false);
    let cfg = WorkerConfig { shutdown_grace: Duration::from_millis(100), ..config(&[("test", 1)]) };
    let worker = tokio::spawn(rolodex_runtime::run(
        e.store.clone(),
        Arc::new(Registry::new().with("test", h.clone())),
        cfg,
        Mode::UntilShutdown,
        shutdown,
    ));
    while h.runs.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).expect("signal");
    let stats = worker.await.expect("worker");
    assert_eq!((stats.completed, stats.released), (0, 1));
    let back = e.store.list_jobs(e.org, JobState::Retryable, 10).await.expect("list");
    assert_eq!(back.len(), 1, "released back to the queue");
    assert!(back[0].last_error.as_deref().is_some_and(|m| m.starts_with("released")));
    assert!(back[0].run_at <= e.clock.now(), "due again at once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_sync_schedule_enqueues_sync_jobs_on_their_own_queue() {
    use rolodex_app::jobs::ScheduledSyncJob;
    let e = env().await;
    let conn = rolodex_domain::ConnectionId::new_v7();
    ScheduledSyncJob::schedule(&*e.store, e.org, conn, Schedule::EveryMinutes(15)).await.expect("schedule");
    e.clock.advance(time::Duration::minutes(16));
    let stand_in = Arc::new(Scripted::default());
    let registry = Registry::new().with(ScheduledSyncJob::KIND, stand_in.clone());
    let stats = run_once(&e, registry, &[(ScheduledSyncJob::KIND, 1)]).await;
    assert_eq!(stats.completed, 1);
    let done = e.store.list_jobs(e.org, JobState::Completed, 10).await.expect("list");
    assert_eq!(done[0].payload, serde_json::json!({ "connection": conn.to_string() }));
    assert_eq!(done[0].queue, ScheduledSyncJob::KIND);
}

#[test]
fn the_worker_runs_on_a_current_thread_runtime() {
    // The store is opened (and migrated) on a multi-thread runtime; the worker then runs on a
    // current-thread one, as it would inside a server that owns its runtime.
    let setup = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let e = setup.block_on(async {
        let e = env().await;
        for _ in 0..3 {
            enqueue(&e, "test", serde_json::json!({ "sleep_ms": 5 }), 3).await;
        }
        e
    });
    let h = Arc::new(Scripted::default());
    let current = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let stats = current.block_on(run_once(&e, Registry::new().with("test", h.clone()), &[("test", 2)]));
    assert_eq!(stats.completed, 3);
    assert_eq!(setup.block_on(count(&e, JobState::Completed)), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_standard_handler_has_a_standard_queue() {
    let e = env().await;
    let deps = RuntimeDeps::new((*e.store).clone(), Region::default()).expect("deps").with_clock(e.clock.clone());
    let registry = rolodex_runtime::standard_registry(&deps);
    assert_eq!(registry.kinds(), ["remote.apply", "remote.push", "remote.reconcile", "sync.scheduled"]);
    let queues = WorkerConfig::default().queues;
    assert_eq!(queues, rolodex_runtime::default_concurrency());
    // The queue each kind's jobs are enqueued on: its own, or the two-way family's shared one.
    for kind in registry.kinds() {
        let queue = if kind.starts_with("remote.") { rolodex_app::remote::QUEUE } else { kind };
        assert!(queues.iter().any(|(q, n)| q == queue && *n >= 1), "no queue `{queue}` for `{kind}` in {queues:?}");
    }
}
