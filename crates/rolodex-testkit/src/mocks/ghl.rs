//! A stateful mock of the GoHighLevel (LeadConnector API v2) contacts API and its OAuth token
//! endpoint, on 127.0.0.1 port 0, behaving as `shared/design/provider-apis.md` section 3 says:
//! - every resource call needs `Version: 2021-07-28` (400 otherwise) and a valid bearer token
//!   (401 `{"statusCode":401,"message":"Invalid token: access token is invalid","error":"Unauthorized"}`);
//! - `POST /contacts/search`: `locationId` and `pageLimit` required (422), `pageLimit` capped
//!   (default 100, the documented working value; above it 422), `sort` on `dateUpdated` (asc or
//!   desc) then id, `searchAfter: [epoch ms, id]` cursor paging (each contact carries its own
//!   `searchAfter`; the end is an empty `contacts`), `page` paging limited to 10,000 records, a
//!   `dateUpdated` `range` filter; `total` and `traceId`;
//! - `GET/PUT/DELETE /contacts/{id}` (`PUT` answers `succeded`, and must not carry `locationId`;
//!   `null` clears a field), `POST /contacts/` (201; `locationId` required; a duplicate email or
//!   phone is refused as GoHighLevel does when the location disallows duplicates),
//!   `POST /contacts/upsert` (matches email, then phone; answers both `succeded` and `succeeded`);
//!   unknown ids answer 400 `Contact not found` (the shape is not in the fact sheet);
//! - the burst limit headers (`X-RateLimit-*`) on every answer; injected 429s carry them and
//!   `Retry-After`;
//! - `POST /oauth/token`: the refresh-token grant that rotates the refresh token on every use
//!   (the old one stops working); an unknown one gets 400 `invalid_grant`.
//!
//! It implements [`MockControl`] for the contract suites.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rolodex_domain::ContactFields;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use super::common::{Account, Admission, Counters, form, lock, serve};
use crate::provider_contract::{Field, InjectedFailure, MockCapabilities, MockControl};

/// The only `Version` header value the API accepts.
pub const API_VERSION: &str = "2021-07-28";
/// The default cap on `pageLimit` (100 is the value known to work).
pub const MAX_PAGE_LIMIT: usize = 100;
/// The most records `page`-based search paging reaches.
pub const PAGE_PAGING_LIMIT: usize = 10_000;
/// The id of the location's custom field that holds a job title (GoHighLevel has no job title
/// field; configure the adapter with this id).
pub const JOB_TITLE_FIELD: &str = "contact.job_title";
/// The location the mock serves.
pub const LOCATION_ID: &str = "ve9EPM428h8vShlRW1KT";

/// The contact fields GoHighLevel holds: every one the suite compares but the job title, which
/// only a location's custom field ([`JOB_TITLE_FIELD`]) can hold.
pub const FIELDS: &[Field] =
    &[Field::GivenName, Field::FamilyName, Field::Emails, Field::Phones, Field::Company, Field::Tags];

const BASE_MS: i64 = 1_784_272_317_939;

#[derive(Debug, Clone)]
struct Stored {
    json: Value,
    updated_ms: i64,
}

#[derive(Debug)]
struct State {
    contacts: BTreeMap<String, Stored>,
    /// (dateUpdated ms, id) -> (), the search order.
    order: BTreeSet<(i64, String)>,
    clock_ms: i64,
    next_id: u64,
    account: Account,
    max_page_limit: usize,
    allow_duplicates: bool,
}

/// The mock server. Dropping it stops the server.
#[derive(Debug)]
pub struct GhlMock {
    server: MockServer,
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
}

struct Responder {
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
}

