//! Organisations, users (roles and permissions), API keys (only a hash is stored) and AI usage:
//! [`AccountStore`] and [`AiUsageStore`].

use std::collections::BTreeSet;

use async_trait::async_trait;
use secrecy::SecretString;
use time::OffsetDateTime;

use super::AccountStoreError;
use crate::ids::{ApiKeyId, OrgId, UserId};

/// An organisation (tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Its id.
    pub id: OrgId,
    /// Its name.
    pub name: String,
    /// Created.
    pub created_at: OffsetDateTime,
}

stored_enum!(
    /// A user's role.
    Role {
        /// Everything, including users and billing.
        Owner => "owner",
        /// Everything but ownership.
        Admin => "admin",
        /// Works with contacts; extra rights come from permissions.
        Member => "member",
    }
);

stored_enum!(
    /// A permission granted on top of a role.
    Permission {
        /// Connect and disconnect provider accounts.
        ManageIntegrations => "manage_integrations",
        /// Send campaigns.
        SendBulkEmail => "send_bulk_email",
    }
);

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Its id.
    pub id: UserId,
    /// Login email (unique per organisation, compared case-insensitively).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Extra permissions.
    pub permissions: BTreeSet<Permission>,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Its organisation.
    pub org_id: OrgId,
    /// Login email (lower case).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Extra permissions.
    pub permissions: BTreeSet<Permission>,
    /// Created.
    pub created_at: OffsetDateTime,
}

impl User {
    /// Whether the user may do what `permission` guards (owners and admins may do everything).
    #[must_use]
    pub fn can(&self, permission: Permission) -> bool {
        matches!(self.role, Role::Owner | Role::Admin) || self.permissions.contains(&permission)
    }
}

/// A stored API key (the secret itself is never stored, only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Its id.
    pub id: ApiKeyId,
    /// Its organisation.
    pub org_id: OrgId,
    /// The user it acts for, if any.
    pub user_id: Option<UserId>,
    /// A label.
    pub name: String,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Revoked at (a revoked key never verifies).
    pub revoked_at: Option<OffsetDateTime>,
}

/// Organisations, users and API keys.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Creates an organisation with the given id.
    ///
    /// # Errors
    /// `Duplicate` when the id is taken; `Invalid` for an empty name.
    async fn create_org(&self, org: OrgId, name: &str) -> Result<Organisation, AccountStoreError>;

    /// Reads an organisation.
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_org(&self, org: OrgId) -> Result<Organisation, AccountStoreError>;

    /// Every organisation, oldest first. Unscoped by design: an operator's call (the server uses
    /// it to know whether this is a first start), never reachable with an organisation's key.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_orgs(&self) -> Result<Vec<Organisation>, AccountStoreError>;

    /// Creates a user.
    ///
    /// # Errors
    /// `NotFound` when `org` does not exist; `Duplicate` when the email is taken in `org`.
    async fn create_user(&self, org: OrgId, user: NewUser) -> Result<User, AccountStoreError>;

    /// Reads a user.
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_user(&self, org: OrgId, id: UserId) -> Result<User, AccountStoreError>;

    /// Lists the users of `org` by email.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_users(&self, org: OrgId) -> Result<Vec<User>, AccountStoreError>;

    /// Changes a user's role and permissions.
    ///
    /// # Errors
    /// `NotFound`.
    async fn set_user_access(
        &self,
        org: OrgId,
        id: UserId,
        role: Role,
        permissions: &BTreeSet<Permission>,
    ) -> Result<User, AccountStoreError>;

    /// Stores an API key: only the SHA-256 of `secret` is kept.
    ///
    /// # Errors
    /// `NotFound` when `org` (or the user) does not exist; `Duplicate` for a taken id or secret.
    async fn create_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        user: Option<UserId>,
        name: &str,
        secret: &SecretString,
    ) -> Result<ApiKey, AccountStoreError>;

    /// Finds the live key whose secret this is. Unscoped by design: it is how a request's
    /// organisation is discovered. Revoked keys never verify.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn verify_api_key(&self, secret: &SecretString) -> Result<Option<ApiKey>, AccountStoreError>;

    /// Revokes a key; returns whether a live key was revoked.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn revoke_api_key(&self, org: OrgId, id: ApiKeyId) -> Result<bool, AccountStoreError>;
}

/// One LLM call, for billing and budgets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiUsageRecord {
    /// Who caused it.
    pub user_id: Option<UserId>,
    /// `match_advice`, `personalize`, ...
    pub feature: String,
    /// Model name.
    pub model: String,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Cost in millionths of a US dollar.
    pub cost_micro_usd: u64,
}

/// Totals over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AiUsageTotals {
    /// Calls.
    pub calls: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Cost in micro-USD.
    pub cost_micro_usd: u64,
}

/// AI usage.
#[async_trait]
pub trait AiUsageStore: Send + Sync + 'static {
    /// Records one call at the current time.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn record_ai_usage(&self, org: OrgId, usage: &AiUsageRecord) -> Result<(), AccountStoreError>;

    /// Totals of `org` since `since`, optionally for one feature.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn ai_usage_totals(
        &self,
        org: OrgId,
        since: OffsetDateTime,
        feature: Option<&str>,
    ) -> Result<AiUsageTotals, AccountStoreError>;
}
