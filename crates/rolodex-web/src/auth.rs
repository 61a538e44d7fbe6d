//! API-key authentication: `Authorization: Bearer <key>`. [`Caller`] finds the key's organisation
//! (`AccountStore::verify_api_key`) and its permissions: a key acting for a user has that user's
//! (owners and admins may do everything; members what their permissions grant); a key without a
//! user may only work with contacts. [`Integrations`] additionally requires
//! `manage_integrations` (connections, sync runs, the sync tool). Every failure is problem+json:
//! 401 for a missing or unknown key, 403 for a missing permission. The key itself is never logged.

use std::collections::BTreeSet;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rolodex_domain::ports::storage::{AccountStoreError, Actor, Permission};
use rolodex_domain::{ApiKeyId, OrgId, UserId};
use secrecy::SecretString;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The key's organisation: every read and write of the request is scoped to it.
    pub org: OrgId,
    /// The key.
    pub key: ApiKeyId,
    /// The user the key acts for.
    pub user: Option<UserId>,
    /// What the key may do beyond contacts.
    pub permissions: BTreeSet<Permission>,
}

impl Caller {
    /// Who changes are attributed to in the audit log.
    #[must_use]
    pub fn actor(&self) -> Actor {
        Actor::ApiKey(self.key)
    }

    /// Whether the key holds `permission`.
    #[must_use]
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// 403 unless the key holds `permission`.
    ///
    /// # Errors
    /// [`ApiError::forbidden`] naming the permission.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this API key lacks the `{}` permission: use a key of an owner or admin, or of a user granted it",
                permission.as_str()
            )))
        }
    }
}

/// The bearer token of a request, if it carries one.
fn bearer(parts: &Parts) -> Result<SecretString, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("this endpoint needs an API key: send `Authorization: Bearer <key>`"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable text: send `Bearer <key>`"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized("the Authorization header must be `Bearer <key>`"));
    }
    Ok(SecretString::from(token.trim().to_owned()))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let secret = bearer(parts)?;
        let key = state
            .accounts
            .verify_api_key(&secret)
            .await
            .map_err(|e| ApiError::internal(&e))?
            .ok_or_else(|| ApiError::unauthorized("the API key is unknown or revoked"))?;
        let permissions = match key.user_id {
            Some(user) => match state.accounts.get_user(key.org_id, user).await {
                Ok(u) => Permission::ALL.iter().copied().filter(|p| u.can(*p)).collect(),
                Err(AccountStoreError::NotFound { .. }) => BTreeSet::new(),
                Err(e) => return Err(ApiError::internal(&e)),
            },
            None => BTreeSet::new(),
        };
        tracing::Span::current().record("org", tracing::field::display(key.org_id));
        Ok(Self { org: key.org_id, key: key.id, user: key.user_id, permissions })
    }
}

/// A caller holding `manage_integrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integrations(pub Caller);

impl FromRequestParts<AppState> for Integrations {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(Permission::ManageIntegrations)?;
        Ok(Self(caller))
    }
}
