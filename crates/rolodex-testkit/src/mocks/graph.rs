//! A stateful mock of Microsoft Graph contacts (v1.0) and the Microsoft identity platform token
//! endpoint, on 127.0.0.1 port 0, behaving as `shared/design/provider-apis.md` section 1 says:
//! - `GET /v1.0/me/contacts?$top=&$skip=` pages with an absolute `@odata.nextLink`;
//! - `GET /v1.0/me/contacts/delta` (also `/me/contactFolders/{id}/contacts/delta` and
//!   `/users/{id}/...`): `Prefer: odata.maxpagesize` (capped), `$skiptoken` pages, a final
//!   `@odata.deltaLink` with `$deltatoken`; changes since a token; deletions as `@removed`;
//!   expired tokens answer 410 `SyncStateNotFound` with the exact body;
//! - `POST /v1.0/me/contacts` (201), `GET`/`PATCH` (200, `If-Match` checked)/`DELETE` (204)
//!   `/v1.0/me/contacts/{id}`, 404 `itemNotFound`;
//! - bearer tokens checked: 401 `InvalidAuthenticationToken`;
//! - `POST /{tenant}/oauth2/v2.0/token`: the refresh-token grant, rotating the refresh token;
//!   an unknown refresh token gets 400 `invalid_grant` (AADSTS70000);
//! - injected failures ([`InjectedFailure`]): 429 `ApplicationThrottled` with `Retry-After`,
//!   an expired access token, a revoked refresh token.
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

/// The default cap on a page (`Prefer: odata.maxpagesize` and `$top`), as reported for delta.
pub const DEFAULT_MAX_PAGE_SIZE: usize = 200;
/// The page size when the client asks for none (Outlook's convention).
pub const DEFAULT_PAGE_SIZE: usize = 10;

#[derive(Debug, Clone)]
struct Stored {
    json: Value,
    seq: u64,
    deleted: bool,
}

#[derive(Debug)]
struct State {
    base: String,
    contacts: BTreeMap<String, Stored>,
    seq: u64,
    next_id: u64,
    /// Delta tokens below this generation are expired.
    min_valid: u64,
    account: Account,
    max_page_size: usize,
}

/// The mock server. Dropping it stops the server.
#[derive(Debug)]
pub struct GraphMock {
    server: MockServer,
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
}

struct Responder {
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
}

/// A Graph error body: `{"error":{"code","message","innerError":{...}}}`.
#[must_use]
pub fn graph_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "request-id": "5b3c6f2a-0000-4000-8000-000000000001",
                "date": "2025-02-13T10:17:05",
                "client-request-id": "5b3c6f2a-0000-4000-8000-000000000001"
            }
        }
    }))
}

fn timestamp(seq: u64) -> String {
    let base = OffsetDateTime::from_unix_timestamp(1_735_689_600).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let t = base + time::Duration::seconds(i64::try_from(seq).unwrap_or(i64::MAX / 2));
    t.format(&Rfc3339).unwrap_or_default()
}

impl State {
    fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn insert(&mut self, mut body: Map<String, Value>) -> Value {
        self.next_id += 1;
        let id = format!("AAMkAGI2TG{:08}AAA=", self.next_id);
        let seq = self.bump();
        body.retain(|k, _| !k.starts_with("@odata"));
        body.insert("id".into(), json!(id));
        body.insert("createdDateTime".into(), json!(timestamp(seq)));
        stamp(&mut body, seq);
        let json = Value::Object(body);
        self.contacts.insert(id, Stored { json: json.clone(), seq, deleted: false });
        json
    }

    fn patch(&mut self, id: &str, changes: Map<String, Value>) -> Option<Value> {
        let seq = self.bump();
        let stored = self.contacts.get_mut(id).filter(|s| !s.deleted)?;
        if let Value::Object(obj) = &mut stored.json {
            for (k, v) in changes {
                if k != "id" && !k.starts_with("@odata") {
                    obj.insert(k, v);
                }
            }
            stamp(obj, seq);
        }
        stored.seq = seq;
        Some(stored.json.clone())
    }

    fn delete(&mut self, id: &str) -> bool {
        let seq = self.bump();
        match self.contacts.get_mut(id).filter(|s| !s.deleted) {
            Some(stored) => {
                stored.deleted = true;
                stored.seq = seq;
                true
            }
            None => false,
        }
    }
}

