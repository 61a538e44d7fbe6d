//! When and how long to wait before retrying a request: [`RetryPolicy`] (which statuses are
//! transient, how many attempts, jittered exponential backoff with a cap, how long a `Retry-After`
//! may make us wait in-process), [`parse_retry_after`] (seconds or an HTTP date), and the
//! [`Sleeper`] that does the waiting (real time in production, [`RecordingSleeper`] in tests so
//! that delays are asserted, not waited for). The retry loop itself is
//! [`crate::HttpConnection::send`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

/// The HTTP statuses worth retrying: 408, 429, 503, 504. Every other 4xx is final.
#[must_use]
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 503 | 504)
}

/// IMF-fixdate, the HTTP date form (`Sun, 06 Nov 1994 08:49:37 GMT`).
const HTTP_DATE: &[FormatItem<'static>] =
    format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");

/// Reads `Retry-After` as delay-seconds or as an HTTP date (relative to `now`; a date in the past
/// means "now", zero). Anything else is `None`, and the caller falls back to backoff.
#[must_use]
pub fn parse_retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    parse_retry_after_value(value, now)
}

/// [`parse_retry_after`] on the header's text.
#[must_use]
pub fn parse_retry_after_value(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = time::PrimitiveDateTime::parse(value, HTTP_DATE).ok()?.assume_utc();
    let wait = at - now;
    Some(if wait.is_positive() { wait.unsigned_abs() } else { Duration::ZERO })
}

/// How a connection retries transient failures (408, 429, 503, 504 and connection failures).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The first backoff delay.
    pub base_delay: Duration,
    /// The cap of a backoff delay (jitter included).
    pub max_delay: Duration,
    /// The longest `Retry-After` we wait for in-process. A longer one ends the call with
    /// `ProviderError::RateLimited { retry_after }` so the job can be rescheduled instead.
    pub max_retry_after: Duration,
    /// Randomise backoff delays (up to twice the exponential value, then capped).
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// 4 attempts, 500 ms doubling to at most 30 s with jitter, `Retry-After` honoured up to 120 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// Never retry: every transient failure is returned at once.
    #[must_use]
    pub fn never() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The backoff schedule for one call: up to `max_attempts - 1` delays.
    #[must_use]
    pub fn backoff(&self) -> Backoff {
        let mut builder = ExponentialBuilder::default()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter {
            builder = builder.with_jitter();
        }
        Backoff { inner: Box::new(builder.build()), cap: self.max_delay, retry_after_cap: self.max_retry_after }
    }
}

/// One call's remaining retries. Each [`Backoff::next_delay`] consumes one.
pub struct Backoff {
    inner: Box<dyn Iterator<Item = Duration> + Send + Sync>,
    cap: Duration,
    retry_after_cap: Duration,
}

impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backoff").field("cap", &self.cap).finish_non_exhaustive()
    }
}

/// Why no retry is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// Every attempt is used.
    Exhausted,
    /// The provider asked us to wait longer than [`RetryPolicy::max_retry_after`].
    WaitTooLong(Duration),
}

impl Backoff {
    /// The delay before the next attempt: the provider's `Retry-After` when it gave one, else the
    /// jittered exponential delay, capped.
    ///
    /// # Errors
    /// [`GiveUp`] when no attempt is left or the provider asks for too long a wait.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Result<Duration, GiveUp> {
        let backoff = self.inner.next().ok_or(GiveUp::Exhausted)?;
        match retry_after {
            Some(wait) if wait > self.retry_after_cap => Err(GiveUp::WaitTooLong(wait)),
            Some(wait) => Ok(wait),
            None => Ok(backoff.min(self.cap)),
        }
    }
}

/// Waits. Injected so that tests do not wait for real.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Sleeps for `delay`.
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Sleeps with `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(delay))
    }
}

/// Records every requested delay and returns at once: tests assert the computed delays.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    delays: Mutex<Vec<Duration>>,
}

impl RecordingSleeper {
    /// The delays requested so far, in order.
    #[must_use]
    pub fn delays(&self) -> Vec<Duration> {
        self.delays.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        if let Ok(mut d) = self.delays.lock() {
            d.push(delay);
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = datetime!(2025-02-13 10:17:05 UTC);
        assert_eq!(parse_retry_after_value("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after_value(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after_value("Thu, 13 Feb 2025 10:17:35 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after_value("Thu, 13 Feb 2025 10:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after_value("soon", now), None);
        assert_eq!(parse_retry_after_value("-3", now), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 410, 412, 422, 500, 501] {
            assert!(!is_retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn backoff_is_capped_and_bounded_in_attempts() {
        let policy = RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(5),
            jitter: true,
        };
        let mut b = policy.backoff();
        let delays: Vec<_> = (0..5).map(|_| b.next_delay(None).unwrap()).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(350)), "{delays:?}");
        assert!(delays[0] >= Duration::from_millis(100), "{delays:?}");
        assert_eq!(b.next_delay(None), Err(GiveUp::Exhausted));
    }

    #[test]
    fn retry_after_wins_over_backoff_unless_too_long() {
        let mut b = RetryPolicy { jitter: false, ..RetryPolicy::default() }.backoff();
        assert_eq!(b.next_delay(Some(Duration::from_secs(3))), Ok(Duration::from_secs(3)));
        assert_eq!(b.next_delay(None), Ok(Duration::from_secs(1)));
        assert_eq!(b.next_delay(Some(Duration::from_secs(3600))), Err(GiveUp::WaitTooLong(Duration::from_secs(3600))));
    }
}
