//! Execute: only approved items, one audit row per change, counts, conflicts, merges, the cursor
//! and links committed with the batches, and a crash between batches resumed without duplicates.

use rolodex_app::sync::{FetchMode, ItemQuery, Override, PreviewRequest, SyncSettings};
use rolodex_domain::matching::Action;
use rolodex_domain::ports::SyncCursor;
use rolodex_domain::ports::storage::{Actor, CursorStore, LinkStore, ReviewState, SyncRunStore, SyncStatus};

use crate::support::{Harness, ScriptedSource, incoming, person};

fn actor() -> Actor {
    Actor::System("test".into())
}

fn full(h: &Harness) -> PreviewRequest {
    PreviewRequest { connection_id: Some(h.conn), mode: FetchMode::Full, ..PreviewRequest::default() }
}

#[tokio::test]
async fn applies_only_approved_items_with_one_audit_row_per_change() {
    let h = Harness::new();
    let jane = h.existing(person("Jane", "Doe", Some("jane@acme.io"), None)).await;
    let mut update = person("Jane", "Doe", Some("jane@acme.io"), None);
    update.company = Some("Acme".into());
    let source = ScriptedSource::with(
        10,
        vec![
            incoming("1", person("Ann", "Able", Some("ann@able.io"), None)),
            incoming("2", person("Ben", "Best", Some("ben@best.io"), None)),
            incoming("3", person("Cat", "Cole", Some("cat@cole.io"), None)),
            incoming("4", person("Dan", "Dale", Some("dan@dale.io"), None)),
            incoming("5", update),
        ],
    );
    let svc = h.service();
    let run = svc.preview(h.org, &source, full(&h)).await.unwrap().run_id;
    let ids: Vec<_> =
        svc.list_items(h.org, run, ItemQuery::default()).await.unwrap().items.iter().map(|v| v.item.id).collect();
    svc.approve(h.org, run, &[ids[0], ids[1], ids[4]]).await.unwrap();
    svc.reject(h.org, run, &[ids[2]]).await.unwrap();

    let report = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((report.created, report.updated, report.merged, report.skipped, report.failed), (2, 1, 0, 0, 0));
    assert_eq!(report.status, Some(SyncStatus::Preview), "one item still waits for a person");
    assert_eq!(h.store.contacts_of(h.org).len(), 3);
    let audit: Vec<_> = h.store.audit_of(h.org).into_iter().filter(|e| e.entry.entity_type == "contact").collect();
    assert_eq!(audit.len(), 3, "one audit row per change");
    let upd = audit.iter().find(|e| e.entry.entity_id == jane.to_string()).unwrap();
    assert_eq!(upd.entry.before.as_ref().unwrap()["company"], serde_json::Value::Null);
    assert_eq!(upd.entry.after.as_ref().unwrap()["company"], "Acme");
    assert_eq!(upd.entry.run_id, Some(run));
    let stored = h.store.get_run(h.org, run).await.unwrap();
    assert_eq!((stored.counts.created, stored.counts.updated), (2, 1));
    let rejected = svc.item(h.org, run, ids[2]).await.unwrap();
    assert_eq!((rejected.item.review, rejected.item.result), (ReviewState::Rejected, None));

    // The person comes back, approves the last one, and the run completes.
    svc.approve(h.org, run, &[ids[3]]).await.unwrap();
    let report = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((report.created, report.status), (1, Some(SyncStatus::Completed)));
    let err = svc.approve(h.org, run, &[ids[2]]).await.unwrap_err();
    assert!(matches!(err, rolodex_app::sync::SyncError::RunFinished { .. }), "{err:?}");
}

