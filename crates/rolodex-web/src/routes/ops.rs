//! Operational routes, without an API key: `/healthz` (the process answers), `/readyz` (the
//! injected [`Readiness`](crate::state::Readiness) checks pass: database reachable, migrations
//! current; 503 naming the failing check otherwise) and `/v1/openapi.json` (this API's document).

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::doc::{NotReady, Public};
use crate::dto::HealthOut;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz)).routes(routes!(openapi_json))
}

/// The process is up.
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = HealthOut), Public)
)]
pub(crate) async fn healthz() -> Json<HealthOut> {
    Json(HealthOut { status: "ok".to_owned(), checks: Vec::new() })
}

/// The server can serve requests: the database answers and its migrations are current.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready; every check passed", body = HealthOut), NotReady)
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<HealthOut>, ApiError> {
    let checks = state.readiness.check().await;
    let failing: Vec<String> = checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.detail)).collect();
    if failing.is_empty() {
        Ok(Json(HealthOut { status: "ready".to_owned(), checks }))
    } else {
        Err(ApiError::unavailable(format!("not ready: {}", failing.join("; "))))
    }
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object), Public)
)]
pub(crate) async fn openapi_json(
    Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Json<utoipa::openapi::OpenApi> {
    Json(doc.as_ref().clone())
}
