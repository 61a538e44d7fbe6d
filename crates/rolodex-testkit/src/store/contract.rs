//! Contract suites, one per storage port family. Each is a generic async function that panics
//! (with a message naming the broken rule) when the implementation misbehaves; adapters run them
//! from their own tests against a fresh, empty store. Each suite also proves tenancy: another
//! organisation's id sees nothing and changes nothing.
#![allow(clippy::unwrap_used, reason = "a contract suite is test code: a failed step panics and fails the test")]

use std::time::Duration;

use rolodex_domain::matching::blocking_keys;
use rolodex_domain::ports::storage::{
    ConnectionStatus, ConnectionStore, ConnectionStoreError, ContactQuery, ContactStore, ContactStoreError, JobQueue,
    JobQueueError, JobState, LinkStore, NewConnection, NewContact, NewJob, ProviderLink, Schedule, Tokens,
};
use rolodex_domain::{
    ConnectionId, ContactFields, ContactId, ContactPhone, ContactStatus, EmailAddress, OrgId, PhoneE164, PhoneKind,
    Region,
};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

/// Fields of a test person.
#[must_use]
pub fn person(given: &str, family: &str, email: Option<&str>, phone: Option<&str>) -> ContactFields {
    let mut f = ContactFields {
        given_name: Some(given.to_owned()),
        family_name: Some(family.to_owned()),
        ..ContactFields::default()
    };
    if let Some(e) = email {
        f.emails.push(EmailAddress::parse(e).expect("test email parses"));
    }
    if let Some(p) = phone {
        f.phones.push(ContactPhone {
            number: PhoneE164::parse(p, Region::default()).expect("test phone parses"),
            kind: PhoneKind::Mobile,
        });
    }
    f.tags.insert("customer".to_owned());
    f.custom.insert("tier".to_owned(), serde_json::json!("gold"));
    f
}

/// A connection with tokens.
#[must_use]
pub fn new_connection(provider: &str, account: &str) -> NewConnection {
    NewConnection {
        id: ConnectionId::new_v7(),
        user_id: None,
        provider: provider.to_owned(),
        account: account.to_owned(),
        scopes: vec!["contacts.readwrite".to_owned()],
        tokens: Tokens {
            access_token: Some(SecretString::from("access-secret-1")),
            refresh_token: Some(SecretString::from("refresh-secret-1")),
            expires_at: Some(time::macros::datetime!(2030-01-01 00:00 UTC)),
        },
    }
}

fn trunc(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).expect("valid nanoseconds")
}

