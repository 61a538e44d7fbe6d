//! `POST /v1/webhooks/ghl`: signature first (401, nothing stored), then parse, then store once per
//! webhook id (a duplicate is a 200 no-op), an unknown location is a 404.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rolodex_domain::WebhookReceiptId;
use rolodex_domain::ports::storage::WebhookReceiptStore as _;
use serde_json::{Value, json};

use crate::support::App;

fn delivery(location: &str, webhook_id: &str) -> Value {
    json!({
        "type": "ContactCreate",
        "locationId": location,
        "webhookId": webhook_id,
        "timestamp": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap(),
        "id": "ghl-contact-1",
        "firstName": "Ann",
        "lastName": "Lee",
        "email": "ann@hook.example",
    })
}

fn unsigned(body: &Value, signature: Option<&str>) -> Request<Body> {
    let mut b =
        Request::builder().method(Method::POST).uri("/v1/webhooks/ghl").header("content-type", "application/json");
    if let Some(sig) = signature {
        b = b.header("x-ghl-signature", sig);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

pub async fn webhook_delivery(app: App) {
    app.connect_ghl(&app.key, "loc-hook").await;

    // Missing and bad signatures: 401, and nothing is stored (the same webhook id is new later).
    let body = delivery("loc-hook", "wh-1");
    let r = app.send(unsigned(&body, None)).await;
    assert!(r.problem(401)["detail"].as_str().unwrap().contains("signature"), "{}", r.body);
    let mut tampered = app.signed_webhook(&body);
    *tampered.body_mut() = Body::from(delivery("loc-hook", "wh-1").to_string().replace("Ann", "Eve"));
    app.send(tampered).await.problem(401);
    app.send(unsigned(&body, Some("bm90IGEgc2lnbmF0dXJl"))).await.problem(401);

    // A good delivery: 200, stored once.
    let first = app.send(app.signed_webhook(&body)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["status"], "accepted", "{}", first.body);
    let receipts = first.body["receipts"].as_array().unwrap().clone();
    assert_eq!(receipts.len(), 1);
    let receipt = WebhookReceiptId::parse(receipts[0].as_str().unwrap()).unwrap();
    let stored = app.store.get_receipt(app.org, receipt).await.unwrap();
    assert_eq!(stored.delivery_id, "wh-1");
    assert_eq!(stored.provider, "ghl");

    // The same delivery again: still 200, not stored twice.
    let again = app.send(app.signed_webhook(&body)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["status"], "duplicate", "{}", again.body);
    assert_eq!(again.body["receipts"], json!(receipts));

    // A location no connection has: 404 naming it; nothing stored.
    let r = app.send(app.signed_webhook(&delivery("loc-unknown", "wh-2"))).await;
    assert!(r.problem(404)["detail"].as_str().unwrap().contains("loc-unknown"), "{}", r.body);

    // An event type we do not handle is acknowledged and ignored.
    let other = json!({"type": "OpportunityCreate", "locationId": "loc-hook", "id": "o-1"});
    let r = app.send(app.signed_webhook(&other)).await;
    assert_eq!((r.status, r.body["status"].as_str()), (StatusCode::OK, Some("ignored")), "{}", r.body);

    // A malformed contact event (signed) is a 400 naming the field.
    let malformed = json!({"type": "ContactCreate", "webhookId": "wh-3", "id": "c-9"});
    let r = app.send(app.signed_webhook(&malformed)).await;
    assert!(r.problem(400)["detail"].as_str().unwrap().contains("locationId"), "{}", r.body);

    // A stale delivery is refused like a bad signature.
    let mut stale = delivery("loc-hook", "wh-4");
    stale["timestamp"] = json!("2020-01-01T00:00:00Z");
    app.send(app.signed_webhook(&stale)).await.problem(401);

    // The webhook route needs no API key, and an API key does not replace a signature.
    let mut with_key = unsigned(&delivery("loc-hook", "wh-5"), None);
    with_key.headers_mut().insert("authorization", format!("Bearer {}", app.key).parse().unwrap());
    app.send(with_key).await.problem(401);
}
