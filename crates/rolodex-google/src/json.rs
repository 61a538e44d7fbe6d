//! Reading provider JSON at the edge: deserialising with the failing field's path
//! (`connections[3].metadata.sources[0].updateTime`) and lenient helpers for `null` lists and
//! RFC 3339 timestamps. (`rolodex-ghl` has a twin; it could move to `rolodex-http`.)

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A payload value that could not be read, with the path of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}`: {message}")]
pub struct FieldError {
    /// The path of the field, or `$` for the whole document.
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

impl From<FieldError> for rolodex_domain::ports::ProviderError {
    fn from(e: FieldError) -> Self {
        Self::Invalid { field: e.field, message: e.message }
    }
}

/// Deserialises `value` into `T`, naming the failing field's path on error.
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
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FieldError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| FieldError::new("$", format!("not JSON: {e}")))?;
    from_value(value)
}

/// A list that may be `null` or absent (both read as empty).
pub fn nullable_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// An RFC 3339 timestamp; `null` and `""` read as none.
pub fn rfc3339_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => OffsetDateTime::parse(s.trim(), &Rfc3339)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("`{s}` is not an RFC 3339 timestamp: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Page {
        items: Vec<Item>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        #[serde(default, deserialize_with = "rfc3339_opt")]
        at: Option<OffsetDateTime>,
    }

    #[test]
    fn paths_name_the_field() {
        let err = from_value::<Page>(serde_json::json!({"items":[{"at":null},{"at":"yesterday"}]})).unwrap_err();
        assert_eq!(err.field, "items[1].at");
        assert_eq!(err.within("body").field, "body.items[1].at");
        assert_eq!(from_value::<Page>(serde_json::json!(7)).unwrap_err().field, "$");
        assert_eq!(from_slice::<Page>(b"{").unwrap_err().field, "$");
    }
}