fn iso(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn rate_headers(t: ResponseTemplate, remaining: u32) -> ResponseTemplate {
    t.insert_header("X-RateLimit-Limit-Daily", "200000")
        .insert_header("X-RateLimit-Daily-Remaining", "199415")
        .insert_header("X-RateLimit-Interval-Milliseconds", "10000")
        .insert_header("X-RateLimit-Max", "100")
        .insert_header("X-RateLimit-Remaining", remaining.to_string().as_str())
}

/// A GoHighLevel error body: `{"statusCode","message"[,"error"]}`.
#[must_use]
pub fn ghl_error(status: u16, message: Value, error: Option<&str>) -> ResponseTemplate {
    let mut body = json!({ "statusCode": status, "message": message });
    if let Some(e) = error {
        body["error"] = json!(e);
    }
    ResponseTemplate::new(status).set_body_json(body)
}

fn unprocessable(messages: &[&str]) -> ResponseTemplate {
    ghl_error(422, json!(messages), Some("Unprocessable Entity"))
}

fn not_found() -> ResponseTemplate {
    ghl_error(400, json!("Contact not found"), Some("Bad Request"))
}

const TRACE_ID: &str = "97e9af00-f1ee-4330-a69a-ab4d08e2eb3f";

/// Fields a write may set (the write DTOs' scalar and list fields).
const WRITABLE: [&str; 19] = [
    "firstName",
    "lastName",
    "name",
    "email",
    "phone",
    "companyName",
    "address1",
    "city",
    "state",
    "postalCode",
    "country",
    "website",
    "timezone",
    "source",
    "tags",
    "dnd",
    "dndSettings",
    "dateOfBirth",
    "assignedTo",
];

impl State {
    fn tick(&mut self) -> i64 {
        self.clock_ms += 1;
        self.clock_ms
    }

    fn insert(&mut self, body: &Map<String, Value>) -> Value {
        self.next_id += 1;
        let id = format!("C0oEKxTx{:012}", self.next_id);
        let ms = self.tick();
        let mut c = Map::new();
        c.insert("id".into(), json!(id));
        c.insert("locationId".into(), body.get("locationId").cloned().unwrap_or_else(|| json!(LOCATION_ID)));
        c.insert("dateAdded".into(), json!(iso(ms)));
        c.insert("type".into(), json!("lead"));
        c.insert("tags".into(), json!([]));
        c.insert("customFields".into(), json!([]));
        c.insert("additionalEmails".into(), json!([]));
        c.insert("additionalPhones".into(), json!([]));
        c.insert("dnd".into(), json!(false));
        apply(&mut c, body);
        self.store(id, c, ms)
    }

    fn store(&mut self, id: String, mut c: Map<String, Value>, ms: i64) -> Value {
        c.insert("dateUpdated".into(), json!(iso(ms)));
        if let Some(old) = self.contacts.get(&id) {
            self.order.remove(&(old.updated_ms, id.clone()));
        }
        self.order.insert((ms, id.clone()));
        let json = Value::Object(c);
        self.contacts.insert(id, Stored { json: json.clone(), updated_ms: ms });
        json
    }

    fn update(&mut self, id: &str, body: &Map<String, Value>) -> Option<Value> {
        let mut c = self.contacts.get(id)?.json.as_object()?.clone();
        apply(&mut c, body);
        let ms = self.tick();
        Some(self.store(id.to_owned(), c, ms))
    }

    fn delete(&mut self, id: &str) -> bool {
        match self.contacts.remove(id) {
            Some(old) => {
                self.order.remove(&(old.updated_ms, id.to_owned()));
                true
            }
            None => false,
        }
    }

    fn find_by(&self, key: &str, value: &str) -> Option<String> {
        let value = value.to_lowercase();
        self.contacts
            .iter()
            .find(|(_, s)| s.json.get(key).and_then(Value::as_str).is_some_and(|v| v.to_lowercase() == value))
            .map(|(id, _)| id.clone())
    }

    fn duplicate_of(&self, body: &Map<String, Value>) -> Option<(String, &'static str)> {
        for key in ["email", "phone"] {
            if let Some(v) = body.get(key).and_then(Value::as_str).filter(|v| !v.is_empty())
                && let Some(id) = self.find_by(key, v)
            {
                return Some((id, key));
            }
        }
        None
    }
}

/// Applies a write body: known fields are set (`null` clears), custom fields `{id|key, field_value}`
/// are stored in the read form `{id, value}`, lower-case search fields are derived.
fn apply(c: &mut Map<String, Value>, body: &Map<String, Value>) {
    for k in WRITABLE {
        match body.get(k) {
            Some(Value::Null) => {
                c.remove(k);
            }
            Some(v) => {
                c.insert(k.into(), v.clone());
            }
            None => {}
        }
    }
    if let Some(Value::Array(fields)) = body.get("customFields") {
        let stored: Vec<Value> = fields
            .iter()
            .filter_map(|f| {
                let id = f.get("id").or_else(|| f.get("key"))?.clone();
                Some(json!({"id": id, "value": f.get("field_value").or_else(|| f.get("value")).cloned().unwrap_or(Value::Null)}))
            })
            .collect();
        c.insert("customFields".into(), Value::Array(stored));
    }
    let lower = |c: &Map<String, Value>, k: &str| c.get(k).and_then(Value::as_str).map(str::to_lowercase);
    for (from, to) in
        [("firstName", "firstNameLowerCase"), ("lastName", "lastNameLowerCase"), ("email", "emailLowerCase")]
    {
        match lower(c, from) {
            Some(v) => c.insert(to.into(), json!(v)),
            None => c.remove(to),
        };
    }
    let full: Vec<String> = ["firstName", "lastName"].iter().filter_map(|k| lower(c, k)).collect();
    c.insert("fullNameLowerCase".into(), json!(full.join(" ")));
}

/// `ContactFields` as a GoHighLevel write body (the mock's own, independent of the adapter's).
#[must_use]
pub fn fields_to_ghl(fields: &ContactFields) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("firstName".into(), json!(fields.given_name));
    m.insert("lastName".into(), json!(fields.family_name));
    m.insert("email".into(), json!(fields.primary_email().map(|e| e.as_str())));
    m.insert("phone".into(), json!(fields.phones.first().map(|p| p.number.e164())));
    m.insert("companyName".into(), json!(fields.company));
    m.insert("city".into(), json!(fields.address.city));
    m.insert("country".into(), json!(fields.address.country));
    m.insert("tags".into(), json!(fields.tags.iter().collect::<Vec<_>>()));
    m.insert("dnd".into(), json!(fields.do_not_disturb));
    m.insert("source".into(), json!("mock"));
    if let Some(title) = &fields.job_title {
        m.insert("customFields".into(), json!([{"id": JOB_TITLE_FIELD, "field_value": title}]));
    }
    m
}

