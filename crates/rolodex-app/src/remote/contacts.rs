//! [`ContactService`]: the local contact writes of the API (and of anything embedding Rolodex),
//! each committed together with its outbox jobs (a push to every two-way connection) and followed by
//! an audit entry; reads, search and the contact's timeline.
//!
//! Rules: a create with an email another live contact already has is refused as
//! [`ContactError::Duplicate`] naming that contact (update it instead); an update replaces the
//! fields, optionally only at an expected version; a delete is soft (status `deleted`) and is never
//! pushed: a local delete never deletes at a provider.

use rolodex_domain::ports::storage::{
    Activity, Actor, AuditEntry, AuditFilter, BoxError, ContactQuery, ContactStoreError, NewContact, ProviderLink,
};
use rolodex_domain::{Contact, ContactFields, ContactId, ContactStatus, OrgId};

use super::{RemotePorts, audit_contact, push_jobs};

/// Why a contact operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    /// No such contact in this organisation.
    #[error("contact `{0}` not found")]
    NotFound(ContactId),
    /// The contact changed since the caller read it.
    #[error("contact `{id}` was changed by someone else (current version {current_version}): reload and retry")]
    Conflict {
        /// The contact.
        id: ContactId,
        /// Its version now.
        current_version: i64,
    },
    /// Another live contact already has this email or phone.
    #[error("contact `{existing}` already has {key}: update that contact instead")]
    Duplicate {
        /// The contact that has it.
        existing: ContactId,
        /// What is shared (`email a@b.c`).
        key: String,
    },
    /// The input breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed; retry later.
    #[error("storage failure")]
    Unexpected(#[source] BoxError),
}

impl ContactError {
    fn from_store(e: ContactStoreError, id: ContactId) -> Self {
        match e {
            ContactStoreError::NotFound { .. } => Self::NotFound(id),
            ContactStoreError::Conflict { current_version, .. } => Self::Conflict { id, current_version },
            ContactStoreError::Invalid(m) => Self::Invalid(m),
            ContactStoreError::Duplicate(what) => Self::Invalid(format!("{what} already exists")),
            ContactStoreError::Unexpected(e) => Self::Unexpected(e),
        }
    }

    fn unexpected(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unexpected(Box::new(e))
    }
}

/// A contact's history: its activities (mail, notes, syncs), the audit entries of its changes
/// (newest first) and its provider links.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Activities, newest first.
    pub activities: Vec<Activity>,
    /// Changes, newest first.
    pub changes: Vec<AuditEntry>,
    /// Which provider records it is.
    pub links: Vec<ProviderLink>,
}

/// Local contact operations.
#[derive(Clone)]
pub struct ContactService {
    ports: RemotePorts,
}

impl std::fmt::Debug for ContactService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactService").finish_non_exhaustive()
    }
}

fn check(fields: &ContactFields) -> Result<(), ContactError> {
    let has = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.trim().is_empty());
    if !(has(&fields.given_name)
        || has(&fields.family_name)
        || has(&fields.display_name)
        || has(&fields.company)
        || !fields.emails.is_empty()
        || !fields.phones.is_empty())
    {
        return Err(ContactError::Invalid(
            "a contact needs at least one of given_name, family_name, display_name, company, emails or phones"
                .to_owned(),
        ));
    }
    Ok(())
}

impl ContactService {
    /// The service over `ports`.
    #[must_use]
    pub fn new(ports: RemotePorts) -> Self {
        Self { ports }
    }

    async fn audit(&self, org: OrgId, actor: &Actor, action: &str, before: Option<&Contact>, after: &Contact) {
        audit_contact(&self.ports, org, actor, action, before.map(|c| &c.fields), after).await;
    }

