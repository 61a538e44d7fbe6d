//! The job worker runtime, run by `rolodex-worker` (and in-process by `rolodex-server`). It claims
//! due jobs from the [`JobQueue`] port, runs each with the [`JobHandler`] registered for its kind,
//! and reports the outcome: `complete`, or `fail` (the queue retries with backoff or the handler's `retry_after`, and marks the job dead after its
//! last attempt or a permanent failure). While a job runs its lease is extended by heartbeats; a
//! lost lease stops the job without reporting. Recurring schedules are turned into jobs every
//! `schedule_interval`.
//!
//! **Concurrency per job kind**: each job kind has its own queue, named after the kind
//! (`NewJob::new(kind, ..).on_queue(kind)`); [`WorkerConfig::queues`] gives each queue its number
//! of jobs in flight, and the worker claims from a queue only as many jobs as it has free slots.
//!
//! **Shutdown**: when the shutdown signal fires the worker stops claiming, lets the jobs in flight
//! finish for up to `shutdown_grace`, releases the ones still running (back to the queue, due now),
//! and returns. [`Mode::Once`] drains the due jobs and returns (for scripts and tests).
//!
//! [`run`] only needs a [`JobQueue`], a [`Registry`] and a shutdown [`watch::Receiver`]; it spawns
//! its jobs on the tokio runtime it is awaited on (current-thread or multi-thread), so it runs as
//! its own process or as one task beside a server. Handlers live in
//! `rolodex-app` ([`rolodex_app::jobs`]); the standard set is built by
//! [`crate::standard_registry`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rolodex_app::jobs::{JobFailure, JobHandler};
use rolodex_domain::ports::storage::{Job, JobQueue, JobQueueError, JobState};
use rolodex_domain::{JobId, OrgId};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;

/// How the worker runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// This worker's name in job leases (unique per process).
    pub worker_id: String,
    /// The queues to claim from (one per job kind) and how many of their jobs run at once
    /// (default: the standard queues, [`crate::STANDARD_CONCURRENCY`]).
    pub queues: Vec<(String, usize)>,
    /// How long a claim lasts without a heartbeat (heartbeats come every third of it).
    pub lease: Duration,
    /// How long to wait before claiming again when nothing was due.
    pub poll_interval: Duration,
    /// How often due recurring schedules are enqueued.
    pub schedule_interval: Duration,
    /// How long jobs in flight may take to finish after the shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            worker_id: "rolodex-worker".to_owned(),
            queues: crate::standard::default_concurrency(),
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            schedule_interval: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Parses `kind=N` (a queue and how many of its jobs run at once; `0` turns a standard queue off
/// in this worker, see [`crate::concurrency_with`]).
///
/// # Errors
/// A message naming the input.
pub fn parse_concurrency(s: &str) -> Result<(String, usize), String> {
    let bad = || format!("`{s}` is not KIND=N (a job kind and how many of its jobs run at once, N >= 0)");
    let (kind, n) = s.split_once('=').ok_or_else(bad)?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if kind.trim().is_empty() {
        return Err(bad());
    }
    Ok((kind.trim().to_owned(), n))
}

/// Which handler runs which job kind.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn JobHandler>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("kinds", &self.kinds()).finish()
    }
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handler of `kind`.
    #[must_use]
    pub fn with(mut self, kind: impl Into<String>, handler: Arc<dyn JobHandler>) -> Self {
        self.register(kind, handler);
        self
    }

    /// Registers the handler of `kind` in place (replacing an earlier one).
    pub fn register(&mut self, kind: impl Into<String>, handler: Arc<dyn JobHandler>) {
        self.handlers.insert(kind.into(), handler);
    }

    /// The handler of `kind`, if one is registered.
    #[must_use]
    pub fn handler(&self, kind: &str) -> Option<&Arc<dyn JobHandler>> {
        self.handlers.get(kind)
    }

    /// The registered kinds, sorted.
    #[must_use]
    pub fn kinds(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }
}

/// Run until the shutdown signal, or drain the due jobs and stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Claim and run until the shutdown signal.
    UntilShutdown,
    /// Run every due job (including retries that become due meanwhile), then stop.
    Once,
}

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Jobs completed.
    pub completed: u64,
    /// Jobs failed and scheduled for a retry.
    pub retried: u64,
    /// Jobs that failed their last attempt, or permanently.
    pub dead: u64,
    /// Jobs released at shutdown.
    pub released: u64,
    /// Jobs whose lease was lost (another worker has them now, or they were cancelled).
    pub lease_lost: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Completed,
    Retried,
    Dead,
    LeaseLost,
    NotReported,
}

