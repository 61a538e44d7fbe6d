//! The contact model: [`ContactFields`] (what a person is), [`Contact`] (a stored contact with
//! identity, status and version), and [`IncomingContact`] (what a source delivered, before it is
//! decided). Parsing of raw provider/file values into these lives in [`crate::raw`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::email::EmailAddress;
use crate::ids::{ContactId, OrgId};
use crate::phone::PhoneE164;

/// The type of a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PhoneKind {
    /// A mobile (cell) number.
    Mobile,
    /// A work / business number.
    Work,
    /// A home number.
    Home,
    /// Anything else (fax, pager, main, unknown).
    #[default]
    Other,
}

impl PhoneKind {
    /// Reads common labels (`cell`, `business`, `HOME`, ...); anything unknown is `Other`.
    #[must_use]
    pub fn from_label(label: &str) -> Self {
        match label.trim().to_ascii_lowercase().as_str() {
            "mobile" | "cell" | "cellular" | "mobilephone" | "mobile_phone" | "iphone" => Self::Mobile,
            "work" | "business" | "office" | "businessphone" | "business_phone" | "company" => Self::Work,
            "home" | "homephone" | "home_phone" | "personal" => Self::Home,
            _ => Self::Other,
        }
    }
}

/// One phone number with its type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContactPhone {
    /// The number.
    pub number: PhoneE164,
    /// Mobile, work, home or other.
    pub kind: PhoneKind,
}

/// A postal address. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Address {
    /// Street line (number and street).
    pub street: Option<String>,
    /// Second street line (unit, building).
    pub street2: Option<String>,
    /// City, suburb or locality.
    pub city: Option<String>,
    /// State, province or region.
    pub state: Option<String>,
    /// Postal code.
    pub postcode: Option<String>,
    /// Country (name or code, as the source gave it).
    pub country: Option<String>,
}

impl Address {
    /// True when no part is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.street.is_none()
            && self.street2.is_none()
            && self.city.is_none()
            && self.state.is_none()
            && self.postcode.is_none()
            && self.country.is_none()
    }
}

/// A birthday; providers often know the day and month without the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Birthday {
    /// The year, when known.
    pub year: Option<i32>,
    /// 1-12.
    pub month: u8,
    /// 1-31 (checked against the month, and the year when known).
    pub day: u8,
}

/// Why a birthday is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date (expected YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD or --MM-DD)")]
pub struct BirthdayError(pub String);

impl Birthday {
    /// Builds a birthday, checking that the day exists.
    ///
    /// # Errors
    /// [`BirthdayError`] for an impossible date.
    pub fn new(year: Option<i32>, month: u8, day: u8) -> Result<Self, BirthdayError> {
        let bad = || {
            BirthdayError(format!(
                "{}-{month:02}-{day:02}",
                year.map_or_else(|| "--".to_owned(), |y| format!("{y:04}"))
            ))
        };
        let m = time::Month::try_from(month).map_err(|_| bad())?;
        let max = time::util::days_in_month(m, year.unwrap_or(2000));
        if day == 0 || day > max || year.is_some_and(|y| !(1800..=2200).contains(&y)) {
            return Err(bad());
        }
        Ok(Self { year, month, day })
    }

    /// Parses `YYYY-MM-DD`, `YYYYMMDD`, `YYYY/MM/DD`, `YYYY M D` (parts separated by one space,
    /// dash, slash or dot), an ISO timestamp's date part, and the vCard `--MM-DD` form.
    ///
    /// # Errors
    /// [`BirthdayError`] naming the input.
    pub fn parse(input: &str) -> Result<Self, BirthdayError> {
        let s = input.trim();
        let bad = || BirthdayError(s.to_owned());
        if let Some(md) = s.strip_prefix("--") {
            let digits: String = md.chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 4 {
                return Err(bad());
            }
            let month = digits[..2].parse().map_err(|_| bad())?;
            let day = digits[2..].parse().map_err(|_| bad())?;
            return Self::new(None, month, day).map_err(|_| bad());
        }
        let date_part = s.split(['T', 't']).next().unwrap_or(s);
        let parts: Vec<&str> = date_part.split(['-', '/', ' ', '.']).filter(|p| !p.is_empty()).collect();
        let (y, m, d) = match parts.as_slice() {
            [one] if one.len() == 8 && one.chars().all(|c| c.is_ascii_digit()) => (&one[..4], &one[4..6], &one[6..]),
            [y, m, d] if y.len() == 4 => (*y, *m, *d),
            _ => return Err(bad()),
        };
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        let day: u8 = d.parse().map_err(|_| bad())?;
        Self::new(Some(year), month, day).map_err(|_| bad())
    }
}

impl fmt::Display for Birthday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.year {
            Some(y) => write!(f, "{y:04}-{:02}-{:02}", self.month, self.day),
            None => write!(f, "--{:02}-{:02}", self.month, self.day),
        }
    }
}

/// Whether a contact is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    /// In use.
    #[default]
    Active,
    /// Kept but not in use (bounced, left the company).
    Inactive,
    /// Soft-deleted (for example deleted at the provider); kept for audit and undo.
    Deleted,
}

