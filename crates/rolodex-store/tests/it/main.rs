//! Integration tests of `rolodex-store`: the storage contract suites of `rolodex-testkit` against
//! SQLite (a temp file) and PostgreSQL (a fresh uuid-named database per test, dropped afterwards;
//! skipped with a printed reason when `TEST_DATABASE_URL` is unset), plus PostgreSQL-only checks:
//! migrations up/down/up, concurrent job claimers, and query plans of the matching lookups; and
//! the index rows `apply_batch` leaves.

mod apply;
mod contracts;
mod harness;
mod migrations;
mod postgres;
mod reindex;
