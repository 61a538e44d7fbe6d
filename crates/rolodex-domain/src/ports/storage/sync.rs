//! Sync runs (the seed's `contactSyncs`) and their items, the batched apply path, incremental
//! cursors, and webhook receipts: [`SyncRunStore`], [`CursorStore`], [`WebhookReceiptStore`].

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Actor, NewJob, ProviderLink, SyncStoreError};
use crate::contact::{Contact, ContactFields, IncomingContact};
use crate::ids::{ConnectionId, ContactId, OrgId, SyncItemId, SyncRunId, UserId, WebhookReceiptId};
use crate::ports::SyncCursor;

stored_enum!(
    /// What started a run.
    SyncKind {
        /// A person asked for it.
        Manual => "manual",
        /// A recurring schedule.
        Scheduled => "scheduled",
        /// A provider webhook.
        Webhook => "webhook",
        /// The periodic reconciliation that heals missed webhooks.
        Reconcile => "reconcile",
    }
);

stored_enum!(
    /// Where a run is.
    SyncStatus {
        /// Decided, waiting for review.
        Preview => "preview",
        /// Approved items are being applied.
        Executing => "executing",
        /// Done.
        Completed => "completed",
        /// Stopped by an error (see the run's `error`).
        Failed => "failed",
        /// Stopped by a person.
        Cancelled => "cancelled",
    }
);

impl SyncStatus {
    /// Completed, failed or cancelled.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// Outcome counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// Contacts created.
    pub created: u64,
    /// Contacts updated (including merges).
    pub updated: u64,
    /// Items skipped (unchanged, rejected, duplicate).
    pub skipped: u64,
    /// Items that failed.
    pub failed: u64,
    /// Contacts soft-deleted (deleted at the source, approved by a person).
    pub deleted: u64,
}

/// A run to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSyncRun {
    /// Its id.
    pub id: SyncRunId,
    /// Who started it (none for scheduled and webhook runs).
    pub user_id: Option<UserId>,
    /// The provider account it reads (none for file imports).
    pub connection_id: Option<ConnectionId>,
    /// `graph`, `google`, `ghl`, `file`.
    pub provider: String,
    /// What started it.
    pub kind: SyncKind,
    /// Usually `Preview`, or `Executing` for unattended runs.
    pub status: SyncStatus,
    /// The filters it was started with (JSON object).
    pub filters: serde_json::Value,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRun {
    /// Its id.
    pub id: SyncRunId,
    /// Who started it.
    pub user_id: Option<UserId>,
    /// The provider account.
    pub connection_id: Option<ConnectionId>,
    /// The provider.
    pub provider: String,
    /// What started it.
    pub kind: SyncKind,
    /// Where it is.
    pub status: SyncStatus,
    /// Outcome counts.
    pub counts: SyncCounts,
    /// The filters.
    pub filters: serde_json::Value,
    /// Why it failed.
    pub error: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// When it started executing.
    pub started_at: Option<OffsetDateTime>,
    /// When it reached a terminal status.
    pub completed_at: Option<OffsetDateTime>,
    /// How many times [`SyncRunStore::review_items`] changed items of this run: a counter that
    /// only grows. Execute reads it around a pass over the approved items; if it did not move, no
    /// item was approved behind the pass.
    pub review_seq: u64,
}

/// Which runs to list; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Started by this user.
    pub user_id: Option<UserId>,
    /// In this status.
    pub status: Option<SyncStatus>,
    /// From this provider.
    pub provider: Option<String>,
    /// Page: runs older than this one.
    pub before: Option<SyncRunId>,
    /// Page size.
    pub limit: u32,
}

stored_enum!(
    /// What the matcher proposed for an item.
    ItemDecision {
        /// A new contact.
        Create => "create",
        /// Update the matched contact.
        Update => "update",
        /// Merge into the matched contact (medium confidence).
        Merge => "merge",
        /// Nothing to do.
        Skip => "skip",
        /// A person must decide.
        Review => "review",
        /// Soft-delete the linked contact: the source deleted its record.
        Delete => "delete",
    }
);

