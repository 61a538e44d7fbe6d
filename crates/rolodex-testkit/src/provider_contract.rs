//! Contract suites for the `ContactSource` and `ContactSink` ports, run by every provider adapter
//! against its mock server (`crate::mocks`). The suites are generic: they drive the adapter
//! through the port traits and drive the mock through [`MockControl`], a small trait each mock
//! implements (seed contacts, change or delete them remotely, expire cursors, inject failures,
//! count requests).
//!
//! # Use
//! ```ignore
//! let mock = GraphMock::start().await;                    // implements MockControl
//! let adapter = GraphContacts::new(mock.connection(), config);   // ContactSource + ContactSink
//! provider_contract::source_contract(&adapter, &mock).await;
//! provider_contract::sink_contract(&adapter, &adapter, &mock).await;
//! provider_contract::paging_contract(&adapter, &mock, 10_000).await;
//! ```
//! Every function panics (test failure) with a message naming the broken rule. Each takes a
//! fresh adapter + mock pair; `source_contract` ends by revoking the refresh token, so do not
//! reuse the pair afterwards.
//!
//! The adapter should be built with a retry policy that does not really sleep (e.g.
//! `rolodex_http::RecordingSleeper`): the suites inject 429s with `Retry-After: 1`.
//!
//! Read-backs compare only the fields the provider can hold ([`MockCapabilities::fields`]).
//! Requests for reference data an adapter caches (Google's contact groups, which name the tags)
//! are reported by [`MockControl::lookup_requests`]: the one-request-per-page rules leave them
//! out, and [`paging_contract`] checks that they are not repeated per page.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use rolodex_domain::ports::{ChangePage, ContactSink, ContactSource, FetchRequest, ProviderError, SyncCursor};
use rolodex_domain::{ContactFields, ContactPhone, EmailAddress, IncomingContact, PhoneE164, PhoneKind, Region};

/// A failure the mock answers with instead of serving the next API request (token endpoint
/// requests excepted, unless the failure is about the token endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectedFailure {
    /// 429 with `Retry-After: <secs>` and the provider's throttling body.
    RateLimited {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
    /// The current access token stops working: the next API request gets the provider's 401
    /// body; a refresh then works (and rotates the refresh token where the provider does).
    ExpireAccessToken,
    /// The refresh token is revoked and the access token expired: the next API request gets 401
    /// and the refresh gets the provider's `invalid_grant` answer.
    RevokeRefreshToken,
}

/// A contact field the suite compares when it checks that a contact reads back the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// `given_name`.
    GivenName,
    /// `family_name`.
    FamilyName,
    /// `emails` (all of them, in order).
    Emails,
    /// `phones` (the set of E.164 numbers).
    Phones,
    /// `company`.
    Company,
    /// `job_title`.
    JobTitle,
    /// `tags`.
    Tags,
}

impl Field {
    /// Every field the suite knows.
    pub const ALL: &'static [Self] =
        &[Self::GivenName, Self::FamilyName, Self::Emails, Self::Phones, Self::Company, Self::JobTitle, Self::Tags];
}

/// What the suite may expect of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockCapabilities {
    /// The contact fields the provider can hold; only these are compared on read-back (e.g.
    /// GoHighLevel has no job title field).
    pub fields: &'static [Field],
    /// The most contacts the adapter may return in one page (the mock's cap on page size).
    pub max_page_size: usize,
    /// Incremental fetches report deletions (Graph delta, People sync). GoHighLevel search does not.
    pub reports_deletions: bool,
    /// Cursors can expire (the mock answers like the provider; the adapter then resets).
    pub cursors_expire: bool,
    /// Writes return a version (etag, changeKey) that changes on every update.
    pub versions: bool,
}

/// Drives a mock provider from a contract suite. Implemented by every mock in [`crate::mocks`].
#[async_trait]
pub trait MockControl: Send + Sync {
    /// What the provider supports.
    fn capabilities(&self) -> MockCapabilities;

