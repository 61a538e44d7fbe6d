//! A minimal in-memory double of the storage ports the sync service uses (`ContactStore`,
//! `LinkStore`, `SyncRunStore`, `CursorStore`, `AuditLog`, `AiUsageStore`). `rolodex-testkit` has
//! no in-memory fakes yet (its storage engineer is writing them); switch to those when they land.
//! It keeps the documented rules the sync relies on: organisation scoping, versioned updates,
//! candidates by blocking key, and `apply_batch` as one all-or-nothing step (a failure can be
//! injected on the n-th batch to simulate a crash).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use rolodex_domain::matching::{BlockingKey, blocking_keys};
use rolodex_domain::ports::Clock;
use rolodex_domain::ports::storage::*;
use rolodex_domain::{ConnectionId, Contact, ContactFields, ContactId, ContactStatus, OrgId, SyncItemId, SyncRunId};
use time::OffsetDateTime;

#[derive(Default, Clone)]
struct State {
    contacts: BTreeMap<(OrgId, ContactId), Contact>,
    links: BTreeMap<(OrgId, ConnectionId, String), ProviderLink>,
    runs: BTreeMap<(OrgId, SyncRunId), SyncRun>,
    items: Vec<(OrgId, SyncItem)>,
    cursors: BTreeMap<(OrgId, ConnectionId, String), StoredCursor>,
    audit: Vec<(OrgId, AuditEntry)>,
    ai_usage: Vec<(OrgId, AiUsageRecord)>,
}

/// The in-memory store.
pub struct MemoryStore {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    apply_calls: AtomicUsize,
    fail_apply_call: Mutex<Option<usize>>,
    /// What `apply_concurrency` advises (1 unless a test says otherwise).
    concurrency: AtomicUsize,
    /// The batches being applied: what each writes (contacts updated or deleted, links) and
    /// whether it carries a cursor.
    in_flight: Mutex<Vec<(usize, Vec<String>, bool)>>,
    /// The most batches seen in flight at once, and every breach of the rules of
    /// `apply_concurrency` (two batches in flight sharing a contact or link, a cursor batch beside
    /// another).
    most_in_flight: AtomicUsize,
    breaches: Mutex<Vec<String>>,
    /// Items a person approves while the given apply call runs (before it commits).
    approve_during: Mutex<Option<(usize, Vec<SyncItemId>)>>,
    /// Listings of approved, unapplied items from the start of a run: one per pass of execute.
    passes: AtomicUsize,
}

/// Takes a batch out of the in-flight list when its call ends, however it ends.
struct Landing<'a> {
    store: &'a MemoryStore,
    call: usize,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.store
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|(c, _, _)| *c != self.call);
    }
}

/// `review_items`: the review of the run's unapplied items among `ids`, and the run's review
/// counter when any changed.
fn set_review(s: &mut State, org: OrgId, run: SyncRunId, ids: &[SyncItemId], review: ReviewState) -> u64 {
    let mut n = 0;
    for (_, i) in s.items.iter_mut().filter(|(o, i)| *o == org && i.run_id == run && ids.contains(&i.id)) {
        if i.result.is_none() && i.review != review {
            i.review = review;
            n += 1;
        }
    }
    if n > 0
        && let Some(r) = s.runs.get_mut(&(org, run))
    {
        r.review_seq += 1;
    }
    n
}

fn unexpected<E: StorageError>(msg: &str) -> E {
    E::unexpected(msg.to_owned().into())
}

impl MemoryStore {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::new(State::default()),
            clock,
            apply_calls: AtomicUsize::new(0),
            fail_apply_call: Mutex::new(None),
            approve_during: Mutex::new(None),
            passes: AtomicUsize::new(0),
            concurrency: AtomicUsize::new(1),
            in_flight: Mutex::new(Vec::new()),
            most_in_flight: AtomicUsize::new(0),
            breaches: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes the `n`-th call of `apply_batch` from now on (1-based) fail without committing.
    pub fn fail_apply_batch(&self, n: usize) {
        *self.fail_apply_call.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(self.apply_calls.load(Ordering::SeqCst) + n);
    }

    /// A person approves `ids` while the `n`th next apply call runs.
    pub fn approve_during_apply_batch(&self, n: usize, ids: Vec<SyncItemId>) {
        *self.approve_during.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((self.apply_calls.load(Ordering::SeqCst) + n, ids));
    }