fn search(st: &State, body: &Map<String, Value>) -> ResponseTemplate {
    let mut problems = Vec::new();
    if body.get("locationId").and_then(Value::as_str).is_none_or(str::is_empty) {
        problems.push("locationId should not be empty");
    }
    let limit = body.get("pageLimit").and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok());
    match limit {
        None => problems.push("pageLimit must be a number conforming to the specified constraints"),
        Some(0) => problems.push("pageLimit must not be less than 1"),
        Some(n) if n > st.max_page_limit => problems.push("pageLimit must not be greater than the maximum"),
        Some(_) => {}
    }
    if !problems.is_empty() {
        return unprocessable(&problems);
    }
    let limit = limit.unwrap_or(1);
    let descending = body.get("sort").and_then(Value::as_array).and_then(|s| s.first()).is_some_and(|s| {
        s.get("field").and_then(Value::as_str) == Some("dateUpdated")
            && s.get("direction").and_then(Value::as_str) == Some("desc")
    });
    let (mut gte, mut gt) = (None, None);
    if let Some(filters) = body.get("filters").and_then(Value::as_array) {
        for f in filters {
            if f.get("field").and_then(Value::as_str) == Some("dateUpdated")
                && f.get("operator").and_then(Value::as_str) == Some("range")
            {
                let bound = |k: &str| {
                    f.pointer(&format!("/value/{k}"))
                        .and_then(Value::as_str)
                        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
                        .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
                };
                gte = bound("gte");
                gt = bound("gt");
            }
        }
    }
    let after = match body.get("searchAfter") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => match (a.first().and_then(Value::as_i64), a.get(1).and_then(Value::as_str)) {
            (Some(ms), Some(id)) => Some((ms, id.to_owned())),
            _ => return unprocessable(&["searchAfter must be [sortValue, id]"]),
        },
        Some(_) => return unprocessable(&["searchAfter must be an array"]),
    };
    let page = body.get("page").and_then(Value::as_u64).and_then(|p| usize::try_from(p).ok());
    if page.is_some() && after.is_some() {
        return unprocessable(&["page must not be sent with searchAfter"]);
    }
    let skip = page.map_or(0, |p| p.saturating_sub(1) * limit);
    if skip + limit > PAGE_PAGING_LIMIT && page.is_some() {
        return unprocessable(&["page paging reaches at most 10000 records; use searchAfter"]);
    }
    let in_range = |(ms, _): &&(i64, String)| gte.is_none_or(|g| *ms >= g) && gt.is_none_or(|g| *ms > g);
    let total = st.order.iter().filter(in_range).count();
    let hits: Vec<&(i64, String)> = if descending {
        let iter = st.order.iter().rev().filter(in_range);
        match &after {
            Some(a) => iter.filter(|k| (k.0, &k.1) < (a.0, &a.1)).skip(skip).take(limit).collect(),
            None => iter.skip(skip).take(limit).collect(),
        }
    } else {
        match &after {
            Some(a) => st
                .order
                .range((std::ops::Bound::Excluded(a.clone()), std::ops::Bound::Unbounded))
                .filter(in_range)
                .skip(skip)
                .take(limit)
                .collect(),
            None => st.order.iter().filter(in_range).skip(skip).take(limit).collect(),
        }
    };
    let contacts: Vec<Value> = hits
        .iter()
        .filter_map(|(ms, id)| {
            let mut c = st.contacts.get(id)?.json.clone();
            // Search results name the street `address`, not `address1` [H7].
            if let Some(obj) = c.as_object_mut() {
                if let Some(street) = obj.remove("address1") {
                    obj.insert("address".into(), street);
                }
                obj.insert("searchAfter".into(), json!([ms, id]));
            }
            Some(c)
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({ "contacts": contacts, "total": total, "traceId": TRACE_ID }))
}

