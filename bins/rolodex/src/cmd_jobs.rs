//! `rolodex jobs [list] | retry JOB`: the organisation's background jobs. Retrying a dead job
//! enqueues a fresh copy (same kind, queue, payload, unique key and attempts), because the queue
//! port has no "revive" operation; the dead job stays as the record of what failed.

use std::io::Write;

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use rolodex_domain::JobId;
use rolodex_domain::ports::storage::{Job, JobQueue, JobState, NewJob};

use crate::context::{self, Env, Global};
use crate::render::cut;

/// Arguments of `rolodex jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// `list` (the default) or `retry JOB`.
    #[command(subcommand)]
    command: Option<JobsCommand>,
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// Jobs, newest first.
    List {
        /// Only this state (available, running, retryable, completed, dead, cancelled).
        #[arg(long)]
        state: Option<String>,
        /// At most this many per state.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Run a dead (or cancelled) job again.
    Retry {
        /// The job id.
        job: String,
    },
}

/// `rolodex jobs`.
///
/// # Errors
/// Bad arguments, an unknown job, a job that is not dead, storage errors.
pub async fn run(global: &Global, env: &Env, args: JobsArgs, out: &mut dyn Write) -> Result<()> {
    let ctx = context::open(global, env, false).await?;
    match args.command.unwrap_or(JobsCommand::List { state: None, limit: 50 }) {
        JobsCommand::List { state, limit } => {
            let states = match state {
                Some(s) => vec![JobState::parse(&s).map_err(|e| anyhow!("--state: {e}"))?],
                None => JobState::ALL.to_vec(),
            };
            let mut jobs: Vec<Job> = Vec::new();
            for s in states {
                jobs.extend(ctx.store.list_jobs(ctx.org, s, limit.max(1)).await.map_err(|e| anyhow!("{e}"))?);
            }
            jobs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
            if jobs.is_empty() {
                writeln!(out, "no jobs")?;
                return Ok(());
            }
            writeln!(out, "{:<36}  {:<16} {:<10} {:>7}  LAST ERROR", "JOB", "KIND", "STATE", "ATTEMPT")?;
            for j in &jobs {
                writeln!(
                    out,
                    "{:<36}  {:<16} {:<10} {:>3}/{:<3}  {}",
                    j.id,
                    cut(&j.kind, 16),
                    j.state.as_str(),
                    j.attempt,
                    j.max_attempts,
                    cut(j.last_error.as_deref().unwrap_or(""), 80)
                )?;
            }
            Ok(())
        }
        JobsCommand::Retry { job } => {
            let id = JobId::parse(&job).map_err(|e| anyhow!("{e}"))?;
            let j = ctx.store.get_job(ctx.org, id).await.map_err(|e| anyhow!("{e}"))?;
            if !matches!(j.state, JobState::Dead | JobState::Cancelled) {
                bail!("job {id} is {}: only a dead or cancelled job can be retried", j.state.as_str());
            }
            let mut new =
                NewJob::new(j.kind.clone(), j.payload.clone()).on_queue(j.queue.clone()).max_attempts(j.max_attempts);
            new.priority = j.priority;
            if let Some(key) = &j.unique_key {
                new = new.unique(key.clone());
            }
            let enqueued = ctx.store.enqueue(ctx.org, new).await.map_err(|e| anyhow!("{e}"))?;
            if enqueued.created {
                writeln!(out, "job {id} retried as {}", enqueued.id)?;
            } else {
                writeln!(out, "job {id}: the same job is already queued as {}", enqueued.id)?;
            }
            Ok(())
        }
    }
}
