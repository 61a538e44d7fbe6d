//! Execute: apply a run's approved items in batches. Each batch is one
//! [`SyncRunStore::apply_batch`](rolodex_domain::ports::storage::SyncRunStore::apply_batch)
//! transaction: the contacts it writes, one audit row per change (before and after), the provider
//! links (with the snapshot hash that makes the next sync skip unchanged contacts), the item
//! results and the run's counts; the last batch also carries the connection's new cursor. So links
//! and the cursor advance only with a batch that commits, and a crash between batches resumes
//! where it stopped: applied items have a result and are never applied twice. The run's counts are
//! readable while it runs ([`SyncService::progress`]).

use std::collections::HashMap;

use rolodex_domain::diff::merge;
use rolodex_domain::matching::Action;
use rolodex_domain::ports::storage::{
    Actor, ApplyBatch, ApplyChange, ApplyOp, ItemFilter, ItemOutcome, MAX_PAGE, ProviderLink, ReviewState, SyncRun,
    SyncStatus,
};
use rolodex_domain::{Contact, ContactId, ContactStatus, OrgId, SyncItemId, SyncRunId};

use super::gaps;
use super::hash::fields_hash;
use super::model::{ExecuteReport, ItemView, Override};
use super::review::view_of;
use super::{CONTACTS_RESOURCE, SyncError, SyncService};

/// A batch read ahead: its items, and the contacts they aim at as read then (what this execution
/// wrote itself takes precedence when planning).
struct Prefetched {
    views: Vec<ItemView>,
    targets: HashMap<ContactId, Contact>,
}

