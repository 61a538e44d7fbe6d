//! Contact providers: [`ContactSource`] (read a provider account's contacts, fully or incrementally,
//! page by page) and [`ContactSink`] (write contacts to it), plus [`RemoteContactEvent`], the domain
//! form of a provider webhook.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Retry;
use crate::contact::{ContactFields, IncomingContact};

/// An opaque incremental-sync cursor: a Graph deltaLink, a People syncToken, a GoHighLevel
/// `searchAfter` position, a file's content hash. Only the adapter that issued it reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SyncCursor(pub String);

/// An opaque token for the next page of one listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageToken(pub String);

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchRequest {
    /// Every contact, from the first page. The last page carries a cursor for later incremental
    /// fetches when the provider has one.
    Full,
    /// What changed since the cursor.
    Since(SyncCursor),
    /// The next page of a listing started by `Full` or `Since`.
    Page(PageToken),
}

/// One page of contacts. Memory stays flat: a caller holds one page at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangePage {
    /// Contacts created or changed (or, in a full listing, every contact).
    pub upserts: Vec<IncomingContact>,
    /// External ids deleted at the provider (incremental fetches only).
    pub deletions: Vec<String>,
    /// The next page, if there is one.
    pub next_page: Option<PageToken>,
    /// Set on the last page: the cursor for the next incremental fetch.
    pub next_cursor: Option<SyncCursor>,
    /// True when the adapter had to start over with a full listing (the cursor had expired,
    /// e.g. Graph 410 `syncStateNotFound` or People `EXPIRED_SYNC_TOKEN`): contacts absent from the
    /// listing may be gone, but the listing carries no deletions.
    pub reset: bool,
}

/// Errors of a provider call, common to sources and sinks.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The access token was rejected and could not be refreshed right now; retry later.
    #[error("the provider rejected the access token")]
    Unauthorized,
    /// The refresh token was rejected (`invalid_grant`): a person must reconnect the account.
    #[error("the connection must be re-authorised: {0}")]
    NeedsReauth(String),
    /// The account lacks a permission (HTTP 403 other than throttling).
    #[error("the provider refused access: {0}")]
    Forbidden(String),
    /// Throttled (429/503); `retry_after` when the provider said how long to wait.
    #[error("rate limited by the provider{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// How long to wait, if the provider said.
        retry_after: Option<Duration>,
    },
    /// The thing does not exist at the provider (404), or was deleted.
    #[error("not found at the provider: {0}")]
    NotFound(String),
    /// The provider has a newer version than the one we based the write on (412 / etag mismatch).
    #[error("the provider holds a newer version{}", current_version.as_ref().map(|v| format!(" ({v})")).unwrap_or_default())]
    Conflict {
        /// The provider's current version, when known.
        current_version: Option<String>,
    },
    /// The provider says the contact duplicates one it has (GoHighLevel's duplicate rule).
    #[error("the provider already has this contact{}", existing_id.as_ref().map(|v| format!(" as {v}")).unwrap_or_default())]
    Duplicate {
        /// The provider's id of the existing contact, when it said.
        existing_id: Option<String>,
    },
    /// The provider rejected a value we sent (400/422), or sent one we cannot read.
    #[error("invalid `{field}`: {message}")]
    Invalid {
        /// The field (provider's name or ours) at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A network failure or 5xx: retry.
    #[error("transient provider failure: {0}")]
    Transient(String),
    /// Anything else.
    #[error("unexpected provider failure")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ProviderError {
    /// Whether and when to retry.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self {
            Self::RateLimited { retry_after } => Retry::After(*retry_after),
            Self::Transient(_) | Self::Unauthorized => Retry::After(None),
            _ => Retry::Never,
        }
    }
}

