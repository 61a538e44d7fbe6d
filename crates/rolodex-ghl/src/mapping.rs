//! GoHighLevel contact JSON <-> the domain, both ways.
//!
//! Reading goes through [`RawContact::into_incoming`], so bad emails, phones and birthdays become
//! warnings and `unparsed.*` custom values instead of being dropped. GoHighLevel-only facts land in
//! `fields.custom` under `ghl.*` keys (see [`keys`]); `fields.source` is always `ghl`. Writing
//! flattens the domain [`Address`](rolodex_domain::Address) into `address1` / `city` / `state` /
//! `postalCode` / `country` and sends the full tag list (GoHighLevel replaces tags on PUT and upsert).

use std::collections::BTreeMap;

use rolodex_domain::raw::RawContact;
use rolodex_domain::{ContactFields, IncomingContact, Region};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use rolodex_http::json::{FieldError, from_object, lenient_timestamp, nullable_vec};

/// `fields.source` of every contact read from GoHighLevel.
pub const SOURCE: &str = "ghl";

/// Keys of `fields.custom` that hold GoHighLevel-only values.
pub mod keys {
    /// The contact's `source` at GoHighLevel (lead source tracking; seed 004 `customProperties.source`).
    pub const LEAD_SOURCE: &str = "ghl.source";
    /// The GoHighLevel location (sub-account) the contact belongs to.
    pub const LOCATION_ID: &str = "ghl.locationId";
    /// `lead` or `customer`.
    pub const TYPE: &str = "ghl.type";
    /// The contact's website.
    pub const WEBSITE: &str = "ghl.website";
    /// The contact's IANA time zone.
    pub const TIMEZONE: &str = "ghl.timezone";
    /// The GoHighLevel user the contact is assigned to.
    pub const ASSIGNED_TO: &str = "ghl.assignedTo";
    /// Per-channel do-not-disturb settings, as GoHighLevel sent them (JSON).
    pub const DND_SETTINGS: &str = "ghl.dndSettings";
    /// Prefix of custom field values: `ghl.customField.<id or key>`.
    pub const CUSTOM_FIELD_PREFIX: &str = "ghl.customField.";
}

/// A contact as GoHighLevel sends it: `GET /contacts/{id}`, search results, the write responses
/// and the contact webhooks. Unknown fields are ignored; `null` is accepted everywhere.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GhlContact {
    pub id: String,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub phone_label: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    /// Contact details use `address1`; search results use `address` [H7]. Both are read.
    #[serde(default)]
    pub address1: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default, rename = "type")]
    pub contact_type: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub assigned_to: Option<String>,
    #[serde(default)]
    pub dnd: Option<bool>,
    #[serde(default)]
    pub dnd_settings: Option<Value>,
    #[serde(default, deserialize_with = "nullable_vec")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "nullable_vec")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(default, deserialize_with = "nullable_vec")]
    pub additional_emails: Vec<EmailItem>,
    #[serde(default, deserialize_with = "nullable_vec")]
    pub additional_phones: Vec<PhoneItem>,
    #[serde(default)]
    pub date_of_birth: Option<DateOfBirth>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub date_updated: Option<OffsetDateTime>,
}

/// A custom field value: `{id, value}` on read; `{id | key, field_value}` is accepted too.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CustomFieldValue {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    field_value: Option<Value>,
}

/// `additionalEmails` items: `{email}` objects in search results, plain strings in the docs.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum EmailItem {
    Text(String),
    Object {
        #[serde(default)]
        email: Option<String>,
    },
}

/// `additionalPhones` items: `{phone}` objects in search results, plain strings in the docs.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum PhoneItem {
    Text(String),
    Object {
        #[serde(default)]
        phone: Option<String>,
        #[serde(default, rename = "phoneLabel")]
        label: Option<String>,
    },
}

/// `dateOfBirth`: ISO date (or timestamp) text, or epoch milliseconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum DateOfBirth {
    Text(String),
    Millis(i64),
}

