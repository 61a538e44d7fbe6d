//! Three-way conflict resolution for two-way sync. Given the snapshot of what both sides agreed on
//! at the last sync (`base`), the local contact and the remote one, each field is resolved on its
//! own: changed on one side only -> take that side; changed on both to the same value -> take it;
//! changed on both differently -> the [`ConflictPolicy`] decides (or, with `Ask`, the local value is
//! kept and a [`FieldConflict`] goes to review). Deletes: a remote delete soft-deletes locally; a
//! local delete never deletes remotely. An event older than what we hold never overwrites it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::contact::ContactFields;
use crate::diff::{from_field_map, to_field_map};

/// Who wins when both sides changed a field differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// The provider is the system of record (GoHighLevel's default).
    #[default]
    RemoteWins,
    /// Rolodex is the system of record.
    LocalWins,
    /// The side changed last wins (ties go to the remote side).
    NewestWins,
    /// Keep the local value and report a conflict for a person.
    Ask,
}

/// A field both sides changed differently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    /// The field.
    pub field: String,
    /// Its value at the last sync.
    pub base: Option<Value>,
    /// The local value.
    pub local: Option<Value>,
    /// The remote value.
    pub remote: Option<Value>,
}

/// The outcome of a three-way merge.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The resolved contact.
    pub merged: ContactFields,
    /// Fields where the merged contact differs from the local one (to write locally).
    pub local_updates: Vec<String>,
    /// Fields where the merged contact differs from the remote one (to push).
    pub remote_updates: Vec<String>,
    /// Conflicts left for review (`Ask` only).
    pub conflicts: Vec<FieldConflict>,
}

/// Fields that flow only from the provider to us (do-not-disturb, source): a local change to them
/// is never pushed and never wins.
pub const REMOTE_ONLY_FIELDS: &[&str] = &["do_not_disturb", "source"];

/// Resolves `local` against `remote` from `base` (None on the first sync: every difference is then
/// a both-sides change). `local_at` and `remote_at` are the sides' updated-at times for `NewestWins`.
#[must_use]
pub fn resolve(
    base: Option<&ContactFields>,
    local: &ContactFields,
    remote: &ContactFields,
    policy: ConflictPolicy,
    local_at: Option<OffsetDateTime>,
    remote_at: Option<OffsetDateTime>,
) -> Resolution {
    let base_map = base.map(to_field_map).unwrap_or_default();
    let (l, r) = (to_field_map(local), to_field_map(remote));
    let mut keys: Vec<&String> = base_map.keys().chain(l.keys()).chain(r.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut merged: BTreeMap<String, Value> = BTreeMap::new();
    let mut conflicts = vec![];
    for key in keys {
        let (b, lv, rv) = (base_map.get(key), l.get(key), r.get(key));
        let local_changed = base.is_none() || lv != b;
        let remote_changed = base.is_none() || rv != b;
        let chosen = if REMOTE_ONLY_FIELDS.contains(&key.as_str()) || lv == rv || !local_changed {
            rv
        } else if !remote_changed {
            lv
        } else {
            match policy {
                ConflictPolicy::RemoteWins => rv,
                ConflictPolicy::LocalWins => lv,
                ConflictPolicy::NewestWins => {
                    if local_at > remote_at {
                        lv
                    } else {
                        rv
                    }
                }
                ConflictPolicy::Ask => {
                    conflicts.push(FieldConflict {
                        field: key.clone(),
                        base: b.cloned(),
                        local: lv.cloned(),
                        remote: rv.cloned(),
                    });
                    lv
                }
            }
        };
        if let Some(v) = chosen {
            merged.insert(key.clone(), v.clone());
        }
    }
    // The merged map only holds values that were valid on one side, so this cannot fail; if it
    // somehow did, keep the local contact rather than lose data.
    let merged_fields = from_field_map(&merged).unwrap_or_else(|_| local.clone());
    let m = to_field_map(&merged_fields);
    let differs = |side: &BTreeMap<String, Value>| -> Vec<String> {
        let mut ks: Vec<&String> = m.keys().chain(side.keys()).collect();
        ks.sort();
        ks.dedup();
        ks.into_iter().filter(|k| m.get(*k) != side.get(*k)).cloned().collect()
    };
    let local_updates = differs(&l);
    let remote_updates = differs(&r).into_iter().filter(|k| !REMOTE_ONLY_FIELDS.contains(&k.as_str())).collect();
    Resolution { merged: merged_fields, local_updates, remote_updates, conflicts }
}

/// True when a remote event stamped `event_at` is older than the remote state we already hold
/// (`held_at`), and so must not overwrite it.
#[must_use]
pub fn is_stale(event_at: Option<OffsetDateTime>, held_at: Option<OffsetDateTime>) -> bool {
    matches!((event_at, held_at), (Some(e), Some(h)) if e < h)
}

/// What a delete on one side does to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteOutcome {
    /// Soft-delete the local contact (status `deleted`), keeping it for audit and undo.
    SoftDeleteLocal,
    /// Leave the remote contact alone; only unlink it.
    KeepRemote,
}

