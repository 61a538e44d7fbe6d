//! Merge diffs: the per-field difference between an existing contact and an incoming one
//! ([`diff`]), and the merged contact under a [`MergePolicy`] ([`merge`]). Emails, phones and tags
//! are sets: they merge as unions, and their diffs list elements. A merge never drops a value only
//! because the incoming side lacks it, and never clears a do-not-disturb flag.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contact::ContactFields;

/// How a field differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Same on both sides.
    Unchanged,
    /// Only the incoming side has it (for sets: an element only incoming has).
    Added,
    /// Both have it, with different values.
    Changed,
    /// Only the existing side has it (for sets: an element incoming lacks).
    Removed,
}

/// One field's difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// The field (`given_name`, `address.city`, `emails`, `custom.region`).
    pub field: String,
    /// How it differs.
    pub change: Change,
    /// The existing value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The incoming value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// The differences between two contacts, unchanged fields omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContactDiff {
    /// The changed fields, in field order.
    pub fields: Vec<FieldDiff>,
}

impl ContactDiff {
    /// True when applying the incoming contact (merge, incoming wins) would change something:
    /// an added or changed value. Removals alone never change a merged contact.
    #[must_use]
    pub fn has_changes(&self) -> bool {
        self.fields.iter().any(|f| matches!(f.change, Change::Added | Change::Changed))
    }
}

/// How to merge an incoming contact into an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MergePolicy {
    /// Only fill fields the existing contact lacks.
    #[default]
    FillBlanks,
    /// Incoming values replace existing ones (missing incoming values never erase).
    IncomingWins,
}

const SET_FIELDS: &[&str] = &["emails", "phones", "tags"];

/// The contact as a flat map of fields (`address.city`, `custom.x`). Empty values are absent.
#[must_use]
pub fn to_field_map(fields: &ContactFields) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let Ok(Value::Object(map)) = serde_json::to_value(fields) else {
        return out;
    };
    for (k, v) in map {
        match (k.as_str(), v) {
            ("address" | "custom", Value::Object(inner)) => {
                for (ik, iv) in inner {
                    if !iv.is_null() {
                        out.insert(format!("{k}.{ik}"), iv);
                    }
                }
            }
            (_, Value::Null) => {}
            (_, Value::Array(a)) if a.is_empty() => {}
            ("do_not_disturb", Value::Bool(false)) => {}
            (_, v) => {
                out.insert(k, v);
            }
        }
    }
    out
}

/// Rebuilds a contact from [`to_field_map`]'s form.
///
/// # Errors
/// A [`serde_json::Error`] naming the field when a value has the wrong shape.
pub fn from_field_map(map: &BTreeMap<String, Value>) -> Result<ContactFields, serde_json::Error> {
    let mut obj = serde_json::Map::new();
    let mut address = serde_json::Map::new();
    let mut custom = serde_json::Map::new();
    for (k, v) in map {
        if let Some(a) = k.strip_prefix("address.") {
            address.insert(a.to_owned(), v.clone());
        } else if let Some(c) = k.strip_prefix("custom.") {
            custom.insert(c.to_owned(), v.clone());
        } else {
            obj.insert(k.clone(), v.clone());
        }
    }
    obj.insert("address".into(), Value::Object(address));
    obj.insert("custom".into(), Value::Object(custom));
    for (key, empty) in [
        ("emails", Value::Array(vec![])),
        ("phones", Value::Array(vec![])),
        ("tags", Value::Array(vec![])),
        ("do_not_disturb", Value::Bool(false)),
    ] {
        obj.entry(key).or_insert(empty);
    }
    serde_json::from_value(Value::Object(obj))
}

fn set_key(field: &str, v: &Value) -> Value {
    // Phones are the same element when the number is the same, whatever the kind.
    if field == "phones" { v.get("number").cloned().unwrap_or_else(|| v.clone()) } else { v.clone() }
}

/// The per-field diff from `existing` to `incoming`.
#[must_use]
pub fn diff(existing: &ContactFields, incoming: &ContactFields) -> ContactDiff {
    let (a, b) = (to_field_map(existing), to_field_map(incoming));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = ContactDiff::default();
    for key in keys {
        let (before, after) = (a.get(key), b.get(key));
        if SET_FIELDS.contains(&key.as_str()) {
            let empty = vec![];
            let xs = before.and_then(Value::as_array).unwrap_or(&empty);
            let ys = after.and_then(Value::as_array).unwrap_or(&empty);
            let xkeys: Vec<Value> = xs.iter().map(|v| set_key(key, v)).collect();
            let ykeys: Vec<Value> = ys.iter().map(|v| set_key(key, v)).collect();
            for y in ys.iter().filter(|y| !xkeys.contains(&set_key(key, y))) {
                out.fields.push(FieldDiff {
                    field: key.clone(),
                    change: Change::Added,
                    before: None,
                    after: Some(y.clone()),
                });
            }
            for x in xs.iter().filter(|x| !ykeys.contains(&set_key(key, x))) {
                out.fields.push(FieldDiff {
                    field: key.clone(),
                    change: Change::Removed,
                    before: Some(x.clone()),
                    after: None,
                });
            }
            continue;
        }
        let change = match (before, after) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), Some(_)) => Change::Changed,
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (None, None) => continue,
        };
        out.fields.push(FieldDiff { field: key.clone(), change, before: before.cloned(), after: after.cloned() });
    }
    out
}

