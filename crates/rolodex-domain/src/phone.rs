//! `PhoneE164`: a phone number parsed with the `phonenumber` crate (Google's libphonenumber
//! metadata) and held in E.164 form, plus the region used for numbers written without a country code.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;
use serde::{Deserialize, Serialize};

/// Why a string is not a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing but white space or punctuation.
    #[error("the phone number is empty")]
    Empty,
    /// The default region is not an ISO 3166 alpha-2 code known to the metadata.
    #[error("`{0}` is not a known region code (expected ISO 3166 alpha-2, such as AU or US)")]
    UnknownRegion(String),
    /// The digits do not form a number in the given (or default) region.
    #[error("`{input}` is not a valid phone number{}", region.as_ref().map(|r| format!(" for region {r}")).unwrap_or_default())]
    Invalid {
        /// The rejected input.
        input: String,
        /// The region it was read in, if it had no country code.
        region: Option<String>,
    },
}

/// The region (ISO 3166 alpha-2) assumed for numbers written without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(country::Id);

impl Region {
    /// Parses `AU`, `us`, `GB`, ...
    ///
    /// # Errors
    /// [`PhoneError::UnknownRegion`].
    pub fn parse(code: &str) -> Result<Self, PhoneError> {
        country::Id::from_str(&code.trim().to_uppercase())
            .map(Self)
            .map_err(|_| PhoneError::UnknownRegion(code.to_owned()))
    }

    /// The two-letter code.
    #[must_use]
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for Region {
    /// `US`, the region most providers assume; callers should configure their own.
    fn default() -> Self {
        Self(country::Id::US)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A phone number in E.164 form (`+61412345678`), with its extension if it had one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneE164 {
    e164: String,
    extension: Option<String>,
}

impl PhoneE164 {
    /// Parses national (`0412 345 678`), international (`+61 412 345 678`, `0061 412...`), spaced,
    /// dotted, dashed and bracketed forms, the `+61 (0)4...` trunk-prefix form, and extensions
    /// (`x123`, `ext. 123`, `;ext=123`). `default_region` applies to numbers without a country code.
    ///
    /// # Errors
    /// [`PhoneError::Empty`] or [`PhoneError::Invalid`].
    pub fn parse(input: &str, default_region: Region) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if !trimmed.chars().any(|c| c.is_ascii_digit()) {
            return Err(PhoneError::Empty);
        }
        // `+61 (0)4..`: the bracketed trunk prefix is written for national callers only.
        let mut cleaned = trimmed.replace("(0)", "").replace(";ext=", " ext. ");
        // `0061...` / `011 61 ...` international prefixes: libphonenumber knows them per region,
        // but a `00` prefix is so common in exports that we accept it from any region.
        let digits_start = cleaned.trim_start();
        if let Some(rest) = digits_start.strip_prefix("00")
            && rest.chars().next().is_some_and(|c| c.is_ascii_digit() && c != '0')
        {
            cleaned = format!("+{rest}");
        }
        let invalid = || PhoneError::Invalid {
            input: trimmed.to_owned(),
            region: (!cleaned.trim_start().starts_with('+')).then(|| default_region.to_string()),
        };
        let parsed = phonenumber::parse(Some(default_region.0), &cleaned).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&parsed) {
            return Err(invalid());
        }
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        let extension = parsed.extension().map(|e| e.to_string()).filter(|e| !e.is_empty());
        Ok(Self { e164, extension })
    }

    /// `+61412345678` (without the extension).
    #[must_use]
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The extension, if any.
    #[must_use]
    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }
}

impl fmt::Display for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.extension {
            Some(ext) => write!(f, "{};ext={ext}", self.e164),
            None => f.write_str(&self.e164),
        }
    }
}

