//! `rolodex-graph`: the Microsoft Graph (v1.0) contacts adapter. [`GraphContacts`] implements
//! `ContactSource` (full listing and incremental changes with delta query) and `ContactSink`
//! (create with POST, update with PATCH, delete) for one mailbox, over a
//! [`rolodex_http::HttpConnection`] that brings OAuth refresh, retries and rate limits.
//! [`mapping`] converts Graph contacts to and from the domain. Sending mail and mail delta are
//! not here yet.
//!
//! # API
//! - [`GraphConfig::new(region)`](GraphConfig::new) with `base_url`, `mailbox` ([`Mailbox::Me`]
//!   or [`Mailbox::User`]), `folder_id`, `page_size` (default 200, sent as `$top` and
//!   `Prefer: odata.maxpagesize`), `region` (for phone numbers without a country code) and
//!   `full_listing` ([`FullListing::Delta`], the default, ends with a cursor; [`FullListing::List`]
//!   pages `GET /contacts` and ends without one).
//! - [`GraphContacts::new(connection, config)`](GraphContacts::new).
//! - `fetch(Full)`: initial delta round (or list); `fetch(Since(deltaLink))`: changes, with
//!   `@removed` entries as deletions; `fetch(Page(token))`: the next page (the token wraps the
//!   `@odata.nextLink`). The cursor is the whole `@odata.deltaLink`. An expired token (410
//!   `SyncStateNotFound`, `resyncRequired`) restarts a full delta round with `reset = true`.
//!   Page and cursor URLs must point at the configured Graph host (the bearer token is never
//!   sent anywhere else).
//! - `create` -> 201, `update` -> PATCH of every mapped field with `If-Match: W/"{changeKey}"`
//!   when a version is given (412 -> `Conflict`), `delete` -> 204 (404 is `Ok`).
//! - Errors: `ProviderError` throughout; malformed payloads are `Invalid { field }` with the JSON
//!   path (`value[3].emailAddresses[0].address`).

mod error;
pub mod mapping;
mod sink;
mod source;

use rolodex_domain::Region;
use rolodex_domain::ports::ProviderError;
use rolodex_http::{HttpConnection, invalid};
use url::Url;

/// Whose contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mailbox {
    /// The signed-in user (`/me`).
    Me,
    /// Another mailbox by id or user principal name (`/users/{id}`, application permissions).
    User(String),
}

/// How `FetchRequest::Full` lists contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullListing {
    /// An initial delta round: every contact, then a deltaLink cursor.
    Delta,
    /// `GET /contacts` with `$top` and nextLink paging; no cursor.
    List,
}

/// Where and how to read contacts.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// `https://graph.microsoft.com/v1.0` (a mock's URL in tests).
    pub base_url: Url,
    /// Whose contacts.
    pub mailbox: Mailbox,
    /// A contact folder; `None` is the default folder (`/contacts`, and `/contacts/delta`, which
    /// works but is undocumented).
    pub folder_id: Option<String>,
    /// Contacts per page asked for (`$top`, `Prefer: odata.maxpagesize`).
    pub page_size: usize,
    /// The region assumed for phone numbers written without a country code.
    pub region: Region,
    /// How a full listing is made.
    pub full_listing: FullListing,
}

impl GraphConfig {
    /// Graph v1.0, `/me`, default folder, 200 per page, full listing by delta.
    #[must_use]
    #[expect(clippy::expect_used, reason = "a constant URL that is known to parse")]
    pub fn new(region: Region) -> Self {
        Self {
            base_url: Url::parse("https://graph.microsoft.com/v1.0").expect("constant URL"),
            mailbox: Mailbox::Me,
            folder_id: None,
            page_size: 200,
            region,
            full_listing: FullListing::Delta,
        }
    }
}

/// One mailbox's contacts at Microsoft Graph.
#[derive(Debug, Clone)]
pub struct GraphContacts {
    conn: HttpConnection,
    config: GraphConfig,
}

impl GraphContacts {
    /// An adapter over `conn` (which carries auth, retries and the mailbox's rate limiter).
    #[must_use]
    pub fn new(conn: HttpConnection, config: GraphConfig) -> Self {
        Self { conn, config }
    }

    /// `{base}/{me|users/{id}}[/contactFolders/{folder}]` followed by `segments` (contact
    /// collections live in the configured folder).
    fn url(&self, segments: &[&str]) -> Result<Url, ProviderError> {
        self.mailbox_url(self.config.folder_id.as_deref(), segments)
    }

    /// `{base}/{me|users/{id}}/contacts/{id}` (items are addressed without their folder).
    fn item_url(&self, id: &str) -> Result<Url, ProviderError> {
        self.mailbox_url(None, &["contacts", id])
    }

    fn mailbox_url(&self, folder: Option<&str>, segments: &[&str]) -> Result<Url, ProviderError> {
        let mut url = self.config.base_url.clone();
        {
            let mut path = url.path_segments_mut().map_err(|()| invalid("base_url", "cannot be a base URL"))?;
            path.pop_if_empty();
            match &self.config.mailbox {
                Mailbox::Me => {
                    path.push("me");
                }
                Mailbox::User(id) => {
                    path.push("users").push(id);
                }
            }
            if let Some(folder) = folder {
                path.push("contactFolders").push(folder);
            }
            path.extend(segments);
        }
        Ok(url)
    }

    /// A URL Graph gave us (nextLink, deltaLink), checked to be on the configured host.
    fn checked(&self, link: &str, field: &str) -> Result<Url, ProviderError> {
        let url = Url::parse(link).map_err(|e| invalid(field, format!("not a URL: {e}")))?;
        if url.origin() != self.config.base_url.origin() {
            return Err(invalid(
                field,
                format!("points at {}, not the Graph host", url.origin().ascii_serialization()),
            ));
        }
        Ok(url)
    }
}
