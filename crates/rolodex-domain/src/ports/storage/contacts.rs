//! Contacts and their provider links: [`ContactStore`] (create, read, versioned update, soft
//! delete, search, match candidates by blocking key) and [`LinkStore`] (which provider record a
//! contact is, with the last-synced snapshot for three-way merges).

use std::collections::HashMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{ContactStoreError, NewJob};
use crate::contact::{Contact, ContactFields, ContactStatus};
use crate::email::EmailAddress;
use crate::ids::{ConnectionId, ContactId, OrgId};
use crate::matching::index::BlockLimits;
use crate::matching::{BlockingKey, KeyKind};
use crate::phone::PhoneE164;

/// A contact to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    /// Its id (from the [`IdGenerator`](crate::ports::IdGenerator)).
    pub id: ContactId,
    /// What it says.
    pub fields: ContactFields,
    /// Usually [`ContactStatus::Active`].
    pub status: ContactStatus,
}

/// What to search for. Every set criterion must hold; results are ordered by id and paged with
/// `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactQuery {
    /// Has this email (compared by [`EmailAddress::matching_key`]).
    pub email: Option<EmailAddress>,
    /// Has this phone number (E.164).
    pub phone: Option<PhoneE164>,
    /// Name, company or display name contains this text (case-insensitive).
    pub name: Option<String>,
    /// Only contacts in this status; `None` means every status except `Deleted`.
    pub status: Option<ContactStatus>,
    /// Page: contacts with an id greater than this.
    pub after: Option<ContactId>,
    /// Page size (see [`page_size`](super::page_size)).
    pub limit: u32,
}

/// How many candidates [`ContactStore::find_candidates_many`] returns per key set, and which
/// keys it skips as too common.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateLimits {
    /// Candidates per key set (clamped like a page, see [`page_size`](super::page_size)).
    pub per_set: u32,
    /// Keys shared by more contacts than these are skipped.
    pub blocks: BlockLimits,
}

impl Default for CandidateLimits {
    fn default() -> Self {
        Self { per_set: 50, blocks: BlockLimits::default() }
    }
}

impl CandidateLimits {
    /// The block limit of a kind of key.
    #[must_use]
    pub fn block_cap(&self, kind: KeyKind) -> u32 {
        let cap = match kind {
            KeyKind::Name => self.blocks.max_name_block,
            KeyKind::Email | KeyKind::Phone => self.blocks.max_identifier_block,
        };
        u32::try_from(cap).unwrap_or(u32::MAX)
    }
}

