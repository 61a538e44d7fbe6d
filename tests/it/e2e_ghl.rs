//! Two-way GoHighLevel end to end, on SQLite and PostgreSQL: the HTTP API (`rolodex-web`'s
//! router, in process), the worker runtime with the standard handlers (run with `Mode::Once`, as a
//! restarted worker would), the store, and the GoHighLevel mock. Webhooks are built from the mock's
//! state and signed like HighLevel's (`x-ghl-signature`, Ed25519).
//!
//! Covers issue #6 point 6 and the nine points of seed 004's verification list: inbound create,
//! update and delete (1-3), outbound create and update (4-5), duplicate detection (6), initial
//! import (7), reconciliation healing a missed webhook (8), tag sync (9); plus duplicate deliveries,
//! a late older update, do-not-disturb, the echo of our own push, a push that survives a worker
//! killed between the commit and the push, and organisation isolation.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use rolodex_domain::ports::storage::{
    AccountStore, ConnectionStore, ContactQuery, ContactStore, LinkStore, NewUser, Role,
};
use rolodex_domain::ports::{SystemClock, V7Ids};
use rolodex_domain::{ApiKeyId, Contact, ContactStatus, OrgId, Region, UserId};
use rolodex_runtime::{Mode, RuntimeDeps, WorkerConfig, concurrency_with, standard_registry};
use rolodex_store::Store;
use rolodex_testkit::mocks::ghl::{GhlMock, LOCATION_ID, WebhookSigner};
use rolodex_web::{AppState, Limits, Readiness, StateConfig, WebhookSettings};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{TestDb, both};

struct AlwaysReady;

#[async_trait::async_trait]
impl Readiness for AlwaysReady {
    async fn check(&self) -> Vec<rolodex_web::Check> {
        vec![]
    }
}

struct Harness {
    router: Router,
    deps: RuntimeDeps,
    store: Store,
    mock: GhlMock,
    signer: WebhookSigner,
    key: String,
    org: OrgId,
}

fn us() -> Region {
    Region::parse("US").expect("region")
}

/// An organisation with an owner and an API key acting for them.
async fn org_with_key(store: &Store, name: &str) -> (OrgId, String) {
    let org = OrgId::new_v7();
    store.create_org(org, name).await.expect("org");
    let user = UserId::new_v7();
    let owner = NewUser {
        id: user,
        email: format!("owner@{}.example", name.to_lowercase()),
        name: "Owner".to_owned(),
        role: Role::Owner,
        permissions: std::collections::BTreeSet::new(),
    };
    store.create_user(org, owner).await.expect("owner");
    let secret = rolodex_web::bootstrap::new_api_key();
    store.create_api_key(org, ApiKeyId::new_v7(), Some(user), "test", &secret).await.expect("key");
    (org, secret.expose_secret().to_owned())
}

impl Harness {
    async fn new(db: &TestDb) -> Self {
        let store = db.store().await;
        let mock = GhlMock::start().await;
        let signer = WebhookSigner::default();
        let deps = RuntimeDeps::new(store.clone(), us()).expect("deps");
        let (org, key) = org_with_key(&store, "Acme").await;
        let config = StateConfig {
            sources: Arc::new(deps.sources.clone()),
            readiness: Arc::new(AlwaysReady),
            clock: Arc::new(SystemClock),
            ids: Arc::new(V7Ids),
            sync: deps.settings,
            webhooks: WebhookSettings::highlevel(Some(&signer.public_key_base64()), Duration::from_secs(300), us())
                .expect("webhook key"),
            limits: Limits::default(),
            region: us(),
        };
        let router = rolodex_web::router(AppState::new(store.clone(), config));
        Self { router, deps, store, mock, signer, key, org }
    }

    async fn call(&self, method: &str, path: &str, key: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {key}"));
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let response = self.router.clone().oneshot(req.body(body).expect("request")).await.expect("response");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call(method, path, &self.key, body).await
    }

