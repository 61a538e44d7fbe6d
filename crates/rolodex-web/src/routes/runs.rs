//! `/v1/sync-runs` (needs `manage_integrations`): start a preview of a connection, list runs, read
//! one with its counts and progress, review its items (list and filter, approve, reject, override,
//! bulk operations) and execute it. Previews and executions run in a task of their own, so a
//! client that goes away does not cut them short (an execution is resumable anyway).

use std::future::Future;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rolodex_app::sync::{AutoApprove, FetchMode, ItemQuery, Override, PreviewRequest, SyncFilters, Verdict};
use rolodex_domain::ports::ProviderError;
use rolodex_domain::ports::storage::{RunFilter, SyncKind, SyncStatus};
use rolodex_domain::{ConnectionId, ContactId, OrgId, SyncItemId, SyncRunId};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Integrations;
use crate::doc::{Admin, AdminWrite};
use crate::dto::{
    ChangedOut, ExecuteOut, ItemOut, ItemPageOut, PreviewOut, RunOut, RunPage, parse_action, parse_confidence,
    parse_review,
};
use crate::error::{ApiError, chain};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::params;
use crate::state::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_preview, list_runs))
        .routes(routes!(get_run))
        .routes(routes!(list_items))
        .routes(routes!(get_item))
        .routes(routes!(approve_item))
        .routes(routes!(reject_item))
        .routes(routes!(override_item))
        .routes(routes!(bulk_review))
        .routes(routes!(execute_run))
}

/// Runs `work` in its own task (a client disconnect does not cancel it) and waits for it.
pub(crate) async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, ApiError>> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(e) => Err(ApiError::internal(&e)),
    }
}

/// A provider failure while building a connection's source.
pub(crate) fn source_error(connection: ConnectionId, e: &ProviderError) -> ApiError {
    match e {
        ProviderError::NotFound(_) => {
            ApiError::not_found(format!("connection `{connection}` does not exist in this organisation"))
        }
        ProviderError::NeedsReauth(m) => {
            ApiError::conflict(format!("connection `{connection}` needs to be connected again with new tokens: {m}"))
        }
        other => ApiError::bad_gateway(format!("the provider of connection `{connection}` failed: {}", chain(other))),
    }
}

/// Filters of a preview.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FiltersInput {
    /// Only contacts changed at or after this time (RFC 3339, or a date `YYYY-MM-DD`).
    #[serde(default)]
    updated_since: Option<String>,
    /// Only contacts with one of these tags / categories.
    #[serde(default)]
    categories: Vec<String>,
    /// At most this many contacts are listed (1-100000).
    #[serde(default)]
    max_contacts: Option<u32>,
}

/// Parses `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
pub(crate) fn parse_since(s: &str) -> Result<OffsetDateTime, String> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| format!("`{s}` is not an ISO date (YYYY-MM-DD) or RFC 3339 time"))
}

impl FiltersInput {
    fn into_filters(self, prefix: &str) -> Result<SyncFilters, ApiError> {
        let updated_since = match self.updated_since.as_deref().filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(s) => Some(parse_since(s).map_err(|m| ApiError::invalid_field(format!("{prefix}updated_since"), m))?),
        };
        if let Some(n) = self.max_contacts
            && !(1..=100_000).contains(&n)
        {
            return Err(ApiError::invalid_field(format!("{prefix}max_contacts"), "must be from 1 to 100000"));
        }
        Ok(SyncFilters {
            updated_since,
            categories: self.categories.into_iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
            max_contacts: self.max_contacts,
        })
    }
}

/// A preview to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewInput {
    /// The connection to read.
    connection_id: Uuid,
    /// `incremental` (default: what changed since the last sync) or `full`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "incremental")]
    mode: Option<FetchMode>,
    /// Filters.
    #[serde(default)]
    filters: FiltersInput,
    /// Approve high-confidence creates and updates at once (default false).
    #[serde(default)]
    auto_approve_high_confidence: bool,
}

