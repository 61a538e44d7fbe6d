//! Storage ports (issue #3): what Rolodex persists and how the use cases reach it. Implemented by
//! `rolodex-store` (PostgreSQL and SQLite through Diesel) and by the in-memory fakes of
//! `rolodex-testkit`; both pass the same contract suites.
//!
//! Rules every implementation keeps:
//! - **Tenancy**: every method takes the [`OrgId`](crate::OrgId) and only ever reads or changes that
//!   organisation's rows; another organisation's id behaves exactly like a missing one (`NotFound`,
//!   empty lists). The only unscoped calls are the ones that *discover* the organisation
//!   ([`AccountStore::verify_api_key`], [`ConnectionStore::resolve_account`]) and the worker side of
//!   the queue ([`JobQueue::claim`], [`JobQueue::enqueue_due_schedules`]), which return the
//!   organisation with each row.
//! - **Transactional outbox**: the writes that cause follow-up work take a `&[NewJob]`; the jobs are
//!   enqueued in the same transaction as the change, so a change is never committed without its job
//!   and a job never runs for a change that was rolled back. The batched apply path
//!   ([`SyncRunStore::apply_batch`]) commits contacts, links, audit rows, item results, counts, the
//!   cursor and jobs in one transaction.
//! - **Time** comes from the store's [`Clock`](crate::ports::Clock), truncated to microseconds.
//!
//! Errors: one enum per port family ([`ContactStoreError`], [`SyncStoreError`], [`HistoryStoreError`],
//! [`CampaignStoreError`], [`ConnectionStoreError`], [`JobQueueError`], [`AccountStoreError`]), each
//! with the outcomes a caller can act on; [`StorageError`] lets adapters build any of them.

/// Declares a string-backed enum with `as_str` / `parse`, the stored form of every state column.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }
        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// The stored name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $s),+ }
            }
            /// Parses the stored name.
            ///
            /// # Errors
            /// A message naming the input and the accepted values.
            pub fn parse(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok(Self::$variant),)+
                    _ => Err(format!("`{s}` is not a {} (expected one of: {})", stringify!($name), [$($s),+].join(", "))),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod accounts;
mod campaigns;
mod connections;
mod contacts;
mod history;
mod jobs;
mod schedule;
mod sync;

pub use accounts::*;
pub use campaigns::*;
pub use connections::*;
pub use contacts::*;
pub use history::*;
pub use jobs::*;
pub use schedule::*;
pub use sync::*;

use std::fmt;

use crate::ids::{ApiKeyId, UserId};