    /// Adds contacts at the provider (as if created there), returning their provider ids in order.
    async fn seed(&self, contacts: Vec<ContactFields>) -> Vec<String>;

    /// Changes a contact at the provider (as if a person edited it there).
    async fn update_remote(&self, external_id: &str, fields: &ContactFields);

    /// Deletes a contact at the provider.
    async fn delete_remote(&self, external_id: &str);

    /// The ids of the contacts the provider holds now.
    async fn remote_ids(&self) -> BTreeSet<String>;

    /// Makes every cursor issued so far expire.
    async fn expire_cursors(&self);

    /// Queues a failure for the next API request.
    async fn inject(&self, failure: InjectedFailure);

    /// API requests served so far (token endpoint excluded, injected failures included).
    fn api_requests(&self) -> usize;

    /// Of [`MockControl::api_requests`], those that read reference data an adapter may list and
    /// cache (Google's contact groups, which name the tags). They are not contact pages, so the
    /// one-request-per-page rules do not count them; the suites check that they are cached.
    fn lookup_requests(&self) -> usize {
        0
    }

    /// Successful token refreshes so far.
    fn token_refreshes(&self) -> usize;
}

/// A deterministic, realistic contact number `i` (unique name, email and phone).
#[must_use]
pub fn sample_contact(i: usize) -> ContactFields {
    const GIVEN: [&str; 8] = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"];
    const FAMILY: [&str; 8] = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"];
    let given = format!("{}{i}", GIVEN[i % GIVEN.len()]);
    let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()].to_owned();
    let mut fields = ContactFields {
        display_name: Some(format!("{given} {family}")),
        given_name: Some(given.clone()),
        family_name: Some(family.clone()),
        company: Some(format!("Company {}", i % 37)),
        job_title: Some("Engineer".to_owned()),
        tags: BTreeSet::from([format!("batch-{}", i % 3)]),
        ..ContactFields::default()
    };
    if let Ok(e) =
        EmailAddress::parse(&format!("{}.{}@example{}.com", given.to_lowercase(), family.to_lowercase(), i % 5))
    {
        fields.emails.push(e);
    }
    if let Ok(p) = PhoneE164::parse(&format!("+1 415 55{:05}", i % 100_000), Region::default()) {
        fields.phones.push(ContactPhone { number: p, kind: PhoneKind::Mobile });
    }
    fields
}

/// The result of following one listing to its end.
#[derive(Debug, Default)]
pub struct Listing {
    /// Upserts by external id (the last one wins, as providers may repeat an entity).
    pub upserts: BTreeMap<String, IncomingContact>,
    /// Deleted external ids.
    pub deletions: BTreeSet<String>,
    /// The cursor on the last page.
    pub cursor: Option<SyncCursor>,
    /// Whether any page said `reset`.
    pub reset: bool,
    /// Pages fetched.
    pub pages: usize,
    /// The most upserts in one page.
    pub largest_page: usize,
}

/// Follows `start` through every page, checking the page rules on the way: no page exceeds
/// `max_page_size`, each `fetch` makes at most `1 + retries` API requests (no read-ahead, one page
/// in memory), only the last page carries a cursor, every upsert has an external id.
///
/// # Panics
/// When a rule is broken or a fetch fails.
pub async fn collect(source: &dyn ContactSource, mock: &dyn MockControl, start: FetchRequest) -> Listing {
    let max_page = mock.capabilities().max_page_size;
    let mut listing = Listing::default();
    let mut request = start;
    loop {
        let before = listing_requests(mock);
        let page: ChangePage = match source.fetch(request.clone()).await {
            Ok(p) => p,
            Err(e) => panic!("fetch({request:?}) failed: {e}"),
        };
        let requests = listing_requests(mock) - before;
        assert!(requests <= 2, "one fetch made {requests} API requests: an adapter must not read ahead");
        assert!(
            page.upserts.len() <= max_page,
            "a page held {} contacts, more than the provider's page size {max_page}",
            page.upserts.len()
        );
        listing.pages += 1;
        listing.largest_page = listing.largest_page.max(page.upserts.len());
        listing.reset |= page.reset;
        for c in page.upserts {
            let id = c.external_id.clone().unwrap_or_else(|| panic!("an upsert without external_id: {c:?}"));
            assert_eq!(c.fields.source.as_deref(), Some(source.provider()), "fields.source must name the provider");
            listing.deletions.remove(&id);
            listing.upserts.insert(id, c);
        }
        for d in page.deletions {
            listing.upserts.remove(&d);
            listing.deletions.insert(d);
        }
        match page.next_page {
            Some(token) => {
                assert!(page.next_cursor.is_none(), "only the last page may carry a cursor");
                request = FetchRequest::Page(token);
            }
            None => {
                listing.cursor = page.next_cursor;
                return listing;
            }
        }
    }
}

