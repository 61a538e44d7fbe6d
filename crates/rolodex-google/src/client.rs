//! [`GoogleContacts`]: the People API as a [`ContactSource`] and [`ContactSink`].
//!
//! Listing: `GET people/me/connections` with [`PERSON_FIELDS`], `pageSize` (1000 by default) and
//! `requestSyncToken=true`; incremental listings add `syncToken`. Our [`PageToken`] carries
//! Google's `pageToken` together with the sync token and reset flag of the listing it belongs to,
//! because every page request must repeat the first call's parameters. An expired sync token
//! (400/410 with reason `EXPIRED_SYNC_TOKEN`, or the "Sync token is expired" message) starts a
//! full listing whose pages say `reset`. Persons with `metadata.deleted` are deletions.
//!
//! Writing: `people:createContact`; `updateContact` reads the person first (its `etag` and
//! `metadata.sources` must be echoed), refuses with `Conflict` when the caller's expected etag is
//! stale, and maps People's `failedPrecondition` to `Conflict` too; `deleteContact` treats 404 as
//! done. HTTP retries, rate limits and token refresh are [`HttpConnection`]'s.
//!
//! Tags are contact groups ([`crate::groups`]). The account's groups (`GET contactGroups`, every
//! page) are cached per adapter instance and listed again only when a person belongs to a user
//! group the cache does not know (a group that stays unknown after that is not asked about again),
//! or when a write names a tag the cache has no group for. Writes create missing groups
//! (`POST contactGroups`; a 409 "already exists" lists the groups again) and send every membership:
//! `myContacts`, the groups of the tags, and on update the system groups (`starred`, ...) the
//! person is already in. The contactGroups endpoints are not in the provider fact sheet; their
//! shapes follow the public People API reference.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use reqwest::{Response, StatusCode};
use rolodex_domain::ports::{
    ChangePage, ContactSink, ContactSource, FetchRequest, PageToken, ProviderError, RemoteRef, SyncCursor,
};
use rolodex_domain::{ContactFields, Region};
use rolodex_http::{HttpConnection, parse_retry_after, status_error};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::groups::{ContactGroup, GroupDirectory, ListGroupsResponse};
use crate::mapping::{PERSON_FIELDS, Person, PersonChange, UPDATE_PERSON_FIELDS, person_body};
use rolodex_http::json::{FieldError, from_object, nullable_vec, read_json};

/// The production base URL.
pub const PEOPLE_BASE_URL: &str = "https://people.googleapis.com/v1";
/// The People API's largest page.
pub const MAX_PAGE_SIZE: usize = 1000;
/// The page size asked for when listing contact groups (the API's maximum).
pub const GROUP_PAGE_SIZE: usize = 1000;

/// Google People contacts of one account.
#[derive(Debug, Clone)]
pub struct GoogleContacts {
    conn: HttpConnection,
    base: String,
    region: Region,
    page_size: usize,
    group_page_size: usize,
    groups: Arc<Mutex<GroupCache>>,
}

/// The account's contact groups as last listed.
#[derive(Debug, Default)]
struct GroupCache {
    directory: GroupDirectory,
    /// User groups persons belonged to that the last listing did not have (deleted groups):
    /// not a reason to list again.
    missing: BTreeSet<String>,
}

fn lock(cache: &Mutex<GroupCache>) -> MutexGuard<'_, GroupCache> {
    cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Our page token: Google's `pageToken` plus the listing it belongs to.
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    /// Google's `pageToken`.
    p: String,
    /// The sync token of an incremental listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    /// The listing is a reset (a full listing after an expired token).
    #[serde(default)]
    r: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    #[serde(default, deserialize_with = "nullable_vec")]
    connections: Vec<Value>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    next_sync_token: Option<String>,
}

/// Why a listing call failed.
enum ListError {
    Expired,
    Other(ProviderError),
}

impl From<ProviderError> for ListError {
    fn from(e: ProviderError) -> Self {
        Self::Other(e)
    }
}

impl From<FieldError> for ListError {
    fn from(e: FieldError) -> Self {
        Self::Other(e.into())
    }
}

/// A Google error body: `{"error":{"code","message","status","details":[{"reason"}],"errors":[{"reason"}]}}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<ErrorDetail>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    details: Option<Vec<Value>>,
    #[serde(default)]
    errors: Option<Vec<Value>>,
}

struct Failure {
    status: StatusCode,
    retry_after: Option<std::time::Duration>,
    message: String,
    google_status: String,
    reasons: Vec<String>,
}

