//! Contract suites, one per storage port family. Each is a generic async function that panics
//! (with a message naming the broken rule) when the implementation misbehaves; adapters run them
//! from their own tests against a fresh, empty store. Each suite also proves tenancy: another
//! organisation's id sees nothing and changes nothing.
#![allow(clippy::unwrap_used, reason = "a contract suite is test code: a failed step panics and fails the test")]

use std::collections::BTreeSet;
use std::time::Duration;

use rolodex_domain::matching::index::BlockLimits;
use rolodex_domain::matching::{BlockingKey, KeyKind, blocking_keys};
use rolodex_domain::ports::SyncCursor;
use rolodex_domain::ports::storage::{
    AccountStore, AccountStoreError, Activity, ActivityStore, Actor, AiUsageRecord, AiUsageStore, AiUsageTotals,
    ApplyBatch, ApplyChange, ApplyOp, AuditFilter, AuditLog, CampaignFilter, CampaignStatus, CampaignStore,
    CampaignStoreError, CandidateLimits, ConnectionSettings, ConnectionStatus, ConnectionStore, ConnectionStoreError,
    ContactQuery, ContactStore, ContactStoreError, CursorStore, HistoryStoreError, ItemDecision, ItemFilter,
    ItemOutcome, JobQueue, JobQueueError, JobState, LinkStore, MessageCounts, MessageState, NewAuditEntry, NewCampaign,
    NewCampaignMessage, NewConnection, NewContact, NewJob, NewSyncItem, NewSyncRun, NewUser, NewWebhookReceipt,
    Permission, ProviderLink, ReceiptOutcome, ReviewState, Role, RunFilter, Schedule, SyncCounts, SyncItem, SyncKind,
    SyncRunStore, SyncStatus, SyncStoreError, Tokens, WebhookReceiptStore,
};
use rolodex_domain::{
    ActivityId, ApiKeyId, AuditId, CampaignId, CampaignMessageId, ConnectionId, ContactFields, ContactId, ContactPhone,
    ContactStatus, EmailAddress, IncomingContact, OrgId, PhoneE164, PhoneKind, Region, SyncItemId, SyncRunId, UserId,
    WebhookReceiptId,
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
        settings: ConnectionSettings::default(),
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
    let many = store.links_of_many(a, &[id, ContactId::new_v7()]).await.unwrap();
    assert_eq!(many, store.links_of(a, id).await.unwrap(), "links_of_many: the contacts' links, none for unknown ids");
    assert!(store.links_of_many(b, &[id]).await.unwrap().is_empty(), "links_of_many across orgs");
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
    let deleted_by_email = ContactQuery { status: Some(ContactStatus::Deleted), ..new_email.clone() };
    assert_eq!(
        store.search_contacts(a, &deleted_by_email).await.unwrap().len(),
        1,
        "a deleted contact is found among the deleted by e-mail"
    );
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

    batched_lookups(store, a, b, conn.id).await;
}

