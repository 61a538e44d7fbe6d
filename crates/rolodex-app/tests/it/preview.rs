//! Preview: decisions, stored items, unchanged contacts counted not listed, filters, cursors.

use std::io::Write;
use std::path::Path;

use rolodex_app::sync::{FetchMode, ItemQuery, PreviewRequest, SyncFilters};
use rolodex_domain::matching::Action;
use rolodex_domain::ports::storage::{Actor, CursorStore, ReviewState, SyncRunStore};
use rolodex_files::{CsvOptions, FileSource};

use crate::support::{Harness, ScriptedSource, incoming, person};

fn write(path: &Path, text: &str) {
    let mut f = std::fs::File::create(path).expect("create the file");
    f.write_all(text.as_bytes()).expect("write the file");
}

fn request(h: &Harness, mode: FetchMode) -> PreviewRequest {
    PreviewRequest { connection_id: Some(h.conn), mode, ..PreviewRequest::default() }
}

#[tokio::test]
async fn a_file_synced_once_previews_nothing_the_second_time() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.csv");
    write(
        &path,
        "id,first name,last name,email,company\n\
         1,Jane,Doe,jane@acme.io,Acme\n\
         2,Bob,Smith,bob@example.org,\n\
         3,Ana,Lima,ana@lima.dev,Lima Labs\n",
    );
    let source = FileSource::open(&path, CsvOptions::default()).unwrap().with_page_size(2);
    let svc = h.service();

    let first = svc.preview(h.org, &source, request(&h, FetchMode::Full)).await.unwrap();
    assert_eq!((first.counts.fetched, first.counts.listed, first.counts.create), (3, 3, 3));
    assert!(first.cursor_pending);
    assert_eq!(svc.approve_high_confidence(h.org, first.run_id).await.unwrap(), 3);
    let done = svc.execute(h.org, first.run_id, Actor::System("test".into())).await.unwrap();
    assert_eq!(done.created, 3);

    // A person edits Jane in the CRM. The source did not change, so the sync must not propose to
    // revert the edit: unchanged is judged against the last-synced snapshot, not the contact.
    let jane = h.store.contacts_of(h.org).into_iter().find(|c| c.fields.given_name.as_deref() == Some("Jane")).unwrap();
    h.store.edit_contact(h.org, jane.id, |f| f.company = Some("Acme Global".into()));

    // Same file, full listing: every contact is unchanged by its link's snapshot hash.
    let second = svc.preview(h.org, &source, request(&h, FetchMode::Full)).await.unwrap();
    assert_eq!((second.counts.fetched, second.counts.listed, second.counts.unchanged), (3, 0, 3));
    let listed = svc.list_items(h.org, second.run_id, ItemQuery::default()).await.unwrap();
    assert!(listed.items.is_empty());

    // Incremental from the stored cursor: the unchanged file delivers nothing at all.
    let third = svc.preview(h.org, &source, request(&h, FetchMode::Incremental)).await.unwrap();
    assert_eq!((third.counts.fetched, third.counts.listed), (0, 0));

    // One changed row is listed as an update of the contact it is linked to.
    write(
        &path,
        "id,first name,last name,email,company\n\
         1,Jane,Doe,jane@acme.io,Acme\n\
         2,Bob,Smith,bob@example.org,Smith & Co\n\
         3,Ana,Lima,ana@lima.dev,Lima Labs\n",
    );
    let fourth = svc.preview(h.org, &source, request(&h, FetchMode::Incremental)).await.unwrap();
    assert_eq!((fourth.counts.listed, fourth.counts.unchanged, fourth.counts.update), (1, 2, 1));
    let item = &svc.list_items(h.org, fourth.run_id, ItemQuery::default()).await.unwrap().items[0];
    assert_eq!(item.action, Action::Update);
    assert!(item.recommendation.reasons[0].contains("linked"), "{:?}", item.recommendation.reasons);
    assert_eq!(item.item.diff[0]["field"], "company");
}