/// What a person is: every field a source or a user can set. Shared by [`Contact`] and
/// [`IncomingContact`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactFields {
    /// Given (first) name, as written.
    pub given_name: Option<String>,
    /// Family (last) name, as written.
    pub family_name: Option<String>,
    /// Display name, as written (used when the parts are missing).
    pub display_name: Option<String>,
    /// Email addresses, no duplicates; the first is the primary one.
    pub emails: Vec<EmailAddress>,
    /// Phone numbers, no duplicate numbers.
    pub phones: Vec<ContactPhone>,
    /// Company / organisation name.
    pub company: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Postal address.
    pub address: Address,
    /// Birthday.
    pub birthday: Option<Birthday>,
    /// Tags (categories, labels), a set.
    pub tags: BTreeSet<String>,
    /// Sales pipeline.
    pub pipeline: Option<String>,
    /// Stage in the pipeline.
    pub stage: Option<String>,
    /// Do not disturb: never send marketing mail.
    pub do_not_disturb: bool,
    /// Where the contact came from (`google`, `graph`, `ghl`, `file:contacts.csv`, `api`).
    pub source: Option<String>,
    /// Custom properties (unknown CSV columns, provider custom fields).
    pub custom: BTreeMap<String, serde_json::Value>,
}

impl ContactFields {
    /// The primary email, if any.
    #[must_use]
    pub fn primary_email(&self) -> Option<&EmailAddress> {
        self.emails.first()
    }

    /// A name for people to read: the display name, else given + family, else the primary email.
    #[must_use]
    pub fn label(&self) -> String {
        if let Some(d) = self.display_name.as_deref().filter(|d| !d.trim().is_empty()) {
            return d.trim().to_owned();
        }
        let parts: Vec<&str> = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if !parts.is_empty() {
            return parts.join(" ");
        }
        self.primary_email().map_or_else(|| "(no name)".to_owned(), ToString::to_string)
    }

    /// Adds an email unless it is already present (by exact address). Returns true if added.
    pub fn add_email(&mut self, email: EmailAddress) -> bool {
        if self.emails.contains(&email) {
            return false;
        }
        self.emails.push(email);
        true
    }

    /// Adds a phone unless the same number is already present. Returns true if added.
    pub fn add_phone(&mut self, phone: ContactPhone) -> bool {
        if self.phones.iter().any(|p| p.number == phone.number) {
            return false;
        }
        self.phones.push(phone);
        true
    }
}

/// A contact held by Rolodex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Its id.
    pub id: ContactId,
    /// The organisation that owns it.
    pub org_id: OrgId,
    /// What it says.
    pub fields: ContactFields,
    /// Active, inactive or deleted.
    pub status: ContactStatus,
    /// When it was created here.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed here.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Optimistic-concurrency version, incremented on every change (starts at 1).
    pub version: i64,
}

/// A contact as a source delivered it, parsed into the model, before any decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingContact {
    /// The source's id for it (Graph id, People resourceName, GHL id, CSV `id` column).
    pub external_id: Option<String>,
    /// The source's version or etag, when it has one.
    pub external_version: Option<String>,
    /// When the source last changed it, when it says.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub external_updated_at: Option<OffsetDateTime>,
    /// What it says.
    pub fields: ContactFields,
    /// Values that could not be parsed (kept in `fields.custom` under `unparsed.*`) and other
    /// imperfections worth showing a reviewer.
    pub warnings: Vec<Warning>,
}

/// Something imperfect about the input: data, not a panic or a log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The field it concerns (`email`, `phone`, `birthday`, ...).
    pub field: String,
    /// What was wrong, for a person.
    pub message: String,
}

impl Warning {
    /// A warning about `field`.
    #[must_use]
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdays() {
        let ok = |s: &str| Birthday::parse(s).map(|b| b.to_string());
        assert_eq!(ok("1958-12-31").as_deref(), Ok("1958-12-31"));
        assert_eq!(ok("19581231").as_deref(), Ok("1958-12-31"));
        assert_eq!(ok("1958/12/31").as_deref(), Ok("1958-12-31"));
        assert_eq!(ok("1949 7 22").as_deref(), Ok("1949-07-22"));
        assert_eq!(ok("1958-12-31T00:00:00Z").as_deref(), Ok("1958-12-31"));
        assert_eq!(ok("--04-01").as_deref(), Ok("--04-01"));
        assert_eq!(ok("--0229").as_deref(), Ok("--02-29"));
        assert!(Birthday::parse("1958-02-30").is_err());
        assert!(Birthday::parse("1900-02-29").is_err());
        assert!(Birthday::parse("31/12/1958").is_err());
        assert!(Birthday::parse("").is_err());
        assert!(Birthday::parse("0000-01-01").is_err());
    }

    #[test]
    fn phone_kinds() {
        assert_eq!(PhoneKind::from_label("Cell"), PhoneKind::Mobile);
        assert_eq!(PhoneKind::from_label("businessPhone"), PhoneKind::Work);
        assert_eq!(PhoneKind::from_label("fax"), PhoneKind::Other);
    }
}
