//! `rolodex runs`, `rolodex review RUN` and `rolodex execute RUN`, plus the helpers `import` and
//! `sync` share: listing a run's items, approving, executing with a progress bar, the JSON summary.

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use clap::{Args, Subcommand};
use rolodex_app::sync::{ExecuteReport, ItemQuery, ItemView, Override, RunProgress, Verdict};
use rolodex_domain::matching::{Action, Confidence};
use rolodex_domain::ports::storage::{Actor, ReviewState, RunFilter, SyncRunStore, SyncStatus};
use rolodex_domain::{ContactId, SyncItemId, SyncRunId};
use serde::Serialize;

use crate::context::{self, Ctx, Env, Global};
use crate::{progress, render};

/// The one-object summary of `--json`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// The run.
    pub run_id: String,
    /// Contacts created.
    pub created: u64,
    /// Contacts updated.
    pub updated: u64,
    /// Contacts merged into an existing one.
    pub merged: u64,
    /// Items skipped.
    pub skipped: u64,
    /// Items waiting for a person.
    pub pending_review: u64,
    /// Items that failed.
    pub failed: u64,
    /// Contacts soft-deleted because the source deleted them (only present when some were; a
    /// file import never deletes).
    #[serde(skip_serializing_if = "is_zero")]
    pub deleted: u64,
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's skip_serializing_if passes a reference")]
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    /// From an execution (or none) and the run's progress afterwards.
    #[must_use]
    pub fn new(run: SyncRunId, report: Option<&ExecuteReport>, progress: &RunProgress) -> Self {
        let r = report.cloned().unwrap_or_default();
        Self {
            run_id: run.to_string(),
            created: r.created,
            updated: r.updated,
            merged: r.merged,
            skipped: r.skipped,
            pending_review: progress.pending_review,
            failed: r.failed,
            deleted: r.deleted,
        }
    }
}

/// Who the CLI acts as in the audit log.
#[must_use]
pub fn actor() -> Actor {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "operator".into());
    Actor::System(format!("cli:{user}"))
}

/// Parses a run id.
///
/// # Errors
/// Not a UUID.
pub fn run_id(s: &str) -> Result<SyncRunId> {
    SyncRunId::parse(s).map_err(|e| anyhow!("{e}: give the run id printed by `rolodex runs`"))
}

/// Every item of a run matching `query` (all pages).
///
/// # Errors
/// Storage errors; an unknown run.
pub async fn all_items(ctx: &Ctx, run: SyncRunId, mut query: ItemQuery) -> Result<Vec<ItemView>> {
    let mut items = Vec::new();
    query.limit = 1000;
    loop {
        let page = ctx.sync.list_items(ctx.org, run, query).await?;
        items.extend(page.items);
        match page.next_after {
            Some(after) => query.after_position = Some(after),
            None => return Ok(items),
        }
    }
}

/// Executes a run's approved items with a progress bar (counts are read while it runs).
///
/// # Errors
/// The execution failed; the run stays `executing` and `rolodex execute RUN` resumes it.
pub async fn execute_with_progress(ctx: &Ctx, env: &Env, run: SyncRunId) -> Result<(ExecuteReport, RunProgress)> {
    let before = ctx.sync.progress(ctx.org, run).await?;
    let done_before = done(&before);
    let bar = progress::bar_if(env.console.progress, before.approved_remaining, "applying");
    let poller = {
        let (sync, org, bar) = (ctx.sync.clone(), ctx.org, bar.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if let Ok(p) = sync.progress(org, run).await {
                    bar.set_position(done(&p).saturating_sub(done_before));
                }
            }
        })
    };
    let result = ctx.sync.execute(ctx.org, run, actor()).await;
    poller.abort();
    bar.finish_and_clear();
    let report = result.with_context(|| format!("executing run {run} (run `rolodex execute {run}` to resume)"))?;
    let after = ctx.sync.progress(ctx.org, run).await?;
    Ok((report, after))
}

fn done(p: &RunProgress) -> u64 {
    p.counts.created + p.counts.updated + p.counts.deleted + p.counts.skipped + p.counts.failed
}