impl Failure {
    async fn read(response: Response) -> Self {
        let status = response.status();
        let retry_after = parse_retry_after(response.headers(), OffsetDateTime::now_utc());
        let bytes = response.bytes().await.unwrap_or_default();
        let detail = serde_json::from_slice::<ErrorBody>(&bytes).ok().and_then(|b| b.error).unwrap_or_default();
        let reasons = detail
            .details
            .iter()
            .chain(detail.errors.iter())
            .flatten()
            .filter_map(|d| d.get("reason").and_then(Value::as_str).map(str::to_owned))
            .collect();
        Self {
            status,
            retry_after,
            message: detail.message.unwrap_or_default(),
            google_status: detail.status.unwrap_or_default(),
            reasons,
        }
    }

    fn is_expired_sync_token(&self) -> bool {
        matches!(self.status.as_u16(), 400 | 410)
            && (self.reasons.iter().any(|r| r == "EXPIRED_SYNC_TOKEN")
                || self.message.contains("Sync token is expired")
                || self.status == StatusCode::GONE)
    }

    fn into_error(self) -> ProviderError {
        let text = format!("{} {}", self.google_status, self.message).trim().to_owned();
        if self.status == StatusCode::BAD_REQUEST
            && (self.google_status == "FAILED_PRECONDITION" || self.reasons.iter().any(|r| r == "failedPrecondition"))
        {
            return ProviderError::Conflict { current_version: None };
        }
        if self.status == StatusCode::FORBIDDEN
            && self.reasons.iter().any(|r| r.to_ascii_lowercase().contains("ratelimit"))
        {
            return ProviderError::RateLimited { retry_after: self.retry_after };
        }
        if self.status == StatusCode::BAD_REQUEST {
            return ProviderError::Invalid { field: "request".into(), message: text };
        }
        status_error(self.status, &text, self.retry_after)
    }
}

impl GoogleContacts {
    /// Contacts of the account `conn` is authorised for; phone numbers without a country code are
    /// read in `region`.
    #[must_use]
    pub fn new(conn: HttpConnection, region: Region) -> Self {
        Self {
            conn,
            base: PEOPLE_BASE_URL.to_owned(),
            region,
            page_size: MAX_PAGE_SIZE,
            group_page_size: GROUP_PAGE_SIZE,
            groups: Arc::new(Mutex::new(GroupCache::default())),
        }
    }

