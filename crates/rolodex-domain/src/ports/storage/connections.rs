//! Provider connections with their OAuth tokens: [`ConnectionStore`]. Tokens are
//! [`SecretString`]s in memory and encrypted at rest by the adapter; they are never logged
//! (`Debug` of a [`Connection`] redacts them).

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ConnectionStoreError;
use crate::conflict::ConflictPolicy;
use crate::ids::{ConnectionId, OrgId, UserId};

stored_enum!(
    /// Whether a connection can be used.
    ConnectionStatus {
        /// Tokens work.
        Active => "active",
        /// The refresh token was rejected: a person must reconnect; jobs stop retrying.
        NeedsReauth => "needs_reauth",
        /// Disconnected by a person.
        Disconnected => "disconnected",
    }
);

/// OAuth tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Access token.
    pub access_token: Option<SecretString>,
    /// Refresh token.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires.
    pub expires_at: Option<OffsetDateTime>,
}

/// How Rolodex uses a connection, beyond its tokens. Stored as JSON; unknown keys are refused so a
/// typo in a setting is an error, not a silently ignored knob.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionSettings {
    /// The provider API's base URL when it is not the public one (regional endpoints, mocks in
    /// tests). `None`: the adapter's default.
    pub base_url: Option<String>,
    /// Two-way sync: local creates and updates are pushed to this connection (through the
    /// transactional outbox), and its webhooks and reconciliation apply remote changes. Only
    /// GoHighLevel supports it today; the server turns it on by default for new GoHighLevel
    /// connections.
    pub two_way: bool,
    /// Who wins a field both sides changed since the last sync (two-way only). Default: the
    /// provider (GoHighLevel is the system of record).
    pub conflict_policy: ConflictPolicy,
    /// Minutes between reconciliation runs of a two-way connection (default 15; at least 1).
    pub reconcile_every_minutes: Option<u32>,
}

impl ConnectionSettings {
    /// Reconciliation every this many minutes when unset.
    pub const DEFAULT_RECONCILE_MINUTES: u32 = 15;

    /// The reconciliation period in minutes (default 15, at least 1).
    #[must_use]
    pub fn reconcile_minutes(&self) -> u32 {
        self.reconcile_every_minutes.unwrap_or(Self::DEFAULT_RECONCILE_MINUTES).max(1)
    }
}

/// A connection to create.
#[derive(Debug, Clone)]
pub struct NewConnection {
    /// Its id.
    pub id: ConnectionId,
    /// Who connected it.
    pub user_id: Option<UserId>,
    /// `graph`, `google`, `ghl`.
    pub provider: String,
    /// The provider account (GoHighLevel location id, mailbox address, Google account id).
    pub account: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Tokens.
    pub tokens: Tokens,
    /// Settings.
    pub settings: ConnectionSettings,
}

/// A stored connection, tokens decrypted.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Its id.
    pub id: ConnectionId,
    /// Its organisation.
    pub org_id: OrgId,
    /// Who connected it.
    pub user_id: Option<UserId>,
    /// Provider.
    pub provider: String,
    /// Provider account.
    pub account: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Tokens.
    pub tokens: Tokens,
    /// Status.
    pub status: ConnectionStatus,
    /// Settings.
    pub settings: ConnectionSettings,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last changed.
    pub updated_at: OffsetDateTime,
}

/// Connections.
#[async_trait]
pub trait ConnectionStore: Send + Sync + 'static {
    /// Stores a new, active connection.
    ///
    /// # Errors
    /// `Duplicate` when `(provider, account)` is already connected in `org`, or the id is taken.
    async fn create_connection(&self, org: OrgId, new: NewConnection) -> Result<Connection, ConnectionStoreError>;

    /// Reads a connection with its tokens.
    ///
    /// # Errors
    /// `NotFound`; `Undecryptable` when the tokens cannot be decrypted with the configured key.
    async fn get_connection(&self, org: OrgId, id: ConnectionId) -> Result<Connection, ConnectionStoreError>;

    /// Lists connections of `org` (optionally one provider's), oldest first.
    ///
    /// # Errors
    /// `Undecryptable`; `Unexpected`.
    async fn list_connections(
        &self,
        org: OrgId,
        provider: Option<&str>,
    ) -> Result<Vec<Connection>, ConnectionStoreError>;

    /// Replaces the tokens (after a refresh); an `active` status stays, `needs_reauth` becomes
    /// `active` again.
    ///
    /// # Errors
    /// `NotFound`.
    async fn update_tokens(&self, org: OrgId, id: ConnectionId, tokens: &Tokens) -> Result<(), ConnectionStoreError>;

    /// Replaces the settings.
    ///
    /// # Errors
    /// `NotFound`.
    async fn update_settings(
        &self,
        org: OrgId,
        id: ConnectionId,
        settings: &ConnectionSettings,
    ) -> Result<(), ConnectionStoreError>;

    /// Sets the status.
    ///
    /// # Errors
    /// `NotFound`.
    async fn set_connection_status(
        &self,
        org: OrgId,
        id: ConnectionId,
        status: ConnectionStatus,
    ) -> Result<(), ConnectionStoreError>;

    /// Which organisation and connection a provider account belongs to (to route a webhook).
    /// Unscoped by design; returns only ids. Disconnected connections are ignored.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn resolve_account(
        &self,
        provider: &str,
        account: &str,
    ) -> Result<Vec<(OrgId, ConnectionId)>, ConnectionStoreError>;
}