/// Approves every pending item that has an action (everything but `review` proposals).
///
/// # Errors
/// Storage errors; a finished run.
pub async fn approve_all(ctx: &Ctx, run: SyncRunId) -> Result<u64> {
    let pending = all_items(
        ctx,
        run,
        ItemQuery { review: Some(ReviewState::Pending), unapplied_only: true, ..ItemQuery::default() },
    )
    .await?;
    let ids: Vec<SyncItemId> = pending.iter().filter(|v| v.action != Action::Review).map(|v| v.item.id).collect();
    let mut n = 0;
    for chunk in ids.chunks(500) {
        n += ctx.sync.approve(ctx.org, run, chunk).await?;
    }
    Ok(n)
}

/// Asks a yes/no question on stderr and reads the answer from stdin.
///
/// # Errors
/// Reading stdin failed.
pub fn ask(question: &str) -> Result<String> {
    eprint!("{question} ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_lowercase())
}

/// Arguments of `rolodex runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// `list` (the default) or `show RUN`.
    #[command(subcommand)]
    command: Option<RunsCommand>,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// The most recent runs, newest first.
    List {
        /// Only runs in this status (preview, executing, completed, failed, cancelled).
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// One JSON object per line instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// One run: its counts, what is left, and its items.
    Show {
        /// The run id.
        run: String,
        /// Only items with this action (create, update, merge, skip, review).
        #[arg(long)]
        action: Option<String>,
        /// Only items with this confidence (low, medium, high).
        #[arg(long)]
        confidence: Option<String>,
        /// Only items waiting for a person.
        #[arg(long)]
        pending: bool,
        /// Show one item in full (its position `#` or id).
        #[arg(long, value_name = "ITEM")]
        item: Option<String>,
        /// The counts as JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
}

fn parse_action(s: &str) -> Result<Action> {
    Action::parse(s).map_err(|e| anyhow!(e))
}

fn parse_confidence(s: &str) -> Result<Confidence> {
    Confidence::parse(s).map_err(|e| anyhow!(e))
}

/// `rolodex runs`.
///
/// # Errors
/// Bad arguments, an unknown run, storage errors.
pub async fn runs(global: &Global, env: &Env, args: RunsArgs, out: &mut dyn Write) -> Result<()> {
    let ctx = context::open(global, env, false).await?;
    match args.command.unwrap_or(RunsCommand::List { status: None, limit: 20, json: false }) {
        RunsCommand::List { status, limit, json } => {
            let status = status.map(|s| SyncStatus::parse(&s).map_err(|e| anyhow!("--status: {e}"))).transpose()?;
            let runs = ctx
                .store
                .list_runs(ctx.org, &RunFilter { status, limit: limit.max(1), ..RunFilter::default() })
                .await?;
            if json {
                for r in &runs {
                    let line = serde_json::json!({
                        "run_id": r.id.to_string(), "provider": r.provider, "status": r.status.as_str(),
                        "kind": r.kind.as_str(), "created": r.counts.created, "updated": r.counts.updated,
                        "deleted": r.counts.deleted, "skipped": r.counts.skipped, "failed": r.counts.failed,
                        "error": r.error,
                    });
                    writeln!(out, "{line}")?;
                }
            } else if runs.is_empty() {
                writeln!(
                    out,
                    "no sync runs yet: start one with `rolodex import FILE` or `rolodex sync CONNECTION --preview`"
                )?;
            } else {
                render::runs_table(out, &runs)?;
            }
            Ok(())
        }
        RunsCommand::Show { run, action, confidence, pending, item, json } => {
            let run = run_id(&run)?;
            let r = ctx.store.get_run(ctx.org, run).await.map_err(|e| anyhow!("{e}"))?;
            let p = ctx.sync.progress(ctx.org, run).await?;
            if json {
                let line = serde_json::json!({
                    "run_id": r.id.to_string(), "provider": r.provider, "status": r.status.as_str(),
                    "kind": r.kind.as_str(), "created": r.counts.created, "updated": r.counts.updated,
                    "deleted": r.counts.deleted, "skipped": r.counts.skipped, "failed": r.counts.failed,
                    "error": r.error,
                    "approved_remaining": p.approved_remaining, "pending_review": p.pending_review,
                });
                writeln!(out, "{line}")?;
                return Ok(());
            }
            if let Some(item) = item {
                let id = resolve_item(&ctx, run, &item).await?;
                let view = ctx.sync.item(ctx.org, run, id).await?;
                return render::item_detail(out, &view);
            }
            writeln!(out, "run {} ({}, {}, {})", r.id, r.provider, r.kind.as_str(), r.status.as_str())?;
            writeln!(
                out,
                "created {}, updated {}, skipped {}, failed {}; approved not applied {}; waiting for review {}",
                r.counts.created,
                r.counts.updated,
                r.counts.skipped,
                r.counts.failed,
                p.approved_remaining,
                p.pending_review
            )?;
            if let Some(e) = &r.error {
                writeln!(out, "error: {e}")?;
            }
            let query = ItemQuery {
                action: action.as_deref().map(parse_action).transpose()?,
                confidence: confidence.as_deref().map(parse_confidence).transpose()?,
                review: pending.then_some(ReviewState::Pending),
                unapplied_only: pending,
                ..ItemQuery::default()
            };
            let items = all_items(&ctx, run, query).await?;
            if items.is_empty() {
                writeln!(out, "no items")?;
            } else {
                render::items_table(out, &items, true)?;
            }
            Ok(())
        }
    }
}

/// An item by position (`12`, `#12`) or id.
async fn resolve_item(ctx: &Ctx, run: SyncRunId, s: &str) -> Result<SyncItemId> {
    let t = s.trim().trim_start_matches('#');
    if let Ok(position) = t.parse::<i64>() {
        let query = ItemQuery { after_position: Some(position - 1), limit: 1, ..ItemQuery::default() };
        let page = ctx.sync.list_items(ctx.org, run, query).await?;
        return match page.items.first() {
            Some(v) if v.item.position == position => Ok(v.item.id),
            _ => bail!("run {run} has no item #{position}"),
        };
    }
    SyncItemId::parse(t).map_err(|e| anyhow!("item `{s}`: {e}; give its position (#) or id"))
}

async fn resolve_items(ctx: &Ctx, run: SyncRunId, list: &[String]) -> Result<Vec<SyncItemId>> {
    let mut ids = Vec::new();
    for s in list.iter().flat_map(|s| s.split(',')).filter(|s| !s.trim().is_empty()) {
        ids.push(resolve_item(ctx, run, s).await?);
    }
    Ok(ids)
}

/// `ACTION` or `ACTION:CONTACT` (`merge:0190…`).
fn parse_override(s: &str) -> Result<Override> {
    let (action, target) = match s.split_once(':') {
        Some((a, t)) => (a, Some(ContactId::parse(t).map_err(|e| anyhow!("override `{s}`: {e}"))?)),
        None => (s, None),
    };
    Ok(Override { action: parse_action(action)?, target })
}

/// Arguments of `rolodex review`.
#[derive(Debug, Args)]
#[command(
    after_help = "Items are given by their position (the # column of `rolodex runs show RUN`) or id; lists are comma separated.\n\
Operations run in this order: --approve-high, --skip-duplicates, --approve-all, --approve, --reject, --override, --similar.\n\n\
Examples:\n  rolodex review RUN --approve-high --skip-duplicates\n  rolodex review RUN --approve 3,7 --reject 9 --override 12=merge:0190c0de-...\n  \
rolodex review RUN --similar 4 --verdict reject"
)]
pub struct ReviewArgs {
    /// The run id.
    run: String,
    /// Approve every pending high-confidence item.
    #[arg(long)]
    approve_high: bool,
    /// Every pending possible duplicate becomes an approved skip.
    #[arg(long)]
    skip_duplicates: bool,
    /// Approve every pending item that has an action (not the `review` ones; source deletions
    /// included).
    #[arg(long)]
    approve_all: bool,
    /// Approve these items.
    #[arg(long, value_name = "ITEMS")]
    approve: Vec<String>,
    /// Reject these items (they will not be applied).
    #[arg(long, value_name = "ITEMS")]
    reject: Vec<String>,
    /// Override an item: `ITEM=ACTION` or `ITEM=update:CONTACT` / `ITEM=merge:CONTACT`. Repeatable.
    #[arg(long = "override", value_name = "ITEM=ACTION[:CONTACT]")]
    overrides: Vec<String>,
    /// Apply --verdict to every item similar to this one (same action and reasons).
    #[arg(long, value_name = "ITEM", requires = "verdict")]
    similar: Option<String>,
    /// With --similar: `approve`, `reject`, or an override `ACTION`.
    #[arg(long, value_name = "VERDICT")]
    verdict: Option<String>,
    /// Execute the approved items afterwards.
    #[arg(long)]
    execute: bool,
}