    /// Another base URL (a mock server): `{uri}/v1`.
    #[must_use]
    pub fn with_base_url(mut self, base: impl Into<String>) -> Self {
        self.base = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// Another page size (1 to 1000).
    #[must_use]
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Another page size for listing contact groups (1 to 1000).
    #[must_use]
    pub fn with_group_page_size(mut self, page_size: usize) -> Self {
        self.group_page_size = page_size.clamp(1, GROUP_PAGE_SIZE);
        self
    }

    async fn list(&self, sync: Option<&str>, page: Option<&str>, reset: bool) -> Result<ChangePage, ListError> {
        let url = format!("{}/people/me/connections", self.base);
        let page_size = self.page_size.to_string();
        let response = self
            .conn
            .send(|c| {
                let mut query: Vec<(&str, &str)> =
                    vec![("personFields", PERSON_FIELDS), ("pageSize", &page_size), ("requestSyncToken", "true")];
                if let Some(s) = sync {
                    query.push(("syncToken", s));
                }
                if let Some(p) = page {
                    query.push(("pageToken", p));
                }
                c.get(&url).query(&query)
            })
            .await?;
        if !response.status().is_success() {
            let failure = Failure::read(response).await;
            if sync.is_some() && failure.is_expired_sync_token() {
                return Err(ListError::Expired);
            }
            return Err(ListError::Other(failure.into_error()));
        }
        let body: ListResponse = read_json(response).await?;
        let mut out = ChangePage { reset, ..ChangePage::default() };
        let persons = body
            .connections
            .into_iter()
            .enumerate()
            .map(|(i, person)| from_object::<Person>(person).map_err(|e| e.within(&format!("connections[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        let groups = self.directory_for(persons.iter().flat_map(Person::memberships).collect()).await?;
        for (i, person) in persons.into_iter().enumerate() {
            match person.into_change(self.region, &groups).map_err(|e| e.within(&format!("connections[{i}]")))? {
                PersonChange::Upsert(c) => out.upserts.push(*c),
                PersonChange::Deleted(id) => out.deletions.push(id),
            }
        }
        match body.next_page_token.filter(|t| !t.is_empty()) {
            Some(p) => {
                let position = Position { p, s: sync.map(str::to_owned), r: reset };
                let token = serde_json::to_string(&position).map_err(|e| ProviderError::Unexpected(Box::new(e)))?;
                out.next_page = Some(PageToken(token));
            }
            None => out.next_cursor = body.next_sync_token.filter(|t| !t.is_empty()).map(SyncCursor),
        }
        Ok(out)
    }

    async fn full(&self, reset: bool) -> Result<ChangePage, ProviderError> {
        match self.list(None, None, reset).await {
            Ok(page) => Ok(page),
            Err(ListError::Other(e)) => Err(e),
            Err(ListError::Expired) => {
                Err(ProviderError::Transient("a full listing reported an expired sync token".into()))
            }
        }
    }

    /// Every contact group of the account (`GET contactGroups`, following `nextPageToken`).
    async fn list_groups(&self) -> Result<GroupDirectory, ProviderError> {
        let url = format!("{}/contactGroups", self.base);
        let page_size = self.group_page_size.to_string();
        let mut groups = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let response = self
                .conn
                .send(|c| {
                    let mut query = vec![("pageSize", page_size.as_str()), ("groupFields", "name,groupType")];
                    if let Some(p) = &page {
                        query.push(("pageToken", p));
                    }
                    c.get(&url).query(&query)
                })
                .await?;
            if !response.status().is_success() {
                return Err(Failure::read(response).await.into_error());
            }
            let body: ListGroupsResponse = read_json(response).await?;
            groups.extend(body.contact_groups);
            match body.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) if page.as_deref() != Some(next.as_str()) => page = Some(next),
                _ => return Ok(GroupDirectory::new(groups)),
            }
        }
    }

    /// Lists the groups again and caches them; `referenced` user groups (and those missing
    /// before) that are still unknown are remembered as missing.
    async fn refresh_groups(&self, referenced: &BTreeSet<String>) -> Result<GroupDirectory, ProviderError> {
        let directory = self.list_groups().await?;
        let mut cache = lock(&self.groups);
        cache.missing = directory.unknown(referenced.iter().chain(&cache.missing).map(String::as_str));
        cache.directory = directory.clone();
        Ok(directory)
    }

    /// The directory that names the groups in `memberships`: the cached one, listed again first
    /// when a user group is unknown (and not known to be missing).
    async fn directory_for(&self, memberships: BTreeSet<String>) -> Result<GroupDirectory, ProviderError> {
        let stale = {
            let cache = lock(&self.groups);
            let unknown = cache.directory.unknown(memberships.iter().map(String::as_str));
            if unknown.is_subset(&cache.missing) {
                return Ok(cache.directory.clone());
            }
            unknown
        };
        tracing::debug!(unknown = stale.len(), "listing People contact groups");
        self.refresh_groups(&memberships).await
    }

    /// `POST contactGroups` for a label named `name`. `Ok(None)` when one by that name exists.
    async fn create_group(&self, name: &str) -> Result<Option<ContactGroup>, ProviderError> {
        let url = format!("{}/contactGroups", self.base);
        let body = json!({ "contactGroup": { "name": name } });
        let response = self.conn.send(|c| c.post(&url).json(&body)).await?;
        if response.status() == StatusCode::CONFLICT {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(Failure::read(response).await.into_error());
        }
        let group: ContactGroup = from_object(read_json(response).await?)?;
        Ok(Some(group))
    }

    /// The resource names of the user groups for `tags`, creating the groups that do not exist.
    async fn groups_for_tags(&self, tags: &BTreeSet<String>) -> Result<Vec<String>, ProviderError> {
        let tags: Vec<&str> = tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
        let lookup = |directory: &GroupDirectory| -> Vec<Option<String>> {
            tags.iter().map(|t| directory.group_for_tag(t).map(str::to_owned)).collect()
        };
        let mut found = lookup(&lock(&self.groups).directory);
        if found.iter().any(Option::is_none) {
            // The cache may be stale: a label made in Google since must not be made twice.
            found = lookup(&self.refresh_groups(&BTreeSet::new()).await?);
        }
        let mut out = Vec::with_capacity(tags.len());
        for (tag, group) in tags.iter().zip(found) {
            let group = match group {
                Some(g) => g,
                None => match self.create_group(tag).await? {
                    Some(created) if !created.resource_name.is_empty() => {
                        let resource = created.resource_name.clone();
                        lock(&self.groups).directory.insert(created);
                        resource
                    }
                    _ => self
                        .refresh_groups(&BTreeSet::new())
                        .await?
                        .group_for_tag(tag)
                        .map(str::to_owned)
                        .ok_or_else(|| ProviderError::Conflict { current_version: None })?,
                },
            };
            out.push(group);
        }
        Ok(out)
    }

    async fn person(&self, resource_name: &str) -> Result<Person, ProviderError> {
        let url = format!("{}/{resource_name}", self.base);
        let response = self.conn.send(|c| c.get(&url).query(&[("personFields", "metadata,memberships")])).await?;
        if !response.status().is_success() {
            return Err(Failure::read(response).await.into_error());
        }
        let value: Value = read_json(response).await?;
        Ok(from_object(value)?)
    }
}

fn remote_ref(person: Person) -> Result<RemoteRef, ProviderError> {
    if person.resource_name.trim().is_empty() {
        return Err(ProviderError::Invalid { field: "resourceName".into(), message: "empty".into() });
    }
    let updated_at = person.metadata.as_ref().and_then(|m| m.sources.iter().filter_map(|s| s.update_time).max());
    Ok(RemoteRef { external_id: person.resource_name, version: person.etag, updated_at, fields: None })
}

fn check_resource_name(id: &str) -> Result<(), ProviderError> {
    let rest = id.strip_prefix("people/").unwrap_or_default();
    if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ProviderError::NotFound(format!("`{id}` is not a People resource name")));
    }
    Ok(())
}

