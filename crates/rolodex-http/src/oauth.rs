//! The OAuth 2.0 refresh-token grant for Microsoft, Google and GoHighLevel: [`OAuthConfig`] (token
//! endpoint and client, with presets), [`TokenSet`] (secrets as `SecretString`), the
//! [`TokenStore`] callback that persists a rotated refresh token, and [`OAuthSession`], which hands
//! out a valid access token, refreshes it once at a time, and turns `invalid_grant` into
//! `ProviderError::NeedsReauth` (after which it refuses to call the provider again).
//!
//! Storage is not ours: the app implements [`TokenStore`] over its encrypted connections table.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use async_trait::async_trait;
use rolodex_domain::ports::ProviderError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use url::Url;

/// A refresh is done this long before the access token expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// The client and token endpoint of one provider.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The token endpoint.
    pub token_url: Url,
    /// The client (application) id.
    pub client_id: String,
    /// The client secret (web apps); sent in the form body.
    pub client_secret: Option<SecretString>,
    /// The scope to ask for on refresh (Microsoft accepts a subset of the consented scopes).
    pub scope: Option<String>,
    /// Extra form fields (GoHighLevel `user_type`, `redirect_uri`).
    pub extra_params: Vec<(String, String)>,
}

impl OAuthConfig {
    /// Microsoft identity platform v2: `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`
    /// (`tenant` is `common`, `organizations`, `consumers` or a tenant id).
    ///
    /// # Errors
    /// `ProviderError::Invalid { field: "tenant" }` when the tenant makes no valid URL.
    pub fn microsoft(
        tenant: &str,
        client_id: impl Into<String>,
        client_secret: Option<SecretString>,
        scope: Option<String>,
    ) -> Result<Self, ProviderError> {
        let token_url = Url::parse("https://login.microsoftonline.com/")
            .and_then(|u| u.join(&format!("{tenant}/oauth2/v2.0/token")))
            .map_err(|e| crate::invalid("tenant", e.to_string()))?;
        Ok(Self { token_url, client_id: client_id.into(), client_secret, scope, extra_params: Vec::new() })
    }

    /// Google: `https://oauth2.googleapis.com/token`. Google usually returns no new refresh token;
    /// the old one is kept.
    #[must_use]
    pub fn google(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            token_url: fixed_url("https://oauth2.googleapis.com/token"),
            client_id: client_id.into(),
            client_secret: Some(client_secret),
            scope: None,
            extra_params: Vec::new(),
        }
    }

    /// GoHighLevel: `https://services.leadconnectorhq.com/oauth/token` with `user_type`
    /// (`Location` or `Company`) and an optional `redirect_uri`. Every refresh rotates the refresh
    /// token: it is saved at once through the [`TokenStore`].
    #[must_use]
    pub fn gohighlevel(
        client_id: impl Into<String>,
        client_secret: SecretString,
        user_type: &str,
        redirect_uri: Option<&str>,
    ) -> Self {
        let mut extra_params = vec![("user_type".to_owned(), user_type.to_owned())];
        if let Some(r) = redirect_uri {
            extra_params.push(("redirect_uri".to_owned(), r.to_owned()));
        }
        Self {
            token_url: fixed_url("https://services.leadconnectorhq.com/oauth/token"),
            client_id: client_id.into(),
            client_secret: Some(client_secret),
            scope: None,
            extra_params,
        }
    }

    /// The same client against another token endpoint (a mock server in tests).
    #[must_use]
    pub fn with_token_url(mut self, token_url: Url) -> Self {
        self.token_url = token_url;
        self
    }
}

#[expect(clippy::expect_used, reason = "constant URLs that are known to parse")]
fn fixed_url(s: &str) -> Url {
    Url::parse(s).expect("constant URL")
}

/// The tokens of one connection.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The access token, when one is known (a fresh session may start with only a refresh token).
    pub access_token: Option<SecretString>,
    /// The refresh token.
    pub refresh_token: SecretString,
    /// When the access token expires, when known.
    pub expires_at: Option<OffsetDateTime>,
    /// The granted scope, as the provider said.
    pub scope: Option<String>,
}

