//! The first start of a server: when the database holds no organisation yet, create one, its
//! owner, and an admin API key with every permission, whose secret is returned once (the server
//! prints it; only its hash is stored). [`new_api_key`] makes key secrets: `rk_` and 43 characters
//! of URL-safe base64 (256 random bits).

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rolodex_domain::ports::IdGenerator;
use rolodex_domain::ports::storage::{AccountStore, AccountStoreError, NewUser, Permission, Role};
use rolodex_domain::{ApiKeyId, OrgId, UserId};
use secrecy::SecretString;

/// What the first start created.
pub struct FirstStart {
    /// The organisation.
    pub org: OrgId,
    /// Its owner.
    pub user: UserId,
    /// The admin key.
    pub key: ApiKeyId,
    /// The admin key's secret: shown once, never stored.
    pub secret: SecretString,
}

impl std::fmt::Debug for FirstStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstStart")
            .field("org", &self.org)
            .field("user", &self.user)
            .field("key", &self.key)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// A new API key secret.
#[must_use]
pub fn new_api_key() -> SecretString {
    use rand::RngCore as _;
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(format!("rk_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Creates the organisation, its owner and an admin key when the store has no organisation yet;
/// `None` when it has one (not a first start).
///
/// # Errors
/// [`AccountStoreError`] from the store.
pub async fn first_start(
    accounts: &dyn AccountStore,
    ids: &dyn IdGenerator,
) -> Result<Option<FirstStart>, AccountStoreError> {
    if !accounts.list_orgs().await?.is_empty() {
        return Ok(None);
    }
    let org = OrgId::from(ids.new_uuid());
    accounts.create_org(org, "Default organisation").await?;
    let user = UserId::from(ids.new_uuid());
    accounts
        .create_user(
            org,
            NewUser {
                id: user,
                email: "admin@localhost".to_owned(),
                name: "Administrator".to_owned(),
                role: Role::Owner,
                permissions: Permission::ALL.iter().copied().collect::<BTreeSet<_>>(),
            },
        )
        .await?;
    let key = ApiKeyId::from(ids.new_uuid());
    let secret = new_api_key();
    accounts.create_api_key(org, key, Some(user), "admin (created on first start)", &secret).await?;
    Ok(Some(FirstStart { org, user, key, secret }))
}