/// Reads a provider account's contacts.
#[async_trait]
pub trait ContactSource: Send + Sync + 'static {
    /// A short name for logs and `source` fields: `graph`, `google`, `ghl`, `file`.
    fn provider(&self) -> &'static str;

    /// Fetches one page. Start with [`FetchRequest::Full`] or [`FetchRequest::Since`], then follow
    /// `next_page` with [`FetchRequest::Page`] until it is `None`; the last page carries
    /// `next_cursor`. An expired cursor is not an error: the adapter starts a full listing and sets
    /// [`ChangePage::reset`].
    ///
    /// # Errors
    /// [`ProviderError`]: `RateLimited` and `Transient` may be retried; `NeedsReauth` must stop the
    /// sync and mark the connection; `Invalid` names a payload field the adapter could not read.
    async fn fetch(&self, request: FetchRequest) -> Result<ChangePage, ProviderError>;
}

/// What the provider holds after a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// The provider's id.
    pub external_id: String,
    /// Its version or etag, when it has one.
    pub version: Option<String>,
    /// Its updated-at, when it says.
    pub updated_at: Option<OffsetDateTime>,
    /// The contact as the provider holds it after the write, when it answered with it (two-way
    /// sync keeps it as the snapshot, so the echo of the write is recognised).
    pub fields: Option<ContactFields>,
}

/// Writes contacts to a provider account.
#[async_trait]
pub trait ContactSink: Send + Sync + 'static {
    /// Creates a contact.
    ///
    /// # Errors
    /// [`ProviderError`]; `Duplicate` when the provider refuses a second contact with the same key.
    async fn create(&self, fields: &ContactFields) -> Result<RemoteRef, ProviderError>;

    /// Replaces the provider's fields with `fields`. `expected_version` (an etag) makes the write
    /// conditional where the provider supports it.
    ///
    /// # Errors
    /// [`ProviderError`]; `NotFound` when the contact is gone, `Conflict` when the version moved on.
    async fn update(
        &self,
        external_id: &str,
        expected_version: Option<&str>,
        fields: &ContactFields,
    ) -> Result<RemoteRef, ProviderError>;

    /// Deletes a contact. Deleting one that is already gone is `Ok`.
    ///
    /// # Errors
    /// [`ProviderError`].
    async fn delete(&self, external_id: &str) -> Result<(), ProviderError>;

    /// The contact as this provider would hold it after a write of `fields` and a read back: the
    /// fields it cannot store dropped, the ones it stores differently normalised (GoHighLevel keeps
    /// one email in the write body, for example). Two-way sync compares contacts in this form, so
    /// a difference the provider cannot represent is never pushed again and again, and provider
    /// data we cannot write is never mistaken for a local deletion. Must be idempotent. The default
    /// is a provider that stores every field.
    fn project(&self, fields: &ContactFields) -> ContactFields {
        fields.clone()
    }
}

/// A provider's notification that a contact changed (a verified, parsed webhook). Serialisable so
/// a stored webhook receipt can carry it to the worker that applies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteContactEvent {
    /// The provider's delivery id (unique per delivery; duplicates are ignored).
    pub delivery_id: String,
    /// The provider account (GHL location id, Graph mailbox, Google account).
    pub account: String,
    /// The contact's provider id.
    pub external_id: String,
    /// When the provider last changed the contact (orders events; older never overwrites newer).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub occurred_at: Option<OffsetDateTime>,
    /// What happened.
    pub kind: RemoteEventKind,
}

/// What a [`RemoteContactEvent`] says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "data")]
pub enum RemoteEventKind {
    /// Created, with the contact as the provider sent it.
    Created(Box<IncomingContact>),
    /// Updated, with the contact as the provider sent it.
    Updated(Box<IncomingContact>),
    /// Deleted at the provider.
    Deleted,
    /// Only the do-not-disturb flag changed.
    DndChanged(bool),
    /// Only the tags changed; the full new set.
    TagsChanged(Vec<String>),
}

impl fmt::Display for RemoteEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Created(_) => "created",
            Self::Updated(_) => "updated",
            Self::Deleted => "deleted",
            Self::DndChanged(_) => "dnd_changed",
            Self::TagsChanged(_) => "tags_changed",
        })
    }
}
