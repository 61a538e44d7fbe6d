//! The storage contract suites run against [`MemoryStore`], the in-memory fake.

use std::sync::Arc;

use super::{ManualClock, MemoryStore, contract};

fn clocked() -> (MemoryStore, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(time::OffsetDateTime::now_utc()));
    (MemoryStore::with_clock(clock.clone()), clock)
}

#[tokio::test]
async fn contacts() {
    contract::contact_store_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn connections() {
    contract::connection_store_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn jobs() {
    let (store, clock) = clocked();
    contract::job_queue_contract(&store, &move |d| clock.advance(d)).await;
}

#[tokio::test]
async fn sync() {
    contract::sync_store_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn history() {
    contract::history_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn campaigns() {
    contract::campaign_store_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn accounts() {
    contract::account_store_contract(&MemoryStore::new()).await;
}
