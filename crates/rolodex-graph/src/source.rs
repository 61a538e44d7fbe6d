//! `ContactSource` for Graph: full listing (initial delta round, or `GET /contacts`), delta
//! changes with `@removed` deletions, and the reset to a full round when the delta token expired.
//! One `fetch` is one Graph request (plus the restart request on an expired token): pages are
//! never read ahead, so memory holds one page.

use async_trait::async_trait;
use rolodex_domain::ports::{ChangePage, ContactSource, FetchRequest, PageToken, ProviderError, SyncCursor};
use rolodex_http::invalid;
use serde_json::Value;
use url::Url;

use crate::GraphContacts;
use crate::error::GraphFailure;
use crate::mapping::{Obj, SELECT, contact_from_graph};

/// What round a page belongs to; kept in the page token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    /// An initial delta round asked for by `Full`.
    Full,
    /// Changes since a cursor.
    Changes,
    /// An initial delta round forced by an expired cursor.
    Reset,
    /// `GET /contacts` pages.
    List,
}

impl Round {
    fn tag(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Changes => "delta",
            Self::Reset => "reset",
            Self::List => "list",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        [Self::Full, Self::Changes, Self::Reset, Self::List].into_iter().find(|r| r.tag() == tag)
    }
}

impl GraphContacts {
    fn initial_delta_url(&self) -> Result<Url, ProviderError> {
        let mut url = self.url(&["contacts", "delta"])?;
        url.query_pairs_mut().append_pair("$select", SELECT);
        Ok(url)
    }

    fn list_url(&self) -> Result<Url, ProviderError> {
        let mut url = self.url(&["contacts"])?;
        url.query_pairs_mut().append_pair("$select", SELECT).append_pair("$top", &self.config.page_size.to_string());
        Ok(url)
    }

    async fn get_page(&self, url: &Url) -> Result<Result<Value, GraphFailure>, ProviderError> {
        let prefer = format!("odata.maxpagesize={}", self.config.page_size);
        let response = self.conn.send(|c| c.get(url.clone()).header("Prefer", prefer.as_str())).await?;
        if !response.status().is_success() {
            return Ok(Err(GraphFailure::read(response).await));
        }
        Ok(Ok(rolodex_http::json::read_json(response).await?))
    }

    async fn fetch_round(&self, url: Url, round: Round) -> Result<ChangePage, ProviderError> {
        let (body, round) = match self.get_page(&url).await? {
            Ok(body) => (body, round),
            Err(failure) if failure.is_sync_reset() && round != Round::List => {
                // The token (deltaLink or a skiptoken of its round) expired: start over.
                match self.get_page(&self.initial_delta_url()?).await? {
                    Ok(body) => (body, Round::Reset),
                    Err(failure) => return Err(failure.into_error()),
                }
            }
            Err(failure) => return Err(failure.into_error()),
        };
        self.page_from_body(&body, round)
    }

    fn page_from_body(&self, body: &Value, round: Round) -> Result<ChangePage, ProviderError> {
        let obj = Obj::new(body, "")?;
        let Some(items) = obj.get("value") else { return Err(invalid("value", "missing")) };
        let Value::Array(items) = items else { return Err(invalid("value", "expected an array")) };
        let mut page = ChangePage { reset: round == Round::Reset, ..ChangePage::default() };
        for (i, item) in items.iter().enumerate() {
            let path = format!("value[{i}]");
            let entry = Obj::new(item, &path)?;
            if entry.get("@removed").is_some() {
                let id = entry.str("id")?.ok_or_else(|| invalid(entry.field("id"), "missing"))?;
                if round == Round::Changes {
                    page.deletions.push(id.to_owned());
                }
                continue;
            }
            page.upserts.push(contact_from_graph(item, self.config.region, &path)?);
        }
        let next = obj.str("@odata.nextLink")?;
        let delta = obj.str("@odata.deltaLink")?;
        match (next, delta) {
            (Some(next), _) => {
                let url = self.checked(next, "@odata.nextLink")?;
                page.next_page = Some(PageToken(format!("{}:{url}", round.tag())));
            }
            (None, Some(delta)) if round != Round::List => {
                page.next_cursor = Some(SyncCursor(self.checked(delta, "@odata.deltaLink")?.to_string()));
            }
            (None, _) if round == Round::List => {}
            (None, _) => return Err(invalid("@odata.deltaLink", "a delta page has neither nextLink nor deltaLink")),
        }
        Ok(page)
    }
}

#[async_trait]
impl ContactSource for GraphContacts {
    fn provider(&self) -> &'static str {
        "graph"
    }

    async fn fetch(&self, request: FetchRequest) -> Result<ChangePage, ProviderError> {
        match request {
            FetchRequest::Full => match self.config.full_listing {
                crate::FullListing::Delta => self.fetch_round(self.initial_delta_url()?, Round::Full).await,
                crate::FullListing::List => self.fetch_round(self.list_url()?, Round::List).await,
            },
            FetchRequest::Since(cursor) => {
                let url = self.checked(&cursor.0, "cursor")?;
                self.fetch_round(url, Round::Changes).await
            }
            FetchRequest::Page(token) => {
                let (tag, link) =
                    token.0.split_once(':').ok_or_else(|| invalid("page_token", "not a Graph page token"))?;
                let round = Round::from_tag(tag).ok_or_else(|| invalid("page_token", "not a Graph page token"))?;
                let url = self.checked(link, "page_token")?;
                self.fetch_round(url, round).await
            }
        }
    }
}
