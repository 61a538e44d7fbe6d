//! The values the sync use cases take and return: filters, requests, the stored recommendation of
//! an item, the review view of an item, and the reports of preview, execute and scheduled runs.
//! Serde only where a value is stored as JSON (filters, recommendation).

use rolodex_domain::matching::{Action, Alternative, Confidence};
use rolodex_domain::ports::storage::{ItemDecision, SyncCounts, SyncItem, SyncKind, SyncStatus};
use rolodex_domain::{ConnectionId, ContactId, SyncItemId, SyncRunId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Which contacts of a source to consider (the `filters` of the `sync_contacts` tool).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFilters {
    /// Only contacts the source changed at or after this time. Contacts whose source gives no
    /// updated-at are kept (nothing says they are older).
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub updated_since: Option<OffsetDateTime>,
    /// Only contacts carrying at least one of these tags / categories (case-insensitive). Empty
    /// means every contact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// At most this many contacts are listed in the run (unchanged ones do not count). The
    /// caller chooses the default (the `sync_contacts` tool uses 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_contacts: Option<u32>,
}

impl PreviewCounts {
    /// Counts one listed item with its proposal and review state.
    pub(crate) fn count_listed(&mut self, action: Action, review: rolodex_domain::ports::storage::ReviewState) {
        self.listed += 1;
        *match action {
            Action::Create => &mut self.create,
            Action::Update => &mut self.update,
            Action::Merge => &mut self.merge,
            Action::Skip => &mut self.skip,
            Action::Review => &mut self.review,
            Action::Delete => &mut self.delete,
        } += 1;
        if review == rolodex_domain::ports::storage::ReviewState::Approved {
            self.auto_approved += 1;
        }
    }
}

impl SyncFilters {
    /// True when no filter is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.updated_since.is_none() && self.categories.is_empty() && self.max_contacts.is_none()
    }
}

/// Full listing, or only what changed since the stored cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FetchMode {
    /// Every contact.
    Full,
    /// What changed since the connection's stored cursor (a full listing when there is none).
    #[default]
    Incremental,
}

/// Which decisions are approved without a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoApprove {
    /// Every item waits for a person.
    #[default]
    Never,
    /// High-confidence `create` and `update` items are approved; the rest wait for a person.
    HighConfidence,
}

/// What to preview.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreviewRequest {
    /// The connection the source reads (provider links and the cursor hang off it). `None` for a
    /// one-off file import: nothing is then known to be unchanged, and no cursor is kept.
    pub connection_id: Option<ConnectionId>,
    /// Full or incremental.
    pub mode: FetchMode,
    /// Filters.
    pub filters: SyncFilters,
    /// Who asked (none for unattended runs).
    pub user_id: Option<UserId>,
    /// What started it.
    pub kind: Option<SyncKind>,
    /// Auto-approval policy.
    pub auto_approve: AutoApprove,
    /// Abort when a full listing comes back empty although the connection had contacts.
    pub guard_empty_source: bool,
}

/// What a preview found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PreviewCounts {
    /// Contacts the source delivered.
    pub fetched: u64,
    /// Items stored in the run.
    pub listed: u64,
    /// Contacts unchanged since the last sync, or already up to date: counted, not listed.
    pub unchanged: u64,
    /// Contacts the filters left out.
    pub filtered_out: u64,
    /// Deletions the source reported (each linked live contact becomes a `delete` item).
    pub deleted_at_source: u64,
    /// Listed items by proposal.
    pub create: u64,
    /// Listed `update` items.
    pub update: u64,
    /// Listed `merge` items.
    pub merge: u64,
    /// Listed `skip` items.
    pub skip: u64,
    /// Listed `review` items.
    pub review: u64,
    /// Listed `delete` items (source deletions of linked contacts; never auto-approved).
    pub delete: u64,
    /// Items approved by the auto-approve policy.
    pub auto_approved: u64,
    /// Items sent to the LLM advisor.
    pub advised: u64,
}

/// The result of a preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewReport {
    /// The run.
    pub run_id: SyncRunId,
    /// The counts.
    pub counts: PreviewCounts,
    /// True when `max_contacts` cut the listing short (the cursor is then not advanced).
    pub truncated: bool,
    /// True when the source had to restart with a full listing (expired cursor).
    pub reset: bool,
    /// True when the run will advance the connection's cursor when it executes.
    pub cursor_pending: bool,
}

/// What the LLM advisor's answer became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdvisorOutcome {
    /// A valid answer; the proposal follows it (still low confidence: a person confirms).
    Accepted,
    /// The answer named a contact that was not offered, or was malformed: ignored.
    Rejected,
    /// The advisor failed (rate limit, budget, network): the rule-based proposal stands.
    Unavailable,
}

/// The LLM's view of an item, stored beside the rule-based one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisorNote {
    /// What became of the answer.
    pub outcome: AdvisorOutcome,
    /// The contact it chose (`None` for `create`, or when there is no valid answer).
    pub target: Option<ContactId>,
    /// True when it chose `create`.
    pub create: bool,
    /// Its reason, or why the answer was not used.
    pub reason: String,
    /// The model.
    pub model: Option<String>,
}