    /// How many passes over the approved items execute made (listings of them from the start).
    pub fn passes(&self) -> usize {
        self.passes.load(Ordering::SeqCst)
    }

    /// Advises `n` batches in flight at once; each call then yields before it applies, so the
    /// caller's other batches really are in flight beside it.
    pub fn set_apply_concurrency(&self, n: usize) {
        self.concurrency.store(n, Ordering::SeqCst);
    }

    /// The most batches seen in flight at once, and the breaches of the concurrency rules.
    pub fn apply_overlap(&self) -> (usize, Vec<String>) {
        let breaches = self.breaches.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        (self.most_in_flight.load(Ordering::SeqCst), breaches)
    }

    /// Registers a batch as in flight, checking it against the others.
    fn take_off(&self, call: usize, batch: &ApplyBatch) -> Landing<'_> {
        let mut writes: Vec<String> = Vec::new();
        for change in &batch.changes {
            if let ApplyOp::Update { id, .. } | ApplyOp::Delete { id, .. } = &change.op {
                writes.push(format!("contact {id}"));
            }
            if let Some(link) = &change.link {
                writes.push(format!("link {} {}", link.connection_id, link.external_id));
            }
        }
        let cursor = batch.cursor.is_some();
        let mut flying = self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut breaches = self.breaches.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (other, their, their_cursor) in flying.iter() {
            if cursor || *their_cursor {
                breaches.push(format!("batch {call} beside batch {other}, one of them with the cursor"));
            }
            if let Some(shared) = writes.iter().find(|w| their.contains(w)) {
                breaches.push(format!("batches {other} and {call} both write {shared}"));
            }
        }
        flying.push((call, writes, cursor));
        self.most_in_flight.fetch_max(flying.len(), Ordering::SeqCst);
        Landing { store: self, call }
    }

    pub fn contacts_of(&self, org: OrgId) -> Vec<Contact> {
        self.lock().contacts.iter().filter(|((o, _), _)| *o == org).map(|(_, c)| c.clone()).collect()
    }

    pub fn audit_of(&self, org: OrgId) -> Vec<AuditEntry> {
        self.lock().audit.iter().filter(|(o, _)| *o == org).map(|(_, e)| e.clone()).collect()
    }

    pub fn ai_usage_of(&self, org: OrgId) -> Vec<AiUsageRecord> {
        self.lock().ai_usage.iter().filter(|(o, _)| *o == org).map(|(_, e)| e.clone()).collect()
    }

    /// Changes a contact behind the sync's back (a user edit): bumps its version.
    pub fn edit_contact(&self, org: OrgId, id: ContactId, edit: impl FnOnce(&mut ContactFields)) {
        let mut s = self.lock();
        let c = s.contacts.get_mut(&(org, id)).expect("contact exists");
        edit(&mut c.fields);
        c.version += 1;
    }
}

fn write_audit(s: &mut State, org: OrgId, at: OffsetDateTime, entry: NewAuditEntry) {
    s.audit.push((org, AuditEntry { entry, at }));
}

