//! Ports: the traits the use cases in `rolodex-app` are written against, implemented by adapters
//! (`rolodex-store`, `rolodex-graph`, `rolodex-google`, `rolodex-ghl`, `rolodex-files`, ...) and by
//! the fakes in `rolodex-testkit`. Every port is `Send + Sync + 'static`, held as `Arc<dyn Port>`,
//! and documents its errors as one `thiserror` enum per operation family.

mod ai;
mod mail;
mod provider;
pub mod storage;
mod system;

pub use ai::*;
pub use mail::*;
pub use provider::*;
pub use system::*;

use std::time::Duration;

/// How a caller should treat a failed provider call. Shared by the provider error enums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Retry later (after the given delay when the provider said so).
    After(Option<Duration>),
    /// Do not retry: the request itself is wrong, or a person must act (re-authorise).
    Never,
}
