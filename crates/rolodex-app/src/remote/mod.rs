//! Two-way sync with a provider (GoHighLevel first; architecture.md "Two-way sync"), as services
//! over ports:
//!
//! - [`ContactService`] ([`contacts`]): local contact writes (create, update, soft delete) that
//!   enqueue a push to every two-way connection *in the same transaction* (the transactional
//!   outbox), plus reads, search and the contact's timeline;
//! - [`WebhookIntake`] ([`intake`]): a verified, parsed webhook is stored once per delivery id with
//!   its `remote.apply` job, and acknowledged;
//! - [`ApplyWebhookJob`], [`ReconcileJob`], [`PushJob`] ([`jobs`]): the worker side: apply a remote
//!   change (three-way, field by field, against the last synced snapshot), pull what changed since
//!   the stored cursor every 15 minutes, push a local change;
//! - [`TwoWay`]: what connecting and disconnecting a two-way connection schedules.
//!
//! **Ordering.** Every two-way job runs on the [`QUEUE`] queue. Run it with a concurrency of one
//! (the default of the standard worker configuration): remote changes are then applied in arrival
//! order and a push never races an apply of the same contact. Several worker processes on one
//! PostgreSQL database should enable that queue in one of them only (see `docs/sync.md`).
//!
//! **Comparing across systems.** A provider cannot hold everything a Rolodex contact holds
//! (GoHighLevel keeps one email in a write, for example). Contacts are compared in the provider's
//! form, [`ContactSink::project`]: a difference the provider cannot represent is never pushed again
//! and again, and provider data we cannot write (its own custom fields) flows to us and is never
//! taken for a local deletion.

pub mod apply;
pub mod contacts;
pub mod intake;
pub mod jobs;

use std::sync::Arc;

use rolodex_domain::ports::storage::{
    ActivityStore, Actor, AuditLog, Connection, ConnectionStore, ConnectionStoreError, ContactStore, CursorStore,
    JobQueue, JobQueueError, LinkStore, NewAuditEntry, NewJob, Schedule, WebhookReceiptStore,
};
use rolodex_domain::ports::{Clock, ContactSink, IdGenerator, ProviderError};
use rolodex_domain::{AuditId, ConnectionId, Contact, ContactFields, ContactId, OrgId};

pub use apply::{AppliedChange, RemoteApplier};
pub use contacts::{ContactError, ContactService, Timeline};
pub use intake::{Delivery, IngestError, IngestOutcome, WebhookIntake};
pub use jobs::{ApplyWebhookJob, PushJob, ReconcileJob};

/// The queue every two-way job runs on (concurrency one; see the module docs).
pub const QUEUE: &str = "remote";

/// The ports the two-way services are written against.
#[derive(Clone)]
pub struct RemotePorts {
    /// Contacts.
    pub contacts: Arc<dyn ContactStore>,
    /// Provider links (with the last synced snapshot, the base of the three-way merge).
    pub links: Arc<dyn LinkStore>,
    /// Connections (settings: two-way, conflict policy).
    pub connections: Arc<dyn ConnectionStore>,
    /// Webhook deliveries.
    pub receipts: Arc<dyn WebhookReceiptStore>,
    /// Reconciliation cursors.
    pub cursors: Arc<dyn CursorStore>,
    /// The audit log.
    pub audit: Arc<dyn AuditLog>,
    /// Contact timelines.
    pub activities: Arc<dyn ActivityStore>,
    /// The job queue (schedules; the outbox jobs themselves are written with the changes).
    pub jobs: Arc<dyn JobQueue>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Ids.
    pub ids: Arc<dyn IdGenerator>,
}