fn stamp(obj: &mut Map<String, Value>, seq: u64) {
    let change_key = format!("EQAAABYAAACd9nJ{seq:010}");
    obj.insert("@odata.etag".into(), json!(format!("W/\"{change_key}\"")));
    obj.insert("changeKey".into(), json!(change_key));
    obj.insert("lastModifiedDateTime".into(), json!(timestamp(seq)));
    if obj.get("displayName").is_none_or(Value::is_null) {
        let name: Vec<&str> =
            ["givenName", "surname"].iter().filter_map(|k| obj.get(*k).and_then(Value::as_str)).collect();
        obj.insert("displayName".into(), json!(name.join(" ")));
    }
}

/// `ContactFields` as a Graph contact body (the mock's own, independent of the adapter's mapping).
#[must_use]
pub fn fields_to_graph(fields: &ContactFields) -> Map<String, Value> {
    let phones = |kinds: &[PhoneKind]| -> Vec<Value> {
        fields.phones.iter().filter(|p| kinds.contains(&p.kind)).map(|p| json!(p.number.e164())).collect()
    };
    let mut m = Map::new();
    m.insert("givenName".into(), json!(fields.given_name));
    m.insert("surname".into(), json!(fields.family_name));
    m.insert("displayName".into(), json!(fields.display_name));
    m.insert(
        "emailAddresses".into(),
        Value::Array(fields.emails.iter().map(|e| json!({"name": fields.label(), "address": e.as_str()})).collect()),
    );
    let mobile = fields.phones.iter().find(|p| p.kind == PhoneKind::Mobile).map(|p| p.number.e164().to_owned());
    m.insert("mobilePhone".into(), json!(mobile));
    m.insert("businessPhones".into(), Value::Array(phones(&[PhoneKind::Work, PhoneKind::Other])));
    m.insert("homePhones".into(), Value::Array(phones(&[PhoneKind::Home])));
    m.insert("companyName".into(), json!(fields.company));
    m.insert("jobTitle".into(), json!(fields.job_title));
    m.insert("categories".into(), json!(fields.tags.iter().collect::<Vec<_>>()));
    m
}

impl Responder {
    fn api(&self, req: &Request, rest: &str) -> ResponseTemplate {
        self.counters.api();
        let mut st = lock(&self.state);
        match st.account.admit(req) {
            Admission::Admitted => {}
            Admission::Throttled(retry_after_secs) => {
                return graph_error(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
                    .insert_header("Retry-After", retry_after_secs.to_string().as_str());
            }
            Admission::Unauthorized => {
                return graph_error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.");
            }
        }
        let query = Query::of(req);
        let method = req.method.as_str();
        match (method, rest) {
            ("GET", "/contacts") => list(&st, &query),
            ("GET", "/contacts/delta") => {
                let prefer = req
                    .headers
                    .get("prefer")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').find_map(|p| p.trim().strip_prefix("odata.maxpagesize=")))
                    .and_then(|n| n.trim().parse::<usize>().ok());
                delta(&st, &query, rest, prefer)
            }
            ("POST", "/contacts") => match serde_json::from_slice::<Map<String, Value>>(&req.body) {
                Ok(body) => ResponseTemplate::new(201).set_body_json(st.insert(body)),
                Err(e) => graph_error(400, "invalidRequest", &format!("Invalid JSON: {e}")),
            },
            (_, r) if r.starts_with("/contacts/") => {
                let id = &r["/contacts/".len()..];
                let live = st.contacts.get(id).filter(|s| !s.deleted).cloned();
                let Some(stored) = live else {
                    return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.");
                };
                match method {
                    "GET" => ResponseTemplate::new(200).set_body_json(stored.json),
                    "DELETE" => {
                        st.delete(id);
                        ResponseTemplate::new(204)
                    }
                    "PATCH" => {
                        let etag = stored.json.get("@odata.etag").and_then(Value::as_str).unwrap_or_default();
                        if let Some(m) = req.headers.get("if-match").and_then(|v| v.to_str().ok())
                            && m != "*"
                            && m != etag
                        {
                            return graph_error(
                                412,
                                "ErrorIrresolvableConflict",
                                "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
                            );
                        }
                        match serde_json::from_slice::<Map<String, Value>>(&req.body) {
                            Ok(body) => match st.patch(id, body) {
                                Some(json) => ResponseTemplate::new(200).set_body_json(json),
                                None => graph_error(
                                    404,
                                    "ErrorItemNotFound",
                                    "The specified object was not found in the store.",
                                ),
                            },
                            Err(e) => graph_error(400, "invalidRequest", &format!("Invalid JSON: {e}")),
                        }
                    }
                    _ => graph_error(405, "invalidRequest", "Method not allowed."),
                }
            }
            _ => graph_error(400, "BadRequest", &format!("Resource not found for the segment '{rest}'.")),
        }
    }

    fn token(&self, req: &Request) -> ResponseTemplate {
        let form = form(req);
        let oauth_error = |error: &str, description: &str, code: u32| {
            ResponseTemplate::new(400).set_body_json(json!({
                "error": error,
                "error_description": description,
                "error_codes": [code],
                "timestamp": "2025-01-09 02:02:12Z",
                "trace_id": "0000aaaa-11bb-cccc-dd22-eeeeee333333",
                "correlation_id": "aaaa0000-bb11-2222-33cc-444444dddddd"
            }))
        };
        if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
            return oauth_error(
                "unsupported_grant_type",
                "AADSTS70003: The app requested an unsupported grant type.",
                70003,
            );
        }
        if form.get("client_id").is_none_or(String::is_empty) {
            return oauth_error(
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
                900_144,
            );
        }
        let mut st = lock(&self.state);
        let given = form.get("refresh_token").map(String::as_str);
        let rotate: fn(u64) -> String = |n| format!("graph-refresh-{n}");
        let Some((access, refresh)) = st.account.refresh(given, |n| format!("graph-access-{n}"), Some(rotate)) else {
            return oauth_error(
                "invalid_grant",
                "AADSTS70000: The provided value for the 'refresh_token' is not valid. The refresh token has expired or been revoked.",
                70000,
            );
        };
        self.counters.refresh();
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3599,
            "scope": "https://graph.microsoft.com/Contacts.ReadWrite",
            "refresh_token": refresh,
            "id_token": "eyJ0eXAiOiJKV1QifQ.e30.sig"
        }))
    }
}

