//! End-to-end: the worker runs a scheduled sync through the standard handlers, exactly as
//! `rolodex-worker` wires it (`rolodex_runtime::standard_registry` over the store, the standard
//! queues, `Mode::Once`), on SQLite and PostgreSQL. A GoHighLevel connection pointing at the
//! `rolodex-testkit` mock is added with the CLI and scheduled; when the schedule is due the worker
//! enqueues the `sync.scheduled` job and runs it, and the contacts land in the store, phone numbers
//! without a country code read in the worker's default region. A contact written to the provider
//! through the connection's sink (`StoreSources::sink`) arrives with the next scheduled run.

use std::sync::Arc;
use std::time::Duration;

use rolodex_app::jobs::ScheduledSyncJob;
use rolodex_domain::ports::storage::{JobQueue, JobState};
use rolodex_domain::{ConnectionId, Region};
use rolodex_runtime::{Mode, RuntimeDeps, WorkerConfig, WorkerStats, default_concurrency, standard_registry};
use rolodex_store::{Store, StoreConfig, TokenCipher};
use rolodex_testkit::mocks::ghl::{GhlMock, LOCATION_ID};
use rolodex_testkit::provider_contract::{MockControl, sample_contact};
use rolodex_testkit::store::ManualClock;
use serde_json::json;

use crate::support::{TestDb, both, org};

/// Runs the due jobs once with the standard handlers, like `rolodex-worker --once`.
async fn drain(deps: &RuntimeDeps) -> WorkerStats {
    let config = WorkerConfig {
        worker_id: "e2e-scheduled".into(),
        queues: default_concurrency(),
        poll_interval: Duration::from_millis(20),
        ..WorkerConfig::default()
    };
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let registry = Arc::new(standard_registry(deps));
    rolodex_runtime::run(Arc::new(deps.store.clone()), registry, config, Mode::Once, shutdown).await
}

both!(the_worker_runs_a_scheduled_sync_with_the_standard_handlers);
async fn the_worker_runs_a_scheduled_sync_with_the_standard_handlers(db: TestDb) {
    let mock = GhlMock::start().await;
    mock.seed((0..12).map(sample_contact).collect()).await;
    // A contact typed in the provider without a country code (an Australian mobile).
    let raw =
        json!({ "locationId": LOCATION_ID, "firstName": "Matilda", "lastName": "Jones", "phone": "0412 345 678" });
    let _ = mock.insert_raw(raw.as_object().expect("object"));
    let token = mock.access_token().expect("token");
    let base = mock.uri();
    let args = [
        "connections",
        "add",
        "--provider",
        "ghl",
        "--account",
        LOCATION_ID,
        "--access-token",
        &token,
        "--base-url",
        &base,
        "--every-minutes",
        "15",
    ];
    let conn = ConnectionId::parse(db.cli(&args).await.expect("connections add").trim()).expect("connection id");

    // The worker process: its store on a clock the test moves, the standard handlers, region AU.
    let clock = Arc::new(ManualClock::at(time::OffsetDateTime::now_utc()));
    let config = StoreConfig { url: db.url.clone(), max_connections: 4, cipher: TokenCipher::from_bytes([42; 32]) };
    let store = Store::connect_with_clock(config, clock.clone()).await.expect("store");
    let region = Region::parse("AU").expect("region");
    let deps = RuntimeDeps::new(store.clone(), region).expect("deps").with_clock(clock.clone());
    assert_eq!(drain(&deps).await, WorkerStats::default(), "nothing is due before the schedule");
    assert!(db.contacts().await.is_empty());

    clock.advance(time::Duration::minutes(16));
    let stats = drain(&deps).await;
    assert_eq!((stats.completed, stats.retried, stats.dead), (1, 0, 0), "{stats:?}");
    let done = store.list_jobs(org(), JobState::Completed, 10).await.expect("jobs");
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].kind.as_str(), done[0].queue.as_str()), (ScheduledSyncJob::KIND, ScheduledSyncJob::KIND));
    assert_eq!(done[0].payload, json!({ "connection": conn.to_string() }));

    let contacts = db.contacts().await;
    assert_eq!(contacts.len(), 13, "every new contact is a high-confidence create, applied unattended");
    let matilda = contacts
        .iter()
        .find(|c| c.fields.given_name.as_deref() == Some("Matilda"))
        .expect("the contact typed without a country code");
    let phones: Vec<&str> = matilda.fields.phones.iter().map(|p| p.number.e164()).collect();
    assert_eq!(phones, ["+61412345678"], "read in the worker's default region");
    let runs = db.cli(&["runs", "list", "--json"]).await.expect("runs");
    let run: serde_json::Value = serde_json::from_str(runs.lines().next().expect("a run")).expect("json");
    assert_eq!((run["status"].as_str(), run["created"].as_u64()), (Some("completed"), Some(13)), "{run}");

    // Written to the provider through the connection's sink, pulled in by the next scheduled run.
    let sink = deps.sources.sink(org(), conn).await.expect("sink");
    let written = sink.create(&sample_contact(500)).await.expect("create at the provider");
    assert!(mock.remote_ids().await.contains(&written.external_id), "{written:?}");
    clock.advance(time::Duration::minutes(16));
    assert_eq!(drain(&deps).await.completed, 1);
    let contacts = db.contacts().await;
    assert_eq!(contacts.len(), 14, "only the new contact was added");
    let given = sample_contact(500).given_name;
    assert_eq!(contacts.iter().filter(|c| c.fields.given_name == given).count(), 1);
}
