//! `spawn_app()` for router tests: a fresh SQLite store in a temp dir (or a uuid-named PostgreSQL
//! database from `TEST_DATABASE_URL`, dropped afterwards), the router over it, an organisation
//! with an admin key, a fixed Ed25519 webhook key, an in-memory contact source per connection,
//! and helpers to send requests with `tower::ServiceExt::oneshot`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use ed25519_dalek::{Signer as _, SigningKey};
use http_body_util::BodyExt as _;
use rolodex_app::jobs::ContactSources;
use rolodex_app::sync::SyncSettings;
use rolodex_domain::ports::storage::{AccountStore, NewUser, Permission, Role};
use rolodex_domain::ports::{ChangePage, ContactSource, FetchRequest, ProviderError, SystemClock, V7Ids};
use rolodex_domain::{ApiKeyId, ConnectionId, IncomingContact, OrgId, Region, UserId};
use rolodex_store::{Store, StoreConfig, TokenCipher};
use rolodex_web::{AppState, Check, Limits, Readiness, StateConfig, WebhookSettings};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tower::ServiceExt as _;

/// Readiness that tests can flip.
#[derive(Default)]
pub struct FakeReadiness {
    pub down: Mutex<Option<String>>,
}

#[async_trait]
impl Readiness for FakeReadiness {
    async fn check(&self) -> Vec<Check> {
        let down = self.down.lock().unwrap().clone();
        vec![Check { name: "database".into(), ok: down.is_none(), detail: down.unwrap_or_else(|| "answers".into()) }]
    }
}

/// A source that returns the contacts given to it, in one page.
struct ListSource(Vec<IncomingContact>);

#[async_trait]
impl ContactSource for ListSource {
    fn provider(&self) -> &'static str {
        "ghl"
    }
    async fn fetch(&self, _request: FetchRequest) -> Result<ChangePage, ProviderError> {
        Ok(ChangePage { upserts: self.0.clone(), ..ChangePage::default() })
    }
}

/// Sources: whatever contacts a test put there for a connection (none by default).
#[derive(Default)]
pub struct FakeSources {
    pub contacts: Mutex<HashMap<ConnectionId, Vec<IncomingContact>>>,
}

#[async_trait]
impl ContactSources for FakeSources {
    async fn source(&self, _org: OrgId, connection: ConnectionId) -> Result<Arc<dyn ContactSource>, ProviderError> {
        let list = self.contacts.lock().unwrap().get(&connection).cloned().unwrap_or_default();
        Ok(Arc::new(ListSource(list)))
    }
}

