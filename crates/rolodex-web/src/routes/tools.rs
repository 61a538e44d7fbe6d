//! The AI tool surface: `GET /v1/tools` returns the `sync_contacts` function definition (the JSON
//! Schema of seed 000, with the providers and two optional arguments Rolodex adds), and
//! `POST /v1/tools/sync_contacts` runs it with the arguments an assistant produced.
//!
//! Arguments: `provider` (`microsoft`/`graph`, `google`, `ghl`/`gohighlevel`), `mode` (`preview`
//! or `execute`), `filters.updatedSince`, `filters.categories`, `filters.maxContacts` (default
//! 100), `targetOrganization` (must be the key's own organisation: contacts are always synced into
//! it), plus `connectionId` (which connection, when the organisation has several of the provider)
//! and `runId` (with `execute`: execute that reviewed preview instead of a new one).
//!
//! `preview` stores a run and returns its summary and the link to its items. `execute` applies
//! only approved or high-confidence items: the high-confidence creates and updates are approved,
//! everything else stays pending for a person. Invalid arguments are a 422 naming the argument.

use axum::Json;
use axum::extract::State;
use rolodex_app::sync::{AutoApprove, FetchMode, PreviewRequest, SyncFilters};
use rolodex_domain::ports::storage::{ConnectionStatus, SyncKind};
use rolodex_domain::{ConnectionId, SyncRunId};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::connections::canonical_provider;
use super::runs::{execute, parse_since, preview};
use crate::auth::{Caller, Integrations};
use crate::doc::{AdminWrite, Public};
use crate::dto::{ExecuteOut, PreviewOut};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tools)).routes(routes!(sync_contacts))
}

/// The default of `filters.maxContacts`.
pub const DEFAULT_MAX_CONTACTS: u32 = 100;

/// The `sync_contacts` function definition (OpenAI tool format).
#[must_use]
pub fn sync_contacts_definition() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": "sync_contacts",
            "description": "Sync contacts from Microsoft 365, Google or GoHighLevel to the CRM. Rolodex matches each \
    contact against the CRM (fuzzy name, email and phone matching with explained confidence) and proposes to create, update, \
    merge or skip it. `preview` shows what would sync and returns a link to review each contact; `execute` applies only \
    approved or high-confidence changes and leaves the rest for review.",
            "parameters": {
                "type": "object",
                "properties": {
                    "provider": {
                        "type": "string",
                        "enum": ["microsoft", "google", "ghl", "graph", "gohighlevel"],
                        "description": "Contact provider to sync from (`microsoft` = `graph`, `ghl` = `gohighlevel`)"
                    },
                    "mode": {
                        "type": "string",
                        "enum": ["preview", "execute"],
                        "description": "preview = show what would sync, execute = actually sync (approved or high-confidence changes only)"
                    },
                    "filters": {
                        "type": "object",
                        "properties": {
                            "updatedSince": {
                                "type": "string",
                                "description": "ISO date - only sync contacts updated after this date"
                            },
                            "categories": {
                                "type": "array",
                                "items": { "type": "string" },
                                "description": "Specific categories/groups to sync"
                            },
                            "maxContacts": {
                                "type": "number",
                                "description": "Limit number of contacts (default: 100)"
                            }
                        },
                        "additionalProperties": false
                    },
                    "targetOrganization": {
                        "type": "string",
                        "description": "CRM organization ID to link contacts to (optional; must be the caller's own organization)"
                    },
                    "connectionId": {
                        "type": "string",
                        "description": "Which connection of the provider to read, when the organization has several (optional)"
                    },
                    "runId": {
                        "type": "string",
                        "description": "With mode=execute: the reviewed preview run to execute (optional; default: a new preview)"
                    }
                },
                "required": ["provider", "mode"],
                "additionalProperties": false
            }
        }
    })
}

/// The tools an assistant may call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolList {
    /// Function definitions (OpenAI tool format, JSON Schema parameters).
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<Value>,
}

/// The function definitions of the AI tools.
#[utoipa::path(
    get, path = "/v1/tools", tag = "tools",
    responses((status = 200, description = "The tool definitions", body = ToolList), Public)
)]
pub(crate) async fn list_tools() -> Json<ToolList> {
    Json(ToolList { tools: vec![sync_contacts_definition()] })
}

/// What a `sync_contacts` call did.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ToolResult {
    /// `preview` or `execute`.
    pub mode: String,
    /// The connection read.
    pub connection_id: Uuid,
    /// The run.
    pub run_id: Uuid,
    /// One sentence for the assistant to relay.
    pub summary: String,
    /// The preview (absent when executing an existing run).
    pub preview: Option<PreviewOut>,
    /// The execution (mode `execute`).
    pub execute: Option<ExecuteOut>,
    /// Items still waiting for a person.
    pub pending_review: u64,
    /// Where to review the run's items.
    pub items_url: String,
}

