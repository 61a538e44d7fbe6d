//! Text for people: the table of a run's items (action, confidence, contact, target, reasons)
//! with the field diff under each update and merge, run summaries, and short ids.

use std::io::Write;

use anyhow::Result;
use rolodex_app::sync::{ExecuteReport, ItemView, PreviewReport, RunProgress};
use rolodex_domain::diff::{Change, ContactDiff};
use rolodex_domain::matching::Action;
use rolodex_domain::ports::storage::SyncRun;
use serde_json::Value;

/// Cuts `s` to `max` characters, with an ellipsis.
#[must_use]
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn value_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "∅".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().map(|i| value_text(Some(i))).collect::<Vec<_>>().join(", "),
        Some(other) => other.to_string(),
    }
}

/// The lines of a diff: `+ field: value`, `~ field: before → after`, `- field: value` (kept).
#[must_use]
pub fn diff_lines(diff: &Value) -> Vec<String> {
    let Ok(diff) = serde_json::from_value::<ContactDiff>(diff.clone()) else {
        return vec![];
    };
    diff.fields
        .iter()
        .filter_map(|f| match f.change {
            Change::Unchanged => None,
            Change::Added => Some(format!("+ {}: {}", f.field, cut(&value_text(f.after.as_ref()), 60))),
            Change::Changed => Some(format!(
                "~ {}: {} → {}",
                f.field,
                cut(&value_text(f.before.as_ref()), 40),
                cut(&value_text(f.after.as_ref()), 40)
            )),
            Change::Removed => Some(format!("  {}: {} (kept)", f.field, cut(&value_text(f.before.as_ref()), 60))),
        })
        .collect()
}

fn state_of(view: &ItemView) -> String {
    if let Some(result) = &view.item.result {
        return result.outcome.as_str().to_owned();
    }
    let mut s = view.item.review.as_str().to_owned();
    if view.overridden {
        s.push('*');
    }
    s
}

/// Writes the items as a table, each update / merge followed by its diff.
///
/// # Errors
/// Writing failed.
pub fn items_table(out: &mut dyn Write, items: &[ItemView], with_diffs: bool) -> Result<()> {
    writeln!(
        out,
        "{:>5}  {:<7} {:<11} {:<9} {:<28} {:<8}  REASONS",
        "#", "ACTION", "CONFIDENCE", "STATE", "CONTACT", "TARGET"
    )?;
    for v in items {
        let rec = &v.recommendation;
        let confidence = format!("{:<6} {:.2}", format!("{:?}", rec.confidence).to_lowercase(), v.item.confidence);
        let target = v.target.map(|t| short(&t.to_string())).unwrap_or_default();
        let mut reasons = rec.reasons.first().cloned().unwrap_or_default();
        if rec.reasons.len() > 1 {
            reasons.push_str(&format!(" (+{})", rec.reasons.len() - 1));
        }
        writeln!(
            out,
            "{:>5}  {:<7} {:<11} {:<9} {:<28} {:<8}  {}",
            v.item.position,
            v.action.as_str(),
            confidence,
            state_of(v),
            cut(&v.item.incoming.fields.label(), 28),
            target,
            cut(&reasons, 70)
        )?;
        if with_diffs && matches!(v.action, Action::Update | Action::Merge) {
            for line in diff_lines(&v.item.diff) {
                writeln!(out, "{:>7}{line}", "")?;
            }
        }
        for w in &rec.warnings {
            writeln!(out, "{:>7}! {}", "", cut(w, 100))?;
        }
        if let Some(r) = &v.item.result
            && let Some(m) = &r.message
        {
            writeln!(out, "{:>7}→ {}", "", cut(m, 100))?;
        }
    }
    Ok(())
}