stored_enum!(
    /// A person's verdict on an item.
    ReviewState {
        /// Not reviewed yet.
        Pending => "pending",
        /// Approved (by a person or an auto-approve policy).
        Approved => "approved",
        /// Rejected: it will not be applied.
        Rejected => "rejected",
    }
);

stored_enum!(
    /// What applying an item did.
    ItemOutcome {
        /// A contact was created.
        Created => "created",
        /// A contact was updated.
        Updated => "updated",
        /// A contact was soft-deleted.
        Deleted => "deleted",
        /// Nothing was written.
        Skipped => "skipped",
        /// It failed (see the error).
        Failed => "failed",
    }
);

/// The result of applying an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    /// What happened.
    pub outcome: ItemOutcome,
    /// The contact written.
    pub contact_id: Option<ContactId>,
    /// Why it failed or was skipped.
    pub message: Option<String>,
}

/// An item to add to a run: one incoming contact and what the matcher proposed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSyncItem {
    /// Its id.
    pub id: SyncItemId,
    /// The contact as the source delivered it.
    pub incoming: IncomingContact,
    /// The proposal.
    pub decision: ItemDecision,
    /// The existing contact it matched, if any.
    pub target_contact_id: Option<ContactId>,
    /// Confidence 0-1.
    pub confidence: f64,
    /// The field diff, as the diff module serialises it.
    pub diff: serde_json::Value,
    /// Reasons, warnings and the recommended action, as the matcher serialises them.
    pub recommendation: serde_json::Value,
    /// `Pending`, or `Approved` under an auto-approve policy.
    pub review: ReviewState,
}

/// A stored item.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncItem {
    /// Its id.
    pub id: SyncItemId,
    /// The run.
    pub run_id: SyncRunId,
    /// Position in the run (0-based, insertion order).
    pub position: i64,
    /// The incoming contact.
    pub incoming: IncomingContact,
    /// The proposal.
    pub decision: ItemDecision,
    /// The matched contact.
    pub target_contact_id: Option<ContactId>,
    /// Confidence 0-1.
    pub confidence: f64,
    /// The diff.
    pub diff: serde_json::Value,
    /// The recommendation.
    pub recommendation: serde_json::Value,
    /// The review state.
    pub review: ReviewState,
    /// Set once applied.
    pub result: Option<ItemResult>,
}

/// Which items to list, in position order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    /// With this proposal.
    pub decision: Option<ItemDecision>,
    /// In this review state.
    pub review: Option<ReviewState>,
    /// Only items not applied yet (`result` is empty).
    pub unapplied_only: bool,
    /// Page: items after this position.
    pub after_position: Option<i64>,
    /// Page size.
    pub limit: u32,
    /// The store may leave each item's `diff` as `null`: for callers that act on items without
    /// showing them (execute, bulk review, progress), to whom decoding it is wasted work.
    pub skip_diff: bool,
}

/// What to do for one approved item in [`SyncRunStore::apply_batch`].
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyOp {
    /// Create this contact.
    Create {
        /// Its id.
        id: ContactId,
        /// Its fields.
        fields: ContactFields,
    },
    /// Replace a contact's fields if it is still at `expected_version`.
    Update {
        /// The contact.
        id: ContactId,
        /// The version the decision was based on.
        expected_version: i64,
        /// The merged fields.
        fields: ContactFields,
    },
    /// Soft-delete a contact (status `deleted`, version up by one; its name keys go as with
    /// `set_contact_status`, its e-mail and phone keys, links and history stay) if it is still at
    /// `expected_version`.
    Delete {
        /// The contact.
        id: ContactId,
        /// The version the decision was based on.
        expected_version: i64,
    },
    /// Record the item as skipped.
    Skip {
        /// Why.
        reason: String,
    },
    /// Record the item as failed (the engine could not build the change).
    Fail {
        /// Why.
        error: String,
    },
}

