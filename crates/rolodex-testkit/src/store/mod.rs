//! Storage test support: the contract suites every implementation of the storage ports of
//! `rolodex_domain::ports::storage` must pass ([`contract`]), including the tenancy checks (nothing
//! of organisation A can be read or changed with organisation B's id), and a settable clock
//! ([`ManualClock`]) for lease and schedule tests, and [`MemoryStore`], the in-memory fake of every
//! storage port ([`fakes`]), which passes the same suites.

pub mod contract;
#[cfg(test)]
mod fake_tests;
pub mod fakes;

pub use fakes::MemoryStore;

use std::sync::Mutex;

use rolodex_domain::ports::Clock;
use time::OffsetDateTime;

/// A clock that stays where it is put.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock at `at`.
    #[must_use]
    pub fn at(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves time forward.
    pub fn advance(&self, by: time::Duration) {
        let mut t = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
