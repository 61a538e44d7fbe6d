//! Integration tests of `rolodex-google`: the adapter against the People mock from
//! `rolodex-testkit` (the shared ContactSource / ContactSink contract suites, 10,000-contact
//! paging, malformed payloads) and property tests of the mapper.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions unwrap too")]

mod adapter;
mod props;
