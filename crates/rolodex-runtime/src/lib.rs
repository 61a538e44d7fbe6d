//! What Rolodex's binaries share at run time, so that `rolodex-worker`, `rolodex-server` (which
//! runs the same worker in-process) and the `rolodex` CLI wire the system the same way:
//!
//! - [`worker`]: the job worker runtime ([`run`], [`Registry`], [`WorkerConfig`], [`Mode`]):
//!   per-kind concurrency, heartbeats, schedules, retries, dead jobs, graceful shutdown on a
//!   `watch` signal;
//! - [`sources`]: provider adapters built from stored connections ([`StoreSources`]), as sources
//!   (pull sync) and as sinks (writes to the provider);
//! - [`signals`]: [`shutdown_signal`], SIGTERM or Ctrl-C;
//! - [`standard`]: the standard job handlers over the store ([`standard_registry`], built from
//!   [`RuntimeDeps`]) and the default concurrency of their queues ([`default_concurrency`]).
//!
//! The use cases and handlers themselves live in `rolodex-app`; this crate only wires them to the
//! store and the provider adapters. Binaries keep only argument parsing and process concerns
//! (logs, signals) in their `main.rs`.

pub mod signals;
pub mod sources;
pub mod standard;
pub mod worker;

pub use crate::signals::shutdown_signal;
pub use crate::sources::StoreSources;
pub use crate::standard::{
    RuntimeDeps, STANDARD_CONCURRENCY, concurrency_with, default_concurrency, register_remote_handlers,
    register_sync_handlers, standard_registry,
};
pub use crate::worker::{Mode, Registry, WorkerConfig, WorkerStats, parse_concurrency, run};