/// Reports a failure to the queue.
async fn report_failure(queue: &dyn JobQueue, job: &Job, worker: &str, f: &JobFailure) -> Outcome {
    match queue.fail(job.org_id, job.id, worker, &f.message, f.retry_after, f.permanent).await {
        Ok(JobState::Dead) => {
            tracing::error!(error = %f.message, "job is dead");
            Outcome::Dead
        }
        Ok(state) => {
            tracing::warn!(error = %f.message, %state, "job failed; it will be retried");
            Outcome::Retried
        }
        Err(JobQueueError::LeaseLost(_)) => Outcome::LeaseLost,
        Err(e) => {
            tracing::error!(error = %e, "could not record the job's failure; its lease will expire");
            Outcome::NotReported
        }
    }
}

/// Runs one claimed job to its reported outcome.
async fn run_job(
    queue: Arc<dyn JobQueue>,
    registry: Arc<Registry>,
    job: Job,
    worker: Arc<str>,
    lease: Duration,
) -> Outcome {
    let Some(handler) = registry.handlers.get(&job.kind).cloned() else {
        let f = JobFailure::permanent(format!("no handler for job kind `{}` on this worker", job.kind));
        return report_failure(&*queue, &job, &worker, &f).await;
    };
    let started = Instant::now();
    let result = {
        let work = handler.run(&job);
        tokio::pin!(work);
        let mut beat = tokio::time::interval((lease / 3).max(Duration::from_millis(10)));
        beat.tick().await;
        loop {
            tokio::select! {
                r = &mut work => break r,
                _ = beat.tick() => match queue.heartbeat(job.org_id, job.id, &worker, lease).await {
                    Ok(()) => {}
                    Err(JobQueueError::LeaseLost(_)) => {
                        tracing::warn!("lease lost: stopping the job without reporting");
                        return Outcome::LeaseLost;
                    }
                    Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
                },
            }
        }
    };
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(()) => match queue.complete(job.org_id, job.id, &worker).await {
            Ok(()) => {
                tracing::info!(duration_ms = ms, "job completed");
                Outcome::Completed
            }
            Err(JobQueueError::LeaseLost(_)) => Outcome::LeaseLost,
            Err(e) => {
                tracing::error!(error = %e, "could not mark the job completed; it may run again");
                Outcome::NotReported
            }
        },
        Err(f) => report_failure(&*queue, &job, &worker, &f).await,
    }
}

struct InFlight {
    queue_index: usize,
    org: OrgId,
    job: JobId,
}

/// The worker loop (see the crate doc). Returns what it did; storage errors are logged and
/// retried after `poll_interval`, never fatal.
#[tracing::instrument(skip_all, fields(worker = %config.worker_id))]
pub async fn run(
    queue: Arc<dyn JobQueue>,
    registry: Arc<Registry>,
    config: WorkerConfig,
    mode: Mode,
    mut shutdown: watch::Receiver<bool>,
) -> WorkerStats {
    let worker: Arc<str> = Arc::from(config.worker_id.as_str());
    let mut stats = WorkerStats::default();
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    let mut in_flight: HashMap<tokio::task::Id, InFlight> = HashMap::new();
    let mut busy = vec![0usize; config.queues.len()];
    let mut next_schedules = Instant::now();
    // A dropped sender can never signal: stop listening instead of spinning on its error.
    let mut signal_open = true;
    tracing::info!(queues = ?config.queues, kinds = ?registry.kinds(), ?mode, "worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        if Instant::now() >= next_schedules {
            match queue.enqueue_due_schedules().await {
                Ok(enqueued) if !enqueued.is_empty() => {
                    tracing::info!(count = enqueued.len(), "scheduled jobs enqueued")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "could not enqueue due schedules"),
            }
            next_schedules = Instant::now() + config.schedule_interval;
        }
        let mut claimed = 0;
        let mut queue_error = false;
        for (i, (name, limit)) in config.queues.iter().enumerate() {
            let free = limit.saturating_sub(busy[i]);
            if free == 0 {
                continue;
            }
            let free = u32::try_from(free).unwrap_or(u32::MAX);
            match queue.claim(&[name.as_str()], &worker, config.lease, free).await {
                Ok(jobs) => {
                    for job in jobs {
                        claimed += 1;
                        busy[i] += 1;
                        let span = tracing::info_span!(
                            "job", id = %job.id, kind = %job.kind, org = %job.org_id, attempt = job.attempt
                        );
                        let (org, id) = (job.org_id, job.id);
                        let fut = run_job(queue.clone(), registry.clone(), job, worker.clone(), config.lease);
                        let handle = tasks.spawn(fut.instrument(span));
                        in_flight.insert(handle.id(), InFlight { queue_index: i, org, job: id });
                    }
                }
                Err(e) => {
                    queue_error = true;
                    tracing::error!(error = %e, queue = %name, "claim failed");
                }
            }
        }
        if claimed > 0 && !queue_error {
            // Keep claiming while there are free slots and due jobs.
            collect_finished(&mut tasks, &mut in_flight, &mut busy, &mut stats, &*queue, &worker).await;
            continue;
        }
        if mode == Mode::Once && tasks.is_empty() && !queue_error {
            break;
        }
        tokio::select! {
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                record(done, &mut in_flight, &mut busy, &mut stats, &*queue, &worker).await;
            }
            () = tokio::time::sleep(config.poll_interval) => {}
            changed = shutdown.changed(), if signal_open => signal_open = changed.is_ok(),
        }
    }
    tracing::info!(in_flight = tasks.len(), "stopping: no more claims; finishing the jobs in flight");
    let deadline = Instant::now() + config.shutdown_grace;
    while !tasks.is_empty() {
        match tokio::time::timeout_at(deadline, tasks.join_next_with_id()).await {
            Ok(Some(done)) => record(done, &mut in_flight, &mut busy, &mut stats, &*queue, &worker).await,
            Ok(None) => break,
            Err(_) => {
                tasks.abort_all();
                while let Some(done) = tasks.join_next_with_id().await {
                    record(done, &mut in_flight, &mut busy, &mut stats, &*queue, &worker).await;
                }
            }
        }
    }
    tracing::info!(?stats, "worker stopped");
    stats
}

