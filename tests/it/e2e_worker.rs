//! End-to-end: the scheduled sync run by the worker runtime (`rolodex_runtime::run` with the
//! `sync.scheduled` handler and `rolodex_runtime::StoreSources`) against the Graph mock, on SQLite
//! and PostgreSQL: a worker killed mid-execute and restarted leaves every contact exactly once with
//! the right counts, and an emptied source aborts the scheduled run (the job goes dead, nothing is
//! touched, and `rolodex jobs retry` queues it again).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rolodex_app::jobs::ScheduledSyncJob;
use rolodex_app::sync::{SyncPorts, SyncService, SyncSettings};
use rolodex_domain::ports::V7Ids;
use rolodex_domain::ports::storage::{
    ApplyBatch, ApplyReport, ItemFilter, JobQueue, JobState, NewSyncItem, NewSyncRun, ReviewState, RunFilter, SyncItem,
    SyncRun, SyncRunStore, SyncStatus, SyncStoreError,
};
use rolodex_domain::{ConnectionId, OrgId, Region, SyncItemId, SyncRunId};
use rolodex_runtime::{Mode, Registry, StoreSources, WorkerConfig, WorkerStats};
use rolodex_store::{Store, StoreConfig, TokenCipher};
use rolodex_testkit::mocks::graph::GraphMock;
use rolodex_testkit::provider_contract::{MockControl, sample_contact};
use rolodex_testkit::store::ManualClock;

use crate::support::{TestDb, both, org};

/// A `SyncRunStore` whose `apply_batch` number `kill_at` (1-based) fails like a killed process: the
/// batch's transaction never commits.
struct KilledAt {
    inner: Store,
    calls: AtomicUsize,
    kill_at: usize,
}

#[async_trait]
impl SyncRunStore for KilledAt {
    async fn create_run(&self, org: OrgId, run: NewSyncRun) -> Result<SyncRun, SyncStoreError> {
        self.inner.create_run(org, run).await
    }
    async fn get_run(&self, org: OrgId, id: SyncRunId) -> Result<SyncRun, SyncStoreError> {
        self.inner.get_run(org, id).await
    }
    async fn list_runs(&self, org: OrgId, filter: &RunFilter) -> Result<Vec<SyncRun>, SyncStoreError> {
        self.inner.list_runs(org, filter).await
    }
    async fn set_run_status(
        &self,
        org: OrgId,
        id: SyncRunId,
        status: SyncStatus,
        error: Option<&str>,
    ) -> Result<SyncRun, SyncStoreError> {
        self.inner.set_run_status(org, id, status, error).await
    }
    async fn add_items(&self, org: OrgId, run: SyncRunId, items: Vec<NewSyncItem>) -> Result<(), SyncStoreError> {
        self.inner.add_items(org, run, items).await
    }
    async fn get_item(&self, org: OrgId, id: SyncItemId) -> Result<SyncItem, SyncStoreError> {
        self.inner.get_item(org, id).await
    }
    async fn list_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        filter: &ItemFilter,
    ) -> Result<Vec<SyncItem>, SyncStoreError> {
        self.inner.list_items(org, run, filter).await
    }
    async fn review_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        ids: &[SyncItemId],
        review: ReviewState,
    ) -> Result<u64, SyncStoreError> {
        self.inner.review_items(org, run, ids, review).await
    }
    async fn apply_batch(&self, org: OrgId, batch: ApplyBatch) -> Result<ApplyReport, SyncStoreError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) + 1 == self.kill_at {
            return Err(SyncStoreError::Unexpected("worker killed mid-execute".into()));
        }
        self.inner.apply_batch(org, batch).await
    }
}

/// A worker process: the store (on a clock the test moves), the handler, one `--once` drain.
struct Worker {
    store: Store,
    clock: Arc<ManualClock>,
}

impl Worker {
    async fn new(db: &TestDb) -> Self {
        let clock = Arc::new(ManualClock::at(time::OffsetDateTime::now_utc()));
        let config = StoreConfig { url: db.url.clone(), max_connections: 4, cipher: TokenCipher::from_bytes([42; 32]) };
        let store = Store::connect_with_clock(config, clock.clone()).await.expect("store");
        Self { store, clock }
    }

    fn service(&self, runs: Arc<dyn SyncRunStore>) -> SyncService {
        let ports = SyncPorts {
            contacts: Arc::new(self.store.clone()),
            links: Arc::new(self.store.clone()),
            runs,
            cursors: Arc::new(self.store.clone()),
            audit: Arc::new(self.store.clone()),
            clock: self.clock.clone(),
            ids: Arc::new(V7Ids),
        };
        SyncService::new(ports, SyncSettings { apply_batch: 10, ..SyncSettings::default() })
    }

    /// Runs the due jobs with `sync` as the handler's service, then exits (`--once`).
    async fn drain(&self, sync: SyncService) -> WorkerStats {
        let sources = StoreSources::new(self.store.clone(), Region::default()).expect("sources");
        let handler = Arc::new(ScheduledSyncJob { sync, sources: Arc::new(sources) });
        let registry = Registry::new().with(ScheduledSyncJob::KIND, handler);
        let config = WorkerConfig {
            worker_id: "e2e-worker".into(),
            queues: vec![(ScheduledSyncJob::KIND.to_owned(), 1)],
            poll_interval: Duration::from_millis(20),
            ..WorkerConfig::default()
        };
        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        rolodex_runtime::run(Arc::new(self.store.clone()), Arc::new(registry), config, Mode::Once, shutdown).await
    }