#[async_trait]
impl ContactStore for MemoryStore {
    async fn create_contact(
        &self,
        org: OrgId,
        new: NewContact,
        _jobs: &[NewJob],
    ) -> Result<Contact, ContactStoreError> {
        let now = self.clock.now();
        let mut s = self.lock();
        if s.contacts.contains_key(&(org, new.id)) {
            return Err(ContactStoreError::duplicate(format!("contact {}", new.id)));
        }
        let c = Contact {
            id: new.id,
            org_id: org,
            fields: new.fields,
            status: new.status,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        s.contacts.insert((org, new.id), c.clone());
        Ok(c)
    }

    async fn get_contact(&self, org: OrgId, id: ContactId) -> Result<Contact, ContactStoreError> {
        self.lock().contacts.get(&(org, id)).cloned().ok_or_else(|| ContactStoreError::not_found("contact", id))
    }

    async fn get_contacts(&self, org: OrgId, ids: &[ContactId]) -> Result<Vec<Contact>, ContactStoreError> {
        let s = self.lock();
        Ok(ids.iter().filter_map(|id| s.contacts.get(&(org, *id)).cloned()).collect())
    }

    async fn update_contact(
        &self,
        org: OrgId,
        id: ContactId,
        expected_version: i64,
        fields: ContactFields,
        _jobs: &[NewJob],
    ) -> Result<Contact, ContactStoreError> {
        let now = self.clock.now();
        let mut s = self.lock();
        let c = s.contacts.get_mut(&(org, id)).ok_or_else(|| ContactStoreError::not_found("contact", id))?;
        if c.version != expected_version {
            return Err(ContactStoreError::conflict("contact", id, c.version));
        }
        c.fields = fields;
        c.version += 1;
        c.updated_at = now;
        Ok(c.clone())
    }

    async fn set_contact_status(
        &self,
        org: OrgId,
        id: ContactId,
        expected_version: i64,
        status: ContactStatus,
        _jobs: &[NewJob],
    ) -> Result<Contact, ContactStoreError> {
        let mut s = self.lock();
        let c = s.contacts.get_mut(&(org, id)).ok_or_else(|| ContactStoreError::not_found("contact", id))?;
        if c.version != expected_version {
            return Err(ContactStoreError::conflict("contact", id, c.version));
        }
        c.status = status;
        c.version += 1;
        Ok(c.clone())
    }

    async fn search_contacts(&self, _org: OrgId, _query: &ContactQuery) -> Result<Vec<Contact>, ContactStoreError> {
        Err(unexpected("search_contacts is not used by the sync service"))
    }

    async fn find_candidates(
        &self,
        org: OrgId,
        keys: &[BlockingKey],
        limit: u32,
    ) -> Result<Vec<Contact>, ContactStoreError> {
        let s = self.lock();
        Ok(s.contacts
            .iter()
            .filter(|((o, _), c)| *o == org && c.status != ContactStatus::Deleted)
            .filter(|(_, c)| blocking_keys(&c.fields).iter().any(|k| keys.contains(k)))
            .map(|(_, c)| c.clone())
            .take(page_size(limit) as usize)
            .collect())
    }

    async fn count_contacts(&self, org: OrgId) -> Result<u64, ContactStoreError> {
        Ok(self.contacts_of(org).iter().filter(|c| c.status != ContactStatus::Deleted).count() as u64)
    }
}

#[async_trait]
impl LinkStore for MemoryStore {
    async fn upsert_link(&self, org: OrgId, link: &ProviderLink) -> Result<ProviderLink, ContactStoreError> {
        let mut l = link.clone();
        l.synced_at = self.clock.now();
        self.lock().links.insert((org, l.connection_id, l.external_id.clone()), l.clone());
        Ok(l)
    }

