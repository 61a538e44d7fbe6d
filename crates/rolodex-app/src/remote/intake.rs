//! [`WebhookIntake`]: the fast path of a webhook. The HTTP layer has verified the signature and
//! parsed the delivery into a [`RemoteContactEvent`]; here the provider account is routed to its
//! connections and the delivery is stored once per `(provider, delivery id)` and organisation,
//! with its `remote.apply` job in the same transaction. Nothing else happens before the answer:
//! the worker applies it.

use rolodex_domain::ports::RemoteContactEvent;
use rolodex_domain::ports::storage::{BoxError, NewWebhookReceipt, ReceiptOutcome};
use rolodex_domain::{ConnectionId, OrgId, WebhookReceiptId};
use serde_json::json;

use super::RemotePorts;
use super::jobs::ApplyWebhookJob;

/// One stored (or already known) delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The organisation.
    pub org: OrgId,
    /// The connection of the account.
    pub connection: ConnectionId,
    /// The receipt (the first one, for a duplicate).
    pub receipt: WebhookReceiptId,
    /// Seen before: nothing was stored and nothing will run again.
    pub duplicate: bool,
}

/// What [`WebhookIntake::ingest`] did: one delivery per connection of the account (an account
/// connected by two organisations notifies both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOutcome {
    /// The deliveries.
    pub deliveries: Vec<Delivery>,
}

/// Why a delivery was not taken.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// No connection holds this provider account: a clear 4xx for the sender.
    #[error("no {provider} connection for account `{account}`: connect it first, or remove the webhook")]
    UnknownAccount {
        /// The provider.
        provider: String,
        /// Its account (GoHighLevel location id).
        account: String,
    },
    /// Storage failed: the sender should retry.
    #[error("storage failure")]
    Unexpected(#[source] BoxError),
}

/// Stores verified webhook deliveries.
#[derive(Clone)]
pub struct WebhookIntake {
    ports: RemotePorts,
}

impl std::fmt::Debug for WebhookIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookIntake").finish_non_exhaustive()
    }
}

impl WebhookIntake {
    /// The intake over `ports`.
    #[must_use]
    pub fn new(ports: RemotePorts) -> Self {
        Self { ports }
    }

    /// Stores `event` (with the `raw` payload as received, for audit and replay) once for every
    /// connection of its account, each with its apply job.
    ///
    /// # Errors
    /// [`IngestError::UnknownAccount`]; `Unexpected`.
    pub async fn ingest(
        &self,
        provider: &str,
        event: RemoteContactEvent,
        raw: serde_json::Value,
    ) -> Result<IngestOutcome, IngestError> {
        let routes = self
            .ports
            .connections
            .resolve_account(provider, &event.account)
            .await
            .map_err(|e| IngestError::Unexpected(Box::new(e)))?;
        if routes.is_empty() {
            return Err(IngestError::UnknownAccount { provider: provider.to_owned(), account: event.account });
        }
        let event_json = serde_json::to_value(&event).map_err(|e| IngestError::Unexpected(Box::new(e)))?;
        let payload = json!({ "event": event_json, "raw": raw });
        let mut deliveries = Vec::with_capacity(routes.len());
        for (org, connection) in routes {
            let id = WebhookReceiptId::from(self.ports.ids.new_uuid());
            let receipt = NewWebhookReceipt {
                id,
                provider: provider.to_owned(),
                delivery_id: event.delivery_id.clone(),
                connection_id: Some(connection),
                payload: payload.clone(),
            };
            let job = ApplyWebhookJob::job(id);
            let outcome = self
                .ports
                .receipts
                .record_receipt(org, receipt, &[job])
                .await
                .map_err(|e| IngestError::Unexpected(Box::new(e)))?;
            let (receipt, duplicate) = match outcome {
                ReceiptOutcome::New(r) => (r, false),
                ReceiptOutcome::Duplicate(r) => (r, true),
            };
            deliveries.push(Delivery { org, connection, receipt, duplicate });
        }
        Ok(IngestOutcome { deliveries })
    }
}
