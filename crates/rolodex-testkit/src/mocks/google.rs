//! A stateful mock of the Google People API (contacts) and Google's OAuth token endpoint, on
//! 127.0.0.1 port 0, behaving as `shared/design/provider-apis.md` section 2 says:
//! - `GET /v1/people/me/connections`: `personFields` required (400 otherwise), `pageSize` 1-1000
//!   (default 100; above the cap 400), `pageToken` pages whose other parameters must match,
//!   `requestSyncToken=true` puts `nextSyncToken` on the last page, `syncToken` lists changes
//!   since the token with deleted persons as `metadata.deleted: true`; no changes means no
//!   `connections` key; expired tokens answer 400 `FAILED_PRECONDITION` with reason
//!   `EXPIRED_SYNC_TOKEN` and the sheet's exact message;
//! - `GET /v1/people/{id}`, `POST /v1/people:createContact` (200),
//!   `PATCH /v1/people/{id}:updateContact?updatePersonFields=` (fields listed are replaced whole;
//!   `metadata.sources` with the current etag required, stale etag 400 `FAILED_PRECONDITION`
//!   `failedPrecondition`), `DELETE /v1/people/{id}:deleteContact` (`{}`); 404 `NOT_FOUND`;
//!   etags bump on every write;
//! - contact groups (not in the fact sheet; shapes from the public People API reference):
//!   `GET /v1/contactGroups` (`pageSize` 1-1000, default 30; `pageToken`; `contactGroups[]` with
//!   `resourceName`, `etag`, `groupType` `SYSTEM_CONTACT_GROUP` | `USER_CONTACT_GROUP`, `name`,
//!   `formattedName`, `memberCount`; `nextPageToken`; `totalItems`) with the system groups
//!   `myContacts`, `starred`, `friends`, `family`, `coworkers` present from the start;
//!   `POST /v1/contactGroups` with `{"contactGroup":{"name"}}` (200 and the group; an empty name
//!   400; a name in use 409 `ALREADY_EXISTS`); person `memberships` must name existing groups
//!   (400 otherwise), are stored with both `contactGroupId` and `contactGroupResourceName`, and
//!   a created person without any is put in `myContacts`;
//! - bearer tokens checked: 401 `UNAUTHENTICATED`;
//! - `POST /token`: the refresh-token grant; like Google it does not rotate the refresh token
//!   (unless [`GoogleMock::rotate_refresh_tokens`]); an unknown one gets 400 `invalid_grant`
//!   "Token has been expired or revoked.";
//! - injected failures ([`InjectedFailure`]): 429 `RESOURCE_EXHAUSTED` with `Retry-After`, an
//!   expired access token, a revoked refresh token.
//!
//! It implements [`MockControl`] for the contract suites.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rolodex_domain::{ContactFields, PhoneKind};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use super::common::{Account, Admission, Counters, Query, form, lock, serve};
use crate::provider_contract::{Field, InjectedFailure, MockCapabilities, MockControl};

/// The People API's largest `pageSize`.
pub const MAX_PAGE_SIZE: usize = 1000;
/// The page size when the client asks for none (or 0).
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The `contactGroups` page size when the client asks for none (or 0).
pub const DEFAULT_GROUP_PAGE_SIZE: usize = 30;
/// The system groups every account has (id, `formattedName`).
pub const SYSTEM_GROUPS: [(&str, &str); 5] = [
    ("myContacts", "My Contacts"),
    ("starred", "Starred"),
    ("friends", "Friends"),
    ("family", "Family"),
    ("coworkers", "Coworkers"),
];
/// The message of an expired sync token, exactly as captured.
pub const EXPIRED_SYNC_TOKEN_MESSAGE: &str =
    "Sync token is expired. Clear local cache and retry call without the sync token.";

#[derive(Debug, Clone)]
struct Stored {
    json: Value,
    seq: u64,
    deleted: bool,
}

