//! Review: listing with filters and paging, approve / reject / override, the bulk operations, and
//! leaving a run to resume it from another service instance.

use rolodex_app::sync::{FetchMode, ItemQuery, Override, PreviewRequest, SyncError, Verdict};
use rolodex_domain::matching::{Action, Confidence};
use rolodex_domain::ports::storage::{Actor, AuditFilter, AuditLog, ReviewState};
use rolodex_domain::{ContactId, SyncItemId};

use crate::support::{Harness, ScriptedSource, incoming, person};

fn reviewer() -> Actor {
    Actor::System("reviewer".into())
}

/// Existing: Jane (email and phone). Incoming: 3 new people (create, high), an update of Jane
/// (high), and "Bob" using Jane's phone (review, low: the names disagree).
async fn previewed(h: &Harness) -> (rolodex_domain::SyncRunId, ContactId) {
    let jane = h.existing(person("Jane", "Doe", Some("jane@acme.io"), Some("+1 415 555 0199"))).await;
    let mut update = person("Jane", "Doe", Some("jane@acme.io"), None);
    update.job_title = Some("CTO".into());
    let source = ScriptedSource::with(
        2,
        vec![
            incoming("1", person("Ann", "Able", Some("ann@able.io"), None)),
            incoming("2", update),
            incoming("3", person("Bob", "Brown", Some("bob@brown.io"), Some("+1 415 555 0199"))),
            incoming("4", person("Cat", "Cole", Some("cat@cole.io"), None)),
            incoming("5", person("Dan", "Dale", Some("dan@dale.io"), None)),
        ],
    );
    let req = PreviewRequest { connection_id: Some(h.conn), mode: FetchMode::Full, ..PreviewRequest::default() };
    let r = h.service().preview(h.org, &source, req).await.expect("preview");
    assert_eq!((r.counts.create, r.counts.update, r.counts.review), (3, 1, 1));
    (r.run_id, jane)
}

#[tokio::test]
async fn items_are_listed_by_action_confidence_and_review_state_in_pages() {
    let h = Harness::new();
    let (run, _) = previewed(&h).await;
    let svc = h.service();
    let count = |q: ItemQuery| {
        let svc = svc.clone();
        async move { svc.list_items(h.org, run, q).await.unwrap().items.len() }
    };
    for (query, expected) in [
        (ItemQuery::default(), 5),
        (ItemQuery { action: Some(Action::Create), ..ItemQuery::default() }, 3),
        (ItemQuery { action: Some(Action::Review), ..ItemQuery::default() }, 1),
        (ItemQuery { confidence: Some(Confidence::High), ..ItemQuery::default() }, 4),
        (ItemQuery { confidence: Some(Confidence::Low), ..ItemQuery::default() }, 1),
        (ItemQuery { review: Some(ReviewState::Approved), ..ItemQuery::default() }, 0),
        (ItemQuery { review: Some(ReviewState::Pending), ..ItemQuery::default() }, 5),
    ] {
        assert_eq!(count(query).await, expected, "{query:?}");
    }
    let page1 = svc.list_items(h.org, run, ItemQuery { limit: 2, ..ItemQuery::default() }).await.unwrap();
    assert_eq!(page1.items.len(), 2);
    let page2 = svc
        .list_items(h.org, run, ItemQuery { limit: 2, after_position: page1.next_after, ..ItemQuery::default() })
        .await
        .unwrap();
    let page3 = svc
        .list_items(h.org, run, ItemQuery { limit: 2, after_position: page2.next_after, ..ItemQuery::default() })
        .await
        .unwrap();
    let positions: Vec<i64> =
        [page1.items, page2.items, page3.items.clone()].iter().flatten().map(|v| v.item.position).collect();
    assert_eq!(positions, [0, 1, 2, 3, 4]);
    assert_eq!(page3.next_after, None);
}

