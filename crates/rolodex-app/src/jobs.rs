//! Job handlers: what the worker runs for each job kind. A [`JobHandler`] gets the claimed job and
//! returns `Ok` or a [`JobFailure`] saying whether (and when) to retry; the worker runtime
//! (`rolodex-worker`) owns claiming, leases, heartbeats, concurrency and shutdown.
//!
//! Handlers here: [`ScheduledSyncJob`] (`sync.scheduled`, payload `{"connection": "<uuid>"}`), the
//! unattended contact sync of one connection. Handlers must be idempotent: a job can run again
//! after a crash or a lost lease.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rolodex_domain::ports::storage::{Job, JobQueue, JobQueueError, JobSchedule, NewJob, Schedule};
use rolodex_domain::ports::{ContactSource, ProviderError, Retry};
use rolodex_domain::{ConnectionId, OrgId};

use crate::sync::{SyncError, SyncFilters, SyncService};

/// Why a job failed, and what the queue should do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    /// For the job's `last_error` and the logs.
    pub message: String,
    /// Retry after this delay instead of the queue's backoff (a provider's `Retry-After`).
    pub retry_after: Option<Duration>,
    /// Never retry (bad payload, a person must act).
    pub permanent: bool,
}

impl JobFailure {
    /// A failure worth retrying with the queue's backoff.
    #[must_use]
    pub fn transient(message: impl Into<String>) -> Self {
        Self { message: message.into(), retry_after: None, permanent: false }
    }

    /// A failure that retrying cannot fix.
    #[must_use]
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), retry_after: None, permanent: true }
    }

    /// From an error and its [`Retry`] advice; the message carries the cause chain.
    #[must_use]
    pub fn from_error(error: &(dyn std::error::Error + 'static), retry: Retry) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        match retry {
            Retry::After(retry_after) => Self { message, retry_after, permanent: false },
            Retry::Never => Self { message, retry_after: None, permanent: true },
        }
    }
}

impl From<SyncError> for JobFailure {
    fn from(e: SyncError) -> Self {
        let retry = e.retry();
        Self::from_error(&e, retry)
    }
}

/// Runs one kind of job.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Runs the job.
    ///
    /// # Errors
    /// [`JobFailure`]: the queue retries it (with backoff or `retry_after`) unless `permanent`.
    async fn run(&self, job: &Job) -> Result<(), JobFailure>;
}

/// Builds the [`ContactSource`] of a connection (the provider adapter with its tokens).
#[async_trait]
pub trait ContactSources: Send + Sync + 'static {
    /// The source reading `connection`.
    ///
    /// # Errors
    /// [`ProviderError`]: `NeedsReauth` when the connection must be reconnected, `NotFound` when it
    /// does not exist in `org`.
    async fn source(&self, org: OrgId, connection: ConnectionId) -> Result<Arc<dyn ContactSource>, ProviderError>;
}

/// `sync.scheduled`: the scheduled sync of one connection ([`SyncService::run_scheduled`]).
pub struct ScheduledSyncJob {
    /// The sync service.
    pub sync: SyncService,
    /// Where sources come from.
    pub sources: Arc<dyn ContactSources>,
}

impl ScheduledSyncJob {
    /// The job kind (and its queue).
    pub const KIND: &'static str = "sync.scheduled";

    /// The job that syncs `connection` once (unique per connection: a slow run is never doubled).
    #[must_use]
    pub fn job(connection: ConnectionId) -> NewJob {
        NewJob::new(Self::KIND, serde_json::json!({ "connection": connection.to_string() }))
            .on_queue(Self::KIND)
            .unique(format!("{}:{connection}", Self::KIND))
            .max_attempts(5)
    }

    /// Creates or replaces the recurring sync of `connection` (schedule `sync:<connection>`).
    ///
    /// # Errors
    /// [`JobQueueError`] from the queue.
    pub async fn schedule(
        queue: &dyn JobQueue,
        org: OrgId,
        connection: ConnectionId,
        schedule: Schedule,
    ) -> Result<JobSchedule, JobQueueError> {
        queue.upsert_schedule(org, &format!("sync:{connection}"), schedule, Self::job(connection)).await
    }
}

#[async_trait]
impl JobHandler for ScheduledSyncJob {
    #[tracing::instrument(skip_all, fields(org = %job.org_id, job = %job.id))]
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let connection = job
            .payload
            .get("connection")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| ConnectionId::parse(s).ok())
            .ok_or_else(|| JobFailure::permanent("payload must be {\"connection\": \"<uuid>\"}"))?;
        let source =
            self.sources.source(job.org_id, connection).await.map_err(|e| JobFailure::from_error(&e, e.retry()))?;
        let report = self.sync.run_scheduled(job.org_id, connection, &*source, SyncFilters::default()).await?;
        tracing::info!(
            run = %report.preview.run_id,
            created = report.execute.created,
            updated = report.execute.updated,
            pending = report.preview.counts.listed - report.preview.counts.auto_approved,
            "scheduled sync done"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_follow_the_retry_advice() {
        let rate = ProviderError::RateLimited { retry_after: Some(Duration::from_secs(30)) };
        let f = JobFailure::from_error(&rate, rate.retry());
        assert_eq!((f.retry_after, f.permanent), (Some(Duration::from_secs(30)), false));
        let reauth = ProviderError::NeedsReauth("invalid_grant".into());
        assert!(JobFailure::from_error(&reauth, reauth.retry()).permanent);
        let src = SyncError::Source { provider: "graph", source: ProviderError::Transient("502".into()) };
        let f = JobFailure::from(src);
        assert!(!f.permanent);
        assert!(f.message.contains("graph") && f.message.contains("502"), "{}", f.message);
    }
}
