//! PostgreSQL-only checks: concurrent claimers never share a job and lose none; the matching
//! lookups use their indexes (`EXPLAIN`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rolodex_domain::ports::storage::{JobQueue, JobState, NewJob};
use rolodex_domain::{JobId, OrgId};
use tokio::sync::Mutex;

use crate::harness::{clock, pg_db, pg_store};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_a_job_and_lose_none() {
    let Some(pg) = pg_db("concurrent_claimers").await else { return };
    let store = Arc::new(pg_store(&pg, Arc::new(rolodex_domain::ports::SystemClock)).await);
    let org = OrgId::new_v7();
    const JOBS: usize = 400;
    for i in 0..JOBS {
        store.enqueue(org, NewJob::new("work", serde_json::json!({ "i": i })).on_queue("c")).await.unwrap();
    }
    let running: Arc<Mutex<HashSet<JobId>>> = Arc::default();
    let done: Arc<Mutex<Vec<JobId>>> = Arc::default();
    let overlaps = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..6 {
        let (store, running, done, overlaps) = (store.clone(), running.clone(), done.clone(), overlaps.clone());
        workers.push(tokio::spawn(async move {
            let name = format!("w{w}");
            loop {
                let jobs = store.claim(&["c"], &name, Duration::from_secs(60), 7).await.unwrap();
                if jobs.is_empty() {
                    break;
                }
                for j in jobs {
                    if !running.lock().await.insert(j.id) {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::task::yield_now().await;
                    running.lock().await.remove(&j.id);
                    store.complete(org, j.id, &name).await.unwrap();
                    done.lock().await.push(j.id);
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let done = done.lock().await;
    let unique: HashSet<_> = done.iter().collect();
    assert_eq!(AtomicUsize::load(&overlaps, Ordering::SeqCst), 0, "no job ran twice at once");
    assert_eq!(done.len(), JOBS, "every job ran exactly once");
    assert_eq!(unique.len(), JOBS);
    assert_eq!(store.list_jobs(org, JobState::Completed, 1000).await.unwrap().len(), JOBS, "none lost");
}

#[derive(diesel::QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

async fn plan(c: &mut AsyncPgConnection, sql: &str) -> String {
    let lines: Vec<PlanLine> = diesel::sql_query(format!("EXPLAIN {sql}")).load(c).await.expect("EXPLAIN runs");
    lines.into_iter().map(|l| l.line).collect::<Vec<_>>().join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn matching_lookups_use_their_indexes() {
    let Some(pg) = pg_db("explain").await else { return };
    let _store = pg_store(&pg, clock()).await;
    let mut c = AsyncPgConnection::establish(&pg.url).await.unwrap();
    // Sequential scans would win on empty tables; make the planner judge by the indexes alone.
    diesel_async::SimpleAsyncConnection::batch_execute(&mut c, "SET enable_seqscan = off").await.unwrap();
    let org = "'00000000-0000-0000-0000-000000000001'";
    for (what, sql, index) in [
        (
            "email key",
            format!(
                "SELECT contact_id FROM contact_keys WHERE org_id = {org} AND kind = 'email' AND value IN ('a@b.c')"
            ),
            "contact_keys_lookup",
        ),
        (
            "E.164 phone",
            format!(
                "SELECT contact_id FROM contact_keys WHERE org_id = {org} AND kind = 'phone' AND value IN ('+14155550123')"
            ),
            "contact_keys_lookup",
        ),
        (
            "name blocking key",
            format!(
                "SELECT contact_id FROM contact_keys WHERE org_id = {org} AND kind = 'name' AND value IN ('sx:D000:J500')"
            ),
            "contact_keys_lookup",
        ),
        (
            "email search",
            format!("SELECT contact_id FROM contact_keys WHERE org_id = {org} AND kind = 'email' AND value = 'a@b.c'"),
            "contact_keys_lookup",
        ),
        (
            "phone search",
            format!(
                "SELECT contact_id FROM contact_keys WHERE org_id = {org} AND kind = 'phone' AND value = '+14155550123'"
            ),
            "contact_keys_lookup",
        ),
        (
            "provider link",
            format!(
                "SELECT * FROM provider_links WHERE org_id = {org} AND connection_id = 'x' AND external_id = 'ghl-1'"
            ),
            "provider_links",
        ),
    ] {
        let p = plan(&mut c, &sql).await;
        assert!(p.contains("Index") && p.contains(index), "{what} must use {index}:\n{p}");
    }
    // A run's review overrides (`list_audit` by run and entity type, newest first): read in index
    // order, not every entry of the run read and sorted.
    let p = plan(
        &mut c,
        &format!(
            "SELECT * FROM audit_log WHERE org_id = {org} AND entity_type = 'sync_item' AND run_id = 'r' \
             ORDER BY at DESC, id DESC LIMIT 1000"
        ),
    )
    .await;
    assert!(p.contains("audit_log_org_run") && !p.contains("Sort"), "a run's overrides are read in index order:\n{p}");
}

#[derive(diesel::QueryableByName)]
struct NamedColumn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Identifiers, keys and enumerations in the indexes of the tables a sync writes compare byte by
/// byte: under the database's locale collation every B-tree comparison of them is a `strcoll()`.
#[tokio::test(flavor = "multi_thread")]
async fn indexed_identifier_columns_collate_bytewise() {
    let Some(pg) = pg_db("collation").await else { return };
    let _store = pg_store(&pg, clock()).await;
    let mut c = AsyncPgConnection::establish(&pg.url).await.unwrap();
    let locale: Vec<NamedColumn> = diesel::sql_query(
        "SELECT DISTINCT t.relname || '.' || a.attname AS name \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (i.indkey) \
         WHERE t.relname IN ('contacts', 'contact_keys', 'provider_links', 'sync_runs', 'sync_items', \
           'sync_item_results', 'audit_log', 'jobs') \
           AND a.atttypid = 'text'::regtype AND a.attcollation <> '\"C\"'::regcollation \
         ORDER BY 1",
    )
    .load(&mut c)
    .await
    .unwrap();
    let locale: Vec<String> = locale.into_iter().map(|n| n.name).collect();
    assert!(locale.is_empty(), "indexed text columns with a locale collation: {locale:?}");
}

/// An update whose new keys include a row that is already stored (one an older key algorithm or
/// another writer left, which the computed "before" does not show) keeps that row instead of
/// failing the whole batch on the primary key.
#[tokio::test(flavor = "multi_thread")]
async fn an_update_adding_a_key_that_is_already_stored_applies() {
    use rolodex_domain::IncomingContact;
    use rolodex_domain::matching::{KeyKind, blocking_keys};
    use rolodex_domain::ports::storage::{
        Actor, ApplyBatch, ApplyChange, ApplyOp, ContactStore, ItemDecision, ItemOutcome, NewContact, NewSyncItem,
        ReviewState, SyncRunStore,
    };
    use rolodex_domain::{ContactFields, ContactId, ContactStatus, EmailAddress, SyncItemId};

    let Some(pg) = pg_db("stale_key_row").await else { return };
    let store = pg_store(&pg, clock()).await;
    let org = OrgId::new_v7();
    let before = ContactFields {
        given_name: Some("Ada".into()),
        family_name: Some("Lovelace".into()),
        ..ContactFields::default()
    };
    let id = ContactId::new_v7();
    store
        .create_contact(org, NewContact { id, fields: before.clone(), status: ContactStatus::Active }, &[])
        .await
        .unwrap();
    let email = EmailAddress::parse("ada@example.com").unwrap();
    let after = ContactFields { emails: vec![email.clone()], ..before };
    let key = blocking_keys(&after).into_iter().find(|k| k.kind == KeyKind::Email).expect("an e-mail key");
    let mut c = AsyncPgConnection::establish(&pg.url).await.unwrap();
    diesel::sql_query("INSERT INTO contact_keys (contact_id, kind, value, org_id) VALUES ($1, 'email', $2, $3)")
        .bind::<diesel::sql_types::Text, _>(id.to_string())
        .bind::<diesel::sql_types::Text, _>(&key.value)
        .bind::<diesel::sql_types::Text, _>(org.to_string())
        .execute(&mut c)
        .await
        .unwrap();

    let run = crate::harness::executing_run(&store, org).await;
    let item = SyncItemId::new_v7();
    store
        .add_items(
            org,
            run,
            vec![NewSyncItem {
                id: item,
                incoming: IncomingContact { fields: after.clone(), ..IncomingContact::default() },
                decision: ItemDecision::Update,
                target_contact_id: Some(id),
                confidence: 0.99,
                diff: serde_json::json!([]),
                recommendation: serde_json::json!({}),
                review: ReviewState::Approved,
            }],
        )
        .await
        .unwrap();
    let batch = ApplyBatch {
        run_id: run,
        actor: Actor::System("test".into()),
        changes: vec![ApplyChange {
            item_id: item,
            op: ApplyOp::Update { id, expected_version: 1, fields: after },
            link: None,
        }],
        cursor: None,
        jobs: vec![],
        known: vec![],
    };
    let report = store.apply_batch(org, batch).await.expect("the batch applies");
    assert_eq!(report.results[0].1.outcome, ItemOutcome::Updated);
    let found = store
        .search_contacts(
            org,
            &rolodex_domain::ports::storage::ContactQuery { email: Some(email), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id], "found once, by the key row that was there");
}
