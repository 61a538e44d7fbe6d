//! [`MatchProfile`]: a contact reduced to the normalised values the matcher compares (folded name
//! parts, email keys, E.164 numbers, company without legal suffixes, street split into number and
//! name, birthday). Built once per existing contact when an index is built, and once per incoming
//! contact. [`Frequencies`] counts how common each name, company and postcode value is, so agreeing
//! on a common value ("smith") is worth less than agreeing on a rare one.

use crate::contact::{Birthday, ContactFields};
use crate::fastmap::FastMap;
use crate::name::{PersonName, fold};

const LEGAL_SUFFIXES: &[&str] = &[
    "pty",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "llc",
    "llp",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "plc",
    "ag",
    "sa",
    "bv",
    "nv",
    "the",
    "pte",
    "srl",
    "kg",
];

const STREET_TYPES: &[(&str, &str)] = &[
    ("st", "street"),
    ("str", "street"),
    ("rd", "road"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("cres", "crescent"),
    ("cr", "crescent"),
    ("pl", "place"),
    ("ct", "court"),
    ("crt", "court"),
    ("dr", "drive"),
    ("hwy", "highway"),
    ("pde", "parade"),
    ("cct", "circuit"),
    ("tce", "terrace"),
    ("ln", "lane"),
    ("bvd", "boulevard"),
    ("blvd", "boulevard"),
    ("cl", "close"),
    ("sq", "square"),
    ("gr", "grove"),
    ("esp", "esplanade"),
];

/// A contact's comparable values. All strings are folded (lower-case ASCII, single spaces).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchProfile {
    /// The parsed name.
    pub name: PersonName,
    /// Email matching keys.
    pub email_keys: Vec<String>,
    /// Domains of non-free-mail addresses (company domains).
    pub company_domains: Vec<String>,
    /// E.164 numbers.
    pub phones: Vec<String>,
    /// Company without legal suffixes.
    pub company: String,
    /// Street number(s) (`21`, `4a`), if the street line starts with one.
    pub street_number: String,
    /// Street name with the type spelled out (`abeckett street`), plus the second line.
    pub street: String,
    /// City / suburb.
    pub city: String,
    /// State.
    pub state: String,
    /// Postcode without spaces.
    pub postcode: String,
    /// Birthday.
    pub birthday: Option<Birthday>,
}

/// Folds a company name and drops legal suffixes: `"Acme Pty. Ltd."` -> `"acme"`.
#[must_use]
pub fn normalize_company(company: &str) -> String {
    let folded = fold(company);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let kept: Vec<&str> = words.iter().copied().filter(|w| !LEGAL_SUFFIXES.contains(w)).collect();
    if kept.is_empty() { words.join(" ") } else { kept.join(" ") }
}

/// Splits a folded street line into (number, name with the street type spelled out).
#[must_use]
pub fn normalize_street(street: &str) -> (String, String) {
    let folded = fold(street);
    let mut number = Vec::new();
    let mut name = Vec::new();
    for word in folded.split(' ').filter(|w| !w.is_empty()) {
        if name.is_empty() && word.chars().any(|c| c.is_ascii_digit()) {
            number.push(word);
        } else {
            let expanded = STREET_TYPES.iter().find(|(abbr, _)| *abbr == word).map_or(word, |(_, full)| *full);
            name.push(expanded);
        }
    }
    (number.join(" "), name.join(" "))
}

