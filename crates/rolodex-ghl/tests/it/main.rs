//! Integration tests of `rolodex-ghl`: webhook verification and parsing, property tests of the
//! mappers, and the adapter against the GoHighLevel mock server from `rolodex-testkit`.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions unwrap too")]

mod adapter;
mod props;
mod webhooks;