    async fn find_link(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<Option<ProviderLink>, ContactStoreError> {
        Ok(self.lock().links.get(&(org, connection, external_id.to_owned())).cloned())
    }

    async fn count_links(&self, org: OrgId, connection: ConnectionId) -> Result<u64, ContactStoreError> {
        Ok(self.lock().links.keys().filter(|(o, c, _)| *o == org && *c == connection).count() as u64)
    }

    async fn links_of(&self, org: OrgId, contact: ContactId) -> Result<Vec<ProviderLink>, ContactStoreError> {
        let s = self.lock();
        Ok(s.links
            .iter()
            .filter(|((o, _, _), l)| *o == org && l.contact_id == contact)
            .map(|(_, l)| l.clone())
            .collect())
    }

    async fn delete_link(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<bool, ContactStoreError> {
        Ok(self.lock().links.remove(&(org, connection, external_id.to_owned())).is_some())
    }
}

#[async_trait]
impl SyncRunStore for MemoryStore {
    async fn create_run(&self, org: OrgId, run: NewSyncRun) -> Result<SyncRun, SyncStoreError> {
        let now = self.clock.now();
        let r = SyncRun {
            id: run.id,
            user_id: run.user_id,
            connection_id: run.connection_id,
            provider: run.provider,
            kind: run.kind,
            status: run.status,
            counts: SyncCounts::default(),
            filters: run.filters,
            error: None,
            created_at: now,
            started_at: None,
            completed_at: None,
            review_seq: 0,
        };
        let mut s = self.lock();
        if s.runs.contains_key(&(org, run.id)) {
            return Err(SyncStoreError::duplicate(format!("sync run {}", run.id)));
        }
        s.runs.insert((org, run.id), r.clone());
        Ok(r)
    }

    async fn get_run(&self, org: OrgId, id: SyncRunId) -> Result<SyncRun, SyncStoreError> {
        self.lock().runs.get(&(org, id)).cloned().ok_or_else(|| SyncStoreError::not_found("sync run", id))
    }

    async fn list_runs(&self, org: OrgId, filter: &RunFilter) -> Result<Vec<SyncRun>, SyncStoreError> {
        let s = self.lock();
        Ok(s.runs
            .iter()
            .rev()
            .filter(|((o, id), r)| {
                *o == org
                    && filter.before.is_none_or(|b| *id < b)
                    && filter.provider.as_ref().is_none_or(|p| *p == r.provider)
                    && filter.status.is_none_or(|st| st == r.status)
                    && filter.user_id.is_none_or(|u| Some(u) == r.user_id)
            })
            .map(|(_, r)| r.clone())
            .take(page_size(filter.limit) as usize)
            .collect())
    }

    async fn set_run_status(
        &self,
        org: OrgId,
        id: SyncRunId,
        status: SyncStatus,
        error: Option<&str>,
    ) -> Result<SyncRun, SyncStoreError> {
        let now = self.clock.now();
        let mut s = self.lock();
        let r = s.runs.get_mut(&(org, id)).ok_or_else(|| SyncStoreError::not_found("sync run", id))?;
        if r.status.is_terminal() {
            return Err(SyncStoreError::invalid(format!("run {id} is {}", r.status)));
        }
        r.status = status;
        if status == SyncStatus::Executing && r.started_at.is_none() {
            r.started_at = Some(now);
        }
        if status.is_terminal() {
            r.completed_at = Some(now);
        }
        if let Some(e) = error {
            r.error = Some(e.to_owned());
        }
        Ok(r.clone())
    }

    async fn add_items(&self, org: OrgId, run: SyncRunId, items: Vec<NewSyncItem>) -> Result<(), SyncStoreError> {
        let mut s = self.lock();
        if !s.runs.contains_key(&(org, run)) {
            return Err(SyncStoreError::not_found("sync run", run));
        }
        let start = s.items.iter().filter(|(o, i)| *o == org && i.run_id == run).count() as i64;
        for (position, n) in (start..).zip(items) {
            if s.items.iter().any(|(_, i)| i.id == n.id) {
                return Err(SyncStoreError::duplicate(format!("sync item {}", n.id)));
            }
            s.items.push((
                org,
                SyncItem {
                    id: n.id,
                    run_id: run,
                    position,
                    incoming: n.incoming,
                    decision: n.decision,
                    target_contact_id: n.target_contact_id,
                    confidence: n.confidence,
                    diff: n.diff,
                    recommendation: n.recommendation,
                    review: n.review,
                    result: None,
                },
            ));
        }
        Ok(())
    }

    async fn get_item(&self, org: OrgId, id: SyncItemId) -> Result<SyncItem, SyncStoreError> {
        let s = self.lock();
        s.items
            .iter()
            .find(|(o, i)| *o == org && i.id == id)
            .map(|(_, i)| i.clone())
            .ok_or_else(|| SyncStoreError::not_found("sync item", id))
    }

    async fn list_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        filter: &ItemFilter,
    ) -> Result<Vec<SyncItem>, SyncStoreError> {
        if filter.review == Some(ReviewState::Approved) && filter.unapplied_only && filter.after_position.is_none() {
            self.passes.fetch_add(1, Ordering::SeqCst);
        }
        let s = self.lock();
        Ok(s.items
            .iter()
            .filter(|(o, i)| {
                *o == org
                    && i.run_id == run
                    && filter.decision.is_none_or(|d| d == i.decision)
                    && filter.review.is_none_or(|r| r == i.review)
                    && (!filter.unapplied_only || i.result.is_none())
                    && filter.after_position.is_none_or(|p| i.position > p)
            })
            .map(|(_, i)| i.clone())
            .take(page_size(filter.limit) as usize)
            .collect())
    }

    async fn review_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        ids: &[SyncItemId],
        review: ReviewState,
    ) -> Result<u64, SyncStoreError> {
        Ok(set_review(&mut self.lock(), org, run, ids, review))
    }

    fn apply_concurrency(&self) -> usize {
        self.concurrency.load(Ordering::SeqCst)
    }