impl Responder {
    fn api(&self, req: &Request) -> ResponseTemplate {
        self.counters.api();
        let mut st = lock(&self.state);
        match st.account.admit(req) {
            Admission::Admitted => {}
            Admission::Throttled(retry_after_secs) => {
                let t = ghl_error(429, json!("Too Many Requests"), None)
                    .insert_header("Retry-After", retry_after_secs.to_string().as_str());
                return rate_headers(t, 0);
            }
            Admission::Unauthorized => {
                return ghl_error(401, json!("Invalid token: access token is invalid"), Some("Unauthorized"));
            }
        }
        if req.headers.get("version").and_then(|v| v.to_str().ok()) != Some(API_VERSION) {
            return ghl_error(
                400,
                json!("version header must be one of the following values: 2021-07-28"),
                Some("Bad Request"),
            );
        }
        let answer = self.route(&mut st, req);
        rate_headers(answer, 99)
    }

    fn route(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        let path = req.url.path().trim_end_matches('/');
        let method = req.method.as_str();
        let body = || serde_json::from_slice::<Map<String, Value>>(&req.body);
        match (method, path) {
            ("POST", "/contacts/search") => match body() {
                Ok(b) => search(st, &b),
                Err(e) => ghl_error(400, json!(format!("Unexpected token in JSON: {e}")), Some("Bad Request")),
            },
            ("POST", "/contacts") | ("POST", "/contacts/upsert") => {
                let Ok(b) = body() else { return ghl_error(400, json!("Bad Request"), None) };
                if b.get("locationId").and_then(Value::as_str).is_none_or(str::is_empty) {
                    return unprocessable(&["locationId should not be empty"]);
                }
                if path == "/contacts/upsert" {
                    let existing = ["email", "phone"].iter().find_map(|k| {
                        b.get(*k).and_then(Value::as_str).filter(|v| !v.is_empty()).and_then(|v| st.find_by(k, v))
                    });
                    let (is_new, contact) = match existing {
                        Some(id) => (false, st.update(&id, &b)),
                        None => (true, Some(st.insert(&b))),
                    };
                    return ResponseTemplate::new(200).set_body_json(json!({
                        "new": is_new, "succeded": true, "succeeded": true, "contact": contact, "traceId": TRACE_ID
                    }));
                }
                if !st.allow_duplicates
                    && let Some((id, field)) = st.duplicate_of(&b)
                {
                    return ResponseTemplate::new(400).set_body_json(json!({
                        "statusCode": 400,
                        "message": "This location does not allow duplicated contacts.",
                        "meta": {"contactName": "", "contactId": id, "matchingField": field},
                        "traceId": TRACE_ID
                    }));
                }
                ResponseTemplate::new(201).set_body_json(json!({ "contact": st.insert(&b), "traceId": TRACE_ID }))
            }
            (_, p) if p.starts_with("/contacts/") => {
                let id = &p["/contacts/".len()..];
                if !st.contacts.contains_key(id) {
                    return not_found();
                }
                match method {
                    "GET" => ResponseTemplate::new(200).set_body_json(
                        json!({ "contact": st.contacts.get(id).map(|s| s.json.clone()), "traceId": TRACE_ID }),
                    ),
                    "PUT" => {
                        let Ok(b) = body() else { return ghl_error(400, json!("Bad Request"), None) };
                        if b.contains_key("locationId") {
                            return unprocessable(&["property locationId should not exist"]);
                        }
                        let contact = st.update(id, &b);
                        ResponseTemplate::new(200)
                            .set_body_json(json!({ "succeded": true, "contact": contact, "traceId": TRACE_ID }))
                    }
                    "DELETE" => {
                        st.delete(id);
                        ResponseTemplate::new(200).set_body_json(json!({ "succeded": true, "traceId": TRACE_ID }))
                    }
                    _ => ghl_error(404, json!(format!("Cannot {method} {p}")), Some("Not Found")),
                }
            }
            _ => ghl_error(404, json!(format!("Cannot {method} {path}")), Some("Not Found")),
        }
    }

