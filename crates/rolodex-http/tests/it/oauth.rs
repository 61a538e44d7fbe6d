//! The refresh-token grant through `HttpConnection`: 401 then refresh, rotation, Google keeping its
//! refresh token, `invalid_grant`, a single refresh for concurrent 401s.

use std::sync::Arc;

use rolodex_domain::ports::ProviderError;
use rolodex_http::{Auth, MemoryTokenStore, OAuthConfig, OAuthSession, TokenSet};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use url::Url;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{connection, no_jitter};

fn session(server: &MockServer, config: OAuthConfig, store: Arc<MemoryTokenStore>) -> Arc<OAuthSession> {
    let config = config.with_token_url(Url::parse(&format!("{}/token", server.uri())).unwrap());
    let tokens = TokenSet {
        access_token: Some(SecretString::from("old-access")),
        refresh_token: SecretString::from("refresh-1"),
        expires_at: None,
        scope: None,
    };
    let client = rolodex_http::build_client(&rolodex_http::ClientOptions::default()).unwrap();
    Arc::new(OAuthSession::new(client, config, tokens, store))
}

async fn api(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api"))
        .and(header("authorization", "Bearer new-access"))
        .respond_with(ResponseTemplate::new(200))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"statusCode": 401, "message": "Invalid token: access token is invalid", "error": "Unauthorized"}),
        ))
        .with_priority(10)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_401_refreshes_once_and_saves_the_rotated_refresh_token() {
    let server = MockServer::start().await;
    api(&server).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=refresh-1"))
        .and(body_string_contains("user_type=Location"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "new-access", "token_type": "Bearer", "expires_in": 86399,
            "refresh_token": "refresh-2", "scope": "contacts.readonly contacts.write", "userType": "Location"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(MemoryTokenStore::default());
    let config = OAuthConfig::gohighlevel("client", SecretString::from("secret"), "Location", None);
    let (conn, _) = connection(Auth::OAuth(session(&server, config, store.clone())), no_jitter());
    let url = format!("{}/api", server.uri());
    assert_eq!(conn.send(|c| c.get(&url)).await.unwrap().status(), 200);
    assert_eq!(conn.send(|c| c.get(&url)).await.unwrap().status(), 200, "the new token is reused");
    let saved = store.saved();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].refresh_token.expose_secret(), "refresh-2");
    assert!(saved[0].expires_at.is_some());
    assert!(!format!("{:?}", saved[0]).contains("refresh-2"), "secrets never appear in Debug output");
}

#[tokio::test]
async fn google_keeps_its_refresh_token_and_concurrent_401s_refresh_once() {
    let server = MockServer::start().await;
    api(&server).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "new-access", "expires_in": 3599, "token_type": "Bearer",
            "scope": "https://www.googleapis.com/auth/contacts"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(MemoryTokenStore::default());
    let config = OAuthConfig::google("client", SecretString::from("secret"));
    let (conn, _) = connection(Auth::OAuth(session(&server, config, store.clone())), no_jitter());
    let url = format!("{}/api", server.uri());
    let (a, b, c) = tokio::join!(conn.send(|c| c.get(&url)), conn.send(|c| c.get(&url)), conn.send(|c| c.get(&url)));
    for r in [a, b, c] {
        assert_eq!(r.unwrap().status(), 200);
    }
    assert_eq!(store.saved().len(), 1);
    assert_eq!(store.saved()[0].refresh_token.expose_secret(), "refresh-1");
}

#[tokio::test]
async fn invalid_grant_needs_reauth_and_stops_calling() {
    let server = MockServer::start().await;
    api(&server).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "AADSTS70000: The provided value is not valid.",
            "error_codes": [70000], "timestamp": "2025-01-09 02:02:12Z", "trace_id": "t", "correlation_id": "c"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(MemoryTokenStore::default());
    let config =
        OAuthConfig::microsoft("common", "client", None, Some("offline_access Contacts.ReadWrite".into())).unwrap();
    let session = session(&server, config, store.clone());
    let (conn, _) = connection(Auth::OAuth(session.clone()), no_jitter());
    let url = format!("{}/api", server.uri());
    let e = conn.send(|c| c.get(&url)).await.unwrap_err();
    assert!(matches!(&e, ProviderError::NeedsReauth(m) if m.contains("invalid_grant")), "{e:?}");
    assert_eq!(e.retry(), rolodex_domain::ports::Retry::Never);
    assert!(store.needs_reauth().is_some());
    assert!(session.needs_reauth().await.is_some());
    let before = server.received_requests().await.unwrap().len();
    assert!(matches!(conn.send(|c| c.get(&url)).await, Err(ProviderError::NeedsReauth(_))));
    assert_eq!(server.received_requests().await.unwrap().len(), before, "no request after NeedsReauth");
}

#[tokio::test]
async fn a_refused_client_and_an_unavailable_endpoint_are_not_reauth() {
    for (status, body, transient) in [
        (400, json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}), false),
        (503, json!({"error": "temporarily_unavailable"}), true),
    ] {
        let server = MockServer::start().await;
        api(&server).await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        let store = Arc::new(MemoryTokenStore::default());
        let config = OAuthConfig::google("client", SecretString::from("secret"));
        let (conn, _) = connection(Auth::OAuth(session(&server, config, store.clone())), no_jitter());
        let url = format!("{}/api", server.uri());
        let e = conn.send(|c| c.get(&url)).await.unwrap_err();
        if transient {
            assert!(matches!(e, ProviderError::Transient(_)), "{e:?}");
        } else {
            assert!(matches!(e, ProviderError::Forbidden(ref m) if m.contains("invalid_client")), "{e:?}");
        }
        assert!(store.needs_reauth().is_none());
    }
}
