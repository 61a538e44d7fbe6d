//! GoHighLevel webhooks: signature verification over the raw body and parsing of the contact
//! events into [`RemoteContactEvent`]s.
//!
//! Two signature schemes exist [provider-apis 3.8]: the legacy `x-wh-signature` (base64 RSA-SHA256,
//! PKCS#1 v1.5, checked with HighLevel's published RSA key, [`HIGHLEVEL_RSA_PUBLIC_KEY_PEM`]) and
//! the newer `x-ghl-signature` (base64 Ed25519, with a separately configured key). When
//! `x-ghl-signature` is present it alone decides; there is no fallback to the legacy header.
//! A request with neither is rejected. What the HTTP layer answers is up to it:
//! [`WebhookError::is_unauthenticated`] separates 401 from 400.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use rolodex_domain::Region;
use rolodex_domain::ports::{RemoteContactEvent, RemoteEventKind};
use rsa::pkcs1v15::{Signature as RsaSignature, VerifyingKey as RsaVerifyingKey};
use rsa::signature::Verifier as _;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::mapping::GhlContact;
use rolodex_http::json::{FieldError, from_object, from_value, lenient_timestamp, nullable_vec};

/// The legacy signature header (RSA-SHA256).
pub const LEGACY_SIGNATURE_HEADER: &str = "x-wh-signature";
/// The current signature header (Ed25519).
pub const SIGNATURE_HEADER: &str = "x-ghl-signature";

/// HighLevel's published RSA-4096 public key for `x-wh-signature` [provider-apis 3.8, H4].
pub const HIGHLEVEL_RSA_PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC
Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6
dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB
csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv
uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF
3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU
J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp
IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN
h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC
HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ
PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk
T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==
-----END PUBLIC KEY-----
";

/// Which scheme authenticated a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScheme {
    /// `x-ghl-signature`, Ed25519.
    Ed25519,
    /// `x-wh-signature`, RSA-SHA256 (legacy; HighLevel stops sending it on 2026-07-01).
    RsaSha256,
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Neither `x-ghl-signature` nor `x-wh-signature` was sent.
    #[error("the webhook carries no x-ghl-signature or x-wh-signature header")]
    MissingSignature,
    /// The delivery is signed with a scheme we hold no key for.
    #[error("no public key is configured for {0}")]
    NoKeyFor(&'static str),
    /// The signature is not base64, or does not verify over the raw body.
    #[error("the {0} signature does not verify over the request body")]
    BadSignature(&'static str),
    /// The delivery's `timestamp` is too far from now (a replay, or a badly skewed clock).
    #[error("the webhook timestamp {timestamp} is more than {max_skew_secs}s away from now")]
    Stale {
        /// The delivery's timestamp (RFC 3339).
        timestamp: String,
        /// The tolerance in seconds.
        max_skew_secs: i64,
    },
    /// The body is not JSON, or a field has the wrong shape.
    #[error("malformed webhook body: `{field}`: {message}")]
    Malformed {
        /// The field path (`$` for the whole body).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A well-formed event of a type this adapter does not handle (opportunities, appointments, ...).
    #[error("unhandled webhook event type `{0}`")]
    UnknownEvent(String),
}

impl WebhookError {
    /// True for authentication failures (answer 401); false for a bad or unhandled body (400, or
    /// 200-and-ignore for [`WebhookError::UnknownEvent`]).
    #[must_use]
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, Self::MissingSignature | Self::NoKeyFor(_) | Self::BadSignature(_) | Self::Stale { .. })
    }
}

impl From<FieldError> for WebhookError {
    fn from(e: FieldError) -> Self {
        Self::Malformed { field: e.field, message: e.message }
    }
}

/// A configured public key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme} public key: {message}")]
pub struct KeyError {
    /// `rsa` or `ed25519`.
    pub scheme: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Checks webhook signatures over the raw request body.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    rsa: Option<RsaVerifyingKey<Sha256>>,
    ed25519: Option<ed25519_dalek::VerifyingKey>,
}