#[derive(Debug)]
struct State {
    persons: BTreeMap<String, Stored>,
    seq: u64,
    next_id: u64,
    min_valid: u64,
    account: Account,
    rotate: bool,
    max_page_size: usize,
    /// Contact groups by id (`myContacts`, `3a1f01`, ...).
    groups: BTreeMap<String, Value>,
    next_group: u64,
}

/// The mock server. Dropping it stops the server.
#[derive(Debug)]
pub struct GoogleMock {
    server: MockServer,
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
}

struct Responder {
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
}

/// A Google API error body: `{"error":{"code","message","status"[,"details"]}}`.
#[must_use]
pub fn google_error(code: u16, status: &str, message: &str, details: Option<Value>) -> ResponseTemplate {
    let mut error = json!({ "code": code, "message": message, "status": status });
    if let Some(d) = details {
        error["details"] = d;
    }
    ResponseTemplate::new(code).set_body_json(json!({ "error": error }))
}

fn expired_sync_token() -> ResponseTemplate {
    google_error(
        400,
        "FAILED_PRECONDITION",
        EXPIRED_SYNC_TOKEN_MESSAGE,
        Some(
            json!([{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"EXPIRED_SYNC_TOKEN","domain":"people.googleapis.com"}]),
        ),
    )
}

fn not_found() -> ResponseTemplate {
    google_error(404, "NOT_FOUND", "Requested entity was not found.", None)
}

fn invalid_argument(message: &str) -> ResponseTemplate {
    google_error(400, "INVALID_ARGUMENT", message, None)
}

fn timestamp(seq: u64) -> String {
    let base = OffsetDateTime::from_unix_timestamp(1_735_689_600).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let t = base + time::Duration::milliseconds(i64::try_from(seq).unwrap_or(i64::MAX / 2));
    t.format(&Rfc3339).unwrap_or_default()
}

/// The person fields a write may replace (a subset of `updatePersonFields`' allowed values).
const WRITABLE: [&str; 10] = [
    "names",
    "emailAddresses",
    "phoneNumbers",
    "organizations",
    "addresses",
    "birthdays",
    "biographies",
    "userDefined",
    "memberships",
    "urls",
];

fn group_json(id: &str, name: &str, formatted: &str, system: bool) -> Value {
    json!({
        "resourceName": format!("contactGroups/{id}"),
        "etag": format!("Mq{id}"),
        "metadata": {"updateTime": timestamp(0)},
        "groupType": if system { "SYSTEM_CONTACT_GROUP" } else { "USER_CONTACT_GROUP" },
        "name": name,
        "formattedName": formatted,
    })
}

impl State {
    fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Creates a user group; `None` when the name is taken.
    fn create_group(&mut self, name: &str) -> Option<Value> {
        if self.group_named(name).is_some() {
            return None;
        }
        self.next_group += 1;
        let id = format!("{:x}", 0x3a_1f00_u64 + self.next_group);
        let group = group_json(&id, name, name, false);
        self.groups.insert(id, group.clone());
        Some(group)
    }

    /// The id of the user group called `name`.
    fn group_named(&self, name: &str) -> Option<String> {
        self.groups
            .iter()
            .find(|(_, g)| {
                g.get("groupType").and_then(Value::as_str) == Some("USER_CONTACT_GROUP")
                    && g.get("name").and_then(Value::as_str) == Some(name)
            })
            .map(|(id, _)| id.clone())
    }