impl GhlContact {
    /// Converts into the domain; `region` is assumed for phone numbers without a country code.
    ///
    /// # Errors
    /// [`FieldError`] when a custom field has neither `id` nor `key` (paths relative to the contact).
    pub(crate) fn into_incoming(self, region: Region) -> Result<IncomingContact, FieldError> {
        let mut emails: Vec<String> = self.email.into_iter().collect();
        emails.extend(self.additional_emails.into_iter().filter_map(|e| match e {
            EmailItem::Text(s) => Some(s),
            EmailItem::Object { email } => email,
        }));
        let mut phones: Vec<(String, Option<String>)> =
            self.phone.into_iter().map(|p| (p, self.phone_label.clone())).collect();
        phones.extend(self.additional_phones.into_iter().filter_map(|p| match p {
            PhoneItem::Text(s) => Some((s, None)),
            PhoneItem::Object { phone, label } => phone.map(|p| (p, label)),
        }));
        let birthday = self.date_of_birth.and_then(|d| match d {
            DateOfBirth::Text(s) => Some(s),
            DateOfBirth::Millis(ms) => rolodex_http::json::millis_to_time(ms).ok().map(|t| t.date().to_string()),
        });
        let has_parts = self.first_name.as_deref().is_some_and(|s| !s.trim().is_empty())
            || self.last_name.as_deref().is_some_and(|s| !s.trim().is_empty());
        let name = self.name.or(if has_parts { None } else { self.contact_name });
        let raw = RawContact {
            id: Some(self.id),
            name,
            given_name: self.first_name,
            family_name: self.last_name,
            emails,
            phones,
            company: self.company_name,
            street: self.address1.or(self.address),
            city: self.city,
            state: self.state,
            postcode: self.postal_code,
            country: self.country,
            birthday,
            tags: self.tags,
            ..RawContact::default()
        };
        let mut incoming = raw.into_incoming(region);
        incoming.external_updated_at = self.date_updated;
        let fields = &mut incoming.fields;
        fields.source = Some(SOURCE.to_owned());
        fields.do_not_disturb = self.dnd.unwrap_or(false);
        let mut put = |key: &str, value: Option<String>| {
            if let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
                fields.custom.insert(key.to_owned(), Value::String(v));
            }
        };
        put(keys::LEAD_SOURCE, self.source);
        put(keys::LOCATION_ID, self.location_id);
        put(keys::TYPE, self.contact_type);
        put(keys::WEBSITE, self.website);
        put(keys::TIMEZONE, self.timezone);
        put(keys::ASSIGNED_TO, self.assigned_to);
        if let Some(settings) =
            self.dnd_settings.filter(|s| !s.is_null() && s.as_object().is_none_or(|o| !o.is_empty()))
        {
            fields.custom.insert(keys::DND_SETTINGS.to_owned(), settings);
        }
        for (i, cf) in self.custom_fields.into_iter().enumerate() {
            let Some(id) = cf.id.or(cf.key).filter(|k| !k.trim().is_empty()) else {
                return Err(FieldError::new(format!("customFields[{i}].id"), "a custom field needs an `id` or `key`"));
            };
            let value = cf.value.or(cf.field_value).unwrap_or(Value::Null);
            fields.custom.insert(format!("{}{id}", keys::CUSTOM_FIELD_PREFIX), value);
        }
        Ok(incoming)
    }
}

/// Reads one GoHighLevel contact object into the domain.
///
/// # Errors
/// [`FieldError`] naming the field (relative to the contact) that is missing or has the wrong type.
pub fn contact_from_json(value: Value, region: Region) -> Result<IncomingContact, FieldError> {
    from_object::<GhlContact>(value)?.into_incoming(region)
}

/// Which write the body is for: `POST /contacts/` and `/contacts/upsert` need the location id,
/// `PUT /contacts/{id}` must not carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind<'a> {
    /// Create or upsert in this location.
    Create {
        /// The location (sub-account) id.
        location_id: &'a str,
    },
    /// Update an existing contact.
    Update,
}

