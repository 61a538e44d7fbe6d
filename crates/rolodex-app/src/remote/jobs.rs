//! The worker side of two-way sync, all on the [`QUEUE`](super::QUEUE) queue:
//!
//! - [`ApplyWebhookJob`] (`remote.apply`, payload `{"receipt": "<uuid>"}`): applies a stored
//!   webhook delivery and marks it processed (with the error, when it fails for good);
//! - [`ReconcileJob`] (`remote.reconcile`, payload `{"connection": "<uuid>"}`): pulls what changed
//!   since the stored cursor (everything on the first run: the initial import) and applies it
//!   like webhooks, so a missed webhook is healed; the cursor advances when the pull is complete;
//! - [`PushJob`] (`remote.push`, payload `{"connection": "<uuid>", "contact": "<uuid>"}`): pushes the
//!   contact as it is *now* (so several queued pushes of one contact send it once; the later ones
//!   find nothing left to send): update when linked, create when not (a provider that refuses a
//!   duplicate names the existing contact, which is then linked and updated), and store the link.
//!
//! Every handler is idempotent: a job that runs again after a crash finds the work done.

use std::sync::Arc;

use async_trait::async_trait;
use rolodex_domain::conflict::REMOTE_ONLY_FIELDS;
use rolodex_domain::diff::to_field_map;
use rolodex_domain::ports::storage::{
    Actor, Connection, ConnectionStatus, ConnectionStoreError, ContactStoreError, Job, NewJob, ProviderLink,
    SyncStoreError,
};
use rolodex_domain::ports::{FetchRequest, ProviderError, RemoteContactEvent, RemoteEventKind, SyncCursor};
use rolodex_domain::{ConnectionId, ContactId, ContactStatus, OrgId, WebhookReceiptId};
use serde_json::json;

use super::apply::{AppliedChange, ApplyError, RemoteApplier, snapshot_after_push, with_provider_data};
use super::{ContactSinks, QUEUE, RemotePorts};
use crate::jobs::{ContactSources, JobFailure, JobHandler};

/// The cursor resource reconciliation keeps per connection.
pub const RECONCILE_CURSOR: &str = "contacts.reconcile";

fn uuid_field<T: std::str::FromStr>(job: &Job, field: &str) -> Result<T, JobFailure> {
    job.payload
        .get(field)
        .and_then(serde_json::Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobFailure::permanent(format!("payload needs \"{field}\": \"<uuid>\"")))
}

fn storage(e: impl std::error::Error + 'static) -> JobFailure {
    JobFailure::from_error(&e, rolodex_domain::ports::Retry::After(None))
}

fn provider(e: &ProviderError) -> JobFailure {
    JobFailure::from_error(e, e.retry())
}

impl From<ApplyError> for JobFailure {
    fn from(e: ApplyError) -> Self {
        let retry = e.retry();
        Self::from_error(&e, retry)
    }
}

/// The connection, when it is still an active two-way one.
async fn two_way_connection(
    ports: &RemotePorts,
    org: OrgId,
    id: ConnectionId,
) -> Result<Option<Connection>, JobFailure> {
    match ports.connections.get_connection(org, id).await {
        Ok(c) if c.settings.two_way && c.status == ConnectionStatus::Active => Ok(Some(c)),
        Ok(c) => {
            tracing::info!(connection = %id, status = %c.status, two_way = c.settings.two_way, "connection is not an active two-way connection: nothing to do");
            Ok(None)
        }
        Err(ConnectionStoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(storage(e)),
    }
}

/// `remote.apply`: applies one stored webhook delivery.
pub struct ApplyWebhookJob {
    /// Ports.
    pub ports: RemotePorts,
    /// The applier.
    pub applier: RemoteApplier,
}

impl ApplyWebhookJob {
    /// The job kind.
    pub const KIND: &'static str = "remote.apply";

    /// The job applying `receipt`.
    #[must_use]
    pub fn job(receipt: WebhookReceiptId) -> NewJob {
        NewJob::new(Self::KIND, json!({ "receipt": receipt.to_string() })).on_queue(QUEUE).max_attempts(8)
    }
}

#[async_trait]
impl JobHandler for ApplyWebhookJob {
    #[tracing::instrument(skip_all, fields(org = %job.org_id, job = %job.id))]
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let org = job.org_id;
        let id: WebhookReceiptId = uuid_field(job, "receipt")?;
        let receipt = match self.ports.receipts.get_receipt(org, id).await {
            Ok(r) => r,
            Err(SyncStoreError::NotFound { .. }) => {
                return Err(JobFailure::permanent(format!("receipt {id} not found")));
            }
            Err(e) => return Err(storage(e)),
        };
        if receipt.processed_at.is_some() {
            return Ok(());
        }
        let finish = |error: Option<String>| {
            let receipts = self.ports.receipts.clone();
            async move { receipts.mark_receipt_processed(org, id, error.as_deref()).await.map_err(storage) }
        };
        let event: RemoteContactEvent = match receipt.payload.get("event").cloned().map(serde_json::from_value) {
            Some(Ok(e)) => e,
            _ => {
                finish(Some("the stored delivery holds no readable event".to_owned())).await?;
                return Err(JobFailure::permanent(format!("receipt {id} holds no readable event")));
            }
        };
        let Some(connection_id) = receipt.connection_id else {
            finish(Some("no connection".to_owned())).await?;
            return Ok(());
        };
        let Some(connection) = two_way_connection(&self.ports, org, connection_id).await? else {
            finish(Some("the connection is not an active two-way connection".to_owned())).await?;
            return Ok(());
        };
        let actor = Actor::System("webhook".to_owned());
        match self.applier.apply(org, &connection, &event, &actor).await {
            Ok(change) => {
                tracing::info!(external_id = %event.external_id, kind = %event.kind, ?change, "webhook applied");
                finish(None).await
            }
            Err(e) => {
                let failure = JobFailure::from(e);
                if failure.permanent || job.attempt >= job.max_attempts {
                    finish(Some(failure.message.clone())).await?;
                }
                Err(failure)
            }
        }
    }
}