/// API requests that are not reference-data lookups.
fn listing_requests(mock: &dyn MockControl) -> usize {
    mock.api_requests() - mock.lookup_requests()
}

/// Checks that `got` reads back as `want` in every field of `fields` (the provider's
/// [`MockCapabilities::fields`]); other fields are not compared.
///
/// # Panics
/// When a compared field differs.
pub fn assert_same_person(got: &ContactFields, want: &ContactFields, fields: &[Field], context: &str) {
    for field in fields {
        match field {
            Field::GivenName => assert_eq!(got.given_name, want.given_name, "{context}: given name"),
            Field::FamilyName => assert_eq!(got.family_name, want.family_name, "{context}: family name"),
            Field::Emails => assert_eq!(got.emails, want.emails, "{context}: emails"),
            Field::Phones => assert_eq!(
                got.phones.iter().map(|p| p.number.e164()).collect::<BTreeSet<_>>(),
                want.phones.iter().map(|p| p.number.e164()).collect::<BTreeSet<_>>(),
                "{context}: phone numbers"
            ),
            Field::Company => assert_eq!(got.company, want.company, "{context}: company"),
            Field::JobTitle => assert_eq!(got.job_title, want.job_title, "{context}: job title"),
            Field::Tags => assert_eq!(got.tags, want.tags, "{context}: tags"),
        }
    }
}

/// Accepts what a fetch may answer while the provider throttles: the adapter retried (Ok), or it
/// gave the wait back to the caller as `RateLimited` with the provider's `Retry-After`.
fn assert_throttle_outcome<T: std::fmt::Debug>(result: Result<T, ProviderError>, retry_after_secs: u64) {
    match result {
        Ok(_) => {}
        Err(ProviderError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(retry_after_secs)), "Retry-After must be passed on");
        }
        Err(e) => panic!("a 429 must be retried or reported as RateLimited, got {e:?}"),
    }
}