impl MatchProfile {
    /// Builds the profile of a contact's fields.
    #[must_use]
    pub fn from_fields(fields: &ContactFields) -> Self {
        let name = PersonName::parse(
            fields.given_name.as_deref(),
            fields.family_name.as_deref(),
            fields.display_name.as_deref(),
        );
        let mut email_keys: Vec<String> = fields.emails.iter().map(|e| e.matching_key()).collect();
        email_keys.dedup();
        let mut company_domains: Vec<String> =
            fields.emails.iter().filter(|e| !e.is_free_mail()).map(|e| e.domain().to_owned()).collect();
        company_domains.sort();
        company_domains.dedup();
        let phones = fields.phones.iter().map(|p| p.number.e164().to_owned()).collect();
        let a = &fields.address;
        let (street_number, mut street) = a.street.as_deref().map(normalize_street).unwrap_or_default();
        if street.is_empty()
            && let Some(s2) = a.street2.as_deref()
        {
            street = normalize_street(s2).1;
        }
        Self {
            name,
            email_keys,
            company_domains,
            phones,
            company: fields.company.as_deref().map(normalize_company).unwrap_or_default(),
            street_number,
            street,
            city: a.city.as_deref().map(fold).unwrap_or_default(),
            state: a.state.as_deref().map(fold).unwrap_or_default(),
            postcode: a.postcode.as_deref().map(|p| fold(p).replace(' ', "")).unwrap_or_default(),
            birthday: fields.birthday,
        }
    }

    /// True when there is nothing to match on (no name, email or phone).
    #[must_use]
    pub fn is_blank(&self) -> bool {
        self.name.is_empty() && self.email_keys.is_empty() && self.phones.is_empty()
    }
}

/// How often values occur among the contacts matched against, per field.
#[derive(Debug, Clone, Default)]
pub struct Frequencies {
    total: u64,
    given: FastMap<String, u32>,
    family: FastMap<String, u32>,
    company: FastMap<String, u32>,
    postcode: FastMap<String, u32>,
    city: FastMap<String, u32>,
}

impl Frequencies {
    /// Counts the values of `profiles`.
    pub fn from_profiles<'a>(profiles: impl IntoIterator<Item = &'a MatchProfile>) -> Self {
        let mut f = Self::default();
        for p in profiles {
            f.add(p);
        }
        f
    }

    /// Counts one more profile.
    pub fn add(&mut self, p: &MatchProfile) {
        self.total += 1;
        for (map, value) in [
            (&mut self.given, &p.name.given),
            (&mut self.family, &p.name.family),
            (&mut self.company, &p.company),
            (&mut self.postcode, &p.postcode),
            (&mut self.city, &p.city),
        ] {
            if value.is_empty() {
                continue;
            }
            match map.get_mut(value.as_str()) {
                Some(n) => *n += 1,
                None => {
                    map.insert(value.clone(), 1);
                }
            }
        }
    }

    /// How many profiles were counted.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.total
    }

    fn share(&self, map: &FastMap<String, u32>, value: &str, default: f64) -> f64 {
        // Too few contacts to estimate from: use the default.
        if self.total < 200 {
            return default;
        }
        let count = f64::from(map.get(value).copied().unwrap_or(0)).max(1.0);
        #[allow(clippy::cast_precision_loss)]
        let share = count / self.total as f64;
        share
    }

    /// Share of contacts with this given name (a default of 1 in 100 when unknown).
    #[must_use]
    pub fn given(&self, v: &str) -> f64 {
        self.share(&self.given, v, 0.01)
    }
    /// Share of contacts with this family name (default 1 in 500).
    #[must_use]
    pub fn family(&self, v: &str) -> f64 {
        self.share(&self.family, v, 0.002)
    }
    /// Share of contacts at this company (default 1 in 200).
    #[must_use]
    pub fn company(&self, v: &str) -> f64 {
        self.share(&self.company, v, 0.005)
    }
    /// Share of contacts with this postcode (default 1 in 300).
    #[must_use]
    pub fn postcode(&self, v: &str) -> f64 {
        self.share(&self.postcode, v, 0.003)
    }
    /// Share of contacts in this city (default 1 in 300).
    #[must_use]
    pub fn city(&self, v: &str) -> f64 {
        self.share(&self.city, v, 0.003)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companies_and_streets() {
        assert_eq!(normalize_company("Acme Pty. Ltd."), "acme");
        assert_eq!(normalize_company("The Company"), "the company");
        assert_eq!(normalize_street("21 A'Beckett St"), ("21".into(), "abeckett street".into()));
        assert_eq!(normalize_street("Unit 4, 12b Smith Rd"), (String::new(), "unit 4 12b smith road".into()));
        assert_eq!(normalize_street("4/12 smith road"), ("4 12".into(), "smith road".into()));
    }
}