/// `remote.reconcile`: pulls the changes since the stored cursor and applies them.
pub struct ReconcileJob {
    /// Ports.
    pub ports: RemotePorts,
    /// The applier.
    pub applier: RemoteApplier,
    /// Provider sources.
    pub sources: Arc<dyn ContactSources>,
}

impl ReconcileJob {
    /// The job kind.
    pub const KIND: &'static str = "remote.reconcile";

    /// The reconciliation of `connection` (unique per connection: never two at once).
    #[must_use]
    pub fn job(connection: ConnectionId) -> NewJob {
        NewJob::new(Self::KIND, json!({ "connection": connection.to_string() }))
            .on_queue(QUEUE)
            .unique(format!("{}:{connection}", Self::KIND))
            .max_attempts(5)
    }
}

/// What one reconciliation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Contacts the provider listed.
    pub seen: u64,
    /// Created locally.
    pub created: u64,
    /// Linked to an existing local contact.
    pub linked: u64,
    /// Updated locally.
    pub updated: u64,
    /// Soft-deleted locally.
    pub deleted: u64,
}

impl ReconcileJob {
    /// Reconciles `connection` once.
    ///
    /// # Errors
    /// [`JobFailure`] from the provider or the store.
    pub async fn reconcile(&self, org: OrgId, connection: &Connection) -> Result<ReconcileReport, JobFailure> {
        let source = self.sources.source(org, connection.id).await.map_err(|e| provider(&e))?;
        let cursor = self.ports.cursors.get_cursor(org, connection.id, RECONCILE_CURSOR).await.map_err(storage)?;
        let mut request = cursor.map_or(FetchRequest::Full, |c| FetchRequest::Since(c.cursor));
        let actor = Actor::System("reconcile".to_owned());
        let mut report = ReconcileReport::default();
        let mut next_cursor: Option<SyncCursor> = None;
        loop {
            let page = source.fetch(request).await.map_err(|e| provider(&e))?;
            let deletions = page.deletions.into_iter().map(|external_id| RemoteContactEvent {
                delivery_id: "reconcile".to_owned(),
                account: connection.account.clone(),
                external_id,
                occurred_at: None,
                kind: RemoteEventKind::Deleted,
            });
            let upserts = page.upserts.into_iter().filter_map(|c| {
                let external_id = c.external_id.clone()?;
                Some(RemoteContactEvent {
                    delivery_id: "reconcile".to_owned(),
                    account: connection.account.clone(),
                    external_id,
                    occurred_at: c.external_updated_at,
                    kind: RemoteEventKind::Updated(Box::new(c)),
                })
            });
            for event in upserts.chain(deletions) {
                report.seen += u64::from(!matches!(event.kind, RemoteEventKind::Deleted));
                match self.applier.apply(org, connection, &event, &actor).await? {
                    AppliedChange::Created(_) => report.created += 1,
                    AppliedChange::Linked(_) => report.linked += 1,
                    AppliedChange::Updated(_) => report.updated += 1,
                    AppliedChange::SoftDeleted(_) => report.deleted += 1,
                    AppliedChange::Unchanged(_) | AppliedChange::Stale | AppliedChange::Ignored(_) => {}
                }
            }
            if page.next_cursor.is_some() {
                next_cursor = page.next_cursor;
            }
            match page.next_page {
                Some(token) => request = FetchRequest::Page(token),
                None => break,
            }
        }
        if let Some(cursor) = next_cursor {
            self.ports.cursors.set_cursor(org, connection.id, RECONCILE_CURSOR, &cursor).await.map_err(storage)?;
        }
        Ok(report)
    }
}

#[async_trait]
impl JobHandler for ReconcileJob {
    #[tracing::instrument(skip_all, fields(org = %job.org_id, job = %job.id))]
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let id: ConnectionId = uuid_field(job, "connection")?;
        let Some(connection) = two_way_connection(&self.ports, job.org_id, id).await? else { return Ok(()) };
        let report = self.reconcile(job.org_id, &connection).await?;
        tracing::info!(connection = %id, ?report, "reconciled");
        Ok(())
    }
}

