//! Contacts and their provider links: [`ContactStore`] (create, read, versioned update, soft
//! delete, search, match candidates by blocking key) and [`LinkStore`] (which provider record a
//! contact is, with the last-synced snapshot for three-way merges).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{ContactStoreError, NewJob};
use crate::contact::{Contact, ContactFields, ContactStatus};
use crate::email::EmailAddress;
use crate::ids::{ConnectionId, ContactId, OrgId};
use crate::matching::BlockingKey;
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

    /// Every link of a contact.
    ///
    /// # Errors
    /// `Unexpected` on database failure.
    async fn links_of(&self, org: OrgId, contact: ContactId) -> Result<Vec<ProviderLink>, ContactStoreError>;

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
