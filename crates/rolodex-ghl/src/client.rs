//! [`GhlContacts`]: GoHighLevel contacts of one location as a [`ContactSource`] and
//! [`ContactSink`].
//!
//! Listing: `POST /contacts/search` sorted by `dateUpdated` ascending (then id), paged with the
//! `searchAfter` cursor (`[epoch ms, id]`, taken from the last contact of a page). A page shorter
//! than `pageLimit`, or an empty one, ends the listing. Both our [`PageToken`] and our
//! [`SyncCursor`] are that position as JSON: an incremental fetch is a search after the last
//! position seen, so every contact changed since comes back (search reports no deletions; webhooks
//! and reconciliation cover those). Search cursors never expire.
//!
//! Writing: `POST /contacts/` (201), `PUT /contacts/{id}` (`succeded` / `succeeded`, either),
//! `DELETE /contacts/{id}` (a missing contact counts as deleted), `POST /contacts/upsert`
//! ([`GhlContacts::upsert`]) and `GET /contacts/{id}` ([`GhlContacts::get`]). Every call sends
//! `Version: 2021-07-28`. GoHighLevel has no etags: `external_version` is `None`.

use async_trait::async_trait;
use reqwest::{Response, StatusCode};
use rolodex_domain::ports::{
    ChangePage, ContactSink, ContactSource, FetchRequest, PageToken, ProviderError, RemoteRef, SyncCursor,
};
use rolodex_domain::{ContactFields, IncomingContact, Region};
use rolodex_http::{HttpConnection, parse_retry_after, status_error};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::mapping::{GhlContact, WriteKind, contact_body};
use rolodex_http::json::{FieldError, from_object, nullable_vec, read_json, time_to_millis};

/// The production base URL.
pub const GHL_BASE_URL: &str = "https://services.leadconnectorhq.com";
/// The required `Version` header value.
pub const API_VERSION: &str = "2021-07-28";
/// The page size known to work (the maximum is UNCONFIRMED).
pub const DEFAULT_PAGE_LIMIT: usize = 100;

/// GoHighLevel contacts of one location.
#[derive(Debug, Clone)]
pub struct GhlContacts {
    conn: HttpConnection,
    base: String,
    location_id: String,
    region: Region,
    page_limit: usize,
    job_title_field: Option<String>,
}

/// A search position: `[dateUpdated epoch ms, id]`.
type Position = (i64, String);

#[derive(Debug, Deserialize)]
struct SearchResponse {
    #[serde(default, deserialize_with = "nullable_vec")]
    contacts: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct ContactEnvelope {
    contact: Value,
    #[serde(default)]
    succeded: Option<bool>,
    #[serde(default)]
    succeeded: Option<bool>,
    #[serde(default)]
    new: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct SuccessEnvelope {
    #[serde(default)]
    succeded: Option<bool>,
    #[serde(default)]
    succeeded: Option<bool>,
}

/// An error body: `{"statusCode","message": text | [texts],"error","meta":{"contactId"}}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    meta: Option<Value>,
}

async fn failure(response: Response) -> ProviderError {
    let status = response.status();
    let retry_after = parse_retry_after(response.headers(), OffsetDateTime::now_utc());
    let bytes = response.bytes().await.unwrap_or_default();
    let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
    let message = match &body.message {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => {
            items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect::<Vec<_>>().join("; ")
        }
        Some(other) => other.to_string(),
        None => body.error.clone().unwrap_or_default(),
    };
    let lower = message.to_ascii_lowercase();
    match status.as_u16() {
        400 if lower.contains("duplicate") => ProviderError::Duplicate {
            existing_id: body.meta.as_ref().and_then(|m| m.get("contactId")).and_then(Value::as_str).map(str::to_owned),
        },
        400 | 404 if lower.contains("not found") => ProviderError::NotFound(message),
        400 | 422 => ProviderError::Invalid { field: "request".into(), message },
        _ => status_error(status, &message, retry_after),
    }
}

fn succeeded(a: Option<bool>, b: Option<bool>) -> Result<(), ProviderError> {
    if a == Some(false) || b == Some(false) {
        return Err(ProviderError::Unexpected("GoHighLevel answered succeded: false".into()));
    }
    Ok(())
}

fn parse_position(text: &str, field: &str) -> Result<Option<Position>, ProviderError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ProviderError::Invalid { field: field.into(), message: format!("not a search position: {e}") })?;
    match value {
        Value::Null => Ok(None),
        Value::Array(a) if a.is_empty() => Ok(None),
        Value::Array(a) => match (a.first().and_then(Value::as_i64), a.get(1).and_then(Value::as_str)) {
            (Some(ms), Some(id)) => Ok(Some((ms, id.to_owned()))),
            _ => Err(ProviderError::Invalid { field: field.into(), message: "expected [epoch ms, id]".into() }),
        },
        _ => Err(ProviderError::Invalid { field: field.into(), message: "expected [epoch ms, id]".into() }),
    }
}

