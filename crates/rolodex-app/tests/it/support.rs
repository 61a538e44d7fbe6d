//! Test support: a harness (in-memory store, fixed clock, sequential ids, the service), a scripted
//! `ContactSource` with pages, cursors and cursor expiry, and a scripted `MatchAdvisor`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rolodex_app::sync::{Adjudication, SyncPorts, SyncService, SyncSettings};
use rolodex_domain::ports::storage::{ContactStore, NewContact};
use rolodex_domain::ports::{
    Advice, AdviceCandidate, AdvisorChoice, AiError, AiUsage, ChangePage, Clock, ContactSource, FetchRequest,
    MatchAdvisor, PageToken, ProviderError, SequentialIds, SyncCursor,
};
use rolodex_domain::{
    ConnectionId, ContactFields, ContactId, ContactPhone, ContactStatus, EmailAddress, IncomingContact, OrgId,
    PhoneE164, PhoneKind, Region,
};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::memory::MemoryStore;

pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

pub struct Harness {
    pub store: Arc<MemoryStore>,
    pub ids: Arc<SequentialIds>,
    pub clock: Arc<FixedClock>,
    pub org: OrgId,
    pub conn: ConnectionId,
}

impl Harness {
    pub fn new() -> Self {
        let clock = Arc::new(FixedClock(datetime!(2025-12-02 10:00 UTC)));
        Self {
            store: Arc::new(MemoryStore::new(clock.clone())),
            ids: Arc::new(SequentialIds::starting_at(1000)),
            clock,
            org: OrgId::new_v7(),
            conn: ConnectionId::new_v7(),
        }
    }

    pub fn ports(&self) -> SyncPorts {
        SyncPorts {
            contacts: self.store.clone(),
            links: self.store.clone(),
            runs: self.store.clone(),
            cursors: self.store.clone(),
            audit: self.store.clone(),
            clock: self.clock.clone(),
            ids: self.ids.clone(),
        }
    }

    /// A fresh service over the same store (what another process resuming a run would build).
    pub fn service(&self) -> SyncService {
        self.service_with(SyncSettings::default())
    }

    pub fn service_with(&self, settings: SyncSettings) -> SyncService {
        SyncService::new(self.ports(), settings)
    }

    pub fn advised(&self, advisor: Arc<ScriptedAdvisor>) -> SyncService {
        self.service().with_adjudication(Adjudication { advisor, usage: Some(self.store.clone()) })
    }

    pub async fn existing(&self, fields: ContactFields) -> ContactId {
        let id = ContactId::new_v7();
        self.store
            .create_contact(self.org, NewContact { id, fields, status: ContactStatus::Active }, &[])
            .await
            .expect("create");
        id
    }
}

pub fn person(given: &str, family: &str, email: Option<&str>, phone: Option<&str>) -> ContactFields {
    let mut f = ContactFields {
        given_name: Some(given.to_owned()),
        family_name: Some(family.to_owned()),
        ..ContactFields::default()
    };
    if let Some(e) = email {
        f.emails.push(EmailAddress::parse(e).expect("email"));
    }
    if let Some(p) = phone {
        f.phones.push(ContactPhone {
            number: PhoneE164::parse(p, Region::default()).expect("phone"),
            kind: PhoneKind::Mobile,
        });
    }
    f
}

pub fn incoming(external_id: &str, fields: ContactFields) -> IncomingContact {
    IncomingContact { external_id: Some(external_id.to_owned()), fields, ..IncomingContact::default() }
}

#[derive(Default)]
struct Script {
    contacts: Vec<(IncomingContact, u64)>,
    /// Deleted external ids and the version that deleted them.
    deleted: Vec<(String, u64)>,
    version: u64,
    expired: bool,
}

/// A provider with versioned contacts: `Full` lists everything, `Since("v<k>")` what changed
/// after version k (everything, with `reset`, once the cursor is expired), pages of `page_size`.
pub struct ScriptedSource {
    script: Mutex<Script>,
    page_size: usize,
    pub fetches: AtomicUsize,
}

impl ScriptedSource {
    pub fn new(page_size: usize) -> Self {
        Self { script: Mutex::new(Script::default()), page_size, fetches: AtomicUsize::new(0) }
    }