/// One item's change in a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyChange {
    /// The item.
    pub item_id: SyncItemId,
    /// The change.
    pub op: ApplyOp,
    /// The provider link to write for the contact (its `contact_id` is replaced by the op's id).
    pub link: Option<ProviderLink>,
}

/// A batch of approved items, applied in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyBatch {
    /// The run.
    pub run_id: SyncRunId,
    /// Who applies it (audit rows).
    pub actor: Actor,
    /// The changes.
    pub changes: Vec<ApplyChange>,
    /// The cursor to store with the batch: `(connection, resource, cursor)`.
    pub cursor: Option<(ConnectionId, String, SyncCursor)>,
    /// Jobs to enqueue with the batch (outbound pushes, activities).
    pub jobs: Vec<NewJob>,
    /// Contacts as the caller read them from this store (may be empty): for an update or delete
    /// whose `expected_version` is a known contact's version, the store may take that contact as
    /// the one stored instead of reading it again. Every write of a contact bumps its version, so
    /// a contact at a given version is the same wherever it was read; the version-guarded write
    /// still fails with a conflict when the stored contact has moved on.
    pub known: Vec<Contact>,
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Counts added to the run.
    pub counts: SyncCounts,
    /// Every item's result, in batch order.
    pub results: Vec<(SyncItemId, ItemResult)>,
    /// The contacts written, at their new version.
    pub contacts: Vec<Contact>,
}

/// Sync runs and items.
#[async_trait]
pub trait SyncRunStore: Send + Sync + 'static {
    /// Creates a run.
    ///
    /// # Errors
    /// `Duplicate` when the id is taken.
    async fn create_run(&self, org: OrgId, run: NewSyncRun) -> Result<SyncRun, SyncStoreError>;

    /// Reads a run.
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_run(&self, org: OrgId, id: SyncRunId) -> Result<SyncRun, SyncStoreError>;

    /// Lists runs, newest first.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn list_runs(&self, org: OrgId, filter: &RunFilter) -> Result<Vec<SyncRun>, SyncStoreError>;

    /// Moves a run to `status` (setting `started_at` on `Executing`, `completed_at` on a terminal
    /// status) and records `error`.
    ///
    /// # Errors
    /// `NotFound`; `Invalid` when the run is already terminal.
    async fn set_run_status(
        &self,
        org: OrgId,
        id: SyncRunId,
        status: SyncStatus,
        error: Option<&str>,
    ) -> Result<SyncRun, SyncStoreError>;

    /// Appends items (positions continue after the last one).
    ///
    /// # Errors
    /// `NotFound` when the run is not in `org`; `Duplicate` on a taken item id.
    async fn add_items(&self, org: OrgId, run: SyncRunId, items: Vec<NewSyncItem>) -> Result<(), SyncStoreError>;

    /// Reads an item.
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_item(&self, org: OrgId, id: SyncItemId) -> Result<SyncItem, SyncStoreError>;

    /// Lists a run's items in position order.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn list_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        filter: &ItemFilter,
    ) -> Result<Vec<SyncItem>, SyncStoreError>;

    /// Sets the review state of items of a run; returns how many changed. Items already applied
    /// are left alone. When any changed, the run's [`review_seq`](SyncRun::review_seq) grows by
    /// one in the same transaction.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn review_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        ids: &[SyncItemId],
        review: ReviewState,
    ) -> Result<u64, SyncStoreError>;

    /// Applies a batch in one transaction: contact creates, updates (with their index rows) and
    /// soft deletes, provider links, one audit row per written contact (`create`, `update`,
    /// `delete`), item results, the run's counts, the cursor and the jobs. Changes apply in batch
    /// order: several updates of one contact each see the version the one before left. An update
    /// or delete whose version moved on does not abort the batch: that item is recorded `Failed`
    /// with the conflict, and counted. Items already applied are skipped.
    ///
    /// # Errors
    /// `NotFound` when the run is not in `org`; `Invalid` when an item is not in the run or the
    /// run is terminal; `Unexpected` (nothing of the batch is committed).
    async fn apply_batch(&self, org: OrgId, batch: ApplyBatch) -> Result<ApplyReport, SyncStoreError>;

    /// How many [`apply_batch`](Self::apply_batch) calls this store runs well side by side, each
    /// its own transaction (on its own connection). Callers that keep this many batches in flight
    /// must not let two of them touch the same contact or provider link, and must apply a batch
    /// that carries a cursor alone, after every batch before it has committed. `1` (the default)
    /// means one at a time: a store with a single writer gains nothing from more.
    fn apply_concurrency(&self) -> usize {
        1
    }
}

