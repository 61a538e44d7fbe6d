//! Source deletions: a record the source reports deleted becomes a `delete` item for its linked
//! contact, never auto-approved; once a person approves it, execute soft-deletes the contact.

use rolodex_app::sync::{ItemQuery, Override, PreviewRequest, SyncError, SyncFilters};
use rolodex_domain::matching::{Action, Confidence};
use rolodex_domain::ports::storage::{
    Actor, AuditFilter, AuditLog, ContactStore, LinkStore, ProviderLink, ReviewState, SyncRunStore, SyncStatus,
};
use rolodex_domain::{ContactId, ContactStatus, SyncRunId};

use crate::support::{Harness, ScriptedSource, incoming, person};

fn actor() -> Actor {
    Actor::System("test".into())
}

/// Two contacts synced from a source, then record "2" deleted there: returns the source and the
/// contact linked to "2".
async fn synced_then_deleted(h: &Harness) -> (ScriptedSource, ContactId) {
    let source = ScriptedSource::with(
        10,
        vec![
            incoming("1", person("Ann", "Able", Some("ann@able.io"), None)),
            incoming("2", person("Ben", "Best", Some("ben@best.io"), None)),
        ],
    );
    let first = h.service().run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.expect("first sync");
    assert_eq!(first.execute.created, 2);
    let ben = h.store.find_link(h.org, h.conn, "2").await.expect("find").expect("linked").contact_id;
    source.delete("2");
    (source, ben)
}

async fn only_item(h: &Harness, run: SyncRunId) -> rolodex_app::sync::ItemView {
    let page = h.service().list_items(h.org, run, ItemQuery::default()).await.expect("items");
    assert_eq!(page.items.len(), 1, "{:?}", page.items);
    page.items.into_iter().next().expect("one item")
}

#[tokio::test]
async fn a_source_deletion_is_proposed_never_auto_approved_and_soft_deletes_once_approved() {
    let h = Harness::new();
    let (source, ben) = synced_then_deleted(&h).await;
    let svc = h.service();

    // Even the unattended run only proposes it.
    let r = svc.run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap();
    let c = r.preview.counts;
    assert_eq!((c.deleted_at_source, c.listed, c.delete, c.auto_approved), (1, 1, 1, 0));
    assert_eq!((r.execute.deleted, r.execute.status), (0, Some(SyncStatus::Preview)));
    let run = r.preview.run_id;
    let item = only_item(&h, run).await;
    assert_eq!((item.action, item.target, item.item.review), (Action::Delete, Some(ben), ReviewState::Pending));
    assert_eq!(item.recommendation.confidence, Confidence::High);
    assert!(item.recommendation.reasons[0].contains("deleted at the source"), "{:?}", item.recommendation.reasons);
    assert_eq!(svc.approve_high_confidence(h.org, run).await.unwrap(), 0, "bulk approval leaves deletions alone");
    assert_eq!(h.store.get_contact(h.org, ben).await.unwrap().status, ContactStatus::Active);

    // A person approves it.
    assert_eq!(svc.approve(h.org, run, &[item.item.id]).await.unwrap(), 1);
    let done = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((done.deleted, done.failed, done.status), (1, 0, Some(SyncStatus::Completed)));
    let contact = h.store.get_contact(h.org, ben).await.unwrap();
    assert_eq!((contact.status, contact.version), (ContactStatus::Deleted, 2), "soft-deleted, kept");
    assert_eq!(h.store.get_run(h.org, run).await.unwrap().counts.deleted, 1);
    let audit = h.store.list_audit(h.org, &AuditFilter { run_id: Some(run), ..AuditFilter::default() }).await.unwrap();
    assert!(
        audit.iter().any(|e| e.entry.action == "delete" && e.entry.entity_id == ben.to_string()),
        "the delete is audited: {audit:?}"
    );
    let ann = h.store.find_link(h.org, h.conn, "1").await.unwrap().expect("linked").contact_id;
    assert_eq!(h.store.get_contact(h.org, ann).await.unwrap().status, ContactStatus::Active, "only Ben goes");

    // Reported again (nothing changed since): an already-deleted contact proposes nothing.
    source.delete("2");
    let again = svc.run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap();
    assert_eq!((again.preview.counts.deleted_at_source, again.preview.counts.listed), (1, 0));
}

#[tokio::test]
async fn a_record_never_linked_proposes_nothing() {
    let h = Harness::new();
    let (source, _) = synced_then_deleted(&h).await;
    source.delete("never-seen");
    let r = h.service().run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap();
    assert_eq!((r.preview.counts.deleted_at_source, r.preview.counts.delete), (2, 1), "only the linked one");
}

