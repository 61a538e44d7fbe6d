//! Integration tests of `rolodex-app`'s sync use cases (one test binary, one module per flow),
//! run against an in-memory double of the storage ports ([`memory`]).

mod advisor;
mod boundary;
mod deletions;
mod execute;
mod memory;
mod preview;
mod review;
mod scheduled;
mod support;
