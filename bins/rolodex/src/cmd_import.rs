//! `rolodex import FILE`: a CSV or vCard file through preview → a table of the proposed changes
//! (diffs, confidence, reasons) → confirmation → execute. `--yes` applies the high-confidence
//! decisions without asking; with no terminal and no `--yes`, everything stays pending for
//! `rolodex review` (a script never blocks on a question).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow};
use async_trait::async_trait;
use clap::Args;
use indicatif::ProgressBar;
use rolodex_app::sync::{FetchMode, ItemQuery, PreviewRequest};
use rolodex_domain::Region;
use rolodex_domain::ports::storage::SyncKind;
use rolodex_domain::ports::{ChangePage, ContactSource, FetchRequest, ProviderError};
use rolodex_files::{ColumnMap, CsvOptions, FileSource};

use crate::cmd_runs::{self, Summary};
use crate::context::{self, Ctx, Env, Global};
use crate::{progress, render};

/// Arguments of `rolodex import`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  rolodex import contacts.csv\n  rolodex import export.vcf --yes\n  \
rolodex import crm.csv --default-region AU --map street=street_number+address_1 --yes --json")]
pub struct ImportArgs {
    /// A CSV / TSV file (columns recognised by common spellings) or a vCard file.
    file: PathBuf,
    /// Apply the high-confidence decisions without asking; the rest stay pending for review.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Print one summary object `{run_id, created, updated, merged, skipped, pending_review, failed}`
    /// instead of the table.
    #[arg(long)]
    json: bool,
    /// Region (ISO 3166 alpha-2) for phone numbers written without a country code.
    #[arg(long, value_name = "CC", default_value = "US")]
    default_region: String,
    /// Column overrides, `FIELD=COLUMN[+COLUMN],...` (as in `rolodex match`).
    #[arg(long, value_name = "SPEC")]
    map: Option<String>,
    /// Cells that count as missing, comma separated (in addition to blank cells).
    #[arg(long, value_name = "LIST", default_value = "NA,N/A,n/a,NULL,null,-")]
    null_values: String,
    /// Items shown in the table (the rest: `rolodex runs show RUN`).
    #[arg(long, value_name = "N", default_value_t = 100)]
    show: usize,
}

/// A source that moves a counter as pages arrive.
pub struct Counted {
    /// The source.
    pub inner: Arc<dyn ContactSource>,
    /// The counter.
    pub bar: ProgressBar,
}

#[async_trait]
impl ContactSource for Counted {
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    async fn fetch(&self, request: FetchRequest) -> Result<ChangePage, ProviderError> {
        let page = self.inner.fetch(request).await?;
        self.bar.inc((page.upserts.len() + page.deletions.len()) as u64);
        Ok(page)
    }
}

/// `rolodex import`.
///
/// # Errors
/// An unreadable file or bad options; storage errors.
pub async fn run(global: &Global, env: &Env, args: ImportArgs, out: &mut dyn Write) -> Result<()> {
    let region = Region::parse(&args.default_region).map_err(|e| anyhow!("--default-region: {e}"))?;
    let map = match &args.map {
        Some(spec) => ColumnMap::parse(spec).map_err(|e| anyhow!("--map: {e}"))?,
        None => ColumnMap::empty(),
    };
    let null_values = args.null_values.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    let options = CsvOptions { map, null_values, ..CsvOptions::default() };
    if !args.file.is_file() {
        anyhow::bail!("cannot read `{}`: no such file", args.file.display());
    }
    let source = FileSource::open(&args.file, options)
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("reading {}", args.file.display()))?
        .with_region(region);
    let ctx = context::open(global, env, false).await?;
    let bar = progress::counter_if(env.console.progress, "reading");
    let counted = Counted { inner: Arc::new(source), bar: bar.clone() };
    let request = PreviewRequest { mode: FetchMode::Full, kind: Some(SyncKind::Manual), ..PreviewRequest::default() };
    let preview = ctx
        .sync
        .preview(ctx.org, &counted, request)
        .await
        .with_context(|| format!("previewing the import of {}", args.file.display()))?;
    bar.finish_and_clear();
    let run = preview.run_id;
    if !args.json {
        render::preview_summary(out, &preview)?;
        show_items(&ctx, run, args.show, out).await?;
    }
    let approved = decide(&ctx, env, run, args.yes, preview.counts.listed, args.json, out).await?;
    let progress_now = ctx.sync.progress(ctx.org, run).await?;
    // Execute when something is approved, or when nothing is left to decide (completes the run).
    let report = if approved > 0 || progress_now.pending_review == 0 {
        let (report, after) = cmd_runs::execute_with_progress(&ctx, env, run).await?;
        if !args.json {
            render::execute_summary(out, &report, &after)?;
        }
        Some((report, after))
    } else {
        None
    };
    let after = match &report {
        Some((_, after)) => after.clone(),
        None => progress_now,
    };
    if args.json {
        let summary = Summary::new(run, report.as_ref().map(|(r, _)| r), &after);
        writeln!(out, "{}", serde_json::to_string(&summary)?)?;
    } else if after.pending_review > 0 {
        writeln!(
            out,
            "{} item(s) wait for review: `rolodex review {run}` (then `rolodex execute {run}`)",
            after.pending_review
        )?;
    }
    Ok(())
}

async fn show_items(ctx: &Ctx, run: rolodex_domain::SyncRunId, show: usize, out: &mut dyn Write) -> Result<()> {
    if show == 0 {
        return Ok(());
    }
    let limit = u32::try_from(show.min(1000)).unwrap_or(1000);
    let page = ctx.sync.list_items(ctx.org, run, ItemQuery { limit, ..ItemQuery::default() }).await?;
    if page.items.is_empty() {
        writeln!(out, "nothing to change")?;
        return Ok(());
    }
    render::items_table(out, &page.items, true)?;
    if page.next_after.is_some() {
        writeln!(out, "… more items: `rolodex runs show {run}`")?;
    }
    Ok(())
}

/// Approves what the person (or `--yes`) agrees to; returns how many items were approved.
async fn decide(
    ctx: &Ctx,
    env: &Env,
    run: rolodex_domain::SyncRunId,
    yes: bool,
    listed: u64,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<u64> {
    if listed == 0 {
        return Ok(0);
    }
    if yes {
        let n = ctx.sync.approve_high_confidence(ctx.org, run).await?;
        if !quiet {
            writeln!(out, "approved {n} high-confidence item(s)")?;
        }
        return Ok(n);
    }
    if !env.console.interactive {
        if !quiet {
            writeln!(out, "no terminal and no --yes: nothing applied")?;
        }
        return Ok(0);
    }
    let answer = cmd_runs::ask(
        "Apply [h]igh-confidence items, [a]ll items that have an action, or [n]othing (review later)? [h/a/N]",
    )?;
    let n = match answer.as_str() {
        "h" | "high" | "y" | "yes" => ctx.sync.approve_high_confidence(ctx.org, run).await?,
        "a" | "all" => cmd_runs::approve_all(ctx, run).await?,
        _ => 0,
    };
    if !quiet {
        writeln!(out, "approved {n} item(s)")?;
    }
    Ok(n)
}
