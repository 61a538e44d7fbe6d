//! End-to-end and repository-wide tests, one binary (matklad's "one integration test binary").

mod tidy;
