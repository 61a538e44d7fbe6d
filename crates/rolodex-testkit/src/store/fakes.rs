//! [`MemoryStore`]: an in-memory fake of every storage port of `rolodex_domain::ports::storage`,
//! for use-case tests that need no database. All state sits behind one `std::sync::Mutex`, so each
//! port call is atomic (a batched apply, a receipt with its jobs, a change with its outbox jobs).
//! It keeps the rules the SQL store keeps and passes the same contract suites: tenancy (another
//! organisation's id behaves like a missing one), optimistic versions, unique keys, insert-once
//! receipts, job states and leases with the store's clock, and times truncated to microseconds.
//! It leaves performance and persistence to `rolodex-store`.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rolodex_domain::matching::{BlockingKey, blocking_keys};
use rolodex_domain::ports::storage::{
    AccountStore, AccountStoreError, Activity, ActivityStore, AiUsageRecord, AiUsageStore, AiUsageTotals, ApiKey,
    ApplyBatch, ApplyOp, ApplyReport, AuditEntry, AuditFilter, AuditLog, Campaign, CampaignFilter, CampaignMessage,
    CampaignStatus, CampaignStore, CampaignStoreError, Connection, ConnectionSettings, ConnectionStatus,
    ConnectionStore, ConnectionStoreError, ContactQuery, ContactStore, ContactStoreError, CursorStore, Enqueued,
    HistoryStoreError, ItemFilter, ItemOutcome, ItemResult, Job, JobQueue, JobQueueError, JobSchedule, JobState,
    LinkStore, MessageCounts, MessageState, NewAuditEntry, NewCampaign, NewCampaignMessage, NewConnection, NewContact,
    NewJob, NewSyncItem, NewSyncRun, NewUser, NewWebhookReceipt, Organisation, Permission, ProviderLink,
    ReceiptOutcome, ReviewState, Role, RunFilter, Schedule, StorageError, StoredCursor, SyncCounts, SyncItem, SyncRun,
    SyncRunStore, SyncStatus, SyncStoreError, Tokens, User, WebhookReceipt, WebhookReceiptStore, backoff, page_size,
};
use rolodex_domain::ports::{Clock, SyncCursor, SystemClock};
use rolodex_domain::{
    ActivityId, ApiKeyId, AuditId, CampaignId, CampaignMessageId, ConnectionId, Contact, ContactFields, ContactId,
    ContactStatus, JobId, OrgId, SyncItemId, SyncRunId, UserId, WebhookReceiptId,
};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

/// The state of every port.
#[derive(Default)]
struct State {
    orgs: BTreeMap<OrgId, Organisation>,
    users: BTreeMap<UserId, User>,
    api_keys: BTreeMap<ApiKeyId, (ApiKey, String)>,
    ai_usage: Vec<(OrgId, AiUsageRecord, OffsetDateTime)>,
    contacts: BTreeMap<ContactId, (Contact, Option<OffsetDateTime>)>,
    connections: BTreeMap<ConnectionId, Connection>,
    links: BTreeMap<(ConnectionId, String), (OrgId, ProviderLink)>,
    runs: BTreeMap<SyncRunId, (OrgId, SyncRun)>,
    items: BTreeMap<SyncItemId, (OrgId, SyncItem)>,
    audit: Vec<(OrgId, AuditEntry)>,
    activities: BTreeMap<ActivityId, (OrgId, Activity)>,
    cursors: BTreeMap<(ConnectionId, String), (OrgId, StoredCursor)>,
    receipts: BTreeMap<WebhookReceiptId, (OrgId, WebhookReceipt)>,
    campaigns: BTreeMap<CampaignId, (OrgId, Campaign)>,
    messages: BTreeMap<CampaignMessageId, (OrgId, CampaignMessage)>,
    jobs: BTreeMap<JobId, Job>,
    schedules: BTreeMap<(OrgId, String), JobSchedule>,
}

/// Every storage port in memory (see the module docs). Cheap to clone: clones share the state.
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

fn trunc(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

fn duration(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::days(365))
}

fn limit_of(limit: u32) -> usize {
    usize::try_from(page_size(limit)).unwrap_or(usize::MAX)
}

/// The stored hash of an API key secret (the fake keeps no secret in clear either).
fn key_hash(secret: &SecretString) -> String {
    let digest = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        secret.expose_secret().hash(&mut h);
        h.finish()
    };
    format!("{:016x}{:016x}", digest(1), digest(2))
}

fn search_text(f: &ContactFields) -> String {
    [f.given_name.as_deref(), f.family_name.as_deref(), f.display_name.as_deref(), f.company.as_deref()]
        .into_iter()
        .flatten()
        .map(rolodex_domain::name::fold)
        .collect::<Vec<_>>()
        .join(" ")
}

fn validate_job(job: &NewJob) -> Result<(), String> {
    if job.kind.trim().is_empty() || job.queue.trim().is_empty() {
        return Err("a job needs a kind and a queue".to_owned());
    }
    if job.max_attempts == 0 {
        return Err("max_attempts must be at least 1".to_owned());
    }
    if job.unique_key.as_deref().is_some_and(|k| k.trim().is_empty()) {
        return Err("a unique key must not be empty".to_owned());
    }
    Ok(())
}

fn json_of<T: serde::Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

impl MemoryStore {
    /// An empty store on the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store on `clock` (tests move a [`super::ManualClock`] to expire leases).
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self { state: Arc::default(), clock }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> OffsetDateTime {
        trunc(self.clock.now())
    }
}

impl State {
    fn enqueue<E: StorageError>(
        &mut self,
        org: OrgId,
        now: OffsetDateTime,
        list: &[NewJob],
    ) -> Result<Vec<Enqueued>, E> {
        for job in list {
            validate_job(job).map_err(E::invalid)?;
        }
        let mut out = Vec::with_capacity(list.len());
        for job in list {
            if let Some(key) = &job.unique_key
                && let Some(existing) = self
                    .jobs
                    .values()
                    .find(|j| j.org_id == org && j.state.is_active() && j.unique_key.as_deref() == Some(key.as_str()))
            {
                out.push(Enqueued { id: existing.id, created: false });
                continue;
            }
            let id = JobId::new_v7();
            self.jobs.insert(
                id,
                Job {
                    id,
                    org_id: org,
                    kind: job.kind.clone(),
                    queue: job.queue.clone(),
                    payload: job.payload.clone(),
                    unique_key: job.unique_key.clone(),
                    state: JobState::Available,
                    attempt: 0,
                    max_attempts: job.max_attempts,
                    priority: job.priority,
                    run_at: trunc(job.run_at.unwrap_or(now)),
                    locked_by: None,
                    lease_until: None,
                    last_error: None,
                    created_at: now,
                    finished_at: None,
                },
            );
            out.push(Enqueued { id, created: true });
        }
        Ok(out)
    }

    fn contact_in(&self, org: OrgId, id: ContactId) -> Option<&Contact> {
        self.contacts.get(&id).map(|(c, _)| c).filter(|c| c.org_id == org)
    }

    fn connection_in(&self, org: OrgId, id: ConnectionId) -> bool {
        self.connections.get(&id).is_some_and(|c| c.org_id == org)
    }

