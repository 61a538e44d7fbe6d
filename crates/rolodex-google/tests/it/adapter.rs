//! `GoogleContacts` against `GoogleMock`.

use std::sync::Arc;

use rolodex_domain::Region;
use rolodex_domain::ports::{ContactSource, FetchRequest, ProviderError};
use rolodex_google::GoogleContacts;
use rolodex_http::{Auth, HttpConnection, MemoryTokenStore, OAuthConfig, OAuthSession, RecordingSleeper, TokenSet};
use rolodex_testkit::mocks::google::GoogleMock;
use rolodex_testkit::provider_contract::{self, MockControl};
use secrecy::SecretString;
use serde_json::json;

fn adapter(mock: &GoogleMock) -> GoogleContacts {
    let client = rolodex_http::build_client(&rolodex_http::ClientOptions::default()).unwrap();
    let config = OAuthConfig::google("1234.apps.googleusercontent.com", SecretString::from("secret"))
        .with_token_url(url::Url::parse(&mock.token_url()).unwrap());
    let mut tokens = TokenSet::from_refresh_token(SecretString::from(mock.refresh_token().unwrap()));
    tokens.access_token = mock.access_token().map(SecretString::from);
    let session = OAuthSession::new(client.clone(), config, tokens, Arc::new(MemoryTokenStore::default()));
    let conn =
        HttpConnection::new(client, Auth::OAuth(Arc::new(session))).with_sleeper(Arc::new(RecordingSleeper::default()));
    GoogleContacts::new(conn, Region::parse("US").unwrap()).with_base_url(mock.people_base())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_contract() {
    let mock = GoogleMock::start_with_max_page_size(50).await;
    let google = adapter(&mock).with_page_size(50);
    provider_contract::source_contract(&google, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_contract() {
    let mock = GoogleMock::start().await;
    let google = adapter(&mock);
    provider_contract::sink_contract(&google, &google, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_through_ten_thousand_contacts() {
    let mock = GoogleMock::start().await;
    let google = adapter(&mock);
    provider_contract::paging_contract(&google, &mock, 10_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_etag_is_a_conflict() {
    let mock = GoogleMock::start().await;
    let google = adapter(&mock);
    use rolodex_domain::ports::ContactSink as _;
    let created = google.create(&provider_contract::sample_contact(1)).await.unwrap();
    let updated = google
        .update(&created.external_id, created.version.as_deref(), &provider_contract::sample_contact(2))
        .await
        .unwrap();
    assert_ne!(updated.version, created.version);
    match google.update(&created.external_id, created.version.as_deref(), &provider_contract::sample_contact(3)).await {
        Err(ProviderError::Conflict { current_version }) => assert_eq!(current_version, updated.version),
        other => panic!("a stale etag must be Conflict, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_person_is_invalid_naming_the_field() {
    let mock = GoogleMock::start().await;
    let google = adapter(&mock);
    let ids = mock.seed(vec![provider_contract::sample_contact(1), provider_contract::sample_contact(2)]).await;
    mock.overwrite_raw(&ids[1], json!({"resourceName": ids[1], "metadata": {"sources": [{"updateTime": 12}]}}));
    match google.fetch(FetchRequest::Full).await {
        Err(ProviderError::Invalid { field, .. }) => assert_eq!(field, "connections[1].metadata.sources[0].updateTime"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn tagged(i: usize, tags: &[&str]) -> rolodex_domain::ContactFields {
    let mut fields = provider_contract::sample_contact(i);
    fields.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    fields
}

fn group_names(mock: &GoogleMock, name: &str) -> usize {
    mock.groups().iter().filter(|g| g["name"] == json!(name)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_user_contact_groups_listed_once_and_cached() {
    let mock = GoogleMock::start().await;
    for i in 0..7 {
        mock.create_group(&format!("label-{i}")).unwrap();
    }
    mock.create_group("VIP").unwrap();
    let google = adapter(&mock).with_group_page_size(3);
    let ids = mock.seed(vec![tagged(1, &["label-5", "VIP"]), tagged(2, &[])]).await;

    let page = google.fetch(FetchRequest::Full).await.unwrap();
    let first = page.upserts.iter().find(|c| c.external_id.as_deref() == Some(ids[0].as_str())).unwrap();
    assert_eq!(first.fields.tags, ["VIP", "label-5"].map(str::to_owned).into(), "user groups read as tags");
    assert_eq!(first.fields.custom["google.contactGroups"], json!(["contactGroups/myContacts"]));
    let untagged = page.upserts.iter().find(|c| c.external_id.as_deref() == Some(ids[1].as_str())).unwrap();
    assert!(untagged.fields.tags.is_empty(), "myContacts is not a tag");
    // 13 groups at 3 a page: every page of groups was read, once.
    assert_eq!(mock.lookup_requests(), 5);
    google.fetch(FetchRequest::Full).await.unwrap();
    assert_eq!(mock.lookup_requests(), 5, "the groups are cached");

    // A group made in Google since: the cache is refreshed when a person is in it.
    let cursor = page.next_cursor.unwrap();
    mock.create_group("later").unwrap();
    mock.update_remote(&ids[1], &tagged(2, &["later"])).await;
    let delta = google.fetch(FetchRequest::Since(cursor)).await.unwrap();
    assert_eq!(delta.upserts[0].fields.tags, ["later".to_owned()].into());
    assert_eq!(mock.lookup_requests(), 10);

    // A membership of a group the account no longer lists: a warning, asked about only once.
    let mut dangling = mock.person_json(&ids[0]).unwrap();
    dangling["memberships"]
        .as_array_mut()
        .unwrap()
        .push(json!({"contactGroupMembership":{"contactGroupResourceName":"contactGroups/gone"}}));
    mock.overwrite_raw(&ids[0], dangling);
    for _ in 0..2 {
        let page = google.fetch(FetchRequest::Full).await.unwrap();
        let first = page.upserts.iter().find(|c| c.external_id.as_deref() == Some(ids[0].as_str())).unwrap();
        assert_eq!(first.fields.tags, ["VIP", "label-5"].map(str::to_owned).into());
        assert!(first.warnings.iter().any(|w| w.field == "tags" && w.message.contains("contactGroups/gone")));
    }
    assert_eq!(mock.lookup_requests(), 15, "one more listing of the groups, not one per fetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_create_missing_groups_and_keep_system_memberships() {
    let mock = GoogleMock::start().await;
    let google = adapter(&mock);
    use rolodex_domain::ports::ContactSink as _;
    // A label made in Google after the adapter cached the groups is reused, not made twice.
    let created = google.create(&tagged(1, &["first"])).await.unwrap();
    mock.create_group("elsewhere").unwrap();
    let other = google.create(&tagged(2, &["elsewhere", "first"])).await.unwrap();
    assert_eq!((group_names(&mock, "elsewhere"), group_names(&mock, "first")), (1, 1));
    let stored = mock.person_json(&other.external_id).unwrap();
    assert_eq!(stored["memberships"].as_array().map(Vec::len), Some(3), "myContacts and two labels: {stored}");

    // Starred in Google: an update replaces the labels but keeps the star and myContacts.
    let mut starred = mock.person_json(&created.external_id).unwrap();
    starred["memberships"].as_array_mut().unwrap().push(
        json!({"contactGroupMembership":{"contactGroupId":"starred","contactGroupResourceName":"contactGroups/starred"}}),
    );
    mock.overwrite_raw(&created.external_id, starred);
    google.update(&created.external_id, None, &tagged(1, &["brand new", "elsewhere"])).await.unwrap();
    assert_eq!(group_names(&mock, "brand new"), 1);
    let page = google.fetch(FetchRequest::Full).await.unwrap();
    let got = page.upserts.iter().find(|c| c.external_id.as_deref() == Some(created.external_id.as_str())).unwrap();
    assert_eq!(got.fields.tags, ["brand new", "elsewhere"].map(str::to_owned).into());
    assert_eq!(got.fields.custom["google.contactGroups"], json!(["contactGroups/myContacts", "contactGroups/starred"]));

    // No tags left: the contact stays in myContacts (People refuses an empty membership list).
    google.update(&created.external_id, None, &tagged(1, &[])).await.unwrap();
    let stored = mock.person_json(&created.external_id).unwrap();
    let groups: Vec<&str> = stored["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["contactGroupMembership"]["contactGroupResourceName"].as_str())
        .collect();
    assert_eq!(groups, ["contactGroups/myContacts", "contactGroups/starred"]);
}