/// What the engine recommends for an item: stored as the item's `recommendation` JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The proposal (the item's `decision`).
    pub action: Action,
    /// What the rules alone proposed (differs when the advisor or the duplicate check changed it).
    pub rule_action: Action,
    /// How sure.
    pub confidence: Confidence,
    /// 0-1.
    pub score: f64,
    /// Evidence total in bits.
    pub bits: f64,
    /// The rules' reasons, strongest first.
    pub reasons: Vec<String>,
    /// What a reviewer should look at.
    pub warnings: Vec<String>,
    /// Other plausible candidates.
    pub alternatives: Vec<Alternative>,
    /// The matched contact's version the diff was computed against.
    pub base_version: Option<i64>,
    /// An earlier item of the same run with the same email or phone.
    pub duplicate_of: Option<SyncItemId>,
    /// The LLM's view, when it was asked.
    pub advisor: Option<AdvisorNote>,
}

/// A person's change of an item's proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The action to apply instead (`review` is not an action that can be applied).
    pub action: Action,
    /// The contact to update or merge into (required for `update` and `merge`, absent otherwise).
    pub target: Option<ContactId>,
}

/// An item as a reviewer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    /// The stored item.
    pub item: SyncItem,
    /// Its recommendation.
    pub recommendation: Recommendation,
    /// The action that execute will apply (the override when there is one).
    pub action: Action,
    /// The contact that execute will write (the override's target when there is one).
    pub target: Option<ContactId>,
    /// True when a person overrode the proposal.
    pub overridden: bool,
}

impl ItemView {
    /// True for a possible duplicate: a merge proposal, or the same email / phone as an earlier item.
    #[must_use]
    pub fn is_duplicate(&self) -> bool {
        self.action == Action::Merge || self.recommendation.duplicate_of.is_some()
    }
}

/// Which items to list; in position order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemQuery {
    /// With this (effective) action.
    pub action: Option<Action>,
    /// With this confidence.
    pub confidence: Option<Confidence>,
    /// In this review state.
    pub review: Option<rolodex_domain::ports::storage::ReviewState>,
    /// Only items not applied yet.
    pub unapplied_only: bool,
    /// Page: items after this position.
    pub after_position: Option<i64>,
    /// Page size (0 means 50).
    pub limit: u32,
}

/// One page of items.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPage {
    /// The items.
    pub items: Vec<ItemView>,
    /// Pass as `after_position` for the next page; `None` at the end.
    pub next_after: Option<i64>,
}

/// A verdict to apply to items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Apply the proposal.
    Approve,
    /// Do not apply it.
    Reject,
    /// Apply this instead (and approve).
    Override(Override),
}

/// Where a run is, readable while it executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunProgress {
    /// The run's status.
    pub status: SyncStatus,
    /// Its counts so far (updated with every committed batch).
    pub counts: SyncCounts,
    /// Approved items not applied yet.
    pub approved_remaining: u64,
    /// Items waiting for a person.
    pub pending_review: u64,
}

/// The result of an execution.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecuteReport {
    /// Contacts created.
    pub created: u64,
    /// Contacts updated.
    pub updated: u64,
    /// Contacts merged into an existing one.
    pub merged: u64,
    /// Items skipped.
    pub skipped: u64,
    /// Items that failed.
    pub failed: u64,
    /// Contacts soft-deleted (source deletions).
    pub deleted: u64,
    /// Each failure and its reason.
    pub failures: Vec<(SyncItemId, String)>,
    /// Batches committed.
    pub batches: u64,
    /// True when the connection's cursor advanced with the last batch.
    pub cursor_advanced: bool,
    /// Where the run ended: `completed`, or `preview` when items still wait for a person.
    pub status: Option<SyncStatus>,
}

/// The result of a scheduled sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledReport {
    /// The preview.
    pub preview: PreviewReport,
    /// The execution of the auto-approved items.
    pub execute: ExecuteReport,
}

/// The stored form of an [`Action`].
#[must_use]
pub fn item_decision(action: Action) -> ItemDecision {
    match action {
        Action::Create => ItemDecision::Create,
        Action::Update => ItemDecision::Update,
        Action::Merge => ItemDecision::Merge,
        Action::Skip => ItemDecision::Skip,
        Action::Review => ItemDecision::Review,
        Action::Delete => ItemDecision::Delete,
    }
}

/// The [`Action`] of a stored decision.
#[must_use]
pub fn action_of(decision: ItemDecision) -> Action {
    match decision {
        ItemDecision::Create => Action::Create,
        ItemDecision::Update => Action::Update,
        ItemDecision::Merge => Action::Merge,
        ItemDecision::Skip => Action::Skip,
        ItemDecision::Review => Action::Review,
        ItemDecision::Delete => Action::Delete,
    }
}
