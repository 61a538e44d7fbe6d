//! Small parsers for query parameters and headers, each failing with a 422 that names the
//! parameter and says what is accepted.

use uuid::Uuid;

use crate::error::ApiError;

/// A page size: `1..=1000`, `default` when absent.
///
/// # Errors
/// 422 naming `field`.
pub fn limit(field: &str, value: Option<&str>, default: u32) -> Result<u32, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_field(field, format!("`{v}` is not a whole number from 1 to 1000"))),
        },
    }
}

/// An optional UUID.
///
/// # Errors
/// 422 naming `field`.
pub fn uuid(field: &str, value: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => {
            Uuid::parse_str(v).map(Some).map_err(|_| ApiError::invalid_field(field, format!("`{v}` is not a UUID")))
        }
    }
}

/// An optional boolean (`true`/`false`/`1`/`0`).
///
/// # Errors
/// 422 naming `field`.
pub fn boolean(field: &str, value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(v) => Err(ApiError::invalid_field(field, format!("`{v}` is not true or false"))),
    }
}

/// An optional value parsed by `parse`, whose error message is used as is.
///
/// # Errors
/// 422 naming `field`.
pub fn with<T>(
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).map_err(|m| ApiError::invalid_field(field, m)),
    }
}

/// The version an `If-Match` header asks for: `3`, `"3"` or `W/"3"`.
///
/// # Errors
/// 422 naming `If-Match`.
pub fn if_match(headers: &axum::http::HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>().map(Some).map_err(|_| {
        ApiError::invalid_field(
            "If-Match",
            format!("`{text}` is not a contact version (send the ETag you read, e.g. \"3\")"),
        )
    })
}
