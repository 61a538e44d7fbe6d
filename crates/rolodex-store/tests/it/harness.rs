//! Fresh stores for tests: a temp SQLite file, or a uuid-named PostgreSQL database created from
//! `TEST_DATABASE_URL` and dropped when the guard goes out of scope.

use std::sync::Arc;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use rolodex_domain::ports::Clock;
use rolodex_store::{Store, StoreConfig, TokenCipher};
use rolodex_testkit::store::ManualClock;

pub fn cipher() -> TokenCipher {
    TokenCipher::from_bytes([42; 32])
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(time::OffsetDateTime::now_utc()))
}

pub struct Sqlite {
    pub store: Store,
    _dir: tempfile::TempDir,
}

pub async fn sqlite(clock: Arc<dyn Clock>) -> Sqlite {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("nested/rolodex.db").display());
    let store = Store::connect_with_clock(StoreConfig { url, max_connections: 4, cipher: cipher() }, clock)
        .await
        .expect("sqlite store");
    Sqlite { store, _dir: dir }
}

/// A PostgreSQL database that is dropped on drop.
pub struct PgDb {
    pub url: String,
    admin_url: String,
    name: String,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        // Drop from a separate thread with its own runtime: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                if let Ok(mut c) = AsyncPgConnection::establish(&admin).await {
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}

/// A fresh database, or `None` (after printing why) when `TEST_DATABASE_URL` is unset.
pub async fn pg_db(test: &str) -> Option<PgDb> {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        println!("skipping {test}: TEST_DATABASE_URL is not set (CI sets it)");
        return None;
    };
    let name = format!("rolodex_test_{}", uuid::Uuid::new_v4().simple());
    let mut c = AsyncPgConnection::establish(&admin_url).await.expect("connect to TEST_DATABASE_URL");
    c.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
    Some(PgDb { url: format!("{base}/{name}"), admin_url, name })
}

pub async fn pg_store(db: &PgDb, clock: Arc<dyn Clock>) -> Store {
    Store::connect_with_clock(StoreConfig { url: db.url.clone(), max_connections: 8, cipher: cipher() }, clock)
        .await
        .expect("postgres store")
}

/// One `count(*) AS n` row of a raw SQL query.
#[derive(diesel::QueryableByName)]
pub struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// A new manual run of `org` from a file, already executing.
pub async fn executing_run(store: &Store, org: rolodex_domain::OrgId) -> rolodex_domain::SyncRunId {
    use rolodex_domain::ports::storage::{NewSyncRun, SyncKind, SyncRunStore, SyncStatus};
    let run = NewSyncRun {
        id: rolodex_domain::SyncRunId::new_v7(),
        user_id: None,
        connection_id: None,
        provider: "file".into(),
        kind: SyncKind::Manual,
        status: SyncStatus::Executing,
        filters: serde_json::json!({}),
    };
    store.create_run(org, run).await.expect("run").id
}