    /// Creates a contact and, in the same transaction, its pushes to every two-way connection.
    ///
    /// # Errors
    /// `Invalid` for a contact with nothing to identify it; `Duplicate` when a live contact already
    /// has one of its emails; `Unexpected`.
    pub async fn create(&self, org: OrgId, actor: &Actor, fields: ContactFields) -> Result<Contact, ContactError> {
        check(&fields)?;
        for email in &fields.emails {
            let query = ContactQuery { email: Some(email.clone()), limit: 1, ..ContactQuery::default() };
            let found = self.ports.contacts.search_contacts(org, &query).await.map_err(ContactError::unexpected)?;
            if let Some(existing) = found.first() {
                return Err(ContactError::Duplicate { existing: existing.id, key: format!("email {email}") });
            }
        }
        let id = ContactId::from(self.ports.ids.new_uuid());
        let jobs = push_jobs(&*self.ports.connections, org, id).await.map_err(ContactError::unexpected)?;
        let contact = self
            .ports
            .contacts
            .create_contact(org, NewContact { id, fields, status: ContactStatus::Active }, &jobs)
            .await
            .map_err(|e| ContactError::from_store(e, id))?;
        self.audit(org, actor, "create", None, &contact).await;
        Ok(contact)
    }

    /// Reads a contact (whatever its status).
    ///
    /// # Errors
    /// `NotFound`; `Unexpected`.
    pub async fn get(&self, org: OrgId, id: ContactId) -> Result<Contact, ContactError> {
        self.ports.contacts.get_contact(org, id).await.map_err(|e| ContactError::from_store(e, id))
    }

    /// Replaces a contact's fields (at `expected_version` when given, else at the version just
    /// read) and, in the same transaction, enqueues its pushes.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` when `expected_version` is not the stored one; `Invalid`; `Unexpected`.
    pub async fn update(
        &self,
        org: OrgId,
        actor: &Actor,
        id: ContactId,
        expected_version: Option<i64>,
        fields: ContactFields,
    ) -> Result<Contact, ContactError> {
        check(&fields)?;
        let before = self.get(org, id).await?;
        if before.status == ContactStatus::Deleted {
            return Err(ContactError::Invalid(format!("contact `{id}` is deleted; it cannot be updated")));
        }
        let version = expected_version.unwrap_or(before.version);
        if version != before.version {
            return Err(ContactError::Conflict { id, current_version: before.version });
        }
        if before.fields == fields {
            return Ok(before);
        }
        let jobs = push_jobs(&*self.ports.connections, org, id).await.map_err(ContactError::unexpected)?;
        let after = self
            .ports
            .contacts
            .update_contact(org, id, version, fields, &jobs)
            .await
            .map_err(|e| ContactError::from_store(e, id))?;
        self.audit(org, actor, "update", Some(&before), &after).await;
        Ok(after)
    }

    /// Soft-deletes a contact (status `deleted`; its links and history stay). Never pushed: a local
    /// delete never deletes at a provider. Deleting a deleted contact returns it unchanged.
    ///
    /// # Errors
    /// `NotFound`; `Unexpected`.
    pub async fn delete(&self, org: OrgId, actor: &Actor, id: ContactId) -> Result<Contact, ContactError> {
        let before = self.get(org, id).await?;
        if before.status == ContactStatus::Deleted {
            return Ok(before);
        }
        let after = self
            .ports
            .contacts
            .set_contact_status(org, id, before.version, ContactStatus::Deleted, &[])
            .await
            .map_err(|e| ContactError::from_store(e, id))?;
        self.audit(org, actor, "delete", Some(&before), &after).await;
        Ok(after)
    }

    /// Searches contacts by email, phone or name (see [`ContactQuery`]).
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn search(&self, org: OrgId, query: &ContactQuery) -> Result<Vec<Contact>, ContactError> {
        self.ports.contacts.search_contacts(org, query).await.map_err(ContactError::unexpected)
    }

    /// A contact's timeline: activities and changes (each newest first, at most `limit`) and links.
    ///
    /// # Errors
    /// `NotFound`; `Unexpected`.
    pub async fn timeline(&self, org: OrgId, id: ContactId, limit: u32) -> Result<Timeline, ContactError> {
        self.get(org, id).await?;
        let activities =
            self.ports.activities.timeline(org, id, None, limit).await.map_err(ContactError::unexpected)?;
        let filter = AuditFilter {
            entity_type: Some("contact".to_owned()),
            entity_id: Some(id.to_string()),
            limit,
            ..AuditFilter::default()
        };
        let changes = self.ports.audit.list_audit(org, &filter).await.map_err(ContactError::unexpected)?;
        let links = self.ports.links.links_of(org, id).await.map_err(ContactError::unexpected)?;
        Ok(Timeline { activities, changes, links })
    }
}