impl RemotePorts {
    /// Every port over one value implementing them all (the store, or an in-memory fake).
    #[must_use]
    pub fn over<S>(store: &S, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self
    where
        S: ContactStore
            + LinkStore
            + ConnectionStore
            + WebhookReceiptStore
            + CursorStore
            + AuditLog
            + ActivityStore
            + JobQueue
            + Clone,
    {
        Self {
            contacts: Arc::new(store.clone()),
            links: Arc::new(store.clone()),
            connections: Arc::new(store.clone()),
            receipts: Arc::new(store.clone()),
            cursors: Arc::new(store.clone()),
            audit: Arc::new(store.clone()),
            activities: Arc::new(store.clone()),
            jobs: Arc::new(store.clone()),
            clock,
            ids,
        }
    }
}

/// Builds the [`ContactSink`] of a connection the caller has already read (the provider adapter
/// with its tokens), so a job that loaded the connection does not read it again.
pub trait ContactSinks: Send + Sync + 'static {
    /// The sink writing to `connection`.
    ///
    /// # Errors
    /// [`ProviderError`]: `NeedsReauth` when the connection must be reconnected, `NotFound` when its
    /// provider has no sink.
    fn sink(&self, connection: &Connection) -> Result<Arc<dyn ContactSink>, ProviderError>;
}

/// What connecting and disconnecting a two-way connection schedules.
#[derive(Debug, Clone, Copy)]
pub struct TwoWay;

impl TwoWay {
    /// The recurring reconciliation's schedule name for `connection`.
    #[must_use]
    pub fn schedule_name(connection: ConnectionId) -> String {
        format!("reconcile:{connection}")
    }

    /// For a two-way connection: schedules its reconciliation every
    /// [`reconcile_minutes`](rolodex_domain::ports::storage::ConnectionSettings::reconcile_minutes)
    /// and enqueues the first one now (the initial import of every remote contact). Nothing for
    /// other connections.
    ///
    /// # Errors
    /// [`JobQueueError`] from the queue.
    pub async fn on_connected(jobs: &dyn JobQueue, org: OrgId, connection: &Connection) -> Result<(), JobQueueError> {
        if !connection.settings.two_way {
            return Ok(());
        }
        let minutes = connection.settings.reconcile_minutes();
        jobs.upsert_schedule(
            org,
            &Self::schedule_name(connection.id),
            Schedule::EveryMinutes(minutes),
            ReconcileJob::job(connection.id),
        )
        .await?;
        jobs.enqueue(org, ReconcileJob::job(connection.id)).await?;
        Ok(())
    }

    /// Removes the reconciliation schedule of `connection` (jobs already queued find the
    /// connection disconnected and stop).
    ///
    /// # Errors
    /// [`JobQueueError`] from the queue.
    pub async fn on_disconnected(
        jobs: &dyn JobQueue,
        org: OrgId,
        connection: ConnectionId,
    ) -> Result<(), JobQueueError> {
        jobs.delete_schedule(org, &Self::schedule_name(connection)).await?;
        Ok(())
    }
}

/// Records one audit entry for a contact change (`before` absent for a create). The change is
/// already committed: a failed audit write is logged, not turned into a failed operation.
pub(crate) async fn audit_contact(
    ports: &RemotePorts,
    org: OrgId,
    actor: &Actor,
    action: &str,
    before: Option<&ContactFields>,
    after: &Contact,
) {
    let entry = NewAuditEntry {
        id: AuditId::from(ports.ids.new_uuid()),
        actor: actor.clone(),
        entity_type: "contact".to_owned(),
        entity_id: after.id.to_string(),
        action: action.to_owned(),
        before: before.and_then(|f| serde_json::to_value(f).ok()),
        after: serde_json::to_value(&after.fields).ok(),
        run_id: None,
    };
    if let Err(e) = ports.audit.record_audit(org, vec![entry]).await {
        tracing::error!(org = %org, contact = %after.id, error = %e, "audit entry not recorded");
    }
}

/// The outbox jobs of a local change to `contact`: one push per active two-way connection of
/// `org`.
///
/// # Errors
/// [`ConnectionStoreError`] reading the connections.
pub(crate) async fn push_jobs(
    connections: &dyn ConnectionStore,
    org: OrgId,
    contact: ContactId,
) -> Result<Vec<NewJob>, ConnectionStoreError> {
    Ok(connections
        .list_connections(org, None)
        .await?
        .into_iter()
        .filter(|c| c.settings.two_way && c.status == rolodex_domain::ports::storage::ConnectionStatus::Active)
        .map(|c| PushJob::job(c.id, contact))
        .collect())
}