    /// Memberships as stored: both the id and the resource name of an existing group; the id of
    /// the first unknown group otherwise.
    fn normalise_memberships(&self, body: &mut Map<String, Value>) -> Result<(), String> {
        let Some(Value::Array(list)) = body.get("memberships") else { return Ok(()) };
        let mut out = Vec::new();
        for m in list {
            let g = m.get("contactGroupMembership");
            let id = g
                .and_then(|g| g.get("contactGroupResourceName"))
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("contactGroups/"))
                .or_else(|| g.and_then(|g| g.get("contactGroupId")).and_then(Value::as_str))
                .unwrap_or_default();
            if !self.groups.contains_key(id) {
                return Err(id.to_owned());
            }
            out.push(json!({"contactGroupMembership": {
                "contactGroupId": id, "contactGroupResourceName": format!("contactGroups/{id}")
            }}));
        }
        body.insert("memberships".into(), Value::Array(out));
        Ok(())
    }

    /// `ContactFields` as a Person body, creating the groups of its tags.
    fn person_from_fields(&mut self, fields: &ContactFields) -> Map<String, Value> {
        let groups: Vec<String> = fields
            .tags
            .iter()
            .filter_map(|t| {
                self.group_named(t).or_else(|| {
                    self.create_group(t)?
                        .get("resourceName")?
                        .as_str()?
                        .strip_prefix("contactGroups/")
                        .map(str::to_owned)
                })
            })
            .collect();
        fields_to_person(fields, &groups)
    }

    fn insert(&mut self, body: &Map<String, Value>) -> Value {
        self.next_id += 1;
        let id = format!("c{}", 3_385_948_273_645_u64 + self.next_id);
        let seq = self.bump();
        let mut person = Map::new();
        for k in WRITABLE {
            if let Some(v) = body.get(k) {
                person.insert(k.into(), v.clone());
            }
        }
        if person.get("memberships").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            person.insert(
                "memberships".into(),
                json!([{"contactGroupMembership":{"contactGroupId":"myContacts","contactGroupResourceName":"contactGroups/myContacts"}}]),
            );
        }
        person.insert("resourceName".into(), json!(format!("people/{id}")));
        stamp(&mut person, &id, seq);
        let json = Value::Object(person);
        self.persons.insert(id, Stored { json: json.clone(), seq, deleted: false });
        json
    }

    fn replace(&mut self, id: &str, fields: &[&str], body: &Map<String, Value>) -> Option<Value> {
        let seq = self.bump();
        let stored = self.persons.get_mut(id).filter(|s| !s.deleted)?;
        if let Value::Object(obj) = &mut stored.json {
            for f in fields {
                match body.get(*f) {
                    Some(v) => obj.insert((*f).to_owned(), v.clone()),
                    None => obj.remove(*f),
                };
            }
            stamp(obj, id, seq);
        }
        stored.seq = seq;
        Some(stored.json.clone())
    }

    fn delete(&mut self, id: &str) -> bool {
        let seq = self.bump();
        match self.persons.get_mut(id).filter(|s| !s.deleted) {
            Some(stored) => {
                stored.deleted = true;
                stored.seq = seq;
                true
            }
            None => false,
        }
    }

    fn live(&self, id: &str) -> Option<&Stored> {
        self.persons.get(id).filter(|s| !s.deleted)
    }
}

/// Sets the etags, `metadata.sources` and the derived `displayName` for write number `seq`.
fn stamp(obj: &mut Map<String, Value>, id: &str, seq: u64) {
    obj.insert("etag".into(), json!(format!("%EgcBAgkLLjc9GgQBAgUHIgx{seq:010}")));
    obj.insert(
        "metadata".into(),
        json!({
            "sources": [{"type": "CONTACT", "id": format!("{id:0>16}"), "etag": format!("#rTG{seq:08}="), "updateTime": timestamp(seq)}],
            "objectType": "PERSON"
        }),
    );
    if let Some(Value::Array(names)) = obj.get_mut("names") {
        for name in names.iter_mut().filter_map(Value::as_object_mut) {
            let parts: Vec<&str> =
                ["givenName", "familyName"].iter().filter_map(|k| name.get(*k).and_then(Value::as_str)).collect();
            let display = if parts.is_empty() {
                name.get("unstructuredName").and_then(Value::as_str).unwrap_or_default().to_owned()
            } else {
                parts.join(" ")
            };
            name.insert("displayName".into(), json!(display));
        }
    }
}

fn deleted_person(id: &str, stored: &Stored) -> Value {
    let mut sources = stored.json.pointer("/metadata/sources").cloned().unwrap_or_else(|| json!([]));
    if let Value::Array(list) = &mut sources {
        list.truncate(1);
    }
    json!({
        "resourceName": format!("people/{id}"),
        "etag": stored.json.get("etag").cloned().unwrap_or(Value::Null),
        "metadata": {"sources": sources, "objectType": "PERSON", "deleted": true}
    })
}