/// One item in full: every reason, warning, alternative and the whole diff.
///
/// # Errors
/// Writing failed.
pub fn item_detail(out: &mut dyn Write, v: &ItemView) -> Result<()> {
    let rec = &v.recommendation;
    writeln!(out, "item #{} ({})", v.item.position, v.item.id)?;
    writeln!(out, "  contact:    {}", v.item.incoming.fields.label())?;
    if let Some(ext) = &v.item.incoming.external_id {
        writeln!(out, "  source id:  {ext}")?;
    }
    writeln!(
        out,
        "  action:     {}{} (proposed {}, rules {})",
        v.action.as_str(),
        if v.overridden { " (overridden)" } else { "" },
        rec.action.as_str(),
        rec.rule_action.as_str()
    )?;
    writeln!(out, "  confidence: {:?} {:.2} ({:.1} bits)", rec.confidence, v.item.confidence, rec.bits)?;
    if let Some(t) = v.target {
        writeln!(out, "  target:     {t}")?;
    }
    writeln!(out, "  state:      {}", state_of(v))?;
    for r in &rec.reasons {
        writeln!(out, "  reason:     {r}")?;
    }
    for w in &rec.warnings {
        writeln!(out, "  warning:    {w}")?;
    }
    for line in diff_lines(&v.item.diff) {
        writeln!(out, "  diff:       {line}")?;
    }
    Ok(())
}

/// The first 8 characters of an id.
#[must_use]
pub fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

/// One line per run.
///
/// # Errors
/// Writing failed.
pub fn runs_table(out: &mut dyn Write, runs: &[SyncRun]) -> Result<()> {
    writeln!(
        out,
        "{:<36}  {:<10} {:<10} {:<9} {:>7} {:>7} {:>7} {:>6}  STARTED",
        "RUN", "PROVIDER", "STATUS", "KIND", "CREATED", "UPDATED", "SKIPPED", "FAILED"
    )?;
    for r in runs {
        writeln!(
            out,
            "{:<36}  {:<10} {:<10} {:<9} {:>7} {:>7} {:>7} {:>6}  {}",
            r.id,
            cut(&r.provider, 10),
            r.status.as_str(),
            r.kind.as_str(),
            r.counts.created,
            r.counts.updated,
            r.counts.skipped,
            r.counts.failed,
            r.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
        )?;
    }
    Ok(())
}

/// What a preview found, in one paragraph.
///
/// # Errors
/// Writing failed.
pub fn preview_summary(out: &mut dyn Write, p: &PreviewReport) -> Result<()> {
    let c = &p.counts;
    writeln!(
        out,
        "run {}: {} fetched, {} proposed ({} create, {} update, {} merge, {} skip, {} review{}), {} unchanged{}{}",
        p.run_id,
        c.fetched,
        c.listed,
        c.create,
        c.update,
        c.merge,
        c.skip,
        c.review,
        if c.delete > 0 { format!(", {} delete", c.delete) } else { String::new() },
        c.unchanged,
        if c.filtered_out > 0 { format!(", {} filtered out", c.filtered_out) } else { String::new() },
        if c.deleted_at_source > 0 {
            format!(", {} deleted at the source", c.deleted_at_source)
        } else {
            String::new()
        },
    )?;
    if p.reset {
        writeln!(out, "the provider's cursor had expired: this was a full listing")?;
    }
    Ok(())
}

/// What an execution did.
///
/// # Errors
/// Writing failed.
pub fn execute_summary(out: &mut dyn Write, r: &ExecuteReport, progress: &RunProgress) -> Result<()> {
    writeln!(
        out,
        "created {}, updated {}, merged {}, {}skipped {}, failed {}; {} waiting for review; run {}",
        r.created,
        r.updated,
        r.merged,
        if r.deleted > 0 { format!("deleted {}, ", r.deleted) } else { String::new() },
        r.skipped,
        r.failed,
        progress.pending_review,
        r.status.unwrap_or(progress.status).as_str()
    )?;
    for (item, reason) in &r.failures {
        writeln!(out, "  failed {item}: {reason}")?;
    }
    Ok(())
}
