//! The API scenarios: authentication and tenancy, contacts, connections, validation, sync runs and
//! the `sync_contacts` tool, body limits, health, and the OpenAPI document's completeness.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use rolodex_domain::ports::storage::{JobQueue as _, Role};
use rolodex_domain::{ContactFields, EmailAddress, IncomingContact};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::support::{API_LIMIT, App, WEBHOOK_LIMIT, bogus_key};

fn incoming(given: &str, family: &str, email: &str) -> IncomingContact {
    IncomingContact {
        external_id: Some(format!("ext-{given}")),
        fields: ContactFields {
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            emails: vec![EmailAddress::parse(email).unwrap()],
            ..ContactFields::default()
        },
        ..IncomingContact::default()
    }
}

fn field_of(problem: &Value) -> String {
    problem["errors"][0]["field"].as_str().unwrap_or_default().to_owned()
}

pub async fn auth_and_tenancy(app: App) {
    // No key, a bad key, a bad scheme: 401 with problem+json and a challenge.
    let r = app.call(Method::GET, "/v1/contacts", None, None).await;
    r.problem(401);
    assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");
    app.call(Method::GET, "/v1/contacts", Some(bogus_key().expose_secret()), None).await.problem(401);
    let req = axum::http::Request::builder()
        .uri("/v1/contacts")
        .header("authorization", format!("Basic {}", app.key))
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(req).await.problem(401);

    // A member without permissions, and a key without a user: contacts yes, integrations no.
    let member = app.key_for(app.org, Some(Role::Member)).await;
    let userless = app.key_for(app.org, None).await;
    for key in [&member, &userless] {
        assert_eq!(app.call(Method::GET, "/v1/contacts", Some(key), None).await.status, StatusCode::OK);
        let r = app.call(Method::GET, "/v1/connections", Some(key), None).await;
        assert!(r.problem(403)["detail"].as_str().unwrap().contains("manage_integrations"));
        app.call(Method::GET, "/v1/sync-runs", Some(key), None).await.problem(403);
        app.call(
            Method::POST,
            "/v1/tools/sync_contacts",
            Some(key),
            Some(json!({"provider": "ghl", "mode": "preview"})),
        )
        .await
        .problem(403);
    }

    // Organisation A's contact, connection and run are invisible to organisation B: 404.
    let contact = app.post("/v1/contacts", json!({"given_name": "Ann", "emails": ["ann@a.example"]})).await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
    let cid = contact.body["id"].as_str().unwrap().to_owned();
    let conn = app.connect_ghl(&app.key, "loc-tenancy").await;
    let run = app.post("/v1/sync-runs", json!({"connection_id": conn})).await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.body);
    let run_id = run.body["run_id"].as_str().unwrap().to_owned();

    let (_, other) = app.other_org().await;
    let other = Some(other.as_str());
    let path = format!("/v1/contacts/{cid}");
    app.call(Method::GET, &path, other, None).await.problem(404);
    app.call(Method::PUT, &path, other, Some(json!({"given_name": "Mallory"}))).await.problem(404);
    app.call(Method::DELETE, &path, other, None).await.problem(404);
    app.call(Method::GET, &format!("{path}/timeline"), other, None).await.problem(404);
    let found = app.call(Method::GET, "/v1/contacts?email=ann@a.example", other, None).await;
    assert_eq!(found.body["items"], json!([]), "{}", found.body);
    let path = format!("/v1/connections/{conn}");
    app.call(Method::GET, &path, other, None).await.problem(404);
    app.call(Method::DELETE, &path, other, None).await.problem(404);
    let list = app.call(Method::GET, "/v1/connections", other, None).await;
    assert_eq!(list.body, json!([]));
    let path = format!("/v1/sync-runs/{run_id}");
    app.call(Method::GET, &path, other, None).await.problem(404);
    app.call(Method::GET, &format!("{path}/items"), other, None).await.problem(404);
    app.call(Method::POST, &format!("{path}/execute"), other, None).await.problem(404);
    let runs = app.call(Method::GET, "/v1/sync-runs", other, None).await;
    assert_eq!(runs.body["items"], json!([]));
    app.call(Method::POST, "/v1/sync-runs", other, Some(json!({"connection_id": conn}))).await.problem(404);
    let audit = app.call(Method::GET, &format!("/v1/audit?entity_id={cid}"), other, None).await;
    assert_eq!(audit.body["items"], json!([]));

    // Organisation A still sees all of it.
    assert_eq!(app.get(&format!("/v1/contacts/{cid}")).await.status, StatusCode::OK);
}

