//! `apply_batch` keeps the index rows (blocking keys) of the contacts it writes as a one-at-a-time
//! write would: a soft delete drops the contact's name keys and keeps its e-mail and phone keys,
//! on SQLite and PostgreSQL.

use rolodex_domain::matching::index::BlockLimits;
use rolodex_domain::matching::{KeyKind, blocking_keys};
use rolodex_domain::ports::storage::{
    Actor, ApplyBatch, ApplyChange, ApplyOp, ContactStore, ItemDecision, ItemOutcome, NewContact, NewSyncItem,
    ReviewState, SyncRunStore,
};
use rolodex_domain::{ContactId, ContactStatus, IncomingContact, OrgId, SyncItemId};
use rolodex_store::Store;
use rolodex_testkit::store::contract::person;

use crate::harness::{clock, executing_run, pg_db, pg_store, sqlite};

/// Deletes one contact through `apply_batch` and another through `set_contact_status`; both keep
/// exactly their e-mail and phone keys.
async fn soft_delete_drops_name_keys(store: &Store) {
    let org = OrgId::new_v7();
    let add = async |given: &str, email: &str, phone: &str| {
        let (id, fields) = (ContactId::new_v7(), person(given, "Keyes", Some(email), Some(phone)));
        store
            .create_contact(org, NewContact { id, fields: fields.clone(), status: ContactStatus::Active }, &[])
            .await
            .expect("create");
        (id, blocking_keys(&fields))
    };
    let (batched, batched_keys) = add("Ann", "ann@keyes.io", "+14155550101").await;
    let (single, single_keys) = add("Bea", "bea@keyes.io", "+14155550102").await;
    assert!(batched_keys.iter().any(|k| k.kind == KeyKind::Name), "a name key to drop");

    let run = executing_run(store, org).await;
    let item = SyncItemId::new_v7();
    let new_item = NewSyncItem {
        id: item,
        incoming: IncomingContact::default(),
        decision: ItemDecision::Delete,
        target_contact_id: Some(batched),
        confidence: 1.0,
        diff: serde_json::json!([]),
        recommendation: serde_json::json!({}),
        review: ReviewState::Approved,
    };
    store.add_items(org, run, vec![new_item]).await.expect("item");
    let batch = ApplyBatch {
        run_id: run,
        actor: Actor::System("test".into()),
        changes: vec![ApplyChange {
            item_id: item,
            op: ApplyOp::Delete { id: batched, expected_version: 1 },
            link: None,
        }],
        cursor: None,
        jobs: vec![],
        known: vec![],
    };
    let report = store.apply_batch(org, batch).await.expect("the batch applies");
    assert_eq!(report.results[0].1.outcome, ItemOutcome::Deleted);
    store.set_contact_status(org, single, 1, ContactStatus::Deleted, &[]).await.expect("delete");

    for (how, id, keys) in [("apply_batch", batched, batched_keys), ("set_contact_status", single, single_keys)] {
        let blocks = store.find_key_blocks(org, &keys, BlockLimits::default()).await.expect("blocks");
        for (key, block) in keys.iter().zip(blocks) {
            let named = block.expect("a small block").contains(&id);
            let kept = key.kind != KeyKind::Name;
            assert_eq!(named, kept, "deleted by {how}: {:?} key {} kept: {named}", key.kind, key.value);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_batched_soft_delete_drops_name_keys() {
    soft_delete_drops_name_keys(&sqlite(clock()).await.store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_batched_soft_delete_drops_name_keys() {
    let Some(pg) = pg_db("batched_soft_delete").await else { return };
    soft_delete_drops_name_keys(&pg_store(&pg, clock()).await).await;
}