/// `rolodex review RUN`.
///
/// # Errors
/// Bad arguments, an unknown or finished run, a refused operation (nothing of that operation changes).
pub async fn review(global: &Global, env: &Env, args: ReviewArgs, out: &mut dyn Write) -> Result<()> {
    let ctx = context::open(global, env, false).await?;
    let run = run_id(&args.run)?;
    let actor = actor();
    let mut did_something = false;
    if args.approve_high {
        let n = ctx.sync.approve_high_confidence(ctx.org, run).await?;
        writeln!(out, "approved {n} high-confidence item(s)")?;
        did_something = true;
    }
    if args.skip_duplicates {
        let n = ctx.sync.skip_duplicates(ctx.org, run, &actor).await?;
        writeln!(out, "skipping {n} possible duplicate(s)")?;
        did_something = true;
    }
    if args.approve_all {
        let n = approve_all(&ctx, run).await?;
        writeln!(out, "approved {n} item(s)")?;
        did_something = true;
    }
    if !args.approve.is_empty() {
        let ids = resolve_items(&ctx, run, &args.approve).await?;
        let n = ctx.sync.approve(ctx.org, run, &ids).await?;
        writeln!(out, "approved {n} item(s)")?;
        did_something = true;
    }
    if !args.reject.is_empty() {
        let ids = resolve_items(&ctx, run, &args.reject).await?;
        let n = ctx.sync.reject(ctx.org, run, &ids).await?;
        writeln!(out, "rejected {n} item(s)")?;
        did_something = true;
    }
    for spec in &args.overrides {
        let (item, ov) =
            spec.split_once('=').ok_or_else(|| anyhow!("--override `{spec}`: expected ITEM=ACTION[:CONTACT]"))?;
        let id = resolve_item(&ctx, run, item).await?;
        let view = ctx.sync.override_item(ctx.org, run, id, parse_override(ov)?, &actor).await?;
        writeln!(out, "item #{} will {} (approved)", view.item.position, view.action.as_str())?;
        did_something = true;
    }
    if let (Some(like), Some(verdict)) = (&args.similar, &args.verdict) {
        let id = resolve_item(&ctx, run, like).await?;
        let verdict = match verdict.trim().to_lowercase().as_str() {
            "approve" => Verdict::Approve,
            "reject" => Verdict::Reject,
            other => Verdict::Override(parse_override(other)?),
        };
        let n = ctx.sync.apply_to_similar(ctx.org, run, id, verdict, &actor).await?;
        writeln!(out, "applied to {n} similar item(s)")?;
        did_something = true;
    }
    if args.execute {
        let (report, after) = execute_with_progress(&ctx, env, run).await?;
        render::execute_summary(out, &report, &after)?;
        return Ok(());
    }
    let p = ctx.sync.progress(ctx.org, run).await?;
    if !did_something {
        let items = all_items(
            &ctx,
            run,
            ItemQuery { review: Some(ReviewState::Pending), unapplied_only: true, ..ItemQuery::default() },
        )
        .await?;
        if items.is_empty() {
            writeln!(out, "nothing waits for review in run {run}")?;
        } else {
            render::items_table(out, &items, true)?;
            writeln!(
                out,
                "(approve with --approve ITEMS, --approve-high, --approve-all; see `rolodex review --help`)"
            )?;
        }
    }
    writeln!(
        out,
        "run {run}: {} approved to apply, {} waiting for review{}",
        p.approved_remaining,
        p.pending_review,
        if p.approved_remaining > 0 { format!("; apply with `rolodex execute {run}`") } else { String::new() }
    )?;
    Ok(())
}

/// Arguments of `rolodex execute`.
#[derive(Debug, Args)]
pub struct ExecuteArgs {
    /// The run id.
    run: String,
    /// Print one JSON summary object instead of the text.
    #[arg(long)]
    json: bool,
}

/// `rolodex execute RUN`: applies the approved items (resumes an interrupted execution).
///
/// # Errors
/// An unknown or finished run; storage errors.
pub async fn execute(global: &Global, env: &Env, args: ExecuteArgs, out: &mut dyn Write) -> Result<()> {
    let ctx = context::open(global, env, false).await?;
    let run = run_id(&args.run)?;
    let (report, after) = execute_with_progress(&ctx, env, run).await?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&Summary::new(run, Some(&report), &after))?)?;
    } else {
        render::execute_summary(out, &report, &after)?;
    }
    Ok(())
}
