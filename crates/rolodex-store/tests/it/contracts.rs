//! The contract suites on SQLite and PostgreSQL.

use std::sync::Arc;

use rolodex_testkit::store::contract;

use crate::harness::{clock, pg_db, pg_store, sqlite};

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_contacts() {
    let db = sqlite(clock()).await;
    contract::contact_store_contract(&db.store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_contacts() {
    let Some(db) = pg_db("postgres_contacts").await else { return };
    contract::contact_store_contract(&pg_store(&db, clock()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_connections() {
    let db = sqlite(clock()).await;
    contract::connection_store_contract(&db.store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_connections() {
    let Some(db) = pg_db("postgres_connections").await else { return };
    contract::connection_store_contract(&pg_store(&db, clock()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_jobs() {
    let c = clock();
    let db = sqlite(c.clone()).await;
    contract::job_queue_contract(&db.store, &move |d| c.advance(d)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_jobs() {
    let Some(pg) = pg_db("postgres_jobs").await else { return };
    let c = clock();
    let store = pg_store(&pg, c.clone()).await;
    contract::job_queue_contract(&store, &move |d| c.advance(d)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_sync() {
    let db = sqlite(clock()).await;
    contract::sync_store_contract(&db.store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_sync() {
    let Some(db) = pg_db("postgres_sync").await else { return };
    contract::sync_store_contract(&pg_store(&db, clock()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_history() {
    let db = sqlite(clock()).await;
    contract::history_contract(&db.store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_history() {
    let Some(db) = pg_db("postgres_history").await else { return };
    contract::history_contract(&pg_store(&db, clock()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_campaigns() {
    let db = sqlite(clock()).await;
    contract::campaign_store_contract(&db.store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_campaigns() {
    let Some(db) = pg_db("postgres_campaigns").await else { return };
    contract::campaign_store_contract(&pg_store(&db, clock()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_accounts() {
    let db = sqlite(clock()).await;
    contract::account_store_contract(&db.store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_accounts() {
    let Some(db) = pg_db("postgres_accounts").await else { return };
    contract::account_store_contract(&pg_store(&db, clock()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_encrypted_at_rest_on_sqlite() {
    use rolodex_domain::ports::storage::ConnectionStore;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = rolodex_store::Store::connect_with_clock(
        rolodex_store::StoreConfig {
            url: format!("sqlite://{}", path.display()),
            max_connections: 1,
            cipher: crate::harness::cipher(),
        },
        Arc::new(rolodex_domain::ports::SystemClock),
    )
    .await
    .unwrap();
    let org = rolodex_domain::OrgId::new_v7();
    let c = store.create_connection(org, contract::new_connection("ghl", "loc")).await.unwrap();
    drop(store);
    let bytes = std::fs::read(&path).unwrap();
    let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
    for secret in ["access-secret-1", "refresh-secret-1"] {
        let needle = secret.as_bytes();
        let found = bytes.windows(needle.len()).any(|w| w == needle) || wal.windows(needle.len()).any(|w| w == needle);
        assert!(!found, "{secret} must not be stored in clear");
    }
    // Another key cannot read them.
    let other = rolodex_store::Store::connect(rolodex_store::StoreConfig {
        url: format!("sqlite://{}", path.display()),
        max_connections: 1,
        cipher: rolodex_store::TokenCipher::from_bytes([1; 32]),
    })
    .await
    .unwrap();
    assert!(matches!(
        other.get_connection(org, c.id).await,
        Err(rolodex_domain::ports::storage::ConnectionStoreError::Undecryptable(_))
    ));
}
