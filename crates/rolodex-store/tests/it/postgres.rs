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
            format!("SELECT contact_id FROM contact_emails WHERE org_id = {org} AND matching_key = 'a@b.c'"),
            "contact_emails_key",
        ),
        (
            "phone search",
            format!("SELECT contact_id FROM contact_phones WHERE org_id = {org} AND e164 = '+14155550123'"),
            "contact_phones_e164",
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
}
