//! Matching: decides what to do with an incoming contact given the existing ones.
//! [`keys`] builds the blocking keys used to find candidates.

pub mod keys;

pub use keys::{BlockingKey, KeyKind, blocking_keys};
