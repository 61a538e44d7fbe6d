//! Email campaigns (the seed's `emailCampaigns`) and their per-recipient messages:
//! [`CampaignStore`]. A message's state moves only through [`CampaignStore::transition_message`],
//! a compare-and-set, so a crashed sender never sends one message twice.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{CampaignStoreError, NewJob};
use crate::ids::{CampaignId, CampaignMessageId, ContactId, OrgId, UserId};

stored_enum!(
    /// Where a campaign is.
    CampaignStatus {
        /// Being written.
        Draft => "draft",
        /// Messages rendered, waiting for approval.
        Preview => "preview",
        /// Approved, queued for sending.
        Approved => "approved",
        /// Sending.
        Sending => "sending",
        /// Done.
        Completed => "completed",
        /// Stopped by an error.
        Failed => "failed",
        /// Stopped by a person.
        Cancelled => "cancelled",
    }
);

/// A campaign to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    /// Its id.
    pub id: CampaignId,
    /// Who created it.
    pub user_id: Option<UserId>,
    /// Name.
    pub name: String,
    /// Subject template (`{{firstName}}` merge fields).
    pub subject_template: String,
    /// Body template.
    pub body_template: String,
    /// Targeting: contact ids, pipeline + stage, tags, filters (JSON).
    pub target: serde_json::Value,
    /// LLM personalisation tone, if any.
    pub tone: Option<String>,
    /// The AI cost estimate shown before anything is spent.
    pub estimated_cost_micro_usd: u64,
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// Its id.
    pub id: CampaignId,
    /// Creator.
    pub user_id: Option<UserId>,
    /// Name.
    pub name: String,
    /// Status.
    pub status: CampaignStatus,
    /// Subject template.
    pub subject_template: String,
    /// Body template.
    pub body_template: String,
    /// Targeting.
    pub target: serde_json::Value,
    /// Tone.
    pub tone: Option<String>,
    /// Estimate.
    pub estimated_cost_micro_usd: u64,
    /// AI cost spent so far.
    pub total_cost_micro_usd: u64,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last changed.
    pub updated_at: OffsetDateTime,
    /// Completed, failed or cancelled at.
    pub finished_at: Option<OffsetDateTime>,
}

/// Which campaigns to list; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignFilter {
    /// Created by this user.
    pub user_id: Option<UserId>,
    /// In this status.
    pub status: Option<CampaignStatus>,
    /// Page: campaigns older than this one.
    pub before: Option<CampaignId>,
    /// Page size.
    pub limit: u32,
}

stored_enum!(
    /// A message's state (the reason of `failed` / `skipped` is kept beside it).
    MessageState {
        /// Waiting to be sent.
        Queued => "queued",
        /// A sender took it; if it stays here after a crash, a person checks the provider.
        Sending => "sending",
        /// Sent.
        Sent => "sent",
        /// Failed (see the reason).
        Failed => "failed",
        /// Not sent on purpose (do-not-disturb, unsubscribed; see the reason).
        Skipped => "skipped",
    }
);

/// A message to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaignMessage {
    /// Its id.
    pub id: CampaignMessageId,
    /// The recipient contact.
    pub contact_id: ContactId,
    /// The address it goes to.
    pub to_address: String,
    /// Rendered subject.
    pub subject: String,
    /// Rendered body.
    pub body: String,
    /// `Queued`, or `Skipped` with a reason.
    pub state: MessageState,
    /// Why it is skipped.
    pub reason: Option<String>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignMessage {
    /// Its id.
    pub id: CampaignMessageId,
    /// The campaign.
    pub campaign_id: CampaignId,
    /// The recipient.
    pub contact_id: ContactId,
    /// Address.
    pub to_address: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// State.
    pub state: MessageState,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// The provider's message id once sent.
    pub provider_message_id: Option<String>,
    /// Sent at.
    pub sent_at: Option<OffsetDateTime>,
    /// Last changed.
    pub updated_at: OffsetDateTime,
}

/// Per-state message counts of a campaign (the campaign report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    /// Queued.
    pub queued: u64,
    /// Sending.
    pub sending: u64,
    /// Sent.
    pub sent: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
}

/// Campaigns and messages.
#[async_trait]
pub trait CampaignStore: Send + Sync + 'static {
    /// Creates a campaign in `Draft`.
    ///
    /// # Errors
    /// `Duplicate` when the id is taken; `Invalid` for an empty name.
    async fn create_campaign(&self, org: OrgId, new: NewCampaign) -> Result<Campaign, CampaignStoreError>;

    /// Reads a campaign.
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_campaign(&self, org: OrgId, id: CampaignId) -> Result<Campaign, CampaignStoreError>;

    /// Lists campaigns, newest first.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_campaigns(&self, org: OrgId, filter: &CampaignFilter) -> Result<Vec<Campaign>, CampaignStoreError>;

    /// Moves a campaign to `status` and enqueues `jobs` atomically (approving enqueues the send).
    ///
    /// # Errors
    /// `NotFound`; `Invalid` when the campaign is already finished.
    async fn set_campaign_status(
        &self,
        org: OrgId,
        id: CampaignId,
        status: CampaignStatus,
        jobs: &[NewJob],
    ) -> Result<Campaign, CampaignStoreError>;

    /// Adds AI cost spent on the campaign.
    ///
    /// # Errors
    /// `NotFound`.
    async fn add_campaign_cost(&self, org: OrgId, id: CampaignId, micro_usd: u64) -> Result<(), CampaignStoreError>;

    /// Adds messages (one per recipient; a contact appears at most once per campaign).
    ///
    /// # Errors
    /// `NotFound` for a campaign not in `org`; `Duplicate` for a repeated recipient or id.
    async fn add_messages(
        &self,
        org: OrgId,
        campaign: CampaignId,
        messages: Vec<NewCampaignMessage>,
    ) -> Result<(), CampaignStoreError>;

    /// Lists messages by id, optionally in one state, after `after`.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_messages(
        &self,
        org: OrgId,
        campaign: CampaignId,
        state: Option<MessageState>,
        after: Option<CampaignMessageId>,
        limit: u32,
    ) -> Result<Vec<CampaignMessage>, CampaignStoreError>;

    /// Edits a queued message's subject and body (single-message edit in the preview).
    ///
    /// # Errors
    /// `NotFound`; `Invalid` when it is no longer queued.
    async fn edit_message(
        &self,
        org: OrgId,
        id: CampaignMessageId,
        subject: &str,
        body: &str,
    ) -> Result<CampaignMessage, CampaignStoreError>;

    /// Compare-and-set of a message's state: succeeds only when it is in `from`. Setting `Sent`
    /// records `provider_message_id` and `sent_at`. Returns false (and writes nothing) when the
    /// state was not `from`.
    ///
    /// # Errors
    /// `NotFound`.
    async fn transition_message(
        &self,
        org: OrgId,
        id: CampaignMessageId,
        from: MessageState,
        to: MessageState,
        reason: Option<&str>,
        provider_message_id: Option<&str>,
    ) -> Result<bool, CampaignStoreError>;

    /// Per-state counts of a campaign's messages.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn message_counts(&self, org: OrgId, campaign: CampaignId) -> Result<MessageCounts, CampaignStoreError>;
}