fn position_text(position: Option<&Position>) -> String {
    position.map_or_else(|| "[]".to_owned(), |(ms, id)| json!([ms, id]).to_string())
}

/// A contact's search position: its `searchAfter`, else (`dateUpdated`, `id`).
fn position_of(value: &Value, contact: &GhlContact, path: &str) -> Result<Position, FieldError> {
    if let Some(sa) = value.get("searchAfter").filter(|v| !v.is_null()) {
        return match (sa.get(0).and_then(Value::as_i64), sa.get(1).and_then(Value::as_str)) {
            (Some(ms), Some(id)) => Ok((ms, id.to_owned())),
            _ => Err(FieldError::new(format!("{path}.searchAfter"), "expected [epoch ms, id]")),
        };
    }
    let updated = contact
        .date_updated
        .ok_or_else(|| FieldError::new(format!("{path}.dateUpdated"), "missing (needed for the search cursor)"))?;
    Ok((time_to_millis(updated), contact.id.clone()))
}

impl GhlContacts {
    /// Contacts of `location_id`; phone numbers without a country code are read in `region`.
    #[must_use]
    pub fn new(conn: HttpConnection, location_id: impl Into<String>, region: Region) -> Self {
        Self {
            conn,
            base: GHL_BASE_URL.to_owned(),
            location_id: location_id.into(),
            region,
            page_limit: DEFAULT_PAGE_LIMIT,
            job_title_field: None,
        }
    }

    /// GoHighLevel has no job title field; many locations add a custom field for it. With its id
    /// set here, `job_title` is read from and written to that custom field.
    #[must_use]
    pub fn with_job_title_field(mut self, custom_field_id: impl Into<String>) -> Self {
        self.job_title_field = Some(custom_field_id.into());
        self
    }

    fn job_title_key(&self) -> Option<String> {
        self.job_title_field.as_ref().map(|id| format!("{}{id}", crate::mapping::keys::CUSTOM_FIELD_PREFIX))
    }

    fn read(&self, contact: GhlContact) -> Result<IncomingContact, FieldError> {
        let mut incoming = contact.into_incoming(self.region)?;
        if let Some(key) = self.job_title_key()
            && let Some(value) = incoming.fields.custom.remove(&key)
        {
            incoming.fields.job_title = value.as_str().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        }
        Ok(incoming)
    }

    fn body(&self, fields: &ContactFields, kind: WriteKind<'_>) -> Value {
        match self.job_title_key() {
            Some(key) => {
                let mut fields = fields.clone();
                fields.custom.insert(key, fields.job_title.clone().map_or(Value::String(String::new()), Value::String));
                contact_body(&fields, kind)
            }
            None => contact_body(fields, kind),
        }
    }

    /// Another base URL (a mock server).
    #[must_use]
    pub fn with_base_url(mut self, base: impl Into<String>) -> Self {
        self.base = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// Another `pageLimit` (at least 1).
    #[must_use]
    pub fn with_page_limit(mut self, page_limit: usize) -> Self {
        self.page_limit = page_limit.max(1);
        self
    }

    /// The location id.
    #[must_use]
    pub fn location_id(&self) -> &str {
        &self.location_id
    }

    fn request(&self, c: &reqwest::Client, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        c.request(method, format!("{}{path}", self.base))
            .header("Version", API_VERSION)
            .header(reqwest::header::ACCEPT, "application/json")
    }

    async fn search(&self, after: Option<Position>) -> Result<ChangePage, ProviderError> {
        let mut body = json!({
            "locationId": self.location_id,
            "pageLimit": self.page_limit,
            "sort": [{"field": "dateUpdated", "direction": "asc"}],
        });
        if let Some((ms, id)) = &after {
            body["searchAfter"] = json!([ms, id]);
        }
        let response =
            self.conn.send(|c| self.request(c, reqwest::Method::POST, "/contacts/search").json(&body)).await?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        let parsed: SearchResponse = read_json(response).await?;
        let full_page = parsed.contacts.len() >= self.page_limit;
        let mut page = ChangePage::default();
        let mut last = after;
        for (i, value) in parsed.contacts.into_iter().enumerate() {
            let path = format!("contacts[{i}]");
            let contact: GhlContact = from_object(value.clone()).map_err(|e| e.within(&path))?;
            last = Some(position_of(&value, &contact, &path)?);
            page.upserts.push(self.read(contact).map_err(|e| e.within(&path))?);
        }
        if full_page {
            page.next_page = Some(PageToken(position_text(last.as_ref())));
        } else {
            page.next_cursor = Some(SyncCursor(position_text(last.as_ref())));
        }
        Ok(page)
    }

    /// `GET /contacts/{id}`.
    ///
    /// # Errors
    /// [`ProviderError`]; `NotFound` when GoHighLevel does not know the id.
    pub async fn get(&self, id: &str) -> Result<IncomingContact, ProviderError> {
        let path = format!("/contacts/{id}");
        let response = self.conn.send(|c| self.request(c, reqwest::Method::GET, &path)).await?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        let envelope: ContactEnvelope = read_json(response).await?;
        let contact: GhlContact = from_object(envelope.contact).map_err(|e| e.within("contact"))?;
        Ok(self.read(contact).map_err(|e| e.within("contact"))?)
    }

    /// `POST /contacts/upsert`: GoHighLevel finds the contact by its duplicate rule (email, then
    /// phone, as the location configures) and updates it, or creates one. Returns the contact and
    /// whether it is new.
    ///
    /// # Errors
    /// [`ProviderError`].
    pub async fn upsert(&self, fields: &ContactFields) -> Result<(RemoteRef, bool), ProviderError> {
        let body = self.body(fields, WriteKind::Create { location_id: &self.location_id });
        let response =
            self.conn.send(|c| self.request(c, reqwest::Method::POST, "/contacts/upsert").json(&body)).await?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        let envelope: ContactEnvelope = read_json(response).await?;
        succeeded(envelope.succeded, envelope.succeeded)?;
        let is_new = envelope.new.unwrap_or(false);
        Ok((self.remote_ref(envelope.contact)?, is_new))
    }
}

impl GhlContacts {
    /// The written contact as GoHighLevel answered it.
    fn remote_ref(&self, contact: Value) -> Result<RemoteRef, ProviderError> {
        let contact: GhlContact = from_object(contact).map_err(|e| e.within("contact"))?;
        let (external_id, updated_at) = (contact.id.clone(), contact.date_updated);
        // The answer's fields are a bonus for echo detection: an answer that does not map is
        // still a successful write.
        let fields = self.read(contact).ok().map(|c| c.fields);
        Ok(RemoteRef { external_id, version: None, updated_at, fields })
    }
}

fn check_id(id: &str) -> Result<(), ProviderError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ProviderError::NotFound(format!("`{id}` is not a GoHighLevel contact id")));
    }
    Ok(())
}