/// Merges `incoming` into `existing` under `policy`.
#[must_use]
pub fn merge(existing: &ContactFields, incoming: &ContactFields, policy: MergePolicy) -> ContactFields {
    let mut merged = existing.clone();
    for e in &incoming.emails {
        merged.add_email(e.clone());
    }
    for p in &incoming.phones {
        merged.add_phone(p.clone());
    }
    merged.tags.extend(incoming.tags.iter().cloned());
    merged.do_not_disturb = existing.do_not_disturb || incoming.do_not_disturb;
    let take = |mine: &mut Option<String>, theirs: &Option<String>| {
        if theirs.is_some() && (mine.is_none() || policy == MergePolicy::IncomingWins) {
            mine.clone_from(theirs);
        }
    };
    take(&mut merged.given_name, &incoming.given_name);
    take(&mut merged.family_name, &incoming.family_name);
    take(&mut merged.display_name, &incoming.display_name);
    take(&mut merged.company, &incoming.company);
    take(&mut merged.job_title, &incoming.job_title);
    take(&mut merged.pipeline, &incoming.pipeline);
    take(&mut merged.stage, &incoming.stage);
    take(&mut merged.source, &incoming.source);
    let (ma, ia) = (&mut merged.address, &incoming.address);
    take(&mut ma.street, &ia.street);
    take(&mut ma.street2, &ia.street2);
    take(&mut ma.city, &ia.city);
    take(&mut ma.state, &ia.state);
    take(&mut ma.postcode, &ia.postcode);
    take(&mut ma.country, &ia.country);
    if incoming.birthday.is_some() && (merged.birthday.is_none() || policy == MergePolicy::IncomingWins) {
        merged.birthday = incoming.birthday;
    }
    for (k, v) in &incoming.custom {
        if policy == MergePolicy::IncomingWins || !merged.custom.contains_key(k) {
            merged.custom.insert(k.clone(), v.clone());
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::EmailAddress;
    use expect_test::expect;

    fn fields(json: serde_json::Value) -> ContactFields {
        let mut map = BTreeMap::new();
        if let Value::Object(o) = json {
            map.extend(o);
        }
        from_field_map(&map).unwrap()
    }

    #[test]
    fn diff_lists_scalars_and_set_elements() {
        let existing = fields(
            serde_json::json!({"given_name": "Jane", "company": "Acme", "emails": ["jane@acme.io"], "tags": ["vip"], "address.city": "Sydney"}),
        );
        let incoming = fields(
            serde_json::json!({"given_name": "Janet", "job_title": "CEO", "emails": ["jane@acme.io", "jd@gmail.com"], "address.city": "Sydney"}),
        );
        let d = diff(&existing, &incoming);
        let rendered: Vec<String> =
            d.fields.iter().map(|f| format!("{} {:?} {:?} -> {:?}", f.field, f.change, f.before, f.after)).collect();
        expect![[r#"
            [
                "company Removed Some(String(\"Acme\")) -> None",
                "emails Added None -> Some(String(\"jd@gmail.com\"))",
                "given_name Changed Some(String(\"Jane\")) -> Some(String(\"Janet\"))",
                "job_title Added None -> Some(String(\"CEO\"))",
                "tags Removed Some(String(\"vip\")) -> None",
            ]
        "#]]
        .assert_debug_eq(&rendered);
        assert!(d.has_changes());
        assert!(!diff(&existing, &existing).has_changes());
    }

    #[test]
    fn merge_policies() {
        let existing = fields(
            serde_json::json!({"given_name": "Jane", "company": "Acme", "emails": ["jane@acme.io"], "do_not_disturb": true}),
        );
        let incoming =
            fields(serde_json::json!({"given_name": "Janet", "job_title": "CEO", "emails": ["jd@gmail.com"]}));
        let fill = merge(&existing, &incoming, MergePolicy::FillBlanks);
        assert_eq!(fill.given_name.as_deref(), Some("Jane"));
        assert_eq!(fill.job_title.as_deref(), Some("CEO"));
        assert_eq!(fill.company.as_deref(), Some("Acme"), "a missing incoming value never erases");
        assert_eq!(
            fill.emails,
            vec![EmailAddress::parse("jane@acme.io").unwrap(), EmailAddress::parse("jd@gmail.com").unwrap()]
        );
        assert!(fill.do_not_disturb, "an opt-out is never cleared by a merge");
        let wins = merge(&existing, &incoming, MergePolicy::IncomingWins);
        assert_eq!(wins.given_name.as_deref(), Some("Janet"));
        assert_eq!(wins.company.as_deref(), Some("Acme"));
    }
}
