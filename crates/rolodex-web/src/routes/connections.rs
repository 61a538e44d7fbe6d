//! `/v1/connections` (needs `manage_integrations`): connect a provider account from tokens, list
//! connections, read one's status, disconnect. A new GoHighLevel connection is two-way by default
//! (overridable with `two_way`): connecting schedules its reconciliation and the initial import
//! (`TwoWay::on_connected`), disconnecting removes the schedule. Tokens are accepted, stored
//! encrypted, and never returned or logged.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rolodex_app::remote::TwoWay;
use rolodex_domain::conflict::ConflictPolicy;
use rolodex_domain::ports::storage::{ConnectionSettings, ConnectionStatus, NewAuditEntry, NewConnection, Tokens};
use rolodex_domain::{AuditId, ConnectionId};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Caller, Integrations};
use crate::doc::{Admin, AdminWrite};
use crate::dto::ConnectionOut;
use crate::error::{ApiError, FieldProblem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The scope prefix that carries a connection's API base URL for the provider adapters that read
/// it from the scopes (`rolodex-runtime`'s `StoreSources`); the settings carry it too.
const BASE_URL_SCOPE: &str = "rolodex:base_url=";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_connection, list_connections))
        .routes(routes!(get_connection, disconnect))
}

/// The provider's canonical name (`microsoft` is `graph`, `gohighlevel` is `ghl`).
#[must_use]
pub fn canonical_provider(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "graph" | "microsoft" | "outlook" | "microsoft365" => Some("graph"),
        "google" => Some("google"),
        "ghl" | "gohighlevel" | "highlevel" => Some("ghl"),
        _ => None,
    }
}

/// A connection to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectionInput {
    /// `ghl` (GoHighLevel; also `gohighlevel`), `graph` (Microsoft 365; also `microsoft`) or `google`.
    provider: String,
    /// The provider account: the GoHighLevel location id, the mailbox (`me`), the Google account.
    account: String,
    /// The access token (a GoHighLevel private integration token, an OAuth access token).
    #[schema(value_type = String, format = Password)]
    access_token: SecretString,
    /// The refresh token, when there is one.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    refresh_token: Option<SecretString>,
    /// When the access token expires (RFC 3339).
    #[serde(default)]
    expires_at: Option<String>,
    /// Granted scopes.
    #[serde(default)]
    scopes: Vec<String>,
    /// The provider API's base URL when not the public one (regional endpoints, test servers).
    #[serde(default)]
    base_url: Option<String>,
    /// Two-way sync (default: true for GoHighLevel, which is the only provider supporting it).
    #[serde(default)]
    two_way: Option<bool>,
    /// Who wins a field both sides changed: `remote_wins` (default), `local_wins`, `newest_wins`, `ask`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "remote_wins")]
    conflict_policy: Option<ConflictPolicy>,
    /// Minutes between reconciliations of a two-way connection (default 15).
    #[serde(default)]
    reconcile_every_minutes: Option<u32>,
}

impl ConnectionInput {
    fn validate(self, id: ConnectionId, user: Option<rolodex_domain::UserId>) -> Result<NewConnection, ApiError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| errors.push(FieldProblem { field: field.to_owned(), message });
        let provider = canonical_provider(&self.provider);
        if provider.is_none() {
            bad("provider", format!("`{}` is not a provider (expected ghl, graph or google)", self.provider));
        }
        let account = self.account.trim().to_owned();
        if account.is_empty() {
            bad("account", "must not be empty".into());
        }
        if self.access_token.expose_secret().trim().is_empty() {
            bad("access_token", "must not be empty".into());
        }
        let expires_at = match self.expires_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match OffsetDateTime::parse(s, &Rfc3339) {
                Ok(t) => Some(t),
                Err(_) => {
                    bad("expires_at", format!("`{s}` is not an RFC 3339 time like 2026-01-31T12:00:00Z"));
                    None
                }
            },
        };
        let base_url = self.base_url.as_deref().map(|b| b.trim().trim_end_matches('/').to_owned());
        if let Some(b) = &base_url
            && !(b.starts_with("https://") || b.starts_with("http://"))
        {
            bad("base_url", format!("`{b}` is not an http(s) URL"));
        }
        let two_way = self.two_way.unwrap_or(provider == Some("ghl"));
        if two_way && provider.is_some() && provider != Some("ghl") {
            bad("two_way", "only GoHighLevel (ghl) connections support two-way sync".into());
        }
        if self.reconcile_every_minutes == Some(0) {
            bad("reconcile_every_minutes", "must be at least 1".into());
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors));
        }
        let mut scopes: Vec<String> =
            self.scopes.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if let Some(b) = &base_url {
            scopes.push(format!("{BASE_URL_SCOPE}{b}"));
        }
        Ok(NewConnection {
            id,
            user_id: user,
            provider: provider.unwrap_or_default().to_owned(),
            account,
            scopes,
            tokens: Tokens {
                access_token: Some(self.access_token),
                refresh_token: self.refresh_token.filter(|r| !r.expose_secret().trim().is_empty()),
                expires_at,
            },
            settings: ConnectionSettings {
                base_url,
                two_way,
                conflict_policy: self.conflict_policy.unwrap_or_default(),
                reconcile_every_minutes: self.reconcile_every_minutes,
            },
        })
    }
}

