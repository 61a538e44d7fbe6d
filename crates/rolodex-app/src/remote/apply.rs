//! [`RemoteApplier`]: applies one remote change (a webhook or a reconciled contact) to the local
//! store, the same way whichever path it came by.
//!
//! - A contact we hold a link for is merged field by field against the link's snapshot (what the
//!   provider said at the last sync), in the provider's form ([`ContactSink::project`]): changed on
//!   one side only, that side wins; on both, the connection's
//!   [`ConflictPolicy`](rolodex_domain::conflict::ConflictPolicy) decides (GoHighLevel by
//!   default). When the merged contact differs from the provider's, a push is enqueued with the
//!   local write (the echo of a push changes nothing, because the snapshot already holds it).
//! - An event older than the remote state we hold is ignored (never overwrites newer data).
//! - An unknown contact is matched by email (primary), then phone: a match is linked (no
//!   duplicate) and filled in, remote values first; otherwise a contact is created.
//! - A remote delete soft-deletes the local contact; do-not-disturb and source only flow in.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rolodex_domain::conflict::{REMOTE_ONLY_FIELDS, is_stale, resolve};
use rolodex_domain::diff::{from_field_map, to_field_map};
use rolodex_domain::ports::storage::{
    Actor, BoxError, Connection, ContactQuery, ContactStoreError, NewContact, NewJob, ProviderLink,
};
use rolodex_domain::ports::{ContactSink, ProviderError, RemoteContactEvent, RemoteEventKind, Retry};
use rolodex_domain::{Contact, ContactFields, ContactId, ContactStatus, OrgId};
use serde_json::Value;
use time::OffsetDateTime;

use super::jobs::PushJob;
use super::{ContactSinks, RemotePorts, audit_contact};
use crate::sync::fields_hash;

/// What applying one remote change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppliedChange {
    /// A new local contact.
    Created(ContactId),
    /// An existing local contact (matched by email or phone) was linked to the remote one.
    Linked(ContactId),
    /// The linked local contact changed.
    Updated(ContactId),
    /// Nothing to change (an echo of our own push, or a redelivery).
    Unchanged(ContactId),
    /// The local contact was soft-deleted.
    SoftDeleted(ContactId),
    /// Older than the remote state we hold: ignored.
    Stale,
    /// Nothing to apply it to (a delete or a partial update of a contact we never saw).
    Ignored(String),
}

/// Why a remote change could not be applied (the job retries unless the provider says never).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Storage failed, or the contact changed under us (retry).
    #[error("storage: {0}")]
    Storage(#[source] BoxError),
    /// The provider sink could not be built.
    #[error("provider: {0}")]
    Provider(#[source] ProviderError),
}

impl ApplyError {
    /// Whether and when to retry.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self {
            Self::Storage(_) => Retry::After(None),
            Self::Provider(e) => e.retry(),
        }
    }

    fn storage(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Storage(Box::new(e))
    }
}

/// Applies remote changes.
#[derive(Clone)]
pub struct RemoteApplier {
    ports: RemotePorts,
    sinks: Arc<dyn ContactSinks>,
}

impl std::fmt::Debug for RemoteApplier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteApplier").finish_non_exhaustive()
    }
}

type FieldMap = BTreeMap<String, Value>;

fn get<'a>(m: &'a FieldMap, k: &str) -> Option<&'a Value> {
    m.get(k)
}

fn put(m: &mut FieldMap, k: &str, v: Option<&Value>) {
    match v {
        Some(v) => {
            m.insert(k.to_owned(), v.clone());
        }
        None => {
            m.remove(k);
        }
    }
}

fn keys<'a>(maps: &[&'a FieldMap]) -> BTreeSet<&'a String> {
    maps.iter().flat_map(|m| m.keys()).collect()
}

