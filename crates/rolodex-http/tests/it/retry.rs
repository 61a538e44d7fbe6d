//! The retry loop of `HttpConnection::send`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rolodex_domain::ports::ProviderError;
use rolodex_http::{Auth, RetryPolicy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{connection, no_jitter};

async fn server_with(responses: Vec<ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    let n = responses.len() as u64;
    for (i, r) in responses.into_iter().enumerate() {
        // Each answer is served once, in order; the last one repeats.
        let mock = Mock::given(method("GET")).and(path("/x")).respond_with(r);
        let mock = if (i as u64) < n - 1 { mock.up_to_n_times(1) } else { mock };
        server.register(mock.with_priority(u8::try_from(i + 1).unwrap())).await;
    }
    server
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let server = server_with(vec![
        ResponseTemplate::new(429).insert_header("Retry-After", "7"),
        ResponseTemplate::new(200).set_body_string("ok"),
    ])
    .await;
    let (conn, sleeper) = connection(Auth::None, no_jitter());
    let url = format!("{}/x", server.uri());
    let r = conn.send(|c| c.get(&url)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sleeper.delays(), [Duration::from_secs(7)]);
}

#[tokio::test]
async fn retry_after_as_an_http_date_and_backoff_without_it() {
    let at = time::OffsetDateTime::now_utc() + Duration::from_secs(90);
    let date = at
        .format(time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .unwrap();
    let server = server_with(vec![
        ResponseTemplate::new(503).insert_header("Retry-After", date.as_str()),
        ResponseTemplate::new(504),
        ResponseTemplate::new(408),
        ResponseTemplate::new(200),
    ])
    .await;
    let (conn, sleeper) = connection(Auth::None, no_jitter());
    let url = format!("{}/x", server.uri());
    assert_eq!(conn.send(|c| c.get(&url)).await.unwrap().status(), 200);
    let d = sleeper.delays();
    assert_eq!(d.len(), 3);
    assert!((Duration::from_secs(85)..=Duration::from_secs(90)).contains(&d[0]), "{d:?}");
    assert_eq!(&d[1..], [Duration::from_millis(1000), Duration::from_millis(2000)], "500 ms doubling");
}

#[tokio::test]
async fn other_4xx_and_500_are_not_retried() {
    for status in [400, 403, 404, 409, 410, 422, 500] {
        let server = server_with(vec![ResponseTemplate::new(status)]).await;
        let (conn, sleeper) = connection(Auth::None, no_jitter());
        let url = format!("{}/x", server.uri());
        assert_eq!(conn.send(|c| c.get(&url)).await.unwrap().status(), status);
        assert!(sleeper.delays().is_empty());
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "{status}");
    }
}

#[tokio::test]
async fn spent_retries_and_long_waits_become_rate_limited() {
    let server = server_with(vec![ResponseTemplate::new(429).insert_header("Retry-After", "1")]).await;
    let (conn, sleeper) = connection(Auth::None, no_jitter());
    let url = format!("{}/x", server.uri());
    let e = conn.send(|c| c.get(&url)).await.unwrap_err();
    assert!(matches!(e, ProviderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(1)), "{e:?}");
    assert_eq!(sleeper.delays().len(), 3);
    assert_eq!(server.received_requests().await.unwrap().len(), 4);

    let server = server_with(vec![ResponseTemplate::new(429).insert_header("Retry-After", "3600")]).await;
    let (conn, sleeper) = connection(Auth::None, no_jitter());
    let url = format!("{}/x", server.uri());
    let e = conn.send(|c| c.get(&url)).await.unwrap_err();
    assert!(matches!(e, ProviderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(3600)));
    assert!(sleeper.delays().is_empty(), "an hour is not waited for in-process");

    let server = server_with(vec![ResponseTemplate::new(504)]).await;
    let (conn, _) = connection(Auth::None, RetryPolicy::never());
    let url = format!("{}/x", server.uri());
    assert!(matches!(conn.send(|c| c.get(&url)).await, Err(ProviderError::Transient(_))));
}

/// A server that accepts connections and closes them at once (a connection reset).
async fn resetting_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (format!("http://{addr}/x"), accepted)
}

#[tokio::test]
async fn connection_resets_are_retried_for_idempotent_requests_only() {
    let (url, accepted) = resetting_server().await;
    let (conn, sleeper) = connection(Auth::None, no_jitter());
    assert!(matches!(conn.send(|c| c.get(&url)).await, Err(ProviderError::Transient(_))));
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
    assert_eq!(sleeper.delays().len(), 3);

    let (url, accepted) = resetting_server().await;
    let (conn, _) = connection(Auth::None, no_jitter());
    assert!(matches!(conn.send(|c| c.post(&url).body("x")).await, Err(ProviderError::Transient(_))));
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "a POST that reached the server is not resent");
}