    pub fn with(page_size: usize, contacts: Vec<IncomingContact>) -> Self {
        let s = Self::new(page_size);
        for c in contacts {
            s.upsert(c);
        }
        s
    }

    pub fn upsert(&self, c: IncomingContact) {
        let mut s = self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.version += 1;
        let v = s.version;
        match s.contacts.iter_mut().find(|(x, _)| x.external_id == c.external_id) {
            Some(slot) => *slot = (c, v),
            None => s.contacts.push((c, v)),
        }
    }

    /// Deletes a record: an incremental listing after this reports it deleted (a full one simply
    /// no longer lists it).
    pub fn delete(&self, external_id: &str) {
        let mut s = self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.version += 1;
        let v = s.version;
        s.contacts.retain(|(c, _)| c.external_id.as_deref() != Some(external_id));
        s.deleted.push((external_id.to_owned(), v));
    }

    pub fn clear(&self) {
        let mut s = self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.contacts.clear();
        s.version += 1;
    }

    pub fn expire_cursor(&self) {
        self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner).expired = true;
    }

    fn listing(&self, offset: usize, since: u64, reset: bool) -> ChangePage {
        let s = self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed: Vec<IncomingContact> =
            s.contacts.iter().filter(|(_, v)| *v > since).map(|(c, _)| c.clone()).collect();
        let end = (offset + self.page_size).min(changed.len());
        let mut page = ChangePage { upserts: changed[offset.min(end)..end].to_vec(), reset, ..ChangePage::default() };
        if end < changed.len() {
            page.next_page = Some(PageToken(format!("{end}:{since}:{reset}")));
        } else {
            page.next_cursor = Some(SyncCursor(format!("v{}", s.version)));
            if since > 0 && !reset {
                page.deletions = s.deleted.iter().filter(|(_, v)| *v > since).map(|(id, _)| id.clone()).collect();
            }
        }
        page
    }
}

#[async_trait]
impl ContactSource for ScriptedSource {
    fn provider(&self) -> &'static str {
        "scripted"
    }

    async fn fetch(&self, request: FetchRequest) -> Result<ChangePage, ProviderError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let bad = |m: &str| ProviderError::Invalid { field: "token".into(), message: m.into() };
        match request {
            FetchRequest::Full => Ok(self.listing(0, 0, false)),
            FetchRequest::Since(SyncCursor(c)) => {
                if self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner).expired {
                    return Ok(self.listing(0, 0, true));
                }
                let k = c.strip_prefix('v').and_then(|k| k.parse().ok()).ok_or_else(|| bad("cursor"))?;
                Ok(self.listing(0, k, false))
            }
            FetchRequest::Page(PageToken(t)) => {
                let parts: Vec<&str> = t.split(':').collect();
                let [o, s, r] = parts.as_slice() else { return Err(bad("page")) };
                Ok(self.listing(o.parse().map_err(|_| bad("page"))?, s.parse().map_err(|_| bad("page"))?, *r == "true"))
            }
        }
    }
}

type Answer = dyn Fn(&[AdviceCandidate]) -> Result<AdvisorChoice, AiError> + Send + Sync;

/// An advisor that answers with `answer(candidates)` and counts its calls.
pub struct ScriptedAdvisor {
    pub calls: AtomicUsize,
    answer: Box<Answer>,
}

impl ScriptedAdvisor {
    pub fn new(
        answer: impl Fn(&[AdviceCandidate]) -> Result<AdvisorChoice, AiError> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self { calls: AtomicUsize::new(0), answer: Box::new(answer) })
    }
}

#[async_trait]
impl MatchAdvisor for ScriptedAdvisor {
    async fn advise(&self, _incoming: &IncomingContact, candidates: &[AdviceCandidate]) -> Result<Advice, AiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let choice = (self.answer)(candidates)?;
        Ok(Advice {
            choice,
            reason: "the LLM's reason".into(),
            usage: AiUsage {
                model: "test-model".into(),
                prompt_tokens: 100,
                completion_tokens: 20,
                cost_micro_usd: 42,
            },
        })
    }
}