/// A boxed error, the source of `Unexpected` variants.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Constructors shared by every storage error enum, so an adapter can translate its driver errors
/// once for all port families.
pub trait StorageError: std::error::Error + Send + Sync + Sized + 'static {
    /// `NotFound`.
    fn not_found(entity: &'static str, id: impl fmt::Display) -> Self;
    /// `Conflict`: the stored version moved on.
    fn conflict(entity: &'static str, id: impl fmt::Display, current_version: i64) -> Self;
    /// `Duplicate`: a unique rule was violated.
    fn duplicate(what: impl Into<String>) -> Self;
    /// `Invalid`: the input breaks a rule of the store (empty key, bad page size, unreadable row).
    fn invalid(message: impl Into<String>) -> Self;
    /// `Unexpected`.
    fn unexpected(source: BoxError) -> Self;
}

macro_rules! storage_error {
    ($(#[$doc:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, thiserror::Error)]
        pub enum $name {
            /// It does not exist in this organisation (rows of other organisations are never visible).
            #[error("{entity} `{id}` not found")]
            NotFound {
                /// What was looked for (`contact`, `sync run`, ...).
                entity: &'static str,
                /// Its id or key.
                id: String,
            },
            /// Optimistic concurrency: the caller's expected version is not the stored one. Reload,
            /// re-apply the change and retry with `current_version`.
            #[error("{entity} `{id}` was changed by someone else (current version {current_version})")]
            Conflict {
                /// What was written.
                entity: &'static str,
                /// Its id.
                id: String,
                /// The version now stored.
                current_version: i64,
            },
            /// A unique rule was violated (same email for two users, same account connected twice, ...).
            #[error("{0} already exists")]
            Duplicate(String),
            /// The input breaks a rule of the store.
            #[error("invalid input: {0}")]
            Invalid(String),
            /// The database failed (connection lost, disk full, ...): retry later, report if it persists.
            #[error("unexpected storage failure")]
            Unexpected(#[source] BoxError),
            $($extra)*
        }

        impl StorageError for $name {
            fn not_found(entity: &'static str, id: impl fmt::Display) -> Self {
                Self::NotFound { entity, id: id.to_string() }
            }
            fn conflict(entity: &'static str, id: impl fmt::Display, current_version: i64) -> Self {
                Self::Conflict { entity, id: id.to_string(), current_version }
            }
            fn duplicate(what: impl Into<String>) -> Self {
                Self::Duplicate(what.into())
            }
            fn invalid(message: impl Into<String>) -> Self {
                Self::Invalid(message.into())
            }
            fn unexpected(source: BoxError) -> Self {
                Self::Unexpected(source)
            }
        }
    };
}

storage_error!(
    /// Errors of [`ContactStore`] and [`LinkStore`].
    ContactStoreError {}
);
storage_error!(
    /// Errors of [`SyncRunStore`] (runs, items, the batched apply), [`CursorStore`] and
    /// [`WebhookReceiptStore`].
    SyncStoreError {}
);
storage_error!(
    /// Errors of [`AuditLog`] and [`ActivityStore`].
    HistoryStoreError {}
);
storage_error!(
    /// Errors of [`CampaignStore`].
    CampaignStoreError {}
);
storage_error!(
    /// Errors of [`ConnectionStore`].
    ConnectionStoreError {
        /// A stored token could not be decrypted: the encryption key changed or the row was
        /// tampered with. The connection must be re-authorised (or the right key configured).
        #[error("stored tokens of connection `{0}` cannot be decrypted (wrong key or tampered row)")]
        Undecryptable(String),
    }
);
storage_error!(
    /// Errors of [`JobQueue`].
    JobQueueError {
        /// The job is no longer leased to this worker (its lease expired and another worker took
        /// it, or it was cancelled): stop working on it and do not report a result.
        #[error("job `{0}` is no longer leased to this worker")]
        LeaseLost(String),
    }
);
storage_error!(
    /// Errors of [`AccountStore`] and [`AiUsageStore`].
    AccountStoreError {}
);

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A signed-in user.
    User(UserId),
    /// A call authenticated by an API key.
    ApiKey(ApiKeyId),
    /// Rolodex itself (`sync`, `webhook`, `reconcile`, `campaign`, ...).
    System(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::ApiKey(id) => write!(f, "api_key:{id}"),
            Self::System(name) => write!(f, "system:{name}"),
        }
    }
}

impl Actor {
    /// Parses the stored form written by `Display` (`user:<uuid>`, `api_key:<uuid>`, `system:<name>`).
    ///
    /// # Errors
    /// A message naming the input when it is not one of those forms.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not an actor (expected user:<id>, api_key:<id> or system:<name>)");
        match s.split_once(':') {
            Some(("user", id)) => UserId::parse(id).map(Self::User).map_err(|_| bad()),
            Some(("api_key", id)) => ApiKeyId::parse(id).map(Self::ApiKey).map_err(|_| bad()),
            Some(("system", name)) if !name.is_empty() => Ok(Self::System(name.to_owned())),
            _ => Err(bad()),
        }
    }
}

/// Page size bounds shared by every listing: `limit` is clamped to `1..=MAX_PAGE`.
pub const MAX_PAGE: u32 = 1000;

/// Clamps a requested page size to `1..=MAX_PAGE` (0 means the default of 50).
#[must_use]
pub fn page_size(limit: u32) -> u32 {
    if limit == 0 { 50 } else { limit.min(MAX_PAGE) }
}