impl PhoneE164 {
    /// The number if `value` is already in the stored form this type writes (`+` and 8 to 15
    /// digits, the first not 0, optionally `;ext=` and digits), without asking libphonenumber.
    fn from_canonical(value: &str) -> Option<Self> {
        let (number, ext) = match value.split_once(";ext=") {
            Some((n, e)) => (n, Some(e)),
            None => (value, None),
        };
        let digits = number.strip_prefix('+')?;
        let canonical = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
            && ext.is_none_or(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()));
        canonical.then(|| Self { e164: number.to_owned(), extension: ext.map(str::to_owned) })
    }
}

impl TryFrom<String> for PhoneE164 {
    type Error = PhoneError;
    /// Reads the serialised form (`+E164` or `+E164;ext=N`), which always carries a country
    /// code. That form is what this type writes, so it is taken as it is after a shape check:
    /// reading stored contacts must not re-run libphonenumber for every number (it was most of
    /// a sync preview's CPU time). Anything else goes through [`PhoneE164::parse`]; input from
    /// people or providers should always be parsed with a region, never deserialised.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        match Self::from_canonical(&value) {
            Some(p) => Ok(p),
            None => Self::parse(&value, Region::default()),
        }
    }
}

impl From<PhoneE164> for String {
    fn from(p: PhoneE164) -> Self {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serialised_form_reads_back_without_a_parse_and_other_forms_are_parsed() {
        for stored in ["+61412345678", "+14155550123;ext=12"] {
            let p = PhoneE164::from_canonical(stored).expect("canonical");
            assert_eq!(p.to_string(), stored);
            assert_eq!(p, PhoneE164::parse(stored, Region::default()).unwrap(), "same as a parse");
            let back: PhoneE164 = serde_json::from_value(serde_json::json!(stored)).unwrap();
            assert_eq!(back, p);
        }
        for other in ["+61 412 345 678", "0412345678", "+0412345678", "+1234", "+14155550123;ext=", "+1415x5550123"] {
            assert!(PhoneE164::from_canonical(other).is_none(), "{other}");
        }
        // Not canonical: parsed, so a spaced form still reads and junk is still an error.
        let spaced: PhoneE164 = serde_json::from_value(serde_json::json!("+61 412 345 678")).unwrap();
        assert_eq!(spaced.e164(), "+61412345678");
        assert!(serde_json::from_value::<PhoneE164>(serde_json::json!("+1234")).is_err());
    }

    fn check(input: &str, region: &str, expected: Result<&str, ()>) {
        let region = Region::parse(region).unwrap();
        let got = PhoneE164::parse(input, region).map(|p| p.to_string()).map_err(|_| ());
        assert_eq!(got.as_deref().map_err(|_| ()), expected, "input: {input:?}");
    }

    #[test]
    fn national_and_international_forms() {
        for input in [
            "0412 345 678",
            "0412-345-678",
            "0412.345.678",
            "(04) 1234 5678",
            "+61 412 345 678",
            "+61 (0)412 345 678",
            "0061 412 345 678",
            "+61412345678",
        ] {
            check(input, "AU", Ok("+61412345678"));
        }
        check("(415) 555-0132", "US", Ok("+14155550132"));
        check("415.555.0132", "US", Ok("+14155550132"));
        check("+1 415 555 0132", "AU", Ok("+14155550132"));
        check("020 7946 0018", "GB", Ok("+442079460018"));
    }

    #[test]
    fn extensions() {
        check("(415) 555-0132 x 204", "US", Ok("+14155550132;ext=204"));
        check("+1 415 555 0132 ext. 204", "US", Ok("+14155550132;ext=204"));
        let stored = PhoneE164::try_from("+14155550132;ext=204".to_owned()).unwrap();
        assert_eq!(stored.e164(), "+14155550132");
        assert_eq!(stored.extension(), Some("204"));
    }

    #[test]
    fn rejects() {
        check("", "AU", Err(()));
        check("n/a", "AU", Err(()));
        check("123", "AU", Err(()));
        assert!(matches!(Region::parse("XX"), Err(PhoneError::UnknownRegion(_))));
        let err = PhoneE164::parse("12", Region::parse("AU").unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "`12` is not a valid phone number for region AU");
    }
}
