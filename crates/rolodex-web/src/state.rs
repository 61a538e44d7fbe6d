//! [`AppState`]: what the handlers use, all behind `Arc<dyn Port>` or cheap-to-clone services, so
//! the same router runs over the SQLite or PostgreSQL `Store` and over the in-memory fakes. Also
//! the [`Readiness`] check the server injects, the body [`Limits`] and the webhook settings.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rolodex_app::jobs::ContactSources;
use rolodex_app::remote::{ContactService, RemotePorts, WebhookIntake};
use rolodex_app::sync::{SyncPorts, SyncService, SyncSettings};
use rolodex_domain::Region;
use rolodex_domain::ports::storage::{
    AccountStore, ActivityStore, AuditLog, ConnectionStore, ContactStore, CursorStore, JobQueue, LinkStore,
    SyncRunStore, WebhookReceiptStore,
};
use rolodex_domain::ports::{Clock, IdGenerator};
use rolodex_ghl::WebhookVerifier;
use rolodex_ghl::webhook::KeyError;
use serde::Serialize;
use utoipa::ToSchema;

/// One readiness check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Check {
    /// `database`, `migrations`, ...
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// What was found (the error, when it failed).
    pub detail: String,
}

/// Whether the server can serve requests (`/readyz`): the database answers, its migrations are
/// current. Injected by the binary (it knows the store); tests inject their own.
#[async_trait]
pub trait Readiness: Send + Sync + 'static {
    /// Runs the checks.
    async fn check(&self) -> Vec<Check>;
}

/// Request body limits, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// API routes (default 1 MiB).
    pub api: usize,
    /// Webhook routes (default 256 KiB).
    pub webhook: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { api: 1024 * 1024, webhook: 256 * 1024 }
    }
}

/// GoHighLevel webhook verification.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The signature verifier (HighLevel's RSA key, plus the configured Ed25519 key).
    pub verifier: WebhookVerifier,
    /// How far a delivery's `timestamp` may be from now.
    pub max_skew: Duration,
    /// Region for phone numbers without a country code.
    pub region: Region,
}

impl WebhookSettings {
    /// HighLevel's keys: the published RSA key and `ed25519_public_key` (PEM, base64 or hex).
    ///
    /// # Errors
    /// [`KeyError`] when the Ed25519 key cannot be read.
    pub fn highlevel(ed25519_public_key: Option<&str>, max_skew: Duration, region: Region) -> Result<Self, KeyError> {
        Ok(Self { verifier: WebhookVerifier::highlevel(ed25519_public_key)?, max_skew, region })
    }
}

/// Everything the store side provides: one value implementing every storage port the API uses
/// (the `Store`, or the in-memory fake).
pub trait ApiStore:
    AccountStore
    + ConnectionStore
    + ContactStore
    + LinkStore
    + SyncRunStore
    + CursorStore
    + AuditLog
    + ActivityStore
    + JobQueue
    + WebhookReceiptStore
    + Clone
{
}

impl<T> ApiStore for T where
    T: AccountStore
        + ConnectionStore
        + ContactStore
        + LinkStore
        + SyncRunStore
        + CursorStore
        + AuditLog
        + ActivityStore
        + JobQueue
        + WebhookReceiptStore
        + Clone
{
}

/// What [`AppState::new`] needs besides the store.
#[derive(Clone)]
pub struct StateConfig {
    /// Provider sources built from stored connections (previews read them).
    pub sources: Arc<dyn ContactSources>,
    /// The readiness check.
    pub readiness: Arc<dyn Readiness>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Ids.
    pub ids: Arc<dyn IdGenerator>,
    /// Sync tuning.
    pub sync: SyncSettings,
    /// Webhook verification.
    pub webhooks: WebhookSettings,
    /// Body limits.
    pub limits: Limits,
    /// Region for phone numbers written without a country code (contact bodies).
    pub region: Region,
}

/// The handlers' dependencies. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Organisations, users, API keys.
    pub accounts: Arc<dyn AccountStore>,
    /// Provider connections.
    pub connections: Arc<dyn ConnectionStore>,
    /// The job queue (two-way schedules).
    pub jobs: Arc<dyn JobQueue>,
    /// The audit log.
    pub audit: Arc<dyn AuditLog>,
    /// Sync runs, for listing.
    pub runs: Arc<dyn SyncRunStore>,
    /// The sync use cases.
    pub sync: SyncService,
    /// Contacts (create, read, update, delete, search, timeline).
    pub contacts: Arc<ContactService>,
    /// Webhook intake.
    pub intake: Arc<WebhookIntake>,
    /// Provider sources.
    pub sources: Arc<dyn ContactSources>,
    /// Readiness.
    pub readiness: Arc<dyn Readiness>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Webhook verification.
    pub webhooks: WebhookSettings,
    /// Body limits.
    pub limits: Limits,
    /// Region for phone numbers in contact bodies.
    pub region: Region,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("limits", &self.limits).field("region", &self.region).finish_non_exhaustive()
    }
}

impl AppState {
    /// The state over one store implementing every port.
    #[must_use]
    pub fn new<S: ApiStore>(store: S, config: StateConfig) -> Self {
        let sync_ports = SyncPorts::over(&store, config.clock.clone(), config.ids.clone());
        Self {
            accounts: Arc::new(store.clone()),
            connections: Arc::new(store.clone()),
            jobs: Arc::new(store.clone()),
            audit: Arc::new(store.clone()),
            runs: Arc::new(store.clone()),
            sync: SyncService::new(sync_ports, config.sync),
            contacts: Arc::new(ContactService::new(RemotePorts::over(
                &store,
                config.clock.clone(),
                config.ids.clone(),
            ))),
            intake: Arc::new(WebhookIntake::new(RemotePorts::over(&store, config.clock.clone(), config.ids.clone()))),
            sources: config.sources,
            readiness: config.readiness,
            clock: config.clock,
            webhooks: config.webhooks,
            limits: config.limits,
            region: config.region,
        }
    }
}
