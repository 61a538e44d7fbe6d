//! The job queue port, [`JobQueue`]: durable background jobs with unique keys, delayed runs,
//! leases, heartbeats, exponential backoff, a dead state, and recurring schedules.
//!
//! A job's life: `available` (or `retryable` after a failure) -> claimed: `running` under a lease
//! -> `completed`, or back to `retryable` with a backoff, or `dead` after its last attempt (with
//! the last error), or `cancelled`. A lease that expires without a heartbeat puts the job back:
//! the next claim takes it (counting an attempt) and the old worker's calls get `LeaseLost`.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{JobQueueError, Schedule};
use crate::ids::{JobId, OrgId};

stored_enum!(
    /// Where a job is.
    JobState {
        /// Waiting for its `run_at`, then for a worker.
        Available => "available",
        /// Leased to a worker.
        Running => "running",
        /// Failed, waiting for its retry at `run_at`.
        Retryable => "retryable",
        /// Done.
        Completed => "completed",
        /// Failed its last attempt (see `last_error`). Never retried automatically.
        Dead => "dead",
        /// Cancelled before it completed.
        Cancelled => "cancelled",
    }
);

impl JobState {
    /// Available, running or retryable: the job still has work to do (and holds its unique key).
    #[must_use]
    pub fn is_active(self) -> bool {
        matches!(self, Self::Available | Self::Running | Self::Retryable)
    }
}

/// Default attempts before a job is dead.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What to run (`sync.execute`, `contact.push`, `campaign.send`, ...), the handler's name.
    pub kind: String,
    /// The queue (workers claim from a list of queues).
    pub queue: String,
    /// Handler input (JSON).
    pub payload: serde_json::Value,
    /// While a job with the same key in the same organisation is active (available, running,
    /// retryable), enqueueing another one returns the existing job instead.
    pub unique_key: Option<String>,
    /// Not before this time (now when `None`).
    pub run_at: Option<OffsetDateTime>,
    /// Attempts before the job is dead (at least 1).
    pub max_attempts: u32,
    /// Higher runs first.
    pub priority: i16,
}

impl NewJob {
    /// A job of `kind` on the `default` queue, run now, [`DEFAULT_MAX_ATTEMPTS`], priority 0.
    #[must_use]
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            queue: "default".to_owned(),
            payload,
            unique_key: None,
            run_at: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            priority: 0,
        }
    }

    /// Sets the unique key.
    #[must_use]
    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    /// Sets the queue.
    #[must_use]
    pub fn on_queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = queue.into();
        self
    }

    /// Sets the earliest run time.
    #[must_use]
    pub fn run_at(mut self, at: OffsetDateTime) -> Self {
        self.run_at = Some(at);
        self
    }

    /// Sets the attempt limit.
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// The organisation it works for.
    pub org_id: OrgId,
    /// Handler name.
    pub kind: String,
    /// Queue.
    pub queue: String,
    /// Input.
    pub payload: serde_json::Value,
    /// Unique key.
    pub unique_key: Option<String>,
    /// State.
    pub state: JobState,
    /// Attempts started so far (the running attempt included).
    pub attempt: u32,
    /// Attempt limit.
    pub max_attempts: u32,
    /// Priority.
    pub priority: i16,
    /// Earliest (next) run time.
    pub run_at: OffsetDateTime,
    /// The worker holding the lease.
    pub locked_by: Option<String>,
    /// When the lease ends.
    pub lease_until: Option<OffsetDateTime>,
    /// The last failure.
    pub last_error: Option<String>,
    /// Enqueued.
    pub created_at: OffsetDateTime,
    /// Completed, dead or cancelled at.
    pub finished_at: Option<OffsetDateTime>,
}

/// The result of [`JobQueue::enqueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// The job (the existing one when `created` is false).
    pub id: JobId,
    /// False when an active job with the same unique key already existed.
    pub created: bool,
}

/// The delay before retry number `attempt` (1-based: the delay after the first failure is
/// `backoff(1)`): 2^attempt seconds plus a deterministic spread of up to 25 % from the job id,
/// capped at one hour.
#[must_use]
pub fn backoff(attempt: u32, job: JobId) -> Duration {
    let base = 1u64 << attempt.clamp(1, 12);
    let spread = (job.as_uuid().as_u128() % 1000) as u64; // 0..999 thousandths
    let millis = base * 1000 + base * spread / 4;
    Duration::from_millis(millis.min(3_600_000))
}

