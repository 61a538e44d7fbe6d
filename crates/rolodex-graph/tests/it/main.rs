//! Integration tests of `rolodex-graph` against the stateful Graph mock of `rolodex-testkit`:
//! the provider contract suites, paging 10,000 contacts, delta edge cases, and the mapping
//! (examples and a property test on arbitrary JSON).

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns unwrap too; a failure is a test failure")]

mod contract;
mod mapping;
mod source;
mod support;