/// Orders the contacts of the given key blocks strongest first: by the number of email and phone
/// keys they share, then the number of name keys, then by id. Each contact appears once.
/// (`T` is a contact id, or its text form in a store: both order the same way.)
#[must_use]
pub fn rank_candidates<'a, T, I>(blocks: I) -> Vec<T>
where
    T: Ord + std::hash::Hash + Clone + 'a,
    I: IntoIterator<Item = (KeyKind, &'a [T])>,
{
    let mut strength: HashMap<&'a T, (u32, u32)> = HashMap::new();
    for (kind, ids) in blocks {
        for id in ids {
            let s = strength.entry(id).or_default();
            match kind {
                KeyKind::Email | KeyKind::Phone => s.0 += 1,
                KeyKind::Name => s.1 += 1,
            }
        }
    }
    let mut ranked: Vec<(&T, (u32, u32))> = strength.into_iter().collect();
    ranked.sort_unstable_by(|(a, sa), (b, sb)| sb.cmp(sa).then(a.cmp(b)));
    ranked.into_iter().map(|(id, _)| id.clone()).collect()
}

/// The store of contacts. Every write refreshes the contact's email, phone and blocking-key index
/// rows (from [`crate::matching::blocking_keys`]) in the same transaction, and enqueues the given
/// jobs there too (the transactional outbox).
#[async_trait]
pub trait ContactStore: Send + Sync + 'static {
    /// Creates a contact at version 1 and enqueues `jobs` atomically with it.
    ///
    /// # Errors
    /// `Duplicate` when the id is taken; `Unexpected` on database failure.
    async fn create_contact(&self, org: OrgId, new: NewContact, jobs: &[NewJob]) -> Result<Contact, ContactStoreError>;

    /// Reads one contact, whatever its status.
    ///
    /// # Errors
    /// `NotFound` when it does not exist in `org`.
    async fn get_contact(&self, org: OrgId, id: ContactId) -> Result<Contact, ContactStoreError>;

    /// Reads several contacts; ids that do not exist in `org` are left out. Order follows `ids`.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn get_contacts(&self, org: OrgId, ids: &[ContactId]) -> Result<Vec<Contact>, ContactStoreError>;

    /// Replaces the fields when the stored version is `expected_version`; the version goes up by one.
    /// `jobs` are enqueued atomically with the change.
    ///
    /// # Errors
    /// `Conflict { current_version }` when someone changed it first; `NotFound`.
    async fn update_contact(
        &self,
        org: OrgId,
        id: ContactId,
        expected_version: i64,
        fields: ContactFields,
        jobs: &[NewJob],
    ) -> Result<Contact, ContactStoreError>;

    /// Sets the status (`Deleted` is the soft delete: the row, its links and history stay, it is no
    /// longer a match candidate nor listed by default). The version goes up by one.
    ///
    /// # Errors
    /// `Conflict { current_version }`; `NotFound`.
    async fn set_contact_status(
        &self,
        org: OrgId,
        id: ContactId,
        expected_version: i64,
        status: ContactStatus,
        jobs: &[NewJob],
    ) -> Result<Contact, ContactStoreError>;

    /// Searches contacts (see [`ContactQuery`]).
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn search_contacts(&self, org: OrgId, query: &ContactQuery) -> Result<Vec<Contact>, ContactStoreError>;

    /// The live (not deleted) contacts sharing at least one of `keys`, ordered by id, at most
    /// `limit` (see [`page_size`](super::page_size)). Uses the index rows, never a scan.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn find_candidates(
        &self,
        org: OrgId,
        keys: &[BlockingKey],
        limit: u32,
    ) -> Result<Vec<Contact>, ContactStoreError>;

    /// The match candidates of many incoming contacts at once: entry `i` of the answer holds the
    /// live contacts sharing a key of `key_sets[i]`, strongest first (see [`CandidateLimits`]),
    /// at most `limits.per_set`. A key shared by more contacts than its block limit is skipped, as
    /// the in-memory linker does ([`BlockLimits`]): a common surname sound says little and would
    /// crowd out the real candidates. A sync preview calls this once per group of incoming
    /// contacts; stores override the default (one [`find_candidates`](Self::find_candidates)
    /// call per key) with a few set-based queries.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn find_candidates_many(
        &self,
        org: OrgId,
        key_sets: &[Vec<BlockingKey>],
        limits: CandidateLimits,
    ) -> Result<Vec<Vec<Contact>>, ContactStoreError> {
        // Built on `find_key_blocks`, so a store that overrides that gets this batched too.
        let mut keys: Vec<BlockingKey> = key_sets.iter().flatten().cloned().collect();
        keys.sort_unstable();
        keys.dedup();
        let blocks = self.find_key_blocks(org, &keys, limits.blocks).await?;
        let by_key: HashMap<&BlockingKey, &[ContactId]> =
            keys.iter().zip(&blocks).filter_map(|(k, b)| b.as_deref().map(|ids| (k, ids))).collect();
        let ranked: Vec<Vec<ContactId>> = key_sets
            .iter()
            .map(|set| rank_candidates(set.iter().filter_map(|k| by_key.get(k).map(|ids| (k.kind, *ids)))))
            .collect();
        let mut wanted: Vec<ContactId> = ranked.iter().flatten().copied().collect();
        wanted.sort_unstable();
        wanted.dedup();
        let live: HashMap<ContactId, Contact> = if wanted.is_empty() {
            HashMap::new()
        } else {
            self.get_contacts(org, &wanted)
                .await?
                .into_iter()
                .filter(|c| c.status != ContactStatus::Deleted)
                .map(|c| (c.id, c))
                .collect()
        };
        let per_set = super::page_size(limits.per_set) as usize;
        Ok(ranked.iter().map(|ids| ids.iter().filter_map(|id| live.get(id).cloned()).take(per_set).collect()).collect())
    }

    /// The blocks of `keys`: entry `i` is `None` when more contacts than the block limit of its
    /// kind share `keys[i]` (the key is too common to say anything), else the ids of the
    /// contacts indexed under it, in any order. The index does not know the status, so deleted
    /// contacts may be named (a caller reads the contacts and skips them). A caller that ranks
    /// the blocks itself ([`rank_candidates`]) can keep blocks across calls: the sync preview
    /// asks for each key once per run, where a common key serves many incoming contacts.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn find_key_blocks(
        &self,
        org: OrgId,
        keys: &[BlockingKey],
        limits: BlockLimits,
    ) -> Result<Vec<Option<Vec<ContactId>>>, ContactStoreError> {
        let per = CandidateLimits { per_set: 0, blocks: limits };
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let cap = per.block_cap(key.kind);
            let block = self.find_candidates(org, std::slice::from_ref(key), cap.saturating_add(1)).await?;
            out.push((block.len() <= cap as usize).then(|| block.into_iter().map(|c| c.id).collect()));
        }
        Ok(out)
    }

    /// How many contacts `org` has that are not deleted.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn count_contacts(&self, org: OrgId) -> Result<u64, ContactStoreError>;
}