/// A recurring job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSchedule {
    /// Unique per organisation (`reconcile:ghl:<connection>`).
    pub name: String,
    /// When it runs.
    pub schedule: Schedule,
    /// The job to enqueue each time (its unique key is set to `schedule:<name>`, so a slow run is
    /// never doubled).
    pub job: NewJob,
    /// The next time it is due (computed by the store on upsert and after each enqueue).
    pub next_run_at: OffsetDateTime,
}

/// Durable jobs on the same database as the data they concern. Writers enqueue jobs atomically
/// with their changes through the `jobs` arguments of the other ports; this port enqueues on its
/// own, and runs the worker side.
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Enqueues a job (see [`NewJob::unique_key`]).
    ///
    /// # Errors
    /// `Invalid` for an empty kind or queue or `max_attempts` 0; `Unexpected`.
    async fn enqueue(&self, org: OrgId, job: NewJob) -> Result<Enqueued, JobQueueError>;

    /// Reads a job.
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_job(&self, org: OrgId, id: JobId) -> Result<Job, JobQueueError>;

    /// Lists jobs of `org` in a state, oldest first, at most `limit`.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_jobs(&self, org: OrgId, state: JobState, limit: u32) -> Result<Vec<Job>, JobQueueError>;

    /// Worker side, across organisations (each job carries its `org_id`): leases up to `limit`
    /// due jobs of `queues` to `worker` for `lease`, highest priority then oldest `run_at` first.
    /// Takes jobs whose lease expired too (their attempt counts); one whose lease expired on its
    /// last attempt becomes `dead`. No job is ever leased to two workers at once.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn claim(
        &self,
        queues: &[&str],
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, JobQueueError>;

    /// Extends the lease.
    ///
    /// # Errors
    /// `LeaseLost` when the job is no longer leased to `worker`.
    async fn heartbeat(&self, org: OrgId, id: JobId, worker: &str, lease: Duration) -> Result<(), JobQueueError>;

    /// Marks the job completed.
    ///
    /// # Errors
    /// `LeaseLost` when the job is no longer leased to `worker`.
    async fn complete(&self, org: OrgId, id: JobId, worker: &str) -> Result<(), JobQueueError>;

    /// Records a failure: `retryable` after [`backoff`] (or `retry_after` when given, e.g. a
    /// provider's `Retry-After`) while attempts remain and `permanent` is false, else `dead`.
    /// Returns the new state.
    ///
    /// # Errors
    /// `LeaseLost` when the job is no longer leased to `worker`.
    async fn fail(
        &self,
        org: OrgId,
        id: JobId,
        worker: &str,
        error: &str,
        retry_after: Option<Duration>,
        permanent: bool,
    ) -> Result<JobState, JobQueueError>;

    /// Cancels a job that is not finished; returns whether it was cancelled. A running job's
    /// worker gets `LeaseLost` on its next call.
    ///
    /// # Errors
    /// `NotFound`.
    async fn cancel(&self, org: OrgId, id: JobId) -> Result<bool, JobQueueError>;

    /// Creates or replaces a recurring schedule (by name); returns it with `next_run_at`.
    ///
    /// # Errors
    /// `Invalid` for an empty name or an invalid job.
    async fn upsert_schedule(
        &self,
        org: OrgId,
        name: &str,
        schedule: Schedule,
        job: NewJob,
    ) -> Result<JobSchedule, JobQueueError>;

    /// Removes a schedule; returns whether it existed.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn delete_schedule(&self, org: OrgId, name: &str) -> Result<bool, JobQueueError>;

    /// Lists schedules by name.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_schedules(&self, org: OrgId) -> Result<Vec<JobSchedule>, JobQueueError>;

    /// Worker side, across organisations: enqueues one job for every schedule that is due and
    /// moves its `next_run_at` past now (missed runs are not replayed). Returns the jobs enqueued.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn enqueue_due_schedules(&self) -> Result<Vec<(OrgId, JobId)>, JobQueueError>;
}