/// The `ContactSource` contract: full listing with paging and a cursor; incremental changes
/// (updates, creates, deletions where the provider reports them); an empty change set; an expired
/// cursor resets to a full listing; a 429 with `Retry-After` is retried or passed on; a 401 is
/// healed by one refresh; a revoked refresh token is `NeedsReauth`, also on the next call.
///
/// # Panics
/// When the adapter breaks a rule.
pub async fn source_contract(source: &dyn ContactSource, mock: &dyn MockControl) {
    let caps = mock.capabilities();
    let n = caps.max_page_size * 2 + 3;
    let seeded: Vec<ContactFields> = (0..n).map(sample_contact).collect();
    let ids = mock.seed(seeded.clone()).await;
    assert_eq!(ids.len(), n, "seed returns one id per contact");

    // Full listing.
    let full = collect(source, mock, FetchRequest::Full).await;
    assert!(full.pages >= 3, "{n} contacts at page size {} must take several pages", caps.max_page_size);
    assert!(full.deletions.is_empty(), "a full listing carries no deletions");
    assert!(!full.reset, "a full listing is not a reset");
    for (id, want) in ids.iter().zip(&seeded) {
        let got = full.upserts.get(id).unwrap_or_else(|| panic!("seeded contact {id} missing from the full listing"));
        assert_same_person(&got.fields, want, caps.fields, "full listing");
        if caps.versions {
            assert!(got.external_version.is_some(), "contact {id} has no external_version");
        }
    }
    let cursor = full.cursor.expect("the last page of a full listing carries a cursor");

    // Changes: update one, delete one, create one.
    let mut changed = sample_contact(n + 1);
    changed.given_name = Some("Changed".into());
    changed.display_name = Some("Changed Person".into());
    mock.update_remote(&ids[0], &changed).await;
    mock.delete_remote(&ids[1]).await;
    let created = mock.seed(vec![sample_contact(n + 2)]).await;
    let delta = collect(source, mock, FetchRequest::Since(cursor)).await;
    assert!(!delta.reset, "a valid cursor must not reset");
    let got = delta.upserts.get(&ids[0]).expect("the remote update is in the changes");
    assert_same_person(&got.fields, &changed, caps.fields, "remote update");
    assert!(delta.upserts.contains_key(&created[0]), "the remote create is in the changes");
    assert!(!delta.upserts.contains_key(&ids[5]), "an unchanged contact is not in the changes");
    if caps.reports_deletions {
        assert!(delta.deletions.contains(&ids[1]), "the remote delete is in the changes");
    }
    let cursor = delta.cursor.expect("the last page of the changes carries a cursor");

    // Nothing changed.
    let quiet = collect(source, mock, FetchRequest::Since(cursor.clone())).await;
    assert!(quiet.upserts.is_empty() && quiet.deletions.is_empty(), "no changes, yet got {quiet:?}");
    let cursor = quiet.cursor.unwrap_or(cursor);

    // Expired cursor: a full listing flagged reset.
    if caps.cursors_expire {
        mock.expire_cursors().await;
        let reset = collect(source, mock, FetchRequest::Since(cursor)).await;
        assert!(reset.reset, "an expired cursor resets to a full listing");
        assert!(reset.deletions.is_empty(), "a reset listing carries no deletions");
        let remote = mock.remote_ids().await;
        assert_eq!(reset.upserts.keys().cloned().collect::<BTreeSet<_>>(), remote, "a reset lists every contact");
        assert!(reset.cursor.is_some(), "a reset listing ends with a new cursor");
    }

    // Throttled: retried or passed on with its Retry-After.
    mock.inject(InjectedFailure::RateLimited { retry_after_secs: 1 }).await;
    assert_throttle_outcome(source.fetch(FetchRequest::Full).await, 1);
    collect(source, mock, FetchRequest::Full).await;

    // Access token expired: one refresh, then success.
    let refreshes = mock.token_refreshes();
    mock.inject(InjectedFailure::ExpireAccessToken).await;
    let healed = collect(source, mock, FetchRequest::Full).await;
    assert!(!healed.upserts.is_empty());
    assert_eq!(mock.token_refreshes(), refreshes + 1, "a 401 is healed by exactly one refresh");

    // Refresh token revoked: NeedsReauth, and it stays so without hammering the provider.
    mock.inject(InjectedFailure::RevokeRefreshToken).await;
    match source.fetch(FetchRequest::Full).await {
        Err(ProviderError::NeedsReauth(_)) => {}
        other => panic!("a revoked refresh token must be NeedsReauth, got {other:?}"),
    }
    let before = mock.api_requests();
    assert!(matches!(source.fetch(FetchRequest::Full).await, Err(ProviderError::NeedsReauth(_))));
    assert_eq!(mock.api_requests(), before, "after NeedsReauth the adapter stops calling the provider");
}