#[async_trait]
impl ContactSource for GoogleContacts {
    fn provider(&self) -> &'static str {
        crate::mapping::SOURCE
    }

    async fn fetch(&self, request: FetchRequest) -> Result<ChangePage, ProviderError> {
        let result = match &request {
            FetchRequest::Full => return self.full(false).await,
            FetchRequest::Since(cursor) => self.list(Some(&cursor.0), None, false).await,
            FetchRequest::Page(token) => {
                let position: Position = serde_json::from_str(&token.0)
                    .map_err(|e| ProviderError::Invalid { field: "page_token".into(), message: e.to_string() })?;
                self.list(position.s.as_deref(), Some(&position.p), position.r).await
            }
        };
        match result {
            Ok(page) => Ok(page),
            Err(ListError::Other(e)) => Err(e),
            Err(ListError::Expired) => {
                tracing::info!("People sync token expired; starting a full listing");
                self.full(true).await
            }
        }
    }
}

#[async_trait]
impl ContactSink for GoogleContacts {
    async fn create(&self, fields: &ContactFields) -> Result<RemoteRef, ProviderError> {
        let url = format!("{}/people:createContact", self.base);
        let groups = self.groups_for_tags(&fields.tags).await?;
        let body = person_body(fields, &groups);
        let response = self.conn.send(|c| c.post(&url).query(&[("personFields", PERSON_FIELDS)]).json(&body)).await?;
        if !response.status().is_success() {
            return Err(Failure::read(response).await.into_error());
        }
        let value: Value = read_json(response).await?;
        remote_ref(from_object(value)?)
    }

    async fn update(
        &self,
        external_id: &str,
        expected_version: Option<&str>,
        fields: &ContactFields,
    ) -> Result<RemoteRef, ProviderError> {
        check_resource_name(external_id)?;
        let current = self.person(external_id).await?;
        if let Some(expected) = expected_version
            && current.etag.as_deref() != Some(expected)
        {
            return Err(ProviderError::Conflict { current_version: current.etag });
        }
        let source = current.contact_source().ok_or_else(|| ProviderError::Invalid {
            field: "metadata.sources".into(),
            message: "no CONTACT source".into(),
        })?;
        let mut groups = self.groups_for_tags(&fields.tags).await?;
        {
            // Keep the system groups (`starred`, ...) the person is in; user groups are the tags.
            let cache = lock(&self.groups);
            groups.extend(current.memberships().filter(|g| cache.directory.is_system(g)));
        }
        let mut body = person_body(fields, &groups);
        body["etag"] = json!(current.etag);
        body["metadata"] = json!({"sources": [{"type": source.source_type.as_deref().unwrap_or("CONTACT"), "id": source.id, "etag": source.etag}]});
        let url = format!("{}/{external_id}:updateContact", self.base);
        let response = self
            .conn
            .send(|c| {
                c.patch(&url)
                    .query(&[("updatePersonFields", UPDATE_PERSON_FIELDS), ("personFields", PERSON_FIELDS)])
                    .json(&body)
            })
            .await?;
        if !response.status().is_success() {
            return Err(Failure::read(response).await.into_error());
        }
        let value: Value = read_json(response).await?;
        remote_ref(from_object(value)?)
    }

    async fn delete(&self, external_id: &str) -> Result<(), ProviderError> {
        if check_resource_name(external_id).is_err() {
            return Ok(());
        }
        let url = format!("{}/{external_id}:deleteContact", self.base);
        let response = self.conn.send(|c| c.delete(&url)).await?;
        match response.status() {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Ok(()),
            _ => Err(Failure::read(response).await.into_error()),
        }
    }
}