/// The local contact after a merge computed in the provider's form: where the merged value is the
/// local one (in that form) the local value stays whole (local data the provider cannot hold is
/// kept); where it moved to the remote value, the remote value is taken whole; provider data we
/// cannot write (absent from the provider's form of either side) flows in.
fn overlay(
    local: &ContactFields,
    local_w: &FieldMap,
    merged: &FieldMap,
    remote: &FieldMap,
    remote_w: &FieldMap,
) -> FieldMap {
    let mut out = to_field_map(local);
    for k in keys(&[local_w, merged, remote, remote_w]) {
        let (m, lw, r, rw) = (get(merged, k), get(local_w, k), get(remote, k), get(remote_w, k));
        if m == lw {
            if lw.is_none() && rw.is_none() && r.is_some() {
                put(&mut out, k, r);
            }
        } else if m == rw {
            put(&mut out, k, r);
        } else {
            put(&mut out, k, m);
        }
    }
    out
}

/// `local` with the provider's own data from `remote` (keys absent from the provider's form of
/// both: its ids, the location, its lead source), as a write's answer or a read returns them.
pub(crate) fn with_provider_data(
    local: &ContactFields,
    remote: &ContactFields,
    sink: &dyn ContactSink,
) -> ContactFields {
    let (lw, r, rw) = (to_field_map(&sink.project(local)), to_field_map(remote), to_field_map(&sink.project(remote)));
    let mut out = to_field_map(local);
    for (k, v) in &r {
        if !REMOTE_ONLY_FIELDS.contains(&k.as_str()) && !lw.contains_key(k) && !rw.contains_key(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    from_field_map(&out).unwrap_or_else(|_| local.clone())
}

/// The writable part of two maps differs (remote-only fields aside).
fn writable_differs(a: &FieldMap, b: &FieldMap) -> bool {
    keys(&[a, b]).into_iter().any(|k| !REMOTE_ONLY_FIELDS.contains(&k.as_str()) && a.get(k) != b.get(k))
}

/// The snapshot after a push of `local_w` over the previous snapshot `base`: the provider's own data
/// (keys outside its writable form) kept, the written part replaced.
pub(crate) fn snapshot_after_push(
    base: Option<&ContactFields>,
    base_w: &FieldMap,
    local_w: &FieldMap,
) -> ContactFields {
    let mut out = base.map(to_field_map).unwrap_or_default();
    for k in keys(&[base_w, local_w]) {
        if REMOTE_ONLY_FIELDS.contains(&k.as_str()) {
            continue;
        }
        put(&mut out, k, local_w.get(k));
    }
    from_field_map(&out).unwrap_or_else(|_| base.cloned().unwrap_or_default())
}

impl RemoteApplier {
    /// The applier over `ports`, projecting contacts with the sinks of `sinks`.
    #[must_use]
    pub fn new(ports: RemotePorts, sinks: Arc<dyn ContactSinks>) -> Self {
        Self { ports, sinks }
    }

    async fn audit(&self, org: OrgId, actor: &Actor, action: &str, before: Option<&ContactFields>, after: &Contact) {
        audit_contact(&self.ports, org, actor, action, before, after).await;
    }

    async fn link(
        &self,
        org: OrgId,
        connection: &Connection,
        contact: ContactId,
        event: &RemoteContactEvent,
        (remote, version): (&ContactFields, Option<String>),
        held_at: Option<OffsetDateTime>,
    ) -> Result<(), ApplyError> {
        let at = match (event.occurred_at, held_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let link = ProviderLink {
            contact_id: contact,
            connection_id: connection.id,
            external_id: event.external_id.clone(),
            external_version: version,
            snapshot: Some(remote.clone()),
            snapshot_hash: Some(fields_hash(remote)),
            remote_updated_at: at,
            synced_at: self.ports.clock.now(),
        };
        self.ports.links.upsert_link(org, &link).await.map_err(ApplyError::storage)?;
        Ok(())
    }

    /// Applies `event` (from `connection`, in `org`) as `actor` (`system:webhook`,
    /// `system:reconcile`).
    ///
    /// # Errors
    /// [`ApplyError`]: storage failures and version conflicts (retry), a sink that cannot be built.
    pub async fn apply(
        &self,
        org: OrgId,
        connection: &Connection,
        event: &RemoteContactEvent,
        actor: &Actor,
    ) -> Result<AppliedChange, ApplyError> {
        let link =
            self.ports.links.find_link(org, connection.id, &event.external_id).await.map_err(ApplyError::storage)?;
        if let Some(l) = &link
            && is_stale(event.occurred_at, l.remote_updated_at)
        {
            return Ok(AppliedChange::Stale);
        }
        let (remote, version) = match &event.kind {
            RemoteEventKind::Deleted => return self.remote_delete(org, link.as_ref(), actor).await,
            RemoteEventKind::Created(c) | RemoteEventKind::Updated(c) => (c.fields.clone(), c.external_version.clone()),
            RemoteEventKind::DndChanged(dnd) => match link.as_ref().and_then(|l| l.snapshot.clone()) {
                Some(mut s) => {
                    s.do_not_disturb = *dnd;
                    (s, None)
                }
                None => return Ok(AppliedChange::Ignored("do-not-disturb change of a contact we never saw".into())),
            },
            RemoteEventKind::TagsChanged(tags) => match link.as_ref().and_then(|l| l.snapshot.clone()) {
                Some(mut s) => {
                    s.tags = tags.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
                    (s, None)
                }
                None => return Ok(AppliedChange::Ignored("tag change of a contact we never saw".into())),
            },
        };
        let sink = self.sinks.sink(connection).map_err(ApplyError::Provider)?;
        match link {
            Some(l) => {
                let contact = match self.ports.contacts.get_contact(org, l.contact_id).await {
                    Ok(c) => c,
                    Err(ContactStoreError::NotFound { .. }) => {
                        return self.create(org, connection, event, &remote, version, actor).await;
                    }
                    Err(e) => return Err(ApplyError::storage(e)),
                };
                let held = l.remote_updated_at;
                let change =
                    self.merge(org, connection, &*sink, &contact, l.snapshot.as_ref(), &remote, event, actor).await?;
                self.link(org, connection, contact.id, event, (&remote, version), held).await?;
                Ok(change)
            }
            None => match self.find_match(org, &remote).await? {
                Some(contact) => {
                    self.merge(org, connection, &*sink, &contact, None, &remote, event, actor).await?;
                    self.link(org, connection, contact.id, event, (&remote, version), None).await?;
                    Ok(AppliedChange::Linked(contact.id))
                }
                None => self.create(org, connection, event, &remote, version, actor).await,
            },
        }
    }

    async fn remote_delete(
        &self,
        org: OrgId,
        link: Option<&ProviderLink>,
        actor: &Actor,
    ) -> Result<AppliedChange, ApplyError> {
        let Some(link) = link else {
            return Ok(AppliedChange::Ignored("delete of a contact we never saw".into()));
        };
        let contact = match self.ports.contacts.get_contact(org, link.contact_id).await {
            Ok(c) => c,
            Err(ContactStoreError::NotFound { .. }) => return Ok(AppliedChange::Ignored("contact is gone".into())),
            Err(e) => return Err(ApplyError::storage(e)),
        };
        if contact.status == ContactStatus::Deleted {
            return Ok(AppliedChange::Unchanged(contact.id));
        }
        let after = self
            .ports
            .contacts
            .set_contact_status(org, contact.id, contact.version, ContactStatus::Deleted, &[])
            .await
            .map_err(ApplyError::storage)?;
        self.audit(org, actor, "delete", Some(&contact.fields), &after).await;
        Ok(AppliedChange::SoftDeleted(contact.id))
    }

    async fn find_match(&self, org: OrgId, remote: &ContactFields) -> Result<Option<Contact>, ApplyError> {
        let mut queries: Vec<ContactQuery> = remote
            .emails
            .iter()
            .map(|e| ContactQuery { email: Some(e.clone()), limit: 1, ..ContactQuery::default() })
            .collect();
        queries.extend(remote.phones.iter().map(|p| ContactQuery {
            phone: Some(p.number.clone()),
            limit: 1,
            ..ContactQuery::default()
        }));
        for q in queries {
            let found = self.ports.contacts.search_contacts(org, &q).await.map_err(ApplyError::storage)?;
            if let Some(c) = found.into_iter().next() {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    async fn create(
        &self,
        org: OrgId,
        connection: &Connection,
        event: &RemoteContactEvent,
        remote: &ContactFields,
        version: Option<String>,
        actor: &Actor,
    ) -> Result<AppliedChange, ApplyError> {
        let id = ContactId::from(self.ports.ids.new_uuid());
        let new = NewContact { id, fields: remote.clone(), status: ContactStatus::Active };
        let contact = self.ports.contacts.create_contact(org, new, &[]).await.map_err(ApplyError::storage)?;
        self.link(org, connection, id, event, (remote, version), None).await?;
        self.audit(org, actor, "create", None, &contact).await;
        Ok(AppliedChange::Created(id))
    }

    /// Merges `remote` into `contact` against `base` (None for a first link) and writes the result,
    /// with a push when the provider must learn something.
    #[allow(clippy::too_many_arguments)]
    async fn merge(
        &self,
        org: OrgId,
        connection: &Connection,
        sink: &dyn ContactSink,
        contact: &Contact,
        base: Option<&ContactFields>,
        remote: &ContactFields,
        event: &RemoteContactEvent,
        actor: &Actor,
    ) -> Result<AppliedChange, ApplyError> {
        let local = &contact.fields;
        let (local_w, remote_w) = (sink.project(local), sink.project(remote));
        let merged_w = match base {
            Some(b) => {
                let base_w = sink.project(b);
                resolve(
                    Some(&base_w),
                    &local_w,
                    &remote_w,
                    connection.settings.conflict_policy,
                    Some(contact.updated_at),
                    event.occurred_at,
                )
                .merged
            }
            None => first_link(&local_w, &remote_w, connection.settings.conflict_policy),
        };
        let (lw, mw, r, rw) =
            (to_field_map(&local_w), to_field_map(&merged_w), to_field_map(remote), to_field_map(&remote_w));
        let mut new_map = overlay(local, &lw, &mw, &r, &rw);
        put(&mut new_map, "do_not_disturb", r.get("do_not_disturb"));
        // `source` says where a contact came from: one that has it keeps it (the provider's own
        // lead source is provider data, e.g. `custom.ghl.source`, and flows in with the rest).
        let origin = if local.source.is_some() { "local" } else { "remote" };
        let source =
            if origin == "local" { to_field_map(local).get("source").cloned() } else { r.get("source").cloned() };
        put(&mut new_map, "source", source.as_ref());
        let new_fields = from_field_map(&new_map).map_err(ApplyError::storage)?;
        let push = writable_differs(&mw, &rw);
        let jobs: Vec<NewJob> = if push { vec![PushJob::job(connection.id, contact.id)] } else { vec![] };
        if new_fields == *local {
            if push {
                self.ports.jobs.enqueue(org, jobs[0].clone()).await.map_err(ApplyError::storage)?;
            }
            return Ok(AppliedChange::Unchanged(contact.id));
        }
        if contact.status == ContactStatus::Deleted {
            // A contact deleted here stays deleted; only the link's snapshot moves on.
            return Ok(AppliedChange::Unchanged(contact.id));
        }
        let after = self
            .ports
            .contacts
            .update_contact(org, contact.id, contact.version, new_fields, &jobs)
            .await
            .map_err(ApplyError::storage)?;
        self.audit(org, actor, "update", Some(local), &after).await;
        Ok(AppliedChange::Updated(contact.id))
    }
}

/// The first merge of a local contact with the remote one it was matched to: every field either
/// side has; where both have one, the policy's side (the remote one unless the local side wins).
fn first_link(
    local: &ContactFields,
    remote: &ContactFields,
    policy: rolodex_domain::conflict::ConflictPolicy,
) -> ContactFields {
    use rolodex_domain::conflict::ConflictPolicy;
    let (l, r) = (to_field_map(local), to_field_map(remote));
    let mut out = FieldMap::new();
    for k in keys(&[&l, &r]) {
        let v = match (l.get(k), r.get(k)) {
            (Some(lv), Some(rv)) => {
                if policy == ConflictPolicy::LocalWins && !REMOTE_ONLY_FIELDS.contains(&k.as_str()) { lv } else { rv }
            }
            (Some(lv), None) => lv,
            (None, Some(rv)) => rv,
            (None, None) => continue,
        };
        out.insert(k.clone(), v.clone());
    }
    from_field_map(&out).unwrap_or_else(|_| remote.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolodex_domain::EmailAddress;

    fn fields(given: &str, emails: &[&str], company: Option<&str>) -> ContactFields {
        let mut f = ContactFields {
            given_name: Some(given.to_owned()),
            company: company.map(str::to_owned),
            ..ContactFields::default()
        };
        for e in emails {
            f.emails.push(EmailAddress::parse(e).expect("email"));
        }
        f
    }

    /// A provider that keeps one email only.
    fn one_email(f: &ContactFields) -> ContactFields {
        let mut p = f.clone();
        p.emails.truncate(1);
        p
    }

    #[test]
    fn local_data_the_provider_cannot_hold_is_kept_and_never_pushed() {
        let local = fields("Ann", &["a@x.com", "b@x.com"], Some("Acme"));
        let remote = fields("Ann", &["a@x.com"], Some("Acme"));
        let (lw, rw) = (to_field_map(&one_email(&local)), to_field_map(&one_email(&remote)));
        let merged = rw.clone();
        let out = overlay(&local, &lw, &merged, &to_field_map(&remote), &rw);
        assert_eq!(from_field_map(&out).expect("fields"), local, "the second email stays");
        assert!(!writable_differs(&merged, &rw), "nothing to push");
    }

    #[test]
    fn a_remote_change_is_taken_whole() {
        let local = fields("Ann", &["a@x.com"], Some("Acme"));
        let remote = fields("Anne", &["a@x.com"], Some("Beta"));
        let (lw, rw) = (to_field_map(&local), to_field_map(&remote));
        let out = overlay(&local, &lw, &rw, &rw, &rw);
        assert_eq!(from_field_map(&out).expect("fields"), remote);
    }

    #[test]
    fn provider_only_data_flows_in() {
        let local = fields("Ann", &["a@x.com"], None);
        let mut remote = local.clone();
        remote.custom.insert("ghl.type".to_owned(), Value::String("lead".to_owned()));
        let lw = to_field_map(&local);
        // The provider cannot write `custom.ghl.type`: its projection of either side lacks it.
        let rw = lw.clone();
        let out = overlay(&local, &lw, &lw, &to_field_map(&remote), &rw);
        assert_eq!(from_field_map(&out).expect("fields"), remote);
    }

    #[test]
    fn first_link_fills_blanks_and_lets_the_remote_side_win() {
        let local = fields("Ann", &["a@x.com"], Some("Acme"));
        let mut remote = fields("Anne", &["a@x.com"], None);
        remote.job_title = Some("CTO".to_owned());
        let policy = rolodex_domain::conflict::ConflictPolicy::RemoteWins;
        let m = first_link(&local, &remote, policy);
        assert_eq!(m.given_name.as_deref(), Some("Anne"));
        assert_eq!(m.company.as_deref(), Some("Acme"), "a blank on the remote side keeps the local value");
        assert_eq!(m.job_title.as_deref(), Some("CTO"));
        let m = first_link(&local, &remote, rolodex_domain::conflict::ConflictPolicy::LocalWins);
        assert_eq!(m.given_name.as_deref(), Some("Ann"));
    }

    #[test]
    fn the_snapshot_after_a_push_keeps_provider_data() {
        let mut base = fields("Ann", &["a@x.com"], None);
        base.custom.insert("ghl.type".to_owned(), Value::String("lead".to_owned()));
        let base_w = to_field_map(&fields("Ann", &["a@x.com"], None));
        let local_w = to_field_map(&fields("Ann", &["a@x.com"], Some("Acme")));
        let s = snapshot_after_push(Some(&base), &base_w, &local_w);
        assert_eq!(s.company.as_deref(), Some("Acme"));
        assert_eq!(s.custom.get("ghl.type"), Some(&Value::String("lead".to_owned())));
    }
}
