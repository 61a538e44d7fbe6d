//! [`SyncError`]: what can go wrong in the sync use cases, as outcomes a caller can act on.

use rolodex_domain::ports::storage::{ContactStoreError, HistoryStoreError, SyncStatus, SyncStoreError};
use rolodex_domain::ports::{ProviderError, Retry};
use rolodex_domain::{ConnectionId, SyncItemId, SyncRunId};

/// Errors of the sync use cases (preview, review, execute, scheduled sync).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The run does not exist in this organisation.
    #[error("sync run `{0}` not found")]
    RunNotFound(SyncRunId),
    /// The item does not exist in this run.
    #[error("sync item `{0}` not found in this run")]
    ItemNotFound(SyncItemId),
    /// The run is completed, failed or cancelled: start a new preview.
    #[error("sync run `{run}` is {status}: start a new preview")]
    RunFinished {
        /// The run.
        run: SyncRunId,
        /// Its terminal status.
        status: SyncStatus,
    },
    /// An item proposed for review cannot be approved as it is: override it with an action first.
    #[error("item `{0}` needs a decision: override it with create, update, merge or skip before approving")]
    NeedsDecision(SyncItemId),
    /// The override is not applicable (missing target, unknown contact, `review` as an action).
    #[error("invalid override: {0}")]
    InvalidOverride(String),
    /// The item was already applied; its outcome can no longer change.
    #[error("item `{0}` was already applied")]
    AlreadyApplied(SyncItemId),
    /// The source returned no contacts although this connection had contacts before. Nothing was
    /// proposed; check the provider account (a wrong account, revoked sharing, an emptied folder).
    #[error("connection `{connection}` returned no contacts but had contacts before: sync aborted to protect them")]
    SourceEmptied {
        /// The connection.
        connection: ConnectionId,
        /// The run, marked failed.
        run: SyncRunId,
    },
    /// The provider failed; see [`SyncError::retry`].
    #[error("the {provider} source failed")]
    Source {
        /// The provider name.
        provider: &'static str,
        /// Why.
        #[source]
        source: ProviderError,
    },
    /// A stored recommendation or override cannot be read (written by an incompatible version).
    #[error("stored sync data is unreadable: {0}")]
    Corrupt(String),
    /// Contact storage failed.
    #[error(transparent)]
    Contacts(#[from] ContactStoreError),
    /// Sync run storage failed.
    #[error(transparent)]
    Runs(#[from] SyncStoreError),
    /// Audit storage failed.
    #[error(transparent)]
    History(#[from] HistoryStoreError),
}

impl SyncError {
    /// Whether running the same call later may succeed.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self {
            Self::Source { source, .. } => source.retry(),
            Self::Contacts(ContactStoreError::Unexpected(_))
            | Self::Runs(SyncStoreError::Unexpected(_))
            | Self::History(HistoryStoreError::Unexpected(_)) => Retry::After(None),
            _ => Retry::Never,
        }
    }
}