pub async fn contacts_crud_search_timeline(app: App) {
    let created = app
        .post(
            "/v1/contacts",
            json!({
                "given_name": "Ann",
                "family_name": "Lee",
                "emails": ["Ann.Lee@Example.com"],
                "phones": ["(415) 555-0123", {"number": "+61 412 345 678", "kind": "mobile"}],
                "company": "Acme",
                "tags": ["vip"],
                "address": {"city": "Sydney"},
                "birthday": "1980-02-29"
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.headers.get("etag").unwrap(), "\"1\"");
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.headers.get("location").unwrap().to_str().unwrap(), format!("/v1/contacts/{id}"));
    let c = &created.body;
    assert_eq!(c["given_name"], "Ann");
    assert_eq!(c["phones"][0]["number"], "+14155550123");
    assert_eq!(c["phones"][1], json!({"number": "+61412345678", "kind": "mobile"}));
    assert_eq!(c["birthday"], "1980-02-29");
    assert_eq!(c["source"], "api");
    assert_eq!(c["version"], 1);

    let got = app.get(&format!("/v1/contacts/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, created.body);

    for query in ["email=ann.lee%40example.com", "phone=%2B1%20415%20555%200123", "name=lee", "name=ACME"] {
        let r = app.get(&format!("/v1/contacts?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{query}: {}", r.body);
    }
    assert_eq!(app.get("/v1/contacts?email=nobody%40example.com").await.body["items"], json!([]));

    // Replace with the right version, then a stale one.
    let put = |version: &str, body: Value| {
        let req = axum::http::Request::builder()
            .method(Method::PUT)
            .uri(format!("/v1/contacts/{id}"))
            .header("authorization", format!("Bearer {}", app.key))
            .header("content-type", "application/json")
            .header("if-match", version)
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        app.send(req)
    };
    let updated = put(
        "\"1\"",
        json!({"given_name": "Ann", "family_name": "Lee", "emails": ["ann.lee@example.com"], "company": "Globex"}),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["company"], "Globex");
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.headers.get("etag").unwrap(), "\"2\"");
    let stale = put("\"1\"", json!({"given_name": "Annie"})).await;
    assert_eq!(stale.problem(409)["current_version"], 2);
    put("soon", json!({"given_name": "Annie"})).await.problem(422);

    // A second contact with the same email is refused, naming the first.
    let dup = app.post("/v1/contacts", json!({"given_name": "Other", "emails": ["ann.lee@example.com"]})).await;
    assert!(dup.problem(409)["detail"].as_str().unwrap().contains(&id), "{}", dup.body);

    // A contact with nothing to identify it is refused.
    app.post("/v1/contacts", json!({"tags": ["x"]})).await.problem(422);

    let timeline = app.get(&format!("/v1/contacts/{id}/timeline")).await;
    assert_eq!(timeline.status, StatusCode::OK, "{}", timeline.body);
    assert_eq!(timeline.body["contact"]["id"], id.as_str());
    let actions: Vec<&str> =
        timeline.body["changes"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"create") && actions.contains(&"update"), "{actions:?}");

    let deleted = app.call(Method::DELETE, &format!("/v1/contacts/{id}"), Some(&app.key), None).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(deleted.body["status"], "deleted");
    assert_eq!(app.get("/v1/contacts?name=lee").await.body["items"], json!([]));
    assert_eq!(app.get("/v1/contacts?name=lee&status=deleted").await.body["items"].as_array().unwrap().len(), 1);

    let audit = app.get(&format!("/v1/audit?entity_type=contact&entity_id={id}")).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    assert!(audit.body["items"].as_array().unwrap().len() >= 3, "{}", audit.body);

    app.get(&format!("/v1/contacts/{}", uuid::Uuid::new_v4())).await.problem(404);
    app.get("/v1/contacts/not-a-uuid").await.problem(404);
}

pub async fn connections_lifecycle(app: App) {
    let ghl = app
        .post(
            "/v1/connections",
            json!({"provider": "ghl", "account": "loc-1", "access_token": "pit-very-secret", "refresh_token": "r-secret"}),
        )
        .await;
    assert_eq!(ghl.status, StatusCode::CREATED, "{}", ghl.body);
    assert!(!ghl.body.to_string().contains("very-secret") && !ghl.body.to_string().contains("r-secret"));
    assert_eq!(ghl.body["two_way"], true);
    assert_eq!(ghl.body["status"], "active");
    assert_eq!(ghl.body["has_refresh_token"], true);
    let id = ghl.body["id"].as_str().unwrap().to_owned();
    let schedules = app.store.list_schedules(app.org).await.unwrap();
    assert!(schedules.iter().any(|s| s.name == format!("reconcile:{id}")), "{schedules:?}");

    let graph =
        app.post("/v1/connections", json!({"provider": "microsoft", "account": "me", "access_token": "t"})).await;
    assert_eq!(graph.status, StatusCode::CREATED, "{}", graph.body);
    assert_eq!(graph.body["provider"], "graph");
    assert_eq!(graph.body["two_way"], false);
    let one_way_ghl = app
        .post("/v1/connections", json!({"provider": "ghl", "account": "loc-2", "access_token": "t", "two_way": false}))
        .await;
    assert_eq!(one_way_ghl.body["two_way"], false, "{}", one_way_ghl.body);

    let r = app
        .post("/v1/connections", json!({"provider": "google", "account": "a", "access_token": "t", "two_way": true}))
        .await;
    assert_eq!(field_of(r.problem(422)), "two_way");
    let r = app.post("/v1/connections", json!({"provider": "myspace", "account": "", "access_token": "t"})).await;
    let fields: BTreeSet<String> =
        r.problem(422)["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, BTreeSet::from(["provider".to_owned(), "account".to_owned()]));
    app.post("/v1/connections", json!({"provider": "ghl", "account": "loc-1", "access_token": "t"})).await.problem(409);

    let list = app.get("/v1/connections").await;
    assert_eq!(list.body.as_array().unwrap().len(), 3, "{}", list.body);
    let only_graph = app.get("/v1/connections?provider=microsoft").await;
    assert_eq!(only_graph.body.as_array().unwrap().len(), 1, "{}", only_graph.body);

    let gone = app.call(Method::DELETE, &format!("/v1/connections/{id}"), Some(&app.key), None).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert_eq!(gone.body["status"], "disconnected");
    assert_eq!(app.get(&format!("/v1/connections/{id}")).await.body["status"], "disconnected");
    let schedules = app.store.list_schedules(app.org).await.unwrap();
    assert!(!schedules.iter().any(|s| s.name == format!("reconcile:{id}")), "{schedules:?}");
    let audit = app.get(&format!("/v1/audit?entity_type=connection&entity_id={id}")).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2, "{}", audit.body);
}

pub async fn validation_names_the_field(app: App) {
    let cases = [
        (json!({"emails": ["ann@example.com", "not-an-email"]}), "emails[1]"),
        (json!({"given_name": 5}), "given_name"),
        (json!({"given_name": "Ann", "phones": [{"number": "abc"}]}), "phones[0].number"),
        (json!({"given_name": "Ann", "birthday": "31/12/1958"}), "birthday"),
        (json!({"given_name": "Ann", "address": {"town": "x"}}), "address"),
    ];
    for (body, field) in cases {
        let r = app.post("/v1/contacts", body.clone()).await;
        let p = r.problem(422);
        assert!(field_of(p).starts_with(field), "{body}: {p}");
        assert!(p["detail"].as_str().unwrap().contains(field), "{body}: {p}");
    }
    let r = app.post("/v1/contacts", json!({"given_name": "Ann", "nickname": "A"})).await;
    assert!(r.problem(422)["detail"].as_str().unwrap().contains("nickname"), "{}", r.body);

    let req = |ct: &str, body: &str| {
        axum::http::Request::builder()
            .method(Method::POST)
            .uri("/v1/contacts")
            .header("authorization", format!("Bearer {}", app.key))
            .header("content-type", ct)
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap()
    };
    app.send(req("application/json", "{\"given_name\": ")).await.problem(400);
    app.send(req("text/plain", "{}")).await.problem(415);

    assert_eq!(field_of(app.get("/v1/contacts?limit=0").await.problem(422)), "limit");
    assert_eq!(field_of(app.get("/v1/contacts?email=nope").await.problem(422)), "email");
    assert!(app.get("/v1/contacts?colour=red").await.problem(422)["detail"].as_str().unwrap().contains("colour"));
    assert_eq!(field_of(app.get("/v1/sync-runs?status=done").await.problem(422)), "status");

    let tool = |args: Value| app.post("/v1/tools/sync_contacts", args);
    for (args, field) in [
        (json!({"provider": "myspace", "mode": "preview"}), "provider"),
        (json!({"mode": "preview"}), "provider"),
        (json!({"provider": "ghl"}), "mode"),
        (json!({"provider": "ghl", "mode": "now"}), "mode"),
        (json!({"provider": "ghl", "mode": "preview", "filters": {"maxContacts": "ten"}}), "filters.maxContacts"),
        (json!({"provider": "ghl", "mode": "preview", "filters": {"maxContacts": 2.5}}), "filters.maxContacts"),
        (
            json!({"provider": "ghl", "mode": "preview", "filters": {"updatedSince": "yesterday"}}),
            "filters.updatedSince",
        ),
        (json!({"provider": "ghl", "mode": "preview", "filters": {"categories": [1]}}), "filters.categories[0]"),
        (json!({"provider": "ghl", "mode": "preview", "filters": {"since": "2025-01-01"}}), "filters.since"),
        (json!({"provider": "ghl", "mode": "preview", "speed": "fast"}), "speed"),
        (json!({"provider": "ghl", "mode": "preview", "targetOrganization": "someone-else"}), "targetOrganization"),
        (json!({"provider": "ghl", "mode": "preview", "runId": "x"}), "runId"),
        (json!({"provider": "ghl", "mode": "preview"}), "provider"),
    ] {
        let r = tool(args.clone()).await;
        let p = r.problem(422);
        assert_eq!(field_of(p), field, "{args}: {p}");
    }
}

pub async fn sync_runs_and_tool(app: App) {
    let conn = app.connect_ghl(&app.key, "loc-sync").await;
    let conn_id = rolodex_domain::ConnectionId::parse(&conn).unwrap();
    app.sources
        .contacts
        .lock()
        .unwrap()
        .insert(conn_id, vec![incoming("Ann", "Lee", "ann@sync.example"), incoming("Bob", "Ray", "bob@sync.example")]);

    let preview = app.post("/v1/sync-runs", json!({"connection_id": conn, "mode": "full"})).await;
    assert_eq!(preview.status, StatusCode::CREATED, "{}", preview.body);
    assert_eq!(preview.body["counts"]["fetched"], 2);
    assert_eq!(preview.body["counts"]["listed"], 2);
    let run = preview.body["run_id"].as_str().unwrap().to_owned();
    assert_eq!(preview.body["items_url"], format!("/v1/sync-runs/{run}/items"));

    let runs = app.get("/v1/sync-runs").await;
    assert_eq!(runs.body["items"][0]["id"], run.as_str(), "{}", runs.body);
    let got = app.get(&format!("/v1/sync-runs/{run}")).await;
    assert_eq!(got.body["status"], "preview", "{}", got.body);
    assert_eq!(got.body["progress"]["pending_review"], 2);

    let items = app.get(&format!("/v1/sync-runs/{run}/items?review=pending")).await;
    let items = items.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["action"] == "create"), "{items:?}");
    let (first, second) = (items[0]["id"].as_str().unwrap(), items[1]["id"].as_str().unwrap());
    assert_eq!(app.get(&format!("/v1/sync-runs/{run}/items/{first}")).await.body["id"], first);
    let approved = app.post(&format!("/v1/sync-runs/{run}/items/{first}/approve"), json!({})).await;
    assert_eq!(approved.body["review"], "approved", "{}", approved.body);
    let rejected = app.post(&format!("/v1/sync-runs/{run}/items/{second}/reject"), json!({})).await;
    assert_eq!(rejected.body["review"], "rejected", "{}", rejected.body);
    let over = app.post(&format!("/v1/sync-runs/{run}/items/{second}/override"), json!({"action": "update"})).await;
    over.problem(422);
    let bulk = app
        .post(&format!("/v1/sync-runs/{run}/items/bulk"), json!({"operation": "reject", "item_ids": [second]}))
        .await;
    assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.body);
    let bad_bulk = app.post(&format!("/v1/sync-runs/{run}/items/bulk"), json!({"operation": "explode"})).await;
    bad_bulk.problem(422);

    let executed = app.post(&format!("/v1/sync-runs/{run}/execute"), json!({})).await;
    assert_eq!(executed.status, StatusCode::OK, "{}", executed.body);
    assert_eq!(executed.body["created"], 1);
    assert_eq!(app.get("/v1/contacts?email=ann%40sync.example").await.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/v1/contacts?email=bob%40sync.example").await.body["items"], json!([]));
    app.post(&format!("/v1/sync-runs/{run}/items/bulk"), json!({"operation": "approve_high_confidence"}))
        .await
        .problem(409);

    // The tool: its definition, a preview, an execute.
    let tools = app.call(Method::GET, "/v1/tools", None, None).await;
    let def = &tools.body["tools"][0];
    assert_eq!(def["type"], "function");
    assert_eq!(def["function"]["name"], "sync_contacts");
    assert_eq!(def["function"]["parameters"]["required"], json!(["provider", "mode"]));
    assert!(def["function"]["parameters"]["properties"]["filters"]["properties"]["maxContacts"].is_object());

    let p = app
        .post(
            "/v1/tools/sync_contacts",
            json!({"provider": "gohighlevel", "mode": "preview", "filters": {"maxContacts": 10}}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.body["mode"], "preview");
    let tool_run = p.body["run_id"].as_str().unwrap();
    assert_eq!(p.body["items_url"], format!("/v1/sync-runs/{tool_run}/items"));
    assert_eq!(p.body["preview"]["counts"]["fetched"], 2, "{}", p.body);
    assert!(p.body["summary"].as_str().unwrap().contains("Review"), "{}", p.body);

    let e = app
        .post(
            "/v1/tools/sync_contacts",
            json!({"provider": "ghl", "mode": "execute", "targetOrganization": app.org.to_string()}),
        )
        .await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    assert_eq!(e.body["mode"], "execute");
    assert!(e.body["execute"].is_object(), "{}", e.body);
    let executed = &e.body["execute"];
    let applied = executed["created"].as_u64().unwrap() + executed["updated"].as_u64().unwrap();
    assert_eq!(
        applied + e.body["pending_review"].as_u64().unwrap() + executed["skipped"].as_u64().unwrap(),
        e.body["preview"]["counts"]["listed"].as_u64().unwrap(),
        "{}",
        e.body
    );
}

pub async fn body_limits(app: App) {
    let big = "x".repeat(API_LIMIT + 10);
    let r = app.post("/v1/contacts", json!({"given_name": big})).await;
    assert!(r.problem(413)["detail"].as_str().unwrap().contains(&API_LIMIT.to_string()));
    let body = json!({"type": "ContactCreate", "locationId": "x", "pad": "y".repeat(WEBHOOK_LIMIT)});
    app.send(app.signed_webhook(&body)).await.problem(413);
    // Just under the API limit is fine (the webhook limit does not apply to it).
    let ok =
        app.post("/v1/contacts", json!({"given_name": "Ann", "custom": {"note": "z".repeat(WEBHOOK_LIMIT * 2)}})).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
}

pub async fn health_and_readiness(app: App) {
    let h = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((h.status, h.body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["checks"][0]["name"], "database");
    *app.readiness.down.lock().unwrap() = Some("connection refused".into());
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert!(r.problem(503)["detail"].as_str().unwrap().contains("database: connection refused"));
    assert!(r.headers.get("x-request-id").is_some());
}

pub async fn unknown_routes_and_methods(app: App) {
    let r = app.get("/v1/nothing-here").await;
    assert_eq!(r.problem(404)["type"], "https://rolodex.dev/problems/no-route");
    let r = app.call(Method::PATCH, "/v1/contacts", Some(&app.key), None).await;
    assert_eq!(r.problem(405)["type"], "https://rolodex.dev/problems/method-not-allowed");
}

/// Every route the API serves, and nothing else.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/v1/openapi.json"),
    ("get", "/v1/contacts"),
    ("post", "/v1/contacts"),
    ("get", "/v1/contacts/{id}"),
    ("put", "/v1/contacts/{id}"),
    ("delete", "/v1/contacts/{id}"),
    ("get", "/v1/contacts/{id}/timeline"),
    ("get", "/v1/connections"),
    ("post", "/v1/connections"),
    ("get", "/v1/connections/{id}"),
    ("delete", "/v1/connections/{id}"),
    ("get", "/v1/sync-runs"),
    ("post", "/v1/sync-runs"),
    ("get", "/v1/sync-runs/{id}"),
    ("get", "/v1/sync-runs/{id}/items"),
    ("get", "/v1/sync-runs/{id}/items/{item_id}"),
    ("post", "/v1/sync-runs/{id}/items/{item_id}/approve"),
    ("post", "/v1/sync-runs/{id}/items/{item_id}/reject"),
    ("post", "/v1/sync-runs/{id}/items/{item_id}/override"),
    ("post", "/v1/sync-runs/{id}/items/bulk"),
    ("post", "/v1/sync-runs/{id}/execute"),
    ("get", "/v1/audit"),
    ("get", "/v1/tools"),
    ("post", "/v1/tools/sync_contacts"),
    ("post", "/v1/webhooks/ghl"),
];

pub async fn openapi_documents_every_route(app: App) {
    let r = app.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc, serde_json::to_value(rolodex_web::openapi()).unwrap());
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((method.clone(), path.clone()));
            // Every operation documents its errors as problem+json.
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}");
            assert!(
                responses
                    .iter()
                    .any(|(s, r)| s.starts_with('5') && r["content"]["application/problem+json"].is_object()),
                "{method} {path} documents no problem+json error"
            );
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(documented, expected, "the document and the route list differ");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());

    // The router serves exactly the documented methods on every documented path.
    let all = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH];
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{item_id}", &uuid::Uuid::new_v4().to_string());
        for method in &all {
            let served = item.get(method.as_str().to_lowercase()).is_some();
            let r = app.call(method.clone(), &concrete, None, Some(json!({}))).await;
            let kind = r.body["type"].as_str().unwrap_or_default().to_owned();
            if served {
                assert!(
                    r.status != StatusCode::METHOD_NOT_ALLOWED && !kind.ends_with("/no-route"),
                    "{method} {path} is documented but not served: {}",
                    r.body
                );
            } else {
                assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is served but not documented");
            }
        }
    }
}
