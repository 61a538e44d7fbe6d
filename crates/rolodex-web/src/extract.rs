//! Request extractors whose failures are problem+json: [`ApiJson`] (a JSON body read through
//! `serde_path_to_error`, so a 422 names the field and why; 413 past the body limit; 415 for a
//! body that is not JSON), [`ApiQuery`] (query strings, 422 naming the parameter) and
//! [`ApiPath`] (path parameters, 404 naming the bad id).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// The body limit that applied, when a body was too large.
fn body_error(rejection: &BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(limit)
    } else {
        ApiError::bad_request(format!("the request body cannot be read: {}", rejection.body_text()))
    }
}

/// Reads the whole body, as bytes, under the route's limit.
pub(crate) async fn read_body(req: Request, state: &AppState, limit: usize) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|r| body_error(&r, limit))
}

/// Deserialises JSON with errors naming the field: 400 for broken JSON, 422 for a value of the
/// wrong shape.
///
/// # Errors
/// [`ApiError`] as above.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end().map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
            Ok(v)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let field = if path == "." { "body".to_owned() } else { path };
                    Err(ApiError::invalid_field(field, strip_position(&inner.to_string())))
                }
                _ => Err(ApiError::bad_request(format!("the body is not valid JSON: {inner}"))),
            }
        }
    }
}

/// serde_json appends ` at line 1 column 42` to data errors; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A JSON request body (`Content-Type: application/json`, or none).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or_default().trim();
            if !(essence == "application/json" || essence.ends_with("+json")) {
                return Err(ApiError::unsupported_media_type(format!(
                    "the body must be JSON (Content-Type: application/json), not `{essence}`"
                )));
            }
        }
        let bytes = read_body(req, state, state.limits.api).await?;
        let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { Bytes::from_static(b"{}") } else { bytes };
        parse_json(&bytes).map(ApiJson)
    }
}

/// Query parameters, with a 422 naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded_deserializer(query);
        match de {
            Ok(v) => Ok(ApiQuery(v)),
            Err((field, message)) => Err(ApiError::invalid_field(field, message)),
        }
    }
}

/// Deserialises a query string through `serde_path_to_error` over a JSON object of its pairs
/// (every value a string; the query DTOs parse numbers and ids themselves).
fn serde_urlencoded_deserializer<T: DeserializeOwned>(query: &str) -> Result<T, (String, String)> {
    let mut map = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k);
        let v = percent_decode(v);
        map.insert(k, serde_json::Value::String(v));
    }
    let value = serde_json::Value::Object(map);
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        (if path == "." { "query".to_owned() } else { path }, strip_position(&e.into_inner().to_string()))
    })
}

/// Decodes `%XX` escapes and `+` (a space) of a query component.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Path parameters; a parameter that does not parse (an id that is not a UUID) is a 404 naming it.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                Err(ApiError::not_found(format!("{}: ids are UUIDs", e.body_text())))
            }
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b.io"), "a@b.io");
        assert_eq!(percent_decode("%2B61%20400"), "+61 400");
        assert_eq!(percent_decode("Ann+Lee"), "Ann Lee");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