/// Starts a preview: reads the connection's contacts, decides each, and stores a run to review.
#[utoipa::path(
    post, path = "/v1/sync-runs", tag = "sync",
    request_body = PreviewInput,
    responses((status = 201, description = "The preview's summary; its items are at `items_url`", body = PreviewOut), AdminWrite),
    security(("api_key" = []))
)]
pub(crate) async fn start_preview(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiJson(input): ApiJson<PreviewInput>,
) -> Result<Response, ApiError> {
    let filters = input.filters.into_filters("filters.")?;
    let connection = ConnectionId::from_uuid(input.connection_id);
    let request = PreviewRequest {
        connection_id: Some(connection),
        mode: input.mode.unwrap_or_default(),
        filters,
        user_id: caller.user,
        kind: Some(SyncKind::Manual),
        auto_approve: if input.auto_approve_high_confidence { AutoApprove::HighConfidence } else { AutoApprove::Never },
        guard_empty_source: true,
    };
    let report = preview(&state, caller.org, connection, request).await?;
    let out = PreviewOut::from(&report);
    let mut response = (StatusCode::CREATED, Json(out)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/sync-runs/{}", report.run_id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// Previews `connection` into a new run, in a task of its own.
pub(crate) async fn preview(
    state: &AppState,
    org: OrgId,
    connection: ConnectionId,
    request: PreviewRequest,
) -> Result<rolodex_app::sync::PreviewReport, ApiError> {
    state.connections.get_connection(org, connection).await?;
    let source = state.sources.source(org, connection).await.map_err(|e| source_error(connection, &e))?;
    let sync = state.sync.clone();
    detached(async move { sync.preview(org, &*source, request).await.map_err(ApiError::from) }).await
}

/// Listing parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunParams {
    /// `preview`, `executing`, `completed`, `failed` or `cancelled`.
    status: Option<String>,
    /// `ghl`, `graph`, `google`, `file`.
    provider: Option<String>,
    /// Page: runs older than this one.
    #[param(value_type = Option<Uuid>)]
    before: Option<String>,
    /// Page size, 1-1000 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

/// Lists sync runs, newest first.
#[utoipa::path(
    get, path = "/v1/sync-runs", tag = "sync",
    params(RunParams),
    responses((status = 200, description = "A page of runs", body = RunPage), Admin),
    security(("api_key" = []))
)]
pub(crate) async fn list_runs(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiQuery(p): ApiQuery<RunParams>,
) -> Result<Json<RunPage>, ApiError> {
    let filter = RunFilter {
        user_id: None,
        status: params::with("status", p.status.as_deref(), SyncStatus::parse)?,
        provider: p.provider.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        before: params::uuid("before", p.before.as_deref())?.map(SyncRunId::from_uuid),
        limit: params::limit("limit", p.limit.as_deref(), 50)?,
    };
    let runs = state.runs.list_runs(caller.org, &filter).await?;
    let next_before = if runs.len() as u32 == filter.limit { runs.last().map(|r| r.id.as_uuid()) } else { None };
    Ok(Json(RunPage { items: runs.iter().map(|r| RunOut::of(r, None)).collect(), next_before }))
}

/// A run with its counts and progress (readable while it executes).
#[utoipa::path(
    get, path = "/v1/sync-runs/{id}", tag = "sync",
    params(("id" = Uuid, Path, description = "The run")),
    responses((status = 200, description = "The run", body = RunOut), Admin),
    security(("api_key" = []))
)]
pub(crate) async fn get_run(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<RunOut>, ApiError> {
    let id = SyncRunId::from_uuid(id);
    let run = state.runs.get_run(caller.org, id).await?;
    let progress = state.sync.progress(caller.org, id).await?;
    Ok(Json(RunOut::of(&run, Some(&progress))))
}

/// Item filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ItemParams {
    /// The action execute will apply: `create`, `update`, `merge`, `skip`, `review`.
    action: Option<String>,
    /// `high`, `medium`, `low`.
    confidence: Option<String>,
    /// `pending`, `approved`, `rejected`.
    review: Option<String>,
    /// Only items not applied yet.
    #[param(value_type = Option<bool>)]
    unapplied: Option<String>,
    /// Page: items after this position.
    #[param(value_type = Option<i64>)]
    after: Option<String>,
    /// Page size, 1-1000 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

/// Lists a run's items, in position order, filtered.
#[utoipa::path(
    get, path = "/v1/sync-runs/{id}/items", tag = "sync",
    params(("id" = Uuid, Path, description = "The run"), ItemParams),
    responses((status = 200, description = "A page of items", body = ItemPageOut), Admin),
    security(("api_key" = []))
)]
pub(crate) async fn list_items(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(p): ApiQuery<ItemParams>,
) -> Result<Json<ItemPageOut>, ApiError> {
    let query = ItemQuery {
        action: params::with("action", p.action.as_deref(), parse_action)?,
        confidence: params::with("confidence", p.confidence.as_deref(), parse_confidence)?,
        review: params::with("review", p.review.as_deref(), parse_review)?,
        unapplied_only: params::boolean("unapplied", p.unapplied.as_deref())?.unwrap_or(false),
        after_position: params::with("after", p.after.as_deref(), |s| {
            s.parse::<i64>().map_err(|_| format!("`{s}` is not a position (a whole number)"))
        })?,
        limit: params::limit("limit", p.limit.as_deref(), 50)?,
    };
    let page = state.sync.list_items(caller.org, SyncRunId::from_uuid(id), query).await?;
    Ok(Json(ItemPageOut { items: page.items.iter().map(ItemOut::from).collect(), next_after: page.next_after }))
}

