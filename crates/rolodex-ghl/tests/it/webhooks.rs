//! Webhook signatures (RSA-SHA256 `x-wh-signature`, Ed25519 `x-ghl-signature`) with key pairs made
//! here, and parsing of the five contact events.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use rolodex_domain::Region;
use rolodex_domain::ports::RemoteEventKind;
use rolodex_ghl::webhook::{HIGHLEVEL_RSA_PUBLIC_KEY_PEM, LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER};
use rolodex_ghl::{SignatureScheme, WebhookError, WebhookVerifier, parse_webhook};
use rsa::pkcs8::LineEnding;
use rsa::signature::SignatureEncoding as _;
use serde_json::json;
use time::macros::datetime;

struct Keys {
    rsa: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    rsa_pem: String,
    ed: ed25519_dalek::SigningKey,
    ed_pem: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        let rsa_pem = private.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
        let ed = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
        let ed_pem = ed.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
        Keys { rsa: rsa::pkcs1v15::SigningKey::new(private), rsa_pem, ed, ed_pem }
    })
}

fn rsa_sig(body: &[u8]) -> String {
    BASE64.encode(keys().rsa.sign(body).to_bytes())
}

fn ed_sig(body: &[u8]) -> String {
    BASE64.encode(keys().ed.sign(body).to_bytes())
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(Some(&keys().rsa_pem), Some(&keys().ed_pem)).unwrap()
}

fn headers<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
    move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

const BODY: &[u8] = br#"{"type":"ContactTagUpdate","locationId":"ve9EPM428h8vShlRW1KT","id":"nmFmQEsNgz6AVpgLVUJ0","tags":["a","b"],"timestamp":"2025-01-28T14:35:00Z","webhookId":"abc123xyz"}"#;

#[test]
fn ed25519_signatures_verify_over_the_raw_body() {
    let sig = ed_sig(BODY);
    assert_eq!(verifier().verify(headers(&[(SIGNATURE_HEADER, &sig)]), BODY), Ok(SignatureScheme::Ed25519));
    // Re-serialised JSON (same meaning, other bytes) does not verify.
    let reserialised = serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(BODY).unwrap()).unwrap();
    assert_ne!(reserialised, BODY);
    assert_eq!(
        verifier().verify(headers(&[(SIGNATURE_HEADER, &sig)]), &reserialised),
        Err(WebhookError::BadSignature(SIGNATURE_HEADER))
    );
    // The raw 32 key bytes in base64 or hex are read too.
    let raw = keys().ed.verifying_key().to_bytes();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    for key in [BASE64.encode(raw), hex] {
        let v = WebhookVerifier::new(None, Some(&key)).unwrap();
        assert_eq!(v.verify(headers(&[(SIGNATURE_HEADER, &sig)]), BODY), Ok(SignatureScheme::Ed25519));
    }
}

#[test]
fn rsa_signatures_verify_over_the_raw_body() {
    let sig = rsa_sig(BODY);
    assert_eq!(verifier().verify(headers(&[(LEGACY_SIGNATURE_HEADER, &sig)]), BODY), Ok(SignatureScheme::RsaSha256));
    let mut tampered = BODY.to_vec();
    tampered[10] ^= 1;
    assert_eq!(
        verifier().verify(headers(&[(LEGACY_SIGNATURE_HEADER, &sig)]), &tampered),
        Err(WebhookError::BadSignature(LEGACY_SIGNATURE_HEADER))
    );
    // HighLevel's published key parses, and does not accept our signature.
    let highlevel = WebhookVerifier::highlevel(None).unwrap();
    assert_eq!(
        highlevel.verify(headers(&[(LEGACY_SIGNATURE_HEADER, &sig)]), BODY),
        Err(WebhookError::BadSignature(LEGACY_SIGNATURE_HEADER))
    );
    assert!(WebhookVerifier::new(Some(HIGHLEVEL_RSA_PUBLIC_KEY_PEM), None).is_ok());
}

