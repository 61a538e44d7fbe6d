//! [`Clock`] and [`IdGenerator`]: time and identity as ports, so services are deterministic under test.

use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;
use uuid::Uuid;

/// The current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// New ids.
pub trait IdGenerator: Send + Sync + 'static {
    /// A new UUID; wrap it in the id type you need (`ContactId::from(ids.new_uuid())`).
    fn new_uuid(&self) -> Uuid;
}

/// UUID v7 from the system clock and randomness.
#[derive(Debug, Clone, Copy, Default)]
pub struct V7Ids;

impl IdGenerator for V7Ids {
    fn new_uuid(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Sequential UUIDs (`00000000-0000-0000-0000-000000000001`, ...), for tests and reproducible runs.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl SequentialIds {
    /// Starts after `start`.
    #[must_use]
    pub fn starting_at(start: u64) -> Self {
        Self(AtomicU64::new(start))
    }
}

impl IdGenerator for SequentialIds {
    fn new_uuid(&self) -> Uuid {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        Uuid::from_u128(u128::from(n))
    }
}
