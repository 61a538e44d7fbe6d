//! People API Person JSON <-> the domain, both ways.
//!
//! Reading goes through [`RawContact::into_incoming`], so bad emails, phones and birthdays become
//! warnings and `unparsed.*` custom values instead of being dropped. `external_id` is the
//! `resourceName`, `external_version` the Person `etag`, `external_updated_at` the latest
//! `metadata.sources[].updateTime`. Google-only values land in `fields.custom` under `google.*`
//! keys ([`keys`]). `tags` are the names of the user contact groups the person belongs to, looked
//! up in a [`GroupDirectory`]; system groups (`myContacts`, `starred`, ...) are not tags. Writing
//! builds a Person body for `createContact` / `updateContact` covering the fields in
//! [`UPDATE_PERSON_FIELDS`]; each is replaced whole on update, `memberships` included (always with
//! `contactGroups/myContacts`, so the contact stays in "Contacts").

use rolodex_domain::raw::RawContact;
use rolodex_domain::{ContactFields, IncomingContact, PhoneKind, Region, Warning};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use rolodex_http::json::{FieldError, from_object, nullable_vec, rfc3339_opt};

use crate::groups::{GroupDirectory, MY_CONTACTS};

/// `fields.source` of every contact read from Google.
pub const SOURCE: &str = "google";

/// The read mask (`personFields`) for listings and reads.
pub const PERSON_FIELDS: &str =
    "names,emailAddresses,phoneNumbers,organizations,addresses,birthdays,biographies,userDefined,memberships,metadata";

/// The fields a write replaces (`updatePersonFields`). With `memberships` in the mask People
/// answers 400 unless a membership is given: [`person_body`] always sends `myContacts`.
pub const UPDATE_PERSON_FIELDS: &str =
    "names,emailAddresses,phoneNumbers,organizations,addresses,birthdays,biographies,userDefined,memberships";