    async fn enqueue_sync(&self, connection: &str) {
        let id = ConnectionId::parse(connection).expect("connection id");
        self.store.enqueue(org(), ScheduledSyncJob::job(id)).await.expect("enqueue");
    }
}

async fn graph_connection(db: &TestDb, mock: &GraphMock) -> String {
    let token = mock.access_token().expect("token");
    let base = mock.graph_base();
    let out = db
        .cli(&[
            "connections",
            "add",
            "--provider",
            "graph",
            "--account",
            "me",
            "--access-token",
            &token,
            "--base-url",
            &base,
        ])
        .await
        .expect("connections add");
    out.trim().to_owned()
}

both!(a_worker_killed_mid_execute_resumes_without_duplicates);
async fn a_worker_killed_mid_execute_resumes_without_duplicates(db: TestDb) {
    let mock = GraphMock::start().await;
    let conn = graph_connection(&db, &mock).await;
    mock.seed((0..35).map(sample_contact).collect()).await;
    let worker = Worker::new(&db).await;
    worker.enqueue_sync(&conn).await;

    // Killed during the second batch of 10: the first batch is committed, the second is not.
    let killed = KilledAt { inner: worker.store.clone(), calls: AtomicUsize::new(0), kill_at: 2 };
    let stats = worker.drain(worker.service(Arc::new(killed))).await;
    assert_eq!((stats.completed, stats.retried), (0, 1), "{stats:?}");
    assert_eq!(db.contacts().await.len(), 10, "only the committed batch");

    // Restarted after the retry backoff.
    worker.clock.advance(time::Duration::hours(2));
    let stats = worker.drain(worker.service(Arc::new(worker.store.clone()))).await;
    assert_eq!(stats.completed, 1, "{stats:?}");

    let contacts = db.contacts().await;
    assert_eq!(contacts.len(), 35, "every contact exactly once");
    let emails: BTreeSet<String> =
        contacts.iter().filter_map(|c| c.fields.emails.first().map(|e| e.as_str().to_owned())).collect();
    assert_eq!(emails.len(), 35, "no contact twice");
    let runs: Vec<serde_json::Value> = db
        .cli(&["runs", "list", "--json"])
        .await
        .expect("runs")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let created: u64 = runs.iter().map(|r| r["created"].as_u64().unwrap_or(0)).sum();
    assert_eq!(created, 35, "the runs' counts add up: {runs:?}");
    assert!(runs.iter().any(|r| r["status"] == "completed" && r["created"] == 25), "{runs:?}");

    // Nothing left: the next scheduled run changes nothing.
    worker.enqueue_sync(&conn).await;
    worker.clock.advance(time::Duration::minutes(1));
    assert_eq!(worker.drain(worker.service(Arc::new(worker.store.clone()))).await.completed, 1);
    assert_eq!(db.contacts().await.len(), 35);
}

both!(an_emptied_source_aborts_the_scheduled_run);
async fn an_emptied_source_aborts_the_scheduled_run(db: TestDb) {
    let mock = GraphMock::start().await;
    let conn = graph_connection(&db, &mock).await;
    let ids = mock.seed((0..5).map(sample_contact).collect()).await;
    let worker = Worker::new(&db).await;
    worker.enqueue_sync(&conn).await;
    assert_eq!(worker.drain(worker.service(Arc::new(worker.store.clone()))).await.completed, 1);
    assert_eq!(db.contacts().await.len(), 5);

    for id in &ids {
        mock.delete_remote(id).await;
    }
    mock.expire_cursors().await;
    worker.enqueue_sync(&conn).await;
    let stats = worker.drain(worker.service(Arc::new(worker.store.clone()))).await;
    assert_eq!((stats.completed, stats.dead), (0, 1), "the guard is not worth retrying: {stats:?}");
    assert_eq!(db.contacts().await.len(), 5, "no contact touched");
    let dead = worker.store.list_jobs(org(), JobState::Dead, 10).await.expect("jobs");
    assert!(
        dead[0].last_error.as_deref().is_some_and(|e| e.contains("returned no contacts but had contacts before")),
        "{dead:?}"
    );
    let failed = db.cli(&["runs", "list", "--status", "failed"]).await.expect("runs");
    assert_eq!(failed.lines().filter(|l| l.contains("failed")).count(), 1, "{failed}");

    // An operator sees it and retries it.
    let jobs = db.cli(&["jobs", "list", "--state", "dead"]).await.expect("jobs");
    assert!(jobs.contains(&dead[0].id.to_string()), "{jobs}");
    let out = db.cli(&["jobs", "retry", &dead[0].id.to_string()]).await.expect("retry");
    assert!(out.contains("retried as"), "{out}");
    assert_eq!(worker.store.list_jobs(org(), JobState::Available, 10).await.expect("jobs").len(), 1);
}