/// Records the tasks that already finished, without waiting.
async fn collect_finished(
    tasks: &mut JoinSet<Outcome>,
    in_flight: &mut HashMap<tokio::task::Id, InFlight>,
    busy: &mut [usize],
    stats: &mut WorkerStats,
    queue: &dyn JobQueue,
    worker: &str,
) {
    while let Some(done) = tasks.try_join_next_with_id() {
        record(done, in_flight, busy, stats, queue, worker).await;
    }
}

/// Counts a finished task. A cancelled task (shutdown) is released back to the queue; a panicked
/// one is failed like a transient error.
async fn record(
    done: Result<(tokio::task::Id, Outcome), tokio::task::JoinError>,
    in_flight: &mut HashMap<tokio::task::Id, InFlight>,
    busy: &mut [usize],
    stats: &mut WorkerStats,
    queue: &dyn JobQueue,
    worker: &str,
) {
    let (id, outcome) = match done {
        Ok((id, outcome)) => (id, outcome),
        Err(e) => {
            let id = e.id();
            let Some(f) = in_flight.get(&id) else { return };
            let (message, released) = if e.is_cancelled() {
                ("released: the worker shut down before the job finished".to_owned(), true)
            } else {
                (format!("the handler panicked: {e}"), false)
            };
            // The port has no `release`: a non-permanent failure due now puts the job back.
            let retry_after = released.then_some(Duration::ZERO);
            let outcome = match queue.fail(f.org, f.job, worker, &message, retry_after, false).await {
                Ok(JobState::Dead) => Outcome::Dead,
                Ok(_) if released => {
                    stats.released += 1;
                    Outcome::NotReported
                }
                Ok(_) => Outcome::Retried,
                Err(JobQueueError::LeaseLost(_)) => Outcome::LeaseLost,
                Err(err) => {
                    tracing::error!(error = %err, job = %f.job, "could not release the job; its lease will expire");
                    Outcome::NotReported
                }
            };
            (id, outcome)
        }
    };
    if let Some(f) = in_flight.remove(&id) {
        busy[f.queue_index] = busy[f.queue_index].saturating_sub(1);
    }
    match outcome {
        Outcome::Completed => stats.completed += 1,
        Outcome::Retried => stats.retried += 1,
        Outcome::Dead => stats.dead += 1,
        Outcome::LeaseLost => stats.lease_lost += 1,
        Outcome::NotReported => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_specs() {
        for (input, expected) in [
            ("sync.scheduled=2", Some(("sync.scheduled", 2))),
            (" default = 4 ", Some(("default", 4))),
            ("x=0", Some(("x", 0))),
            ("=3", None),
            ("x", None),
            ("x=two", None),
        ] {
            let got = parse_concurrency(input).ok();
            assert_eq!(got.as_ref().map(|(k, n)| (k.as_str(), *n)), expected, "{input}");
        }
    }
}