    fn run_in(&self, org: OrgId, id: SyncRunId) -> Option<&SyncRun> {
        self.runs.get(&id).filter(|(o, _)| *o == org).map(|(_, r)| r)
    }

    /// The versioned write of update and status change.
    fn write_contact(
        &mut self,
        org: OrgId,
        id: ContactId,
        expected: i64,
        fields: Option<ContactFields>,
        status: Option<ContactStatus>,
        now: OffsetDateTime,
    ) -> Result<Contact, ContactStoreError> {
        let Some((c, _)) = self.contacts.get_mut(&id).filter(|(c, _)| c.org_id == org) else {
            return Err(ContactStoreError::not_found("contact", id));
        };
        if c.version != expected {
            return Err(ContactStoreError::conflict("contact", id, c.version));
        }
        if let Some(f) = fields {
            c.fields = f;
        }
        if let Some(s) = status {
            c.status = s;
        }
        c.version += 1;
        c.updated_at = now;
        Ok(c.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// Contacts and links

#[async_trait]
impl ContactStore for MemoryStore {
    async fn create_contact(&self, org: OrgId, new: NewContact, jobs: &[NewJob]) -> Result<Contact, ContactStoreError> {
        let now = self.now();
        let mut s = self.lock();
        if s.contacts.contains_key(&new.id) {
            return Err(ContactStoreError::duplicate(format!("contact `{}`", new.id)));
        }
        for job in jobs {
            validate_job(job).map_err(ContactStoreError::invalid)?;
        }
        let contact = Contact {
            id: new.id,
            org_id: org,
            fields: new.fields,
            status: new.status,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        s.contacts.insert(contact.id, (contact.clone(), None));
        s.enqueue::<ContactStoreError>(org, now, jobs)?;
        Ok(contact)
    }

    async fn get_contact(&self, org: OrgId, id: ContactId) -> Result<Contact, ContactStoreError> {
        self.lock().contact_in(org, id).cloned().ok_or_else(|| ContactStoreError::not_found("contact", id))
    }

    async fn get_contacts(&self, org: OrgId, ids: &[ContactId]) -> Result<Vec<Contact>, ContactStoreError> {
        let s = self.lock();
        let mut seen = HashSet::new();
        Ok(ids.iter().filter(|id| seen.insert(**id)).filter_map(|id| s.contact_in(org, *id).cloned()).collect())
    }

    async fn update_contact(
        &self,
        org: OrgId,
        id: ContactId,
        expected_version: i64,
        fields: ContactFields,
        jobs: &[NewJob],
    ) -> Result<Contact, ContactStoreError> {
        for job in jobs {
            validate_job(job).map_err(ContactStoreError::invalid)?;
        }
        let now = self.now();
        let mut s = self.lock();
        let c = s.write_contact(org, id, expected_version, Some(fields), None, now)?;
        s.enqueue::<ContactStoreError>(org, now, jobs)?;
        Ok(c)
    }

    async fn set_contact_status(
        &self,
        org: OrgId,
        id: ContactId,
        expected_version: i64,
        status: ContactStatus,
        jobs: &[NewJob],
    ) -> Result<Contact, ContactStoreError> {
        for job in jobs {
            validate_job(job).map_err(ContactStoreError::invalid)?;
        }
        let now = self.now();
        let mut s = self.lock();
        let c = s.write_contact(org, id, expected_version, None, Some(status), now)?;
        s.enqueue::<ContactStoreError>(org, now, jobs)?;
        Ok(c)
    }

    async fn search_contacts(&self, org: OrgId, query: &ContactQuery) -> Result<Vec<Contact>, ContactStoreError> {
        let email = query.email.as_ref().map(rolodex_domain::EmailAddress::matching_key);
        let phone = query.phone.as_ref().map(|p| p.e164().to_owned());
        let name = query.name.as_deref().map(rolodex_domain::name::fold).filter(|n| !n.is_empty());
        let s = self.lock();
        Ok(s.contacts
            .values()
            .map(|(c, _)| c)
            .filter(|c| c.org_id == org)
            .filter(|c| match query.status {
                Some(st) => c.status == st,
                None => c.status != ContactStatus::Deleted,
            })
            .filter(|c| email.as_ref().is_none_or(|k| c.fields.emails.iter().any(|e| &e.matching_key() == k)))
            .filter(|c| phone.as_ref().is_none_or(|p| c.fields.phones.iter().any(|x| x.number.e164() == p)))
            .filter(|c| name.as_ref().is_none_or(|n| search_text(&c.fields).contains(n.as_str())))
            .filter(|c| query.after.is_none_or(|a| c.id > a))
            .take(limit_of(query.limit))
            .cloned()
            .collect())
    }

    async fn find_candidates(
        &self,
        org: OrgId,
        keys: &[BlockingKey],
        limit: u32,
    ) -> Result<Vec<Contact>, ContactStoreError> {
        let wanted: HashSet<&BlockingKey> = keys.iter().collect();
        let s = self.lock();
        Ok(s.contacts
            .values()
            .map(|(c, _)| c)
            .filter(|c| c.org_id == org && c.status != ContactStatus::Deleted)
            .filter(|c| blocking_keys(&c.fields).iter().any(|k| wanted.contains(k)))
            .take(limit_of(limit))
            .cloned()
            .collect())
    }

    async fn count_contacts(&self, org: OrgId) -> Result<u64, ContactStoreError> {
        let s = self.lock();
        Ok(s.contacts.values().filter(|(c, _)| c.org_id == org && c.status != ContactStatus::Deleted).count() as u64)
    }
}

#[async_trait]
impl LinkStore for MemoryStore {
    async fn upsert_link(&self, org: OrgId, link: &ProviderLink) -> Result<ProviderLink, ContactStoreError> {
        let now = self.now();
        let mut s = self.lock();
        if !s.connection_in(org, link.connection_id) {
            return Err(ContactStoreError::not_found("connection", link.connection_id));
        }
        if s.contact_in(org, link.contact_id).is_none() {
            return Err(ContactStoreError::not_found("contact", link.contact_id));
        }
        let stored =
            ProviderLink { synced_at: now, remote_updated_at: link.remote_updated_at.map(trunc), ..link.clone() };
        s.links.insert((link.connection_id, link.external_id.clone()), (org, stored.clone()));
        Ok(stored)
    }

    async fn find_link(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<Option<ProviderLink>, ContactStoreError> {
        let s = self.lock();
        Ok(s.links.get(&(connection, external_id.to_owned())).filter(|(o, _)| *o == org).map(|(_, l)| l.clone()))
    }

    async fn count_links(&self, org: OrgId, connection: ConnectionId) -> Result<u64, ContactStoreError> {
        let s = self.lock();
        Ok(s.links.values().filter(|(o, l)| *o == org && l.connection_id == connection).count() as u64)
    }

    async fn links_of(&self, org: OrgId, contact: ContactId) -> Result<Vec<ProviderLink>, ContactStoreError> {
        let s = self.lock();
        Ok(s.links.values().filter(|(o, l)| *o == org && l.contact_id == contact).map(|(_, l)| l.clone()).collect())
    }

    async fn delete_link(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<bool, ContactStoreError> {
        let mut s = self.lock();
        let key = (connection, external_id.to_owned());
        if s.links.get(&key).is_some_and(|(o, _)| *o == org) {
            s.links.remove(&key);
            return Ok(true);
        }
        Ok(false)
    }
}

// ---------------------------------------------------------------------------------------------
// Connections

#[async_trait]
impl ConnectionStore for MemoryStore {
    async fn create_connection(&self, org: OrgId, new: NewConnection) -> Result<Connection, ConnectionStoreError> {
        if new.provider.trim().is_empty() || new.account.trim().is_empty() {
            return Err(ConnectionStoreError::Invalid("a connection needs a provider and an account".to_owned()));
        }
        let now = self.now();
        let mut s = self.lock();
        if s.connections.contains_key(&new.id)
            || s.connections.values().any(|c| c.org_id == org && c.provider == new.provider && c.account == new.account)
        {
            return Err(ConnectionStoreError::Duplicate(format!(
                "connection to {} account `{}`",
                new.provider, new.account
            )));
        }
        let c = Connection {
            id: new.id,
            org_id: org,
            user_id: new.user_id,
            provider: new.provider,
            account: new.account,
            scopes: new.scopes,
            tokens: Tokens { expires_at: new.tokens.expires_at.map(trunc), ..new.tokens },
            status: ConnectionStatus::Active,
            settings: new.settings,
            created_at: now,
            updated_at: now,
        };
        s.connections.insert(c.id, c.clone());
        Ok(c)
    }

    async fn get_connection(&self, org: OrgId, id: ConnectionId) -> Result<Connection, ConnectionStoreError> {
        let s = self.lock();
        s.connections
            .get(&id)
            .filter(|c| c.org_id == org)
            .cloned()
            .ok_or_else(|| ConnectionStoreError::not_found("connection", id))
    }

    async fn list_connections(
        &self,
        org: OrgId,
        provider: Option<&str>,
    ) -> Result<Vec<Connection>, ConnectionStoreError> {
        let s = self.lock();
        let mut out: Vec<Connection> = s
            .connections
            .values()
            .filter(|c| c.org_id == org && provider.is_none_or(|p| c.provider == p))
            .cloned()
            .collect();
        out.sort_by_key(|c| (c.created_at, c.id));
        Ok(out)
    }

    async fn update_settings(
        &self,
        org: OrgId,
        id: ConnectionId,
        settings: &ConnectionSettings,
    ) -> Result<(), ConnectionStoreError> {
        let now = self.now();
        let mut s = self.lock();
        let c = s
            .connections
            .get_mut(&id)
            .filter(|c| c.org_id == org)
            .ok_or_else(|| ConnectionStoreError::not_found("connection", id))?;
        c.settings = settings.clone();
        c.updated_at = now;
        Ok(())
    }

    async fn update_tokens(&self, org: OrgId, id: ConnectionId, tokens: &Tokens) -> Result<(), ConnectionStoreError> {
        let now = self.now();
        let mut s = self.lock();
        let c = s
            .connections
            .get_mut(&id)
            .filter(|c| c.org_id == org)
            .ok_or_else(|| ConnectionStoreError::not_found("connection", id))?;
        c.tokens = Tokens { expires_at: tokens.expires_at.map(trunc), ..tokens.clone() };
        if c.status == ConnectionStatus::NeedsReauth {
            c.status = ConnectionStatus::Active;
        }
        c.updated_at = now;
        Ok(())
    }

    async fn set_connection_status(
        &self,
        org: OrgId,
        id: ConnectionId,
        status: ConnectionStatus,
    ) -> Result<(), ConnectionStoreError> {
        let now = self.now();
        let mut s = self.lock();
        let c = s
            .connections
            .get_mut(&id)
            .filter(|c| c.org_id == org)
            .ok_or_else(|| ConnectionStoreError::not_found("connection", id))?;
        c.status = status;
        c.updated_at = now;
        Ok(())
    }

    async fn resolve_account(
        &self,
        provider: &str,
        account: &str,
    ) -> Result<Vec<(OrgId, ConnectionId)>, ConnectionStoreError> {
        let s = self.lock();
        Ok(s.connections
            .values()
            .filter(|c| c.provider == provider && c.account == account && c.status != ConnectionStatus::Disconnected)
            .map(|c| (c.org_id, c.id))
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Job queue

impl State {
    fn sweep_expired(&mut self, now: OffsetDateTime) {
        for j in self.jobs.values_mut() {
            if j.state == JobState::Running && j.lease_until.is_some_and(|l| l < now) {
                j.locked_by = None;
                j.lease_until = None;
                if j.attempt < j.max_attempts {
                    j.state = JobState::Retryable;
                    j.last_error = Some("lease expired".to_owned());
                } else {
                    j.state = JobState::Dead;
                    j.last_error = Some("lease expired on the last attempt".to_owned());
                    j.finished_at = Some(now);
                }
            }
        }
    }

    fn leased_job(&mut self, org: OrgId, id: JobId, worker: &str) -> Result<&mut Job, JobQueueError> {
        self.jobs
            .get_mut(&id)
            .filter(|j| j.org_id == org && j.state == JobState::Running && j.locked_by.as_deref() == Some(worker))
            .ok_or_else(|| JobQueueError::LeaseLost(id.to_string()))
    }
}

#[async_trait]
impl JobQueue for MemoryStore {
    async fn enqueue(&self, org: OrgId, job: NewJob) -> Result<Enqueued, JobQueueError> {
        let now = self.now();
        let out = self.lock().enqueue::<JobQueueError>(org, now, std::slice::from_ref(&job))?;
        out.into_iter().next().ok_or_else(|| JobQueueError::Invalid("nothing enqueued".to_owned()))
    }

    async fn get_job(&self, org: OrgId, id: JobId) -> Result<Job, JobQueueError> {
        let s = self.lock();
        s.jobs.get(&id).filter(|j| j.org_id == org).cloned().ok_or_else(|| JobQueueError::not_found("job", id))
    }

    async fn list_jobs(&self, org: OrgId, state: JobState, limit: u32) -> Result<Vec<Job>, JobQueueError> {
        let s = self.lock();
        let mut out: Vec<Job> = s.jobs.values().filter(|j| j.org_id == org && j.state == state).cloned().collect();
        out.sort_by_key(|j| (j.created_at, j.id));
        out.truncate(limit_of(limit));
        Ok(out)
    }

    async fn claim(
        &self,
        queues: &[&str],
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, JobQueueError> {
        if queues.is_empty() || worker.is_empty() {
            return Err(JobQueueError::Invalid("claim needs at least one queue and a worker name".to_owned()));
        }
        let now = self.now();
        let until = trunc(now + duration(lease));
        let mut s = self.lock();
        s.sweep_expired(now);
        let mut due: Vec<&mut Job> = s
            .jobs
            .values_mut()
            .filter(|j| {
                matches!(j.state, JobState::Available | JobState::Retryable)
                    && queues.contains(&j.queue.as_str())
                    && j.run_at <= now
            })
            .collect();
        due.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.run_at.cmp(&b.run_at)).then(a.id.cmp(&b.id)));
        Ok(due
            .into_iter()
            .take(limit_of(limit))
            .map(|j| {
                j.state = JobState::Running;
                j.attempt += 1;
                j.locked_by = Some(worker.to_owned());
                j.lease_until = Some(until);
                j.clone()
            })
            .collect())
    }

    async fn heartbeat(&self, org: OrgId, id: JobId, worker: &str, lease: Duration) -> Result<(), JobQueueError> {
        let until = trunc(self.now() + duration(lease));
        let mut s = self.lock();
        s.leased_job(org, id, worker)?.lease_until = Some(until);
        Ok(())
    }

    async fn complete(&self, org: OrgId, id: JobId, worker: &str) -> Result<(), JobQueueError> {
        let now = self.now();
        let mut s = self.lock();
        let j = s.leased_job(org, id, worker)?;
        j.state = JobState::Completed;
        j.locked_by = None;
        j.lease_until = None;
        j.finished_at = Some(now);
        Ok(())
    }

    async fn fail(
        &self,
        org: OrgId,
        id: JobId,
        worker: &str,
        error: &str,
        retry_after: Option<Duration>,
        permanent: bool,
    ) -> Result<JobState, JobQueueError> {
        let now = self.now();
        let mut s = self.lock();
        let j = s.leased_job(org, id, worker)?;
        let dead = permanent || j.attempt >= j.max_attempts;
        j.locked_by = None;
        j.lease_until = None;
        j.last_error = Some(error.to_owned());
        if dead {
            j.state = JobState::Dead;
            j.finished_at = Some(now);
        } else {
            j.state = JobState::Retryable;
            j.run_at = trunc(now + duration(retry_after.unwrap_or_else(|| backoff(j.attempt, id))));
        }
        Ok(j.state)
    }

    async fn cancel(&self, org: OrgId, id: JobId) -> Result<bool, JobQueueError> {
        let now = self.now();
        let mut s = self.lock();
        let j = s.jobs.get_mut(&id).filter(|j| j.org_id == org).ok_or_else(|| JobQueueError::not_found("job", id))?;
        if !j.state.is_active() {
            return Ok(false);
        }
        j.state = JobState::Cancelled;
        j.locked_by = None;
        j.lease_until = None;
        j.finished_at = Some(now);
        Ok(true)
    }

    async fn upsert_schedule(
        &self,
        org: OrgId,
        name: &str,
        schedule: Schedule,
        job: NewJob,
    ) -> Result<JobSchedule, JobQueueError> {
        if name.trim().is_empty() {
            return Err(JobQueueError::Invalid("a schedule needs a name".to_owned()));
        }
        validate_job(&job).map_err(JobQueueError::Invalid)?;
        let now = self.now();
        let next = schedule
            .next_after(now)
            .ok_or_else(|| JobQueueError::Invalid(format!("schedule `{schedule}` never runs")))?;
        let job = NewJob { unique_key: Some(format!("schedule:{name}")), run_at: None, ..job };
        let stored = JobSchedule { name: name.to_owned(), schedule, job, next_run_at: trunc(next) };
        self.lock().schedules.insert((org, name.to_owned()), stored.clone());
        Ok(stored)
    }

    async fn delete_schedule(&self, org: OrgId, name: &str) -> Result<bool, JobQueueError> {
        Ok(self.lock().schedules.remove(&(org, name.to_owned())).is_some())
    }

    async fn list_schedules(&self, org: OrgId) -> Result<Vec<JobSchedule>, JobQueueError> {
        let s = self.lock();
        Ok(s.schedules.iter().filter(|((o, _), _)| *o == org).map(|(_, v)| v.clone()).collect())
    }

    async fn enqueue_due_schedules(&self) -> Result<Vec<(OrgId, JobId)>, JobQueueError> {
        let now = self.now();
        let mut s = self.lock();
        let due: Vec<((OrgId, String), JobSchedule)> =
            s.schedules.iter().filter(|(_, v)| v.next_run_at <= now).map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut out = Vec::new();
        for ((org, name), sched) in due {
            let mut next = sched.next_run_at;
            while next <= now {
                match sched.schedule.next_after(next) {
                    Some(n) => next = n,
                    None => break,
                }
            }
            let enq = s.enqueue::<JobQueueError>(org, now, std::slice::from_ref(&sched.job))?;
            if let Some(stored) = s.schedules.get_mut(&(org, name)) {
                stored.next_run_at = trunc(next);
            }
            out.extend(enq.into_iter().filter(|e| e.created).map(|e| (org, e.id)));
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Sync runs, items, the batched apply

fn item_matches(i: &SyncItem, f: &ItemFilter) -> bool {
    f.decision.is_none_or(|d| i.decision == d)
        && f.review.is_none_or(|r| i.review == r)
        && (!f.unapplied_only || i.result.is_none())
        && f.after_position.is_none_or(|p| i.position > p)
}

#[async_trait]
impl SyncRunStore for MemoryStore {
    async fn create_run(&self, org: OrgId, run: NewSyncRun) -> Result<SyncRun, SyncStoreError> {
        let now = self.now();
        let mut s = self.lock();
        if s.runs.contains_key(&run.id) {
            return Err(SyncStoreError::duplicate(format!("sync run `{}`", run.id)));
        }
        let stored = SyncRun {
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
            started_at: (run.status == SyncStatus::Executing).then_some(now),
            completed_at: run.status.is_terminal().then_some(now),
            review_seq: 0,
        };
        s.runs.insert(stored.id, (org, stored.clone()));
        Ok(stored)
    }

    async fn get_run(&self, org: OrgId, id: SyncRunId) -> Result<SyncRun, SyncStoreError> {
        self.lock().run_in(org, id).cloned().ok_or_else(|| SyncStoreError::not_found("sync run", id))
    }

    async fn list_runs(&self, org: OrgId, filter: &RunFilter) -> Result<Vec<SyncRun>, SyncStoreError> {
        let s = self.lock();
        let before = filter.before.and_then(|b| s.run_in(org, b)).map(|r| (r.created_at, r.id));
        if filter.before.is_some() && before.is_none() {
            return Ok(Vec::new());
        }
        let mut out: Vec<SyncRun> = s
            .runs
            .values()
            .filter(|(o, _)| *o == org)
            .map(|(_, r)| r)
            .filter(|r| filter.user_id.is_none_or(|u| r.user_id == Some(u)))
            .filter(|r| filter.status.is_none_or(|st| r.status == st))
            .filter(|r| filter.provider.as_ref().is_none_or(|p| &r.provider == p))
            .filter(|r| before.is_none_or(|b| (r.created_at, r.id) < b))
            .cloned()
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
        out.truncate(limit_of(filter.limit));
        Ok(out)
    }

    async fn set_run_status(
        &self,
        org: OrgId,
        id: SyncRunId,
        status: SyncStatus,
        error: Option<&str>,
    ) -> Result<SyncRun, SyncStoreError> {
        let now = self.now();
        let mut s = self.lock();
        let run = s
            .runs
            .get_mut(&id)
            .filter(|(o, _)| *o == org)
            .map(|(_, r)| r)
            .ok_or_else(|| SyncStoreError::not_found("sync run", id))?;
        if run.status.is_terminal() {
            return Err(SyncStoreError::invalid(format!("sync run `{id}` is already {}", run.status)));
        }
        run.status = status;
        if status == SyncStatus::Executing && run.started_at.is_none() {
            run.started_at = Some(now);
        }
        if status.is_terminal() {
            run.completed_at = Some(now);
        }
        if let Some(e) = error {
            run.error = Some(e.to_owned());
        }
        Ok(run.clone())
    }

    async fn add_items(&self, org: OrgId, run: SyncRunId, items: Vec<NewSyncItem>) -> Result<(), SyncStoreError> {
        let mut s = self.lock();
        if s.run_in(org, run).is_none() {
            return Err(SyncStoreError::not_found("sync run", run));
        }
        let mut ids = HashSet::new();
        for i in &items {
            if s.items.contains_key(&i.id) || !ids.insert(i.id) {
                return Err(SyncStoreError::duplicate(format!("sync item `{}`", i.id)));
            }
        }
        let next = s.items.values().filter(|(_, i)| i.run_id == run).map(|(_, i)| i.position + 1).max().unwrap_or(0);
        for (n, i) in (next..).zip(items) {
            let item = SyncItem {
                id: i.id,
                run_id: run,
                position: n,
                incoming: i.incoming,
                decision: i.decision,
                target_contact_id: i.target_contact_id,
                confidence: i.confidence,
                diff: i.diff,
                recommendation: i.recommendation,
                review: i.review,
                result: None,
            };
            s.items.insert(item.id, (org, item));
        }
        Ok(())
    }

    async fn get_item(&self, org: OrgId, id: SyncItemId) -> Result<SyncItem, SyncStoreError> {
        let s = self.lock();
        s.items
            .get(&id)
            .filter(|(o, _)| *o == org)
            .map(|(_, i)| i.clone())
            .ok_or_else(|| SyncStoreError::not_found("sync item", id))
    }

    async fn list_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        filter: &ItemFilter,
    ) -> Result<Vec<SyncItem>, SyncStoreError> {
        let s = self.lock();
        let mut out: Vec<SyncItem> = s
            .items
            .values()
            .filter(|(o, i)| *o == org && i.run_id == run && item_matches(i, filter))
            .map(|(_, i)| i.clone())
            .collect();
        out.sort_by_key(|i| i.position);
        out.truncate(limit_of(filter.limit));
        Ok(out)
    }

    async fn review_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        ids: &[SyncItemId],
        review: ReviewState,
    ) -> Result<u64, SyncStoreError> {
        let mut s = self.lock();
        let mut n = 0;
        for id in ids.iter().collect::<BTreeSet<_>>() {
            if let Some((_, i)) = s.items.get_mut(id).filter(|(o, i)| *o == org && i.run_id == run)
                && i.result.is_none()
                && i.review != review
            {
                i.review = review;
                n += 1;
            }
        }
        if n > 0
            && let Some((_, r)) = s.runs.get_mut(&run)
        {
            r.review_seq += 1;
        }
        Ok(n)
    }

    async fn apply_batch(&self, org: OrgId, batch: ApplyBatch) -> Result<ApplyReport, SyncStoreError> {
        let now = self.now();
        let mut s = self.lock();
        // Check everything first: a failed check must leave nothing written.
        let run = s.run_in(org, batch.run_id).ok_or_else(|| SyncStoreError::not_found("sync run", batch.run_id))?;
        if run.status.is_terminal() {
            return Err(SyncStoreError::invalid(format!("sync run `{}` is already {}", run.id, run.status)));
        }
        let mut creating = HashSet::new();
        for ch in &batch.changes {
            let applied = match s.items.get(&ch.item_id) {
                Some((o, i)) if *o == org && i.run_id == batch.run_id => i.result.is_some(),
                _ => {
                    return Err(SyncStoreError::invalid(format!(
                        "sync item `{}` is not in run `{}`",
                        ch.item_id, batch.run_id
                    )));
                }
            };
            if let ApplyOp::Create { id, .. } = &ch.op
                && !applied
                && (s.contacts.contains_key(id) || !creating.insert(*id))
            {
                return Err(SyncStoreError::duplicate(format!("contact `{id}`")));
            }
            if let Some(link) = &ch.link
                && !s.connection_in(org, link.connection_id)
            {
                return Err(SyncStoreError::not_found("connection", link.connection_id));
            }
        }
        if let Some((conn, _, _)) = &batch.cursor
            && !s.connection_in(org, *conn)
        {
            return Err(SyncStoreError::not_found("connection", *conn));
        }
        for job in &batch.jobs {
            validate_job(job).map_err(SyncStoreError::invalid)?;
        }

        let mut report = ApplyReport::default();
        let mut done = HashSet::new();
        for ch in batch.changes {
            let already = s.items.get(&ch.item_id).is_some_and(|(_, i)| i.result.is_some());
            if already || !done.insert(ch.item_id) {
                continue;
            }
            let (result, written, before, action) = match ch.op {
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
                    s.contacts.insert(id, (c.clone(), None));
                    report.counts.created += 1;
                    let r = ItemResult { outcome: ItemOutcome::Created, contact_id: Some(id), message: None };
                    (r, Some(c), None, "create")
                }
                op @ (ApplyOp::Update { .. } | ApplyOp::Delete { .. }) => {
                    let (id, expected, fields, status, outcome, action) = match op {
                        ApplyOp::Update { id, expected_version, fields } => {
                            (id, expected_version, Some(fields), None, ItemOutcome::Updated, "update")
                        }
                        ApplyOp::Delete { id, expected_version } => {
                            (id, expected_version, None, Some(ContactStatus::Deleted), ItemOutcome::Deleted, "delete")
                        }
                        _ => unreachable!("matched above"),
                    };
                    let before = s.contact_in(org, id).cloned();
                    match s.write_contact(org, id, expected, fields, status, now) {
                        Ok(c) => {
                            if outcome == ItemOutcome::Deleted {
                                report.counts.deleted += 1;
                            } else {
                                report.counts.updated += 1;
                            }
                            (ItemResult { outcome, contact_id: Some(id), message: None }, Some(c), before, action)
                        }
                        Err(e) => {
                            report.counts.failed += 1;
                            let r = ItemResult {
                                outcome: ItemOutcome::Failed,
                                contact_id: Some(id),
                                message: Some(e.to_string()),
                            };
                            (r, None, None, "")
                        }
                    }
                }
                ApplyOp::Skip { reason } => {
                    report.counts.skipped += 1;
                    let r = ItemResult { outcome: ItemOutcome::Skipped, contact_id: None, message: Some(reason) };
                    (r, None, None, "")
                }
                ApplyOp::Fail { error } => {
                    report.counts.failed += 1;
                    let r = ItemResult { outcome: ItemOutcome::Failed, contact_id: None, message: Some(error) };
                    (r, None, None, "")
                }
            };
            if let Some(c) = &written {
                if let Some(link) = ch.link {
                    let stored = ProviderLink {
                        contact_id: c.id,
                        synced_at: now,
                        remote_updated_at: link.remote_updated_at.map(trunc),
                        ..link
                    };
                    s.links.insert((stored.connection_id, stored.external_id.clone()), (org, stored));
                }
                let entry = NewAuditEntry {
                    id: AuditId::new_v7(),
                    actor: batch.actor.clone(),
                    entity_type: "contact".to_owned(),
                    entity_id: c.id.to_string(),
                    action: action.to_owned(),
                    before: before.as_ref().and_then(json_of),
                    after: json_of(c),
                    run_id: Some(batch.run_id),
                };
                s.audit.push((org, AuditEntry { entry, at: now }));
                report.contacts.push(c.clone());
            }
            if let Some((_, i)) = s.items.get_mut(&ch.item_id) {
                i.result = Some(result.clone());
            }
            report.results.push((ch.item_id, result));
        }
        if let Some((_, run)) = s.runs.get_mut(&batch.run_id) {
            run.counts.created += report.counts.created;
            run.counts.updated += report.counts.updated;
            run.counts.skipped += report.counts.skipped;
            run.counts.failed += report.counts.failed;
            run.counts.deleted += report.counts.deleted;
        }
        if let Some((conn, resource, cursor)) = batch.cursor {
            s.cursors.insert((conn, resource), (org, StoredCursor { cursor, updated_at: now }));
        }
        s.enqueue::<SyncStoreError>(org, now, &batch.jobs)?;
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
        let s = self.lock();
        Ok(s.cursors.get(&(connection, resource.to_owned())).filter(|(o, _)| *o == org).map(|(_, c)| c.clone()))
    }

    async fn set_cursor(
        &self,
        org: OrgId,
        connection: ConnectionId,
        resource: &str,
        cursor: &SyncCursor,
    ) -> Result<(), SyncStoreError> {
        let now = self.now();
        let mut s = self.lock();
        if !s.connection_in(org, connection) {
            return Err(SyncStoreError::not_found("connection", connection));
        }
        s.cursors
            .insert((connection, resource.to_owned()), (org, StoredCursor { cursor: cursor.clone(), updated_at: now }));
        Ok(())
    }

    async fn clear_cursor(&self, org: OrgId, connection: ConnectionId, resource: &str) -> Result<bool, SyncStoreError> {
        let mut s = self.lock();
        let key = (connection, resource.to_owned());
        if s.cursors.get(&key).is_some_and(|(o, _)| *o == org) {
            s.cursors.remove(&key);
            return Ok(true);
        }
        Ok(false)
    }
}

#[async_trait]
impl WebhookReceiptStore for MemoryStore {
    async fn record_receipt(
        &self,
        org: OrgId,
        receipt: NewWebhookReceipt,
        jobs: &[NewJob],
    ) -> Result<ReceiptOutcome, SyncStoreError> {
        let now = self.now();
        let mut s = self.lock();
        if let Some((_, r)) = s
            .receipts
            .values()
            .find(|(o, r)| *o == org && r.provider == receipt.provider && r.delivery_id == receipt.delivery_id)
        {
            return Ok(ReceiptOutcome::Duplicate(r.id));
        }
        if s.receipts.contains_key(&receipt.id) {
            return Err(SyncStoreError::duplicate(format!("webhook receipt `{}`", receipt.id)));
        }
        for job in jobs {
            validate_job(job).map_err(SyncStoreError::invalid)?;
        }
        let stored = WebhookReceipt {
            id: receipt.id,
            provider: receipt.provider,
            delivery_id: receipt.delivery_id,
            connection_id: receipt.connection_id,
            payload: receipt.payload,
            received_at: now,
            processed_at: None,
            error: None,
        };
        s.receipts.insert(stored.id, (org, stored));
        s.enqueue::<SyncStoreError>(org, now, jobs)?;
        Ok(ReceiptOutcome::New(receipt.id))
    }

    async fn get_receipt(&self, org: OrgId, id: WebhookReceiptId) -> Result<WebhookReceipt, SyncStoreError> {
        let s = self.lock();
        s.receipts
            .get(&id)
            .filter(|(o, _)| *o == org)
            .map(|(_, r)| r.clone())
            .ok_or_else(|| SyncStoreError::not_found("webhook receipt", id))
    }

    async fn mark_receipt_processed(
        &self,
        org: OrgId,
        id: WebhookReceiptId,
        error: Option<&str>,
    ) -> Result<(), SyncStoreError> {
        let now = self.now();
        let mut s = self.lock();
        let (_, r) = s
            .receipts
            .get_mut(&id)
            .filter(|(o, _)| *o == org)
            .ok_or_else(|| SyncStoreError::not_found("webhook receipt", id))?;
        r.processed_at = Some(now);
        r.error = error.map(ToOwned::to_owned);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// History

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record_audit(&self, org: OrgId, entries: Vec<NewAuditEntry>) -> Result<(), HistoryStoreError> {
        let now = self.now();
        let mut s = self.lock();
        let mut ids: HashSet<AuditId> = s.audit.iter().map(|(_, e)| e.entry.id).collect();
        for e in &entries {
            if !ids.insert(e.id) {
                return Err(HistoryStoreError::duplicate(format!("audit entry `{}`", e.id)));
            }
        }
        s.audit.extend(entries.into_iter().map(|entry| (org, AuditEntry { entry, at: now })));
        Ok(())
    }

    async fn list_audit(&self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEntry>, HistoryStoreError> {
        let s = self.lock();
        let before = match filter.before {
            Some(b) => match s.audit.iter().find(|(o, e)| *o == org && e.entry.id == b) {
                Some((_, e)) => Some((e.at, e.entry.id)),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let mut out: Vec<AuditEntry> = s
            .audit
            .iter()
            .filter(|(o, _)| *o == org)
            .map(|(_, e)| e)
            .filter(|e| filter.entity_type.as_ref().is_none_or(|t| &e.entry.entity_type == t))
            .filter(|e| filter.entity_id.as_ref().is_none_or(|i| &e.entry.entity_id == i))
            .filter(|e| filter.run_id.is_none_or(|r| e.entry.run_id == Some(r)))
            .filter(|e| before.is_none_or(|b| (e.at, e.entry.id) < b))
            .cloned()
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse((e.at, e.entry.id)));
        out.truncate(limit_of(filter.limit));
        Ok(out)
    }
}

#[async_trait]
impl ActivityStore for MemoryStore {
    async fn add_activities(&self, org: OrgId, activities: Vec<Activity>) -> Result<(), HistoryStoreError> {
        let mut s = self.lock();
        let mut ids = HashSet::new();
        for a in &activities {
            if s.contact_in(org, a.contact_id).is_none() {
                return Err(HistoryStoreError::not_found("contact", a.contact_id));
            }
            if s.activities.contains_key(&a.id) || !ids.insert(a.id) {
                return Err(HistoryStoreError::duplicate(format!("activity `{}`", a.id)));
            }
        }
        for a in activities {
            let a = Activity { occurred_at: trunc(a.occurred_at), ..a };
            if a.kind == "email_sent"
                && let Some((_, last)) = s.contacts.get_mut(&a.contact_id)
                && last.is_none_or(|l| l < a.occurred_at)
            {
                *last = Some(a.occurred_at);
            }
            s.activities.insert(a.id, (org, a));
        }
        Ok(())
    }

    async fn timeline(
        &self,
        org: OrgId,
        contact: ContactId,
        before: Option<OffsetDateTime>,
        limit: u32,
    ) -> Result<Vec<Activity>, HistoryStoreError> {
        let s = self.lock();
        let mut out: Vec<Activity> = s
            .activities
            .values()
            .filter(|(o, a)| *o == org && a.contact_id == contact && before.is_none_or(|b| a.occurred_at < b))
            .map(|(_, a)| a.clone())
            .collect();
        out.sort_by_key(|a| std::cmp::Reverse((a.occurred_at, a.id)));
        out.truncate(limit_of(limit));
        Ok(out)
    }

    async fn last_contacted_at(
        &self,
        org: OrgId,
        contact: ContactId,
    ) -> Result<Option<OffsetDateTime>, HistoryStoreError> {
        let s = self.lock();
        Ok(s.contacts.get(&contact).filter(|(c, _)| c.org_id == org).and_then(|(_, l)| *l))
    }
}

// ---------------------------------------------------------------------------------------------
// Campaigns

fn is_finished(s: CampaignStatus) -> bool {
    matches!(s, CampaignStatus::Completed | CampaignStatus::Failed | CampaignStatus::Cancelled)
}

#[async_trait]
impl CampaignStore for MemoryStore {
    async fn create_campaign(&self, org: OrgId, new: NewCampaign) -> Result<Campaign, CampaignStoreError> {
        if new.name.trim().is_empty() {
            return Err(CampaignStoreError::invalid("a campaign needs a name"));
        }
        let now = self.now();
        let mut s = self.lock();
        if s.campaigns.contains_key(&new.id) {
            return Err(CampaignStoreError::duplicate(format!("campaign `{}`", new.id)));
        }
        let c = Campaign {
            id: new.id,
            user_id: new.user_id,
            name: new.name,
            status: CampaignStatus::Draft,
            subject_template: new.subject_template,
            body_template: new.body_template,
            target: new.target,
            tone: new.tone,
            estimated_cost_micro_usd: new.estimated_cost_micro_usd,
            total_cost_micro_usd: 0,
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        s.campaigns.insert(c.id, (org, c.clone()));
        Ok(c)
    }

    async fn get_campaign(&self, org: OrgId, id: CampaignId) -> Result<Campaign, CampaignStoreError> {
        let s = self.lock();
        s.campaigns
            .get(&id)
            .filter(|(o, _)| *o == org)
            .map(|(_, c)| c.clone())
            .ok_or_else(|| CampaignStoreError::not_found("campaign", id))
    }

    async fn list_campaigns(&self, org: OrgId, filter: &CampaignFilter) -> Result<Vec<Campaign>, CampaignStoreError> {
        let s = self.lock();
        let before = match filter.before {
            Some(b) => match s.campaigns.get(&b).filter(|(o, _)| *o == org) {
                Some((_, c)) => Some((c.created_at, c.id)),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let mut out: Vec<Campaign> = s
            .campaigns
            .values()
            .filter(|(o, _)| *o == org)
            .map(|(_, c)| c)
            .filter(|c| filter.user_id.is_none_or(|u| c.user_id == Some(u)))
            .filter(|c| filter.status.is_none_or(|st| c.status == st))
            .filter(|c| before.is_none_or(|b| (c.created_at, c.id) < b))
            .cloned()
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
        out.truncate(limit_of(filter.limit));
        Ok(out)
    }

    async fn set_campaign_status(
        &self,
        org: OrgId,
        id: CampaignId,
        status: CampaignStatus,
        jobs: &[NewJob],
    ) -> Result<Campaign, CampaignStoreError> {
        for job in jobs {
            validate_job(job).map_err(CampaignStoreError::invalid)?;
        }
        let now = self.now();
        let mut s = self.lock();
        let (_, c) = s
            .campaigns
            .get_mut(&id)
            .filter(|(o, _)| *o == org)
            .ok_or_else(|| CampaignStoreError::not_found("campaign", id))?;
        if is_finished(c.status) {
            return Err(CampaignStoreError::invalid(format!("campaign `{id}` is already {}", c.status)));
        }
        c.status = status;
        c.updated_at = now;
        if is_finished(status) {
            c.finished_at = Some(now);
        }
        let c = c.clone();
        s.enqueue::<CampaignStoreError>(org, now, jobs)?;
        Ok(c)
    }

    async fn add_campaign_cost(&self, org: OrgId, id: CampaignId, micro_usd: u64) -> Result<(), CampaignStoreError> {
        let now = self.now();
        let mut s = self.lock();
        let (_, c) = s
            .campaigns
            .get_mut(&id)
            .filter(|(o, _)| *o == org)
            .ok_or_else(|| CampaignStoreError::not_found("campaign", id))?;
        c.total_cost_micro_usd = c.total_cost_micro_usd.saturating_add(micro_usd);
        c.updated_at = now;
        Ok(())
    }

    async fn add_messages(
        &self,
        org: OrgId,
        campaign: CampaignId,
        messages: Vec<NewCampaignMessage>,
    ) -> Result<(), CampaignStoreError> {
        let now = self.now();
        let mut s = self.lock();
        if s.campaigns.get(&campaign).is_none_or(|(o, _)| *o != org) {
            return Err(CampaignStoreError::not_found("campaign", campaign));
        }
        let mut recipients: HashSet<ContactId> =
            s.messages.values().filter(|(_, m)| m.campaign_id == campaign).map(|(_, m)| m.contact_id).collect();
        let mut ids = HashSet::new();
        for m in &messages {
            if s.messages.contains_key(&m.id) || !ids.insert(m.id) {
                return Err(CampaignStoreError::duplicate(format!("campaign message `{}`", m.id)));
            }
            if !recipients.insert(m.contact_id) {
                return Err(CampaignStoreError::duplicate(format!("recipient `{}` of campaign", m.contact_id)));
            }
        }
        for m in messages {
            let stored = CampaignMessage {
                id: m.id,
                campaign_id: campaign,
                contact_id: m.contact_id,
                to_address: m.to_address,
                subject: m.subject,
                body: m.body,
                state: m.state,
                reason: m.reason,
                provider_message_id: None,
                sent_at: None,
                updated_at: now,
            };
            s.messages.insert(stored.id, (org, stored));
        }
        Ok(())
    }

    async fn list_messages(
        &self,
        org: OrgId,
        campaign: CampaignId,
        state: Option<MessageState>,
        after: Option<CampaignMessageId>,
        limit: u32,
    ) -> Result<Vec<CampaignMessage>, CampaignStoreError> {
        let s = self.lock();
        Ok(s.messages
            .values()
            .filter(|(o, m)| *o == org && m.campaign_id == campaign)
            .map(|(_, m)| m)
            .filter(|m| state.is_none_or(|st| m.state == st) && after.is_none_or(|a| m.id > a))
            .take(limit_of(limit))
            .cloned()
            .collect())
    }

    async fn edit_message(
        &self,
        org: OrgId,
        id: CampaignMessageId,
        subject: &str,
        body: &str,
    ) -> Result<CampaignMessage, CampaignStoreError> {
        let now = self.now();
        let mut s = self.lock();
        let (_, m) = s
            .messages
            .get_mut(&id)
            .filter(|(o, _)| *o == org)
            .ok_or_else(|| CampaignStoreError::not_found("campaign message", id))?;
        if m.state != MessageState::Queued {
            return Err(CampaignStoreError::invalid(format!("campaign message `{id}` is {}, not queued", m.state)));
        }
        subject.clone_into(&mut m.subject);
        body.clone_into(&mut m.body);
        m.updated_at = now;
        Ok(m.clone())
    }

    async fn transition_message(
        &self,
        org: OrgId,
        id: CampaignMessageId,
        from: MessageState,
        to: MessageState,
        reason: Option<&str>,
        provider_message_id: Option<&str>,
    ) -> Result<bool, CampaignStoreError> {
        let now = self.now();
        let mut s = self.lock();
        let (_, m) = s
            .messages
            .get_mut(&id)
            .filter(|(o, _)| *o == org)
            .ok_or_else(|| CampaignStoreError::not_found("campaign message", id))?;
        if m.state != from {
            return Ok(false);
        }
        m.state = to;
        m.reason = reason.map(ToOwned::to_owned);
        if to == MessageState::Sent {
            m.provider_message_id = provider_message_id.map(ToOwned::to_owned);
            m.sent_at = Some(now);
        }
        m.updated_at = now;
        Ok(true)
    }

    async fn message_counts(&self, org: OrgId, campaign: CampaignId) -> Result<MessageCounts, CampaignStoreError> {
        let s = self.lock();
        let mut n = MessageCounts::default();
        for (_, m) in s.messages.values().filter(|(o, m)| *o == org && m.campaign_id == campaign) {
            match m.state {
                MessageState::Queued => n.queued += 1,
                MessageState::Sending => n.sending += 1,
                MessageState::Sent => n.sent += 1,
                MessageState::Failed => n.failed += 1,
                MessageState::Skipped => n.skipped += 1,
            }
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts and AI usage

#[async_trait]
impl AccountStore for MemoryStore {
    async fn create_org(&self, org: OrgId, name: &str) -> Result<Organisation, AccountStoreError> {
        if name.trim().is_empty() {
            return Err(AccountStoreError::invalid("an organisation needs a name"));
        }
        let now = self.now();
        let mut s = self.lock();
        if s.orgs.contains_key(&org) {
            return Err(AccountStoreError::duplicate(format!("organisation `{org}`")));
        }
        let o = Organisation { id: org, name: name.to_owned(), created_at: now };
        s.orgs.insert(org, o.clone());
        Ok(o)
    }

    async fn get_org(&self, org: OrgId) -> Result<Organisation, AccountStoreError> {
        self.lock().orgs.get(&org).cloned().ok_or_else(|| AccountStoreError::not_found("organisation", org))
    }

    async fn list_orgs(&self) -> Result<Vec<Organisation>, AccountStoreError> {
        let mut out: Vec<Organisation> = self.lock().orgs.values().cloned().collect();
        out.sort_by_key(|o| (o.created_at, o.id));
        Ok(out)
    }

    async fn create_user(&self, org: OrgId, user: NewUser) -> Result<User, AccountStoreError> {
        let email = user.email.trim().to_lowercase();
        if email.is_empty() {
            return Err(AccountStoreError::invalid("a user needs an email"));
        }
        let now = self.now();
        let mut s = self.lock();
        if !s.orgs.contains_key(&org) {
            return Err(AccountStoreError::not_found("organisation", org));
        }
        if s.users.contains_key(&user.id) || s.users.values().any(|u| u.org_id == org && u.email == email) {
            return Err(AccountStoreError::duplicate(format!("user `{email}`")));
        }
        let u = User {
            id: user.id,
            org_id: org,
            email,
            name: user.name,
            role: user.role,
            permissions: user.permissions,
            created_at: now,
        };
        s.users.insert(u.id, u.clone());
        Ok(u)
    }

    async fn get_user(&self, org: OrgId, id: UserId) -> Result<User, AccountStoreError> {
        let s = self.lock();
        s.users.get(&id).filter(|u| u.org_id == org).cloned().ok_or_else(|| AccountStoreError::not_found("user", id))
    }

    async fn list_users(&self, org: OrgId) -> Result<Vec<User>, AccountStoreError> {
        let s = self.lock();
        let mut out: Vec<User> = s.users.values().filter(|u| u.org_id == org).cloned().collect();
        out.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(out)
    }

    async fn set_user_access(
        &self,
        org: OrgId,
        id: UserId,
        role: Role,
        permissions: &BTreeSet<Permission>,
    ) -> Result<User, AccountStoreError> {
        let mut s = self.lock();
        let u =
            s.users.get_mut(&id).filter(|u| u.org_id == org).ok_or_else(|| AccountStoreError::not_found("user", id))?;
        u.role = role;
        u.permissions.clone_from(permissions);
        Ok(u.clone())
    }

    async fn create_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        user: Option<UserId>,
        name: &str,
        secret: &SecretString,
    ) -> Result<ApiKey, AccountStoreError> {
        if secret.expose_secret().is_empty() {
            return Err(AccountStoreError::invalid("an API key secret must not be empty"));
        }
        let now = self.now();
        let hash = key_hash(secret);
        let mut s = self.lock();
        if !s.orgs.contains_key(&org) {
            return Err(AccountStoreError::not_found("organisation", org));
        }
        if let Some(u) = user
            && s.users.get(&u).is_none_or(|x| x.org_id != org)
        {
            return Err(AccountStoreError::not_found("user", u));
        }
        if s.api_keys.contains_key(&id) || s.api_keys.values().any(|(_, h)| *h == hash) {
            return Err(AccountStoreError::duplicate(format!("API key `{id}`")));
        }
        let k = ApiKey { id, org_id: org, user_id: user, name: name.to_owned(), created_at: now, revoked_at: None };
        s.api_keys.insert(id, (k.clone(), hash));
        Ok(k)
    }

    async fn verify_api_key(&self, secret: &SecretString) -> Result<Option<ApiKey>, AccountStoreError> {
        let hash = key_hash(secret);
        let s = self.lock();
        Ok(s.api_keys.values().find(|(k, h)| *h == hash && k.revoked_at.is_none()).map(|(k, _)| k.clone()))
    }

    async fn revoke_api_key(&self, org: OrgId, id: ApiKeyId) -> Result<bool, AccountStoreError> {
        let now = self.now();
        let mut s = self.lock();
        match s.api_keys.get_mut(&id) {
            Some((k, _)) if k.org_id == org && k.revoked_at.is_none() => {
                k.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl AiUsageStore for MemoryStore {
    async fn record_ai_usage(&self, org: OrgId, usage: &AiUsageRecord) -> Result<(), AccountStoreError> {
        let now = self.now();
        self.lock().ai_usage.push((org, usage.clone(), now));
        Ok(())
    }

    async fn ai_usage_totals(
        &self,
        org: OrgId,
        since: OffsetDateTime,
        feature: Option<&str>,
    ) -> Result<AiUsageTotals, AccountStoreError> {
        let s = self.lock();
        let mut t = AiUsageTotals::default();
        for (_, u, _) in
            s.ai_usage.iter().filter(|(o, u, at)| *o == org && *at >= since && feature.is_none_or(|f| u.feature == f))
        {
            t.calls += 1;
            t.prompt_tokens += u64::from(u.prompt_tokens);
            t.completion_tokens += u64::from(u.completion_tokens);
            t.cost_micro_usd += u.cost_micro_usd;
        }
        Ok(t)
    }
}