impl TokenSet {
    /// A set holding only a refresh token: the first call refreshes.
    #[must_use]
    pub fn from_refresh_token(refresh_token: SecretString) -> Self {
        Self { access_token: None, refresh_token, expires_at: None, scope: None }
    }
}

/// Why a [`TokenStore`] failed.
#[derive(Debug, thiserror::Error)]
#[error("token store: {0}")]
pub struct TokenStoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Persists a connection's tokens. Called after every successful refresh (the refresh token may
/// have rotated: GoHighLevel always, Microsoft often) and once when the connection needs
/// re-authorisation.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Saves the new tokens (atomically replacing the old refresh token).
    ///
    /// # Errors
    /// [`TokenStoreError`]; the refresh is then reported as `ProviderError::Unexpected`.
    async fn save_tokens(&self, tokens: &TokenSet) -> Result<(), TokenStoreError>;

    /// The refresh token was rejected (`invalid_grant`): mark the connection `needs_reauth`.
    ///
    /// # Errors
    /// [`TokenStoreError`]; the caller still gets `ProviderError::NeedsReauth`.
    async fn mark_needs_reauth(&self, reason: &str) -> Result<(), TokenStoreError> {
        let _ = reason;
        Ok(())
    }
}

/// A [`TokenStore`] in memory: for tests and for embedders that keep tokens elsewhere.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    saved: StdMutex<Vec<TokenSet>>,
    reauth: StdMutex<Option<String>>,
}

impl MemoryTokenStore {
    /// Every token set saved, oldest first.
    #[must_use]
    pub fn saved(&self) -> Vec<TokenSet> {
        self.saved.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The reason given to `mark_needs_reauth`, if it was called.
    #[must_use]
    pub fn needs_reauth(&self) -> Option<String> {
        self.reauth.lock().ok().and_then(|r| r.clone())
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn save_tokens(&self, tokens: &TokenSet) -> Result<(), TokenStoreError> {
        if let Ok(mut s) = self.saved.lock() {
            s.push(tokens.clone());
        }
        Ok(())
    }

    async fn mark_needs_reauth(&self, reason: &str) -> Result<(), TokenStoreError> {
        if let Ok(mut r) = self.reauth.lock() {
            *r = Some(reason.to_owned());
        }
        Ok(())
    }
}

#[derive(Debug)]
struct State {
    tokens: TokenSet,
    /// Set once the refresh token is rejected: no more calls.
    dead: Option<String>,
}

/// Hands out access tokens for one connection, refreshing them with the refresh-token grant.
#[derive(Debug)]
pub struct OAuthSession {
    client: reqwest::Client,
    config: OAuthConfig,
    store: Arc<dyn TokenStore>,
    state: Mutex<State>,
}

impl std::fmt::Debug for dyn TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenStore")
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    scope: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    message: Option<serde_json::Value>,
}

impl OAuthSession {
    /// A session starting from `tokens`.
    #[must_use]
    pub fn new(client: reqwest::Client, config: OAuthConfig, tokens: TokenSet, store: Arc<dyn TokenStore>) -> Self {
        Self { client, config, store, state: Mutex::new(State { tokens, dead: None }) }
    }

    /// A valid access token, refreshing first when there is none or it expires within a minute.
    ///
    /// # Errors
    /// As [`OAuthSession::refresh`].
    pub async fn access_token(&self) -> Result<SecretString, ProviderError> {
        let mut state = self.state.lock().await;
        if let Some(reason) = &state.dead {
            return Err(ProviderError::NeedsReauth(reason.clone()));
        }
        let fresh = state.tokens.expires_at.is_none_or(|at| at - EXPIRY_MARGIN > OffsetDateTime::now_utc());
        if let (Some(token), true) = (&state.tokens.access_token, fresh) {
            return Ok(token.clone());
        }
        self.refresh_locked(&mut state).await
    }