    async fn apply_batch(&self, org: OrgId, batch: ApplyBatch) -> Result<ApplyReport, SyncStoreError> {
        let call = self.apply_calls.fetch_add(1, Ordering::SeqCst) + 1;
        let _landing = self.take_off(call, &batch);
        if self.concurrency.load(Ordering::SeqCst) > 1 {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        }
        let mut approve = self.approve_during.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if approve.as_ref().is_some_and(|(at, _)| *at == call)
            && let Some((_, ids)) = approve.take()
        {
            set_review(&mut self.lock(), org, batch.run_id, &ids, ReviewState::Approved);
        }
        drop(approve);
        if *self.fail_apply_call.lock().unwrap_or_else(std::sync::PoisonError::into_inner) == Some(call) {
            return Err(unexpected("injected crash: the batch was not committed"));
        }
        let now = self.clock.now();
        let mut guard = self.lock();
        // All or nothing: work on a copy, commit by swapping it in.
        let mut s = guard.clone();
        let run = s
            .runs
            .get(&(org, batch.run_id))
            .cloned()
            .ok_or_else(|| SyncStoreError::not_found("sync run", batch.run_id))?;
        if run.status.is_terminal() {
            return Err(SyncStoreError::invalid("the run is finished"));
        }
        let mut report = ApplyReport::default();
        for change in batch.changes {
            let idx = s
                .items
                .iter()
                .position(|(o, i)| *o == org && i.id == change.item_id && i.run_id == batch.run_id)
                .ok_or_else(|| SyncStoreError::invalid(format!("item {} is not in the run", change.item_id)))?;
            if s.items[idx].1.result.is_some() {
                continue;
            }
            let audit = |action: &str, id: ContactId, before: Option<&Contact>, after: &Contact| NewAuditEntry {
                id: rolodex_domain::AuditId::new_v7(),
                actor: batch.actor.clone(),
                entity_type: "contact".into(),
                entity_id: id.to_string(),
                action: action.into(),
                before: before.map(|c| serde_json::to_value(&c.fields).expect("fields serialise")),
                after: Some(serde_json::to_value(&after.fields).expect("fields serialise")),
                run_id: Some(batch.run_id),
            };
            let (result, written) = match change.op {
                ApplyOp::Create { id, fields } => {
                    let c = Contact {
                        id,
                        org_id: org,
                        fields,
                        status: ContactStatus::Active,
                        created_at: now,
                        updated_at: now,
                        version: 1,
                    };
                    let entry = audit("create", id, None, &c);
                    write_audit(&mut s, org, now, entry);
                    s.contacts.insert((org, id), c.clone());
                    report.counts.created += 1;
                    (ItemResult { outcome: ItemOutcome::Created, contact_id: Some(id), message: None }, Some(c))
                }
                ApplyOp::Delete { id, expected_version } => match s.contacts.get(&(org, id)).cloned() {
                    Some(before) if before.version == expected_version => {
                        let after = Contact {
                            status: ContactStatus::Deleted,
                            version: before.version + 1,
                            updated_at: now,
                            ..before.clone()
                        };
                        let entry = audit("delete", id, Some(&before), &after);
                        write_audit(&mut s, org, now, entry);
                        s.contacts.insert((org, id), after.clone());
                        report.counts.deleted += 1;
                        (ItemResult { outcome: ItemOutcome::Deleted, contact_id: Some(id), message: None }, Some(after))
                    }
                    other => {
                        report.counts.failed += 1;
                        let message = format!("contact {id} changed or missing: {:?}", other.map(|c| c.version));
                        (
                            ItemResult { outcome: ItemOutcome::Failed, contact_id: Some(id), message: Some(message) },
                            None,
                        )
                    }
                },
                ApplyOp::Update { id, expected_version, fields } => match s.contacts.get(&(org, id)).cloned() {
                    Some(before) if before.version == expected_version => {
                        let after = Contact { fields, version: before.version + 1, updated_at: now, ..before.clone() };
                        let entry = audit("update", id, Some(&before), &after);
                        write_audit(&mut s, org, now, entry);
                        s.contacts.insert((org, id), after.clone());
                        report.counts.updated += 1;
                        (ItemResult { outcome: ItemOutcome::Updated, contact_id: Some(id), message: None }, Some(after))
                    }
                    other => {
                        report.counts.failed += 1;
                        let message = match other {
                            Some(c) => {
                                format!("contact {id} was changed by someone else (current version {})", c.version)
                            }
                            None => format!("contact {id} not found"),
                        };
                        (
                            ItemResult { outcome: ItemOutcome::Failed, contact_id: Some(id), message: Some(message) },
                            None,
                        )
                    }
                },
                ApplyOp::Skip { reason } => {
                    report.counts.skipped += 1;
                    (ItemResult { outcome: ItemOutcome::Skipped, contact_id: None, message: Some(reason) }, None)
                }
                ApplyOp::Fail { error } => {
                    report.counts.failed += 1;
                    (ItemResult { outcome: ItemOutcome::Failed, contact_id: None, message: Some(error) }, None)
                }
            };
            if let (Some(c), Some(mut link)) = (&written, change.link) {
                link.contact_id = c.id;
                link.synced_at = now;
                s.links.insert((org, link.connection_id, link.external_id.clone()), link);
            }
            if let Some(c) = written {
                report.contacts.push(c);
            }
            s.items[idx].1.result = Some(result.clone());
            report.results.push((change.item_id, result));
        }
        if let Some((conn, resource, cursor)) = batch.cursor {
            s.cursors.insert((org, conn, resource), StoredCursor { cursor, updated_at: now });
        }
        let r = s.runs.get_mut(&(org, batch.run_id)).expect("checked above");
        r.counts.created += report.counts.created;
        r.counts.updated += report.counts.updated;
        r.counts.skipped += report.counts.skipped;
        r.counts.failed += report.counts.failed;
        r.counts.deleted += report.counts.deleted;
        *guard = s;
        Ok(report)
    }
}

#[async_trait]
impl CursorStore for MemoryStore {
    async fn get_cursor(
        &self,
        org: OrgId,
        connection: ConnectionId,
        resource: &str,
    ) -> Result<Option<StoredCursor>, SyncStoreError> {
        Ok(self.lock().cursors.get(&(org, connection, resource.to_owned())).cloned())
    }