/// `ContactFields` as a People API Person body (the mock's own, independent of the adapter's),
/// in `myContacts` and the contact groups with the ids `group_ids`.
#[must_use]
pub fn fields_to_person(fields: &ContactFields, group_ids: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    let mut name = Map::new();
    if let Some(g) = &fields.given_name {
        name.insert("givenName".into(), json!(g));
    }
    if let Some(f) = &fields.family_name {
        name.insert("familyName".into(), json!(f));
    }
    if !name.is_empty() {
        m.insert("names".into(), json!([name]));
    }
    m.insert(
        "emailAddresses".into(),
        Value::Array(fields.emails.iter().map(|e| json!({"value": e.as_str(), "type": "home"})).collect()),
    );
    let kind = |k: PhoneKind| match k {
        PhoneKind::Mobile => "mobile",
        PhoneKind::Work => "work",
        PhoneKind::Home => "home",
        PhoneKind::Other => "other",
    };
    m.insert(
        "phoneNumbers".into(),
        Value::Array(
            fields
                .phones
                .iter()
                .map(|p| json!({"value": p.number.e164(), "canonicalForm": p.number.e164(), "type": kind(p.kind)}))
                .collect(),
        ),
    );
    if fields.company.is_some() || fields.job_title.is_some() {
        m.insert("organizations".into(), json!([{"name": fields.company, "title": fields.job_title}]));
    }
    m.insert(
        "memberships".into(),
        std::iter::once("myContacts")
            .chain(group_ids.iter().map(String::as_str))
            .map(|id| json!({"contactGroupMembership":{"contactGroupId": id, "contactGroupResourceName": format!("contactGroups/{id}")}}))
            .collect(),
    );
    m
}

/// `pageToken`: `{since}.{snapshot}.{size}.{after id}.{personFields}` (`since` 0 = full listing).
fn page_token(since: u64, snapshot: u64, size: usize, after: &str, fields: &str) -> String {
    format!("{since}.{snapshot}.{size}.{after}.{fields}")
}