/// A PostgreSQL database dropped on drop.
pub struct PgDb {
    url: String,
    admin_url: String,
    name: String,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                if let Ok(mut c) = AsyncPgConnection::establish(&admin).await {
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}

pub struct App {
    pub router: Router,
    pub store: Store,
    pub org: OrgId,
    /// The admin key (owner; every permission).
    pub key: String,
    pub signing: SigningKey,
    pub sources: Arc<FakeSources>,
    pub readiness: Arc<FakeReadiness>,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDb>,
}

pub const API_LIMIT: usize = 64 * 1024;
pub const WEBHOOK_LIMIT: usize = 16 * 1024;

async fn build(store: Store, dir: Option<tempfile::TempDir>, pg: Option<PgDb>) -> App {
    let signing = SigningKey::from_bytes(&[7; 32]);
    let public = base64::engine::general_purpose::STANDARD.encode(signing.verifying_key().to_bytes());
    let sources = Arc::new(FakeSources::default());
    let readiness = Arc::new(FakeReadiness::default());
    let state = AppState::new(
        store.clone(),
        StateConfig {
            sources: sources.clone(),
            readiness: readiness.clone(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(V7Ids),
            sync: SyncSettings::default(),
            webhooks: WebhookSettings::highlevel(Some(&public), Duration::from_secs(300), Region::parse("US").unwrap())
                .unwrap(),
            limits: Limits { api: API_LIMIT, webhook: WEBHOOK_LIMIT },
            region: Region::parse("US").unwrap(),
        },
    );
    let first = rolodex_web::bootstrap::first_start(&store, &V7Ids).await.unwrap().expect("a first start");
    App {
        router: rolodex_web::router(state),
        store,
        org: first.org,
        key: first.secret.expose_secret().to_owned(),
        signing,
        sources,
        readiness,
        _dir: dir,
        _pg: pg,
    }
}

/// A fresh app over a temp SQLite file.
pub async fn sqlite() -> App {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rolodex.db").display());
    let store = Store::connect(StoreConfig { url, max_connections: 4, cipher: TokenCipher::from_bytes([42; 32]) })
        .await
        .unwrap();
    build(store, Some(dir), None).await
}

/// A fresh app over a new PostgreSQL database, or `None` (after saying why) without
/// `TEST_DATABASE_URL`.
pub async fn postgres(test: &str) -> Option<App> {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        println!("skipping {test}: TEST_DATABASE_URL is not set (CI sets it)");
        return None;
    };
    let name = format!("rolodex_web_test_{}", uuid::Uuid::new_v4().simple());
    let mut c = AsyncPgConnection::establish(&admin_url).await.expect("connect to TEST_DATABASE_URL");
    c.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
    let db = PgDb { url: format!("{base}/{name}"), admin_url: admin_url.clone(), name };
    let store = Store::connect(StoreConfig {
        url: db.url.clone(),
        max_connections: 4,
        cipher: TokenCipher::from_bytes([42; 32]),
    })
    .await
    .unwrap();
    Some(build(store, None, Some(db)).await)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// Asserts a problem+json body with this status; returns it.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.content_type(), "application/problem+json", "{}", self.body);
        assert_eq!(self.body["status"], status, "{}", self.body);
        assert!(self.body["type"].as_str().unwrap().starts_with("https://rolodex.dev/problems/"), "{}", self.body);
        assert!(!self.body["title"].as_str().unwrap().is_empty());
        assert!(!self.body["detail"].as_str().unwrap().is_empty());
        &self.body
    }
}

impl App {
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply { status, headers, body }
    }

    pub async fn call(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            builder = builder.header("authorization", format!("Bearer {key}"));
        }
        let request = match body {
            Some(b) => builder.header("content-type", "application/json").body(Body::from(b.to_string())).unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        self.send(request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, Some(&self.key.clone()), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(&self.key.clone()), Some(body)).await
    }

    /// A second organisation with an owner key.
    pub async fn other_org(&self) -> (OrgId, String) {
        let org = OrgId::new_v7();
        self.store.create_org(org, "Other").await.unwrap();
        (org, self.key_for(org, Some(Role::Owner)).await)
    }

    /// A key in `org`, acting for a new user of `role` (or for no user).
    pub async fn key_for(&self, org: OrgId, role: Option<Role>) -> String {
        let user = match role {
            Some(role) => {
                let id = UserId::new_v7();
                self.store
                    .create_user(
                        org,
                        NewUser {
                            id,
                            email: format!("{id}@example.com"),
                            name: "Someone".into(),
                            role,
                            permissions: BTreeSet::<Permission>::new(),
                        },
                    )
                    .await
                    .unwrap();
                Some(id)
            }
            None => None,
        };
        let secret = rolodex_web::bootstrap::new_api_key();
        self.store.create_api_key(org, ApiKeyId::new_v7(), user, "test", &secret).await.unwrap();
        secret.expose_secret().to_owned()
    }

    /// Connects a GoHighLevel location (two-way by default); returns the connection id.
    pub async fn connect_ghl(&self, key: &str, location: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/v1/connections",
                Some(key),
                Some(serde_json::json!({
                    "provider": "gohighlevel",
                    "account": location,
                    "access_token": "pit-secret-token",
                    "base_url": "http://127.0.0.1:9",
                })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// A signed GoHighLevel delivery.
    pub fn signed_webhook(&self, body: &Value) -> Request<Body> {
        let bytes = body.to_string().into_bytes();
        let sig = base64::engine::general_purpose::STANDARD.encode(self.signing.sign(&bytes).to_bytes());
        Request::builder()
            .method(Method::POST)
            .uri("/v1/webhooks/ghl")
            .header("content-type", "application/json")
            .header("x-ghl-signature", sig)
            .body(Body::from(bytes))
            .unwrap()
    }
}

/// A secret that is not a key.
pub fn bogus_key() -> SecretString {
    SecretString::from("rk_not-a-real-key".to_owned())
}