#[test]
fn anything_else_is_rejected() {
    let v = verifier();
    assert_eq!(v.verify(headers(&[]), BODY), Err(WebhookError::MissingSignature));
    assert_eq!(v.verify(headers(&[("x-hub-signature", "abc")]), BODY), Err(WebhookError::MissingSignature));
    for junk in ["", "not base64!", "AAAA", &BASE64.encode([0_u8; 64])] {
        assert_eq!(
            v.verify(headers(&[(SIGNATURE_HEADER, junk)]), BODY),
            Err(WebhookError::BadSignature(SIGNATURE_HEADER)),
            "{junk:?}"
        );
        assert_eq!(
            v.verify(headers(&[(LEGACY_SIGNATURE_HEADER, junk)]), BODY),
            Err(WebhookError::BadSignature(LEGACY_SIGNATURE_HEADER)),
            "{junk:?}"
        );
    }
    // x-ghl-signature present and bad: no fallback to a valid legacy signature.
    let good_legacy = rsa_sig(BODY);
    assert_eq!(
        v.verify(headers(&[(SIGNATURE_HEADER, "AAAA"), (LEGACY_SIGNATURE_HEADER, &good_legacy)]), BODY),
        Err(WebhookError::BadSignature(SIGNATURE_HEADER))
    );
    // A signature made with the wrong key of the right scheme.
    let other = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let forged = BASE64.encode(other.sign(BODY).to_bytes());
    assert_eq!(
        v.verify(headers(&[(SIGNATURE_HEADER, &forged)]), BODY),
        Err(WebhookError::BadSignature(SIGNATURE_HEADER))
    );
    // A scheme without a configured key.
    let rsa_only = WebhookVerifier::new(Some(&keys().rsa_pem), None).unwrap();
    assert_eq!(
        rsa_only.verify(headers(&[(SIGNATURE_HEADER, &ed_sig(BODY))]), BODY),
        Err(WebhookError::NoKeyFor(SIGNATURE_HEADER))
    );
    assert!(WebhookError::NoKeyFor(SIGNATURE_HEADER).is_unauthenticated());
    assert!(WebhookVerifier::new(None, Some("not a key")).is_err());
    assert!(WebhookVerifier::new(Some("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"), None).is_err());
}

fn us() -> Region {
    Region::parse("US").unwrap()
}

#[test]
fn contact_events_parse_into_domain_events() {
    let base = json!({"locationId":"loc1","id":"c1","email":"JohnDeo@gmail.com","firstName":"John","lastName":"Deo",
        "phone":"+16502530000","dnd":true,"tags":["x","y"],"source":"xyz form","dateAdded":"2021-11-26T12:41:02.193Z",
        "customFields":[{"id":"cf","value":"XYZ Corp"}],"timestamp":"2025-01-28T14:35:00Z","webhookId":"wh-1"});
    let event = |t: &str, extra: serde_json::Value| {
        let mut body = base.clone();
        body["type"] = json!(t);
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        parse_webhook(&serde_json::to_vec(&body).unwrap(), us()).unwrap()
    };

    let created = event("ContactCreate", json!({"dateUpdated":"2025-01-28T14:34:59.000Z"}));
    assert_eq!(created.event_type, "ContactCreate");
    assert_eq!(created.event.delivery_id, "wh-1");
    assert_eq!(created.event.account, "loc1");
    assert_eq!(created.event.external_id, "c1");
    assert_eq!(created.event.occurred_at, Some(datetime!(2025-01-28 14:34:59 UTC)));
    assert_eq!(created.timestamp, Some(datetime!(2025-01-28 14:35:00 UTC)));
    let RemoteEventKind::Created(contact) = &created.event.kind else { panic!("{:?}", created.event.kind) };
    assert_eq!(contact.external_id.as_deref(), Some("c1"));
    assert!(contact.fields.do_not_disturb);
    assert_eq!(contact.fields.custom["ghl.source"], json!("xyz form"));
    assert_eq!(contact.fields.custom["ghl.customField.cf"], json!("XYZ Corp"));
    assert_eq!(contact.fields.phones[0].number.e164(), "+16502530000");

    let updated = event("ContactUpdate", json!({}));
    assert!(matches!(updated.event.kind, RemoteEventKind::Updated(_)));
    assert_eq!(updated.event.occurred_at, updated.timestamp, "no dateUpdated: the delivery timestamp");

    assert_eq!(event("ContactDelete", json!({})).event.kind, RemoteEventKind::Deleted);
    assert_eq!(event("ContactDndUpdate", json!({"dnd": false})).event.kind, RemoteEventKind::DndChanged(false));
    assert_eq!(
        event("ContactTagUpdate", json!({})).event.kind,
        RemoteEventKind::TagsChanged(vec!["x".into(), "y".into()])
    );
}