/// Which provider record a contact is, and what it said when we last synced (the base of the
/// three-way merge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderLink {
    /// The contact.
    pub contact_id: ContactId,
    /// The connection (provider account).
    pub connection_id: ConnectionId,
    /// The provider's id; unique per connection.
    pub external_id: String,
    /// The provider's version / etag.
    pub external_version: Option<String>,
    /// What the provider said at the last sync.
    pub snapshot: Option<ContactFields>,
    /// A hash of `snapshot` as the sync engine computes it (to skip unchanged contacts cheaply).
    pub snapshot_hash: Option<String>,
    /// The provider's updated-at of that version (an older event never overwrites newer data).
    pub remote_updated_at: Option<OffsetDateTime>,
    /// When we last synced it (set by the store on write).
    pub synced_at: OffsetDateTime,
}

/// Provider links.
#[async_trait]
pub trait LinkStore: Send + Sync + 'static {
    /// Creates or replaces the link `(connection_id, external_id)` (re-pointing it when it named
    /// another contact); `synced_at` is set to now.
    ///
    /// # Errors
    /// `NotFound` when the contact or connection is not in `org`.
    async fn upsert_link(&self, org: OrgId, link: &ProviderLink) -> Result<ProviderLink, ContactStoreError>;

    /// The link of a provider record.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn find_link(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<Option<ProviderLink>, ContactStoreError>;

    /// The links of many provider records of one connection at once (those that exist, in any
    /// order). Stores override the default, which asks one record at a time.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn find_links(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_ids: &[String],
    ) -> Result<Vec<ProviderLink>, ContactStoreError> {
        let mut out = Vec::new();
        for ext in external_ids {
            if let Some(l) = self.find_link(org, connection, ext).await? {
                out.push(l);
            }
        }
        Ok(out)
    }

    /// How many provider records of `connection` are linked to contacts (whatever the
    /// contacts' status): a source that had some and suddenly lists none is suspect.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn count_links(&self, org: OrgId, connection: ConnectionId) -> Result<u64, ContactStoreError>;

    /// Every link of a contact.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn links_of(&self, org: OrgId, contact: ContactId) -> Result<Vec<ProviderLink>, ContactStoreError>;

    /// Every link of each of `contacts` at once (in any order). Stores override the default,
    /// which asks one contact at a time.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn links_of_many(&self, org: OrgId, contacts: &[ContactId]) -> Result<Vec<ProviderLink>, ContactStoreError> {
        let mut out = Vec::new();
        for c in contacts {
            out.extend(self.links_of(org, *c).await?);
        }
        Ok(out)
    }

    /// Removes a link; returns whether one existed.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn delete_link(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<bool, ContactStoreError>;
}