#[tokio::test]
async fn a_crash_between_batches_resumes_without_duplicates_and_the_cursor_waits_for_the_last_batch() {
    let h = Harness::new();
    let people = ["Ann Able", "Ben Best", "Cat Cole", "Dan Dale", "Eve Ernst"];
    let source = ScriptedSource::with(
        2,
        people
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let (g, f) = n.split_once(' ').unwrap();
                incoming(&i.to_string(), person(g, f, Some(&format!("{g}@{f}.io").to_lowercase()), None))
            })
            .collect(),
    );
    let settings = SyncSettings { apply_batch: 2, ..SyncSettings::default() };
    let svc = h.service_with(settings);
    let req = PreviewRequest { mode: FetchMode::Incremental, ..full(&h) };
    let preview = svc.preview(h.org, &source, req).await.unwrap();
    assert!(preview.cursor_pending);
    assert_eq!(h.store.get_cursor(h.org, h.conn, "contacts").await.unwrap(), None, "preview never moves the cursor");
    svc.approve_high_confidence(h.org, preview.run_id).await.unwrap();

    h.store.fail_apply_batch(2);
    svc.execute(h.org, preview.run_id, actor()).await.unwrap_err();
    assert_eq!(h.store.contacts_of(h.org).len(), 2, "the first batch committed, the second did not");
    assert_eq!(h.store.get_cursor(h.org, h.conn, "contacts").await.unwrap(), None);
    assert!(h.store.find_link(h.org, h.conn, "2").await.unwrap().is_none(), "no link without its batch");
    let progress = svc.progress(h.org, preview.run_id).await.unwrap();
    assert_eq!((progress.status, progress.counts.created, progress.approved_remaining), (SyncStatus::Executing, 2, 3));

    let resumed = h.service_with(settings).execute(h.org, preview.run_id, actor()).await.unwrap();
    assert_eq!((resumed.created, resumed.batches, resumed.cursor_advanced), (3, 2, true));
    assert_eq!(h.store.contacts_of(h.org).len(), 5, "no duplicates");
    assert_eq!(h.store.audit_of(h.org).len(), 5);
    assert_eq!(h.store.get_cursor(h.org, h.conn, "contacts").await.unwrap().unwrap().cursor, SyncCursor("v5".into()));
    assert!(h.store.find_link(h.org, h.conn, "4").await.unwrap().unwrap().snapshot_hash.is_some());

    // Nothing changed at the source: the next incremental preview fetches and lists nothing.
    let next = svc.preview(h.org, &source, PreviewRequest { mode: FetchMode::Incremental, ..full(&h) }).await.unwrap();
    assert_eq!((next.counts.fetched, next.counts.listed), (0, 0));
}

#[tokio::test]
async fn a_contact_changed_since_the_preview_fails_with_the_reason() {
    let h = Harness::new();
    let jane = h.existing(person("Jane", "Doe", Some("jane@acme.io"), None)).await;
    let mut update = person("Jane", "Doe", Some("jane@acme.io"), None);
    update.job_title = Some("CEO".into());
    let source = ScriptedSource::with(10, vec![incoming("1", update)]);
    let svc = h.service();
    let run = svc.preview(h.org, &source, full(&h)).await.unwrap().run_id;
    h.store.edit_contact(h.org, jane, |f| f.company = Some("Edited".into()));
    svc.approve_high_confidence(h.org, run).await.unwrap();
    let report = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((report.updated, report.failed), (0, 1));
    assert!(report.failures[0].1.contains("changed by someone else"), "{:?}", report.failures);
    assert!(h.store.find_link(h.org, h.conn, "1").await.unwrap().is_none(), "a failed item writes no link");
}

#[tokio::test]
async fn merges_are_counted_and_two_items_for_one_contact_apply_in_turn() {
    let h = Harness::new();
    let jane = h.existing(person("Jane", "Doe", Some("jane@acme.io"), Some("+1 415 555 0199"))).await;
    let mut first = person("Jane", "Doe", Some("jane@acme.io"), None);
    first.job_title = Some("CEO".into());
    let mut second = person("Jane", "Doe", Some("jane@acme.io"), None);
    second.company = Some("Acme".into());
    let source = ScriptedSource::with(
        10,
        vec![
            incoming("1", first),
            incoming("2", second),
            incoming("3", person("Bob", "Brown", Some("bob@brown.io"), Some("+1 415 555 0199"))),
        ],
    );
    let svc = h.service();
    let run = svc.preview(h.org, &source, full(&h)).await.unwrap().run_id;
    let items = svc.list_items(h.org, run, ItemQuery::default()).await.unwrap().items;
    assert_eq!(items.iter().map(|v| v.action).collect::<Vec<_>>(), [Action::Update, Action::Skip, Action::Review]);
    let who = actor();
    svc.approve(h.org, run, &[items[0].item.id]).await.unwrap();
    svc.override_item(h.org, run, items[1].item.id, Override { action: Action::Update, target: Some(jane) }, &who)
        .await
        .unwrap();
    svc.override_item(h.org, run, items[2].item.id, Override { action: Action::Merge, target: Some(jane) }, &who)
        .await
        .unwrap();
    let report = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((report.updated, report.merged, report.failed), (2, 1, 0), "{:?}", report.failures);
    let merged = h.store.contacts_of(h.org).into_iter().find(|c| c.id == jane).unwrap();
    assert_eq!(merged.version, 4);
    assert_eq!(merged.fields.job_title.as_deref(), Some("CEO"));
    assert_eq!(merged.fields.company.as_deref(), Some("Acme"));
    assert_eq!(merged.fields.given_name.as_deref(), Some("Jane"), "a merge only fills blanks");
    assert_eq!(merged.fields.emails.len(), 2);
}