fn page_size(requested: Option<usize>, max: usize) -> usize {
    requested.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, max.max(1))
}

fn list(st: &State, q: &Query) -> ResponseTemplate {
    let top = page_size(q.get("$top").and_then(|v| v.parse().ok()), st.max_page_size);
    let skip: usize = q.get("$skip").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut live = st.contacts.values().filter(|s| !s.deleted);
    let value: Vec<Value> = live.by_ref().skip(skip).take(top).map(|s| s.json.clone()).collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('me')/contacts", st.base),
        "value": value,
    });
    if live.next().is_some() {
        body["@odata.nextLink"] = json!(format!("{}/v1.0/me/contacts?$top={top}&$skip={}", st.base, skip + top));
    }
    ResponseTemplate::new(200).set_body_json(body)
}

/// Delta positions: `$deltatoken={generation}` starts a round of changes after that generation;
/// `$skiptoken={since}.{snapshot}.{size}.{after id}` continues one (`since` 0 = initial round).
fn delta(st: &State, q: &Query, rest: &str, prefer: Option<usize>) -> ResponseTemplate {
    let expired = || {
        graph_error(
            410,
            "SyncStateNotFound",
            "The sync state generation is not found; generation=149;[highest=157][157][155][156].",
        )
    };
    let (since, snapshot, size, after) = if let Some(skip) = q.get("$skiptoken") {
        let parts: Vec<&str> = skip.splitn(4, '.').collect();
        let [since, snapshot, size, after] = parts.as_slice() else {
            return graph_error(400, "badRequest", "Invalid skip token.");
        };
        match (since.parse::<u64>(), snapshot.parse::<u64>(), size.parse::<usize>()) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c, (*after).to_owned()),
            _ => return graph_error(400, "badRequest", "Invalid skip token."),
        }
    } else if let Some(token) = q.get("$deltatoken") {
        match token.parse::<u64>() {
            Ok(t) => (t, st.seq, page_size(prefer, st.max_page_size), String::new()),
            Err(_) => return expired(),
        }
    } else {
        (0, st.seq, page_size(prefer.or(Some(st.max_page_size)), st.max_page_size), String::new())
    };
    if since > 0 && since < st.min_valid {
        return expired();
    }
    let initial = since == 0;
    let path = format!("{}/v1.0/me{}", st.base, rest);
    let mut matching = st
        .contacts
        .range::<str, _>((std::ops::Bound::Excluded(after.as_str()), std::ops::Bound::Unbounded))
        .filter(|(_, s)| if initial { !s.deleted && s.seq <= snapshot } else { s.seq > since && s.seq <= snapshot });
    let page: Vec<(&String, &Stored)> = matching.by_ref().take(size).collect();
    let more = matching.next().is_some();
    let value: Vec<Value> = page
        .iter()
        .map(|(id, s)| {
            if s.deleted {
                json!({"@odata.type": "#microsoft.graph.contact", "id": id, "@removed": {"reason": "deleted"}})
            } else {
                s.json.clone()
            }
        })
        .collect();
    let mut body = json!({ "value": value });
    match (more, page.last()) {
        (true, Some((last, _))) => {
            let token = format!("{since}.{snapshot}.{size}.{last}");
            body["@odata.nextLink"] = json!(format!("{path}?$skiptoken={}", encode(&token)));
        }
        _ => body["@odata.deltaLink"] = json!(format!("{path}?$deltatoken={snapshot}")),
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        if req.method.as_str() == "POST" && path.ends_with("/oauth2/v2.0/token") {
            return self.token(req);
        }
        let Some(rest) = path.strip_prefix("/v1.0") else {
            return graph_error(404, "BadRequest", "Unknown path.");
        };
        // Normalise /me, /users/{id} and /contactFolders/{id}[/childFolders/{id}...] prefixes.
        let mut rest = rest;
        if let Some(r) = rest.strip_prefix("/me") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("/users/") {
            rest = r.find('/').map_or("", |i| &r[i..]);
        }
        while let Some(r) = rest.strip_prefix("/contactFolders/").or_else(|| rest.strip_prefix("/childFolders/")) {
            rest = r.find('/').map_or("", |i| &r[i..]);
        }
        self.api(req, rest)
    }
}

