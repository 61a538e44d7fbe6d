//! The pull sync of contacts (architecture.md "Core flows: Sync"), as one service over ports:
//!
//! - [`SyncService::preview`] ([`preview`]): read a source page by page, decide every contact,
//!   store a run with one item per contact (unchanged contacts are counted, not listed);
//! - review ([`review`]): list and filter items, approve, reject, override, bulk operations;
//! - [`SyncService::execute`] ([`execute`]): apply approved items in batches, each batch one
//!   transaction with its audit rows, provider links, counts and (last batch) the cursor;
//! - [`SyncService::run_scheduled`] ([`scheduled`]): the unattended run;
//! - [`advice`]: the optional LLM adjudication of low-confidence items.
//!
//! The flow and its guarantees are described for people in `docs/sync.md`.

mod advice;
mod error;
mod execute;
mod gaps;
mod hash;
pub mod model;
mod preview;
mod review;
mod scheduled;

use std::sync::Arc;

use rolodex_domain::diff::MergePolicy;
use rolodex_domain::matching::MatchPolicy;
use rolodex_domain::ports::storage::{
    AiUsageStore, AuditLog, CandidateLimits, ContactStore, CursorStore, LinkStore, SyncRun, SyncRunStore,
    SyncStoreError,
};
use rolodex_domain::ports::{Clock, IdGenerator, MatchAdvisor};
use rolodex_domain::{OrgId, SyncRunId};

pub use error::SyncError;
pub use hash::fields_hash;
pub use model::*;

/// The ports the sync service is written against.
#[derive(Clone)]
pub struct SyncPorts {
    /// Contacts (candidates, reads).
    pub contacts: Arc<dyn ContactStore>,
    /// Provider links (unchanged detection, the definitive match).
    pub links: Arc<dyn LinkStore>,
    /// Runs, items and the batched apply.
    pub runs: Arc<dyn SyncRunStore>,
    /// Incremental cursors.
    pub cursors: Arc<dyn CursorStore>,
    /// The audit log (reviewers' overrides).
    pub audit: Arc<dyn AuditLog>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Ids.
    pub ids: Arc<dyn IdGenerator>,
}

impl SyncPorts {
    /// Every port over one value implementing them all (the store, or an in-memory fake).
    #[must_use]
    pub fn over<S>(store: &S, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self
    where
        S: ContactStore + LinkStore + SyncRunStore + CursorStore + AuditLog + Clone,
    {
        Self {
            contacts: Arc::new(store.clone()),
            links: Arc::new(store.clone()),
            runs: Arc::new(store.clone()),
            cursors: Arc::new(store.clone()),
            audit: Arc::new(store.clone()),
            clock,
            ids,
        }
    }
}

/// The LLM step: an advisor, and where to record what it cost.
#[derive(Clone)]
pub struct Adjudication {
    /// The advisor.
    pub advisor: Arc<dyn MatchAdvisor>,
    /// Records each call's usage when set.
    pub usage: Option<Arc<dyn AiUsageStore>>,
}

/// Tuning of the sync service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncSettings {
    /// Matching thresholds.
    pub policy: MatchPolicy,
    /// Candidates fetched per incoming contact (strongest first), and the block limits above
    /// which a blocking key is skipped as too common (the same limits as `rolodex match`).
    pub candidates: CandidateLimits,
    /// Items written to the store at a time during preview.
    pub item_batch: usize,
    /// Incoming contacts whose store lookups (provider links, candidates) preview makes together,
    /// in a few set-based queries. Decisions are still made one by one, in order; 1 looks each
    /// contact up in turn.
    pub lookup_batch: usize,
    /// Stored contacts a preview keeps in memory once read (with their match profiles), so a
    /// candidate shared by many incoming contacts is read and profiled once; and ten times as
    /// many contact ids of key blocks. About 2 KiB per contact in all; when full the preview
    /// forgets them and reads again.
    pub preview_cache: usize,
    /// Items applied per transaction during execute (at most
    /// [`MAX_PAGE`](rolodex_domain::ports::storage::MAX_PAGE)).
    pub apply_batch: u32,
    /// Batches execute keeps in flight at once, each its own transaction. `None` (the default)
    /// takes the store's advice
    /// ([`SyncRunStore::apply_concurrency`](rolodex_domain::ports::storage::SyncRunStore::apply_concurrency):
    /// up to 3 on PostgreSQL, 1 on SQLite); `Some(1)` applies one batch at a time.
    pub apply_concurrency: Option<usize>,
    /// How an `update` merges the incoming contact (the provider is the source of truth).
    pub update_policy: MergePolicy,
    /// How a `merge` merges it (a probable duplicate only fills blanks).
    pub merge_policy: MergePolicy,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            policy: MatchPolicy::default(),
            candidates: CandidateLimits::default(),
            item_batch: 1000,
            lookup_batch: 500,
            preview_cache: 200_000,
            apply_batch: 1000,
            apply_concurrency: None,
            update_policy: MergePolicy::IncomingWins,
            merge_policy: MergePolicy::FillBlanks,
        }
    }
}

/// The cursor resource of contact syncs.
pub const CONTACTS_RESOURCE: &str = "contacts";

/// Preview, review, execute and scheduled sync of contacts.
#[derive(Clone)]
pub struct SyncService {
    ports: SyncPorts,
    settings: SyncSettings,
    adjudication: Option<Adjudication>,
}

impl std::fmt::Debug for SyncService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncService")
            .field("settings", &self.settings)
            .field("llm", &self.adjudication.is_some())
            .finish_non_exhaustive()
    }
}

impl SyncService {
    /// A service without an LLM.
    #[must_use]
    pub fn new(ports: SyncPorts, settings: SyncSettings) -> Self {
        Self { ports, settings, adjudication: None }
    }

    /// Adds the LLM step (only low-confidence items are sent to it).
    #[must_use]
    pub fn with_adjudication(mut self, adjudication: Adjudication) -> Self {
        self.adjudication = Some(adjudication);
        self
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &SyncSettings {
        &self.settings
    }

    /// Reads a run, mapping a missing one to [`SyncError::RunNotFound`].
    async fn load_run(&self, org: OrgId, run: SyncRunId) -> Result<SyncRun, SyncError> {
        match self.ports.runs.get_run(org, run).await {
            Ok(r) => Ok(r),
            Err(SyncStoreError::NotFound { .. }) => Err(SyncError::RunNotFound(run)),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a run that can still change.
    async fn open_run(&self, org: OrgId, run: SyncRunId) -> Result<SyncRun, SyncError> {
        let r = self.load_run(org, run).await?;
        if r.status.is_terminal() {
            return Err(SyncError::RunFinished { run, status: r.status });
        }
        Ok(r)
    }
}
