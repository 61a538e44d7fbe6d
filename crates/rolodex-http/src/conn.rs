//! [`HttpConnection`]: one provider account's HTTP access. It owns the client, the [`Auth`], the
//! [`RetryPolicy`], an optional shared [`RateLimiter`] and the [`Sleeper`], and runs the request
//! loop: rate-limit permit, bearer token, send, refresh once on 401, retry transient failures
//! honouring `Retry-After`. Adapters build requests and read bodies; they never loop themselves.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use rolodex_domain::ports::ProviderError;
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use crate::error::{is_retryable_transport, transport_error};
use crate::oauth::OAuthSession;
use crate::rate::RateLimiter;
use crate::retry::{GiveUp, RetryPolicy, Sleeper, TokioSleeper, is_retryable_status, parse_retry_after};

/// How requests are authorised.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// A fixed bearer token (no refresh: a 401 is `ProviderError::Unauthorized`).
    Bearer(SecretString),
    /// OAuth with the refresh-token grant: a 401 refreshes once and retries.
    OAuth(Arc<OAuthSession>),
}

impl Auth {
    async fn token(&self) -> Result<Option<SecretString>, ProviderError> {
        match self {
            Self::None => Ok(None),
            Self::Bearer(t) => Ok(Some(t.clone())),
            Self::OAuth(s) => s.access_token().await.map(Some),
        }
    }
}

/// One provider account's HTTP access: client, auth, retries, rate limit.
#[derive(Debug, Clone)]
pub struct HttpConnection {
    client: reqwest::Client,
    auth: Auth,
    retry: RetryPolicy,
    limiter: Option<Arc<RateLimiter>>,
    sleeper: Arc<dyn Sleeper>,
}

impl HttpConnection {
    /// A connection with the default [`RetryPolicy`], no rate limit, and real sleeping.
    #[must_use]
    pub fn new(client: reqwest::Client, auth: Auth) -> Self {
        Self { client, auth, retry: RetryPolicy::default(), limiter: None, sleeper: Arc::new(TokioSleeper) }
    }

    /// Replaces the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Shares a per-account rate limiter.
    #[must_use]
    pub fn with_rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Replaces the sleeper (tests: [`crate::RecordingSleeper`]).
    #[must_use]
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// The underlying client.
    #[must_use]
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request `build` makes (called again for every attempt) and returns the response
    /// once it is final: any status but 401 and the retryable ones (408, 429, 503, 504), which
    /// are retried while the policy allows. The caller maps other error statuses with its
    /// provider's error body.
    ///
    /// A POST is retried after a failed send only when the connection was never established (it
    /// may have been applied otherwise); every other method is treated as idempotent.
    ///
    /// # Errors
    /// `Unauthorized` (401 after a refresh, or without OAuth); `NeedsReauth` (refresh token
    /// rejected); `RateLimited { retry_after }` (429, or 503, once retries are spent or the
    /// provider asks for longer than `max_retry_after`); `Transient` (408, 504, connection
    /// failures, once retries are spent); `Unexpected` when the request cannot be built.
    pub async fn send<F>(&self, build: F) -> Result<Response, ProviderError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        let mut backoff = self.retry.backoff();
        let mut refreshed = false;
        loop {
            let permit = match &self.limiter {
                Some(l) => Some(l.acquire().await),
                None => None,
            };
            let token = self.auth.token().await?;
            let mut builder = build(&self.client);
            if let Some(t) = &token {
                builder = builder.bearer_auth(t.expose_secret());
            }
            let request = builder.build().map_err(|e| transport_error(&e))?;
            let idempotent = request.method() != Method::POST;
            let result = self.client.execute(request).await;
            drop(permit);
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    if is_retryable_transport(&e, idempotent)
                        && let Ok(delay) = backoff.next_delay(None)
                    {
                        self.sleeper.sleep(delay).await;
                        continue;
                    }
                    return Err(transport_error(&e));
                }
            };
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED {
                if let (Auth::OAuth(session), false) = (&self.auth, refreshed) {
                    refreshed = true;
                    session.refresh(token.as_ref()).await?;
                    continue;
                }
                return Err(ProviderError::Unauthorized);
            }
            if !is_retryable_status(status) {
                return Ok(response);
            }
            let retry_after = parse_retry_after(response.headers(), OffsetDateTime::now_utc());
            match backoff.next_delay(retry_after) {
                Ok(delay) => {
                    drop(response);
                    self.sleeper.sleep(delay).await;
                }
                Err(give_up) => return Err(give_up_error(status, retry_after, give_up)),
            }
        }
    }
}

fn give_up_error(status: StatusCode, retry_after: Option<Duration>, give_up: GiveUp) -> ProviderError {
    let retry_after = match give_up {
        GiveUp::WaitTooLong(d) => Some(d),
        GiveUp::Exhausted => retry_after,
    };
    match status.as_u16() {
        429 | 503 => ProviderError::RateLimited { retry_after },
        _ => ProviderError::Transient(format!("{status} after every retry")),
    }
}
