//! End-to-end and repository-wide tests, one binary (matklad's "one integration test binary").

mod e2e_file;
mod e2e_ghl;
mod e2e_providers;
mod e2e_scheduled;
mod e2e_worker;
mod support;
mod tidy;
