//! Graph specifics beyond the contract: list mode, an expired token in the middle of a round,
//! foreign hosts in links, 503 with an HTTP-date Retry-After, malformed pages.

use rolodex_domain::ports::{ContactSource, FetchRequest, PageToken, ProviderError, SyncCursor};
use rolodex_graph::FullListing;
use rolodex_testkit::provider_contract::{MockControl, collect, sample_contact};
use serde_json::json;

use crate::support::fixture;

#[tokio::test]
async fn list_mode_pages_without_a_cursor() {
    let f = fixture(4, 3).await;
    let ids = f.mock.seed((0..7).map(sample_contact).collect()).await;
    let mut config = rolodex_graph::GraphConfig::new(rolodex_domain::Region::default());
    config.base_url = url::Url::parse(&f.mock.graph_base()).unwrap();
    config.page_size = 3;
    config.full_listing = FullListing::List;
    let graph = rolodex_graph::GraphContacts::new(connection(&f), config);
    let listing = collect(&graph, &f.mock, FetchRequest::Full).await;
    assert_eq!(listing.pages, 3);
    assert_eq!(listing.upserts.len(), ids.len());
    assert!(listing.cursor.is_none());
}

fn connection(f: &crate::support::Fixture) -> rolodex_http::HttpConnection {
    use secrecy::SecretString;
    let client = rolodex_http::build_client(&rolodex_http::ClientOptions::default()).unwrap();
    rolodex_http::HttpConnection::new(
        client,
        rolodex_http::Auth::Bearer(SecretString::from(f.mock.access_token().unwrap())),
    )
    .with_sleeper(f.sleeper.clone())
}

#[tokio::test]
async fn a_token_expiring_mid_round_restarts_with_reset() {
    let f = fixture(2, 2).await;
    f.mock.seed((0..5).map(sample_contact).collect()).await;
    let full = collect(&f.graph, &f.mock, FetchRequest::Full).await;
    let cursor = full.cursor.unwrap();
    f.mock.seed((10..13).map(sample_contact).collect()).await;
    let first = f.graph.fetch(FetchRequest::Since(cursor)).await.unwrap();
    assert!(!first.reset);
    let next = first.next_page.expect("3 changes at 2 per page");
    f.mock.expire_cursors().await;
    let page = f.graph.fetch(FetchRequest::Page(next)).await.unwrap();
    assert!(page.reset, "the restarted round is flagged");
    assert!(page.deletions.is_empty());
    let mut total = page.upserts.len();
    let mut token = page.next_page;
    while let Some(t) = token {
        let p = f.graph.fetch(FetchRequest::Page(t)).await.unwrap();
        assert!(p.reset, "every page of a reset round says so");
        total += p.upserts.len();
        token = p.next_page;
        if token.is_none() {
            assert!(p.next_cursor.is_some());
        }
    }
    assert_eq!(total, 8);
}

#[tokio::test]
async fn links_to_another_host_are_refused_before_any_request() {
    let f = fixture(5, 5).await;
    let before = f.mock.api_requests();
    let evil = FetchRequest::Page(PageToken("full:https://evil.example/v1.0/me/contacts/delta".into()));
    assert!(matches!(f.graph.fetch(evil).await, Err(ProviderError::Invalid { field, .. }) if field == "page_token"));
    let evil = FetchRequest::Since(SyncCursor("https://evil.example/delta?$deltatoken=1".into()));
    assert!(matches!(f.graph.fetch(evil).await, Err(ProviderError::Invalid { field, .. }) if field == "cursor"));
    let junk = FetchRequest::Page(PageToken("garbage".into()));
    assert!(matches!(f.graph.fetch(junk).await, Err(ProviderError::Invalid { .. })));
    assert_eq!(f.mock.api_requests(), before);
}

#[tokio::test]
async fn a_bad_contact_in_a_page_names_its_field() {
    let f = fixture(10, 10).await;
    f.mock.seed(vec![sample_contact(1)]).await;
    let mut bad = serde_json::Map::new();
    bad.insert("givenName".into(), json!("Eve"));
    bad.insert("emailAddresses".into(), json!([{"address": "eve@example.com"}, {"address": 42}]));
    let _ = f.mock.insert_raw(bad);
    match f.graph.fetch(FetchRequest::Full).await {
        Err(ProviderError::Invalid { field, .. }) => assert_eq!(field, "value[1].emailAddresses[1].address"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn throttling_beyond_the_policy_is_passed_on() {
    let f = fixture(10, 10).await;
    for _ in 0..4 {
        f.mock.inject(rolodex_testkit::provider_contract::InjectedFailure::RateLimited { retry_after_secs: 2 }).await;
    }
    match f.graph.fetch(FetchRequest::Full).await {
        Err(ProviderError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(2)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(f.sleeper.delays(), vec![std::time::Duration::from_secs(2); 3], "4 attempts, 3 waits of Retry-After");
}
