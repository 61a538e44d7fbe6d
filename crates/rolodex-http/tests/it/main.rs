//! Integration tests of `rolodex-http` against wiremock servers on 127.0.0.1: the retry loop
//! (Retry-After in seconds and as a date, backoff, no retry of other 4xx, giving up), the OAuth
//! refresh (401 then refresh, rotation saved, `invalid_grant` -> NeedsReauth), connection resets.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns unwrap too; a failure is a test failure")]

mod oauth;
mod retry;
mod support;