/// The JSON body that writes `fields` to GoHighLevel (create, upsert or update).
///
/// Name parts, primary email, first phone (E.164), company, the flattened address (street lines
/// joined with `, ` into `address1`), tags (the full list: GoHighLevel replaces them), birthday
/// (`dateOfBirth`, only with a year), website and time zone from `ghl.*` custom values, and custom
/// fields from `ghl.customField.<id>` values. On update, cleared scalar fields are sent as `null`.
/// `dnd` and `source` flow from GoHighLevel to us only (seed 004) and are never written.
#[must_use]
pub fn contact_body(fields: &ContactFields, kind: WriteKind<'_>) -> Value {
    let mut body = Map::new();
    let update = kind == WriteKind::Update;
    let mut put = |key: &str, value: Option<String>| match value.filter(|v| !v.trim().is_empty()) {
        Some(v) => {
            body.insert(key.to_owned(), Value::String(v));
        }
        None if update => {
            body.insert(key.to_owned(), Value::Null);
        }
        None => {}
    };
    let address = &fields.address;
    let street = match (address.street.as_deref(), address.street2.as_deref()) {
        (Some(a), Some(b)) => Some(format!("{a}, {b}")),
        (a, b) => a.or(b).map(str::to_owned),
    };
    put("firstName", fields.given_name.clone());
    put("lastName", fields.family_name.clone());
    put("name", fields.display_name.clone());
    put("email", fields.primary_email().map(ToString::to_string));
    put("phone", fields.phones.first().map(|p| p.number.e164().to_owned()));
    put("companyName", fields.company.clone());
    put("address1", street);
    put("city", address.city.clone());
    put("state", address.state.clone());
    put("postalCode", address.postcode.clone());
    put("country", address.country.clone());
    let text = |key: &str| fields.custom.get(key).and_then(Value::as_str).map(str::to_owned);
    if let Some(website) = text(keys::WEBSITE) {
        body.insert("website".into(), Value::String(website));
    }
    if let Some(tz) = text(keys::TIMEZONE) {
        body.insert("timezone".into(), Value::String(tz));
    }
    if let Some(b) = fields.birthday.filter(|b| b.year.is_some()) {
        body.insert("dateOfBirth".into(), Value::String(b.to_string()));
    }
    body.insert("tags".into(), fields.tags.iter().cloned().map(Value::String).collect());
    let custom_fields: Vec<Value> = fields
        .custom
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(keys::CUSTOM_FIELD_PREFIX).map(|id| json!({ "id": id, "field_value": v })))
        .collect();
    if !custom_fields.is_empty() {
        body.insert("customFields".into(), Value::Array(custom_fields));
    }
    if let WriteKind::Create { location_id } = kind {
        body.insert("locationId".into(), Value::String(location_id.to_owned()));
    }
    Value::Object(body)
}

