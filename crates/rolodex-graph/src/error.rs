//! Graph error bodies (`{"error":{"code","message"}}`) -> `ProviderError`, and the one error that
//! is not an error to a caller: an expired delta token (410 `SyncStateNotFound`, `resyncRequired`).

use reqwest::Response;
use rolodex_domain::ports::ProviderError;
use rolodex_http::{parse_retry_after, status_error};
use serde_json::Value;
use time::OffsetDateTime;

/// A failed Graph call, read.
#[derive(Debug)]
pub(crate) struct GraphFailure {
    pub(crate) status: reqwest::StatusCode,
    pub(crate) code: String,
    pub(crate) message: String,
    retry_after: Option<std::time::Duration>,
}

impl GraphFailure {
    /// Reads the status and the error body (tolerating a missing or non-JSON body).
    pub(crate) async fn read(response: Response) -> Self {
        let status = response.status();
        let retry_after = parse_retry_after(response.headers(), OffsetDateTime::now_utc());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let error = body.get("error");
        let text = |k: &str| error.and_then(|e| e.get(k)).and_then(Value::as_str).unwrap_or_default().to_owned();
        Self { status, code: text("code"), message: text("message"), retry_after }
    }

    /// The delta token is gone: drop it and start a full delta round.
    pub(crate) fn is_sync_reset(&self) -> bool {
        let code = self.code.to_ascii_lowercase();
        self.status.as_u16() == 410
            || code == "syncstatenotfound"
            || code == "resyncrequired"
            || code == "syncstateinvalid"
    }

    pub(crate) fn into_error(self) -> ProviderError {
        let message = match (self.code.is_empty(), self.message.is_empty()) {
            (true, _) => self.message,
            (false, true) => self.code.clone(),
            (false, false) => format!("{}: {}", self.code, self.message),
        };
        match self.status.as_u16() {
            400 | 422 => ProviderError::Invalid { field: "request".into(), message },
            _ => status_error(self.status, &message, self.retry_after),
        }
    }
}