impl WebhookVerifier {
    /// A verifier with the given keys. `rsa_pem` is an SPKI PEM (`BEGIN PUBLIC KEY`) or PKCS#1 PEM
    /// (`BEGIN RSA PUBLIC KEY`); `ed25519` is an SPKI PEM, or the 32 raw key bytes in base64 or hex
    /// (HighLevel's published form is UNCONFIRMED, so all three are read). A scheme without a key
    /// refuses every delivery signed with it.
    ///
    /// # Errors
    /// [`KeyError`] when a key cannot be read.
    pub fn new(rsa_pem: Option<&str>, ed25519: Option<&str>) -> Result<Self, KeyError> {
        let rsa = rsa_pem.map(parse_rsa_key).transpose()?;
        let ed25519 = ed25519.map(parse_ed25519_key).transpose()?;
        Ok(Self { rsa, ed25519 })
    }

    /// HighLevel's published RSA key for the legacy header, plus the configured Ed25519 key.
    ///
    /// # Errors
    /// [`KeyError`] when the Ed25519 key cannot be read.
    pub fn highlevel(ed25519: Option<&str>) -> Result<Self, KeyError> {
        Self::new(Some(HIGHLEVEL_RSA_PUBLIC_KEY_PEM), ed25519)
    }

    /// Verifies a delivery. `header` looks a request header up by its lower-case name.
    ///
    /// # Errors
    /// [`WebhookError::MissingSignature`], [`WebhookError::NoKeyFor`] or
    /// [`WebhookError::BadSignature`].
    pub fn verify<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
    ) -> Result<SignatureScheme, WebhookError> {
        if let Some(sig) = header(SIGNATURE_HEADER) {
            let key = self.ed25519.as_ref().ok_or(WebhookError::NoKeyFor(SIGNATURE_HEADER))?;
            let bad = || WebhookError::BadSignature(SIGNATURE_HEADER);
            let bytes = BASE64.decode(sig.trim()).map_err(|_| bad())?;
            let sig = ed25519_dalek::Signature::from_slice(&bytes).map_err(|_| bad())?;
            key.verify_strict(body, &sig).map_err(|_| bad())?;
            return Ok(SignatureScheme::Ed25519);
        }
        if let Some(sig) = header(LEGACY_SIGNATURE_HEADER) {
            let key = self.rsa.as_ref().ok_or(WebhookError::NoKeyFor(LEGACY_SIGNATURE_HEADER))?;
            let bad = || WebhookError::BadSignature(LEGACY_SIGNATURE_HEADER);
            let bytes = BASE64.decode(sig.trim()).map_err(|_| bad())?;
            let sig = RsaSignature::try_from(bytes.as_slice()).map_err(|_| bad())?;
            key.verify(body, &sig).map_err(|_| bad())?;
            return Ok(SignatureScheme::RsaSha256);
        }
        Err(WebhookError::MissingSignature)
    }
}

fn parse_rsa_key(pem: &str) -> Result<RsaVerifyingKey<Sha256>, KeyError> {
    use rsa::pkcs1::DecodeRsaPublicKey as _;
    use rsa::pkcs8::DecodePublicKey as _;
    let pem = pem.trim();
    let key = rsa::RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|e| KeyError { scheme: "rsa", message: e.to_string() })?;
    Ok(RsaVerifyingKey::new(key))
}

fn parse_ed25519_key(text: &str) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
    let err = |message: String| KeyError { scheme: "ed25519", message };
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return ed25519_dalek::VerifyingKey::from_public_key_pem(text).map_err(|e| err(e.to_string()));
    }
    let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|e| err(e.to_string()))?
    } else {
        BASE64.decode(text).map_err(|e| err(format!("neither PEM, hex nor base64: {e}")))?
    };
    // SPKI DER in base64 (44 bytes) is accepted too.
    if bytes.len() != 32 {
        return ed25519_dalek::VerifyingKey::from_public_key_der(&bytes)
            .map_err(|e| err(format!("expected 32 key bytes or SPKI DER, got {} bytes: {e}", bytes.len())));
    }
    let mut raw = [0_u8; 32];
    raw.copy_from_slice(&bytes);
    ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|e| err(e.to_string()))
}

/// The contact webhook event types this adapter handles.
pub const CONTACT_EVENTS: [&str; 5] =
    ["ContactCreate", "ContactUpdate", "ContactDelete", "ContactDndUpdate", "ContactTagUpdate"];