/// The domain fields GoHighLevel can hold, as [`contact_body`] writes them and a read returns them:
/// what a round trip through GoHighLevel keeps. Used by tests and by echo detection.
#[must_use]
pub fn storable(fields: &ContactFields) -> BTreeMap<&'static str, Value> {
    let Value::Object(body) = contact_body(fields, WriteKind::Update) else { return BTreeMap::new() };
    let mut out = BTreeMap::new();
    for key in
        ["firstName", "lastName", "email", "phone", "companyName", "city", "state", "postalCode", "country", "tags"]
    {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            out.insert(key, v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn au() -> Region {
        Region::parse("AU").unwrap()
    }

    #[test]
    fn search_result_contact() {
        let v = json!({"id":"C0oEKxTxx1bz7036v71B","locationId":"AYg6rIXHN1fXdXjGcYvI","firstName":"Taylor","lastName":"Reynolds",
           "contactName":"taylor reynolds","email":null,"phone":"+178655689546","phoneLabel":null,"companyName":"MacLaren's Pub",
           "address":"1 Pub St","city":null,"state":null,"postalCode":null,"country":"US","website":null,"timezone":null,
           "type":"lead","source":null,"dnd":true,
           "dndSettings":{"Call":{"status":"inactive","code":"103"}},
           "tags":["follow-up"],"customFields":[{"id":"cf1","value":"XYZ"}],"additionalEmails":[{"email":"t@pub.example"}, "t2@pub.example"],
           "additionalPhones":[{"phone":"+16502530000"}],"followers":[],"assignedTo":null,"validEmail":null,
           "dateAdded":"2026-07-17T07:11:54.324Z","dateUpdated":"2026-07-17T07:11:57.939Z","dateOfBirth":null,
           "searchAfter":[1784272317939_i64,"C0oEKxTxx1bz7036v71B"]});
        let inc = contact_from_json(v, au()).unwrap();
        assert_eq!(inc.external_id.as_deref(), Some("C0oEKxTxx1bz7036v71B"));
        assert_eq!(inc.external_version, None);
        assert_eq!(inc.external_updated_at.map(rolodex_http::json::time_to_millis), Some(1_784_272_317_939));
        let f = &inc.fields;
        assert_eq!(f.given_name.as_deref(), Some("Taylor"));
        assert_eq!(f.display_name, None, "the lower-case contactName is not a display name");
        assert_eq!(f.emails.iter().map(ToString::to_string).collect::<Vec<_>>(), ["t@pub.example", "t2@pub.example"]);
        assert_eq!(f.phones.len(), 1, "one of the two phones is invalid: {:?}", inc.warnings);
        assert_eq!(f.phones[0].number.e164(), "+16502530000");
        assert_eq!(inc.warnings.len(), 1);
        assert_eq!(f.address.street.as_deref(), Some("1 Pub St"));
        assert_eq!(f.address.country.as_deref(), Some("US"));
        assert!(f.do_not_disturb);
        assert_eq!(f.source.as_deref(), Some("ghl"));
        assert_eq!(f.tags.iter().collect::<Vec<_>>(), ["follow-up"]);
        assert_eq!(f.custom[keys::LOCATION_ID], json!("AYg6rIXHN1fXdXjGcYvI"));
        assert_eq!(f.custom["ghl.customField.cf1"], json!("XYZ"));
        assert_eq!(f.custom[keys::TYPE], json!("lead"));
        assert!(f.custom.contains_key(keys::DND_SETTINGS));
        assert!(!f.custom.contains_key(keys::LEAD_SOURCE));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = contact_from_json(json!({"id":"x","dateUpdated":"soon"}), au()).unwrap_err();
        assert_eq!(err.field, "dateUpdated");
        let err = contact_from_json(json!({"id":"x","tags":["a", 3]}), au()).unwrap_err();
        assert_eq!(err.field, "tags[1]");
        let err = contact_from_json(json!({"firstName":"x"}), au()).unwrap_err();
        assert_eq!((err.field.as_str(), err.message.as_str()), ("id", "missing"));
        assert_eq!(contact_from_json(json!([{"id":"x"}]), au()).unwrap_err().field, "$");
        let err =
            contact_from_json(json!({"id":"x","customFields":[{"id":"a","value":1},{"value":2}]}), au()).unwrap_err();
        assert_eq!(err.field, "customFields[1].id");
    }

    #[test]
    fn write_bodies_flatten_and_round_trip() {
        let v = json!({"id":"c1","firstName":"Rosan","lastName":"Deo","email":"rosan@deos.com","phone":"+1 888-555-0100",
            "companyName":"DGS","address1":"3535 1st St N","city":"Dolomite","state":"AL","postalCode":"35061","country":"US",
            "website":"https://x.example","timezone":"America/Chihuahua","source":"public api","dnd":true,
            "tags":["b","a"],"dateOfBirth":"1990-09-25","customFields":[{"id":"cf","value":["x","y"]}]});
        let inc = contact_from_json(v, au()).unwrap();
        let create = contact_body(&inc.fields, WriteKind::Create { location_id: "loc1" });
        assert_eq!(
            create,
            json!({"firstName":"Rosan","lastName":"Deo","email":"rosan@deos.com","phone":"+18885550100","companyName":"DGS",
                "address1":"3535 1st St N","city":"Dolomite","state":"AL","postalCode":"35061","country":"US",
                "website":"https://x.example","timezone":"America/Chihuahua","dateOfBirth":"1990-09-25","tags":["a","b"],
                "customFields":[{"id":"cf","field_value":["x","y"]}],"locationId":"loc1"})
        );
        let mut fields = inc.fields.clone();
        fields.company = None;
        fields.address.street2 = Some("Unit 4".into());
        let update = contact_body(&fields, WriteKind::Update);
        assert_eq!(update["companyName"], Value::Null);
        assert_eq!(update["address1"], json!("3535 1st St N, Unit 4"));
        assert!(update.get("locationId").is_none());
        assert!(update.get("dnd").is_none() && update.get("source").is_none());
        // Read back what we wrote: the same storable fields.
        let mut echoed = create.clone();
        echoed["id"] = json!("c1");
        let back = contact_from_json(echoed, au()).unwrap();
        assert_eq!(storable(&back.fields), storable(&inc.fields));
    }
}