    async fn set_cursor(
        &self,
        org: OrgId,
        connection: ConnectionId,
        resource: &str,
        cursor: &rolodex_domain::ports::SyncCursor,
    ) -> Result<(), SyncStoreError> {
        let now = self.clock.now();
        self.lock()
            .cursors
            .insert((org, connection, resource.to_owned()), StoredCursor { cursor: cursor.clone(), updated_at: now });
        Ok(())
    }

    async fn clear_cursor(&self, org: OrgId, connection: ConnectionId, resource: &str) -> Result<bool, SyncStoreError> {
        Ok(self.lock().cursors.remove(&(org, connection, resource.to_owned())).is_some())
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record_audit(&self, org: OrgId, entries: Vec<NewAuditEntry>) -> Result<(), HistoryStoreError> {
        let now = self.clock.now();
        let mut s = self.lock();
        for e in entries {
            write_audit(&mut s, org, now, e);
        }
        Ok(())
    }

    async fn list_audit(&self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEntry>, HistoryStoreError> {
        let s = self.lock();
        let end = match filter.before {
            Some(b) => s.audit.iter().position(|(_, e)| e.entry.id == b).unwrap_or(0),
            None => s.audit.len(),
        };
        Ok(s.audit[..end]
            .iter()
            .rev()
            .filter(|(o, e)| {
                *o == org
                    && filter.entity_type.as_ref().is_none_or(|t| *t == e.entry.entity_type)
                    && filter.entity_id.as_ref().is_none_or(|t| *t == e.entry.entity_id)
                    && filter.run_id.is_none_or(|r| Some(r) == e.entry.run_id)
            })
            .map(|(_, e)| e.clone())
            .take(page_size(filter.limit) as usize)
            .collect())
    }
}

#[async_trait]
impl AiUsageStore for MemoryStore {
    async fn record_ai_usage(&self, org: OrgId, usage: &AiUsageRecord) -> Result<(), AccountStoreError> {
        self.lock().ai_usage.push((org, usage.clone()));
        Ok(())
    }

    async fn ai_usage_totals(
        &self,
        org: OrgId,
        _since: OffsetDateTime,
        feature: Option<&str>,
    ) -> Result<AiUsageTotals, AccountStoreError> {
        let mut t = AiUsageTotals::default();
        for u in self.ai_usage_of(org).iter().filter(|u| feature.is_none_or(|f| f == u.feature)) {
            t.calls += 1;
            t.prompt_tokens += u64::from(u.prompt_tokens);
            t.completion_tokens += u64::from(u.completion_tokens);
            t.cost_micro_usd += u.cost_micro_usd;
        }
        Ok(t)
    }
}
