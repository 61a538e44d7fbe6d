//! The shared `ContactSource` / `ContactSink` contract suites, run against the Graph mock.

use rolodex_testkit::provider_contract::{paging_contract, sink_contract, source_contract};

use crate::support::fixture;

#[tokio::test]
async fn graph_passes_the_source_contract() {
    let f = fixture(25, 200).await;
    source_contract(&f.graph, &f.mock).await;
    // The 429 was retried after exactly its Retry-After; the rotated refresh token was saved.
    assert!(f.sleeper.delays().contains(&std::time::Duration::from_secs(1)), "{:?}", f.sleeper.delays());
    assert!(!f.store.saved().is_empty());
    assert!(f.store.needs_reauth().is_some_and(|r| r.contains("invalid_grant")));
}

#[tokio::test]
async fn graph_passes_the_sink_contract() {
    let f = fixture(25, 200).await;
    sink_contract(&f.graph, &f.graph, &f.mock).await;
}

#[tokio::test]
async fn graph_pages_through_10000_contacts_one_page_at_a_time() {
    let f = fixture(200, 1000).await;
    paging_contract(&f.graph, &f.mock, 10_000).await;
}
