//! Scheduled sync: unattended, auto-approves only high confidence, aborts on an emptied source.

use rolodex_app::sync::{ItemQuery, SyncError, SyncFilters};
use rolodex_domain::matching::Action;
use rolodex_domain::ports::storage::{CursorStore, ReviewState, SyncRunStore, SyncStatus};

use crate::support::{Harness, ScriptedSource, incoming, person};

#[tokio::test]
async fn applies_high_confidence_decisions_and_leaves_the_rest_for_a_person() {
    let h = Harness::new();
    h.existing(person("Jane", "Doe", Some("jane@acme.io"), Some("+1 415 555 0199"))).await;
    let mut jane = person("Jane", "Doe", Some("jane@acme.io"), None);
    jane.job_title = Some("CEO".into());
    let source = ScriptedSource::with(
        10,
        vec![
            incoming("1", person("Ann", "Able", Some("ann@able.io"), None)),
            incoming("2", jane),
            incoming("3", person("Bob", "Brown", Some("bob@brown.io"), Some("+1 415 555 0199"))),
        ],
    );
    let svc = h.service();
    let r = svc.run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap();
    assert_eq!(r.preview.counts.auto_approved, 2);
    assert_eq!((r.execute.created, r.execute.updated), (1, 1));
    assert_eq!(r.execute.status, Some(SyncStatus::Preview));
    let pending = svc
        .list_items(h.org, r.preview.run_id, ItemQuery { review: Some(ReviewState::Pending), ..ItemQuery::default() })
        .await
        .unwrap();
    assert_eq!(pending.items.len(), 1);
    assert_eq!(pending.items[0].action, Action::Review);
    let run = h.store.get_run(h.org, r.preview.run_id).await.unwrap();
    assert_eq!(run.kind, rolodex_domain::ports::storage::SyncKind::Scheduled);
    assert!(h.store.get_cursor(h.org, h.conn, "contacts").await.unwrap().is_some());
}

#[tokio::test]
async fn a_source_that_suddenly_returns_nothing_aborts_the_run() {
    let h = Harness::new();
    let source = ScriptedSource::with(
        10,
        vec![
            incoming("1", person("Ann", "Able", Some("ann@able.io"), None)),
            incoming("2", person("Ben", "Best", Some("ben@best.io"), None)),
        ],
    );
    let svc = h.service();
    let first = svc.run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap();
    assert_eq!(first.execute.created, 2);
    let cursor = h.store.get_cursor(h.org, h.conn, "contacts").await.unwrap().unwrap().cursor;

    // Nothing changed: an empty incremental fetch is normal, not an emptied source.
    let quiet = svc.run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap();
    assert_eq!(quiet.preview.counts.fetched, 0);

    // The account is emptied and the cursor expired: the full listing is empty.
    source.clear();
    source.expire_cursor();
    let err = svc.run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap_err();
    let SyncError::SourceEmptied { run, connection } = err else { panic!("expected SourceEmptied, got {err:?}") };
    assert_eq!(connection, h.conn);
    let failed = h.store.get_run(h.org, run).await.unwrap();
    assert_eq!(failed.status, SyncStatus::Failed);
    assert!(failed.error.unwrap().contains("returned no contacts"));
    assert_eq!(h.store.contacts_of(h.org).len(), 2, "nothing touched");
    assert_eq!(h.store.get_cursor(h.org, h.conn, "contacts").await.unwrap().unwrap().cursor, cursor);
}

#[tokio::test]
async fn an_empty_first_sync_is_not_an_emptied_source() {
    let h = Harness::new();
    let source = ScriptedSource::new(10);
    let r = h.service().run_scheduled(h.org, h.conn, &source, SyncFilters::default()).await.unwrap();
    assert_eq!((r.preview.counts.fetched, r.execute.status), (0, Some(SyncStatus::Completed)));
}

mod job {
    use std::sync::Arc;

    use async_trait::async_trait;
    use rolodex_app::jobs::{ContactSources, JobHandler, ScheduledSyncJob};
    use rolodex_domain::ports::storage::{Job, JobState};
    use rolodex_domain::ports::{ContactSource, ProviderError};
    use rolodex_domain::{ConnectionId, JobId, OrgId};
    use time::macros::datetime;

    use crate::support::{Harness, ScriptedSource, incoming, person};

    struct OneSource(Arc<ScriptedSource>, ConnectionId);

    #[async_trait]
    impl ContactSources for OneSource {
        async fn source(&self, _org: OrgId, c: ConnectionId) -> Result<Arc<dyn ContactSource>, ProviderError> {
            if c == self.1 { Ok(self.0.clone()) } else { Err(ProviderError::NeedsReauth("invalid_grant".into())) }
        }
    }

    fn job(org: OrgId, payload: serde_json::Value) -> Job {
        let at = datetime!(2025-12-02 10:00 UTC);
        Job {
            id: JobId::new_v7(),
            org_id: org,
            kind: ScheduledSyncJob::KIND.into(),
            queue: ScheduledSyncJob::KIND.into(),
            payload,
            unique_key: None,
            state: JobState::Running,
            attempt: 1,
            max_attempts: 3,
            priority: 0,
            run_at: at,
            locked_by: Some("w".into()),
            lease_until: None,
            last_error: None,
            created_at: at,
            finished_at: None,
        }
    }

    #[tokio::test]
    async fn the_scheduled_sync_job_runs_the_connection_sync_and_classifies_failures() {
        let h = Harness::new();
        let source =
            Arc::new(ScriptedSource::with(10, vec![incoming("1", person("Ann", "Able", Some("a@b.io"), None))]));
        let handler = ScheduledSyncJob { sync: h.service(), sources: Arc::new(OneSource(source, h.conn)) };
        let ok = serde_json::json!({ "connection": h.conn.to_string() });
        handler.run(&job(h.org, ok)).await.expect("runs");
        assert_eq!(h.store.contacts_of(h.org).len(), 1);

        for (payload, permanent) in [
            (serde_json::json!({}), true),
            (serde_json::json!({ "connection": ConnectionId::new_v7().to_string() }), true),
        ] {
            let f = handler.run(&job(h.org, payload.clone())).await.expect_err("fails");
            assert_eq!(f.permanent, permanent, "{payload}: {f:?}");
        }
    }
}