async fn audit(state: &AppState, caller: &Caller, c: &rolodex_domain::ports::storage::Connection, action: &str) {
    let entry = NewAuditEntry {
        id: AuditId::new_v7(),
        actor: caller.actor(),
        entity_type: "connection".to_owned(),
        entity_id: c.id.to_string(),
        action: action.to_owned(),
        before: None,
        after: serde_json::to_value(ConnectionOut::from(c)).ok(),
        run_id: None,
    };
    if let Err(e) = state.audit.record_audit(caller.org, vec![entry]).await {
        tracing::error!(error = %e, connection = %c.id, "audit entry not recorded");
    }
}

/// Connects a provider account from its tokens.
#[utoipa::path(
    post, path = "/v1/connections", tag = "connections",
    request_body = ConnectionInput,
    responses((status = 201, description = "Connected", body = ConnectionOut), AdminWrite),
    security(("api_key" = []))
)]
pub(crate) async fn create_connection(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiJson(input): ApiJson<ConnectionInput>,
) -> Result<Response, ApiError> {
    let new = input.validate(ConnectionId::new_v7(), caller.user)?;
    let connection = state.connections.create_connection(caller.org, new).await?;
    TwoWay::on_connected(&*state.jobs, caller.org, &connection).await?;
    audit(&state, &caller, &connection, "create").await;
    tracing::info!(connection = %connection.id, provider = %connection.provider, two_way = connection.settings.two_way, "connected");
    let mut response = (StatusCode::CREATED, Json(ConnectionOut::from(&connection))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/connections/{}", connection.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// Listing parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Only this provider's connections.
    provider: Option<String>,
}

/// Lists the organisation's connections, oldest first.
#[utoipa::path(
    get, path = "/v1/connections", tag = "connections",
    params(ListParams),
    responses((status = 200, description = "The connections", body = Vec<ConnectionOut>), Admin),
    security(("api_key" = []))
)]
pub(crate) async fn list_connections(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<Vec<ConnectionOut>>, ApiError> {
    let provider = match p.provider.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(canonical_provider(s).ok_or_else(|| {
            ApiError::invalid_field("provider", format!("`{s}` is not a provider (expected ghl, graph or google)"))
        })?),
    };
    let list = state.connections.list_connections(caller.org, provider).await?;
    Ok(Json(list.iter().map(ConnectionOut::from).collect()))
}

/// A connection and its status (`active`, `needs_reauth`, `disconnected`).
#[utoipa::path(
    get, path = "/v1/connections/{id}", tag = "connections",
    params(("id" = Uuid, Path, description = "The connection")),
    responses((status = 200, description = "The connection", body = ConnectionOut), Admin),
    security(("api_key" = []))
)]
pub(crate) async fn get_connection(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ConnectionOut>, ApiError> {
    let c = state.connections.get_connection(caller.org, ConnectionId::from_uuid(id)).await?;
    Ok(Json(ConnectionOut::from(&c)))
}

/// Disconnects a connection: it stays listed as `disconnected`, its webhooks are refused and its
/// reconciliation stops. Contacts synced from it stay.
#[utoipa::path(
    delete, path = "/v1/connections/{id}", tag = "connections",
    params(("id" = Uuid, Path, description = "The connection")),
    responses((status = 200, description = "Disconnected", body = ConnectionOut), AdminWrite),
    security(("api_key" = []))
)]
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ConnectionOut>, ApiError> {
    let id = ConnectionId::from_uuid(id);
    state.connections.get_connection(caller.org, id).await?;
    state.connections.set_connection_status(caller.org, id, ConnectionStatus::Disconnected).await?;
    TwoWay::on_disconnected(&*state.jobs, caller.org, id).await?;
    let c = state.connections.get_connection(caller.org, id).await?;
    audit(&state, &caller, &c, "disconnect").await;
    tracing::info!(connection = %id, "disconnected");
    Ok(Json(ConnectionOut::from(&c)))
}
