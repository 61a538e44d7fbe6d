//! The standard job handlers and their queues: [`standard_registry`] registers every handler the
//! worker runs, built from one set of dependencies ([`RuntimeDeps`]: the store, the provider
//! adapters, the clock, the sync settings); [`STANDARD_CONCURRENCY`] says how many jobs of each
//! standard queue run at once unless the operator says otherwise.
//!
//! Handlers come in families, one `register_*` function each, all called from
//! [`standard_registry`] (the one place to add a family): [`register_sync_handlers`]
//! (`sync.scheduled`) and [`register_remote_handlers`] (the two-way handlers `remote.apply`,
//! `remote.reconcile`, `remote.push`, all on the `remote` queue).

use std::sync::Arc;

use rolodex_app::jobs::ScheduledSyncJob;
use rolodex_app::remote::{ApplyWebhookJob, ContactSinks, PushJob, ReconcileJob, RemoteApplier, RemotePorts};
use rolodex_app::sync::{SyncPorts, SyncService, SyncSettings};
use rolodex_domain::Region;
use rolodex_domain::ports::{Clock, IdGenerator, ProviderError, SystemClock, V7Ids};
use rolodex_store::Store;

use crate::sources::StoreSources;
use crate::worker::Registry;

/// The standard queues (one per job kind, plus `default` for jobs enqueued without a queue) and
/// how many of their jobs run at once by default.
///
/// `sync.scheduled` runs one sync at a time per worker: a sync is long and write-heavy, and on the
/// embedded SQLite store there is a single writer anyway. Run more workers (PostgreSQL) or raise it
/// with `--concurrency sync.scheduled=N`.
///
/// `remote` (two-way sync) runs one job at a time per worker, so remote changes apply in arrival
/// order and a push never races an apply of the same contact (see `rolodex_app::remote`).
pub const STANDARD_CONCURRENCY: &[(&str, usize)] =
    &[(ScheduledSyncJob::KIND, 1), (rolodex_app::remote::QUEUE, 1), ("default", 4)];

/// [`STANDARD_CONCURRENCY`] as a worker's queue list.
#[must_use]
pub fn default_concurrency() -> Vec<(String, usize)> {
    STANDARD_CONCURRENCY.iter().map(|(q, n)| ((*q).to_owned(), *n)).collect()
}

/// The standard queues with the operator's `overrides` (`--concurrency kind=N`) applied: an
/// override of a standard queue replaces its concurrency, any other queue is added. The later of
/// two overrides of one queue wins. A queue at 0 is left out (this worker never claims from it:
/// e.g. `remote=0` in all but one worker process, see `docs/two-way.md`).
#[must_use]
pub fn concurrency_with(overrides: &[(String, usize)]) -> Vec<(String, usize)> {
    let mut queues = default_concurrency();
    for (queue, n) in overrides {
        match queues.iter_mut().find(|(q, _)| q == queue) {
            Some(slot) => slot.1 = *n,
            None => queues.push((queue.clone(), *n)),
        }
    }
    queues.retain(|(_, n)| *n > 0);
    queues
}

/// What the standard handlers are built from.
#[derive(Clone)]
pub struct RuntimeDeps {
    /// The store (every storage port, and the job queue).
    pub store: Store,
    /// Provider adapters built from the store's connections.
    pub sources: StoreSources,
    /// Time, for the use cases (give the store the same clock).
    pub clock: Arc<dyn Clock>,
    /// Ids for runs and items.
    pub ids: Arc<dyn IdGenerator>,
    /// Sync tuning.
    pub settings: SyncSettings,
}

impl std::fmt::Debug for RuntimeDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeDeps")
            .field("store", &self.store)
            .field("sources", &self.sources)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RuntimeDeps {
    /// The dependencies over `store`, reading phone numbers without a country code in `region`,
    /// on the system clock, with v7 ids and the default sync settings.
    ///
    /// # Errors
    /// The HTTP client of the provider adapters cannot be built.
    pub fn new(store: Store, region: Region) -> Result<Self, ProviderError> {
        let sources = StoreSources::new(store.clone(), region)?;
        Ok(Self {
            store,
            sources,
            clock: Arc::new(SystemClock),
            ids: Arc::new(V7Ids),
            settings: SyncSettings::default(),
        })
    }

    /// The same with another clock (tests move time; give the store the same one).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same with other sync settings.
    #[must_use]
    pub fn with_settings(mut self, settings: SyncSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The sync service's ports, all over the store.
    #[must_use]
    pub fn sync_ports(&self) -> SyncPorts {
        SyncPorts::over(&self.store, self.clock.clone(), self.ids.clone())
    }

    /// The sync service over the store.
    #[must_use]
    pub fn sync_service(&self) -> SyncService {
        SyncService::new(self.sync_ports(), self.settings)
    }

    /// The two-way services' ports, all over the store.
    #[must_use]
    pub fn remote_ports(&self) -> RemotePorts {
        RemotePorts::over(&self.store, self.clock.clone(), self.ids.clone())
    }
}

/// Every standard job handler, built from `deps`. This is the one place handler families are
/// added; each family's queues belong in [`STANDARD_CONCURRENCY`].
#[must_use]
pub fn standard_registry(deps: &RuntimeDeps) -> Registry {
    let mut registry = Registry::new();
    register_sync_handlers(&mut registry, deps);
    register_remote_handlers(&mut registry, deps);
    registry
}

/// The two-way family, on the `remote` queue: `remote.apply` ([`ApplyWebhookJob`]),
/// `remote.reconcile` ([`ReconcileJob`]) and `remote.push` ([`PushJob`]), with sinks and sources
/// from [`StoreSources`].
pub fn register_remote_handlers(registry: &mut Registry, deps: &RuntimeDeps) {
    let ports = deps.remote_ports();
    let sinks: Arc<dyn ContactSinks> = Arc::new(deps.sources.clone());
    let applier = RemoteApplier::new(ports.clone(), sinks.clone());
    registry
        .register(ApplyWebhookJob::KIND, Arc::new(ApplyWebhookJob { ports: ports.clone(), applier: applier.clone() }));
    registry.register(
        ReconcileJob::KIND,
        Arc::new(ReconcileJob { ports: ports.clone(), applier, sources: Arc::new(deps.sources.clone()) }),
    );
    registry.register(PushJob::KIND, Arc::new(PushJob { ports, sinks }));
}

/// The pull-sync family: `sync.scheduled` ([`ScheduledSyncJob`]), a [`SyncService`] over the store
/// with sources from [`StoreSources`].
pub fn register_sync_handlers(registry: &mut Registry, deps: &RuntimeDeps) {
    let handler = ScheduledSyncJob { sync: deps.sync_service(), sources: Arc::new(deps.sources.clone()) };
    registry.register(ScheduledSyncJob::KIND, Arc::new(handler));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_or_add_queues() {
        assert_eq!(concurrency_with(&[]), default_concurrency());
        assert!(!concurrency_with(&[("remote".into(), 0)]).iter().any(|(q, _)| q == "remote"), "0 turns a queue off");
        let got = concurrency_with(&[("sync.scheduled".into(), 3), ("mail.send".into(), 2), ("default".into(), 8)]);
        assert_eq!(
            got,
            vec![
                ("sync.scheduled".to_owned(), 3),
                ("remote".to_owned(), 1),
                ("default".to_owned(), 8),
                ("mail.send".to_owned(), 2)
            ]
        );
    }
}
