//! What the provider mocks share, so each mock file holds only its provider's behaviour: the
//! mock account's tokens and queued [`InjectedFailure`]s ([`Account`]: admitting an API request,
//! the refresh-token grant), request counters ([`Counters`]), request parsing helpers and
//! starting the server ([`serve`]). Error bodies and token answers stay provider-specific.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond};

use crate::provider_contract::InjectedFailure;

/// Locks a mock's state; a panic in another request does not poison it for the test.
pub(crate) fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts a server on 127.0.0.1, port 0, that answers every request with `responder`.
pub(crate) async fn serve(responder: impl Respond + 'static) -> MockServer {
    let server = MockServer::builder().disable_request_recording().start().await;
    Mock::given(any()).respond_with(responder).mount(&server).await;
    server
}

/// How an API request is to be answered before the provider logic sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Serve it.
    Admitted,
    /// Answer 429 with `Retry-After: <secs>` (an injected failure).
    Throttled(u64),
    /// Answer 401: no bearer token, or not the current one.
    Unauthorized,
}

/// The mock account: the tokens the mock accepts now and the failures queued for next requests.
#[derive(Debug)]
pub(crate) struct Account {
    /// The access token API requests must carry.
    pub(crate) access_token: Option<String>,
    /// The refresh token the token endpoint accepts.
    pub(crate) refresh_token: Option<String>,
    /// Refreshes granted so far (numbers the issued tokens).
    pub(crate) serial: u64,
    /// Failures for the next API requests, in order.
    pub(crate) failures: VecDeque<InjectedFailure>,
}

impl Account {
    /// An account with these initial tokens.
    pub(crate) fn new(access_token: &str, refresh_token: &str) -> Self {
        Self {
            access_token: Some(access_token.to_owned()),
            refresh_token: Some(refresh_token.to_owned()),
            serial: 0,
            failures: VecDeque::new(),
        }
    }

    /// Admits an API request: applies the next queued failure (a token failure takes effect
    /// before the check), then checks `Authorization: Bearer <current access token>`.
    pub(crate) fn admit(&mut self, req: &Request) -> Admission {
        match self.failures.pop_front() {
            Some(InjectedFailure::RateLimited { retry_after_secs }) => return Admission::Throttled(retry_after_secs),
            Some(InjectedFailure::ExpireAccessToken) => self.access_token = None,
            Some(InjectedFailure::RevokeRefreshToken) => {
                self.access_token = None;
                self.refresh_token = None;
            }
            None => {}
        }
        let bearer =
            req.headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_none() || bearer != self.access_token.as_deref() {
            return Admission::Unauthorized;
        }
        Admission::Admitted
    }

    /// The refresh-token grant. When `given` is the current refresh token, issues the access
    /// token `access(serial)` and, if `rotate` names one, the refresh token `rotate(serial)`
    /// (the old one stops working); returns them. `None` means `invalid_grant`.
    pub(crate) fn refresh(
        &mut self,
        given: Option<&str>,
        access: impl FnOnce(u64) -> String,
        rotate: Option<fn(u64) -> String>,
    ) -> Option<(String, Option<String>)> {
        if given.is_none() || given != self.refresh_token.as_deref() {
            return None;
        }
        self.serial += 1;
        let access = access(self.serial);
        self.access_token = Some(access.clone());
        let refresh = rotate.map(|r| r(self.serial));
        if let Some(r) = &refresh {
            self.refresh_token = Some(r.clone());
        }
        Some((access, refresh))
    }
}

/// What a mock has served, for [`crate::provider_contract::MockControl`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    api: AtomicUsize,
    refreshes: AtomicUsize,
    lookups: AtomicUsize,
}

impl Counters {
    /// Counts an API request.
    pub(crate) fn api(&self) {
        self.api.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a granted refresh.
    pub(crate) fn refresh(&self) {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a reference-data lookup (also an API request, counted by [`Counters::api`]).
    pub(crate) fn lookup(&self) {
        self.lookups.fetch_add(1, Ordering::SeqCst);
    }

    /// API requests so far.
    pub(crate) fn api_requests(&self) -> usize {
        self.api.load(Ordering::SeqCst)
    }

    /// Refreshes granted so far.
    pub(crate) fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }

    /// Lookups so far.
    pub(crate) fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

/// A request's form body (`application/x-www-form-urlencoded`).
pub(crate) fn form(req: &Request) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(&req.body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A request's query parameters (the last of repeated ones).
pub(crate) struct Query(BTreeMap<String, String>);

impl Query {
    /// The parameters of `req`.
    pub(crate) fn of(req: &Request) -> Self {
        Self(req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// One parameter.
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
}
