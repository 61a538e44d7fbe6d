//! Errors as `application/problem+json` (RFC 9457): [`ApiError`] carries the status, a stable
//! problem `type`, a title, a detail a person can act on, and for validation failures the field
//! and why ([`FieldProblem`]). The mapping from the use cases' error enums to statuses lives here,
//! in one place; unexpected errors are logged with their cause chain and answered with a 500 that
//! reveals nothing internal.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rolodex_app::sync::SyncError;
use rolodex_domain::ports::storage::{
    AccountStoreError, ConnectionStoreError, ContactStoreError, HistoryStoreError, JobQueueError, SyncStoreError,
};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The prefix of every problem `type`.
pub const PROBLEM_BASE: &str = "https://rolodex.dev/problems/";

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field, as a path into the request (`emails[1]`, `filters.maxContacts`, `limit`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A problem+json body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`https://rolodex.dev/problems/validation`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened and what to do, for a person.
    pub detail: String,
    /// For 422: every invalid field and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
    /// For a version conflict (409): the version now stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

/// An error answered as problem+json.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    errors: Option<Vec<FieldProblem>>,
    current_version: Option<i64>,
    www_authenticate: bool,
}

impl ApiError {
    fn new(status: StatusCode, slug: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            slug,
            title,
            detail: detail.into(),
            errors: None,
            current_version: None,
            www_authenticate: false,
        }
    }

    /// 400: the request cannot be read (malformed JSON, a bad header).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "The request cannot be read", detail)
    }

    /// 401: no valid API key (or webhook signature).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Authentication required", detail);
        e.www_authenticate = true;
        e
    }

    /// 401 for a webhook whose signature does not verify (no `WWW-Authenticate`: it is not a key).
    pub fn bad_signature(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "bad-signature", "The webhook signature does not verify", detail)
    }

    /// 403: the key lacks a permission.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Permission denied", detail)
    }

    /// 404: the thing does not exist in the caller's organisation.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 404 for a path no route serves.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no-route",
            "No such endpoint",
            format!("nothing is served at `{path}`: see /v1/openapi.json for the API"),
        )
    }

    /// 405 for a method a route does not serve.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!("{method} is not served at `{path}`: see /v1/openapi.json for the methods it takes"),
        )
    }

    /// 409: the state moved on (a version conflict, a duplicate, a finished run).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    /// 409 for an optimistic-concurrency conflict, with the version now stored.
    pub fn version_conflict(detail: impl Into<String>, current_version: i64) -> Self {
        let mut e = Self::new(StatusCode::CONFLICT, "version-conflict", "The resource was changed", detail);
        e.current_version = Some(current_version);
        e
    }

    /// 413: the body is larger than the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Request body too large",
            format!("the request body is larger than the limit of {limit} bytes: send less at a time"),
        )
    }

    /// 415: the body is not JSON.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type", detail)
    }

    /// 422 naming one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldProblem { field: field.into(), message: message.into() }])
    }

    /// 422 naming every invalid field (the detail names the first).
    pub fn invalid(errors: Vec<FieldProblem>) -> Self {
        let detail = match errors.as_slice() {
            [] => "the request is invalid".to_owned(),
            [one] => format!("`{}`: {}", one.field, one.message),
            [first, rest @ ..] => {
                format!("`{}`: {} (and {} more invalid field(s))", first.field, first.message, rest.len())
            }
        };
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "Invalid request", detail);
        e.errors = Some(errors);
        e
    }

    /// 422 for a request that is well-formed but cannot be done as asked.
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", "The request cannot be done", detail)
    }

    /// 502: a provider failed.
    pub fn bad_gateway(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "provider-failed", "The provider failed", detail)
    }

    /// 503: not ready (database down, migrations pending).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable", detail)
    }

    /// 500, logging `error` and its cause chain; the answer reveals nothing internal.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %chain(error), "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "something went wrong on our side; it was logged. Retry later, and report it if it persists",
        )
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body.
    #[must_use]
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("{PROBLEM_BASE}{}", self.slug),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            current_version: self.current_version,
        }
    }
}

/// The error and its sources, joined with `: `.
#[must_use]
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut s = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        s.push_str(": ");
        s.push_str(&e.to_string());
        source = e.source();
    }
    s
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.title, self.detail)
    }
}

impl std::error::Error for ApiError {}

macro_rules! storage_into_api {
    ($($t:ident),+) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                match e {
                    $t::NotFound { entity, id } => Self::not_found(format!("{entity} `{id}` does not exist in this organisation")),
                    $t::Conflict { entity, id, current_version } => Self::version_conflict(
                        format!("{entity} `{id}` was changed by someone else: reload it and retry with version {current_version}"),
                        current_version,
                    ),
                    $t::Duplicate(what) => Self::conflict(format!("{what} already exists")),
                    $t::Invalid(message) => Self::unprocessable(message),
                    other => Self::internal(&other),
                }
            }
        }
    )+};
}

storage_into_api!(ContactStoreError, SyncStoreError, HistoryStoreError, AccountStoreError, JobQueueError);

impl From<ConnectionStoreError> for ApiError {
    fn from(e: ConnectionStoreError) -> Self {
        match e {
            ConnectionStoreError::Undecryptable(id) => Self::conflict(format!(
                "the tokens of connection `{id}` cannot be decrypted with the configured key: configure the key they were \
                 stored with, or disconnect and connect it again"
            )),
            ConnectionStoreError::NotFound { entity, id } => {
                Self::not_found(format!("{entity} `{id}` does not exist in this organisation"))
            }
            ConnectionStoreError::Duplicate(what) => Self::conflict(format!("{what} already exists")),
            ConnectionStoreError::Invalid(message) => Self::unprocessable(message),
            other => Self::internal(&other),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::RunNotFound(run) => {
                Self::not_found(format!("sync run `{run}` does not exist in this organisation"))
            }
            SyncError::ItemNotFound(item) => Self::not_found(format!("item `{item}` is not in this sync run")),
            e @ (SyncError::RunFinished { .. } | SyncError::AlreadyApplied(_)) => Self::conflict(e.to_string()),
            e @ (SyncError::NeedsDecision(_) | SyncError::InvalidOverride(_) | SyncError::SourceEmptied { .. }) => {
                Self::unprocessable(e.to_string())
            }
            SyncError::Source { provider, source } => {
                Self::bad_gateway(format!("the {provider} provider failed: {}", chain(&source)))
            }
            SyncError::Contacts(e) => e.into(),
            SyncError::Runs(e) => e.into(),
            SyncError::History(e) => e.into(),
            e @ SyncError::Corrupt(_) => Self::internal(&e),
        }
    }
}
