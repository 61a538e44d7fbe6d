//! A connection to a wiremock server with a recording sleeper.

use std::sync::Arc;

use rolodex_http::{Auth, ClientOptions, HttpConnection, RecordingSleeper, RetryPolicy, build_client};

pub fn connection(auth: Auth, retry: RetryPolicy) -> (HttpConnection, Arc<RecordingSleeper>) {
    let sleeper = Arc::new(RecordingSleeper::default());
    let client = build_client(&ClientOptions::default()).unwrap();
    (HttpConnection::new(client, auth).with_retry(retry).with_sleeper(sleeper.clone()), sleeper)
}

pub fn no_jitter() -> RetryPolicy {
    RetryPolicy { jitter: false, ..RetryPolicy::default() }
}