/// [`ContactStore`] + [`LinkStore`] (connections come from [`ConnectionStore`]): create, read,
/// versioned update, soft delete, search, candidates by blocking key, links, outbox jobs, tenancy.
pub async fn contact_store_contract<S>(store: &S)
where
    S: ContactStore + LinkStore + ConnectionStore + JobQueue,
{
    let (a, b) = (OrgId::new_v7(), OrgId::new_v7());
    let jane = person("Jane", "Doe", Some("Jane.Doe@Example.com"), Some("+1 415 555 0123"));
    let id = ContactId::new_v7();
    let job = NewJob::new("contact.push", serde_json::json!({ "contact": id.to_string() }));
    let created = store
        .create_contact(a, NewContact { id, fields: jane.clone(), status: ContactStatus::Active }, &[job])
        .await
        .expect("create");
    assert_eq!(created.version, 1, "a new contact starts at version 1");
    assert_eq!(created.fields, jane);
    let outbox = store.list_jobs(a, JobState::Available, 10).await.expect("list jobs");
    assert_eq!(outbox.len(), 1, "the outbox job is enqueued with the contact");
    assert_eq!(outbox[0].kind, "contact.push");

    let got = store.get_contact(a, id).await.expect("get");
    assert_eq!(got.fields, jane, "fields round-trip, tags and custom properties included");
    assert_eq!(got.created_at, trunc(got.created_at), "times are stored with microsecond precision");
    assert!(
        matches!(
            store.create_contact(a, NewContact { id, fields: jane.clone(), status: ContactStatus::Active }, &[]).await,
            Err(ContactStoreError::Duplicate(_))
        ),
        "a taken id is Duplicate"
    );

    // Search.
    let by_email =
        ContactQuery { email: Some(EmailAddress::parse("jane.doe@example.com").unwrap()), ..Default::default() };
    assert_eq!(store.search_contacts(a, &by_email).await.unwrap().len(), 1, "search by email (matching key)");
    let by_phone = ContactQuery {
        phone: Some(PhoneE164::parse("(415) 555-0123", Region::default()).unwrap()),
        ..Default::default()
    };
    assert_eq!(store.search_contacts(a, &by_phone).await.unwrap().len(), 1, "search by E.164 phone");
    let by_name = ContactQuery { name: Some("DOE".to_owned()), ..Default::default() };
    assert_eq!(store.search_contacts(a, &by_name).await.unwrap().len(), 1, "search by name, case-insensitive");
    let nobody = ContactQuery { name: Some("100%_".to_owned()), ..Default::default() };
    assert!(store.search_contacts(a, &nobody).await.unwrap().is_empty(), "LIKE wildcards are escaped");

    // Candidates.
    let twin = person("Jnae", "Doe", None, None);
    let found = store.find_candidates(a, &blocking_keys(&twin), 10).await.expect("candidates");
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id], "a typo'd name finds its twin");
    let other = store
        .create_contact(
            a,
            NewContact {
                id: ContactId::new_v7(),
                fields: person("Mark", "Lee", None, None),
                status: ContactStatus::Active,
            },
            &[],
        )
        .await
        .unwrap();
    let found = store.find_candidates(a, &blocking_keys(&person("Mark", "Lee", None, None)), 10).await.unwrap();
    assert_eq!(found.len(), 1, "only contacts sharing a key are candidates");
    assert_eq!(found[0].id, other.id);
    assert_eq!(store.count_contacts(a).await.unwrap(), 2);

    // Versioned update.
    let mut changed = jane.clone();
    changed.emails = vec![EmailAddress::parse("jane@newco.com").unwrap()];
    let updated = store.update_contact(a, id, 1, changed.clone(), &[]).await.expect("update at the right version");
    assert_eq!(updated.version, 2);
    assert_eq!(updated.fields, changed);
    match store.update_contact(a, id, 1, jane.clone(), &[]).await {
        Err(ContactStoreError::Conflict { current_version: 2, .. }) => {}
        other => panic!("a stale version must be Conflict {{ current_version: 2 }}, got {other:?}"),
    }
    assert!(store.search_contacts(a, &by_email).await.unwrap().is_empty(), "index rows follow the update");
    let new_email = ContactQuery { email: Some(EmailAddress::parse("jane@newco.com").unwrap()), ..Default::default() };
    assert_eq!(store.search_contacts(a, &new_email).await.unwrap().len(), 1);

    // Tenancy: organisation B sees and changes nothing of A.
    assert!(matches!(store.get_contact(b, id).await, Err(ContactStoreError::NotFound { .. })), "get across orgs");
    assert!(store.get_contacts(b, &[id]).await.unwrap().is_empty(), "get_contacts across orgs");
    assert!(
        matches!(store.update_contact(b, id, 2, jane.clone(), &[]).await, Err(ContactStoreError::NotFound { .. })),
        "update across orgs"
    );
    assert!(
        matches!(
            store.set_contact_status(b, id, 2, ContactStatus::Deleted, &[]).await,
            Err(ContactStoreError::NotFound { .. })
        ),
        "delete across orgs"
    );
    assert!(store.search_contacts(b, &new_email).await.unwrap().is_empty(), "search across orgs");
    assert!(store.search_contacts(b, &ContactQuery::default()).await.unwrap().is_empty(), "list across orgs");
    assert!(store.find_candidates(b, &blocking_keys(&changed), 10).await.unwrap().is_empty(), "candidates across orgs");
    assert_eq!(store.count_contacts(b).await.unwrap(), 0);
    assert!(store.list_jobs(b, JobState::Available, 10).await.unwrap().is_empty(), "jobs across orgs");
    assert_eq!(store.get_contact(a, id).await.unwrap().version, 2, "A's contact is untouched");

    // Links.
    let conn = store.create_connection(a, new_connection("ghl", "loc-1")).await.expect("connection");
    let link = ProviderLink {
        contact_id: id,
        connection_id: conn.id,
        external_id: "ghl-42".to_owned(),
        external_version: Some("v1".to_owned()),
        snapshot: Some(changed.clone()),
        snapshot_hash: Some("h1".to_owned()),
        remote_updated_at: Some(time::macros::datetime!(2025-11-30 10:00:00.123456 UTC)),
        synced_at: OffsetDateTime::UNIX_EPOCH,
    };
    let stored = store.upsert_link(a, &link).await.expect("link");
    let found = store.find_link(a, conn.id, "ghl-42").await.unwrap().expect("link found");
    assert_eq!(found, stored);
    assert_eq!(found.snapshot, Some(changed.clone()));
    assert_eq!(found.remote_updated_at, link.remote_updated_at);
    assert_eq!(store.links_of(a, id).await.unwrap().len(), 1);
    let relinked = ProviderLink { external_version: Some("v2".to_owned()), ..link.clone() };
    store.upsert_link(a, &relinked).await.expect("upsert replaces");
    assert_eq!(store.find_link(a, conn.id, "ghl-42").await.unwrap().unwrap().external_version.as_deref(), Some("v2"));
    assert!(store.find_link(b, conn.id, "ghl-42").await.unwrap().is_none(), "links across orgs");
    assert!(store.links_of(b, id).await.unwrap().is_empty());
    assert!(store.upsert_link(b, &link).await.is_err(), "B cannot link A's contact or connection");
    assert!(!store.delete_link(b, conn.id, "ghl-42").await.unwrap(), "B cannot delete A's link");
    assert!(store.delete_link(a, conn.id, "ghl-42").await.unwrap());
    assert!(store.find_link(a, conn.id, "ghl-42").await.unwrap().is_none());

    // Soft delete.
    let deleted = store.set_contact_status(a, id, 2, ContactStatus::Deleted, &[]).await.expect("soft delete");
    assert_eq!((deleted.status, deleted.version), (ContactStatus::Deleted, 3));
    assert_eq!(store.get_contact(a, id).await.unwrap().status, ContactStatus::Deleted, "the row stays");
    assert!(store.find_candidates(a, &blocking_keys(&changed), 10).await.unwrap().is_empty(), "not a candidate");
    assert!(store.search_contacts(a, &new_email).await.unwrap().is_empty(), "not listed by default");
    let deleted_q = ContactQuery { status: Some(ContactStatus::Deleted), ..Default::default() };
    assert_eq!(store.search_contacts(a, &deleted_q).await.unwrap().len(), 1);
    assert_eq!(store.count_contacts(a).await.unwrap(), 1);

    // Paging.
    for i in 0..5 {
        store
            .create_contact(
                a,
                NewContact {
                    id: ContactId::new_v7(),
                    fields: person("P", &format!("Page{i}"), None, None),
                    status: ContactStatus::Active,
                },
                &[],
            )
            .await
            .unwrap();
    }
    let first = store.search_contacts(a, &ContactQuery { limit: 4, ..Default::default() }).await.unwrap();
    assert_eq!(first.len(), 4);
    let rest = store
        .search_contacts(a, &ContactQuery { limit: 4, after: first.last().map(|c| c.id), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(rest.len(), 2, "pages continue after the last id");
    assert!(rest[0].id > first[3].id);
}

/// [`ConnectionStore`]: tokens round-trip as secrets, duplicates, status, resolve, tenancy.
pub async fn connection_store_contract<S: ConnectionStore>(store: &S) {
    let (a, b) = (OrgId::new_v7(), OrgId::new_v7());
    let c = store.create_connection(a, new_connection("ghl", "loc-9")).await.expect("create");
    assert_eq!(c.status, ConnectionStatus::Active);
    let got = store.get_connection(a, c.id).await.expect("get");
    assert_eq!(
        got.tokens.access_token.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(),
        Some("access-secret-1")
    );
    assert_eq!(
        got.tokens.refresh_token.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(),
        Some("refresh-secret-1")
    );
    assert!(!format!("{got:?}").contains("access-secret-1"), "Debug never shows a token");
    assert!(
        matches!(
            store.create_connection(a, new_connection("ghl", "loc-9")).await,
            Err(ConnectionStoreError::Duplicate(_))
        ),
        "the same account twice in one org is Duplicate"
    );
    store.create_connection(b, new_connection("ghl", "loc-9")).await.expect("another org may connect it too");
    store.set_connection_status(a, c.id, ConnectionStatus::NeedsReauth).await.unwrap();
    assert_eq!(store.get_connection(a, c.id).await.unwrap().status, ConnectionStatus::NeedsReauth);
    store
        .update_tokens(
            a,
            c.id,
            &Tokens { access_token: Some(SecretString::from("access-2")), refresh_token: None, expires_at: None },
        )
        .await
        .unwrap();
    let got = store.get_connection(a, c.id).await.unwrap();
    assert_eq!(got.status, ConnectionStatus::Active, "new tokens make a needs_reauth connection active");
    assert_eq!(got.tokens.access_token.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(), Some("access-2"));
    assert!(got.tokens.refresh_token.is_none());
    assert_eq!(store.list_connections(a, Some("ghl")).await.unwrap().len(), 1);
    assert!(store.list_connections(a, Some("graph")).await.unwrap().is_empty());
    let routes = store.resolve_account("ghl", "loc-9").await.unwrap();
    assert_eq!(routes.len(), 2, "both organisations' connections of the account are found");
    assert!(routes.contains(&(a, c.id)));

    // Tenancy.
    assert!(matches!(store.get_connection(b, c.id).await, Err(ConnectionStoreError::NotFound { .. })));
    assert!(matches!(
        store.set_connection_status(b, c.id, ConnectionStatus::Disconnected).await,
        Err(ConnectionStoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.update_tokens(b, c.id, &Tokens { access_token: None, refresh_token: None, expires_at: None }).await,
        Err(ConnectionStoreError::NotFound { .. })
    ));
    assert_eq!(store.list_connections(b, None).await.unwrap().len(), 1, "B sees only its own");
    assert_eq!(store.get_connection(a, c.id).await.unwrap().status, ConnectionStatus::Active);
}

/// [`JobQueue`] semantics that need no clock control: unique keys, claim order, leases, complete,
/// fail with backoff then dead, cancel, schedules, tenancy. `advance` moves the store's clock
/// forward (lease expiry, retries and schedules are checked with it).
pub async fn job_queue_contract<S: JobQueue>(store: &S, advance: &(dyn Fn(time::Duration) + Send + Sync)) {
    let (a, b) = (OrgId::new_v7(), OrgId::new_v7());
    let q = "contract";
    let first = store.enqueue(a, NewJob::new("k", serde_json::json!({"n": 1})).on_queue(q).unique("u1")).await.unwrap();
    assert!(first.created);
    let again = store.enqueue(a, NewJob::new("k", serde_json::json!({"n": 2})).on_queue(q).unique("u1")).await.unwrap();
    assert_eq!(again, rolodex_domain::ports::storage::Enqueued { id: first.id, created: false }, "unique while active");
    let other_org = store.enqueue(b, NewJob::new("k", serde_json::json!({})).on_queue(q).unique("u1")).await.unwrap();
    assert!(other_org.created, "unique keys are per organisation");
    assert!(matches!(store.enqueue(a, NewJob::new("", serde_json::json!({}))).await, Err(JobQueueError::Invalid(_))));

    let mut high = NewJob::new("k", serde_json::json!({})).on_queue(q);
    high.priority = 5;
    let high = store.enqueue(a, high).await.unwrap();
    let later = store
        .enqueue(
            a,
            NewJob::new("k", serde_json::json!({}))
                .on_queue(q)
                .run_at(OffsetDateTime::now_utc() + time::Duration::days(3650)),
        )
        .await
        .unwrap();

    let claimed = store.claim(&[q], "w1", Duration::from_secs(30), 10).await.unwrap();
    let ids: Vec<_> = claimed.iter().map(|j| j.id).collect();
    assert_eq!(ids.len(), 3, "three due jobs (two orgs), the future one waits: {ids:?}");
    assert_eq!(ids[0], high.id, "highest priority first");
    assert!(!ids.contains(&later.id));
    assert!(claimed.iter().all(|j| j.state == JobState::Running && j.attempt == 1));
    assert!(store.claim(&[q], "w2", Duration::from_secs(30), 10).await.unwrap().is_empty(), "never leased twice");

    // Tenancy of the worker calls.
    assert!(matches!(store.complete(b, first.id, "w1").await, Err(JobQueueError::LeaseLost(_))));
    assert!(matches!(store.get_job(b, first.id).await, Err(JobQueueError::NotFound { .. })));
    assert!(matches!(store.cancel(b, first.id).await, Err(JobQueueError::NotFound { .. })));
    assert!(matches!(store.complete(a, first.id, "w2").await, Err(JobQueueError::LeaseLost(_))), "wrong worker");

    store.heartbeat(a, first.id, "w1", Duration::from_secs(30)).await.unwrap();
    store.complete(a, first.id, "w1").await.unwrap();
    assert_eq!(store.get_job(a, first.id).await.unwrap().state, JobState::Completed);
    let fresh = store.enqueue(a, NewJob::new("k", serde_json::json!({})).on_queue(q).unique("u1")).await.unwrap();
    assert!(fresh.created, "a finished job frees its unique key");
    store.cancel(a, fresh.id).await.unwrap();

    // Failure, backoff, dead.
    let state = store.fail(a, high.id, "w1", "boom", None, false).await.unwrap();
    assert_eq!(state, JobState::Retryable);
    let j = store.get_job(a, high.id).await.unwrap();
    assert_eq!(j.last_error.as_deref(), Some("boom"));
    assert!(store.claim(&[q], "w1", Duration::from_secs(30), 10).await.unwrap().is_empty(), "not before its backoff");
    advance(time::Duration::hours(2));
    let again = store.claim(&[q], "w1", Duration::from_secs(30), 10).await.unwrap();
    assert!(again.iter().any(|j| j.id == high.id && j.attempt == 2), "retried after the backoff");
    assert_eq!(store.fail(a, high.id, "w1", "fatal", None, true).await.unwrap(), JobState::Dead);
    let dead = store.get_job(a, high.id).await.unwrap();
    assert_eq!((dead.state, dead.last_error.as_deref()), (JobState::Dead, Some("fatal")));
    assert_eq!(store.list_jobs(a, JobState::Dead, 10).await.unwrap().len(), 1);

    // Max attempts.
    let once =
        store.enqueue(a, NewJob::new("k", serde_json::json!({})).on_queue("once").max_attempts(1)).await.unwrap();
    let c = store.claim(&["once"], "w1", Duration::from_secs(30), 1).await.unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(store.fail(a, once.id, "w1", "e", None, false).await.unwrap(), JobState::Dead, "last attempt -> dead");

    // Expired lease puts the job back; the old worker lost it.
    let lease = store.enqueue(a, NewJob::new("k", serde_json::json!({})).on_queue("lease")).await.unwrap();
    assert_eq!(store.claim(&["lease"], "old", Duration::from_secs(10), 1).await.unwrap().len(), 1);
    advance(time::Duration::seconds(11));
    let taken = store.claim(&["lease"], "new", Duration::from_secs(10), 1).await.unwrap();
    assert_eq!(
        taken.iter().map(|j| (j.id, j.attempt)).collect::<Vec<_>>(),
        vec![(lease.id, 2)],
        "an expired lease is reclaimed"
    );
    assert!(matches!(store.complete(a, lease.id, "old").await, Err(JobQueueError::LeaseLost(_))));
    assert!(matches!(
        store.heartbeat(a, lease.id, "old", Duration::from_secs(5)).await,
        Err(JobQueueError::LeaseLost(_))
    ));
    store.complete(a, lease.id, "new").await.unwrap();

    // Schedules.
    let s = store
        .upsert_schedule(
            a,
            "reconcile",
            Schedule::EveryMinutes(15),
            NewJob::new("reconcile", serde_json::json!({})).on_queue("sched"),
        )
        .await
        .unwrap();
    assert!(s.next_run_at > OffsetDateTime::now_utc() - time::Duration::days(3650));
    assert!(store.enqueue_due_schedules().await.unwrap().iter().all(|(o, _)| *o != a), "not due yet");
    advance(time::Duration::minutes(16));
    let due = store.enqueue_due_schedules().await.unwrap();
    assert_eq!(due.iter().filter(|(o, _)| *o == a).count(), 1, "due once");
    assert!(store.enqueue_due_schedules().await.unwrap().iter().all(|(o, _)| *o != a), "moved past now");
    assert_eq!(store.list_schedules(a).await.unwrap().len(), 1);
    assert!(store.list_schedules(b).await.unwrap().is_empty(), "schedules across orgs");
    assert!(!store.delete_schedule(b, "reconcile").await.unwrap());
    assert!(store.delete_schedule(a, "reconcile").await.unwrap());
}