#[tokio::test]
async fn a_run_larger_than_one_listing_page_is_applied_whole() {
    // Listings return at most `MAX_PAGE` (1,000) items; with the default batch of 1,000 an
    // execute must still apply every batch, and write the cursor after an exactly full last one.
    let h = Harness::new();
    let n = 2_000;
    let source = ScriptedSource::with(
        500,
        (0..n)
            .map(|i| {
                incoming(&i.to_string(), person(&format!("Given{i}"), "Family", Some(&format!("p{i}@x.io")), None))
            })
            .collect(),
    );
    let svc = h.service();
    let req = PreviewRequest { mode: FetchMode::Incremental, ..full(&h) };
    let preview = svc.preview(h.org, &source, req).await.unwrap();
    assert_eq!(preview.counts.create, n);
    assert_eq!(svc.approve_high_confidence(h.org, preview.run_id).await.unwrap(), n);
    let report = svc.execute(h.org, preview.run_id, actor()).await.unwrap();
    assert_eq!((report.created, report.failed, report.status), (n, 0, Some(SyncStatus::Completed)));
    assert!(report.cursor_advanced, "the cursor moves with the last write");
    assert_eq!(h.store.contacts_of(h.org).len() as u64, n);
    assert!(h.store.get_cursor(h.org, h.conn, "contacts").await.unwrap().is_some());
}

/// `n` new people, external ids `new-0`…, for runs of several batches.
fn newcomers(n: usize) -> Vec<rolodex_domain::IncomingContact> {
    (0..n)
        .map(|i| {
            incoming(&format!("new-{i}"), person(&format!("Given{i}"), "Newcomer", Some(&format!("n{i}@x.io")), None))
        })
        .collect()
}

#[tokio::test]
async fn batches_in_flight_side_by_side_never_share_a_contact_and_the_cursor_batch_goes_alone() {
    let h = Harness::new();
    h.store.set_apply_concurrency(3);
    let jane = h.existing(person("Jane", "Doe", Some("jane@acme.io"), None)).await;
    let mut records = newcomers(12);
    // Two records for Jane, in the second and the third batch (batches of 2), which would be in
    // flight together: the second waits for a later batch.
    let mut first = person("Jane", "Doe", Some("jane@acme.io"), None);
    first.job_title = Some("CEO".into());
    let mut second = person("Jane", "Doe", Some("jane@acme.io"), None);
    second.company = Some("Acme".into());
    records.insert(2, incoming("jane-a", first));
    records.insert(4, incoming("jane-b", second));
    let source = ScriptedSource::with(4, records);
    let settings = SyncSettings { apply_batch: 2, ..SyncSettings::default() };
    let svc = h.service_with(settings);
    let preview =
        svc.preview(h.org, &source, PreviewRequest { mode: FetchMode::Incremental, ..full(&h) }).await.unwrap();
    let run = preview.run_id;
    svc.approve_high_confidence(h.org, run).await.unwrap();
    let items = svc.list_items(h.org, run, ItemQuery::default()).await.unwrap().items;
    let second_jane = items.iter().find(|v| v.item.incoming.external_id.as_deref() == Some("jane-b")).unwrap();
    svc.override_item(
        h.org,
        run,
        second_jane.item.id,
        Override { action: Action::Update, target: Some(jane) },
        &actor(),
    )
    .await
    .unwrap();

    let report = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((report.created, report.updated, report.failed), (12, 2, 0), "{:?}", report.failures);
    assert!(report.cursor_advanced);
    let (most, breaches) = h.store.apply_overlap();
    assert!(most >= 2, "batches went one at a time (most in flight: {most})");
    assert!(most <= 3, "more batches in flight than the store advised: {most}");
    assert!(breaches.is_empty(), "{breaches:?}");
    let jane_now = h.store.contacts_of(h.org).into_iter().find(|c| c.id == jane).unwrap();
    assert_eq!(jane_now.version, 3, "both updates applied, one after the other");
    assert_eq!(jane_now.fields.job_title.as_deref(), Some("CEO"));
    assert_eq!(jane_now.fields.company.as_deref(), Some("Acme"));
    assert_eq!(h.store.contacts_of(h.org).len(), 13);
    assert_eq!(h.store.audit_of(h.org).len(), 14 + 1, "one per change, and the override");
}