#[tokio::test]
async fn approve_reject_and_override_with_validation() {
    let h = Harness::new();
    let (run, jane) = previewed(&h).await;
    let svc = h.service();
    let all = svc.list_items(h.org, run, ItemQuery::default()).await.unwrap().items;
    let review_item = all.iter().find(|v| v.action == Action::Review).unwrap().item.id;
    let create_item = all.iter().find(|v| v.action == Action::Create).unwrap().item.id;

    let err = svc.approve(h.org, run, &[create_item, review_item]).await.unwrap_err();
    assert!(matches!(err, SyncError::NeedsDecision(id) if id == review_item), "{err:?}");
    assert_eq!(svc.item(h.org, run, create_item).await.unwrap().item.review, ReviewState::Pending, "all or nothing");

    let ghost = ContactId::new_v7();
    for (ov, ok) in [
        (Override { action: Action::Review, target: None }, false),
        (Override { action: Action::Merge, target: None }, false),
        (Override { action: Action::Create, target: Some(jane) }, false),
        (Override { action: Action::Merge, target: Some(ghost) }, false),
        (Override { action: Action::Merge, target: Some(jane) }, true),
    ] {
        let got = svc.override_item(h.org, run, review_item, ov, &reviewer()).await;
        assert_eq!(got.is_ok(), ok, "{ov:?}: {got:?}");
        if !ok {
            assert!(matches!(got, Err(SyncError::InvalidOverride(_))), "{got:?}");
        }
    }
    let view = svc.item(h.org, run, review_item).await.unwrap();
    assert!(view.overridden);
    assert_eq!((view.action, view.target, view.item.review), (Action::Merge, Some(jane), ReviewState::Approved));
    let entries = h
        .store
        .list_audit(h.org, &AuditFilter { entity_type: Some("sync_item".into()), ..AuditFilter::default() })
        .await
        .unwrap();
    assert_eq!(entries.len(), 1, "the override is audited with who made it");
    assert_eq!(entries[0].entry.actor, reviewer());

    assert_eq!(svc.reject(h.org, run, &[create_item]).await.unwrap(), 1);
    assert_eq!(svc.item(h.org, run, create_item).await.unwrap().item.review, ReviewState::Rejected);
    let err = svc.approve(h.org, run, &[SyncItemId::new_v7()]).await.unwrap_err();
    assert!(matches!(err, SyncError::ItemNotFound(_)), "{err:?}");
}

#[tokio::test]
async fn bulk_operations_and_resuming_later() {
    let h = Harness::new();
    let (run, _) = previewed(&h).await;
    // The first session approves the high-confidence items and leaves.
    assert_eq!(h.service().approve_high_confidence(h.org, run).await.unwrap(), 4);

    // A later session (a fresh service) finds the run as it was left.
    let svc = h.service();
    let progress = svc.progress(h.org, run).await.unwrap();
    assert_eq!((progress.approved_remaining, progress.pending_review), (4, 1));

    // Reject every create like Ann's (same action, same reasons): the three creates.
    let ann = svc.list_items(h.org, run, ItemQuery::default()).await.unwrap().items[0].item.id;
    assert_eq!(svc.apply_to_similar(h.org, run, ann, Verdict::Reject, &reviewer()).await.unwrap(), 3);
    let rejected = ItemQuery { review: Some(ReviewState::Rejected), ..ItemQuery::default() };
    assert_eq!(svc.list_items(h.org, run, rejected).await.unwrap().items.len(), 3);

    // Approving "similar to a review item" needs a decision first.
    let review_item =
        svc.list_items(h.org, run, ItemQuery { action: Some(Action::Review), ..ItemQuery::default() }).await.unwrap();
    let review_id = review_item.items[0].item.id;
    let err = svc.apply_to_similar(h.org, run, review_id, Verdict::Approve, &reviewer()).await.unwrap_err();
    assert!(matches!(err, SyncError::NeedsDecision(_)), "{err:?}");
    let skip = Override { action: Action::Skip, target: None };
    assert_eq!(svc.apply_to_similar(h.org, run, review_id, Verdict::Override(skip), &reviewer()).await.unwrap(), 1);
    assert_eq!(svc.item(h.org, run, review_id).await.unwrap().action, Action::Skip);
}

#[tokio::test]
async fn skip_duplicates_turns_possible_duplicates_into_approved_skips() {
    let h = Harness::new();
    let source = ScriptedSource::with(
        10,
        vec![
            incoming("1", person("Jane", "Doe", Some("jane@acme.io"), None)),
            incoming("2", person("Jane", "Doe", Some("jane@acme.io"), None)),
            incoming("3", person("Zed", "Zane", Some("zed@zane.io"), None)),
        ],
    );
    let req = PreviewRequest { connection_id: Some(h.conn), mode: FetchMode::Full, ..PreviewRequest::default() };
    let svc = h.service();
    let r = svc.preview(h.org, &source, req).await.unwrap();
    assert_eq!(svc.skip_duplicates(h.org, r.run_id, &reviewer()).await.unwrap(), 1);
    let approved = ItemQuery { review: Some(ReviewState::Approved), ..ItemQuery::default() };
    let items = svc.list_items(h.org, r.run_id, approved).await.unwrap().items;
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].action, items[0].item.position), (Action::Skip, 1));
    svc.approve_high_confidence(h.org, r.run_id).await.unwrap();
    let done = svc.execute(h.org, r.run_id, reviewer()).await.unwrap();
    assert_eq!((done.created, done.skipped), (2, 1));
}