    fn token(&self, req: &Request) -> ResponseTemplate {
        let form = form(req);
        let oauth_error = |status: u16, error: &str, description: &str| {
            ResponseTemplate::new(status).set_body_json(json!({"error": error, "error_description": description}))
        };
        if ["client_id", "client_secret", "grant_type"].iter().any(|k| form.get(*k).is_none_or(String::is_empty)) {
            return unprocessable(&["client_id, client_secret and grant_type are required"]);
        }
        if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
            return oauth_error(400, "unsupported_grant_type", "grant_type must be refresh_token here");
        }
        let mut st = lock(&self.state);
        let given = form.get("refresh_token").map(String::as_str);
        let rotate: fn(u64) -> String = |n| format!("xy34dc0ae1234a4858f9ff06d4f6{n:04}");
        let access = |n| format!("ab12dc0ae1234a7898f9ff06d4f6{n:04}");
        let Some((access, refresh)) = st.account.refresh(given, access, Some(rotate)) else {
            return oauth_error(400, "invalid_grant", "Invalid grant: refresh token is invalid");
        };
        self.counters.refresh();
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": access, "token_type": "Bearer", "expires_in": 86399, "refresh_token": refresh,
            "scope": "contacts.readonly contacts.write", "userType": "Location", "locationId": LOCATION_ID,
            "companyId": "tDtDnQdgm2LXpyiqYvZ6", "userId": "l1C08ntBrFjLS0elLIYU", "isBulkInstallation": false
        }))
    }
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if req.method.as_str() == "POST" && req.url.path() == "/oauth/token" {
            return self.token(req);
        }
        self.api(req)
    }
}

impl GhlMock {
    /// Starts a mock with the default page cap ([`MAX_PAGE_LIMIT`]).
    pub async fn start() -> Self {
        Self::start_with_max_page_limit(MAX_PAGE_LIMIT).await
    }

    /// Starts a mock whose search answers at most `max_page_limit` contacts a page.
    pub async fn start_with_max_page_limit(max_page_limit: usize) -> Self {
        let state = Arc::new(Mutex::new(State {
            contacts: BTreeMap::new(),
            order: BTreeSet::new(),
            clock_ms: BASE_MS,
            next_id: 0,
            account: Account::new("ab12dc0ae1234a7898f9ff06d4f60000", "xy34dc0ae1234a4858f9ff06d4f60000"),
            max_page_limit,
            allow_duplicates: false,
        }));
        let counters = Arc::new(Counters::default());
        let server = serve(Responder { state: Arc::clone(&state), counters: Arc::clone(&counters) }).await;
        Self { server, state, counters }
    }

