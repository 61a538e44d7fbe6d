//! Execute: apply a run's approved items in batches. Each batch is one
//! [`SyncRunStore::apply_batch`](rolodex_domain::ports::storage::SyncRunStore::apply_batch)
//! transaction: the contacts it writes, one audit row per change (before and after), the provider
//! links (with the snapshot hash that makes the next sync skip unchanged contacts), the item
//! results and the run's counts; the last batch also carries the connection's new cursor. So links
//! and the cursor advance only with a batch that commits, and a crash between batches resumes
//! where it stopped: applied items have a result and are never applied twice. The run's counts are
//! readable while it runs ([`SyncService::progress`]).
//!
//! As many batches as the store advises
//! ([`apply_concurrency`](rolodex_domain::ports::storage::SyncRunStore::apply_concurrency), or
//! [`SyncSettings::apply_concurrency`](super::SyncSettings::apply_concurrency)) are in flight at
//! once. No two of them write the same contact or provider link: an item aimed at one that a
//! batch in flight writes waits for a later batch, so the changes of one contact still apply in
//! position order. The cursor goes last: with the pass's last batch when nothing else is in flight
//! then, otherwise in a batch of its own once all the others came back.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use futures_util::future::{self, BoxFuture, Either};
use futures_util::stream::{FuturesOrdered, StreamExt};
use rolodex_domain::diff::merge;
use rolodex_domain::matching::Action;
use rolodex_domain::ports::SyncCursor;
use rolodex_domain::ports::storage::{
    Actor, ApplyBatch, ApplyChange, ApplyOp, ApplyReport, ItemFilter, ItemOutcome, MAX_PAGE, ProviderLink, ReviewState,
    SyncRun, SyncRunStore, SyncStatus, SyncStoreError,
};
use rolodex_domain::{ConnectionId, Contact, ContactId, ContactStatus, OrgId, SyncItemId, SyncRunId};

use super::gaps;
use super::hash::fields_hash;
use super::model::{ExecuteReport, ItemView, Override};
use super::review::view_of;
use super::{CONTACTS_RESOURCE, SyncError, SyncService};

/// A batch read ahead: its items, and the contacts they aim at as read then (what this execution
/// wrote itself takes precedence when planning).
#[derive(Default)]
struct Prefetched {
    views: Vec<ItemView>,
    targets: HashMap<ContactId, Contact>,
    /// What the views touch (filled in by [`Held::take_ready`], which computes it anyway).
    touches: Vec<Touch>,
}

/// Items held back because a batch in flight writes their contact or link (or an item held before
/// them does), in position order, with the contacts they aim at as read.
#[derive(Default)]
struct Held {
    views: Vec<ItemView>,
    targets: HashMap<ContactId, Contact>,
}

impl Held {
    /// Of the held items and then `page`'s, in order, those that touch nothing `busy` and nothing
    /// an item held before them touches; the others stay held. Two items for one contact thus
    /// apply in position order: in one batch, or one after the batch of the other came back.
    fn take_ready(&mut self, run: &SyncRun, page: Prefetched, busy: &HashSet<Touch>) -> Prefetched {
        self.targets.extend(page.targets);
        let mut blocked: HashSet<Touch> = HashSet::new();
        let mut ready = Prefetched::default();
        for view in std::mem::take(&mut self.views).into_iter().chain(page.views) {
            let touches = touches_of(run, &view);
            if touches.iter().any(|t| busy.contains(t) || blocked.contains(t)) {
                blocked.extend(touches);
                self.views.push(view);
            } else {
                if let Some(c) = view.target.and_then(|t| self.targets.get(&t)) {
                    ready.targets.insert(c.id, c.clone());
                }
                ready.touches.extend(touches);
                ready.views.push(view);
            }
        }
        let wanted: HashSet<ContactId> = self.views.iter().filter_map(|v| v.target).collect();
        self.targets.retain(|id, _| wanted.contains(id));
        ready
    }
}

/// What a batch in flight writes besides new contacts: two batches side by side never share one,
/// so they cannot wait on each other's row locks or see each other's versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Touch {
    Contact(ContactId),
    Link(ConnectionId, String),
}

