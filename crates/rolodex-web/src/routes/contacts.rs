//! `/v1/contacts`: create, read, replace (with `If-Match` for optimistic concurrency), soft delete,
//! search by email / phone / name, and the contact's timeline. Any API key of the organisation may
//! use them; writes go through `ContactService`, which pushes them to two-way connections through
//! the outbox and records them in the audit log.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rolodex_app::remote::ContactError;
use rolodex_domain::ports::storage::ContactQuery;
use rolodex_domain::{Contact, ContactId, ContactStatus, EmailAddress, PhoneE164};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Caller;
use crate::doc::{Authed, AuthedWrite};
use crate::dto::{ActivityOut, AuditOut, ContactInput, ContactOut, ContactPage, LinkOut, TimelineOut};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::params;
use crate::state::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_contact, search_contacts))
        .routes(routes!(get_contact, update_contact, delete_contact))
        .routes(routes!(contact_timeline))
}

impl From<ContactError> for ApiError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::NotFound(id) => {
                ApiError::not_found(format!("contact `{id}` does not exist in this organisation"))
            }
            ContactError::Conflict { id, current_version } => ApiError::version_conflict(
                format!(
                    "contact `{id}` was changed by someone else: read it again and retry with If-Match: \"{current_version}\""
                ),
                current_version,
            ),
            e @ ContactError::Duplicate { .. } => ApiError::conflict(e.to_string()),
            ContactError::Invalid(message) => ApiError::unprocessable(message),
            e @ ContactError::Unexpected(_) => ApiError::internal(&e),
        }
    }
}

fn with_etag(status: StatusCode, contact: &Contact) -> Response {
    let mut response = (status, Json(ContactOut::from(contact))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", contact.version)) {
        response.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&format!("/v1/contacts/{}", contact.id))
    {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Creates a contact.
#[utoipa::path(
    post, path = "/v1/contacts", tag = "contacts",
    request_body = ContactInput,
    responses(
        (status = 201, description = "Created; `ETag` holds its version", body = ContactOut),
        AuthedWrite
    ),
    security(("api_key" = []))
)]
pub(crate) async fn create_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<Response, ApiError> {
    let fields = input.into_fields(state.region)?;
    let contact = state.contacts.create(caller.org, &caller.actor(), fields).await?;
    Ok(with_etag(StatusCode::CREATED, &contact))
}

/// Search parameters; every given criterion must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// Has this email (Gmail dots and `+tags` ignored).
    email: Option<String>,
    /// Has this phone number (E.164, or national in the server's default region).
    phone: Option<String>,
    /// Name, company or display name contains this text (case-insensitive).
    name: Option<String>,
    /// `active`, `inactive` or `deleted` (default: every status but deleted).
    status: Option<String>,
    /// Page: contacts with an id greater than this.
    #[param(value_type = Option<Uuid>)]
    after: Option<String>,
    /// Page size, 1-1000 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

fn parse_status(s: &str) -> Result<ContactStatus, String> {
    match s {
        "active" => Ok(ContactStatus::Active),
        "inactive" => Ok(ContactStatus::Inactive),
        "deleted" => Ok(ContactStatus::Deleted),
        other => Err(format!("`{other}` is not a status (expected active, inactive or deleted)")),
    }
}

/// Searches contacts by email, phone or name (or lists them), ordered by id.
#[utoipa::path(
    get, path = "/v1/contacts", tag = "contacts",
    params(SearchParams),
    responses((status = 200, description = "A page of contacts", body = ContactPage), Authed),
    security(("api_key" = []))
)]
pub(crate) async fn search_contacts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<ContactPage>, ApiError> {
    let region = state.region;
    let query = ContactQuery {
        email: params::with("email", p.email.as_deref(), |s| EmailAddress::parse(s).map_err(|e| e.to_string()))?,
        phone: params::with("phone", p.phone.as_deref(), |s| PhoneE164::parse(s, region).map_err(|e| e.to_string()))?,
        name: p.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
        status: params::with("status", p.status.as_deref(), parse_status)?,
        after: params::uuid("after", p.after.as_deref())?.map(ContactId::from_uuid),
        limit: params::limit("limit", p.limit.as_deref(), 50)?,
    };
    let found = state.contacts.search(caller.org, &query).await?;
    let next_after = if found.len() as u32 == query.limit { found.last().map(|c| c.id.as_uuid()) } else { None };
    Ok(Json(ContactPage { items: found.iter().map(ContactOut::from).collect(), next_after }))
}

/// Reads a contact.
#[utoipa::path(
    get, path = "/v1/contacts/{id}", tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact")),
    responses((status = 200, description = "The contact; `ETag` holds its version", body = ContactOut), Authed),
    security(("api_key" = []))
)]
pub(crate) async fn get_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let contact = state.contacts.get(caller.org, ContactId::from_uuid(id)).await?;
    Ok(with_etag(StatusCode::OK, &contact))
}

/// Replaces a contact's fields. Send `If-Match` with the version you read to refuse the write when
/// someone changed it meanwhile (409 with `current_version`).
#[utoipa::path(
    put, path = "/v1/contacts/{id}", tag = "contacts",
    params(
        ("id" = Uuid, Path, description = "The contact"),
        ("If-Match" = Option<String>, Header, description = "The version you read (its ETag)")
    ),
    request_body = ContactInput,
    responses((status = 200, description = "The updated contact", body = ContactOut), AuthedWrite),
    security(("api_key" = []))
)]
pub(crate) async fn update_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<Response, ApiError> {
    let expected = params::if_match(&headers)?;
    let fields = input.into_fields(state.region)?;
    let contact =
        state.contacts.update(caller.org, &caller.actor(), ContactId::from_uuid(id), expected, fields).await?;
    Ok(with_etag(StatusCode::OK, &contact))
}

/// Deletes a contact (soft: it stays, with status `deleted`, in its history; providers are not
/// told).
#[utoipa::path(
    delete, path = "/v1/contacts/{id}", tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact")),
    responses((status = 200, description = "The contact, now `deleted`", body = ContactOut), AuthedWrite),
    security(("api_key" = []))
)]
pub(crate) async fn delete_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let contact = state.contacts.delete(caller.org, &caller.actor(), ContactId::from_uuid(id)).await?;
    Ok(with_etag(StatusCode::OK, &contact))
}

/// Timeline parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TimelineParams {
    /// Entries of each kind, 1-1000 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

/// A contact's timeline: activities, changes (audit) and provider links, newest first.
#[utoipa::path(
    get, path = "/v1/contacts/{id}/timeline", tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact"), TimelineParams),
    responses((status = 200, description = "The timeline", body = TimelineOut), Authed),
    security(("api_key" = []))
)]
pub(crate) async fn contact_timeline(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(p): ApiQuery<TimelineParams>,
) -> Result<Json<TimelineOut>, ApiError> {
    let limit = params::limit("limit", p.limit.as_deref(), 50)?;
    let id = ContactId::from_uuid(id);
    let contact = state.contacts.get(caller.org, id).await?;
    let t = state.contacts.timeline(caller.org, id, limit).await?;
    Ok(Json(TimelineOut {
        contact: ContactOut::from(&contact),
        activities: t.activities.iter().map(ActivityOut::from).collect(),
        changes: t.changes.iter().map(AuditOut::from).collect(),
        links: t.links.iter().map(LinkOut::from).collect(),
    }))
}
