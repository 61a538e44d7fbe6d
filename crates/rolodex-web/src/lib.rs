//! `rolodex-web`: Rolodex's HTTP API as an axum [`Router`] ([`router`]), over an [`AppState`] of
//! ports and services (so it runs over the SQLite or PostgreSQL store, or the in-memory fakes).
//!
//! - JSON under `/v1`: contacts, connections, sync runs and their review, the audit log, the AI
//!   tool surface (`/v1/tools`), GoHighLevel webhooks (`/v1/webhooks/ghl`), and
//!   `/v1/openapi.json`; `/healthz` and `/readyz` outside it.
//! - Authentication by API key per organisation ([`auth`]); `manage_integrations` for connections,
//!   sync runs and the sync tool; webhooks by signature.
//! - Errors are `application/problem+json` ([`error`]); bodies are read through
//!   `serde_path_to_error`, so a 422 names the field ([`extract`]); bodies over the configured
//!   limits are a 413.
//! - Request logs (method, route, status, latency, request id) without headers, bodies or tokens.
//! - [`bootstrap`]: the first start's organisation, owner and admin API key.
//!
//! Business rules stay in `rolodex-app`; this crate translates HTTP to use-case calls and back.

pub mod auth;
pub mod bootstrap;
pub mod doc;
pub mod dto;
pub mod error;
pub mod extract;
pub mod params;
mod routes;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

pub use crate::error::{ApiError, Problem};
pub use crate::routes::tools::{DEFAULT_MAX_CONTACTS, sync_contacts_definition};
pub use crate::state::{AppState, Check, Limits, Readiness, StateConfig, WebhookSettings};

/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// Every route with its OpenAPI path, and the body limits (`limits.api` for the API,
/// `limits.webhook` for webhooks).
fn api(limits: state::Limits) -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .merge(routes::ops::routes())
        .merge(routes::contacts::routes())
        .merge(routes::connections::routes())
        .merge(routes::runs::routes())
        .merge(routes::audit::routes())
        .merge(routes::tools::routes())
        .layer(DefaultBodyLimit::max(limits.api));
    let webhooks = routes::webhooks::routes().layer(DefaultBodyLimit::max(limits.webhook));
    api.merge(webhooks)
}

/// The OpenAPI document of the API.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    api(state::Limits::default()).into_openapi()
}

async fn no_route(uri: Uri) -> Response {
    ApiError::no_route(uri.path()).into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::method_not_allowed(method.as_str(), uri.path()).into_response()
}

/// The router over `state`, with request logs, request ids, body limits and problem+json
/// fallbacks.
pub fn router(state: AppState) -> Router {
    let (routes, openapi) = api(state.limits).split_for_parts();
    let request_id = HeaderName::from_static(REQUEST_ID);
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            // Only the method, the route template and the request id: never headers (the API key,
            // signatures), the query string or the body.
            let route = req.extensions().get::<MatchedPath>().map_or("-", MatchedPath::as_str).to_owned();
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
            tracing::info_span!("request", method = %req.method(), route = %route, request_id = %id, org = tracing::field::Empty)
        })
        .on_request(())
        .on_response(|res: &Response, latency: Duration, _span: &Span| {
            let status = res.status().as_u16();
            let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
            if status >= 500 {
                tracing::error!(status, latency_ms = ms, "request failed");
            } else {
                tracing::info!(status, latency_ms = ms, "request");
            }
        })
        .on_body_chunk(())
        .on_eos(())
        .on_failure(());
    routes
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(Arc::new(openapi)))
        .with_state(state)
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            HeaderName::from_static("x-ghl-signature"),
            HeaderName::from_static("x-wh-signature"),
        ]))
}