/// Keys of `fields.custom` that hold Google-only values.
pub mod keys {
    /// Prefix of user-defined key/value pairs: `google.userDefined.<key>`.
    pub const USER_DEFINED_PREFIX: &str = "google.userDefined.";
    /// The system contact groups (resource names, e.g. `contactGroups/starred`) the person
    /// belongs to, as a JSON array. User groups are `tags`.
    pub const CONTACT_GROUPS: &str = "google.contactGroups";
    /// The person's biography / notes.
    pub const BIOGRAPHY: &str = "google.biography";
    /// The organisation's department.
    pub const DEPARTMENT: &str = "google.department";
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Person {
    pub resource_name: String,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub metadata: Option<PersonMetadata>,
    #[serde(default, deserialize_with = "nullable_vec")]
    names: Vec<Name>,
    #[serde(default, deserialize_with = "nullable_vec")]
    email_addresses: Vec<ValueField>,
    #[serde(default, deserialize_with = "nullable_vec")]
    phone_numbers: Vec<PhoneField>,
    #[serde(default, deserialize_with = "nullable_vec")]
    organizations: Vec<Organization>,
    #[serde(default, deserialize_with = "nullable_vec")]
    addresses: Vec<AddressField>,
    #[serde(default, deserialize_with = "nullable_vec")]
    birthdays: Vec<BirthdayField>,
    #[serde(default, deserialize_with = "nullable_vec")]
    biographies: Vec<ValueField>,
    #[serde(default, deserialize_with = "nullable_vec")]
    user_defined: Vec<UserDefined>,
    #[serde(default, deserialize_with = "nullable_vec")]
    memberships: Vec<Membership>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PersonMetadata {
    #[serde(default, deserialize_with = "nullable_vec")]
    pub sources: Vec<SourceMeta>,
    #[serde(default)]
    pub deleted: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SourceMeta {
    #[serde(default, rename = "type")]
    pub source_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default, deserialize_with = "rfc3339_opt")]
    pub update_time: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct FieldMeta {
    #[serde(default)]
    primary: Option<bool>,
}

trait Primary {
    fn primary(&self) -> bool;
}

macro_rules! primary {
    ($($t:ty),*) => {$(impl Primary for $t {
        fn primary(&self) -> bool {
            self.metadata.as_ref().and_then(|m| m.primary).unwrap_or(false)
        }
    })*};
}
primary!(Name, ValueField, PhoneField, Organization, AddressField, BirthdayField);

/// Primary entries first, otherwise in the order given.
fn primary_first<T: Primary>(mut items: Vec<T>) -> Vec<T> {
    items.sort_by_key(|i| !i.primary());
    items
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Name {
    #[serde(default)]
    metadata: Option<FieldMeta>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    unstructured_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ValueField {
    #[serde(default)]
    metadata: Option<FieldMeta>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneField {
    #[serde(default)]
    metadata: Option<FieldMeta>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    canonical_form: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Organization {
    #[serde(default)]
    metadata: Option<FieldMeta>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    department: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressField {
    #[serde(default)]
    metadata: Option<FieldMeta>,
    #[serde(default)]
    street_address: Option<String>,
    #[serde(default)]
    extended_address: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct BirthdayField {
    #[serde(default)]
    metadata: Option<FieldMeta>,
    #[serde(default)]
    date: Option<DateValue>,
    #[serde(default)]
    text: Option<String>,
}

/// `google.type.Date`: 0 (or absent) means "not set" for each part.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct DateValue {
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    month: Option<u8>,
    #[serde(default)]
    day: Option<u8>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct UserDefined {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Membership {
    #[serde(default)]
    contact_group_membership: Option<GroupMembership>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupMembership {
    #[serde(default)]
    contact_group_resource_name: Option<String>,
    #[serde(default)]
    contact_group_id: Option<String>,
}

/// What one Person in a listing means.
#[derive(Debug, Clone, PartialEq)]
pub enum PersonChange {
    /// A live contact.
    Upsert(Box<IncomingContact>),
    /// `metadata.deleted: true` (sync-token listings only): the resource name that is gone.
    Deleted(String),
}

impl Person {
    /// True when the listing says the person was deleted.
    pub(crate) fn is_deleted(&self) -> bool {
        self.metadata.as_ref().and_then(|m| m.deleted).unwrap_or(false)
    }

    /// The `CONTACT` source entry, which `updateContact` must echo with its etag.
    pub(crate) fn contact_source(&self) -> Option<&SourceMeta> {
        let sources = &self.metadata.as_ref()?.sources;
        sources.iter().find(|s| s.source_type.as_deref() == Some("CONTACT")).or_else(|| sources.first())
    }

    /// The resource names of the contact groups the person belongs to, in order.
    pub(crate) fn memberships(&self) -> impl Iterator<Item = String> + '_ {
        self.memberships.iter().filter_map(|m| {
            let g = m.contact_group_membership.as_ref()?;
            g.contact_group_resource_name
                .clone()
                .filter(|r| !r.trim().is_empty())
                .or_else(|| g.contact_group_id.as_ref().map(|id| format!("contactGroups/{id}")))
        })
    }

    pub(crate) fn into_change(self, region: Region, groups: &GroupDirectory) -> Result<PersonChange, FieldError> {
        if self.resource_name.trim().is_empty() {
            return Err(FieldError::new("resourceName", "empty"));
        }
        if self.is_deleted() {
            return Ok(PersonChange::Deleted(self.resource_name));
        }
        Ok(PersonChange::Upsert(Box::new(self.into_incoming(region, groups))))
    }

    pub(crate) fn into_incoming(self, region: Region, groups: &GroupDirectory) -> IncomingContact {
        let memberships: Vec<String> = self.memberships().collect();
        let mut tags = Vec::new();
        let mut system = Vec::new();
        let mut unknown = Vec::new();
        for group in memberships {
            if groups.is_system(&group) {
                system.push(Value::String(group));
            } else if let Some(tag) = groups.tag_of(&group) {
                tags.push(tag.to_owned());
            } else if !groups.knows(&group) {
                unknown.push(group);
            }
        }
        let updated_at = self.metadata.as_ref().and_then(|m| m.sources.iter().filter_map(|s| s.update_time).max());
        let name = primary_first(self.names).into_iter().next().unwrap_or_default();
        let org = primary_first(self.organizations).into_iter().next().unwrap_or_default();
        let address = primary_first(self.addresses).into_iter().next().unwrap_or_default();
        let birthday = primary_first(self.birthdays).into_iter().find_map(|b| {
            let from_date = b.date.and_then(|d| {
                let (month, day) = (d.month.filter(|m| *m > 0)?, d.day.filter(|d| *d > 0)?);
                Some(match d.year.filter(|y| *y > 0) {
                    Some(y) => format!("{y:04}-{month:02}-{day:02}"),
                    None => format!("--{month:02}-{day:02}"),
                })
            });
            from_date.or(b.text)
        });
        let phones = primary_first(self.phone_numbers)
            .into_iter()
            .filter_map(|p| p.canonical_form.filter(|c| !c.trim().is_empty()).or(p.value).map(|v| (v, p.kind)))
            .collect();
        let raw = RawContact {
            id: Some(self.resource_name),
            name: name.display_name.or(name.unstructured_name),
            given_name: name.given_name,
            family_name: name.family_name,
            emails: primary_first(self.email_addresses).into_iter().filter_map(|e| e.value).collect(),
            phones,
            company: org.name,
            job_title: org.title,
            street: address.street_address,
            street2: address.extended_address,
            city: address.city,
            state: address.region,
            postcode: address.postal_code,
            country: address.country.filter(|c| !c.trim().is_empty()).or(address.country_code),
            birthday,
            tags,
            custom: self
                .user_defined
                .into_iter()
                .filter_map(|u| Some((format!("{}{}", keys::USER_DEFINED_PREFIX, u.key?), u.value.unwrap_or_default())))
                .chain(org.department.map(|d| (keys::DEPARTMENT.to_owned(), d)))
                .chain(
                    primary_first(self.biographies)
                        .into_iter()
                        .find_map(|b| b.value)
                        .map(|b| (keys::BIOGRAPHY.to_owned(), b)),
                )
                .collect(),
        };
        let mut incoming = raw.into_incoming(region);
        incoming.external_version = self.etag.filter(|e| !e.is_empty());
        incoming.external_updated_at = updated_at;
        incoming.fields.source = Some(SOURCE.to_owned());
        if !system.is_empty() {
            incoming.fields.custom.insert(keys::CONTACT_GROUPS.to_owned(), Value::Array(system));
        }
        incoming.warnings.extend(unknown.into_iter().map(|g| Warning {
            field: "tags".to_owned(),
            message: format!("contact group `{g}` is not among the account's contact groups; not read as a tag"),
        }));
        incoming
    }
}

/// Reads one Person into the domain: a contact, or a deletion when `metadata.deleted` is true.
/// `groups` names the user contact groups, which become `tags`.
///
/// # Errors
/// [`FieldError`] naming the field (relative to the Person) that is missing or has the wrong type.
pub fn person_from_json(value: Value, region: Region, groups: &GroupDirectory) -> Result<PersonChange, FieldError> {
    from_object::<Person>(value)?.into_change(region, groups)
}

/// The `memberships` of a write: `contactGroups/myContacts` first, then `groups` (resource names,
/// repeats dropped).
#[must_use]
pub fn memberships_body(groups: &[String]) -> Value {
    let mut seen = std::collections::BTreeSet::new();
    std::iter::once(MY_CONTACTS)
        .chain(groups.iter().map(String::as_str))
        .filter(|g| seen.insert(*g))
        .map(|g| json!({ "contactGroupMembership": { "contactGroupResourceName": g } }))
        .collect::<Vec<_>>()
        .into()
}

fn phone_type(kind: PhoneKind) -> &'static str {
    match kind {
        PhoneKind::Mobile => "mobile",
        PhoneKind::Work => "work",
        PhoneKind::Home => "home",
        PhoneKind::Other => "other",
    }
}

/// The Person body that writes `fields` (the fields in [`UPDATE_PERSON_FIELDS`]). Every listed
/// field is present, empty lists included, because `updateContact` replaces each whole: an empty
/// list clears it. `names` and `birthdays` carry at most one entry (singletons for contacts).
/// `groups` are the resource names of the contact groups the person is to belong to (the groups
/// of `fields.tags`, and any system groups to keep); `myContacts` is always added.
#[must_use]
pub fn person_body(fields: &ContactFields, groups: &[String]) -> Value {
    let mut body = Map::new();
    body.insert("memberships".into(), memberships_body(groups));
    let mut name = Map::new();
    if let Some(g) = &fields.given_name {
        name.insert("givenName".into(), g.clone().into());
    }
    if let Some(f) = &fields.family_name {
        name.insert("familyName".into(), f.clone().into());
    }
    if name.is_empty()
        && let Some(d) = &fields.display_name
    {
        name.insert("unstructuredName".into(), d.clone().into());
    }
    body.insert("names".into(), if name.is_empty() { json!([]) } else { json!([name]) });
    body.insert(
        "emailAddresses".into(),
        fields.emails.iter().map(|e| json!({ "value": e.to_string() })).collect::<Vec<_>>().into(),
    );
    body.insert(
        "phoneNumbers".into(),
        fields
            .phones
            .iter()
            .map(|p| json!({ "value": p.number.to_string(), "type": phone_type(p.kind) }))
            .collect::<Vec<_>>()
            .into(),
    );
    let department = fields.custom.get(keys::DEPARTMENT).and_then(Value::as_str);
    let orgs = if fields.company.is_some() || fields.job_title.is_some() || department.is_some() {
        let mut org = Map::new();
        if let Some(c) = &fields.company {
            org.insert("name".into(), c.clone().into());
        }
        if let Some(t) = &fields.job_title {
            org.insert("title".into(), t.clone().into());
        }
        if let Some(d) = department {
            org.insert("department".into(), d.into());
        }
        json!([org])
    } else {
        json!([])
    };
    body.insert("organizations".into(), orgs);
    let a = &fields.address;
    let addresses = if a.is_empty() {
        json!([])
    } else {
        let mut addr = Map::new();
        for (key, value) in [
            ("streetAddress", &a.street),
            ("extendedAddress", &a.street2),
            ("city", &a.city),
            ("region", &a.state),
            ("postalCode", &a.postcode),
            ("country", &a.country),
        ] {
            if let Some(v) = value {
                addr.insert(key.into(), v.clone().into());
            }
        }
        json!([addr])
    };
    body.insert("addresses".into(), addresses);
    let birthdays = match fields.birthday {
        Some(b) => {
            let mut date = json!({ "month": b.month, "day": b.day });
            if let Some(y) = b.year {
                date["year"] = y.into();
            }
            json!([{ "date": date }])
        }
        None => json!([]),
    };
    body.insert("birthdays".into(), birthdays);
    let bio = fields.custom.get(keys::BIOGRAPHY).and_then(Value::as_str);
    body.insert(
        "biographies".into(),
        bio.map_or_else(|| json!([]), |b| json!([{ "value": b, "contentType": "TEXT_PLAIN" }])),
    );
    body.insert(
        "userDefined".into(),
        fields
            .custom
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix(keys::USER_DEFINED_PREFIX)?;
                let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                Some(json!({ "key": key, "value": value }))
            })
            .collect::<Vec<_>>()
            .into(),
    );
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb() -> Region {
        Region::parse("GB").unwrap()
    }

    fn groups() -> GroupDirectory {
        GroupDirectory::new(
            [
                ("contactGroups/myContacts", "myContacts", "SYSTEM_CONTACT_GROUP"),
                ("contactGroups/3a1f", "VIP", "USER_CONTACT_GROUP"),
            ]
            .map(|(r, n, t)| {
                rolodex_http::json::from_value(json!({"resourceName": r, "name": n, "groupType": t})).unwrap()
            }),
        )
    }

    fn ada() -> Value {
        json!({
          "resourceName": "people/c3385948273645",
          "etag": "%EgcBAgkLLjc9GgQBAgUHIgxOeWFCbUZnUmVKST0=",
          "metadata": {
            "sources": [{"type":"CONTACT","id":"2efc2f7a8b12c3d4","etag":"#rTG3dnxXvWQ=","updateTime":"2025-01-10T12:00:00.123456Z"}],
            "objectType":"PERSON"
          },
          "names": [{"metadata":{"primary":true,"source":{"type":"CONTACT","id":"2efc2f7a8b12c3d4"}},
                     "displayName":"Ada Lovelace","familyName":"Lovelace","givenName":"Ada",
                     "displayNameLastFirst":"Lovelace, Ada","unstructuredName":"Ada Lovelace"}],
          "emailAddresses": [{"value":"ada@other.example"},
                             {"metadata":{"primary":true},"value":"ada@example.com","type":"work","formattedType":"Work"}],
          "phoneNumbers": [{"value":"+44 20 7946 0000","canonicalForm":"+442079460000","type":"mobile","formattedType":"Mobile"},
                           {"value":"020 7946 0001","type":"work"}, {"value":"nope"}],
          "organizations": [{"name":"Analytical Engines Ltd","title":"Engineer","department":"R&D"}],
          "addresses": [{"streetAddress":"12 St James's Square","city":"London","postalCode":"SW1Y 4JH","countryCode":"GB"}],
          "birthdays": [{"date":{"month":12,"day":10}}],
          "userDefined": [{"key":"tier","value":"gold"}],
          "memberships": [{"contactGroupMembership":{"contactGroupId":"myContacts","contactGroupResourceName":"contactGroups/myContacts"}},
                          {"contactGroupMembership":{"contactGroupId":"3a1f"}},
                          {"contactGroupMembership":{"contactGroupResourceName":"contactGroups/gone"}}]
        })
    }

    #[test]
    fn reads_a_person() {
        let PersonChange::Upsert(inc) = person_from_json(ada(), gb(), &groups()).unwrap() else {
            panic!("not a contact")
        };
        assert_eq!(inc.external_id.as_deref(), Some("people/c3385948273645"));
        assert_eq!(inc.external_version.as_deref(), Some("%EgcBAgkLLjc9GgQBAgUHIgxOeWFCbUZnUmVKST0="));
        assert_eq!(inc.external_updated_at.map(|t| t.unix_timestamp()), Some(1_736_510_400));
        let f = &inc.fields;
        assert_eq!((f.given_name.as_deref(), f.family_name.as_deref()), (Some("Ada"), Some("Lovelace")));
        assert_eq!(f.display_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(f.primary_email().map(ToString::to_string).as_deref(), Some("ada@example.com"), "primary first");
        assert_eq!(
            f.phones.iter().map(|p| (p.number.e164(), p.kind)).collect::<Vec<_>>(),
            [("+442079460000", PhoneKind::Mobile), ("+442079460001", PhoneKind::Work)]
        );
        assert_eq!(
            inc.warnings.iter().map(|w| w.field.as_str()).collect::<Vec<_>>(),
            ["phone", "tags"],
            "{:?}",
            inc.warnings
        );
        assert_eq!(f.tags, std::collections::BTreeSet::from(["VIP".to_owned()]), "user groups are tags");
        assert_eq!(f.company.as_deref(), Some("Analytical Engines Ltd"));
        assert_eq!(f.job_title.as_deref(), Some("Engineer"));
        assert_eq!(f.address.country.as_deref(), Some("GB"));
        assert_eq!(f.birthday.map(|b| b.to_string()).as_deref(), Some("--12-10"));
        assert_eq!(f.source.as_deref(), Some("google"));
        assert_eq!(f.custom["google.userDefined.tier"], json!("gold"));
        assert_eq!(f.custom[keys::DEPARTMENT], json!("R&D"));
        assert_eq!(f.custom[keys::CONTACT_GROUPS], json!(["contactGroups/myContacts"]));
    }

    #[test]
    fn deleted_persons_are_deletions() {
        let v = json!({"resourceName":"people/c777","etag":"%Eg","metadata":{"deleted":true,"sources":[{"type":"CONTACT","id":"1"}]}});
        assert_eq!(person_from_json(v, gb(), &groups()).unwrap(), PersonChange::Deleted("people/c777".into()));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = person_from_json(
            json!({"resourceName":"people/1","metadata":{"sources":[{"updateTime":"then"}]}}),
            gb(),
            &groups(),
        )
        .unwrap_err();
        assert_eq!(err.field, "metadata.sources[0].updateTime");
        let err = person_from_json(json!({"resourceName":"people/1","names":[{"givenName":7}]}), gb(), &groups())
            .unwrap_err();
        assert_eq!(err.field, "names[0].givenName");
        assert_eq!(person_from_json(json!({"etag":"x"}), gb(), &groups()).unwrap_err().field, "resourceName");
        assert_eq!(person_from_json(json!(["people/1"]), gb(), &groups()).unwrap_err().field, "$");
        assert_eq!(person_from_json(json!({"resourceName":" "}), gb(), &groups()).unwrap_err().field, "resourceName");
    }

    #[test]
    fn write_body_round_trips() {
        let PersonChange::Upsert(inc) = person_from_json(ada(), gb(), &groups()).unwrap() else {
            panic!("not a contact")
        };
        let body = person_body(&inc.fields, &["contactGroups/3a1f".to_owned(), MY_CONTACTS.to_owned()]);
        assert_eq!(
            body["memberships"],
            json!([{"contactGroupMembership":{"contactGroupResourceName":"contactGroups/myContacts"}},
                   {"contactGroupMembership":{"contactGroupResourceName":"contactGroups/3a1f"}}])
        );
        assert_eq!(body["names"], json!([{"givenName":"Ada","familyName":"Lovelace"}]));
        assert_eq!(body["phoneNumbers"][0], json!({"value":"+442079460000","type":"mobile"}));
        assert_eq!(body["birthdays"], json!([{"date":{"month":12,"day":10}}]));
        assert_eq!(body["userDefined"], json!([{"key":"tier","value":"gold"}]));
        assert_eq!(
            body["organizations"],
            json!([{"name":"Analytical Engines Ltd","title":"Engineer","department":"R&D"}])
        );
        for field in UPDATE_PERSON_FIELDS.split(',') {
            assert!(body.get(field).is_some(), "{field} missing from the body");
        }
        let mut echoed = body.clone();
        echoed["resourceName"] = json!("people/c1");
        let PersonChange::Upsert(back) = person_from_json(echoed, gb(), &groups()).unwrap() else {
            panic!("not a contact")
        };
        let mut expected = inc.fields.clone();
        expected.display_name = None; // People derives displayName; a plain echo has none
        expected.custom.remove("unparsed.phone");
        assert_eq!(back.fields, expected);
        let cleared =
            person_body(&ContactFields { display_name: Some("Only Display".into()), ..ContactFields::default() }, &[]);
        assert_eq!(cleared["names"], json!([{"unstructuredName":"Only Display"}]));
        assert_eq!(cleared["emailAddresses"], json!([]));
        assert_eq!(
            cleared["memberships"],
            json!([{"contactGroupMembership":{"contactGroupResourceName":"contactGroups/myContacts"}}]),
            "a membership is always given, so the contact stays in Contacts"
        );
    }
}