#[async_trait]
impl ContactSource for GhlContacts {
    fn provider(&self) -> &'static str {
        crate::mapping::SOURCE
    }

    async fn fetch(&self, request: FetchRequest) -> Result<ChangePage, ProviderError> {
        match request {
            FetchRequest::Full => self.search(None).await,
            FetchRequest::Since(cursor) => self.search(parse_position(&cursor.0, "cursor")?).await,
            FetchRequest::Page(token) => self.search(parse_position(&token.0, "page_token")?).await,
        }
    }
}

#[async_trait]
impl ContactSink for GhlContacts {
    fn project(&self, fields: &ContactFields) -> ContactFields {
        // The write body read back as a contact: exactly what a round trip keeps.
        let mut body = self.body(fields, WriteKind::Update);
        if let Value::Object(map) = &mut body {
            map.retain(|_, v| !v.is_null());
            map.insert("id".to_owned(), Value::String("projection".to_owned()));
        }
        let projected = from_object::<GhlContact>(body).ok().and_then(|c| self.read(c).ok());
        match projected {
            Some(incoming) => {
                let mut out = incoming.fields;
                // Flags GoHighLevel owns (do-not-disturb, source) are not written; keep them as given.
                out.do_not_disturb = fields.do_not_disturb;
                out.source.clone_from(&fields.source);
                out
            }
            None => fields.clone(),
        }
    }

    async fn create(&self, fields: &ContactFields) -> Result<RemoteRef, ProviderError> {
        let body = self.body(fields, WriteKind::Create { location_id: &self.location_id });
        let response = self.conn.send(|c| self.request(c, reqwest::Method::POST, "/contacts/").json(&body)).await?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        let envelope: ContactEnvelope = read_json(response).await?;
        self.remote_ref(envelope.contact)
    }

    async fn update(
        &self,
        external_id: &str,
        _expected_version: Option<&str>,
        fields: &ContactFields,
    ) -> Result<RemoteRef, ProviderError> {
        check_id(external_id)?;
        let body = self.body(fields, WriteKind::Update);
        let path = format!("/contacts/{external_id}");
        let response = self.conn.send(|c| self.request(c, reqwest::Method::PUT, &path).json(&body)).await?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        let envelope: ContactEnvelope = read_json(response).await?;
        succeeded(envelope.succeded, envelope.succeeded)?;
        self.remote_ref(envelope.contact)
    }

    async fn delete(&self, external_id: &str) -> Result<(), ProviderError> {
        if check_id(external_id).is_err() {
            return Ok(());
        }
        let path = format!("/contacts/{external_id}");
        let response = self.conn.send(|c| self.request(c, reqwest::Method::DELETE, &path)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        if !response.status().is_success() {
            return match failure(response).await {
                ProviderError::NotFound(_) => Ok(()),
                other => Err(other),
            };
        }
        let envelope: SuccessEnvelope = read_json(response).await?;
        succeeded(envelope.succeded, envelope.succeeded)
    }
}
