//! `POST /v1/webhooks/ghl`: GoHighLevel contact webhooks. Authenticated by signature, never by API
//! key, in this order: the signature is verified over the raw body before anything else (401 and
//! nothing stored when it is missing or bad); the body is parsed (400 naming the field); a stale
//! `timestamp` is refused (401); then the delivery is stored once per webhook id with its apply
//! job (`WebhookIntake::ingest`) and acknowledged with 200 at once: the worker applies it. A
//! duplicate delivery is a 200 no-op; an event type we do not handle is a 200 `ignored`; a location
//! no active connection has is a 404 naming it.

use axum::Json;
use axum::extract::{Request, State};
use rolodex_app::remote::IngestError;
use rolodex_ghl::{WebhookError, parse_webhook};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::doc::WebhookErrors;
use crate::error::ApiError;
use crate::extract::read_body;
use crate::state::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ghl_webhook))
}

/// The acknowledgement of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WebhookAck {
    /// `accepted` (stored, the worker applies it), `duplicate` (seen before: nothing done) or
    /// `ignored` (an event type Rolodex does not handle).
    pub status: String,
    /// The event type.
    pub event: Option<String>,
    /// The delivery id (`webhookId`, or a hash of the body).
    pub delivery_id: Option<String>,
    /// The stored receipts (one per connection of the location).
    pub receipts: Vec<Uuid>,
}

/// Receives a GoHighLevel webhook (signed with `x-ghl-signature` (Ed25519) or the legacy
/// `x-wh-signature` (RSA-SHA256)).
#[utoipa::path(
    post, path = "/v1/webhooks/ghl", tag = "webhooks",
    request_body(content = Object, description = "The delivery, as GoHighLevel sends it", content_type = "application/json"),
    params(
        ("x-ghl-signature" = Option<String>, Header, description = "Base64 Ed25519 signature of the raw body"),
        ("x-wh-signature" = Option<String>, Header, description = "Legacy base64 RSA-SHA256 signature of the raw body")
    ),
    responses((status = 200, description = "Acknowledged", body = WebhookAck), WebhookErrors)
)]
pub(crate) async fn ghl_webhook(State(state): State<AppState>, req: Request) -> Result<Json<WebhookAck>, ApiError> {
    let headers = req.headers().clone();
    let body = read_body(req, &state, state.limits.webhook).await?;
    let settings = &state.webhooks;
    let scheme = settings
        .verifier
        .verify(|name| headers.get(name).and_then(|v| v.to_str().ok()), &body)
        .map_err(|e| ApiError::bad_signature(format!("{e}: the delivery was not stored")))?;
    let hook = match parse_webhook(&body, settings.region) {
        Ok(h) => h,
        Err(WebhookError::UnknownEvent(kind)) => {
            tracing::info!(event = %kind, "webhook event type not handled; ignored");
            return Ok(Json(WebhookAck {
                status: "ignored".into(),
                event: Some(kind),
                delivery_id: None,
                receipts: vec![],
            }));
        }
        Err(e @ WebhookError::Malformed { .. }) => return Err(ApiError::bad_request(e.to_string())),
        Err(e) => return Err(ApiError::bad_signature(e.to_string())),
    };
    let max_skew = time::Duration::try_from(settings.max_skew).unwrap_or(time::Duration::minutes(5));
    hook.ensure_fresh(state.clock.now(), max_skew)
        .map_err(|e| ApiError::bad_signature(format!("{e}: the delivery was not stored")))?;
    let raw: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let event_type = hook.event_type.clone();
    let delivery_id = hook.event.delivery_id.clone();
    let outcome = match state.intake.ingest("ghl", hook.event, raw).await {
        Ok(o) => o,
        Err(IngestError::UnknownAccount { account, .. }) => {
            return Err(ApiError::not_found(format!(
                "no active GoHighLevel connection for location `{account}`: connect it with POST /v1/connections first"
            )));
        }
        Err(e) => return Err(ApiError::internal(&e)),
    };
    let duplicate = !outcome.deliveries.is_empty() && outcome.deliveries.iter().all(|d| d.duplicate);
    tracing::info!(event = %event_type, delivery = %delivery_id, ?scheme, duplicate, "webhook received");
    Ok(Json(WebhookAck {
        status: if duplicate { "duplicate" } else { "accepted" }.to_owned(),
        event: Some(event_type),
        delivery_id: Some(delivery_id),
        receipts: outcome.deliveries.iter().map(|d| d.receipt.as_uuid()).collect(),
    }))
}
