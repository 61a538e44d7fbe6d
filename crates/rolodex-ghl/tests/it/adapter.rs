//! `GhlContacts` against `GhlMock`.

use std::sync::Arc;

use rolodex_domain::Region;
use rolodex_domain::ports::{ContactSink, ContactSource, FetchRequest, ProviderError};
use rolodex_ghl::GhlContacts;
use rolodex_http::{Auth, HttpConnection, MemoryTokenStore, OAuthConfig, OAuthSession, RecordingSleeper, TokenSet};
use rolodex_testkit::mocks::ghl::{GhlMock, JOB_TITLE_FIELD, LOCATION_ID};
use rolodex_testkit::provider_contract::{self, MockControl, sample_contact};
use secrecy::SecretString;
use serde_json::json;

fn adapter(mock: &GhlMock) -> (GhlContacts, Arc<MemoryTokenStore>) {
    let client = rolodex_http::build_client(&rolodex_http::ClientOptions::default()).unwrap();
    let config = OAuthConfig::gohighlevel("64f0-lm3x9k", SecretString::from("secret"), "Location", None)
        .with_token_url(url::Url::parse(&mock.token_url()).unwrap());
    let mut tokens = TokenSet::from_refresh_token(SecretString::from(mock.refresh_token().unwrap()));
    tokens.access_token = mock.access_token().map(SecretString::from);
    let store = Arc::new(MemoryTokenStore::default());
    let session = OAuthSession::new(client.clone(), config, tokens, store.clone());
    let conn =
        HttpConnection::new(client, Auth::OAuth(Arc::new(session))).with_sleeper(Arc::new(RecordingSleeper::default()));
    (GhlContacts::new(conn, LOCATION_ID, Region::parse("US").unwrap()).with_base_url(mock.uri()), store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_contract() {
    let mock = GhlMock::start().await;
    let (ghl, store) = adapter(&mock);
    provider_contract::source_contract(&ghl, &mock).await;
    assert!(!store.saved().is_empty(), "the rotated refresh token was saved");
    assert!(store.needs_reauth().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_contract() {
    let mock = GhlMock::start().await;
    let (ghl, _) = adapter(&mock);
    provider_contract::sink_contract(&ghl, &ghl, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_through_ten_thousand_contacts() {
    let mock = GhlMock::start().await;
    let (ghl, _) = adapter(&mock);
    provider_contract::paging_contract(&ghl, &mock, 10_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_title_lives_in_a_custom_field_when_one_is_configured() {
    let mock = GhlMock::start().await;
    let (plain, _) = adapter(&mock);
    let ghl = plain.clone().with_job_title_field(JOB_TITLE_FIELD);
    let mut fields = sample_contact(1);
    fields.job_title = Some("Chief Engineer".into());
    let created = ghl.create(&fields).await.unwrap();
    let stored = mock.contact_json(&created.external_id).unwrap();
    assert_eq!(stored["customFields"], json!([{"id": JOB_TITLE_FIELD, "value": "Chief Engineer"}]));
    assert_eq!(ghl.get(&created.external_id).await.unwrap().fields.job_title.as_deref(), Some("Chief Engineer"));
    // Without the setting the custom field is just a custom value, and there is no job title.
    let raw = plain.get(&created.external_id).await.unwrap();
    assert_eq!(raw.fields.job_title, None);
    assert_eq!(raw.fields.custom[&format!("ghl.customField.{JOB_TITLE_FIELD}")], json!("Chief Engineer"));
    // A seeded contact's title (the mock stores it in that custom field) reads back too.
    let ids = mock.seed(vec![fields.clone()]).await;
    assert_eq!(ghl.get(&ids[0]).await.unwrap().fields.job_title.as_deref(), Some("Chief Engineer"));
    fields.job_title = None;
    ghl.update(&created.external_id, None, &fields).await.unwrap();
    assert_eq!(ghl.get(&created.external_id).await.unwrap().fields.job_title, None, "a cleared title is cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_upsert_and_duplicates() {
    let mock = GhlMock::start().await;
    let (ghl, _) = adapter(&mock);
    let mut fields = sample_contact(1);
    fields.address.street = Some("3535 1st St N".into());
    fields.address.city = Some("Dolomite".into());
    let created = ghl.create(&fields).await.unwrap();
    let stored = mock.contact_json(&created.external_id).unwrap();
    assert_eq!(stored["address1"], json!("3535 1st St N"));
    assert_eq!(stored["locationId"], json!(LOCATION_ID));
    let got = ghl.get(&created.external_id).await.unwrap();
    assert_eq!(got.fields.address.city.as_deref(), Some("Dolomite"));
    assert_eq!(got.fields.custom["ghl.locationId"], json!(LOCATION_ID));
    match ghl.create(&fields).await {
        Err(ProviderError::Duplicate { existing_id }) => {
            assert_eq!(existing_id.as_deref(), Some(created.external_id.as_str()))
        }
        other => panic!("expected Duplicate, got {other:?}"),
    }
    let mut changed = fields.clone();
    changed.company = Some("Upserted Ltd".into());
    let (upserted, is_new) = ghl.upsert(&changed).await.unwrap();
    assert!(!is_new);
    assert_eq!(upserted.external_id, created.external_id);
    let (other, is_new) = ghl.upsert(&sample_contact(2)).await.unwrap();
    assert!(is_new);
    assert_ne!(other.external_id, created.external_id);
    assert!(matches!(ghl.get("nope").await, Err(ProviderError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_contact_is_invalid_naming_the_field() {
    let mock = GhlMock::start().await;
    let (ghl, _) = adapter(&mock);
    let ids = mock.seed((0..4).map(sample_contact).collect()).await;
    let mut broken = mock.contact_json(&ids[3]).unwrap();
    broken["dateUpdated"] = json!("not a date");
    mock.overwrite_raw(&ids[3], broken);
    match ghl.fetch(FetchRequest::Full).await {
        Err(ProviderError::Invalid { field, .. }) => assert_eq!(field, "contacts[3].dateUpdated"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_is_what_a_round_trip_keeps() {
    let mock = GhlMock::start().await;
    let (ghl, _) = adapter(&mock);
    let mut fields = sample_contact(5);
    fields.emails.push(rolodex_domain::EmailAddress::parse("second@example.org").unwrap());
    fields.do_not_disturb = true;
    fields.source = Some("web form".to_owned());
    let projected = ghl.project(&fields);
    assert_eq!(projected.emails.len(), 1, "a write carries one email");
    assert_eq!(projected.emails.first(), fields.emails.first());
    assert!(projected.do_not_disturb && projected.source.as_deref() == Some("web form"), "owned flags are kept");
    assert_eq!(ghl.project(&projected), projected, "idempotent");
    // And it is what GoHighLevel answers after a create of the same fields.
    let created = ghl.create(&fields).await.unwrap();
    let stored = mock.contact_json(&created.external_id).unwrap();
    let read = rolodex_ghl::contact_from_json(stored, Region::parse("US").unwrap()).unwrap();
    let mut expected = projected.clone();
    expected.do_not_disturb = read.fields.do_not_disturb;
    expected.source.clone_from(&read.fields.source);
    assert_eq!(ghl.project(&read.fields).emails, expected.emails);
    assert_eq!(read.fields.given_name, expected.given_name);
    assert_eq!(read.fields.company, expected.company);
    assert_eq!(read.fields.tags, expected.tags);
}