/// An incremental cursor per connection and resource (`contacts`, `mail`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCursor {
    /// The cursor.
    pub cursor: SyncCursor,
    /// When it was stored.
    pub updated_at: OffsetDateTime,
}

/// Incremental cursors.
#[async_trait]
pub trait CursorStore: Send + Sync + 'static {
    /// Reads a cursor.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn get_cursor(
        &self,
        org: OrgId,
        connection: ConnectionId,
        resource: &str,
    ) -> Result<Option<StoredCursor>, SyncStoreError>;

    /// Stores a cursor (replacing the previous one).
    ///
    /// # Errors
    /// `NotFound` when the connection is not in `org`.
    async fn set_cursor(
        &self,
        org: OrgId,
        connection: ConnectionId,
        resource: &str,
        cursor: &SyncCursor,
    ) -> Result<(), SyncStoreError>;

    /// Forgets a cursor (the next sync is a full one); returns whether one existed.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn clear_cursor(&self, org: OrgId, connection: ConnectionId, resource: &str) -> Result<bool, SyncStoreError>;
}

/// A verified webhook delivery to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookReceipt {
    /// Its id.
    pub id: WebhookReceiptId,
    /// `ghl`, `graph`, `google`.
    pub provider: String,
    /// The provider's delivery id (unique per organisation and provider).
    pub delivery_id: String,
    /// The connection it concerns, when known.
    pub connection_id: Option<ConnectionId>,
    /// The payload as received (JSON).
    pub payload: serde_json::Value,
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookReceipt {
    /// Its id.
    pub id: WebhookReceiptId,
    /// The provider.
    pub provider: String,
    /// The delivery id.
    pub delivery_id: String,
    /// The connection.
    pub connection_id: Option<ConnectionId>,
    /// The payload.
    pub payload: serde_json::Value,
    /// When it arrived.
    pub received_at: OffsetDateTime,
    /// When the worker finished with it.
    pub processed_at: Option<OffsetDateTime>,
    /// Why processing failed.
    pub error: Option<String>,
}

/// Whether [`WebhookReceiptStore::record_receipt`] stored a new delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// First time: stored, and its jobs enqueued.
    New(WebhookReceiptId),
    /// Seen before: nothing written, no jobs enqueued; the id of the first receipt.
    Duplicate(WebhookReceiptId),
}

/// Webhook deliveries, stored once.
#[async_trait]
pub trait WebhookReceiptStore: Send + Sync + 'static {
    /// Stores a delivery unless `(provider, delivery_id)` was seen before in `org`; the `jobs`
    /// (typically "apply this delivery") are enqueued in the same transaction, only when new.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn record_receipt(
        &self,
        org: OrgId,
        receipt: NewWebhookReceipt,
        jobs: &[NewJob],
    ) -> Result<ReceiptOutcome, SyncStoreError>;

    /// Reads a delivery.
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_receipt(&self, org: OrgId, id: WebhookReceiptId) -> Result<WebhookReceipt, SyncStoreError>;

    /// Marks a delivery processed, with the error if processing failed.
    ///
    /// # Errors
    /// `NotFound`.
    async fn mark_receipt_processed(
        &self,
        org: OrgId,
        id: WebhookReceiptId,
        error: Option<&str>,
    ) -> Result<(), SyncStoreError>;
}
