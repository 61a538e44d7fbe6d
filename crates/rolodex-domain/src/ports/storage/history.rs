//! What happened: the audit log ([`AuditLog`], who changed what, before and after) and contact
//! timelines ([`ActivityStore`]).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Actor, HistoryStoreError};
use crate::ids::{ActivityId, AuditId, CampaignId, ContactId, OrgId, SyncRunId};

/// An audit entry to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// Its id.
    pub id: AuditId,
    /// Who.
    pub actor: Actor,
    /// `contact`, `connection`, `campaign`, ...
    pub entity_type: String,
    /// The entity's id.
    pub entity_id: String,
    /// `create`, `update`, `delete`, `merge`, ...
    pub action: String,
    /// The entity before (JSON), if it existed.
    pub before: Option<serde_json::Value>,
    /// The entity after (JSON), if it still exists.
    pub after: Option<serde_json::Value>,
    /// The sync run that caused it.
    pub run_id: Option<SyncRunId>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// The entry as recorded.
    pub entry: NewAuditEntry,
    /// When.
    pub at: OffsetDateTime,
}

/// Which entries to list; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Of this entity type...
    pub entity_type: Option<String>,
    /// ...and id.
    pub entity_id: Option<String>,
    /// Caused by this run.
    pub run_id: Option<SyncRunId>,
    /// Page: entries older than this one.
    pub before: Option<AuditId>,
    /// Page size.
    pub limit: u32,
}

/// The audit log: append-only.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends entries at the current time.
    ///
    /// # Errors
    /// `Duplicate` for a taken id; `Unexpected`.
    async fn record_audit(&self, org: OrgId, entries: Vec<NewAuditEntry>) -> Result<(), HistoryStoreError>;

    /// Lists entries, newest first.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_audit(&self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEntry>, HistoryStoreError>;
}

/// A timeline entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Its id.
    pub id: ActivityId,
    /// The contact.
    pub contact_id: ContactId,
    /// `email_sent`, `email_received`, `synced`, `merged`, `note`, ...
    pub kind: String,
    /// One line for people.
    pub summary: String,
    /// Details (JSON).
    pub data: serde_json::Value,
    /// The campaign, for campaign mail.
    pub campaign_id: Option<CampaignId>,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
}

/// Contact timelines.
#[async_trait]
pub trait ActivityStore: Send + Sync + 'static {
    /// Adds activities. When `kind` is `email_sent`, the contact's `last_contacted_at` moves
    /// forward to `occurred_at`.
    ///
    /// # Errors
    /// `NotFound` when a contact is not in `org`; `Duplicate` for a taken id.
    async fn add_activities(&self, org: OrgId, activities: Vec<Activity>) -> Result<(), HistoryStoreError>;

    /// A contact's timeline, newest first, before `before` (exclusive) when given.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn timeline(
        &self,
        org: OrgId,
        contact: ContactId,
        before: Option<OffsetDateTime>,
        limit: u32,
    ) -> Result<Vec<Activity>, HistoryStoreError>;

    /// When the contact was last emailed (by a campaign or a synced mailbox).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn last_contacted_at(
        &self,
        org: OrgId,
        contact: ContactId,
    ) -> Result<Option<OffsetDateTime>, HistoryStoreError>;
}
