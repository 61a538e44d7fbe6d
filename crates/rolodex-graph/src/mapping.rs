//! Mapping between Graph contact JSON and the domain, both ways.
//!
//! Graph -> domain goes through [`RawContact`] so that values which do not parse (emails, phones,
//! birthdays) become warnings, never errors. Structure that is wrong (a number where a string
//! belongs, `value` that is not an array, a missing `id`) is `ProviderError::Invalid` naming the
//! JSON path (`value[3].emailAddresses[1].address`). Nothing here panics on any input.

use rolodex_domain::ports::{ProviderError, RemoteRef};
use rolodex_domain::raw::RawContact;
use rolodex_domain::{Address, ContactFields, IncomingContact, PhoneKind, Region};
use rolodex_http::invalid;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The properties Rolodex reads, for `$select`.
pub const SELECT: &str = "displayName,givenName,surname,middleName,nickName,emailAddresses,businessPhones,\
homePhones,mobilePhone,companyName,department,jobTitle,officeLocation,birthday,homeAddress,businessAddress,\
otherAddress,categories,personalNotes,lastModifiedDateTime,changeKey";

/// Graph string properties kept as custom properties `graph.<name>`.
const CUSTOM_STRINGS: [&str; 5] = ["middleName", "nickName", "department", "officeLocation", "personalNotes"];

/// Outlook stores a birthday without a year in year 1604 (UNCONFIRMED convention); a year before
/// this is read as "unknown".
const NO_YEAR: i32 = 1604;

/// A JSON object with its path, for typed errors.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

impl<'a> Obj<'a> {
    pub(crate) fn new(value: &'a Value, path: &str) -> Result<Self, ProviderError> {
        match value {
            Value::Object(map) => Ok(Self { map, path: path.to_owned() }),
            _ => Err(invalid(if path.is_empty() { "contact" } else { path }, "expected a JSON object")),
        }
    }

    pub(crate) fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn str(&self, key: &str) -> Result<Option<&'a str>, ProviderError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid(self.field(key), "expected a string")),
        }
    }

    fn array(&self, key: &str) -> Result<&'a [Value], ProviderError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(invalid(self.field(key), "expected an array")),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<&'a str>, ProviderError> {
        let mut out = Vec::new();
        for (i, v) in self.array(key)?.iter().enumerate() {
            match v {
                Value::Null => {}
                Value::String(s) => out.push(s.as_str()),
                _ => return Err(invalid(format!("{}[{i}]", self.field(key)), "expected a string")),
            }
        }
        Ok(out)
    }

    fn objects(&self, key: &str) -> Result<Vec<Obj<'a>>, ProviderError> {
        let field = self.field(key);
        self.array(key)?
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_null())
            .map(|(i, v)| Obj::new(v, &format!("{field}[{i}]")))
            .collect()
    }

    fn obj(&self, key: &str) -> Result<Option<Obj<'a>>, ProviderError> {
        self.get(key).map(|v| Obj::new(v, &self.field(key))).transpose()
    }
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

fn timestamp(obj: &Obj<'_>, key: &str) -> Result<Option<OffsetDateTime>, ProviderError> {
    obj.str(key)?
        .map(|s| OffsetDateTime::parse(s, &Rfc3339).map_err(|e| invalid(obj.field(key), format!("`{s}`: {e}"))))
        .transpose()
}

/// A physical address: street lines split on newlines (first line, then the rest).
fn read_address(a: &Obj<'_>) -> Result<Address, ProviderError> {
    let street = a.str("street")?.unwrap_or_default();
    let mut lines = street.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().map(str::to_owned);
    let rest: Vec<&str> = lines.collect();
    Ok(Address {
        street: first,
        street2: (!rest.is_empty()).then(|| rest.join(", ")),
        city: owned(a.str("city")?),
        state: owned(a.str("state")?),
        postcode: owned(a.str("postalCode")?),
        country: owned(a.str("countryOrRegion")?),
    })
}

/// Graph's birthday (a DateTimeOffset) as text `Birthday::parse` reads; a placeholder year
/// (before 1800, Outlook uses 1604) becomes the year-less `--MM-DD` form.
fn birthday_text(s: &str) -> String {
    let date = s.split(['T', 't']).next().unwrap_or(s);
    let mut parts = date.splitn(3, '-');
    if let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next())
        && let Ok(year) = y.parse::<i32>()
        && year < 1800
    {
        return format!("--{m}-{d}");
    }
    s.to_owned()
}