impl Responder {
    fn api(&self, req: &Request, rest: &str) -> ResponseTemplate {
        self.counters.api();
        let mut st = lock(&self.state);
        match st.account.admit(req) {
            Admission::Admitted => {}
            Admission::Throttled(retry_after_secs) => {
                return google_error(
                        429,
                        "RESOURCE_EXHAUSTED",
                        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'people.googleapis.com'.",
                        Some(json!([{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","domain":"googleapis.com"}])),
                    )
                .insert_header("Retry-After", retry_after_secs.to_string().as_str());
            }
            Admission::Unauthorized => {
                return google_error(
                    401,
                    "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                    None,
                );
            }
        }
        let query = Query::of(req);
        let method = req.method.as_str();
        match (method, rest) {
            ("GET", "/people/me/connections") => connections(&st, &query),
            ("GET", "/contactGroups") => {
                self.counters.lookup();
                list_groups(&st, &query)
            }
            ("POST", "/contactGroups") => {
                let name = serde_json::from_slice::<Value>(&req.body)
                    .ok()
                    .and_then(|b| b.pointer("/contactGroup/name").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_default();
                if name.trim().is_empty() {
                    return invalid_argument("Invalid contact_group.name: must not be empty.");
                }
                match st.create_group(&name) {
                    Some(group) => ResponseTemplate::new(200).set_body_json(group),
                    None => google_error(409, "ALREADY_EXISTS", "Contact group name already exists.", None),
                }
            }
            ("POST", "/people:createContact") => match serde_json::from_slice::<Map<String, Value>>(&req.body) {
                Ok(body) if body.contains_key("resourceName") || body.contains_key("etag") => invalid_argument(
                    "Request person.resourceName and person.etag must not be set when creating a contact.",
                ),
                Ok(body) if singleton_violation(&body).is_some() => invalid_argument(&format!(
                    "Invalid person.{}: only a single entry is allowed for a contact source.",
                    singleton_violation(&body).unwrap_or_default()
                )),
                Ok(mut body) => match st.normalise_memberships(&mut body) {
                    Ok(()) => ResponseTemplate::new(200).set_body_json(st.insert(&body)),
                    Err(id) => unknown_group(&id),
                },
                Err(e) => invalid_argument(&format!("Invalid JSON payload received. {e}")),
            },
            (_, r) if r.starts_with("/people/") => {
                let r = &r["/people/".len()..];
                let (id, verb) = r.split_once(':').map_or((r, ""), |(a, b)| (a, b));
                match (method, verb) {
                    ("GET", "") => match st.live(id) {
                        Some(s) => ResponseTemplate::new(200).set_body_json(s.json.clone()),
                        None => not_found(),
                    },
                    ("DELETE", "deleteContact") => {
                        if st.delete(id) {
                            ResponseTemplate::new(200).set_body_json(json!({}))
                        } else {
                            not_found()
                        }
                    }
                    ("PATCH", "updateContact") => update(&mut st, id, &query, &req.body),
                    _ => google_error(404, "NOT_FOUND", "Method not found.", None),
                }
            }
            _ => google_error(404, "NOT_FOUND", "Method not found.", None),
        }
    }

    fn token(&self, req: &Request) -> ResponseTemplate {
        let form = form(req);
        let oauth_error = |status: u16, error: &str, description: &str| {
            ResponseTemplate::new(status).set_body_json(json!({"error": error, "error_description": description}))
        };
        if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
            return oauth_error(400, "unsupported_grant_type", "Invalid grant_type: ");
        }
        if form.get("client_id").is_none_or(String::is_empty) {
            return oauth_error(400, "invalid_request", "Could not determine client ID from request.");
        }
        if form.get("client_secret").is_none_or(String::is_empty) {
            return oauth_error(401, "invalid_client", "The OAuth client was not found.");
        }
        let mut st = lock(&self.state);
        let rotate: Option<fn(u64) -> String> =
            if st.rotate { Some(|n| format!("1//0g-mock-refresh-{n}")) } else { None };
        let given = form.get("refresh_token").map(String::as_str);
        let Some((access, refresh)) = st.account.refresh(given, |n| format!("ya29.mock-access-{n}"), rotate) else {
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
        };
        self.counters.refresh();
        let mut body = json!({
            "access_token": access,
            "expires_in": 3599,
            "scope": "https://www.googleapis.com/auth/contacts",
            "token_type": "Bearer"
        });
        if let Some(refresh) = refresh {
            body["refresh_token"] = json!(refresh);
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

fn singleton_violation(body: &Map<String, Value>) -> Option<&'static str> {
    ["names", "birthdays", "biographies", "genders"]
        .into_iter()
        .find(|k| body.get(*k).and_then(Value::as_array).is_some_and(|a| a.len() > 1))
}

fn update(st: &mut State, id: &str, q: &Query, body: &[u8]) -> ResponseTemplate {
    let Some(mask) = q.get("updatePersonFields").filter(|m| !m.is_empty()) else {
        return invalid_argument("updatePersonFields mask is required. Please specify one or more valid paths.");
    };
    let fields: Vec<&str> = mask.split(',').map(str::trim).collect();
    if let Some(bad) = fields.iter().find(|f| !WRITABLE.contains(f)) {
        return invalid_argument(&format!("Invalid updatePersonFields mask path: \"{bad}\"."));
    }
    let mut body: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => return invalid_argument(&format!("Invalid JSON payload received. {e}")),
    };
    if let Some(field) = singleton_violation(&body) {
        return invalid_argument(&format!(
            "Invalid person.{field}: only a single entry is allowed for a contact source."
        ));
    }
    let Some(current) = st.live(id).map(|s| s.json.clone()) else { return not_found() };
    let source_etag = body
        .get("metadata")
        .and_then(|m| m.get("sources"))
        .and_then(Value::as_array)
        .and_then(|s| s.iter().find(|s| s.get("type").and_then(Value::as_str) == Some("CONTACT")))
        .and_then(|s| s.get("etag"))
        .and_then(Value::as_str);
    let Some(source_etag) = source_etag else {
        return invalid_argument(
            "Request must set person.etag or person.metadata.sources.etag for the source that is being updated.",
        );
    };
    let current_source_etag = current.pointer("/metadata/sources/0/etag").and_then(Value::as_str);
    let top_etag_ok =
        body.get("etag").and_then(Value::as_str).is_none_or(|e| Some(e) == current.get("etag").and_then(Value::as_str));
    if Some(source_etag) != current_source_etag || !top_etag_ok {
        return ResponseTemplate::new(400).set_body_json(json!({"error": {
            "code": 400,
            "message": "Request person.etag is different than the current person.etag. Clear local cache and get the latest person.",
            "errors": [{"message": "Request person.etag is different than the current person.etag. Clear local cache and get the latest person.", "domain": "global", "reason": "failedPrecondition"}],
            "status": "FAILED_PRECONDITION"
        }}));
    }
    if fields.contains(&"memberships") && body.get("memberships").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        return invalid_argument(
            "Invalid person.memberships: a contact must have at least one contact group membership.",
        );
    }
    if let Err(group) = st.normalise_memberships(&mut body) {
        return unknown_group(&group);
    }
    match st.replace(id, &fields, &body) {
        Some(json) => ResponseTemplate::new(200).set_body_json(json),
        None => not_found(),
    }
}

fn unknown_group(id: &str) -> ResponseTemplate {
    invalid_argument(&format!("Invalid person.memberships: contact group `contactGroups/{id}` not found."))
}

/// `GET contactGroups`: groups in id order; the page token is the last id served.
fn list_groups(st: &State, q: &Query) -> ResponseTemplate {
    let size = match q.get("pageSize").map(str::parse::<usize>) {
        None | Some(Ok(0)) => DEFAULT_GROUP_PAGE_SIZE,
        Some(Ok(n)) if n <= MAX_PAGE_SIZE => n,
        Some(_) => return invalid_argument(&format!("Page size must be between 1 and {MAX_PAGE_SIZE}.")),
    };
    let after = match q.get("pageToken") {
        None | Some("") => String::new(),
        Some(t) => match t.strip_prefix("g.") {
            Some(after) => after.to_owned(),
            None => return invalid_argument("Request contains an invalid argument."),
        },
    };
    let mut rest = st.groups.range::<str, _>((std::ops::Bound::Excluded(after.as_str()), std::ops::Bound::Unbounded));
    let page: Vec<(&String, &Value)> = rest.by_ref().take(size).collect();
    let mut body = json!({ "totalItems": st.groups.len() });
    body["contactGroups"] = page
        .iter()
        .map(|(id, g)| {
            let resource = format!("contactGroups/{id}");
            let members = st
                .persons
                .values()
                .filter(|p| !p.deleted)
                .filter(|p| {
                    p.json.get("memberships").and_then(Value::as_array).is_some_and(|ms| {
                        ms.iter().any(|m| {
                            m.pointer("/contactGroupMembership/contactGroupResourceName").and_then(Value::as_str)
                                == Some(resource.as_str())
                        })
                    })
                })
                .count();
            let mut g = (*g).clone();
            g["memberCount"] = json!(members);
            g
        })
        .collect();
    if rest.next().is_some()
        && let Some((last, _)) = page.last()
    {
        body["nextPageToken"] = json!(format!("g.{last}"));
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn connections(st: &State, q: &Query) -> ResponseTemplate {
    let Some(fields) = q.get("personFields").filter(|f| !f.is_empty()) else {
        return invalid_argument(
            "personFields mask is required. Please specify one or more valid paths. Valid paths are documented at https://developers.google.com/people/api/rest/v1/people.connections/list.",
        );
    };
    let requested = match q.get("pageSize").map(str::parse::<usize>) {
        None => DEFAULT_PAGE_SIZE,
        Some(Ok(0)) => DEFAULT_PAGE_SIZE,
        Some(Ok(n)) if n <= st.max_page_size => n,
        Some(_) => return invalid_argument(&format!("Page size must be between 1 and {}.", st.max_page_size)),
    };
    let request_sync = q.get("requestSyncToken") == Some("true");
    let sync_since = match q.get("syncToken") {
        None => None,
        Some(t) => match t.strip_prefix("st").and_then(|n| n.parse::<u64>().ok()) {
            Some(n) if n >= st.min_valid => Some(n),
            _ => return expired_sync_token(),
        },
    };
    let (since, snapshot, after) = match q.get("pageToken") {
        Some(token) => {
            let parts: Vec<&str> = token.splitn(5, '.').collect();
            let [since, snapshot, _size, after, token_fields] = parts.as_slice() else {
                return invalid_argument("Request contains an invalid argument.");
            };
            let (Ok(since), Ok(snapshot)) = (since.parse::<u64>(), snapshot.parse::<u64>()) else {
                return invalid_argument("Request contains an invalid argument.");
            };
            if *token_fields != fields || since != sync_since.unwrap_or(0) {
                return invalid_argument(
                    "Parameters of a paginated request must match the call that provided the page token.",
                );
            }
            if since > 0 && since < st.min_valid {
                return expired_sync_token();
            }
            (since, snapshot, (*after).to_owned())
        }
        None => (sync_since.unwrap_or(0), st.seq, String::new()),
    };
    let incremental = sync_since.is_some();
    let mut matching =
        st.persons.range::<str, _>((std::ops::Bound::Excluded(after.as_str()), std::ops::Bound::Unbounded)).filter(
            |(_, s)| if incremental { s.seq > since && s.seq <= snapshot } else { !s.deleted && s.seq <= snapshot },
        );
    let page: Vec<(&String, &Stored)> = matching.by_ref().take(requested).collect();
    let more = matching.next().is_some();
    let total = st.persons.values().filter(|s| !s.deleted).count();
    let mut body = json!({ "totalPeople": total, "totalItems": total });
    if !page.is_empty() {
        body["connections"] = Value::Array(
            page.iter().map(|(id, s)| if s.deleted { deleted_person(id, s) } else { s.json.clone() }).collect(),
        );
    }
    match (more, page.last()) {
        (true, Some((last, _))) => body["nextPageToken"] = json!(page_token(since, snapshot, requested, last, fields)),
        _ => {
            if request_sync || incremental {
                body["nextSyncToken"] = json!(format!("st{snapshot}"));
            }
        }
    }
    ResponseTemplate::new(200).set_body_json(body)
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        if req.method.as_str() == "POST" && path == "/token" {
            return self.token(req);
        }
        match path.strip_prefix("/v1") {
            Some(rest) => self.api(req, rest),
            None => google_error(404, "NOT_FOUND", "Not found.", None),
        }
    }
}

impl GoogleMock {
    /// Starts a mock with the People API's page cap ([`MAX_PAGE_SIZE`]).
    pub async fn start() -> Self {
        Self::start_with_max_page_size(MAX_PAGE_SIZE).await
    }

    /// Starts a mock whose pages hold at most `max_page_size` persons (larger `pageSize` is 400).
    pub async fn start_with_max_page_size(max_page_size: usize) -> Self {
        let state = Arc::new(Mutex::new(State {
            persons: BTreeMap::new(),
            seq: 0,
            next_id: 0,
            min_valid: 0,
            account: Account::new("ya29.mock-access-0", "1//0g-mock-refresh-0"),
            rotate: false,
            max_page_size,
            groups: SYSTEM_GROUPS.iter().map(|(id, f)| ((*id).to_owned(), group_json(id, id, f, true))).collect(),
            next_group: 0,
        }));
        let counters = Arc::new(Counters::default());
        let server = serve(Responder { state: Arc::clone(&state), counters: Arc::clone(&counters) }).await;
        Self { server, state, counters }
    }

    /// `http://127.0.0.1:{port}`.
    #[must_use]
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The People API base URL: `{uri}/v1`.
    #[must_use]
    pub fn people_base(&self) -> String {
        format!("{}/v1", self.server.uri())
    }

    /// The token endpoint: `{uri}/token`.
    #[must_use]
    pub fn token_url(&self) -> String {
        format!("{}/token", self.server.uri())
    }

    /// The access token the mock accepts now, if any.
    #[must_use]
    pub fn access_token(&self) -> Option<String> {
        lock(&self.state).account.access_token.clone()
    }

    /// The refresh token the mock accepts now, if any.
    #[must_use]
    pub fn refresh_token(&self) -> Option<String> {
        lock(&self.state).account.refresh_token.clone()
    }

    /// Makes the token endpoint issue a new refresh token on every refresh (Google normally
    /// does not; adapters must cope with both).
    pub fn rotate_refresh_tokens(&self, rotate: bool) {
        lock(&self.state).rotate = rotate;
    }

    /// Stores a raw Person body as if created in Google Contacts; returns the stored Person.
    #[must_use]
    pub fn insert_raw(&self, body: &Map<String, Value>) -> Value {
        lock(&self.state).insert(body)
    }

    /// Replaces a stored Person's JSON outright (for malformed-payload tests).
    pub fn overwrite_raw(&self, resource_name: &str, json: Value) {
        let mut st = lock(&self.state);
        let seq = st.bump();
        let id = resource_name.trim_start_matches("people/").to_owned();
        st.persons.insert(id, Stored { json, seq, deleted: false });
    }

    /// Creates a user contact group as if made in Google Contacts; returns its resource name
    /// (`None` when the name is taken).
    #[must_use]
    pub fn create_group(&self, name: &str) -> Option<String> {
        lock(&self.state).create_group(name)?.get("resourceName").and_then(Value::as_str).map(str::to_owned)
    }

    /// Every contact group, system groups included, as the API lists them.
    #[must_use]
    pub fn groups(&self) -> Vec<Value> {
        lock(&self.state).groups.values().cloned().collect()
    }

    /// The stored JSON of a live Person.
    #[must_use]
    pub fn person_json(&self, resource_name: &str) -> Option<Value> {
        lock(&self.state).live(resource_name.trim_start_matches("people/")).map(|s| s.json.clone())
    }
}

#[async_trait]
impl MockControl for GoogleMock {
    fn capabilities(&self) -> MockCapabilities {
        MockCapabilities {
            fields: Field::ALL,
            max_page_size: lock(&self.state).max_page_size,
            reports_deletions: true,
            cursors_expire: true,
            versions: true,
        }
    }

    async fn seed(&self, contacts: Vec<ContactFields>) -> Vec<String> {
        let mut st = lock(&self.state);
        contacts
            .iter()
            .map(|c| {
                let body = st.person_from_fields(c);
                st.insert(&body).get("resourceName").and_then(Value::as_str).unwrap_or_default().to_owned()
            })
            .collect()
    }

    async fn update_remote(&self, external_id: &str, fields: &ContactFields) {
        let mut st = lock(&self.state);
        let body = st.person_from_fields(fields);
        let id = external_id.trim_start_matches("people/");
        st.replace(id, &["names", "emailAddresses", "phoneNumbers", "organizations", "memberships"], &body);
    }

    async fn delete_remote(&self, external_id: &str) {
        lock(&self.state).delete(external_id.trim_start_matches("people/"));
    }

    async fn remote_ids(&self) -> BTreeSet<String> {
        lock(&self.state).persons.iter().filter(|(_, s)| !s.deleted).map(|(id, _)| format!("people/{id}")).collect()
    }

    async fn expire_cursors(&self) {
        let mut st = lock(&self.state);
        let now = st.bump();
        st.min_valid = now;
    }

    async fn inject(&self, failure: InjectedFailure) {
        lock(&self.state).account.failures.push_back(failure);
    }

    fn api_requests(&self) -> usize {
        self.counters.api_requests()
    }

    fn lookup_requests(&self) -> usize {
        self.counters.lookups()
    }

    fn token_refreshes(&self) -> usize {
        self.counters.refreshes()
    }
}