#[tokio::test]
async fn matches_existing_contacts_and_stores_the_diff() {
    let h = Harness::new();
    let jane = h.existing(person("Jane", "Doe", Some("jane@acme.io"), None)).await;
    let same = person("Mark", "Lee", Some("mark@lee.dev"), Some("+1 415 555 0123"));
    h.existing(same.clone()).await;
    let mut newer = person("Jane", "Doe", Some("jane@acme.io"), None);
    newer.job_title = Some("CEO".into());
    let source = ScriptedSource::with(
        10,
        vec![incoming("a", newer), incoming("b", same), incoming("c", person("Zoe", "Quinn", Some("zoe@q.io"), None))],
    );
    let svc = h.service();
    let r = svc.preview(h.org, &source, request(&h, FetchMode::Full)).await.unwrap();
    assert_eq!((r.counts.listed, r.counts.unchanged, r.counts.update, r.counts.create), (2, 1, 1, 1));

    let updates = svc
        .list_items(h.org, r.run_id, ItemQuery { action: Some(Action::Update), ..ItemQuery::default() })
        .await
        .unwrap();
    let u = &updates.items[0];
    assert_eq!(u.target, Some(jane));
    assert_eq!(u.recommendation.base_version, Some(1));
    assert!(u.recommendation.reasons.iter().any(|r| r.contains("same email")), "{:?}", u.recommendation.reasons);
    assert_eq!(u.item.diff, serde_json::json!([{ "field": "job_title", "change": "added", "after": "CEO" }]));
    assert!(u.item.confidence > 0.9);
    assert_eq!(u.item.review, ReviewState::Pending, "nothing is approved without a policy");
}

#[tokio::test]
async fn filters_limit_the_listing_and_hold_the_cursor_back() {
    let h = Harness::new();
    let mut vip = person("Ann", "Vip", Some("ann@vip.io"), None);
    vip.tags.insert("VIP".into());
    let mut vip2 = person("Ben", "Vip", Some("ben@vip.io"), None);
    vip2.tags.insert("vip".into());
    let source = ScriptedSource::with(
        1,
        vec![incoming("1", vip), incoming("2", person("Cy", "Plain", None, None)), incoming("3", vip2)],
    );
    let svc = h.service();
    let by_tag = SyncFilters { categories: vec!["vip".into()], ..SyncFilters::default() };
    let r =
        svc.preview(h.org, &source, PreviewRequest { filters: by_tag, ..request(&h, FetchMode::Full) }).await.unwrap();
    assert_eq!((r.counts.listed, r.counts.filtered_out), (2, 1));
    assert!(!r.cursor_pending, "a filtered listing never advances the cursor");

    let capped = SyncFilters { max_contacts: Some(2), ..SyncFilters::default() };
    let r =
        svc.preview(h.org, &source, PreviewRequest { filters: capped, ..request(&h, FetchMode::Full) }).await.unwrap();
    assert_eq!(r.counts.listed, 2);
    assert!(r.truncated && !r.cursor_pending);
    svc.approve_high_confidence(h.org, r.run_id).await.unwrap();
    svc.execute(h.org, r.run_id, Actor::System("test".into())).await.unwrap();
    assert_eq!(h.store.get_cursor(h.org, h.conn, "contacts").await.unwrap(), None);
}

#[tokio::test]
async fn the_same_person_twice_in_one_source_is_flagged_as_a_duplicate() {
    let h = Harness::new();
    let source = ScriptedSource::with(
        10,
        vec![
            incoming("1", person("Jane", "Doe", Some("jane@acme.io"), None)),
            incoming("2", person("Janet", "Doe", Some("JANE@acme.io"), None)),
        ],
    );
    let svc = h.service();
    let r = svc.preview(h.org, &source, request(&h, FetchMode::Full)).await.unwrap();
    assert_eq!((r.counts.create, r.counts.skip), (1, 1));
    let items = svc.list_items(h.org, r.run_id, ItemQuery::default()).await.unwrap().items;
    assert_eq!(items[1].recommendation.duplicate_of, Some(items[0].item.id));
    assert_eq!(items[1].recommendation.rule_action, Action::Create);
    assert!(items[1].is_duplicate());
}

#[tokio::test]
async fn a_failing_source_fails_the_run() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.csv");
    write(&path, "id,email\n1,a@b.io\n");
    let source = FileSource::open(&path, CsvOptions::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let svc = h.service();
    let err = svc.preview(h.org, &source, request(&h, FetchMode::Full)).await.unwrap_err();
    assert!(matches!(err, rolodex_app::sync::SyncError::Source { provider: "file", .. }), "{err:?}");
    let runs = h.store.list_runs(h.org, &Default::default()).await.unwrap();
    assert_eq!(runs[0].status, rolodex_domain::ports::storage::SyncStatus::Failed);
    assert!(runs[0].error.is_some());
}