    /// The API base URL (`http://127.0.0.1:{port}`), standing in for `services.leadconnectorhq.com`.
    #[must_use]
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The token endpoint: `{uri}/oauth/token`.
    #[must_use]
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.server.uri())
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

    /// Lets the location hold duplicate contacts ("Allow Duplicate Contact").
    pub fn allow_duplicates(&self, allow: bool) {
        lock(&self.state).allow_duplicates = allow;
    }

    /// Stores a raw contact body as if created in GoHighLevel; returns the stored contact.
    #[must_use]
    pub fn insert_raw(&self, body: &Map<String, Value>) -> Value {
        lock(&self.state).insert(body)
    }

    /// Replaces a stored contact's JSON outright, keeping its place in the search order (for
    /// malformed-payload tests).
    pub fn overwrite_raw(&self, id: &str, json: Value) {
        let mut st = lock(&self.state);
        if let Some(s) = st.contacts.get_mut(id) {
            s.json = json;
        }
    }

    /// The stored JSON of a contact.
    #[must_use]
    pub fn contact_json(&self, id: &str) -> Option<Value> {
        lock(&self.state).contacts.get(id).map(|s| s.json.clone())
    }

    /// Changes a stored contact as a person would in GoHighLevel (a raw body, as `PUT` takes it;
    /// `dateUpdated` moves on); returns the stored contact.
    pub fn update_raw(&self, id: &str, body: &Map<String, Value>) -> Option<Value> {
        lock(&self.state).update(id, body)
    }

    /// Every stored contact whose `email` is `email` (case-insensitive): a contact pushed twice
    /// shows up twice when the location allows duplicates.
    #[must_use]
    pub fn contacts_with_email(&self, email: &str) -> Vec<Value> {
        lock(&self.state)
            .contacts
            .values()
            .filter(|s| s.json.get("email").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case(email)))
            .map(|s| s.json.clone())
            .collect()
    }

    /// The body of the webhook GoHighLevel sends for `event_type` (`ContactCreate`,
    /// `ContactUpdate`, `ContactDndUpdate`, `ContactTagUpdate`) about the stored contact `id`: the
    /// contact's fields at the top level with `type`, `locationId`, a fresh `webhookId` and the
    /// `timestamp` [provider-apis 3.8]. `None` when the contact does not exist.
    #[must_use]
    pub fn webhook(&self, event_type: &str, id: &str) -> Option<Vec<u8>> {
        let mut body = self.contact_json(id)?.as_object()?.clone();
        body.insert("type".into(), json!(event_type));
        body.insert("locationId".into(), json!(LOCATION_ID));
        body.insert("webhookId".into(), json!(uuid::Uuid::new_v4().to_string()));
        body.insert("timestamp".into(), json!(iso(OffsetDateTime::now_utc().unix_timestamp() * 1000)));
        serde_json::to_vec(&Value::Object(body)).ok()
    }

    /// The `ContactDelete` webhook body for `id` (deleted contacts carry their id and the delete
    /// time as `dateUpdated`).
    #[must_use]
    pub fn delete_webhook(&self, id: &str) -> Vec<u8> {
        let now = iso(OffsetDateTime::now_utc().unix_timestamp() * 1000);
        let deleted_at = iso(lock(&self.state).tick());
        let body = json!({
            "type": "ContactDelete", "locationId": LOCATION_ID, "id": id,
            "webhookId": uuid::Uuid::new_v4().to_string(), "timestamp": now, "dateUpdated": deleted_at,
        });
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// Signs webhook bodies as HighLevel does with `x-ghl-signature` (base64 Ed25519 over the raw
/// body), with a key made from a fixed seed; give [`WebhookSigner::public_key_base64`] to the
/// verifier under test.
#[derive(Debug, Clone)]
pub struct WebhookSigner {
    key: ed25519_dalek::SigningKey,
}

impl Default for WebhookSigner {
    fn default() -> Self {
        Self::from_seed([7; 32])
    }
}

impl WebhookSigner {
    /// A signer from 32 seed bytes.
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { key: ed25519_dalek::SigningKey::from_bytes(&seed) }
    }

    /// The public key, 32 raw bytes in base64.
    #[must_use]
    pub fn public_key_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.key.verifying_key().to_bytes())
    }

    /// The `x-ghl-signature` value for `body`.
    #[must_use]
    pub fn sign(&self, body: &[u8]) -> String {
        use base64::Engine as _;
        use ed25519_dalek::Signer as _;
        base64::engine::general_purpose::STANDARD.encode(self.key.sign(body).to_bytes())
    }
}

#[async_trait]
impl MockControl for GhlMock {
    fn capabilities(&self) -> MockCapabilities {
        MockCapabilities {
            fields: FIELDS,
            max_page_size: lock(&self.state).max_page_limit,
            reports_deletions: false,
            cursors_expire: false,
            versions: false,
        }
    }

    async fn seed(&self, contacts: Vec<ContactFields>) -> Vec<String> {
        let mut st = lock(&self.state);
        contacts
            .iter()
            .map(|c| {
                let mut body = fields_to_ghl(c);
                body.insert("locationId".into(), json!(LOCATION_ID));
                st.insert(&body).get("id").and_then(Value::as_str).unwrap_or_default().to_owned()
            })
            .collect()
    }

    async fn update_remote(&self, external_id: &str, fields: &ContactFields) {
        lock(&self.state).update(external_id, &fields_to_ghl(fields));
    }

    async fn delete_remote(&self, external_id: &str) {
        lock(&self.state).delete(external_id);
    }

    async fn remote_ids(&self) -> BTreeSet<String> {
        lock(&self.state).contacts.keys().cloned().collect()
    }

    async fn expire_cursors(&self) {
        // GoHighLevel search cursors are positions (`[dateUpdated ms, id]`); they never expire.
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