/// A parsed contact webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct GhlWebhook {
    /// The event type (`ContactCreate`, ...).
    pub event_type: String,
    /// The delivery's `timestamp`, when sent.
    pub timestamp: Option<OffsetDateTime>,
    /// The domain event. `delivery_id` is `webhookId`, or `sha256:<hex of the body>` when the
    /// delivery has none (the per-event examples omit it), so a redelivered body still dedupes.
    /// `occurred_at` is the contact's `dateUpdated`, else the delivery `timestamp`.
    pub event: RemoteContactEvent,
}

impl GhlWebhook {
    /// Refuses a delivery whose `timestamp` is more than `max_skew` from `now` (replay protection,
    /// HighLevel suggests about 5 minutes). A delivery without a timestamp passes: dedupe on the
    /// delivery id covers it.
    ///
    /// # Errors
    /// [`WebhookError::Stale`].
    pub fn ensure_fresh(&self, now: OffsetDateTime, max_skew: Duration) -> Result<(), WebhookError> {
        match self.timestamp {
            Some(ts) if (now - ts).abs() > max_skew => Err(WebhookError::Stale {
                timestamp: ts.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                max_skew_secs: max_skew.whole_seconds(),
            }),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    webhook_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    timestamp: Option<OffsetDateTime>,
    #[serde(default)]
    location_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DeleteBody {
    id: String,
    #[serde(default, rename = "dateUpdated", deserialize_with = "lenient_timestamp")]
    date_updated: Option<OffsetDateTime>,
}

#[derive(Debug, Deserialize)]
struct DndBody {
    dnd: bool,
}

#[derive(Debug, Deserialize)]
struct TagsBody {
    #[serde(deserialize_with = "nullable_vec")]
    tags: Vec<String>,
}

/// Parses a verified webhook body. `region` is assumed for phone numbers without a country code.
///
/// # Errors
/// [`WebhookError::Malformed`] naming the field, or [`WebhookError::UnknownEvent`] for a
/// well-formed event of another type.
pub fn parse_webhook(body: &[u8], region: Region) -> Result<GhlWebhook, WebhookError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed { field: "$".into(), message: format!("not JSON: {e}") })?;
    let envelope: Envelope = from_object(value.clone())?;
    if !CONTACT_EVENTS.contains(&envelope.event_type.as_str()) {
        return Err(WebhookError::UnknownEvent(envelope.event_type));
    }
    let account = envelope
        .location_id
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(|| WebhookError::Malformed { field: "locationId".into(), message: "missing".into() })?;
    let delivery_id = envelope.webhook_id.filter(|w| !w.trim().is_empty()).unwrap_or_else(|| {
        let digest = Sha256::digest(body);
        format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
    });
    let (external_id, updated, kind) = match envelope.event_type.as_str() {
        "ContactDelete" => {
            let b: DeleteBody = from_value(value)?;
            (b.id, b.date_updated, RemoteEventKind::Deleted)
        }
        other => {
            // The envelope's `type` is the event type, not the contact's type (lead, customer):
            // the contact is read without the envelope keys.
            let mut body = value.clone();
            if let Value::Object(map) = &mut body {
                for key in ["type", "webhookId", "timestamp"] {
                    map.remove(key);
                }
            }
            let contact: GhlContact = from_value(body)?;
            let (id, updated) = (contact.id.clone(), contact.date_updated);
            let kind = match other {
                "ContactDndUpdate" => RemoteEventKind::DndChanged(from_value::<DndBody>(value)?.dnd),
                "ContactTagUpdate" => RemoteEventKind::TagsChanged(from_value::<TagsBody>(value)?.tags),
                "ContactCreate" => RemoteEventKind::Created(Box::new(contact.into_incoming(region)?)),
                _ => RemoteEventKind::Updated(Box::new(contact.into_incoming(region)?)),
            };
            (id, updated, kind)
        }
    };
    if external_id.trim().is_empty() {
        return Err(WebhookError::Malformed { field: "id".into(), message: "empty".into() });
    }
    Ok(GhlWebhook {
        event_type: envelope.event_type,
        timestamp: envelope.timestamp,
        event: RemoteContactEvent {
            delivery_id,
            account,
            external_id,
            occurred_at: updated.or(envelope.timestamp),
            kind,
        },
    })
}
