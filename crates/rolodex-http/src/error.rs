//! Translating HTTP outcomes into [`ProviderError`], the error every adapter returns at its
//! boundary. Adapters read their provider's error body (code and message) and call
//! [`status_error`] for the statuses they have no special meaning for.

use std::time::Duration;

use reqwest::StatusCode;
use rolodex_domain::ports::ProviderError;

/// The generic meaning of a non-success status. `message` is the provider's own (code and text,
/// never a token); `retry_after` is the parsed `Retry-After`, if any.
#[must_use]
pub fn status_error(status: StatusCode, message: &str, retry_after: Option<Duration>) -> ProviderError {
    let message = if message.is_empty() { status.to_string() } else { message.to_owned() };
    match status.as_u16() {
        401 => ProviderError::Unauthorized,
        403 => ProviderError::Forbidden(message),
        404 | 410 => ProviderError::NotFound(message),
        409 | 412 => ProviderError::Conflict { current_version: None },
        429 => ProviderError::RateLimited { retry_after },
        503 if retry_after.is_some() => ProviderError::RateLimited { retry_after },
        400 | 413 | 422 => ProviderError::Invalid { field: "request".into(), message },
        408 | 500..=599 => ProviderError::Transient(message),
        _ => ProviderError::Unexpected(format!("unexpected HTTP status {status}: {message}").into()),
    }
}

/// The meaning of a failed send (no response): connection failures and timeouts are transient.
#[must_use]
pub fn transport_error(err: &reqwest::Error) -> ProviderError {
    let text = strip_url(err);
    if err.is_builder() { ProviderError::Unexpected(text.into()) } else { ProviderError::Transient(text) }
}

/// Whether a failed send may be retried. A request that may have reached the server is retried
/// only when it is idempotent.
#[must_use]
pub fn is_retryable_transport(err: &reqwest::Error, idempotent: bool) -> bool {
    if err.is_builder() || err.is_redirect() || err.is_decode() {
        return false;
    }
    err.is_connect() || (idempotent && (err.is_timeout() || err.is_request() || err.is_body()))
}

/// The error text without its URL (cursor URLs are long and not for logs).
fn strip_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A payload field could not be read: `ProviderError::Invalid` naming the field path.
#[must_use]
pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ProviderError {
    ProviderError::Invalid { field: field.into(), message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_statuses() {
        let e = |s: u16| status_error(StatusCode::from_u16(s).unwrap(), "m", Some(Duration::from_secs(2)));
        assert!(matches!(e(401), ProviderError::Unauthorized));
        assert!(matches!(e(403), ProviderError::Forbidden(m) if m == "m"));
        assert!(matches!(e(404), ProviderError::NotFound(_)));
        assert!(matches!(e(412), ProviderError::Conflict { .. }));
        assert!(matches!(e(429), ProviderError::RateLimited { retry_after: Some(d) } if d.as_secs() == 2));
        assert!(matches!(e(422), ProviderError::Invalid { .. }));
        assert!(matches!(e(500), ProviderError::Transient(_)));
        assert!(matches!(e(302), ProviderError::Unexpected(_)));
    }
}