/// `find_candidates_many` answers what `find_candidates` answers for each key set (order, limit,
/// deleted contacts left out with the next id taking their place); `find_links` finds the links
/// that exist; neither crosses organisations.
async fn batched_lookups<S>(store: &S, a: OrgId, b: OrgId, conn: ConnectionId)
where
    S: ContactStore + LinkStore,
{
    let mut smiths = Vec::new();
    for i in 0..4 {
        let fields = person("John", "Smith", Some(&format!("john{i}@smith.io")), None);
        let new = NewContact { id: ContactId::new_v7(), fields, status: ContactStatus::Active };
        smiths.push(store.create_contact(a, new, &[]).await.unwrap());
    }
    let solo = person("Zed", "Zulu", Some("zed@zulu.io"), None);
    let zed = store
        .create_contact(
            a,
            NewContact { id: ContactId::new_v7(), fields: solo.clone(), status: ContactStatus::Active },
            &[],
        )
        .await
        .unwrap();
    // The first Smith is deleted: with a limit of 2 the next two by id are the candidates.
    store.set_contact_status(a, smiths[0].id, 1, ContactStatus::Deleted, &[]).await.unwrap();
    let sets = vec![
        blocking_keys(&person("John", "Smith", None, None)),
        Vec::new(),
        blocking_keys(&solo),
        blocking_keys(&person("Nobody", "Known", Some("no@one.io"), None)),
        blocking_keys(&person("Other", "Person", Some("zed@zulu.io"), None)),
    ];
    let limits = CandidateLimits { per_set: 2, ..CandidateLimits::default() };
    let many = store.find_candidates_many(a, &sets, limits).await.expect("candidates many");
    assert_eq!(many.len(), sets.len(), "one answer per key set");
    for (keys, found) in sets.iter().zip(&many).take(4) {
        let one = store.find_candidates(a, keys, 2).await.unwrap();
        assert_eq!(
            found.iter().map(|c| c.id).collect::<Vec<_>>(),
            one.iter().map(|c| c.id).collect::<Vec<_>>(),
            "many agrees with one for {keys:?}"
        );
    }
    assert_eq!(many[0].iter().map(|c| c.id).collect::<Vec<_>>(), vec![smiths[1].id, smiths[2].id], "live, by id");
    assert!(many[1].is_empty() && many[3].is_empty());
    assert_eq!(many[2].iter().map(|c| c.id).collect::<Vec<_>>(), vec![zed.id]);
    assert_eq!(many[4].iter().map(|c| c.id).collect::<Vec<_>>(), vec![zed.id], "an email key finds its contact");
    assert_eq!(many[2][0].fields, solo, "the whole contact is read");
    // Strongest first: a shared email outranks shared name keys, whatever the ids.
    let john_zed = vec![blocking_keys(&person("John", "Smith", Some("zed@zulu.io"), None))];
    let ranked = store.find_candidates_many(a, &john_zed, limits).await.unwrap();
    assert_eq!(ranked[0].iter().map(|c| c.id).collect::<Vec<_>>(), vec![zed.id, smiths[1].id], "email first");
    // A name key shared by more contacts than its block limit is skipped.
    let tight = CandidateLimits { per_set: 10, blocks: BlockLimits { max_name_block: 2, ..BlockLimits::default() } };
    let capped = store.find_candidates_many(a, &sets, tight).await.unwrap();
    assert!(capped[0].is_empty(), "the John Smith block (3 live) is over 2: skipped, got {:?}", capped[0]);
    assert_eq!(capped[2].iter().map(|c| c.id).collect::<Vec<_>>(), vec![zed.id], "small blocks still count");
    let across = store.find_candidates_many(b, &sets, limits).await.unwrap();
    assert!(across.iter().all(Vec::is_empty), "candidates many across orgs");

    // Key blocks: the ids under each key (the index may still name a deleted contact), `None`
    // over the block limit, empty for an unknown key; answers follow the keys, repeats included.
    let smith_key = sets[0].iter().find(|k| k.value.starts_with("sx:")).expect("a phonetic name key").clone();
    let zed_email = sets[2].iter().find(|k| k.kind == KeyKind::Email).expect("an email key").clone();
    let unknown = BlockingKey { kind: KeyKind::Email, value: "nobody@nowhere.io".to_owned() };
    let keys = vec![smith_key.clone(), zed_email.clone(), unknown, smith_key];
    let blocks = store.find_key_blocks(a, &keys, BlockLimits::default()).await.expect("key blocks");
    assert_eq!(blocks.len(), keys.len(), "one answer per key");
    let smith_block = blocks[0].clone().expect("a small block");
    for s in &smiths[1..] {
        assert!(smith_block.contains(&s.id), "{smith_block:?} lacks {}", s.id);
    }
    assert_eq!(blocks[1], Some(vec![zed.id]));
    assert_eq!(blocks[2], Some(vec![]), "an unknown key has an empty block");
    assert_eq!(blocks[3], blocks[0], "a repeated key gets the same answer");
    let tight_blocks = BlockLimits { max_name_block: 2, ..BlockLimits::default() };
    let capped = store.find_key_blocks(a, &keys, tight_blocks).await.unwrap();
    assert_eq!(capped[0], None, "a block over its limit is None");
    assert_eq!(capped[1], Some(vec![zed.id]), "identifier keys have their own limit");
    let across = store.find_key_blocks(b, &keys, BlockLimits::default()).await.unwrap();
    assert!(across.iter().all(|b| b.as_ref().is_some_and(Vec::is_empty)), "key blocks across orgs");

    let snapshot = person("Zed", "Zulu", None, None);
    for (contact, ext) in [(zed.id, "z-1"), (smiths[1].id, "s-1")] {
        let link = ProviderLink {
            contact_id: contact,
            connection_id: conn,
            external_id: ext.to_owned(),
            external_version: None,
            snapshot: Some(snapshot.clone()),
            snapshot_hash: Some(format!("h-{ext}")),
            remote_updated_at: None,
            synced_at: OffsetDateTime::UNIX_EPOCH,
        };
        store.upsert_link(a, &link).await.unwrap();
    }
    let wanted = ["z-1".to_owned(), "missing".to_owned(), "s-1".to_owned()];
    let mut links = store.find_links(a, conn, &wanted).await.expect("find links");
    links.sort_by(|x, y| x.external_id.cmp(&y.external_id));
    assert_eq!(
        links.iter().map(|l| (l.external_id.as_str(), l.contact_id)).collect::<Vec<_>>(),
        vec![("s-1", smiths[1].id), ("z-1", zed.id)]
    );
    assert_eq!(links[1].snapshot, Some(snapshot), "the snapshot is read");
    assert_eq!(links[1], store.find_link(a, conn, "z-1").await.unwrap().unwrap());
    assert!(store.find_links(b, conn, &wanted).await.unwrap().is_empty(), "links across orgs");
    assert_eq!(store.count_links(a, conn).await.unwrap(), 2, "the links of the connection");
    assert_eq!(store.count_links(b, conn).await.unwrap(), 0, "count links across orgs");
    assert!(store.find_links(a, conn, &[]).await.unwrap().is_empty());
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
    assert_eq!(got.settings, ConnectionSettings::default(), "settings default to empty");
    let settings = ConnectionSettings {
        base_url: Some("http://127.0.0.1:9/".to_owned()),
        two_way: true,
        conflict_policy: rolodex_domain::conflict::ConflictPolicy::LocalWins,
        reconcile_every_minutes: Some(5),
    };
    store.update_settings(a, c.id, &settings).await.expect("settings");
    assert_eq!(store.get_connection(a, c.id).await.unwrap().settings, settings, "settings round-trip");
    assert!(matches!(
        store.update_settings(b, c.id, &ConnectionSettings::default()).await,
        Err(ConnectionStoreError::NotFound { .. })
    ));
    assert_eq!(store.get_connection(a, c.id).await.unwrap().settings, settings, "another org cannot change them");
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

fn new_run(provider: &str, connection: Option<ConnectionId>) -> NewSyncRun {
    NewSyncRun {
        id: SyncRunId::new_v7(),
        user_id: None,
        connection_id: connection,
        provider: provider.to_owned(),
        kind: SyncKind::Manual,
        status: SyncStatus::Preview,
        filters: serde_json::json!({ "tags": ["customer"] }),
    }
}

fn new_item(
    fields: ContactFields,
    external_id: &str,
    decision: ItemDecision,
    target: Option<ContactId>,
) -> NewSyncItem {
    NewSyncItem {
        id: SyncItemId::new_v7(),
        incoming: IncomingContact { external_id: Some(external_id.to_owned()), fields, ..IncomingContact::default() },
        decision,
        target_contact_id: target,
        confidence: 0.75,
        diff: serde_json::json!([{ "field": "email" }]),
        recommendation: serde_json::json!({ "action": decision.as_str() }),
        review: ReviewState::Pending,
    }
}

fn link_for(connection: ConnectionId, external_id: &str, snapshot: &ContactFields) -> ProviderLink {
    ProviderLink {
        contact_id: ContactId::new_v7(), // replaced by the op's contact
        connection_id: connection,
        external_id: external_id.to_owned(),
        external_version: Some("e1".to_owned()),
        snapshot: Some(snapshot.clone()),
        snapshot_hash: Some("hash".to_owned()),
        remote_updated_at: None,
        synced_at: OffsetDateTime::UNIX_EPOCH,
    }
}

/// [`SyncRunStore`] (runs, items, review, the batched apply), [`CursorStore`] and
/// [`WebhookReceiptStore`], with the contact, link, audit and job rows the apply writes, and
/// tenancy of all of them.
pub async fn sync_store_contract<S>(store: &S)
where
    S: SyncRunStore
        + CursorStore
        + WebhookReceiptStore
        + ContactStore
        + LinkStore
        + ConnectionStore
        + JobQueue
        + AuditLog,
{
    let (a, b) = (OrgId::new_v7(), OrgId::new_v7());
    let conn = store.create_connection(a, new_connection("ghl", "loc-sync")).await.expect("connection");

    // Runs.
    let run = store.create_run(a, new_run("ghl", Some(conn.id))).await.expect("create run");
    assert_eq!((run.status, run.counts), (SyncStatus::Preview, SyncCounts::default()));
    assert_eq!(store.get_run(a, run.id).await.unwrap(), run, "a run round-trips");
    let dup = NewSyncRun { id: run.id, ..new_run("ghl", None) };
    assert!(matches!(store.create_run(a, dup).await, Err(SyncStoreError::Duplicate(_))), "taken run id");
    let older = store.create_run(a, new_run("google", None)).await.unwrap();
    let _ = older;
    let listed = store.list_runs(a, &RunFilter::default()).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        (listed[0].created_at, listed[0].id) > (listed[1].created_at, listed[1].id),
        "runs are listed newest first"
    );
    let ghl = store.list_runs(a, &RunFilter { provider: Some("ghl".to_owned()), ..Default::default() }).await.unwrap();
    assert_eq!(ghl.iter().map(|r| r.id).collect::<Vec<_>>(), vec![run.id], "filter by provider");
    let page = store.list_runs(a, &RunFilter { before: Some(listed[0].id), ..Default::default() }).await.unwrap();
    assert_eq!(page.iter().map(|r| r.id).collect::<Vec<_>>(), vec![listed[1].id], "pages continue after `before`");

    // Items.
    let existing = store
        .create_contact(
            a,
            NewContact {
                id: ContactId::new_v7(),
                fields: person("Ann", "Lee", Some("ann@x.com"), None),
                status: ContactStatus::Active,
            },
            &[],
        )
        .await
        .unwrap();
    let stale = store
        .create_contact(
            a,
            NewContact {
                id: ContactId::new_v7(),
                fields: person("Bob", "Ray", None, None),
                status: ContactStatus::Active,
            },
            &[],
        )
        .await
        .unwrap();
    let new_fields = person("Cat", "New", Some("cat@x.com"), Some("+1 415 555 0100"));
    let mut merged = existing.fields.clone();
    merged.company = Some("Acme".to_owned());
    // The update changes the email: the batch must move the email index row too.
    merged.emails = vec![EmailAddress::parse("ann.lee@acme.example").expect("email")];
    let items = vec![
        new_item(new_fields.clone(), "ext-1", ItemDecision::Create, None),
        new_item(merged.clone(), "ext-2", ItemDecision::Update, Some(existing.id)),
        new_item(stale.fields.clone(), "ext-3", ItemDecision::Update, Some(stale.id)),
        new_item(person("Dan", "Skip", None, None), "ext-4", ItemDecision::Skip, None),
        new_item(person("Eve", "Review", None, None), "ext-5", ItemDecision::Review, None),
    ];
    let ids: Vec<SyncItemId> = items.iter().map(|i| i.id).collect();
    store.add_items(a, run.id, items.clone()).await.expect("add items");
    let more = vec![new_item(person("Fay", "Later", None, None), "ext-6", ItemDecision::Create, None)];
    store.add_items(a, run.id, more).await.unwrap();
    let all = store.list_items(a, run.id, &ItemFilter::default()).await.unwrap();
    assert_eq!(all.iter().map(|i| i.position).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5], "positions continue");
    assert_eq!(all[0].incoming, items[0].incoming, "the incoming contact round-trips");
    assert_eq!(all[1].target_contact_id, Some(existing.id));
    assert!((all[0].confidence - 0.75).abs() < 1e-9);
    assert_eq!(all[0].diff, items[0].diff);
    // Without the diff, the same items otherwise.
    let lean = store.list_items(a, run.id, &ItemFilter { skip_diff: true, ..Default::default() }).await.unwrap();
    assert_eq!(lean.len(), all.len());
    for (l, f) in lean.iter().zip(&all) {
        assert!(l.diff == f.diff || l.diff.is_null(), "skip_diff leaves the diff or null");
        assert_eq!(SyncItem { diff: f.diff.clone(), ..l.clone() }, *f, "skip_diff changes nothing else");
    }
    assert!(
        matches!(store.add_items(a, run.id, vec![items[0].clone()]).await, Err(SyncStoreError::Duplicate(_))),
        "a taken item id is Duplicate"
    );
    let reviews = store
        .list_items(a, run.id, &ItemFilter { decision: Some(ItemDecision::Review), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(reviews.len(), 1, "filter by decision");
    let paged = store
        .list_items(a, run.id, &ItemFilter { after_position: Some(3), limit: 1, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(paged.iter().map(|i| i.position).collect::<Vec<_>>(), vec![4], "items page by position");
    assert_eq!(store.get_run(a, run.id).await.unwrap().review_seq, 0, "no review yet");
    assert_eq!(
        store.review_items(a, older.id, &ids, ReviewState::Approved).await.unwrap(),
        0,
        "items are reviewed only through their own run"
    );
    let pending = ItemFilter { review: Some(ReviewState::Pending), ..Default::default() };
    assert_eq!(store.list_items(a, run.id, &pending).await.unwrap().len(), 6, "all still pending");
    assert_eq!(store.review_items(a, run.id, &ids[..4], ReviewState::Approved).await.unwrap(), 4);
    assert_eq!(store.review_items(a, run.id, &ids[4..5], ReviewState::Rejected).await.unwrap(), 1);
    assert_eq!(store.get_run(a, run.id).await.unwrap().review_seq, 2, "each review that changed items counts");
    assert_eq!(store.review_items(a, run.id, &ids[..4], ReviewState::Approved).await.unwrap(), 0);
    assert_eq!(store.get_run(a, run.id).await.unwrap().review_seq, 2, "a review that changed nothing does not count");
    let approved = store
        .list_items(a, run.id, &ItemFilter { review: Some(ReviewState::Approved), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(approved.len(), 4, "filter by review state");

    // Someone edits `stale` after the decision: its update must conflict, not abort the batch.
    store.update_contact(a, stale.id, 1, person("Bob", "Ray-Edited", None, None), &[]).await.unwrap();
    let created_id = ContactId::new_v7();
    let batch = ApplyBatch {
        run_id: run.id,
        actor: Actor::System("sync".to_owned()),
        changes: vec![
            ApplyChange {
                item_id: ids[0],
                op: ApplyOp::Create { id: created_id, fields: new_fields.clone() },
                link: Some(link_for(conn.id, "ext-1", &new_fields)),
            },
            ApplyChange {
                item_id: ids[1],
                op: ApplyOp::Update { id: existing.id, expected_version: 1, fields: merged.clone() },
                link: Some(link_for(conn.id, "ext-2", &merged)),
            },
            ApplyChange {
                item_id: ids[2],
                op: ApplyOp::Update { id: stale.id, expected_version: 1, fields: stale.fields.clone() },
                link: Some(link_for(conn.id, "ext-3", &stale.fields)),
            },
            ApplyChange { item_id: ids[3], op: ApplyOp::Skip { reason: "unchanged".to_owned() }, link: None },
        ],
        cursor: Some((conn.id, "contacts".to_owned(), SyncCursor("delta-1".to_owned()))),
        jobs: vec![NewJob::new("contact.push", serde_json::json!({ "run": run.id.to_string() }))],
        known: vec![],
    };
    // Tenancy and validation first: nothing of these may be written.
    assert!(
        matches!(store.apply_batch(b, batch.clone()).await, Err(SyncStoreError::NotFound { .. })),
        "B cannot apply to A's run"
    );
    let foreign = store.create_run(b, new_run("ghl", None)).await.unwrap();
    let wrong_run = ApplyBatch { run_id: foreign.id, ..batch.clone() };
    let _ = wrong_run;
    let mut bad = batch.clone();
    bad.changes.push(ApplyChange {
        item_id: SyncItemId::new_v7(),
        op: ApplyOp::Skip { reason: "x".to_owned() },
        link: None,
    });
    assert!(matches!(store.apply_batch(a, bad).await, Err(SyncStoreError::Invalid(_))), "an item not in the run");
    assert!(store.get_contacts(a, &[created_id]).await.unwrap().is_empty(), "a refused batch writes nothing");
    assert!(store.get_cursor(a, conn.id, "contacts").await.unwrap().is_none(), "nor its cursor");
    assert!(store.get_item(a, ids[0]).await.unwrap().result.is_none(), "nor item results");

    let report = store.apply_batch(a, batch.clone()).await.expect("apply");
    assert_eq!(report.counts, SyncCounts { created: 1, updated: 1, skipped: 1, failed: 1, deleted: 0 });
    let outcomes: Vec<_> = report.results.iter().map(|(id, r)| (*id, r.outcome)).collect();
    assert_eq!(
        outcomes,
        vec![
            (ids[0], ItemOutcome::Created),
            (ids[1], ItemOutcome::Updated),
            (ids[2], ItemOutcome::Failed),
            (ids[3], ItemOutcome::Skipped)
        ],
        "every item's result, in batch order; the conflicting update failed"
    );
    assert_eq!(report.contacts.len(), 2, "the contacts written");
    let created = store.get_contact(a, created_id).await.expect("the create was written");
    assert_eq!((created.version, &created.fields), (1, &new_fields));
    assert_eq!(store.get_contact(a, existing.id).await.unwrap().version, 2, "the update was written");
    let by_email = |e: &str| ContactQuery {
        email: Some(EmailAddress::parse(e).expect("email")),
        limit: 10,
        ..ContactQuery::default()
    };
    let found_new = store.search_contacts(a, &by_email("ann.lee@acme.example")).await.unwrap();
    assert_eq!(found_new.iter().map(|c| c.id).collect::<Vec<_>>(), vec![existing.id], "the new email is indexed");
    assert!(
        store.search_contacts(a, &by_email("ann@x.com")).await.unwrap().is_empty(),
        "the old email is no longer indexed after a batch update"
    );
    let keys_now = blocking_keys(&merged);
    assert!(
        store.find_candidates(a, &keys_now, 10).await.unwrap().iter().any(|c| c.id == existing.id),
        "the updated contact's keys find it"
    );
    assert_eq!(store.get_contact(a, stale.id).await.unwrap().fields.family_name.as_deref(), Some("Ray-Edited"));
    let found = store.find_candidates(a, &blocking_keys(&new_fields), 10).await.unwrap();
    assert!(found.iter().any(|c| c.id == created_id), "index rows are written with the batch");
    let link = store.find_link(a, conn.id, "ext-1").await.unwrap().expect("link written");
    assert_eq!(link.contact_id, created_id, "the link points at the op's contact");
    assert!(store.find_link(a, conn.id, "ext-3").await.unwrap().is_none(), "no link for a failed item");
    let item = store.get_item(a, ids[2]).await.unwrap();
    assert_eq!(item.result.as_ref().map(|r| r.outcome), Some(ItemOutcome::Failed));
    assert!(item.result.and_then(|r| r.message).is_some_and(|m| !m.is_empty()), "the failure says why");
    let run_now = store.get_run(a, run.id).await.unwrap();
    assert_eq!(run_now.counts, report.counts, "the run's counts follow the batch");
    assert_eq!(
        store.get_cursor(a, conn.id, "contacts").await.unwrap().map(|c| c.cursor),
        Some(SyncCursor("delta-1".to_owned()))
    );
    assert_eq!(store.list_jobs(a, JobState::Available, 10).await.unwrap().len(), 1, "the batch's jobs are enqueued");
    let audit = store.list_audit(a, &AuditFilter { run_id: Some(run.id), ..Default::default() }).await.unwrap();
    assert_eq!(audit.len(), 2, "one audit row per written contact");
    let upd = audit.iter().find(|e| e.entry.entity_id == existing.id.to_string()).expect("audit of the update");
    assert_eq!(upd.entry.action, "update");
    assert!(upd.entry.before.is_some() && upd.entry.after.is_some(), "an update has before and after");
    let cre = audit.iter().find(|e| e.entry.entity_id == created_id.to_string()).expect("audit of the create");
    assert_eq!((cre.entry.action.as_str(), cre.entry.before.is_none()), ("create", true));
    assert_eq!(cre.entry.actor, Actor::System("sync".to_owned()));

    // Re-applying: items already applied are skipped and counted nowhere.
    let again = store.apply_batch(a, batch.clone()).await.expect("re-apply");
    assert!(again.results.is_empty() && again.contacts.is_empty(), "applied items are not applied twice");
    assert_eq!(store.get_run(a, run.id).await.unwrap().counts, report.counts);
    assert_eq!(
        store.review_items(a, run.id, &ids[..1], ReviewState::Rejected).await.unwrap(),
        0,
        "applied items keep their review"
    );
    let unapplied =
        store.list_items(a, run.id, &ItemFilter { unapplied_only: true, ..Default::default() }).await.unwrap();
    assert_eq!(unapplied.len(), 2);

    // Status.
    let exec = store.set_run_status(a, run.id, SyncStatus::Executing, None).await.unwrap();
    assert!(exec.started_at.is_some());
    let done = store.set_run_status(a, run.id, SyncStatus::Failed, Some("provider down")).await.unwrap();
    assert!(done.completed_at.is_some());
    assert_eq!(done.error.as_deref(), Some("provider down"));
    assert!(matches!(
        store.set_run_status(a, run.id, SyncStatus::Executing, None).await,
        Err(SyncStoreError::Invalid(_))
    ));
    let late = ApplyBatch { changes: vec![], cursor: None, jobs: vec![], ..batch.clone() };
    assert!(
        matches!(store.apply_batch(a, late).await, Err(SyncStoreError::Invalid(_))),
        "a terminal run takes no batch"
    );

    // Tenancy of runs and items.
    assert!(matches!(store.get_run(b, run.id).await, Err(SyncStoreError::NotFound { .. })));
    assert!(matches!(store.get_item(b, ids[0]).await, Err(SyncStoreError::NotFound { .. })));
    assert_eq!(store.list_runs(b, &RunFilter::default()).await.unwrap().len(), 1, "B sees only its own run");
    assert!(store.list_items(b, run.id, &ItemFilter::default()).await.unwrap().is_empty());
    let seq = store.get_run(a, run.id).await.unwrap().review_seq;
    assert_eq!(store.review_items(b, run.id, &ids, ReviewState::Approved).await.unwrap(), 0);
    assert_eq!(store.get_run(a, run.id).await.unwrap().review_seq, seq, "another org's review counts nowhere");
    assert!(matches!(
        store.set_run_status(b, run.id, SyncStatus::Cancelled, None).await,
        Err(SyncStoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.add_items(b, run.id, vec![new_item(person("X", "Y", None, None), "x", ItemDecision::Create, None)]).await,
        Err(SyncStoreError::NotFound { .. })
    ));
    let foreign_item = new_item(person("Gus", "B", None, None), "b-1", ItemDecision::Create, None);
    store.add_items(b, foreign.id, vec![foreign_item.clone()]).await.unwrap();
    let cross = ApplyBatch {
        run_id: older.id,
        actor: Actor::System("sync".to_owned()),
        changes: vec![ApplyChange {
            item_id: foreign_item.id,
            op: ApplyOp::Skip { reason: "x".to_owned() },
            link: None,
        }],
        cursor: None,
        jobs: vec![],
        known: vec![],
    };
    assert!(matches!(store.apply_batch(a, cross).await, Err(SyncStoreError::Invalid(_))), "B's item in A's run");
    let b_conn_batch = ApplyBatch {
        run_id: foreign.id,
        actor: Actor::System("sync".to_owned()),
        changes: vec![ApplyChange {
            item_id: foreign_item.id,
            op: ApplyOp::Update { id: existing.id, expected_version: 2, fields: person("Hacked", "B", None, None) },
            link: None,
        }],
        cursor: None,
        jobs: vec![],
        known: vec![],
    };
    let r = store.apply_batch(b, b_conn_batch).await.expect("B's own batch");
    assert_eq!(r.results[0].1.outcome, ItemOutcome::Failed, "B cannot update A's contact through a batch");
    assert_eq!(store.get_contact(a, existing.id).await.unwrap().fields, merged, "A's contact is untouched");
    let b_link = ApplyBatch {
        run_id: foreign.id,
        actor: Actor::System("sync".to_owned()),
        changes: vec![],
        cursor: Some((conn.id, "contacts".to_owned(), SyncCursor("evil".to_owned()))),
        jobs: vec![],
        known: vec![],
    };
    assert!(store.apply_batch(b, b_link).await.is_err(), "B cannot set a cursor on A's connection");

    // Cursors.
    assert_eq!(store.get_cursor(a, conn.id, "mail").await.unwrap(), None);
    store.set_cursor(a, conn.id, "mail", &SyncCursor("m1".to_owned())).await.unwrap();
    store.set_cursor(a, conn.id, "mail", &SyncCursor("m2".to_owned())).await.unwrap();
    assert_eq!(store.get_cursor(a, conn.id, "mail").await.unwrap().map(|c| c.cursor.0), Some("m2".to_owned()));
    assert!(store.get_cursor(b, conn.id, "mail").await.unwrap().is_none(), "cursors across orgs");
    assert!(matches!(
        store.set_cursor(b, conn.id, "mail", &SyncCursor("x".to_owned())).await,
        Err(SyncStoreError::NotFound { .. })
    ));
    assert!(!store.clear_cursor(b, conn.id, "mail").await.unwrap());
    assert!(store.clear_cursor(a, conn.id, "mail").await.unwrap());
    assert!(store.get_cursor(a, conn.id, "mail").await.unwrap().is_none());

    // Webhook receipts: insert once, jobs only when new.
    let receipt = NewWebhookReceipt {
        id: WebhookReceiptId::new_v7(),
        provider: "ghl".to_owned(),
        delivery_id: "d-1".to_owned(),
        connection_id: Some(conn.id),
        payload: serde_json::json!({ "type": "ContactUpdate" }),
    };
    let job = NewJob::new("webhook.apply", serde_json::json!({})).on_queue("hooks");
    let before_jobs = store.list_jobs(a, JobState::Available, 100).await.unwrap().len();
    assert_eq!(
        store.record_receipt(a, receipt.clone(), std::slice::from_ref(&job)).await.unwrap(),
        ReceiptOutcome::New(receipt.id)
    );
    let again = NewWebhookReceipt { id: WebhookReceiptId::new_v7(), ..receipt.clone() };
    assert_eq!(
        store.record_receipt(a, again, std::slice::from_ref(&job)).await.unwrap(),
        ReceiptOutcome::Duplicate(receipt.id),
        "a delivery is stored once"
    );
    assert_eq!(
        store.list_jobs(a, JobState::Available, 100).await.unwrap().len(),
        before_jobs + 1,
        "jobs only when new"
    );
    let in_b = NewWebhookReceipt { id: WebhookReceiptId::new_v7(), ..receipt.clone() };
    assert!(matches!(store.record_receipt(b, in_b, &[]).await.unwrap(), ReceiptOutcome::New(_)), "per organisation");
    let got = store.get_receipt(a, receipt.id).await.unwrap();
    assert_eq!((got.payload, got.processed_at), (receipt.payload.clone(), None));
    assert!(matches!(store.get_receipt(b, receipt.id).await, Err(SyncStoreError::NotFound { .. })));
    assert!(matches!(store.mark_receipt_processed(b, receipt.id, None).await, Err(SyncStoreError::NotFound { .. })));
    store.mark_receipt_processed(a, receipt.id, Some("bad payload")).await.unwrap();
    let got = store.get_receipt(a, receipt.id).await.unwrap();
    assert!(got.processed_at.is_some());
    assert_eq!(got.error.as_deref(), Some("bad payload"));

    apply_order_and_deletes(store, a, b, conn.id).await;
    batches_side_by_side(store, a, conn.id).await;
}

/// As many `apply_batch` calls as the store advises (at least two) on one run at once, each with
/// creates, updates of its own contacts and links: every change lands once, and the run's counts
/// are the sum (no count lost to a concurrent batch, no deadlock between them).
async fn batches_side_by_side<S>(store: &S, a: OrgId, conn: ConnectionId)
where
    S: SyncRunStore + ContactStore + LinkStore,
{
    let streams = store.apply_concurrency().max(2);
    let run = store.create_run(a, new_run("ghl", Some(conn))).await.expect("run");
    let mut batches = Vec::new();
    for s in 0..streams {
        let mut items = Vec::new();
        let mut changes = Vec::new();
        for i in 0..12 {
            let name = format!("side{s}x{i}");
            let fields = person(&name, "Side", Some(&format!("{name}@side.example")), None);
            let op = if i < 4 {
                let new = NewContact { id: ContactId::new_v7(), fields: fields.clone(), status: ContactStatus::Active };
                let made = store.create_contact(a, new, &[]).await.expect("contact");
                let mut changed = fields.clone();
                changed.company = Some(format!("Stream {s}"));
                ApplyOp::Update { id: made.id, expected_version: 1, fields: changed }
            } else {
                ApplyOp::Create { id: ContactId::new_v7(), fields: fields.clone() }
            };
            let item = new_item(fields.clone(), &name, ItemDecision::Create, None);
            let link = ProviderLink {
                contact_id: ContactId::new_v7(),
                connection_id: conn,
                external_id: name.clone(),
                external_version: None,
                snapshot: Some(fields),
                snapshot_hash: Some(name),
                remote_updated_at: None,
                synced_at: OffsetDateTime::UNIX_EPOCH,
            };
            changes.push(ApplyChange { item_id: item.id, op, link: Some(link) });
            items.push(item);
        }
        store.add_items(a, run.id, items).await.expect("items");
        batches.push(ApplyBatch {
            run_id: run.id,
            actor: Actor::System("sync".to_owned()),
            changes,
            cursor: None,
            jobs: vec![],
            known: vec![],
        });
    }
    let reports = futures_util::future::join_all(batches.into_iter().map(|batch| store.apply_batch(a, batch))).await;
    let mut total = SyncCounts::default();
    for report in reports {
        let report = report.expect("a batch beside others applies");
        assert_eq!((report.counts.created, report.counts.updated, report.counts.failed), (8, 4, 0));
        total.created += report.counts.created;
        total.updated += report.counts.updated;
    }
    let stored = store.get_run(a, run.id).await.expect("run").counts;
    assert_eq!((stored.created, stored.updated), (total.created, total.updated), "no count lost beside another batch");
    for s in 0..streams {
        for i in [0, 11] {
            let name = format!("side{s}x{i}");
            let link = store.find_link(a, conn, &name).await.expect("link").expect("every link written");
            let contact = store.get_contact(a, link.contact_id).await.expect("linked contact");
            assert_eq!(contact.fields.given_name.as_deref(), Some(name.as_str()));
            let expected = if i < 4 { Some(format!("Stream {s}")) } else { None };
            assert_eq!(contact.fields.company, expected);
        }
    }
}

/// `apply_batch` writes changes in batch order (a second change of one contact sees the version the
/// first left), soft-deletes (`ApplyOp::Delete`: status `deleted`, version up, row kept, audit
/// `delete`, no longer a candidate), reports a stale delete as a conflict, and never deletes
/// another organisation's contact.
async fn apply_order_and_deletes<S>(store: &S, a: OrgId, b: OrgId, conn: ConnectionId)
where
    S: SyncRunStore + ContactStore + AuditLog,
{
    let run = store.create_run(a, new_run("ghl", Some(conn))).await.expect("run");
    let mut made = Vec::new();
    for given in ["twice", "gone", "late", "stale"] {
        let fields = person(given, "Order", Some(&format!("{given}@order.example")), None);
        let new = NewContact { id: ContactId::new_v7(), fields, status: ContactStatus::Active };
        made.push(store.create_contact(a, new, &[]).await.expect("contact"));
    }
    // What a caller read before `stale` was edited: the store takes the known contacts that are
    // at the version a change expects instead of reading them, so the stale copy of `stale` must
    // still end in a conflict, and a copy of `gone` at another version than expected is not taken.
    let mut known = made.clone();
    if let Some(gone) = known.get_mut(1) {
        gone.version = 0;
    }
    let [twice, gone, late, stale] = <[rolodex_domain::Contact; 4]>::try_from(made).expect("four");
    store.update_contact(a, stale.id, 1, person("stale", "Edited", None, None), &[]).await.expect("edit");
    let mut first = twice.fields.clone();
    first.company = Some("One".to_owned());
    let mut second = first.clone();
    second.company = Some("Two".to_owned());
    second.emails = vec![EmailAddress::parse("twice.two@order.example").expect("email")];
    let mut late_fields = late.fields.clone();
    late_fields.company = Some("Late".to_owned());
    let ops = vec![
        (ItemDecision::Update, ApplyOp::Update { id: twice.id, expected_version: 1, fields: first.clone() }),
        (ItemDecision::Update, ApplyOp::Update { id: twice.id, expected_version: 2, fields: second.clone() }),
        (ItemDecision::Delete, ApplyOp::Delete { id: gone.id, expected_version: 1 }),
        (ItemDecision::Update, ApplyOp::Update { id: late.id, expected_version: 1, fields: late_fields.clone() }),
        (ItemDecision::Delete, ApplyOp::Delete { id: late.id, expected_version: 2 }),
        (ItemDecision::Delete, ApplyOp::Delete { id: stale.id, expected_version: 1 }),
    ];
    let items: Vec<NewSyncItem> = ops
        .iter()
        .enumerate()
        .map(|(i, (d, _))| new_item(ContactFields::default(), &format!("order-{i}"), *d, None))
        .collect();
    let ids: Vec<SyncItemId> = items.iter().map(|i| i.id).collect();
    store.add_items(a, run.id, items).await.expect("items");
    let changes =
        ops.into_iter().zip(&ids).map(|((_, op), id)| ApplyChange { item_id: *id, op, link: None }).collect::<Vec<_>>();
    let batch = ApplyBatch {
        run_id: run.id,
        actor: Actor::System("sync".to_owned()),
        changes,
        cursor: None,
        jobs: vec![],
        known,
    };
    let report = store.apply_batch(a, batch).await.expect("apply");
    let outcomes: Vec<ItemOutcome> = report.results.iter().map(|(_, r)| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            ItemOutcome::Updated,
            ItemOutcome::Updated,
            ItemOutcome::Deleted,
            ItemOutcome::Updated,
            ItemOutcome::Deleted,
            ItemOutcome::Failed
        ],
        "changes apply in batch order; the delete of a contact edited since is a conflict"
    );
    assert_eq!(report.counts, SyncCounts { updated: 3, deleted: 2, failed: 1, ..SyncCounts::default() });
    assert_eq!(store.get_run(a, run.id).await.expect("run").counts, report.counts, "the run counts deletions");

    let now_twice = store.get_contact(a, twice.id).await.expect("twice");
    assert_eq!((now_twice.version, &now_twice.fields), (3, &second), "both updates of one contact landed, in order");
    let by_email = |e: &str| ContactQuery {
        email: Some(EmailAddress::parse(e).expect("email")),
        limit: 10,
        ..ContactQuery::default()
    };
    assert_eq!(store.search_contacts(a, &by_email("twice.two@order.example")).await.expect("search").len(), 1);
    assert!(store.search_contacts(a, &by_email("twice@order.example")).await.expect("search").is_empty());
    // Blocking keys follow the fields: the ones that went no longer find it, the kept and new ones do.
    let (old_keys, new_keys) = (blocking_keys(&twice.fields), blocking_keys(&second));
    let retired: Vec<_> = old_keys.iter().filter(|k| !new_keys.contains(k)).cloned().collect();
    assert!(!retired.is_empty(), "the e-mail change retires a key");
    assert!(
        !store.find_candidates(a, &retired, 10).await.expect("candidates").iter().any(|c| c.id == twice.id),
        "a retired key no longer finds the contact"
    );
    for key in &new_keys {
        let found = store.find_candidates(a, std::slice::from_ref(key), 10).await.expect("candidates");
        assert!(found.iter().any(|c| c.id == twice.id), "key {key:?} finds the updated contact");
    }

    let now_gone = store.get_contact(a, gone.id).await.expect("a soft-deleted contact is still readable");
    assert_eq!((now_gone.status, now_gone.version, &now_gone.fields), (ContactStatus::Deleted, 2, &gone.fields));
    assert!(
        !store
            .find_candidates(a, &blocking_keys(&gone.fields), 10)
            .await
            .expect("candidates")
            .iter()
            .any(|c| c.id == gone.id),
        "a deleted contact is no longer a candidate"
    );
    let now_late = store.get_contact(a, late.id).await.expect("late");
    assert_eq!((now_late.status, now_late.version, &now_late.fields), (ContactStatus::Deleted, 3, &late_fields));
    let now_stale = store.get_contact(a, stale.id).await.expect("stale");
    assert_eq!(
        (now_stale.status, now_stale.version),
        (ContactStatus::Active, 2),
        "a conflicting delete writes nothing"
    );
    let failure = report.results[5].1.message.clone().unwrap_or_default();
    assert!(!failure.is_empty(), "the conflict says why");

    let audit = store.list_audit(a, &AuditFilter { run_id: Some(run.id), ..Default::default() }).await.expect("audit");
    assert_eq!(audit.len(), 5, "one audit row per write");
    let deleted = audit.iter().find(|e| e.entry.entity_id == gone.id.to_string()).expect("the delete is audited");
    assert_eq!(deleted.entry.action, "delete");
    let status_of = |v: &Option<serde_json::Value>| v.as_ref().and_then(|j| j.get("status")).cloned();
    assert_eq!(
        (status_of(&deleted.entry.before), status_of(&deleted.entry.after)),
        (Some(serde_json::json!("active")), Some(serde_json::json!("deleted"))),
        "before and after of a delete"
    );

    // B cannot delete A's contact through its own run.
    let theirs = store.create_run(b, new_run("ghl", None)).await.expect("B's run");
    let item = new_item(ContactFields::default(), "b-del", ItemDecision::Delete, None);
    store.add_items(b, theirs.id, vec![item.clone()]).await.expect("B's item");
    let attack = ApplyBatch {
        run_id: theirs.id,
        actor: Actor::System("sync".to_owned()),
        changes: vec![ApplyChange {
            item_id: item.id,
            op: ApplyOp::Delete { id: now_twice.id, expected_version: 3 },
            link: None,
        }],
        cursor: None,
        jobs: vec![],
        // A copy of A's contact that claims to be B's is no way in either.
        known: vec![rolodex_domain::Contact { org_id: b, ..now_twice.clone() }],
    };
    let r = store.apply_batch(b, attack).await.expect("B's batch");
    assert_eq!(r.results[0].1.outcome, ItemOutcome::Failed, "B cannot delete A's contact");
    assert_eq!(store.get_contact(a, twice.id).await.expect("twice").status, ContactStatus::Active);
}

/// [`AuditLog`] and [`ActivityStore`] (contacts come from [`ContactStore`]): append, list newest
/// first with filters and pages, timelines, `last_contacted_at`, tenancy.
pub async fn history_contract<S>(store: &S)
where
    S: AuditLog + ActivityStore + ContactStore,
{
    let (a, b) = (OrgId::new_v7(), OrgId::new_v7());
    let entry = |entity: &str, action: &str| NewAuditEntry {
        id: AuditId::new_v7(),
        actor: Actor::User(UserId::new_v7()),
        entity_type: "contact".to_owned(),
        entity_id: entity.to_owned(),
        action: action.to_owned(),
        before: Some(serde_json::json!({ "name": "old" })),
        after: Some(serde_json::json!({ "name": "new" })),
        run_id: None,
    };
    let first = entry("c1", "update");
    store.record_audit(a, vec![first.clone(), entry("c2", "create")]).await.expect("record");
    store.record_audit(a, vec![entry("c1", "delete")]).await.unwrap();
    assert!(matches!(store.record_audit(a, vec![first.clone()]).await, Err(HistoryStoreError::Duplicate(_))));
    let all = store.list_audit(a, &AuditFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| (w[0].at, w[0].entry.id) > (w[1].at, w[1].entry.id)), "newest first");
    assert!(all.iter().any(|e| e.entry == first), "an entry round-trips, before and after included");
    let c1 =
        AuditFilter { entity_type: Some("contact".to_owned()), entity_id: Some("c1".to_owned()), ..Default::default() };
    assert_eq!(store.list_audit(a, &c1).await.unwrap().len(), 2, "filter by entity");
    let page = store
        .list_audit(a, &AuditFilter { before: Some(all[0].entry.id), limit: 1, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|e| e.entry.id).collect::<Vec<_>>(), vec![all[1].entry.id]);
    assert!(store.list_audit(b, &AuditFilter::default()).await.unwrap().is_empty(), "audit across orgs");

    let contact = store
        .create_contact(
            a,
            NewContact {
                id: ContactId::new_v7(),
                fields: person("Tim", "Line", None, None),
                status: ContactStatus::Active,
            },
            &[],
        )
        .await
        .unwrap();
    let t0 = time::macros::datetime!(2025-06-01 10:00:00.5 UTC);
    let act = |kind: &str, at: OffsetDateTime| Activity {
        id: ActivityId::new_v7(),
        contact_id: contact.id,
        kind: kind.to_owned(),
        summary: format!("{kind} at {at}"),
        data: serde_json::json!({ "k": kind }),
        campaign_id: None,
        occurred_at: at,
    };
    let sent = act("email_sent", t0);
    store
        .add_activities(
            a,
            vec![
                sent.clone(),
                act("note", t0 + time::Duration::days(1)),
                act("email_received", t0 + time::Duration::days(2)),
            ],
        )
        .await
        .expect("add activities");
    assert_eq!(store.last_contacted_at(a, contact.id).await.unwrap(), Some(t0), "email_sent moves last contact");
    store.add_activities(a, vec![act("email_sent", t0 - time::Duration::days(5))]).await.unwrap();
    assert_eq!(store.last_contacted_at(a, contact.id).await.unwrap(), Some(t0), "never backwards");
    let tl = store.timeline(a, contact.id, None, 10).await.unwrap();
    assert_eq!(tl.len(), 4);
    assert_eq!(tl[0].kind, "email_received", "newest first");
    assert!(tl.contains(&sent), "an activity round-trips");
    let older = store.timeline(a, contact.id, Some(t0 + time::Duration::days(1)), 10).await.unwrap();
    assert_eq!(older.len(), 2, "before is exclusive");
    assert!(matches!(store.add_activities(a, vec![sent.clone()]).await, Err(HistoryStoreError::Duplicate(_))));
    assert!(
        matches!(store.add_activities(b, vec![act("note", t0)]).await, Err(HistoryStoreError::NotFound { .. })),
        "B cannot add to A's contact"
    );
    assert!(store.timeline(b, contact.id, None, 10).await.unwrap().is_empty(), "timelines across orgs");
    assert_eq!(store.last_contacted_at(b, contact.id).await.unwrap(), None);
    assert_eq!(store.timeline(a, contact.id, None, 10).await.unwrap().len(), 4, "nothing was added by B");
}

fn new_campaign(name: &str) -> NewCampaign {
    NewCampaign {
        id: CampaignId::new_v7(),
        user_id: None,
        name: name.to_owned(),
        subject_template: "Hi {{firstName}}".to_owned(),
        body_template: "Hello".to_owned(),
        target: serde_json::json!({ "tags": ["customer"] }),
        tone: Some("friendly".to_owned()),
        estimated_cost_micro_usd: 1200,
    }
}

fn message(contact: ContactId, state: MessageState) -> NewCampaignMessage {
    NewCampaignMessage {
        id: CampaignMessageId::new_v7(),
        contact_id: contact,
        to_address: "x@example.com".to_owned(),
        subject: "Hi".to_owned(),
        body: "Body".to_owned(),
        state,
        reason: (state == MessageState::Skipped).then(|| "do not disturb".to_owned()),
    }
}

/// [`CampaignStore`] (with [`JobQueue`] for the outbox): campaigns, status with jobs, costs,
/// messages with unique recipients, edits, compare-and-set transitions, counts, tenancy.
pub async fn campaign_store_contract<S: CampaignStore + JobQueue>(store: &S) {
    let (a, b) = (OrgId::new_v7(), OrgId::new_v7());
    let c = store.create_campaign(a, new_campaign("Spring")).await.expect("create");
    assert_eq!((c.status, c.total_cost_micro_usd), (CampaignStatus::Draft, 0));
    assert_eq!(store.get_campaign(a, c.id).await.unwrap(), c, "a campaign round-trips");
    assert!(matches!(store.create_campaign(a, new_campaign(" ")).await, Err(CampaignStoreError::Invalid(_))));
    let dup = NewCampaign { id: c.id, ..new_campaign("Again") };
    assert!(matches!(store.create_campaign(a, dup).await, Err(CampaignStoreError::Duplicate(_))));
    let c2 = store.create_campaign(a, new_campaign("Summer")).await.unwrap();
    let listed = store.list_campaigns(a, &CampaignFilter::default()).await.unwrap();
    assert_eq!(listed.iter().map(|x| x.id).collect::<Vec<_>>(), vec![c2.id, c.id], "newest first");
    let page = store.list_campaigns(a, &CampaignFilter { before: Some(c2.id), ..Default::default() }).await.unwrap();
    assert_eq!(page.iter().map(|x| x.id).collect::<Vec<_>>(), vec![c.id]);

    let send = NewJob::new("campaign.send", serde_json::json!({ "campaign": c.id.to_string() })).on_queue("mail");
    let approved = store.set_campaign_status(a, c.id, CampaignStatus::Approved, &[send]).await.unwrap();
    assert_eq!(approved.status, CampaignStatus::Approved);
    assert_eq!(store.list_jobs(a, JobState::Available, 10).await.unwrap().len(), 1, "approval enqueues the send");
    store.add_campaign_cost(a, c.id, 300).await.unwrap();
    store.add_campaign_cost(a, c.id, 200).await.unwrap();
    assert_eq!(store.get_campaign(a, c.id).await.unwrap().total_cost_micro_usd, 500);
    let draft = store
        .list_campaigns(a, &CampaignFilter { status: Some(CampaignStatus::Draft), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(draft.len(), 1, "filter by status");

    let (p1, p2, p3) = (ContactId::new_v7(), ContactId::new_v7(), ContactId::new_v7());
    let m1 = message(p1, MessageState::Queued);
    let m2 = message(p2, MessageState::Queued);
    store
        .add_messages(a, c.id, vec![m1.clone(), m2.clone(), message(p3, MessageState::Skipped)])
        .await
        .expect("messages");
    assert!(
        matches!(
            store.add_messages(a, c.id, vec![message(p1, MessageState::Queued)]).await,
            Err(CampaignStoreError::Duplicate(_))
        ),
        "a contact appears once per campaign"
    );
    store
        .add_messages(a, c2.id, vec![message(p1, MessageState::Queued)])
        .await
        .expect("but may be in another campaign");
    let queued = store.list_messages(a, c.id, Some(MessageState::Queued), None, 10).await.unwrap();
    assert_eq!(queued.len(), 2);
    assert!(queued.windows(2).all(|w| w[0].id < w[1].id), "by id");
    let after = store.list_messages(a, c.id, None, Some(queued[0].id), 10).await.unwrap();
    assert_eq!(after.len(), 2, "after is exclusive");
    let edited = store.edit_message(a, m1.id, "New subject", "New body").await.unwrap();
    assert_eq!((edited.subject.as_str(), edited.body.as_str()), ("New subject", "New body"));

    assert!(store.transition_message(a, m1.id, MessageState::Queued, MessageState::Sending, None, None).await.unwrap());
    assert!(
        !store.transition_message(a, m1.id, MessageState::Queued, MessageState::Sending, None, None).await.unwrap(),
        "compare-and-set: a second sender loses"
    );
    assert!(
        matches!(store.edit_message(a, m1.id, "s", "b").await, Err(CampaignStoreError::Invalid(_))),
        "only queued edits"
    );
    assert!(
        store
            .transition_message(a, m1.id, MessageState::Sending, MessageState::Sent, None, Some("prov-1"))
            .await
            .unwrap()
    );
    let sent = store.list_messages(a, c.id, Some(MessageState::Sent), None, 10).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].provider_message_id.as_deref(), Some("prov-1"));
    assert!(sent[0].sent_at.is_some());
    assert!(
        store
            .transition_message(a, m2.id, MessageState::Queued, MessageState::Failed, Some("bounced"), None)
            .await
            .unwrap()
    );
    let failed = store.list_messages(a, c.id, Some(MessageState::Failed), None, 10).await.unwrap();
    assert_eq!(failed[0].reason.as_deref(), Some("bounced"));
    assert_eq!(
        store.message_counts(a, c.id).await.unwrap(),
        MessageCounts { queued: 0, sending: 0, sent: 1, failed: 1, skipped: 1 }
    );

    // Tenancy.
    assert!(matches!(store.get_campaign(b, c.id).await, Err(CampaignStoreError::NotFound { .. })));
    assert!(store.list_campaigns(b, &CampaignFilter::default()).await.unwrap().is_empty());
    assert!(matches!(
        store.set_campaign_status(b, c.id, CampaignStatus::Cancelled, &[]).await,
        Err(CampaignStoreError::NotFound { .. })
    ));
    assert!(matches!(store.add_campaign_cost(b, c.id, 1).await, Err(CampaignStoreError::NotFound { .. })));
    assert!(matches!(
        store.add_messages(b, c.id, vec![message(ContactId::new_v7(), MessageState::Queued)]).await,
        Err(CampaignStoreError::NotFound { .. })
    ));
    assert!(store.list_messages(b, c.id, None, None, 10).await.unwrap().is_empty());
    assert!(matches!(store.edit_message(b, m1.id, "x", "y").await, Err(CampaignStoreError::NotFound { .. })));
    assert!(matches!(
        store.transition_message(b, m2.id, MessageState::Failed, MessageState::Queued, None, None).await,
        Err(CampaignStoreError::NotFound { .. })
    ));
    assert_eq!(store.message_counts(b, c.id).await.unwrap(), MessageCounts::default());
    assert_eq!(store.get_campaign(a, c.id).await.unwrap().total_cost_micro_usd, 500, "A's campaign is untouched");

    let finished = store.set_campaign_status(a, c.id, CampaignStatus::Completed, &[]).await.unwrap();
    assert!(finished.finished_at.is_some());
    assert!(
        matches!(
            store.set_campaign_status(a, c.id, CampaignStatus::Sending, &[]).await,
            Err(CampaignStoreError::Invalid(_))
        ),
        "a finished campaign stays finished"
    );
}

/// [`AccountStore`] and [`AiUsageStore`]: organisations, users with roles and permissions, API
/// keys stored as a hash and verified unscoped, usage totals, tenancy.
pub async fn account_store_contract<S: AccountStore + AiUsageStore>(store: &S) {
    let (a, b) = (OrgId::new_v7(), OrgId::new_v7());
    let org = store.create_org(a, "Acme").await.expect("org");
    assert_eq!(store.get_org(a).await.unwrap(), org);
    store.create_org(b, "Beta").await.unwrap();
    assert!(matches!(store.create_org(a, "Again").await, Err(AccountStoreError::Duplicate(_))));
    assert!(matches!(store.create_org(OrgId::new_v7(), "").await, Err(AccountStoreError::Invalid(_))));
    assert!(matches!(store.get_org(OrgId::new_v7()).await, Err(AccountStoreError::NotFound { .. })));
    let orgs: Vec<OrgId> = store.list_orgs().await.expect("list orgs").into_iter().map(|o| o.id).collect();
    assert_eq!(orgs.len(), 2, "{orgs:?}");
    assert!(orgs.contains(&a) && orgs.contains(&b));

    let new_user = |email: &str, role: Role| NewUser {
        id: UserId::new_v7(),
        email: email.to_owned(),
        name: "Someone".to_owned(),
        role,
        permissions: BTreeSet::new(),
    };
    let mut member = new_user("Zed@Acme.com", Role::Member);
    member.permissions.insert(Permission::SendBulkEmail);
    let zed = store.create_user(a, member).await.expect("user");
    assert_eq!(zed.email, "zed@acme.com", "emails are stored lower case");
    assert!(zed.can(Permission::SendBulkEmail) && !zed.can(Permission::ManageIntegrations));
    let owner = store.create_user(a, new_user("amy@acme.com", Role::Owner)).await.unwrap();
    assert!(
        matches!(
            store.create_user(a, new_user("ZED@acme.com", Role::Member)).await,
            Err(AccountStoreError::Duplicate(_))
        ),
        "emails are unique per organisation, case-insensitively"
    );
    store.create_user(b, new_user("zed@acme.com", Role::Member)).await.expect("another org may have the same email");
    assert!(matches!(
        store.create_user(OrgId::new_v7(), new_user("x@y.z", Role::Member)).await,
        Err(AccountStoreError::NotFound { .. })
    ));
    assert_eq!(store.get_user(a, zed.id).await.unwrap(), zed, "a user round-trips");
    let users = store.list_users(a).await.unwrap();
    assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), vec![owner.id, zed.id], "by email");
    let perms: BTreeSet<Permission> = [Permission::ManageIntegrations].into();
    let changed = store.set_user_access(a, zed.id, Role::Admin, &perms).await.unwrap();
    assert_eq!((changed.role, &changed.permissions), (Role::Admin, &perms));
    assert_eq!(store.get_user(a, zed.id).await.unwrap().permissions, perms);

    // API keys.
    let secret = SecretString::from("rk_live_0123456789abcdef");
    let key = store.create_api_key(a, ApiKeyId::new_v7(), Some(zed.id), "ci", &secret).await.expect("key");
    assert_eq!(store.verify_api_key(&secret).await.unwrap(), Some(key.clone()), "a key verifies");
    assert_eq!(store.verify_api_key(&SecretString::from("rk_live_wrong")).await.unwrap(), None);
    assert!(
        matches!(
            store.create_api_key(a, ApiKeyId::new_v7(), None, "dup", &secret).await,
            Err(AccountStoreError::Duplicate(_))
        ),
        "the same secret twice"
    );
    assert!(
        matches!(
            store
                .create_api_key(a, ApiKeyId::new_v7(), Some(UserId::new_v7()), "x", &SecretString::from("other"))
                .await,
            Err(AccountStoreError::NotFound { .. })
        ),
        "an unknown user"
    );

    // Tenancy.
    assert!(matches!(store.get_user(b, zed.id).await, Err(AccountStoreError::NotFound { .. })));
    assert_eq!(store.list_users(b).await.unwrap().len(), 1, "B sees only its own users");
    assert!(matches!(
        store.set_user_access(b, zed.id, Role::Owner, &BTreeSet::new()).await,
        Err(AccountStoreError::NotFound { .. })
    ));
    assert!(
        matches!(
            store.create_api_key(b, ApiKeyId::new_v7(), Some(zed.id), "x", &SecretString::from("b-secret")).await,
            Err(AccountStoreError::NotFound { .. })
        ),
        "B cannot make a key for A's user"
    );
    assert!(!store.revoke_api_key(b, key.id).await.unwrap(), "B cannot revoke A's key");
    assert!(store.verify_api_key(&secret).await.unwrap().is_some());
    assert_eq!(store.get_user(a, zed.id).await.unwrap().role, Role::Admin, "A's user is untouched");
    assert!(store.revoke_api_key(a, key.id).await.unwrap());
    assert!(!store.revoke_api_key(a, key.id).await.unwrap(), "only a live key is revoked");
    assert_eq!(store.verify_api_key(&secret).await.unwrap(), None, "a revoked key never verifies");

    // AI usage.
    let since = OffsetDateTime::now_utc() - time::Duration::days(1);
    let usage = |feature: &str, cost: u64| AiUsageRecord {
        user_id: Some(zed.id),
        feature: feature.to_owned(),
        model: "gpt-x".to_owned(),
        prompt_tokens: 100,
        completion_tokens: 20,
        cost_micro_usd: cost,
    };
    store.record_ai_usage(a, &usage("match_advice", 50)).await.unwrap();
    store.record_ai_usage(a, &usage("personalize", 70)).await.unwrap();
    store.record_ai_usage(b, &usage("personalize", 1000)).await.unwrap();
    let all = store.ai_usage_totals(a, since, None).await.unwrap();
    assert_eq!(all, AiUsageTotals { calls: 2, prompt_tokens: 200, completion_tokens: 40, cost_micro_usd: 120 });
    let p = store.ai_usage_totals(a, since, Some("personalize")).await.unwrap();
    assert_eq!((p.calls, p.cost_micro_usd), (1, 70), "per feature, per organisation");
    let future = OffsetDateTime::now_utc() + time::Duration::days(3650);
    assert_eq!(store.ai_usage_totals(a, future, None).await.unwrap(), AiUsageTotals::default(), "since bounds");
}
