//! `rolodex reindex`: rewrite the organisation's blocking keys from its contacts.

use std::io::Write;

use anyhow::{Context as _, Result};
use clap::Args;

use crate::context::{self, Env, Global};
use crate::progress;

/// `rolodex reindex`.
#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Contacts per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch: u32,
}

/// Rewrites every contact's index rows, with a counter while it runs.
///
/// # Errors
/// The database is unreachable or a page fails (the pages before it stay rewritten; running the
/// command again finishes the job).
pub async fn run(global: &Global, env: &Env, args: ReindexArgs, out: &mut dyn Write) -> Result<()> {
    let ctx = context::open(global, env, false).await?;
    let bar = progress::counter_if(env.console.progress, "reindexing");
    let report = ctx
        .store
        .reindex_contacts(ctx.org, args.batch as usize, |n| bar.set_position(n))
        .await
        .context("reindexing contacts (run `rolodex reindex` again to finish)")?;
    bar.finish_and_clear();
    writeln!(out, "reindexed {} contact(s): {} key row(s)", report.contacts, report.keys)?;
    Ok(())
}