/// What execute has seen of the batches that came back.
#[derive(Default)]
struct Progress {
    report: ExecuteReport,
    /// Contacts this execution wrote or plans to write (see [`SyncService::plan`]).
    written: HashMap<ContactId, Contact>,
    /// Items with a result in the current pass.
    applied_in_pass: usize,
}

/// A batch handed to the store, with what it needs when it comes back.
struct Sent {
    actions: HashMap<SyncItemId, Action>,
    touches: Vec<Touch>,
    with_cursor: bool,
}

type Applying<'a> = BoxFuture<'a, (Result<ApplyReport, SyncStoreError>, Sent)>;

/// The batches in flight, oldest first, at most `limit` of them
/// ([`SyncRunStore::apply_concurrency`](rolodex_domain::ports::storage::SyncRunStore::apply_concurrency)).
/// Dropping it (execute itself was dropped) drops them: a batch whose commit was not sent yet
/// never commits (a resume applies its items).
struct Pipeline<'a> {
    inflight: FuturesOrdered<Applying<'a>>,
    busy: HashSet<Touch>,
    limit: usize,
}

impl<'a> Pipeline<'a> {
    fn send(&mut self, store: &'a dyn SyncRunStore, org: OrgId, batch: ApplyBatch, sent: Sent) {
        self.busy.extend(sent.touches.iter().cloned());
        self.inflight.push_back(Box::pin(async move { (store.apply_batch(org, batch).await, sent) }));
    }

    /// Takes in one batch that came back.
    fn absorb(
        &mut self,
        (applied, sent): (Result<ApplyReport, SyncStoreError>, Sent),
        progress: &mut Progress,
    ) -> Result<(), SyncError> {
        for t in &sent.touches {
            self.busy.remove(t);
        }
        let applied = applied?;
        let report = &mut progress.report;
        report.batches += 1;
        report.cursor_advanced |= sent.with_cursor;
        progress.applied_in_pass += applied.results.len();
        for (item, result) in applied.results {
            match result.outcome {
                ItemOutcome::Created => report.created += 1,
                ItemOutcome::Updated if sent.actions.get(&item) == Some(&Action::Merge) => report.merged += 1,
                ItemOutcome::Updated => report.updated += 1,
                ItemOutcome::Deleted => report.deleted += 1,
                ItemOutcome::Skipped => report.skipped += 1,
                ItemOutcome::Failed => {
                    // What was planned for this contact did not happen: read it again next time.
                    if let Some(id) = result.contact_id {
                        progress.written.remove(&id);
                    }
                    report.failed += 1;
                    report.failures.push((item, result.message.unwrap_or_else(|| "failed".to_owned())));
                }
            }
        }
        for c in applied.contacts {
            progress.written.insert(c.id, c);
        }
        tracing::info!(batch = report.batches, created = report.created, failed = report.failed, "batch committed");
        Ok(())
    }

    /// Runs `work` while the batches in flight go on, taking in those that come back.
    async fn meanwhile<T>(&mut self, work: impl Future<Output = T>, progress: &mut Progress) -> Result<T, SyncError> {
        let mut work = std::pin::pin!(work);
        loop {
            if self.inflight.is_empty() {
                return Ok(work.await);
            }
            match future::select(work.as_mut(), self.inflight.next()).await {
                Either::Left((out, _)) => return Ok(out),
                Either::Right((Some(done), _)) => self.absorb(done, progress)?,
                Either::Right((None, _)) => {}
            }
        }
    }

    /// Waits until fewer than `room` batches are in flight.
    async fn wait_below(&mut self, room: usize, progress: &mut Progress) -> Result<(), SyncError> {
        while self.inflight.len() >= room.max(1) {
            match self.inflight.next().await {
                Some(done) => self.absorb(done, progress)?,
                None => break,
            }
        }
        Ok(())
    }

    /// Waits for every batch in flight.
    async fn drain(&mut self, progress: &mut Progress) -> Result<(), SyncError> {
        self.wait_below(1, progress).await
    }
}