/// Checked arguments.
struct Args {
    provider: &'static str,
    execute: bool,
    filters: SyncFilters,
    connection: Option<ConnectionId>,
    run: Option<SyncRunId>,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_field(field, message)
}

fn string<'a>(args: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(invalid(name, format!("must be a string, not {}", kind(other)))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const ARGUMENTS: [&str; 6] = ["provider", "mode", "filters", "targetOrganization", "connectionId", "runId"];
const FILTERS: [&str; 3] = ["updatedSince", "categories", "maxContacts"];

fn parse_args(caller: &Caller, body: &Value) -> Result<Args, ApiError> {
    let Value::Object(args) = body else {
        return Err(invalid("arguments", format!("must be a JSON object, not {}", kind(body))));
    };
    if let Some(unknown) = args.keys().find(|k| !ARGUMENTS.contains(&k.as_str())) {
        return Err(invalid(
            unknown,
            format!("is not an argument of sync_contacts (expected {})", ARGUMENTS.join(", ")),
        ));
    }
    let provider = string(args, "provider")?
        .ok_or_else(|| invalid("provider", "is required: microsoft, google or ghl"))
        .and_then(|p| {
            canonical_provider(p).ok_or_else(|| {
                invalid(
                    "provider",
                    format!("`{p}` is not a provider (expected microsoft, graph, google, ghl or gohighlevel)"),
                )
            })
        })?;
    let execute = match string(args, "mode")? {
        None => return Err(invalid("mode", "is required: preview or execute")),
        Some("preview") => false,
        Some("execute") => true,
        Some(other) => return Err(invalid("mode", format!("`{other}` is not a mode (expected preview or execute)"))),
    };
    let mut filters = SyncFilters { max_contacts: Some(DEFAULT_MAX_CONTACTS), ..SyncFilters::default() };
    match args.get("filters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(f)) => {
            if let Some(unknown) = f.keys().find(|k| !FILTERS.contains(&k.as_str())) {
                return Err(invalid(
                    &format!("filters.{unknown}"),
                    format!("is not a filter (expected {})", FILTERS.join(", ")),
                ));
            }
            match f.get("updatedSince") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => {
                    filters.updated_since = Some(parse_since(s).map_err(|m| invalid("filters.updatedSince", m))?);
                }
                Some(other) => {
                    return Err(invalid(
                        "filters.updatedSince",
                        format!("must be an ISO date string, not {}", kind(other)),
                    ));
                }
            }
            match f.get("categories") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        match item {
                            Value::String(s) if !s.trim().is_empty() => filters.categories.push(s.trim().to_owned()),
                            Value::String(_) => {
                                return Err(invalid(&format!("filters.categories[{i}]"), "must not be empty"));
                            }
                            other => {
                                return Err(invalid(
                                    &format!("filters.categories[{i}]"),
                                    format!("must be a string, not {}", kind(other)),
                                ));
                            }
                        }
                    }
                }
                Some(other) => {
                    return Err(invalid(
                        "filters.categories",
                        format!("must be an array of strings, not {}", kind(other)),
                    ));
                }
            }
            match f.get("maxContacts") {
                None | Some(Value::Null) => {}
                Some(Value::Number(n)) => {
                    let whole =
                        n.as_u64().or_else(|| n.as_f64().filter(|x| x.fract() == 0.0 && *x >= 0.0).map(|x| x as u64));
                    match whole {
                        Some(m) if (1..=10_000).contains(&m) => filters.max_contacts = u32::try_from(m).ok(),
                        _ => {
                            return Err(invalid(
                                "filters.maxContacts",
                                format!("{n} is not a whole number from 1 to 10000"),
                            ));
                        }
                    }
                }
                Some(other) => {
                    return Err(invalid("filters.maxContacts", format!("must be a number, not {}", kind(other))));
                }
            }
        }
        Some(other) => return Err(invalid("filters", format!("must be an object, not {}", kind(other)))),
    }
    if let Some(target) = string(args, "targetOrganization")?.map(str::trim).filter(|t| !t.is_empty())
        && target != caller.org.to_string()
    {
        return Err(invalid(
            "targetOrganization",
            format!(
                "`{target}` is not this API key's organisation ({}): contacts are synced into the key's organisation",
                caller.org
            ),
        ));
    }
    let connection = match string(args, "connectionId")? {
        None => None,
        Some(s) => Some(ConnectionId::parse(s).map_err(|e| invalid("connectionId", e.to_string()))?),
    };
    let run = match string(args, "runId")? {
        None => None,
        Some(_) if !execute => return Err(invalid("runId", "is only used with mode=execute")),
        Some(s) => Some(SyncRunId::parse(s).map_err(|e| invalid("runId", e.to_string()))?),
    };
    Ok(Args { provider, execute, filters, connection, run })
}