impl SyncService {
    /// Applies the run's approved, unapplied items (see the module doc). Items still pending stay
    /// in the run: it goes back to `preview` for a person, or to `completed` when none are left.
    /// After an error the run stays `executing`; calling `execute` again resumes it.
    ///
    /// # Errors
    /// [`SyncError::RunNotFound`], [`SyncError::RunFinished`]; storage errors (the failing batch
    /// is not committed; the batches before it are).
    #[tracing::instrument(skip_all, fields(org = %org, run = %run_id))]
    pub async fn execute(&self, org: OrgId, run_id: SyncRunId, actor: Actor) -> Result<ExecuteReport, SyncError> {
        let run = self.open_run(org, run_id).await?;
        if run.status != SyncStatus::Executing {
            self.ports.runs.set_run_status(org, run_id, SyncStatus::Executing, None).await?;
        }
        let overrides = gaps::load_overrides(&*self.ports.audit, org, run_id).await?;
        let parked = match run.connection_id {
            Some(conn) => gaps::parked_cursor(&*self.ports.cursors, org, conn, CONTACTS_RESOURCE, run_id).await?,
            None => None,
        };
        // A listing returns at most `MAX_PAGE` items, so a batch is never larger.
        let batch_size = self.settings.apply_batch.clamp(1, MAX_PAGE);
        let mut report = ExecuteReport::default();
        let mut written: HashMap<ContactId, Contact> = HashMap::new();
        // Passes over the approved, unapplied items in position order. Each batch is read (items
        // decoded, target contacts fetched) while the one before it is being applied. A pass ends
        // with a short batch; items approved behind it meanwhile get another pass.
        let mut applied_in_pass = usize::MAX;
        'passes: loop {
            let mut page = self.prefetch(org, run_id, None, batch_size, &overrides).await?;
            // Done when nothing is left, or (a store that records no results) nothing moved.
            if (page.views.is_empty() && report.batches > 0) || applied_in_pass == 0 {
                break;
            }
            applied_in_pass = 0;
            loop {
                // A short batch is the last of the pass; after a full one, the next listing may be
                // empty (then only the cursor is written).
                let last = page.views.len() < batch_size as usize;
                let after = page.views.last().map(|v| v.item.position);
                let mut changes = Vec::with_capacity(page.views.len());
                let mut actions: HashMap<SyncItemId, Action> = HashMap::with_capacity(page.views.len());
                for view in &page.views {
                    actions.insert(view.item.id, view.action);
                    changes.push(self.plan(&run, view, &mut written, &page.targets));
                }
                let cursor = match (last, run.connection_id, &parked) {
                    (true, Some(conn), Some(c)) => Some((conn, CONTACTS_RESOURCE.to_owned(), c.clone())),
                    _ => None,
                };
                if changes.is_empty() && cursor.is_none() {
                    break 'passes;
                }
                let with_cursor = cursor.is_some();
                let batch = ApplyBatch { run_id, actor: actor.clone(), changes, cursor, jobs: vec![] };
                let following = async {
                    if last {
                        Ok(None)
                    } else {
                        self.prefetch(org, run_id, after, batch_size, &overrides).await.map(Some)
                    }
                };
                let (applied, following) =
                    futures_util::future::join(self.ports.runs.apply_batch(org, batch), following).await;
                let applied = applied?;
                report.batches += 1;
                report.cursor_advanced |= with_cursor;
                applied_in_pass += applied.results.len();
                for (item, result) in applied.results {
                    match result.outcome {
                        ItemOutcome::Created => report.created += 1,
                        ItemOutcome::Updated if actions.get(&item) == Some(&Action::Merge) => report.merged += 1,
                        ItemOutcome::Updated => report.updated += 1,
                        ItemOutcome::Deleted => report.deleted += 1,
                        ItemOutcome::Skipped => report.skipped += 1,
                        ItemOutcome::Failed => {
                            // What was planned for this contact did not happen: read it again next time.
                            if let Some(id) = result.contact_id {
                                written.remove(&id);
                            }
                            report.failed += 1;
                            report.failures.push((item, result.message.unwrap_or_else(|| "failed".to_owned())));
                        }
                    }
                }
                for c in applied.contacts {
                    written.insert(c.id, c);
                }
                tracing::info!(
                    batch = report.batches,
                    created = report.created,
                    failed = report.failed,
                    "batch committed"
                );
                match following? {
                    Some(next) => page = next,
                    None => break,
                }
            }
        }
        if let (Some(conn), Some(_)) = (run.connection_id, &parked) {
            gaps::drop_parked_cursor(&*self.ports.cursors, org, conn, CONTACTS_RESOURCE, run_id).await?;
        }
        let waiting =
            ItemFilter { review: Some(ReviewState::Pending), unapplied_only: true, limit: 1, ..ItemFilter::default() };
        let status = if self.ports.runs.list_items(org, run_id, &waiting).await?.is_empty() {
            SyncStatus::Completed
        } else {
            SyncStatus::Preview
        };
        self.ports.runs.set_run_status(org, run_id, status, None).await?;
        report.status = Some(status);
        tracing::info!(
            created = report.created,
            updated = report.updated,
            merged = report.merged,
            deleted = report.deleted,
            skipped = report.skipped,
            failed = report.failed,
            "sync executed"
        );
        Ok(report)
    }

    /// The next batch to apply: up to `limit` approved, unapplied items after `after` (from the
    /// start when `None`), decoded, with the contacts they aim at read in one query.
    async fn prefetch(
        &self,
        org: OrgId,
        run_id: SyncRunId,
        after: Option<i64>,
        limit: u32,
        overrides: &HashMap<SyncItemId, Override>,
    ) -> Result<Prefetched, SyncError> {
        let filter = ItemFilter {
            decision: None,
            review: Some(ReviewState::Approved),
            unapplied_only: true,
            after_position: after,
            limit,
        };
        let items = self.ports.runs.list_items(org, run_id, &filter).await?;
        let views = items.into_iter().map(|item| view_of(item, overrides)).collect::<Result<Vec<_>, _>>()?;
        let mut wanted: Vec<ContactId> = views
            .iter()
            .filter(|v| matches!(v.action, Action::Update | Action::Merge | Action::Delete))
            .filter_map(|v| v.target)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let targets = if wanted.is_empty() {
            HashMap::new()
        } else {
            self.ports.contacts.get_contacts(org, &wanted).await?.into_iter().map(|c| (c.id, c)).collect()
        };
        Ok(Prefetched { views, targets })
    }

    /// The change for one approved item. `written` holds the contacts this execution wrote or
    /// plans to write (at the version the write will give them), so two items aimed at the same
    /// contact merge one after the other instead of conflicting.
    fn plan(
        &self,
        run: &SyncRun,
        view: &ItemView,
        written: &mut HashMap<ContactId, Contact>,
        fetched: &HashMap<ContactId, Contact>,
    ) -> ApplyChange {
        let item_id = view.item.id;
        let incoming = &view.item.incoming;
        let fail = |error: String| ApplyChange { item_id, op: ApplyOp::Fail { error }, link: None };
        let op = match (view.action, view.target) {
            (Action::Create, _) => {
                ApplyOp::Create { id: ContactId::from(self.ports.ids.new_uuid()), fields: incoming.fields.clone() }
            }
            (Action::Update | Action::Merge, Some(target)) => {
                let current = match written.get(&target).or_else(|| fetched.get(&target)) {
                    Some(c) => c.clone(),
                    None => return fail(format!("contact {target} no longer exists")),
                };
                if current.status == ContactStatus::Deleted {
                    return fail(format!("contact {target} was deleted since the preview"));
                }
                // The version the reviewed diff was based on; a contact changed by someone else
                // since then fails with a conflict instead of being overwritten.
                let expected_version = if written.contains_key(&target) || view.overridden {
                    current.version
                } else {
                    view.recommendation.base_version.unwrap_or(current.version)
                };
                let policy =
                    if view.action == Action::Merge { self.settings.merge_policy } else { self.settings.update_policy };
                let fields = merge(&current.fields, &incoming.fields, policy);
                written.insert(target, Contact { fields: fields.clone(), version: expected_version + 1, ..current });
                ApplyOp::Update { id: target, expected_version, fields }
            }
            (Action::Update | Action::Merge, None) => {
                return fail("no contact to write: override the target".into());
            }
            (Action::Delete, Some(target)) => {
                let current = match written.get(&target).or_else(|| fetched.get(&target)) {
                    Some(c) => c.clone(),
                    None => return fail(format!("contact {target} no longer exists")),
                };
                if current.status == ContactStatus::Deleted {
                    ApplyOp::Skip { reason: format!("contact {target} is already deleted") }
                } else {
                    // As for updates: a contact changed since the preview is not deleted unseen.
                    let expected_version = if written.contains_key(&target) {
                        current.version
                    } else {
                        view.recommendation.base_version.unwrap_or(current.version)
                    };
                    written.insert(
                        target,
                        Contact { status: ContactStatus::Deleted, version: expected_version + 1, ..current },
                    );
                    ApplyOp::Delete { id: target, expected_version }
                }
            }
            (Action::Delete, None) => return fail("no contact to delete".into()),
            (Action::Skip, _) => ApplyOp::Skip {
                reason: view.recommendation.reasons.first().cloned().unwrap_or_else(|| "skipped by a reviewer".into()),
            },
            (Action::Review, _) => {
                return fail("approved without a decision: override it with create, update, merge or skip".into());
            }
        };
        let link = match (&op, run.connection_id, &incoming.external_id) {
            (ApplyOp::Create { id, .. } | ApplyOp::Update { id, .. }, Some(connection_id), Some(external_id)) => {
                Some(ProviderLink {
                    contact_id: *id,
                    connection_id,
                    external_id: external_id.clone(),
                    external_version: incoming.external_version.clone(),
                    snapshot: Some(incoming.fields.clone()),
                    snapshot_hash: Some(fields_hash(&incoming.fields)),
                    remote_updated_at: incoming.external_updated_at,
                    synced_at: self.ports.clock.now(),
                })
            }
            _ => None,
        };
        ApplyChange { item_id, op, link }
    }
}