/// `remote.push`: pushes a local contact to a two-way connection.
pub struct PushJob {
    /// Ports.
    pub ports: RemotePorts,
    /// Provider sinks.
    pub sinks: Arc<dyn ContactSinks>,
}

impl PushJob {
    /// The job kind.
    pub const KIND: &'static str = "remote.push";

    /// The push of `contact` to `connection`.
    #[must_use]
    pub fn job(connection: ConnectionId, contact: ContactId) -> NewJob {
        NewJob::new(Self::KIND, json!({ "connection": connection.to_string(), "contact": contact.to_string() }))
            .on_queue(QUEUE)
            .max_attempts(10)
    }

    /// Pushes `contact` to `connection` as it is now; returns what was done (`created`,
    /// `updated`, `unchanged`, `skipped`).
    ///
    /// # Errors
    /// [`JobFailure`] from the provider or the store.
    pub async fn push(
        &self,
        org: OrgId,
        connection: &Connection,
        contact: ContactId,
    ) -> Result<&'static str, JobFailure> {
        let contact = match self.ports.contacts.get_contact(org, contact).await {
            Ok(c) if c.status != ContactStatus::Deleted => c,
            Ok(_) | Err(ContactStoreError::NotFound { .. }) => return Ok("skipped"),
            Err(e) => return Err(storage(e)),
        };
        let sink = self.sinks.sink(connection).map_err(|e| provider(&e))?;
        let link = self
            .ports
            .links
            .links_of(org, contact.id)
            .await
            .map_err(storage)?
            .into_iter()
            .find(|l| l.connection_id == connection.id);
        let local_w = to_field_map(&sink.project(&contact.fields));
        let base = link.as_ref().and_then(|l| l.snapshot.clone());
        let base_w = base.as_ref().map(|b| to_field_map(&sink.project(b))).unwrap_or_default();
        let now = self.ports.clock.now();
        let (written, action) = match &link {
            Some(l) => {
                let differs = local_w
                    .keys()
                    .chain(base_w.keys())
                    .any(|k| !REMOTE_ONLY_FIELDS.contains(&k.as_str()) && local_w.get(k) != base_w.get(k));
                if !differs {
                    return Ok("unchanged");
                }
                match sink.update(&l.external_id, l.external_version.as_deref(), &contact.fields).await {
                    Ok(r) => (r, "updated"),
                    Err(ProviderError::NotFound(_)) => {
                        // Deleted at the provider: its delete webhook soft-deletes here; never re-create.
                        tracing::info!(contact = %contact.id, external_id = %l.external_id, "remote contact is gone; not pushed");
                        return Ok("skipped");
                    }
                    Err(e) => return Err(provider(&e)),
                }
            }
            None => match sink.create(&contact.fields).await {
                Ok(r) => (r, "created"),
                Err(ProviderError::Duplicate { existing_id: Some(existing), .. }) => {
                    // The provider already has it (an earlier attempt that crashed before linking,
                    // or a contact made there): link it and send our fields.
                    let r = sink.update(&existing, None, &contact.fields).await.map_err(|e| provider(&e))?;
                    (r, "updated")
                }
                Err(e) => return Err(provider(&e)),
            },
        };
        // The snapshot is what the provider answered (so the echo of this write is recognised),
        // or, when it did not answer with the contact, the previous snapshot with what we wrote.
        let snapshot = match &written.fields {
            Some(held) => held.clone(),
            None => snapshot_after_push(base.as_ref(), &base_w, &local_w),
        };
        // The provider's own data in its answer (its ids, the location) is taken now, so the echo
        // of this push changes nothing. No push follows: the provider has it already.
        let enriched = with_provider_data(&contact.fields, &snapshot, &*sink);
        if enriched != contact.fields {
            match self.ports.contacts.update_contact(org, contact.id, contact.version, enriched, &[]).await {
                Ok(_) | Err(ContactStoreError::Conflict { .. }) => {}
                Err(e) => return Err(storage(e)),
            }
        }
        let link = ProviderLink {
            contact_id: contact.id,
            connection_id: connection.id,
            external_id: written.external_id,
            external_version: written.version,
            snapshot_hash: Some(crate::sync::fields_hash(&snapshot)),
            snapshot: Some(snapshot),
            remote_updated_at: written.updated_at.or(link.and_then(|l| l.remote_updated_at)),
            synced_at: now,
        };
        self.ports.links.upsert_link(org, &link).await.map_err(storage)?;
        Ok(action)
    }
}

#[async_trait]
impl JobHandler for PushJob {
    #[tracing::instrument(skip_all, fields(org = %job.org_id, job = %job.id))]
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let connection: ConnectionId = uuid_field(job, "connection")?;
        let contact: ContactId = uuid_field(job, "contact")?;
        let Some(c) = two_way_connection(&self.ports, job.org_id, connection).await? else { return Ok(()) };
        let done = self.push(job.org_id, &c, contact).await?;
        tracing::info!(contact = %contact, connection = %connection, done, "pushed");
        Ok(())
    }
}
