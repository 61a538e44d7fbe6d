//! `rolodex-http`: the plumbing every HTTP provider adapter (`rolodex-graph`, `rolodex-google`,
//! `rolodex-ghl`) shares. It knows HTTP, OAuth and rate limits; it knows nothing of any one
//! provider's payloads (those stay in the adapters) and nothing of storage (tokens are persisted
//! through the [`TokenStore`] callback the app implements).
//!
//! # API
//! - [`build_client`] / [`ClientOptions`] / [`install_crypto_provider`]: a `reqwest::Client` on
//!   rustls with the ring provider. Share one per process.
//! - [`HttpConnection`]: one provider account. `HttpConnection::new(client, auth)` then
//!   `.with_retry(RetryPolicy)`, `.with_rate_limiter(Arc<RateLimiter>)`,
//!   `.with_sleeper(Arc<dyn Sleeper>)`. `conn.send(|c| c.get(url).query(..)).await` returns the
//!   final `reqwest::Response` or a `ProviderError`:
//!   - rate-limit permit first; bearer token from [`Auth`] (`None`, `Bearer`, `OAuth`);
//!   - 401 with OAuth: refresh once (single-flight) and resend; a second 401 is `Unauthorized`;
//!   - 408 / 429 / 503 / 504 and connection failures are retried: `Retry-After` (seconds or an
//!     HTTP date) when present, else jittered exponential backoff capped at `max_delay`; a
//!     `Retry-After` longer than `max_retry_after` ends the call with `RateLimited { retry_after }`
//!     so the job can be rescheduled; spent retries end with `RateLimited` (429/503) or
//!     `Transient` (408/504/network). A POST is retried after a failed send only if it never
//!     connected. Other statuses (every other 4xx, 500, 410, ...) are returned to the adapter.
//! - [`RetryPolicy`] (`default()`, `never()`), [`parse_retry_after`], [`is_retryable_status`],
//!   [`Sleeper`] with [`TokioSleeper`] and [`RecordingSleeper`] (tests assert computed delays).
//! - [`RateLimits`] presets: [`RateLimits::gohighlevel_location`] (100 / 10 s and 200,000 / day),
//!   [`RateLimits::graph_mailbox`] (4 concurrent, 10,000 / 10 min),
//!   [`RateLimits::google_people`] (n / min), [`RateLimits::unlimited`]; [`RateLimiter`] enforces
//!   them (`acquire().await`, `try_acquire()`). One limiter per provider account, shared.
//! - OAuth refresh-token grant: [`OAuthConfig`] (`microsoft(tenant, ..)`, `google(..)`,
//!   `gohighlevel(..)`, `with_token_url(..)` for mocks), [`TokenSet`] (secrets are
//!   `SecretString`, never printed), [`TokenStore`] (`save_tokens` after every refresh, so a
//!   rotated refresh token is persisted; `mark_needs_reauth`), [`MemoryTokenStore`],
//!   [`OAuthSession`] (`access_token()`, `refresh(rejected)`). `invalid_grant` (also
//!   `interaction_required`, `consent_required`) becomes `ProviderError::NeedsReauth`, the
//!   store is told, and every later call fails the same way without contacting the provider.
//! - [`status_error`], [`transport_error`], [`invalid`]: the generic mapping to
//!   `rolodex_domain::ports::ProviderError` adapters fall back on.
//! - [`json`]: reading provider JSON with the failing field's path ([`json::FieldError`],
//!   [`json::from_object`], [`json::read_json`]) and lenient deserialisers
//!   ([`json::nullable_vec`], [`json::rfc3339_opt`], [`json::lenient_timestamp`]).

mod client;
mod conn;
mod error;
pub mod json;
mod oauth;
mod rate;
mod retry;

pub use client::{ClientOptions, build_client, install_crypto_provider};
pub use conn::{Auth, HttpConnection};
pub use error::{invalid, is_retryable_transport, status_error, transport_error};
pub use oauth::{MemoryTokenStore, OAuthConfig, OAuthSession, TokenSet, TokenStore, TokenStoreError};
pub use rate::{RateLimiter, RateLimits, RatePermit, Window};
pub use retry::{
    Backoff, GiveUp, RecordingSleeper, RetryPolicy, Sleeper, TokioSleeper, is_retryable_status, parse_retry_after,
    parse_retry_after_value,
};