/// One item.
#[utoipa::path(
    get, path = "/v1/sync-runs/{id}/items/{item_id}", tag = "sync",
    params(("id" = Uuid, Path, description = "The run"), ("item_id" = Uuid, Path, description = "The item")),
    responses((status = 200, description = "The item", body = ItemOut), Admin),
    security(("api_key" = []))
)]
pub(crate) async fn get_item(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath((id, item)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<ItemOut>, ApiError> {
    let run = SyncRunId::from_uuid(id);
    state.runs.get_run(caller.org, run).await?;
    let view = state.sync.item(caller.org, run, SyncItemId::from_uuid(item)).await?;
    Ok(Json(ItemOut::from(&view)))
}

async fn reviewed(state: &AppState, org: OrgId, run: SyncRunId, item: SyncItemId) -> Result<Json<ItemOut>, ApiError> {
    Ok(Json(ItemOut::from(&state.sync.item(org, run, item).await?)))
}

/// Approves an item (one proposed for `review` must be overridden instead).
#[utoipa::path(
    post, path = "/v1/sync-runs/{id}/items/{item_id}/approve", tag = "sync",
    params(("id" = Uuid, Path, description = "The run"), ("item_id" = Uuid, Path, description = "The item")),
    responses((status = 200, description = "The item, approved", body = ItemOut), AdminWrite),
    security(("api_key" = []))
)]
pub(crate) async fn approve_item(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath((id, item)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<ItemOut>, ApiError> {
    let (run, item) = (SyncRunId::from_uuid(id), SyncItemId::from_uuid(item));
    state.sync.approve(caller.org, run, &[item]).await?;
    reviewed(&state, caller.org, run, item).await
}

/// Rejects an item: it will not be applied.
#[utoipa::path(
    post, path = "/v1/sync-runs/{id}/items/{item_id}/reject", tag = "sync",
    params(("id" = Uuid, Path, description = "The run"), ("item_id" = Uuid, Path, description = "The item")),
    responses((status = 200, description = "The item, rejected", body = ItemOut), AdminWrite),
    security(("api_key" = []))
)]
pub(crate) async fn reject_item(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath((id, item)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<ItemOut>, ApiError> {
    let (run, item) = (SyncRunId::from_uuid(id), SyncItemId::from_uuid(item));
    state.sync.reject(caller.org, run, &[item]).await?;
    reviewed(&state, caller.org, run, item).await
}

/// A person's decision instead of the proposal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverrideInput {
    /// `create`, `update`, `merge` or `skip`.
    action: String,
    /// The contact to update or merge into (required for `update` and `merge`, absent otherwise).
    #[serde(default)]
    target_contact_id: Option<Uuid>,
}

impl OverrideInput {
    fn into_override(self, prefix: &str) -> Result<Override, ApiError> {
        let action = parse_action(&self.action).map_err(|m| ApiError::invalid_field(format!("{prefix}action"), m))?;
        Ok(Override { action, target: self.target_contact_id.map(ContactId::from_uuid) })
    }
}

/// Overrides an item's action or target (and approves it); recorded in the audit log.
#[utoipa::path(
    post, path = "/v1/sync-runs/{id}/items/{item_id}/override", tag = "sync",
    params(("id" = Uuid, Path, description = "The run"), ("item_id" = Uuid, Path, description = "The item")),
    request_body = OverrideInput,
    responses((status = 200, description = "The item, overridden and approved", body = ItemOut), AdminWrite),
    security(("api_key" = []))
)]
pub(crate) async fn override_item(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath((id, item)): ApiPath<(Uuid, Uuid)>,
    ApiJson(input): ApiJson<OverrideInput>,
) -> Result<Json<ItemOut>, ApiError> {
    let ov = input.into_override("")?;
    let (run, item) = (SyncRunId::from_uuid(id), SyncItemId::from_uuid(item));
    let view = state.sync.override_item(caller.org, run, item, ov, &caller.actor()).await?;
    Ok(Json(ItemOut::from(&view)))
}

