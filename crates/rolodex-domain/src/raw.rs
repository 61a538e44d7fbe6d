//! [`RawContact`]: a contact as strings, the way a CSV row, a vCard or a provider payload delivers
//! it, and its conversion into an [`IncomingContact`]. Values that do not parse are never dropped:
//! they are kept in `custom` under `unparsed.<field>` and reported as a [`Warning`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::contact::{Address, Birthday, ContactFields, ContactPhone, IncomingContact, PhoneKind, Warning};
use crate::email::EmailAddress;
use crate::phone::{PhoneE164, Region};

/// A contact as strings. Every field is optional; empty strings count as missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawContact {
    /// The source's id for the record.
    pub id: Option<String>,
    /// A full display name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Email addresses, primary first.
    pub emails: Vec<String>,
    /// Phone numbers with an optional label (`mobile`, `work`, ...).
    pub phones: Vec<(String, Option<String>)>,
    /// Company.
    pub company: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Street line.
    pub street: Option<String>,
    /// Second street line.
    pub street2: Option<String>,
    /// City / suburb.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Postal code.
    pub postcode: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Birthday in one of the forms [`Birthday::parse`] reads.
    pub birthday: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Anything else, kept as custom properties.
    pub custom: BTreeMap<String, String>,
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl RawContact {
    /// Parses every field; bad values become warnings and `unparsed.*` custom properties.
    #[must_use]
    pub fn into_incoming(self, region: Region) -> IncomingContact {
        let mut warnings = Vec::new();
        let mut custom: BTreeMap<String, serde_json::Value> = self
            .custom
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let mut keep_unparsed = |field: &str, value: &str, message: String, warnings: &mut Vec<Warning>| {
            warnings.push(Warning::new(field, message));
            let key = format!("unparsed.{field}");
            match custom.get_mut(&key) {
                Some(serde_json::Value::Array(values)) => values.push(value.into()),
                _ => {
                    custom.insert(key, serde_json::Value::Array(vec![value.into()]));
                }
            }
        };

        let mut fields = ContactFields {
            given_name: clean(self.given_name),
            family_name: clean(self.family_name),
            display_name: clean(self.name),
            company: clean(self.company),
            job_title: clean(self.job_title),
            address: Address {
                street: clean(self.street),
                street2: clean(self.street2),
                city: clean(self.city),
                state: clean(self.state),
                postcode: clean(self.postcode),
                country: clean(self.country),
            },
            tags: self.tags.into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect::<BTreeSet<_>>(),
            ..ContactFields::default()
        };
        for raw in self.emails {
            // One cell may hold several addresses: "a@x.com; b@y.com".
            for part in raw.split([';', ',']).map(str::trim).filter(|p| !p.is_empty()) {
                match EmailAddress::parse(part) {
                    Ok(e) => {
                        fields.add_email(e);
                    }
                    Err(err) => keep_unparsed("email", part, err.to_string(), &mut warnings),
                }
            }
        }
        for (raw, label) in self.phones {
            for part in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                match PhoneE164::parse(part, region) {
                    Ok(number) => {
                        let kind = label.as_deref().map_or(PhoneKind::Other, PhoneKind::from_label);
                        fields.add_phone(ContactPhone { number, kind });
                    }
                    Err(err) => keep_unparsed("phone", part, err.to_string(), &mut warnings),
                }
            }
        }
        if let Some(b) = clean(self.birthday) {
            match Birthday::parse(&b) {
                Ok(d) => fields.birthday = Some(d),
                Err(err) => keep_unparsed("birthday", &b, err.to_string(), &mut warnings),
            }
        }
        fields.custom = custom;
        IncomingContact { external_id: clean(self.id), fields, warnings, ..IncomingContact::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_kept_and_reported() {
        let raw = RawContact {
            id: Some(" 7 ".into()),
            name: Some("Jane Doe".into()),
            emails: vec!["jane@acme.io; not-an-email".into(), "JANE@acme.io".into()],
            phones: vec![("0412 345 678".into(), Some("cell".into())), ("12".into(), None)],
            birthday: Some("31/12/1958".into()),
            custom: BTreeMap::from([("favourite colour".into(), "teal".into()), ("blank".into(), " ".into())]),
            ..RawContact::default()
        };
        let inc = raw.into_incoming(Region::parse("AU").unwrap());
        assert_eq!(inc.external_id.as_deref(), Some("7"));
        assert_eq!(inc.fields.emails.len(), 1);
        assert_eq!(inc.fields.phones.len(), 1);
        assert_eq!(inc.fields.phones[0].kind, PhoneKind::Mobile);
        assert_eq!(inc.warnings.iter().map(|w| w.field.as_str()).collect::<Vec<_>>(), ["email", "phone", "birthday"]);
        assert_eq!(inc.fields.custom["unparsed.email"], serde_json::json!(["not-an-email"]));
        assert_eq!(inc.fields.custom["unparsed.birthday"], serde_json::json!(["31/12/1958"]));
        assert_eq!(inc.fields.custom["favourite colour"], serde_json::json!("teal"));
        assert!(!inc.fields.custom.contains_key("blank"));
    }
}