/// A remote delete soft-deletes locally.
#[must_use]
pub fn on_remote_delete() -> DeleteOutcome {
    DeleteOutcome::SoftDeleteLocal
}

/// A local delete never deletes remotely.
#[must_use]
pub fn on_local_delete() -> DeleteOutcome {
    DeleteOutcome::KeepRemote
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn f(given: &str, company: &str, title: &str) -> ContactFields {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        ContactFields {
            given_name: opt(given),
            company: opt(company),
            job_title: opt(title),
            ..ContactFields::default()
        }
    }

    #[test]
    fn one_side_changed_takes_that_side() {
        let base = f("Jane", "Acme", "CTO");
        let local = f("Jane", "Acme", "CEO"); // local changed the title
        let remote = f("Jane", "Acme Corp", "CTO"); // remote changed the company
        for policy in
            [ConflictPolicy::RemoteWins, ConflictPolicy::LocalWins, ConflictPolicy::NewestWins, ConflictPolicy::Ask]
        {
            let r = resolve(Some(&base), &local, &remote, policy, None, None);
            assert_eq!(r.merged, f("Jane", "Acme Corp", "CEO"), "{policy:?}");
            assert_eq!(r.local_updates, vec!["company"]);
            assert_eq!(r.remote_updates, vec!["job_title"]);
            assert!(r.conflicts.is_empty());
        }
    }

    #[test]
    fn both_changed_follows_the_policy() {
        let base = f("Jane", "Acme", "");
        let local = f("Jane", "Local Co", "");
        let remote = f("Jane", "Remote Co", "");
        let at = |p, l, r| resolve(Some(&base), &local, &remote, p, l, r).merged.company;
        assert_eq!(at(ConflictPolicy::RemoteWins, None, None).as_deref(), Some("Remote Co"));
        assert_eq!(at(ConflictPolicy::LocalWins, None, None).as_deref(), Some("Local Co"));
        let (early, late) = (Some(datetime!(2026-01-01 0:00 UTC)), Some(datetime!(2026-02-01 0:00 UTC)));
        assert_eq!(at(ConflictPolicy::NewestWins, late, early).as_deref(), Some("Local Co"));
        assert_eq!(at(ConflictPolicy::NewestWins, early, late).as_deref(), Some("Remote Co"));
        let ask = resolve(Some(&base), &local, &remote, ConflictPolicy::Ask, None, None);
        assert_eq!(ask.merged.company.as_deref(), Some("Local Co"));
        assert_eq!(ask.conflicts.len(), 1);
        assert_eq!(ask.conflicts[0].field, "company");
    }

    #[test]
    fn remote_only_fields_and_staleness() {
        let base = ContactFields::default();
        let local = ContactFields { do_not_disturb: false, source: Some("api".into()), ..ContactFields::default() };
        let remote = ContactFields { do_not_disturb: true, ..ContactFields::default() };
        let r = resolve(Some(&base), &local, &remote, ConflictPolicy::LocalWins, None, None);
        assert!(r.merged.do_not_disturb);
        assert_eq!(r.merged.source, None, "source flows only from the provider");
        assert!(r.remote_updates.is_empty());
        assert!(is_stale(Some(datetime!(2026-01-01 0:00 UTC)), Some(datetime!(2026-01-02 0:00 UTC))));
        assert!(!is_stale(Some(datetime!(2026-01-02 0:00 UTC)), Some(datetime!(2026-01-02 0:00 UTC))));
        assert!(!is_stale(None, Some(datetime!(2026-01-02 0:00 UTC))));
        assert_eq!(on_remote_delete(), DeleteOutcome::SoftDeleteLocal);
        assert_eq!(on_local_delete(), DeleteOutcome::KeepRemote);
    }
}
