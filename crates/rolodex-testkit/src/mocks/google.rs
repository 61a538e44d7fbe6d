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
//! - bearer tokens checked: 401 `UNAUTHENTICATED`;
//! - `POST /token`: the refresh-token grant; like Google it does not rotate the refresh token
//!   (unless [`GoogleMock::rotate_refresh_tokens`]); an unknown one gets 400 `invalid_grant`
//!   "Token has been expired or revoked.";
//! - injected failures ([`InjectedFailure`]): 429 `RESOURCE_EXHAUSTED` with `Retry-After`, an
//!   expired access token, a revoked refresh token.
//!
//! It implements [`MockControl`] for the contract suites.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use rolodex_domain::{ContactFields, PhoneKind};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::provider_contract::{InjectedFailure, MockCapabilities, MockControl};

/// The People API's largest `pageSize`.
pub const MAX_PAGE_SIZE: usize = 1000;
/// The page size when the client asks for none (or 0).
pub const DEFAULT_PAGE_SIZE: usize = 100;
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
    access_token: Option<String>,
    refresh_token: Option<String>,
    rotate: bool,
    token_serial: u64,
    failures: VecDeque<InjectedFailure>,
    max_page_size: usize,
}

/// The mock server. Dropping it stops the server.
#[derive(Debug)]
pub struct GoogleMock {
    server: MockServer,
    state: Arc<Mutex<State>>,
    api_requests: Arc<AtomicUsize>,
    refreshes: Arc<AtomicUsize>,
}

struct Responder {
    state: Arc<Mutex<State>>,
    api_requests: Arc<AtomicUsize>,
    refreshes: Arc<AtomicUsize>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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

impl State {
    fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
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

/// `ContactFields` as a People API Person body (the mock's own, independent of the adapter's).
#[must_use]
pub fn fields_to_person(fields: &ContactFields) -> Map<String, Value> {
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
        json!([{"contactGroupMembership":{"contactGroupId":"myContacts","contactGroupResourceName":"contactGroups/myContacts"}}]),
    );
    m
}

struct Query(BTreeMap<String, String>);

impl Query {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
}

/// `pageToken`: `{since}.{snapshot}.{size}.{after id}.{personFields}` (`since` 0 = full listing).
fn page_token(since: u64, snapshot: u64, size: usize, after: &str, fields: &str) -> String {
    format!("{since}.{snapshot}.{size}.{after}.{fields}")
}

impl Responder {
    fn api(&self, req: &Request, rest: &str) -> ResponseTemplate {
        self.api_requests.fetch_add(1, Ordering::SeqCst);
        let mut st = lock(&self.state);
        if let Some(failure) = st.failures.pop_front() {
            match failure {
                InjectedFailure::RateLimited { retry_after_secs } => {
                    return google_error(
                        429,
                        "RESOURCE_EXHAUSTED",
                        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'people.googleapis.com'.",
                        Some(json!([{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","domain":"googleapis.com"}])),
                    )
                    .insert_header("Retry-After", retry_after_secs.to_string().as_str());
                }
                InjectedFailure::ExpireAccessToken => st.access_token = None,
                InjectedFailure::RevokeRefreshToken => {
                    st.access_token = None;
                    st.refresh_token = None;
                }
            }
        }
        let bearer =
            req.headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_none() || bearer != st.access_token.as_deref() {
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                None,
            );
        }
        let query = Query(req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect());
        let method = req.method.as_str();
        match (method, rest) {
            ("GET", "/people/me/connections") => connections(&st, &query),
            ("POST", "/people:createContact") => match serde_json::from_slice::<Map<String, Value>>(&req.body) {
                Ok(body) if body.contains_key("resourceName") || body.contains_key("etag") => invalid_argument(
                    "Request person.resourceName and person.etag must not be set when creating a contact.",
                ),
                Ok(body) if singleton_violation(&body).is_some() => invalid_argument(&format!(
                    "Invalid person.{}: only a single entry is allowed for a contact source.",
                    singleton_violation(&body).unwrap_or_default()
                )),
                Ok(body) => ResponseTemplate::new(200).set_body_json(st.insert(&body)),
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
        let form: BTreeMap<String, String> =
            url::form_urlencoded::parse(&req.body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
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
        let given = form.get("refresh_token");
        if given.is_none() || given.map(String::as_str) != st.refresh_token.as_deref() {
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
        }
        st.token_serial += 1;
        let access = format!("ya29.mock-access-{}", st.token_serial);
        st.access_token = Some(access.clone());
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let mut body = json!({
            "access_token": access,
            "expires_in": 3599,
            "scope": "https://www.googleapis.com/auth/contacts",
            "token_type": "Bearer"
        });
        if st.rotate {
            let refresh = format!("1//0g-mock-refresh-{}", st.token_serial);
            st.refresh_token = Some(refresh.clone());
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
    let body: Map<String, Value> = match serde_json::from_slice(body) {
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
    match st.replace(id, &fields, &body) {
        Some(json) => ResponseTemplate::new(200).set_body_json(json),
        None => not_found(),
    }
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
        let server = MockServer::builder().disable_request_recording().start().await;
        let state = Arc::new(Mutex::new(State {
            persons: BTreeMap::new(),
            seq: 0,
            next_id: 0,
            min_valid: 0,
            access_token: Some("ya29.mock-access-0".into()),
            refresh_token: Some("1//0g-mock-refresh-0".into()),
            rotate: false,
            token_serial: 0,
            failures: VecDeque::new(),
            max_page_size,
        }));
        let api_requests = Arc::new(AtomicUsize::new(0));
        let refreshes = Arc::new(AtomicUsize::new(0));
        let responder = Responder {
            state: Arc::clone(&state),
            api_requests: Arc::clone(&api_requests),
            refreshes: Arc::clone(&refreshes),
        };
        Mock::given(any()).respond_with(responder).mount(&server).await;
        Self { server, state, api_requests, refreshes }
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
        lock(&self.state).access_token.clone()
    }

    /// The refresh token the mock accepts now, if any.
    #[must_use]
    pub fn refresh_token(&self) -> Option<String> {
        lock(&self.state).refresh_token.clone()
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
                st.insert(&fields_to_person(c))
                    .get("resourceName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    async fn update_remote(&self, external_id: &str, fields: &ContactFields) {
        let body = fields_to_person(fields);
        let id = external_id.trim_start_matches("people/");
        lock(&self.state).replace(id, &["names", "emailAddresses", "phoneNumbers", "organizations"], &body);
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
        lock(&self.state).failures.push_back(failure);
    }

    fn api_requests(&self) -> usize {
        self.api_requests.load(Ordering::SeqCst)
    }

    fn token_refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }
}
