//! The OpenAPI document: the base ([`ApiDoc`]: info, the bearer security scheme, the problem
//! schemas) and the error responses every route documents, as `IntoResponses` types
//! ([`Public`], [`Authed`], [`Admin`], with `...Write` variants for routes that take a body). Each
//! handler's `#[utoipa::path]` lists its success responses and one of these; the routes themselves
//! add their paths when the router is built, so the document cannot miss a route.

use std::collections::BTreeMap;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::error::{FieldProblem, PROBLEM_JSON, Problem};

/// The base document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rolodex API",
        description = "Contacts, provider connections, reviewed sync runs, GoHighLevel webhooks and the `sync_contacts` AI tool. \
Authenticate with `Authorization: Bearer <API key>`. Errors are `application/problem+json` (RFC 9457); a 422 lists every \
invalid field in `errors`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(Problem, FieldProblem)),
    modifiers(&BearerAuth),
    tags(
        (name = "contacts", description = "Contacts of the organisation"),
        (name = "connections", description = "Provider accounts (needs `manage_integrations`)"),
        (name = "sync", description = "Sync runs, review and execution (needs `manage_integrations`)"),
        (name = "audit", description = "Who changed what"),
        (name = "tools", description = "Function definitions for AI assistants"),
        (name = "webhooks", description = "Provider webhooks, authenticated by signature"),
        (name = "operations", description = "Health, readiness, this document")
    )
)]
pub struct ApiDoc;

/// Adds the `api_key` bearer scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An organisation's API key"))
                    .build(),
            ),
        );
    }
}

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
            .build(),
    )
}

fn responses(list: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter().map(|(status, description)| ((*status).to_owned(), problem(description))).collect()
}

const INTERNAL: (&str, &str) = ("500", "Unexpected failure (logged); retry later");
const UNAUTHORIZED: (&str, &str) = ("401", "Missing, unknown or revoked API key");
const FORBIDDEN: (&str, &str) = ("403", "The key lacks `manage_integrations`");
const NOT_FOUND: (&str, &str) = ("404", "Not found in this organisation (other organisations' data is never visible)");
const BAD_REQUEST: (&str, &str) = ("400", "The body is not valid JSON");
const CONFLICT: (&str, &str) = ("409", "Conflict: a version moved on, a duplicate, a finished run");
const TOO_LARGE: (&str, &str) = ("413", "The body is larger than the configured limit");
const MEDIA: (&str, &str) = ("415", "The body is not JSON");
const INVALID: (&str, &str) = ("422", "Invalid input; `errors` names each field and why");
const BAD_GATEWAY: (&str, &str) = ("502", "The provider failed");

/// Errors of unauthenticated operational routes.
pub struct Public;
impl IntoResponses for Public {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[INTERNAL])
    }
}

/// Errors of a route reading with any API key.
pub struct Authed;
impl IntoResponses for Authed {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[UNAUTHORIZED, NOT_FOUND, INVALID, INTERNAL])
    }
}

/// Errors of a route writing with any API key.
pub struct AuthedWrite;
impl IntoResponses for AuthedWrite {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, CONFLICT, TOO_LARGE, MEDIA, INVALID, INTERNAL])
    }
}

/// Errors of a route reading with `manage_integrations`.
pub struct Admin;
impl IntoResponses for Admin {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[UNAUTHORIZED, FORBIDDEN, NOT_FOUND, INVALID, INTERNAL])
    }
}

/// Errors of a route writing with `manage_integrations`.
pub struct AdminWrite;
impl IntoResponses for AdminWrite {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            BAD_REQUEST,
            UNAUTHORIZED,
            FORBIDDEN,
            NOT_FOUND,
            CONFLICT,
            TOO_LARGE,
            MEDIA,
            INVALID,
            INTERNAL,
            BAD_GATEWAY,
        ])
    }
}

/// Errors of the webhook route.
pub struct WebhookErrors;
impl IntoResponses for WebhookErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            ("400", "The body is not a well-formed GoHighLevel contact event (the field is named)"),
            ("401", "Missing or bad signature, or a stale timestamp: nothing was stored"),
            ("404", "No active connection for the delivery's location"),
            TOO_LARGE,
            INTERNAL,
        ])
    }
}

/// Errors of `/readyz`.
pub struct NotReady;
impl IntoResponses for NotReady {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[("503", "Not ready: the failing check is named"), INTERNAL])
    }
}
