//! Per-connection rate limits: [`RateLimits`] (request windows plus an optional concurrency cap)
//! with provider presets, and the [`RateLimiter`] a connection holds (governor token buckets, a
//! tokio semaphore). Create one limiter per provider account (GoHighLevel location, Graph
//! mailbox, Google user) and share it, as an `Arc`, between every adapter that talks to it.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// At most `requests` requests in any `per` window (a token bucket that starts full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Requests allowed per window (at least 1).
    pub requests: NonZeroU32,
    /// The window.
    pub per: Duration,
}

impl Window {
    /// `requests` per `per`; a zero count is read as 1.
    #[must_use]
    pub fn new(requests: u32, per: Duration) -> Self {
        Self { requests: NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN), per }
    }
}

/// The limits of one connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RateLimits {
    /// Every window must allow a request before it is sent.
    pub windows: Vec<Window>,
    /// At most this many requests in flight at once.
    pub max_concurrent: Option<usize>,
}

impl RateLimits {
    /// People API reads per minute per user assumed by [`RateLimits::google_people`]'s callers
    /// when nothing is configured. The real quota is UNCONFIRMED in the fact sheet: configure it.
    pub const GOOGLE_PEOPLE_DEFAULT_PER_MINUTE: u32 = 90;

    /// No limit.
    #[must_use]
    pub fn unlimited() -> Self {
        Self::default()
    }

    /// GoHighLevel, per app and location: a burst of 100 requests per 10 s and 200,000 per day.
    #[must_use]
    pub fn gohighlevel_location() -> Self {
        Self {
            windows: vec![Window::new(100, Duration::from_secs(10)), Window::new(200_000, Duration::from_secs(86_400))],
            max_concurrent: None,
        }
    }

    /// Microsoft Graph Outlook resources, per app and mailbox: 4 concurrent requests and 10,000
    /// requests per 10 minutes.
    #[must_use]
    pub fn graph_mailbox() -> Self {
        Self { windows: vec![Window::new(10_000, Duration::from_secs(600))], max_concurrent: Some(4) }
    }

    /// Google People API, per user: `per_minute` requests per minute (see
    /// [`RateLimits::GOOGLE_PEOPLE_DEFAULT_PER_MINUTE`]).
    #[must_use]
    pub fn google_people(per_minute: u32) -> Self {
        Self { windows: vec![Window::new(per_minute, Duration::from_secs(60))], max_concurrent: None }
    }
}

/// Holds a connection's limits. Cheap to share as `Arc<RateLimiter>`.
#[derive(Debug)]
pub struct RateLimiter {
    buckets: Vec<DefaultDirectRateLimiter>,
    concurrency: Option<Arc<Semaphore>>,
}

/// Held while a request is in flight; dropping it frees the concurrency slot.
#[derive(Debug)]
pub struct RatePermit {
    _slot: Option<OwnedSemaphorePermit>,
}

impl RateLimiter {
    /// A limiter enforcing `limits`.
    #[must_use]
    pub fn new(limits: &RateLimits) -> Self {
        let buckets = limits
            .windows
            .iter()
            .map(|w| {
                let period = (w.per / w.requests.get()).max(Duration::from_nanos(1));
                let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(w.requests));
                DefaultDirectRateLimiter::direct(quota.allow_burst(w.requests))
            })
            .collect();
        let concurrency = limits.max_concurrent.map(|n| Arc::new(Semaphore::new(n.max(1))));
        Self { buckets, concurrency }
    }

    /// Waits until every window allows one more request and a concurrency slot is free.
    pub async fn acquire(&self) -> RatePermit {
        let slot = match &self.concurrency {
            Some(sem) => Arc::clone(sem).acquire_owned().await.ok(),
            None => None,
        };
        for bucket in &self.buckets {
            bucket.until_ready().await;
        }
        RatePermit { _slot: slot }
    }

    /// Takes a permit only if one is free right now (no waiting). A window that has room is
    /// charged even when a later one refuses.
    #[must_use]
    pub fn try_acquire(&self) -> Option<RatePermit> {
        let slot = match &self.concurrency {
            Some(sem) => Some(Arc::clone(sem).try_acquire_owned().ok()?),
            None => None,
        };
        for bucket in &self.buckets {
            bucket.check().ok()?;
        }
        Some(RatePermit { _slot: slot })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gohighlevel_burst_is_100_per_window() {
        let limiter = RateLimiter::new(&RateLimits::gohighlevel_location());
        for i in 0..100 {
            assert!(limiter.try_acquire().is_some(), "request {i}");
        }
        assert!(limiter.try_acquire().is_none());
    }

    #[test]
    fn graph_allows_four_in_flight() {
        let limiter = RateLimiter::new(&RateLimits::graph_mailbox());
        let held: Vec<_> = (0..4).map(|_| limiter.try_acquire().expect("slot")).collect();
        assert!(limiter.try_acquire().is_none());
        drop(held);
        assert!(limiter.try_acquire().is_some());
    }

    #[test]
    fn people_per_minute() {
        let limiter = RateLimiter::new(&RateLimits::google_people(3));
        assert!((0..3).all(|_| limiter.try_acquire().is_some()));
        assert!(limiter.try_acquire().is_none());
    }

    #[tokio::test]
    async fn acquire_waits_for_the_window() {
        let limiter = RateLimiter::new(&RateLimits {
            windows: vec![Window::new(2, Duration::from_millis(10))],
            max_concurrent: None,
        });
        let start = std::time::Instant::now();
        for _ in 0..3 {
            let _p = limiter.acquire().await;
        }
        assert!(start.elapsed() >= Duration::from_millis(4), "{:?}", start.elapsed());
    }
}