impl SyncService {
    /// Applies the run's approved, unapplied items (see the module doc). Items still pending stay
    /// in the run: it goes back to `preview` for a person, or to `completed` when none are left.
    /// After an error the run stays `executing`; calling `execute` again resumes it.
    ///
    /// # Errors
    /// [`SyncError::RunNotFound`], [`SyncError::RunFinished`]; storage errors (the failing batch
    /// is not committed; the batches before it are, and so may be those that were in flight
    /// beside it: execute waits for them before it returns).
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
        let limit = self.settings.apply_concurrency.unwrap_or_else(|| self.ports.runs.apply_concurrency()).max(1);
        let mut pipe = Pipeline { inflight: FuturesOrdered::new(), busy: HashSet::new(), limit };
        let mut progress = Progress::default();
        let outcome =
            self.apply_approved(org, &run, &actor, &overrides, parked.as_ref(), &mut pipe, &mut progress).await;
        if let Err(e) = outcome {
            // Batches beside the failing one may still commit: wait for them, so a resume that
            // follows never applies an item a second time.
            while let Some(done) = pipe.inflight.next().await {
                let _ = pipe.absorb(done, &mut progress);
            }
            return Err(e);
        }
        let mut report = progress.report;
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

    /// Passes over the approved, unapplied items in position order, in batches of
    /// `apply_batch`, up to `pipe.limit` of them in flight. Each batch is read (items decoded,
    /// target contacts fetched) while those before it are being applied. An item whose contact or
    /// link a batch in flight writes is held back for a later batch (see [`Held::take_ready`]).
    /// At the end of a pass the last short page and the held items go the same way, each held
    /// item as soon as no batch in flight touches what it touches; the cursor commits after all
    /// of them. Items approved behind a pass get another (the run's
    /// [`review_seq`](SyncRun::review_seq) moved while it ran). Returns with nothing in flight, unless
    /// it fails.
    #[allow(clippy::too_many_arguments, reason = "one call site; the pieces of one execution")]
    async fn apply_approved<'a>(
        &'a self,
        org: OrgId,
        run: &SyncRun,
        actor: &Actor,
        overrides: &HashMap<SyncItemId, Override>,
        parked: Option<&SyncCursor>,
        pipe: &mut Pipeline<'a>,
        progress: &mut Progress,
    ) -> Result<(), SyncError> {
        // A listing returns at most `MAX_PAGE` items, so a batch is never larger.
        let batch_size = self.settings.apply_batch.clamp(1, MAX_PAGE);
        let mut applied_in_pass = usize::MAX;
        // The review counter as the pass starts: read before its first listing.
        let mut review_seq = run.review_seq;
        loop {
            let mut page = self.prefetch(org, run.id, None, batch_size, overrides).await?;
            // Done when nothing is left, or (a store that records no results) nothing moved.
            if (page.views.is_empty() && progress.report.batches > 0) || applied_in_pass == 0 {
                return Ok(());
            }
            progress.applied_in_pass = 0;
            let mut held = Held::default();
            // A short page is the last of the pass; after a full one, the next may be empty.
            while page.views.len() >= batch_size as usize {
                let after = page.views.last().map(|v| v.item.position);
                let ready = held.take_ready(run, page, &pipe.busy);
                if !ready.views.is_empty() {
                    self.send(org, run, actor, ready, None, pipe, progress);
                }
                let next = self.prefetch(org, run.id, after, batch_size, overrides);
                let next = pipe.meanwhile(next, progress).await??;
                pipe.wait_below(pipe.limit, progress).await?;
                page = next;
            }
            // The cursor commits with the pass's last batch, after every other one came back.
            let mut cursor = match (run.connection_id, parked) {
                (Some(conn), Some(c)) => Some((conn, CONTACTS_RESOURCE.to_owned(), c.clone())),
                _ => None,
            };
            // The last, short page and the items still held go like the others, beside the
            // batches in flight: each held item once none of those touches what it touches.
            loop {
                let ready = held.take_ready(run, std::mem::take(&mut page), &pipe.busy);
                let last = held.views.is_empty();
                if !ready.views.is_empty() {
                    // With nothing else in flight the last batch can carry the cursor itself.
                    let with = if last && pipe.inflight.is_empty() { cursor.take() } else { None };
                    self.send(org, run, actor, ready, with, pipe, progress);
                }
                if last {
                    break;
                }
                // Held items wait for one batch to come back (with none in flight, all are ready).
                let n = pipe.inflight.len();
                pipe.wait_below(n, progress).await?;
            }
            pipe.drain(progress).await?;
            if cursor.is_some() {
                // Otherwise it goes alone, once every item of the pass has a result.
                self.send(org, run, actor, Prefetched::default(), cursor, pipe, progress);
                pipe.drain(progress).await?;
            }
            applied_in_pass = progress.applied_in_pass;
            // Another pass only if some review changed since this one started: an item approved
            // behind it. Otherwise every approved item it listed has a result, and none other
            // exists (a listing from the start would walk them all to find that out).
            let seq = self.ports.runs.get_run(org, run.id).await?.review_seq;
            if seq == review_seq {
                return Ok(());
            }
            review_seq = seq;
        }
    }

    /// Plans `batch` (as [`Held::take_ready`] gave it, with its touches) and hands it to the
    /// store.
    #[allow(clippy::too_many_arguments, reason = "the pieces of one execution")]
    fn send<'a>(
        &'a self,
        org: OrgId,
        run: &SyncRun,
        actor: &Actor,
        batch: Prefetched,
        cursor: Option<(ConnectionId, String, SyncCursor)>,
        pipe: &mut Pipeline<'a>,
        progress: &mut Progress,
    ) {
        let mut changes = Vec::with_capacity(batch.views.len());
        let mut actions: HashMap<SyncItemId, Action> = HashMap::with_capacity(batch.views.len());
        let touches = batch.touches;
        for view in batch.views {
            actions.insert(view.item.id, view.action);
            changes.push(self.plan(run, view, &mut progress.written, &batch.targets));
        }
        let with_cursor = cursor.is_some();
        // The targets as read: the store need not read again those still at the expected version.
        let known = batch.targets.into_values().collect();
        let apply = ApplyBatch { run_id: run.id, actor: actor.clone(), changes, cursor, jobs: vec![], known };
        pipe.send(&*self.ports.runs, org, apply, Sent { actions, touches, with_cursor });
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
            // Applying needs the incoming contact and the recommendation, not the diff.
            skip_diff: true,
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
        Ok(Prefetched { views, targets, touches: Vec::new() })
    }

    /// The change for one approved item. `written` holds the contacts this execution wrote or
    /// plans to write (at the version the write will give them), so two items aimed at the same
    /// contact merge one after the other instead of conflicting.
    fn plan(
        &self,
        run: &SyncRun,
        view: ItemView,
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
        // The incoming record becomes the link's snapshot (moved, not copied).
        let incoming = view.item.incoming;
        let link = match (&op, run.connection_id, incoming.external_id) {
            (ApplyOp::Create { id, .. } | ApplyOp::Update { id, .. }, Some(connection_id), Some(external_id)) => {
                Some(ProviderLink {
                    contact_id: *id,
                    connection_id,
                    external_id,
                    external_version: incoming.external_version,
                    snapshot_hash: Some(fields_hash(&incoming.fields)),
                    snapshot: Some(incoming.fields),
                    remote_updated_at: incoming.external_updated_at,
                    synced_at: self.ports.clock.now(),
                })
            }
            _ => None,
        };
        ApplyChange { item_id, op, link }
    }
}

/// The contact an item updates or deletes and the provider link it writes (a create writes a new
/// contact, which nothing else can touch yet).
fn touches_of(run: &SyncRun, view: &ItemView) -> Vec<Touch> {
    let mut out = Vec::with_capacity(2);
    if matches!(view.action, Action::Update | Action::Merge | Action::Delete)
        && let Some(target) = view.target
    {
        out.push(Touch::Contact(target));
    }
    if let (Some(conn), Some(external)) = (run.connection_id, &view.item.incoming.external_id) {
        out.push(Touch::Link(conn, external.clone()));
    }
    out
}
