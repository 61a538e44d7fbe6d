//! `rolodex-app`: Rolodex's use cases, written only against the ports of `rolodex-domain`.
//!
//! - [`sync`]: the pull sync of contacts: preview (decide every incoming contact and store a sync
//!   run with one item per contact), review (approve, reject, override, bulk operations), execute
//!   (apply approved items in batches, with audit, links and the cursor committed together),
//!   scheduled (unattended) sync, and the optional LLM adjudication of ambiguous matches.
//! - [`jobs`]: the job handlers the worker runs (`sync.scheduled`), and the [`jobs::JobHandler`]
//!   contract between them and the worker runtime.
//! - [`remote`]: two-way sync with GoHighLevel: local contact writes with their outbox pushes,
//!   webhook intake, the apply / reconcile / push job handlers.
//!
//! This crate does no I/O of its own: storage, providers, the LLM, time and ids all come in as
//! `Arc<dyn Port>`. Wiring (which adapter implements which port) is the bins' job.

pub mod jobs;
pub mod remote;
pub mod sync;