/// A Graph contact (as listed, delta'd or returned by a write) -> an [`IncomingContact`] with
/// `fields.source = "graph"`, `external_version` = `changeKey` (else `@odata.etag`) and
/// `external_updated_at` = `lastModifiedDateTime`. `path` prefixes field names in errors.
///
/// # Errors
/// `ProviderError::Invalid` naming the field whose JSON type is wrong, a missing `id`, or an
/// unreadable `lastModifiedDateTime`.
pub fn contact_from_graph(value: &Value, region: Region, path: &str) -> Result<IncomingContact, ProviderError> {
    let c = Obj::new(value, path)?;
    let id = c.str("id")?.filter(|s| !s.trim().is_empty()).ok_or_else(|| invalid(c.field("id"), "missing"))?;
    let mut raw = RawContact {
        id: Some(id.to_owned()),
        name: owned(c.str("displayName")?),
        given_name: owned(c.str("givenName")?),
        family_name: owned(c.str("surname")?),
        company: owned(c.str("companyName")?),
        job_title: owned(c.str("jobTitle")?),
        birthday: c.str("birthday")?.map(birthday_text),
        tags: c.strings("categories")?.into_iter().map(str::to_owned).collect(),
        ..RawContact::default()
    };
    for e in c.objects("emailAddresses")? {
        if let Some(address) = e.str("address")? {
            raw.emails.push(address.to_owned());
        }
        e.str("name")?;
    }
    for (key, label) in [("mobilePhone", "mobile")] {
        if let Some(p) = c.str(key)? {
            raw.phones.push((p.to_owned(), Some(label.to_owned())));
        }
    }
    for (key, label) in [("businessPhones", "business"), ("homePhones", "home")] {
        for p in c.strings(key)? {
            raw.phones.push((p.to_owned(), Some(label.to_owned())));
        }
    }
    let mut chosen = false;
    for key in ["businessAddress", "homeAddress", "otherAddress"] {
        let Some(a) = c.obj(key)? else { continue };
        let address = read_address(&a)?;
        if address.is_empty() {
            continue;
        }
        if chosen {
            if let Some(v) = c.get(key) {
                raw.custom.insert(format!("graph.{key}"), v.to_string());
            }
        } else {
            chosen = true;
            raw.street = address.street;
            raw.street2 = address.street2;
            raw.city = address.city;
            raw.state = address.state;
            raw.postcode = address.postcode;
            raw.country = address.country;
        }
    }
    for key in CUSTOM_STRINGS {
        if let Some(v) = c.str(key)? {
            raw.custom.insert(format!("graph.{key}"), v.to_owned());
        }
    }
    let version = match c.str("changeKey")? {
        Some(k) => Some(k.to_owned()),
        None => owned(c.str("@odata.etag")?),
    };
    let updated_at = timestamp(&c, "lastModifiedDateTime")?;
    let mut incoming = raw.into_incoming(region);
    incoming.external_version = version;
    incoming.external_updated_at = updated_at;
    incoming.fields.source = Some("graph".to_owned());
    Ok(incoming)
}

/// What a write returned: id, `changeKey`, `lastModifiedDateTime`.
///
/// # Errors
/// `ProviderError::Invalid` naming the field.
pub fn remote_ref_from_graph(value: &Value) -> Result<RemoteRef, ProviderError> {
    let c = Obj::new(value, "")?;
    let id = c.str("id")?.filter(|s| !s.is_empty()).ok_or_else(|| invalid("id", "missing"))?;
    let version = match c.str("changeKey")? {
        Some(k) => Some(k.to_owned()),
        None => owned(c.str("@odata.etag")?),
    };
    Ok(RemoteRef {
        external_id: id.to_owned(),
        version,
        updated_at: timestamp(&c, "lastModifiedDateTime")?,
        fields: None,
    })
}

/// The domain contact as a full Graph body for `POST` and `PATCH`: every mapped property is sent,
/// `null` or `[]` when empty, so that a PATCH replaces what Graph holds (collections are replaced
/// whole). `displayName` is always sent (Graph may regenerate it otherwise).
#[must_use]
pub fn graph_from_fields(fields: &ContactFields) -> Map<String, Value> {
    let label = fields.label();
    let mut mobile = None;
    let mut business = Vec::new();
    let mut home = Vec::new();
    for p in &fields.phones {
        let n = json!(p.number.e164());
        match p.kind {
            PhoneKind::Mobile if mobile.is_none() => mobile = Some(n),
            PhoneKind::Home => home.push(n),
            _ => business.push(n),
        }
    }
    let a = &fields.address;
    let address = if a.is_empty() {
        Value::Null
    } else {
        let street = [a.street.as_deref(), a.street2.as_deref()].into_iter().flatten().collect::<Vec<_>>().join("\n");
        json!({
            "street": street,
            "city": a.city,
            "state": a.state,
            "countryOrRegion": a.country,
            "postalCode": a.postcode,
        })
    };
    let birthday =
        fields.birthday.map(|b| format!("{:04}-{:02}-{:02}T00:00:00Z", b.year.unwrap_or(NO_YEAR), b.month, b.day));
    let mut m = Map::new();
    m.insert("givenName".into(), json!(fields.given_name));
    m.insert("surname".into(), json!(fields.family_name));
    m.insert("displayName".into(), json!(label));
    m.insert(
        "emailAddresses".into(),
        Value::Array(fields.emails.iter().map(|e| json!({"address": e.as_str(), "name": label})).collect()),
    );
    m.insert("mobilePhone".into(), mobile.unwrap_or(Value::Null));
    m.insert("businessPhones".into(), Value::Array(business));
    m.insert("homePhones".into(), Value::Array(home));
    m.insert("companyName".into(), json!(fields.company));
    m.insert("jobTitle".into(), json!(fields.job_title));
    m.insert("businessAddress".into(), address);
    m.insert("birthday".into(), json!(birthday));
    m.insert("categories".into(), json!(fields.tags.iter().collect::<Vec<_>>()));
    m
}