/// A bulk review operation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub(crate) enum BulkInput {
    /// Approve these items.
    Approve {
        /// The items.
        item_ids: Vec<Uuid>,
    },
    /// Reject these items.
    Reject {
        /// The items.
        item_ids: Vec<Uuid>,
    },
    /// Approve every pending high-confidence item.
    ApproveHighConfidence,
    /// Skip every pending possible duplicate.
    SkipDuplicates,
    /// Apply a verdict to every item like `like` (same action, same reasons).
    ApplyToSimilar {
        /// The reference item.
        like: Uuid,
        /// `approve`, `reject` or `override`.
        verdict: String,
        /// With `override`: the action.
        #[serde(default)]
        action: Option<String>,
        /// With `override`: the target contact.
        #[serde(default)]
        target_contact_id: Option<Uuid>,
    },
}

/// Approves, rejects or overrides many items at once.
#[utoipa::path(
    post, path = "/v1/sync-runs/{id}/items/bulk", tag = "sync",
    params(("id" = Uuid, Path, description = "The run")),
    request_body = BulkInput,
    responses((status = 200, description = "How many items changed", body = ChangedOut), AdminWrite),
    security(("api_key" = []))
)]
pub(crate) async fn bulk_review(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<BulkInput>,
) -> Result<Json<ChangedOut>, ApiError> {
    let run = SyncRunId::from_uuid(id);
    let ids = |v: Vec<Uuid>| v.into_iter().map(SyncItemId::from_uuid).collect::<Vec<_>>();
    let changed = match input {
        BulkInput::Approve { item_ids } => state.sync.approve(caller.org, run, &ids(item_ids)).await?,
        BulkInput::Reject { item_ids } => state.sync.reject(caller.org, run, &ids(item_ids)).await?,
        BulkInput::ApproveHighConfidence => state.sync.approve_high_confidence(caller.org, run).await?,
        BulkInput::SkipDuplicates => state.sync.skip_duplicates(caller.org, run, &caller.actor()).await?,
        BulkInput::ApplyToSimilar { like, verdict, action, target_contact_id } => {
            let verdict = match verdict.trim() {
                "approve" => Verdict::Approve,
                "reject" => Verdict::Reject,
                "override" => {
                    let action = action
                        .ok_or_else(|| ApiError::invalid_field("action", "an `override` verdict needs the action"))?;
                    Verdict::Override(OverrideInput { action, target_contact_id }.into_override("")?)
                }
                other => {
                    return Err(ApiError::invalid_field(
                        "verdict",
                        format!("`{other}` is not a verdict (expected approve, reject or override)"),
                    ));
                }
            };
            state.sync.apply_to_similar(caller.org, run, SyncItemId::from_uuid(like), verdict, &caller.actor()).await?
        }
    };
    Ok(Json(ChangedOut { changed }))
}

/// Applies the run's approved items (in batches, each one transaction). Items still pending stay
/// for review; the run is then back in `preview`.
#[utoipa::path(
    post, path = "/v1/sync-runs/{id}/execute", tag = "sync",
    params(("id" = Uuid, Path, description = "The run")),
    responses((status = 200, description = "What was applied", body = ExecuteOut), AdminWrite),
    security(("api_key" = []))
)]
pub(crate) async fn execute_run(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ExecuteOut>, ApiError> {
    let run = SyncRunId::from_uuid(id);
    let report = execute(&state, caller.org, run, caller.actor()).await?;
    Ok(Json(ExecuteOut::of(id, &report)))
}

/// Executes `run` in a task of its own.
pub(crate) async fn execute(
    state: &AppState,
    org: OrgId,
    run: SyncRunId,
    actor: rolodex_domain::ports::storage::Actor,
) -> Result<rolodex_app::sync::ExecuteReport, ApiError> {
    let sync = state.sync.clone();
    detached(async move { sync.execute(org, run, actor).await.map_err(ApiError::from) }).await
}