#[tokio::test]
async fn a_deletion_can_be_kept_as_skip_and_only_deletions_can_delete() {
    let h = Harness::new();
    let (source, ben) = synced_then_deleted(&h).await;
    source.upsert(incoming("3", person("Cid", "Cole", Some("cid@cole.io"), None)));
    let svc = h.service();
    let request = PreviewRequest { connection_id: Some(h.conn), ..PreviewRequest::default() };
    let run = svc.preview(h.org, &source, request).await.unwrap().run_id;
    let items = svc.list_items(h.org, run, ItemQuery::default()).await.unwrap().items;
    let deletion = items.iter().find(|v| v.action == Action::Delete).expect("the deletion").item.id;
    let create = items.iter().find(|v| v.action == Action::Create).expect("the new contact").item.id;

    let to_delete = Override { action: Action::Delete, target: None };
    let refused = svc.override_item(h.org, run, create, to_delete, &actor()).await;
    assert!(matches!(refused, Err(SyncError::InvalidOverride(_))), "{refused:?}");
    let to_update = Override { action: Action::Update, target: Some(ben) };
    let refused = svc.override_item(h.org, run, deletion, to_update, &actor()).await;
    assert!(matches!(refused, Err(SyncError::InvalidOverride(_))), "a deletion has no data to write: {refused:?}");

    // Keep the contact: skip it, then change our mind and delete after all, then skip again.
    let skip = Override { action: Action::Skip, target: None };
    svc.override_item(h.org, run, deletion, skip, &actor()).await.unwrap();
    let back = svc.override_item(h.org, run, deletion, to_delete, &actor()).await.unwrap();
    assert_eq!((back.action, back.target), (Action::Delete, Some(ben)), "back to deleting its own contact");
    let view = svc.override_item(h.org, run, deletion, skip, &actor()).await.unwrap();
    assert_eq!(view.action, Action::Skip);
    svc.approve(h.org, run, &[create]).await.unwrap();
    let done = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((done.created, done.deleted, done.skipped), (1, 0, 1));
    assert_eq!(h.store.get_contact(h.org, ben).await.unwrap().status, ContactStatus::Active);
}

#[tokio::test]
async fn a_contact_edited_since_the_preview_is_not_deleted() {
    let h = Harness::new();
    let (source, ben) = synced_then_deleted(&h).await;
    let svc = h.service();
    let r = svc.run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap();
    let run = r.preview.run_id;
    let item = only_item(&h, run).await;
    svc.approve(h.org, run, &[item.item.id]).await.unwrap();
    h.store.update_contact(h.org, ben, 1, person("Ben", "Best-Edited", None, None), &[]).await.unwrap();
    let done = svc.execute(h.org, run, actor()).await.unwrap();
    assert_eq!((done.deleted, done.failed), (0, 1));
    assert!(done.failures[0].1.contains("changed"), "{:?}", done.failures);
    assert_eq!(h.store.get_contact(h.org, ben).await.unwrap().status, ContactStatus::Active);
}

#[tokio::test]
async fn a_contact_still_linked_elsewhere_gets_a_warning_and_medium_confidence() {
    let h = Harness::new();
    let (source, ben) = synced_then_deleted(&h).await;
    let mut other = h.store.find_link(h.org, h.conn, "1").await.unwrap().expect("link");
    other.external_id = "2-copy".into();
    other.contact_id = ben;
    h.store.upsert_link(h.org, &ProviderLink { ..other }).await.unwrap();
    let r = h.service().run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap();
    let item = only_item(&h, r.preview.run_id).await;
    assert_eq!((item.action, item.recommendation.confidence), (Action::Delete, Confidence::Medium));
    assert!(item.recommendation.warnings.iter().any(|w| w.contains("2-copy")), "{:?}", item.recommendation.warnings);
}

#[tokio::test]
async fn the_categories_filter_applies_to_the_contact_a_deletion_would_remove() {
    let h = Harness::new();
    let (source, _) = synced_then_deleted(&h).await;
    let filters = SyncFilters { categories: vec!["vip".into()], ..SyncFilters::default() };
    let r = h.service().run_scheduled(h.org, h.conn, &source, filters).await.unwrap();
    assert_eq!((r.preview.counts.delete, r.preview.counts.filtered_out), (0, 1), "Ben is not a VIP");
    assert!(!r.preview.cursor_pending, "what was left out comes back next time");
}