/// The `ContactSink` contract, verified through the provider's own listing (`source`): create
/// returns an id (and a version where the provider has them) and the contact reads back the
/// same; update replaces fields (collections are replaced, not appended) and moves the version;
/// update of a missing contact is `NotFound`; delete removes it and is idempotent; a 429 on a
/// write is retried or passed on.
///
/// # Panics
/// When the adapter breaks a rule.
pub async fn sink_contract(sink: &dyn ContactSink, source: &dyn ContactSource, mock: &dyn MockControl) {
    let caps = mock.capabilities();
    let first = sample_contact(7001);
    let created = sink.create(&first).await.expect("create");
    assert!(!created.external_id.is_empty(), "create returns the provider id");
    if caps.versions {
        assert!(created.version.is_some(), "create returns a version");
    }
    assert!(mock.remote_ids().await.contains(&created.external_id), "the created contact is at the provider");
    let listing = collect(source, mock, FetchRequest::Full).await;
    let got = listing.upserts.get(&created.external_id).expect("the created contact is listed");
    assert_same_person(&got.fields, &first, caps.fields, "created contact");

    let mut second = sample_contact(7002);
    second.emails.truncate(1);
    second.tags = BTreeSet::from(["vip".to_owned()]);
    let updated = sink.update(&created.external_id, created.version.as_deref(), &second).await.expect("update");
    assert_eq!(updated.external_id, created.external_id, "update keeps the id");
    if caps.versions {
        assert_ne!(updated.version, created.version, "update moves the version");
    }
    let listing = collect(source, mock, FetchRequest::Full).await;
    let got = listing.upserts.get(&created.external_id).expect("the updated contact is listed");
    assert_same_person(&got.fields, &second, caps.fields, "updated contact");

    match sink.update("no-such-contact", None, &second).await {
        Err(ProviderError::NotFound(_)) => {}
        other => panic!("updating a missing contact must be NotFound, got {other:?}"),
    }

    mock.inject(InjectedFailure::RateLimited { retry_after_secs: 1 }).await;
    let throttled = sink.create(&sample_contact(7003)).await;
    let throttled_ok = throttled.as_ref().ok().map(|r| r.external_id.clone());
    assert_throttle_outcome(throttled, 1);

    sink.delete(&created.external_id).await.expect("delete");
    assert!(!mock.remote_ids().await.contains(&created.external_id), "delete removes the contact");
    sink.delete(&created.external_id).await.expect("deleting a deleted contact is Ok");
    if let Some(id) = throttled_ok {
        sink.delete(&id).await.expect("delete");
    }
}

/// Pages through `n` seeded contacts: every contact arrives exactly once, no page exceeds the
/// provider's page size, each fetch makes one request (the adapter holds one page at a time), and
/// the number of pages is what the page size implies.
///
/// # Panics
/// When the adapter breaks a rule.
pub async fn paging_contract(source: &dyn ContactSource, mock: &dyn MockControl, n: usize) {
    let max_page = mock.capabilities().max_page_size;
    let ids: BTreeSet<String> = mock.seed((0..n).map(sample_contact).collect()).await.into_iter().collect();
    assert_eq!(ids.len(), n, "seeded ids are unique");
    let mut seen = BTreeSet::new();
    let mut pages = 0usize;
    let mut request = FetchRequest::Full;
    let lookups = mock.lookup_requests();
    loop {
        let before = listing_requests(mock);
        let page = source.fetch(request).await.unwrap_or_else(|e| panic!("page {pages}: {e}"));
        assert_eq!(listing_requests(mock) - before, 1, "page {pages}: one request per page");
        assert!(page.upserts.len() <= max_page, "page {pages} holds {} > {max_page}", page.upserts.len());
        pages += 1;
        for c in &page.upserts {
            let id = c.external_id.clone().expect("external id");
            assert!(seen.insert(id.clone()), "contact {id} listed twice");
        }
        match page.next_page {
            Some(t) => request = FetchRequest::Page(t),
            None => {
                assert!(page.next_cursor.is_some(), "the last page carries a cursor");
                break;
            }
        }
    }
    assert_eq!(seen, ids, "every seeded contact is listed once");
    let lookups = mock.lookup_requests() - lookups;
    assert!(lookups <= 1, "reference data must be cached, not read per page: {lookups} lookups for {pages} pages");
    assert!(pages >= n.div_ceil(max_page), "{pages} pages for {n} contacts at {max_page} per page");
}