#[test]
fn deliveries_without_webhook_id_dedupe_on_the_body() {
    let body = br#"{"type":"ContactDelete","locationId":"loc1","id":"c9"}"#;
    let a = parse_webhook(body, us()).unwrap();
    let b = parse_webhook(body, us()).unwrap();
    assert!(a.event.delivery_id.starts_with("sha256:"));
    assert_eq!(a.event.delivery_id, b.event.delivery_id);
    assert_eq!(a.event.occurred_at, None);
    let other = parse_webhook(br#"{"type":"ContactDelete","locationId":"loc1","id":"c8"}"#, us()).unwrap();
    assert_ne!(a.event.delivery_id, other.event.delivery_id);
}

#[test]
fn bad_bodies_are_typed_errors_naming_the_field() {
    let err = |body: &str| parse_webhook(body.as_bytes(), us()).unwrap_err();
    fn malformed(field: &str) -> impl Fn(WebhookError) -> bool + '_ {
        move |e| matches!(e, WebhookError::Malformed { field: f, .. } if f == field)
    }
    assert!(malformed("$")(err("{not json")));
    assert!(malformed("$")(err("[1,2]")));
    assert!(malformed("type")(err(r#"{"type":5}"#)));
    assert!(malformed("locationId")(err(r#"{"type":"ContactUpdate","id":"c1"}"#)));
    assert!(malformed("id")(err(r#"{"type":"ContactUpdate","locationId":"l","id":""}"#)));
    assert!(malformed("dateUpdated")(err(
        r#"{"type":"ContactUpdate","locationId":"l","id":"c","dateUpdated":"later"}"#
    )));
    assert!(malformed("tags[0]")(err(r#"{"type":"ContactTagUpdate","locationId":"l","id":"c","tags":[1]}"#)));
    assert!(malformed("dnd")(err(r#"{"type":"ContactDndUpdate","locationId":"l","id":"c"}"#)));
    assert!(malformed("timestamp")(err(r#"{"type":"ContactDelete","locationId":"l","id":"c","timestamp":"x"}"#)));
    assert_eq!(
        err(r#"{"type":"OpportunityCreate","locationId":"l","id":"o"}"#),
        WebhookError::UnknownEvent("OpportunityCreate".into())
    );
    assert!(!WebhookError::UnknownEvent(String::new()).is_unauthenticated());
}

#[test]
fn stale_deliveries_are_refused() {
    let hook = parse_webhook(BODY, us()).unwrap();
    let five = time::Duration::minutes(5);
    assert_eq!(hook.ensure_fresh(datetime!(2025-01-28 14:39:00 UTC), five), Ok(()));
    assert!(matches!(hook.ensure_fresh(datetime!(2025-01-28 14:41:00 UTC), five), Err(WebhookError::Stale { .. })));
    assert!(matches!(hook.ensure_fresh(datetime!(2025-01-28 14:29:00 UTC), five), Err(WebhookError::Stale { .. })));
}