    /// Delivers a webhook body signed as HighLevel does.
    async fn deliver(&self, body: &[u8]) -> (StatusCode, Value) {
        let req = Request::builder()
            .method("POST")
            .uri("/v1/webhooks/ghl")
            .header("content-type", "application/json")
            .header("x-ghl-signature", self.signer.sign(body))
            .body(Body::from(body.to_vec()))
            .expect("request");
        let response = self.router.clone().oneshot(req).await.expect("response");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Runs the worker until no job is due (a worker started after a crash does the same).
    async fn work(&self) {
        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        let config = WorkerConfig {
            worker_id: "e2e".to_owned(),
            queues: concurrency_with(&[]),
            poll_interval: Duration::from_millis(20),
            ..WorkerConfig::default()
        };
        let stats = rolodex_runtime::run(
            Arc::new(self.store.clone()),
            Arc::new(standard_registry(&self.deps)),
            config,
            Mode::Once,
            shutdown,
        )
        .await;
        assert_eq!((stats.dead, stats.retried), (0, 0), "no job failed: {stats:?}");
    }

    /// Connects the mock's location as a two-way connection through the API.
    async fn connect(&self) -> String {
        let (status, body) = self
            .api(
                "POST",
                "/v1/connections",
                Some(json!({
                    "provider": "ghl", "account": LOCATION_ID,
                    "access_token": self.mock.access_token().expect("mock token"),
                    "base_url": self.mock.uri(),
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("connection id").to_owned()
    }

    async fn live(&self) -> Vec<Contact> {
        self.store
            .search_contacts(self.org, &ContactQuery { limit: 1000, ..ContactQuery::default() })
            .await
            .expect("contacts")
    }

    async fn by_email(&self, email: &str) -> Vec<Contact> {
        let q = ContactQuery {
            email: Some(rolodex_domain::EmailAddress::parse(email).expect("email")),
            status: None,
            limit: 10,
            ..ContactQuery::default()
        };
        self.store.search_contacts(self.org, &q).await.expect("search")
    }

    async fn linked(&self, external_id: &str) -> Contact {
        let connection = self.store.list_connections(self.org, Some("ghl")).await.expect("connections")[0].id;
        let link = self.store.find_link(self.org, connection, external_id).await.expect("link").expect("linked");
        self.store.get_contact(self.org, link.contact_id).await.expect("contact")
    }
}

fn ghl_contact(first: &str, last: &str, email: &str, phone: &str) -> serde_json::Map<String, Value> {
    let v = json!({
        "locationId": LOCATION_ID, "firstName": first, "lastName": last, "email": email, "phone": phone,
        "companyName": "Initech", "tags": ["lead"],
    });
    v.as_object().expect("object").clone()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

both!(webhook_sequence_and_initial_import);
async fn webhook_sequence_and_initial_import(db: TestDb) {
    let h = Harness::new(&db).await;
    // 7. Initial import: contacts already in GoHighLevel arrive when the location is connected.
    for i in 0..3 {
        let _ = h.mock.insert_raw(&ghl_contact(
            &format!("Pre{i}"),
            "Existing",
            &format!("pre{i}@example.com"),
            &format!("+1415555010{i}"),
        ));
    }
    h.connect().await;
    h.work().await;
    assert_eq!(h.live().await.len(), 3, "the initial import brought every GoHighLevel contact");

    // 1. Inbound create.
    let created = h.mock.insert_raw(&ghl_contact("Dana", "Scully", "dana@fbi.gov", "+14155550199"));
    let id = id_of(&created);
    let create_hook = h.mock.webhook("ContactCreate", &id).expect("hook");
    let (status, ack) = h.deliver(&create_hook).await;
    assert_eq!((status, ack["status"].as_str()), (StatusCode::OK, Some("accepted")), "{ack}");
    h.work().await;
    let c = h.linked(&id).await;
    assert_eq!(c.fields.given_name.as_deref(), Some("Dana"));
    assert_eq!(h.live().await.len(), 4);

    // A duplicate delivery is a no-op.
    let (status, ack) = h.deliver(&create_hook).await;
    assert_eq!((status, ack["status"].as_str()), (StatusCode::OK, Some("duplicate")), "{ack}");
    h.work().await;
    assert_eq!(h.live().await.len(), 4, "no second contact");
    assert_eq!(h.linked(&id).await.version, c.version, "nothing rewritten");

    // 2. Inbound update (email), keeping an older delivery aside.
    let older = {
        let _ = h.mock.update_raw(&id, json!({"companyName": "X-Files"}).as_object().expect("o"));
        h.mock.webhook("ContactUpdate", &id).expect("hook")
    };
    let _ =
        h.mock.update_raw(&id, json!({"email": "dana.scully@fbi.gov", "companyName": "FBI"}).as_object().expect("o"));
    let newer = h.mock.webhook("ContactUpdate", &id).expect("hook");
    assert_eq!(h.deliver(&newer).await.0, StatusCode::OK);
    h.work().await;
    let c = h.linked(&id).await;
    assert_eq!(c.fields.primary_email().map(ToString::to_string).as_deref(), Some("dana.scully@fbi.gov"));
    assert_eq!(c.fields.company.as_deref(), Some("FBI"));
    // An older update arriving late never overwrites the newer state.
    assert_eq!(h.deliver(&older).await.0, StatusCode::OK);
    h.work().await;
    let after_late = h.linked(&id).await;
    assert_eq!(after_late.fields.company.as_deref(), Some("FBI"), "the late, older update was ignored");
    assert_eq!(after_late.version, c.version);

    // 9. Tags, and do-not-disturb (which flows only from GoHighLevel).
    let _ = h.mock.update_raw(&id, json!({"tags": ["lead", "vip"]}).as_object().expect("o"));
    assert_eq!(h.deliver(&h.mock.webhook("ContactTagUpdate", &id).expect("hook")).await.0, StatusCode::OK);
    let _ = h.mock.update_raw(&id, json!({"dnd": true}).as_object().expect("o"));
    assert_eq!(h.deliver(&h.mock.webhook("ContactDndUpdate", &id).expect("hook")).await.0, StatusCode::OK);
    h.work().await;
    let c = h.linked(&id).await;
    assert!(c.fields.tags.contains("vip") && c.fields.tags.contains("lead"), "{:?}", c.fields.tags);
    assert!(c.fields.do_not_disturb);

    // 3. Inbound delete: soft delete, the contact and its history stay.
    assert_eq!(h.deliver(&h.mock.delete_webhook(&id)).await.0, StatusCode::OK);
    h.work().await;
    let c = h.linked(&id).await;
    assert_eq!(c.status, ContactStatus::Deleted);
    assert_eq!(h.live().await.len(), 3, "the deleted contact is no longer listed");
    let (status, timeline) = h.api("GET", &format!("/v1/contacts/{}/timeline", c.id), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(timeline.to_string().contains("delete"), "the timeline shows the delete: {timeline}");
}

both!(reconciliation_heals_a_missed_webhook);
async fn reconciliation_heals_a_missed_webhook(db: TestDb) {
    let h = Harness::new(&db).await;
    let created = h.mock.insert_raw(&ghl_contact("Fox", "Mulder", "fox@fbi.gov", "+14155550123"));
    let id = id_of(&created);
    h.connect().await;
    h.work().await;
    assert_eq!(h.linked(&id).await.fields.company.as_deref(), Some("Initech"));
    // 8. Changed in GoHighLevel while webhooks were down: no delivery.
    let _ = h.mock.update_raw(&id, json!({"companyName": "Lone Gunmen"}).as_object().expect("o"));
    let added = h.mock.insert_raw(&ghl_contact("Walter", "Skinner", "walter@fbi.gov", "+14155550124"));
    // The next reconciliation (every 15 minutes; enqueued now instead of waiting).
    let connection = h.store.list_connections(h.org, Some("ghl")).await.expect("connections")[0].id;
    rolodex_domain::ports::storage::JobQueue::enqueue(
        &h.store,
        h.org,
        rolodex_app::remote::ReconcileJob::job(connection),
    )
    .await
    .expect("enqueue");
    h.work().await;
    assert_eq!(h.linked(&id).await.fields.company.as_deref(), Some("Lone Gunmen"), "healed");
    assert_eq!(h.linked(&id_of(&added)).await.fields.given_name.as_deref(), Some("Walter"), "missed create healed");
    let schedules = rolodex_domain::ports::storage::JobQueue::list_schedules(&h.store, h.org).await.expect("schedules");
    assert!(
        schedules.iter().any(|s| s.name == format!("reconcile:{connection}")),
        "reconciliation is scheduled: {schedules:?}"
    );
}

both!(local_changes_reach_ghl_exactly_once);
async fn local_changes_reach_ghl_exactly_once(db: TestDb) {
    let h = Harness::new(&db).await;
    h.connect().await;
    h.work().await;
    h.mock.allow_duplicates(true); // so a second create would show as a second contact

    // 4. Outbound create. The worker is "killed" between the commit and the push: nothing runs
    // until a worker starts again.
    let (status, created) = h
        .api(
            "POST",
            "/v1/contacts",
            Some(
                json!({"given_name": "Monica", "family_name": "Reyes", "emails": ["monica@fbi.gov"], "company": "FBI"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let local_id = created["id"].as_str().expect("id").to_owned();
    assert!(h.mock.contacts_with_email("monica@fbi.gov").is_empty(), "not pushed before a worker runs");
    h.work().await;
    h.work().await;
    let remote = h.mock.contacts_with_email("monica@fbi.gov");
    assert_eq!(remote.len(), 1, "pushed exactly once: {remote:?}");
    let external = id_of(&remote[0]);
    assert_eq!(h.linked(&external).await.id.to_string(), local_id, "the GoHighLevel id is stored");

    // 5. Outbound update.
    let (status, updated) = h
        .api(
            "PUT",
            &format!("/v1/contacts/{local_id}"),
            Some(json!({
                "given_name": "Monica", "family_name": "Reyes", "emails": ["monica@fbi.gov"], "company": "FBI",
                "phones": [{"number": "+14155550177"}]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    h.work().await;
    let stored = h.mock.contact_json(&external).expect("remote contact");
    assert_eq!(stored["phone"].as_str(), Some("+14155550177"), "{stored}");
    assert_eq!(h.mock.contacts_with_email("monica@fbi.gov").len(), 1);

    // The echo of our own push changes nothing.
    let before = h.linked(&external).await;
    assert_eq!(h.deliver(&h.mock.webhook("ContactUpdate", &external).expect("hook")).await.0, StatusCode::OK);
    h.work().await;
    let after = h.linked(&external).await;
    assert_eq!(after.version, before.version, "the echo changed nothing: {:?} -> {:?}", before.fields, after.fields);

    // A local delete never deletes in GoHighLevel.
    assert_eq!(h.api("DELETE", &format!("/v1/contacts/{local_id}"), None).await.0, StatusCode::OK);
    h.work().await;
    assert!(h.mock.contact_json(&external).is_some(), "still in GoHighLevel");

    // A worker that pushed but died before storing the link: the retry finds the contact there
    // (GoHighLevel refuses a duplicate and names it), links it, and still leaves one.
    h.mock.allow_duplicates(false);
    let (status, second) = h
        .api(
            "POST",
            "/v1/contacts",
            Some(json!({"given_name": "John", "family_name": "Doggett", "emails": ["john@fbi.gov"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let _ = h.mock.insert_raw(&ghl_contact("John", "Doggett", "john@fbi.gov", "+14155550178"));
    h.work().await;
    let remote = h.mock.contacts_with_email("john@fbi.gov");
    assert_eq!(remote.len(), 1, "{remote:?}");
    assert_eq!(h.linked(&id_of(&remote[0])).await.id.to_string(), second["id"].as_str().expect("id"));
}

both!(duplicates_link_and_organisations_are_isolated);
async fn duplicates_link_and_organisations_are_isolated(db: TestDb) {
    let h = Harness::new(&db).await;
    // A contact that exists locally before GoHighLevel is connected.
    let (status, local) =
        h.api("POST", "/v1/contacts", Some(json!({"given_name": "Alex", "emails": ["alex@krycek.net"]}))).await;
    assert_eq!(status, StatusCode::CREATED, "{local}");
    // Creating it again with the same email is refused, naming the existing contact.
    let (status, problem) =
        h.api("POST", "/v1/contacts", Some(json!({"given_name": "Alexander", "emails": ["ALEX@krycek.net"]}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    h.connect().await;
    h.work().await;
    // 6. The same person created in GoHighLevel links to the existing contact: no duplicate.
    let created = h.mock.insert_raw(&ghl_contact("Alex", "Krycek", "alex@krycek.net", "+14155550155"));
    assert_eq!(h.deliver(&h.mock.webhook("ContactCreate", &id_of(&created)).expect("hook")).await.0, StatusCode::OK);
    h.work().await;
    assert_eq!(h.by_email("alex@krycek.net").await.len(), 1, "linked, not duplicated");
    let c = h.linked(&id_of(&created)).await;
    assert_eq!(c.id.to_string(), local["id"].as_str().expect("id"));
    assert_eq!(c.fields.family_name.as_deref(), Some("Krycek"), "filled in from GoHighLevel");

    // Another organisation's key sees and touches nothing of this one.
    let (_, other_key) = org_with_key(&h.store, "Other").await;
    let path = format!("/v1/contacts/{}", c.id);
    assert_eq!(h.call("GET", &path, &other_key, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(h.call("DELETE", &path, &other_key, None).await.0, StatusCode::NOT_FOUND);
    let (status, list) = h.call("GET", "/v1/contacts", &other_key, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
    let (_, conns) = h.call("GET", "/v1/connections", &other_key, None).await;
    assert_eq!(conns.as_array().map(Vec::len), Some(0), "{conns}");
    assert_eq!(h.store.get_contact(h.org, c.id).await.expect("still there").status, ContactStatus::Active);
}
