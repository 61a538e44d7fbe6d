//! `rolodex sync CONNECTION --preview | --execute`: one connection's contacts through the sync.
//! `--preview` stores a run for review (incremental from the stored cursor unless `--full`);
//! `--execute` also approves the high-confidence creates and updates and applies them, leaving the
//! rest pending, with the same guard as the scheduled sync (a full listing that comes back empty
//! for a connection that had contacts aborts the run).

use std::io::Write;

use anyhow::{Context as _, Result, anyhow};
use clap::Args;
use rolodex_app::sync::{AutoApprove, FetchMode, ItemQuery, PreviewRequest};
use rolodex_domain::Region;
use rolodex_domain::ports::storage::SyncKind;
use rolodex_runtime::StoreSources;

use crate::cmd_import::Counted;
use crate::cmd_runs::{self, Summary};
use crate::context::{self, Env, Global};
use crate::{progress, render};

/// Arguments of `rolodex sync`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["preview", "execute"])))]
pub struct SyncArgs {
    /// The connection id (or its account name).
    connection: String,
    /// Store a run for review; change nothing.
    #[arg(long)]
    preview: bool,
    /// Preview, then apply the high-confidence creates and updates; the rest stay pending.
    #[arg(long)]
    execute: bool,
    /// List everything instead of the changes since the last sync.
    #[arg(long)]
    full: bool,
    /// Region (ISO 3166 alpha-2) for phone numbers written without a country code.
    #[arg(long, value_name = "CC", default_value = "US")]
    default_region: String,
    /// Print one summary object instead of the table.
    #[arg(long)]
    json: bool,
    /// Items shown in the table.
    #[arg(long, value_name = "N", default_value_t = 100)]
    show: u32,
}

/// `rolodex sync`.
///
/// # Errors
/// An unknown connection, a provider failure, the emptied-source guard, storage errors.
pub async fn run(global: &Global, env: &Env, args: SyncArgs, out: &mut dyn Write) -> Result<()> {
    let region = Region::parse(&args.default_region).map_err(|e| anyhow!("--default-region: {e}"))?;
    let ctx = context::open(global, env, true).await?;
    let connection = crate::cmd_connections::resolve(&ctx, &args.connection).await?;
    let sources = StoreSources::new(ctx.store.clone(), region).map_err(|e| anyhow!("{e}"))?;
    let source = sources.build(&connection).map_err(|e| anyhow!("{e}"))?;
    let bar = progress::counter_if(env.console.progress, "fetching");
    let counted = Counted { inner: source, bar: bar.clone() };
    let request = PreviewRequest {
        connection_id: Some(connection.id),
        mode: if args.full { FetchMode::Full } else { FetchMode::Incremental },
        kind: Some(SyncKind::Manual),
        auto_approve: if args.execute { AutoApprove::HighConfidence } else { AutoApprove::Never },
        guard_empty_source: true,
        ..PreviewRequest::default()
    };
    let preview = ctx
        .sync
        .preview(ctx.org, &counted, request)
        .await
        .with_context(|| format!("syncing {} connection {}", connection.provider, connection.id))?;
    bar.finish_and_clear();
    let run = preview.run_id;
    if !args.json {
        render::preview_summary(out, &preview)?;
        if args.show > 0 {
            let page =
                ctx.sync.list_items(ctx.org, run, ItemQuery { limit: args.show, ..ItemQuery::default() }).await?;
            if !page.items.is_empty() {
                render::items_table(out, &page.items, true)?;
            }
        }
    }
    let pending_now = ctx.sync.progress(ctx.org, run).await?;
    let executed = if args.execute || pending_now.pending_review == 0 {
        Some(cmd_runs::execute_with_progress(&ctx, env, run).await?)
    } else {
        None
    };
    let after = executed.as_ref().map_or(pending_now, |(_, a)| a.clone());
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&Summary::new(run, executed.as_ref().map(|(r, _)| r), &after))?)?;
    } else {
        if let Some((report, after)) = &executed {
            render::execute_summary(out, report, after)?;
        }
        if after.pending_review > 0 {
            writeln!(out, "{} item(s) wait for review: `rolodex review {run}`", after.pending_review)?;
        }
    }
    Ok(())
}
