//! Reading provider JSON at the edge, shared by every adapter: deserialising with the failing
//! field's path (`connections[3].metadata.sources[0].updateTime`, via `serde_path_to_error`) into
//! a [`FieldError`] that becomes `ProviderError::Invalid { field }`, reading a response body
//! ([`read_json`]), and lenient deserialisers for the shapes providers vary (`null` lists,
//! timestamps as RFC 3339 text or epoch milliseconds). Provider DTOs stay in their adapters.

use rolodex_domain::ports::ProviderError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A payload value that could not be read, with the path of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}`: {message}")]
pub struct FieldError {
    /// The path of the field (`contacts[3].dateUpdated`), or `$` for the whole document.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    /// The same error with `prefix` in front of its path.
    #[must_use]
    pub fn within(self, prefix: &str) -> Self {
        let field = match (prefix.is_empty(), self.field.as_str()) {
            (true, _) => self.field,
            (false, "$") => prefix.to_owned(),
            (false, f) if f.starts_with('[') => format!("{prefix}{f}"),
            (false, f) => format!("{prefix}.{f}"),
        };
        Self { field, message: self.message }
    }
}

impl From<FieldError> for ProviderError {
    fn from(e: FieldError) -> Self {
        Self::Invalid { field: e.field, message: e.message }
    }
}

/// Deserialises `value` into `T`, naming the failing field's path on error.
///
/// # Errors
/// [`FieldError`] with the path of the missing or mistyped field (`$` for the document).
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() { "$".to_owned() } else { path };
        let message = e.into_inner().to_string();
        // serde reports a missing field at its parent: name the field itself.
        match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            Some(missing) => FieldError::new(missing, "missing").within(if field == "$" { "" } else { &field }),
            None => FieldError { field, message },
        }
    })
}

/// Deserialises a JSON object into `T` (a struct), naming the failing field's path on error.
/// Anything but an object is refused at `$` (serde would otherwise read a struct from an array).
///
/// # Errors
/// [`FieldError`] as [`from_value`]; `$` when `value` is not an object.
pub fn from_object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, FieldError> {
    if !value.is_object() {
        return Err(FieldError::new("$", format!("expected a JSON object, got {}", kind(&value))));
    }
    from_value(value)
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Deserialises `bytes` (JSON) into `T`, naming the failing field's path on error.
///
/// # Errors
/// [`FieldError`] as [`from_value`]; `$` when `bytes` are not JSON.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FieldError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| FieldError::new("$", format!("not JSON: {e}")))?;
    from_value(value)
}

/// Reads a (successful) response body as JSON into `T`.
///
/// # Errors
/// `Transient` when the body cannot be read; `Invalid { field }` when it does not fit `T`.
pub async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ProviderError> {
    let bytes = response.bytes().await.map_err(|e| crate::transport_error(&e))?;
    Ok(from_slice(&bytes)?)
}

/// A list that may be `null` or absent (both read as empty).
///
/// # Errors
/// The deserialiser's error when the value is neither `null` nor a list of `T`.
pub fn nullable_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn parse_rfc3339<E: serde::de::Error>(s: &str) -> Result<Option<OffsetDateTime>, E> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    OffsetDateTime::parse(trimmed, &Rfc3339)
        .map(Some)
        .map_err(|e| E::custom(format!("`{s}` is not an RFC 3339 timestamp: {e}")))
}

/// An RFC 3339 timestamp (text only: a number is an error); `null` and `""` read as none.
///
/// # Errors
/// The deserialiser's error for anything but `null` or RFC 3339 text.
pub fn rfc3339_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse_rfc3339(&s),
    }
}

/// A timestamp written as RFC 3339 text or as epoch milliseconds; `null` and `""` read as none.
///
/// # Errors
/// The deserialiser's error for other values, bad text or out-of-range milliseconds.
pub fn lenient_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Millis(i64),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Text(s)) => parse_rfc3339(&s),
        Some(Raw::Millis(ms)) => millis_to_time(ms).map(Some).map_err(serde::de::Error::custom),
    }
}

/// Epoch milliseconds to a timestamp.
///
/// # Errors
/// A message when the value is out of range.
pub fn millis_to_time(ms: i64) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| format!("{ms} is not a timestamp in epoch milliseconds"))
}

/// A timestamp as epoch milliseconds.
#[must_use]
pub fn time_to_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Page {
        items: Vec<Item>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        #[serde(default, deserialize_with = "lenient_timestamp")]
        at: Option<OffsetDateTime>,
        #[serde(default, deserialize_with = "rfc3339_opt")]
        strict: Option<OffsetDateTime>,
        #[serde(default, deserialize_with = "nullable_vec")]
        list: Vec<u8>,
    }

    #[test]
    fn paths_name_the_field() {
        let err = from_value::<Page>(json!({"items":[{"at":1},{"at":"yesterday"}]})).unwrap_err();
        assert_eq!(err.field, "items[1].at");
        assert!(err.message.contains("yesterday"), "{}", err.message);
        assert_eq!(err.clone().within("body").field, "body.items[1].at");
        assert_eq!(err.within("").field, "items[1].at");
        let missing = from_value::<Page>(json!({})).unwrap_err();
        assert_eq!(missing.field, "items");
        assert_eq!(missing.within("contacts[2]").field, "contacts[2].items");
        let root = from_object::<Page>(json!([])).unwrap_err();
        assert_eq!(root.field, "$");
        assert_eq!(root.within("contacts[2]").field, "contacts[2]");
        assert_eq!(from_value::<Page>(json!(7)).unwrap_err().field, "$");
        assert_eq!(from_slice::<Page>(b"{").unwrap_err().field, "$");
        let e: ProviderError = FieldError::new("a.b", "bad").into();
        assert!(matches!(e, ProviderError::Invalid { field, .. } if field == "a.b"));
    }

    #[test]
    fn timestamps_as_text_or_millis() {
        let item = |v: serde_json::Value| from_value::<Item>(v);
        let at = |v: serde_json::Value| item(json!({ "at": v })).unwrap().at;
        assert_eq!(at(json!(1_784_272_317_939_i64)).map(time_to_millis), Some(1_784_272_317_939));
        assert_eq!(at(json!("2026-07-17T07:11:57.939Z")).map(time_to_millis), Some(1_784_272_317_939));
        assert_eq!(at(json!(" 2026-07-17T07:11:57.939Z ")).map(time_to_millis), Some(1_784_272_317_939));
        assert_eq!(at(serde_json::Value::Null), None);
        assert_eq!(at(json!("")), None);
        assert!(item(json!({"at": true})).is_err());
        assert!(item(json!({"at": i64::MAX})).is_err(), "out of range");
        let strict = |v: serde_json::Value| item(json!({ "strict": v })).map(|i| i.strict);
        assert_eq!(strict(json!("2026-07-17T07:11:57.939Z")).unwrap().map(time_to_millis), Some(1_784_272_317_939));
        assert_eq!(strict(json!("  ")).unwrap(), None);
        assert_eq!(strict(json!(12)).unwrap_err().field, "strict", "a number is not RFC 3339 text");
    }

    #[test]
    fn null_lists_are_empty() {
        assert!(from_value::<Item>(json!({"list": null})).unwrap().list.is_empty());
        assert_eq!(from_value::<Item>(json!({"list": [1, 2]})).unwrap().list, [1, 2]);
        assert_eq!(from_value::<Item>(json!({"list": 3})).unwrap_err().field, "list");
    }
}