    /// Refreshes the access token because the provider rejected `rejected` (a 401). When another
    /// task has refreshed meanwhile, its token is returned and no second refresh is made.
    ///
    /// # Errors
    /// `NeedsReauth` when the refresh token is rejected (`invalid_grant`, also on every later
    /// call); `Transient` / `RateLimited` when the token endpoint is unavailable; `Forbidden` when
    /// the client itself is refused (`invalid_client`, `unauthorized_client`, ...); `Unexpected`
    /// when the new tokens could not be saved.
    pub async fn refresh(&self, rejected: Option<&SecretString>) -> Result<SecretString, ProviderError> {
        let mut state = self.state.lock().await;
        if let Some(reason) = &state.dead {
            return Err(ProviderError::NeedsReauth(reason.clone()));
        }
        if let (Some(current), Some(rejected)) = (&state.tokens.access_token, rejected)
            && current.expose_secret() != rejected.expose_secret()
        {
            return Ok(current.clone());
        }
        self.refresh_locked(&mut state).await
    }

    /// Whether the refresh token was rejected, and why.
    pub async fn needs_reauth(&self) -> Option<String> {
        self.state.lock().await.dead.clone()
    }

    async fn refresh_locked(&self, state: &mut State) -> Result<SecretString, ProviderError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", state.tokens.refresh_token.expose_secret()),
            ("client_id", &self.config.client_id),
        ];
        if let Some(secret) = &self.config.client_secret {
            form.push(("client_secret", secret.expose_secret()));
        }
        if let Some(scope) = &self.config.scope {
            form.push(("scope", scope));
        }
        for (k, v) in &self.config.extra_params {
            form.push((k, v));
        }
        let response = self
            .client
            .post(self.config.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| crate::error::transport_error(&e))?;
        let status = response.status();
        let retry_after = crate::retry::parse_retry_after(response.headers(), OffsetDateTime::now_utc());
        let body = response.bytes().await.map_err(|e| crate::error::transport_error(&e))?;
        let parsed: Option<TokenResponse> = serde_json::from_slice(&body).ok();

        if status.is_success() {
            let parsed = parsed.ok_or_else(|| crate::invalid("token_response", "not a JSON token response"))?;
            let access = parsed
                .access_token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| crate::invalid("access_token", "missing from the token response"))?;
            let expires_in = match &parsed.expires_in {
                None => None,
                Some(v) => Some(
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                        .ok_or_else(|| crate::invalid("expires_in", "not a number of seconds"))?,
                ),
            };
            let tokens = TokenSet {
                access_token: Some(SecretString::from(access)),
                refresh_token: match parsed.refresh_token.filter(|t| !t.is_empty()) {
                    Some(rotated) => SecretString::from(rotated),
                    None => state.tokens.refresh_token.clone(),
                },
                expires_at: expires_in.map(|s| OffsetDateTime::now_utc() + Duration::from_secs(s)),
                scope: parsed.scope.or_else(|| state.tokens.scope.clone()),
            };
            state.tokens = tokens.clone();
            self.store.save_tokens(&tokens).await.map_err(|e| ProviderError::Unexpected(Box::new(e)))?;
            return tokens.access_token.ok_or_else(|| crate::invalid("access_token", "missing"));
        }

        let (code, description) = match &parsed {
            Some(p) => (
                p.error.clone().unwrap_or_default(),
                p.error_description
                    .clone()
                    .or_else(|| p.message.as_ref().map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned)))
                    .unwrap_or_default(),
            ),
            None => (String::new(), String::new()),
        };
        let lower = format!("{code} {description}").to_ascii_lowercase();
        let reauth = ["invalid_grant", "interaction_required", "consent_required"].iter().any(|c| lower.contains(c));
        if reauth {
            let reason = if description.is_empty() { code } else { format!("{code}: {description}") };
            state.dead = Some(reason.clone());
            // The caller learns NeedsReauth whether or not the store could record it.
            let _ = self.store.mark_needs_reauth(&reason).await;
            return Err(ProviderError::NeedsReauth(reason));
        }
        let message = format!("token endpoint answered {status}: {code} {description}").trim().to_owned();
        Err(match status.as_u16() {
            429 => ProviderError::RateLimited { retry_after },
            408 | 500..=599 => ProviderError::Transient(message),
            _ if code == "temporarily_unavailable" => ProviderError::Transient(message),
            _ => ProviderError::Forbidden(message),
        })
    }
}