/// The connection the call reads.
async fn pick_connection(state: &AppState, caller: &Caller, args: &Args) -> Result<ConnectionId, ApiError> {
    let all = state.connections.list_connections(caller.org, Some(args.provider)).await?;
    if let Some(id) = args.connection {
        return match all.iter().find(|c| c.id == id) {
            Some(c) if c.status == ConnectionStatus::Active => Ok(c.id),
            Some(c) => {
                Err(invalid("connectionId", format!("connection `{id}` is {}: connect it again", c.status.as_str())))
            }
            None => {
                Err(invalid("connectionId", format!("this organisation has no {} connection `{id}`", args.provider)))
            }
        };
    }
    let active: Vec<_> = all.iter().filter(|c| c.status == ConnectionStatus::Active).collect();
    match active.as_slice() {
        [one] => Ok(one.id),
        [] => Err(invalid(
            "provider",
            format!(
                "this organisation has no active {} connection: connect one with POST /v1/connections",
                args.provider
            ),
        )),
        several => Err(invalid(
            "connectionId",
            format!(
                "this organisation has {} active {} connections; say which: {}",
                several.len(),
                args.provider,
                several.iter().map(|c| format!("{} ({})", c.id, c.account)).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// Runs `sync_contacts` with an assistant's arguments.
#[utoipa::path(
    post, path = "/v1/tools/sync_contacts", tag = "tools",
    request_body(content = Object, description = "The tool call's arguments, as in the definition"),
    responses((status = 200, description = "What the call did", body = ToolResult), AdminWrite),
    security(("api_key" = []))
)]
pub(crate) async fn sync_contacts(
    State(state): State<AppState>,
    Integrations(caller): Integrations,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<ToolResult>, ApiError> {
    let args = parse_args(&caller, &body)?;
    let connection = match args.run {
        Some(run) => {
            let r = state.runs.get_run(caller.org, run).await?;
            r.connection_id.ok_or_else(|| invalid("runId", format!("run `{run}` did not read a connection")))?
        }
        None => pick_connection(&state, &caller, &args).await?,
    };
    let (preview_out, run) = match args.run {
        Some(run) => {
            state.sync.approve_high_confidence(caller.org, run).await?;
            (None, run)
        }
        None => {
            let request = PreviewRequest {
                connection_id: Some(connection),
                mode: FetchMode::Incremental,
                filters: args.filters,
                user_id: caller.user,
                kind: Some(SyncKind::Manual),
                auto_approve: if args.execute { AutoApprove::HighConfidence } else { AutoApprove::Never },
                guard_empty_source: true,
            };
            let report = preview(&state, caller.org, connection, request).await?;
            (Some(PreviewOut::from(&report)), report.run_id)
        }
    };
    let execute_out = if args.execute {
        let report = execute(&state, caller.org, run, caller.actor()).await?;
        Some(ExecuteOut::of(run.as_uuid(), &report))
    } else {
        None
    };
    let progress = state.sync.progress(caller.org, run).await?;
    let items_url = format!("/v1/sync-runs/{run}/items");
    let summary = match (&preview_out, &execute_out) {
        (_, Some(e)) => format!(
            "Created {} and updated {} contacts ({} merged), deleted {}, skipped {}, {} failed; {} wait for review at {items_url}.",
            e.created, e.updated, e.merged, e.deleted, e.skipped, e.failed, progress.pending_review
        ),
        (Some(p), None) => format!(
            "Fetched {} contacts: {} to create, {} to update, {} to merge, {} to skip, {} need a decision, {} unchanged. Review them at {items_url}.",
            p.counts.fetched,
            p.counts.create,
            p.counts.update,
            p.counts.merge,
            p.counts.skip,
            p.counts.review,
            p.counts.unchanged
        ),
        (None, None) => format!("Run {run}: review it at {items_url}."),
    };
    Ok(Json(ToolResult {
        mode: if args.execute { "execute" } else { "preview" }.to_owned(),
        connection_id: connection.as_uuid(),
        run_id: run.as_uuid(),
        summary,
        preview: preview_out,
        execute: execute_out,
        pending_review: progress.pending_review,
        items_url,
    }))
}