#[tokio::test]
async fn a_failed_batch_among_several_in_flight_resumes_without_duplicates() {
    let h = Harness::new();
    h.store.set_apply_concurrency(3);
    let source = ScriptedSource::with(4, newcomers(10));
    let settings = SyncSettings { apply_batch: 2, ..SyncSettings::default() };
    let svc = h.service_with(settings);
    let run =
        svc.preview(h.org, &source, PreviewRequest { mode: FetchMode::Incremental, ..full(&h) }).await.unwrap().run_id;
    svc.approve_high_confidence(h.org, run).await.unwrap();

    h.store.fail_apply_batch(2);
    svc.execute(h.org, run, actor()).await.unwrap_err();
    let committed = h.store.contacts_of(h.org).len();
    assert!((2..=6).contains(&committed), "batch 1 and the ones beside the failed one: {committed}");
    assert_eq!(
        h.store.get_cursor(h.org, h.conn, "contacts").await.unwrap(),
        None,
        "the cursor waits for the last batch"
    );
    let progress = svc.progress(h.org, run).await.unwrap();
    assert_eq!(progress.counts.created as usize, committed);

    let resumed = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!(resumed.created as usize + committed, 10);
    assert!(resumed.cursor_advanced);
    assert_eq!(h.store.contacts_of(h.org).len(), 10, "no duplicates");
    assert_eq!(h.store.audit_of(h.org).len(), 10);
    let (most, breaches) = h.store.apply_overlap();
    assert!(most >= 2 && breaches.is_empty(), "{most} {breaches:?}");
}

#[tokio::test]
async fn one_pass_applies_a_run_and_an_item_approved_behind_it_gets_another() {
    // Nothing reviewed while execute runs: one pass, no second listing to find nothing left.
    let h = Harness::new();
    let settings = SyncSettings { apply_batch: 2, ..SyncSettings::default() };
    let svc = h.service_with(settings);
    let source = ScriptedSource::with(4, newcomers(6));
    let run =
        svc.preview(h.org, &source, PreviewRequest { mode: FetchMode::Incremental, ..full(&h) }).await.unwrap().run_id;
    svc.approve_high_confidence(h.org, run).await.unwrap();
    let report = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((report.created, report.status), (6, Some(SyncStatus::Completed)));
    assert_eq!(h.store.passes(), 1, "the run's review counter did not move: one pass");

    // A person approves the first item while the pass applies its second batch: behind the pass.
    let h = Harness::new();
    let svc = h.service_with(settings);
    let run =
        svc.preview(h.org, &source, PreviewRequest { mode: FetchMode::Incremental, ..full(&h) }).await.unwrap().run_id;
    let ids: Vec<_> =
        svc.list_items(h.org, run, ItemQuery::default()).await.unwrap().items.iter().map(|v| v.item.id).collect();
    assert_eq!(ids.len(), 6);
    svc.approve(h.org, run, &ids[1..]).await.unwrap();
    h.store.approve_during_apply_batch(2, vec![ids[0]]);
    let report = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((report.created, report.status), (6, Some(SyncStatus::Completed)), "{:?}", report.failures);
    assert_eq!(h.store.contacts_of(h.org).len(), 6);
    assert_eq!(h.store.passes(), 2, "one more pass for the item approved behind the first, and no third");
    let first = svc.item(h.org, run, ids[0]).await.unwrap();
    assert!(first.item.result.is_some(), "the late approval was applied");
}