impl GraphMock {
    /// Starts a mock with the default page cap ([`DEFAULT_MAX_PAGE_SIZE`]).
    pub async fn start() -> Self {
        Self::start_with_max_page_size(DEFAULT_MAX_PAGE_SIZE).await
    }

    /// Starts a mock whose pages hold at most `max_page_size` contacts.
    pub async fn start_with_max_page_size(max_page_size: usize) -> Self {
        let counters = Arc::new(Counters::default());
        let responder = Responder {
            state: Arc::new(Mutex::new(State {
                base: String::new(),
                contacts: BTreeMap::new(),
                seq: 0,
                next_id: 0,
                min_valid: 0,
                account: Account::new("graph-access-0", "graph-refresh-0"),
                max_page_size,
            })),
            counters: Arc::clone(&counters),
        };
        let state = Arc::clone(&responder.state);
        let server = serve(responder).await;
        lock(&state).base = server.uri();
        Self { server, state, counters }
    }

    /// `http://127.0.0.1:{port}`.
    #[must_use]
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The Graph base URL: `{uri}/v1.0`.
    #[must_use]
    pub fn graph_base(&self) -> String {
        format!("{}/v1.0", self.server.uri())
    }

    /// The token endpoint: `{uri}/common/oauth2/v2.0/token`.
    #[must_use]
    pub fn token_url(&self) -> String {
        format!("{}/common/oauth2/v2.0/token", self.server.uri())
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

    /// Stores a raw Graph contact body as if created in Outlook; returns the stored contact.
    #[must_use]
    pub fn insert_raw(&self, body: Map<String, Value>) -> Value {
        lock(&self.state).insert(body)
    }

    /// The stored Graph JSON of a live contact.
    #[must_use]
    pub fn contact_json(&self, id: &str) -> Option<Value> {
        lock(&self.state).contacts.get(id).filter(|s| !s.deleted).map(|s| s.json.clone())
    }
}

#[async_trait]
impl MockControl for GraphMock {
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
            .map(|c| st.insert(fields_to_graph(c)).get("id").and_then(Value::as_str).unwrap_or_default().to_owned())
            .collect()
    }

    async fn update_remote(&self, external_id: &str, fields: &ContactFields) {
        lock(&self.state).patch(external_id, fields_to_graph(fields));
    }

    async fn delete_remote(&self, external_id: &str) {
        lock(&self.state).delete(external_id);
    }

    async fn remote_ids(&self) -> BTreeSet<String> {
        lock(&self.state).contacts.iter().filter(|(_, s)| !s.deleted).map(|(id, _)| id.clone()).collect()
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

    fn token_refreshes(&self) -> usize {
        self.counters.refreshes()
    }
}
