//! `/v1/audit`: the organisation's audit log (who changed what, before and after), newest first,
//! filtered by entity or sync run. Any API key of the organisation may read it.

use axum::Json;
use axum::extract::State;
use rolodex_domain::ports::storage::AuditFilter;
use rolodex_domain::{AuditId, SyncRunId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::doc::Authed;
use crate::dto::{AuditOut, AuditPage};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::params;
use crate::state::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Audit filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// `contact`, `connection`, `sync_item`, ...
    entity_type: Option<String>,
    /// The entity's id (with `entity_type`).
    entity_id: Option<String>,
    /// Entries caused by this sync run.
    #[param(value_type = Option<Uuid>)]
    run_id: Option<String>,
    /// Page: entries older than this one.
    #[param(value_type = Option<Uuid>)]
    before: Option<String>,
    /// Page size, 1-1000 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

/// Lists audit entries, newest first.
#[utoipa::path(
    get, path = "/v1/audit", tag = "audit",
    params(AuditParams),
    responses((status = 200, description = "A page of entries", body = AuditPage), Authed),
    security(("api_key" = []))
)]
pub(crate) async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let filter = AuditFilter {
        entity_type: p.entity_type.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        entity_id: p.entity_id.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        run_id: params::uuid("run_id", p.run_id.as_deref())?.map(SyncRunId::from_uuid),
        before: params::uuid("before", p.before.as_deref())?.map(AuditId::from_uuid),
        limit: params::limit("limit", p.limit.as_deref(), 50)?,
    };
    let entries = state.audit.list_audit(caller.org, &filter).await?;
    let next_before =
        if entries.len() as u32 == filter.limit { entries.last().map(|e| e.entry.id.as_uuid()) } else { None };
    Ok(Json(AuditPage { items: entries.iter().map(AuditOut::from).collect(), next_before }))
}
