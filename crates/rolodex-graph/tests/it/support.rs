//! Builds a `GraphContacts` wired to a `GraphMock` with OAuth against the mock's token endpoint,
//! a retry policy without jitter and a sleeper that records delays instead of waiting.

use std::sync::Arc;

use rolodex_domain::Region;
use rolodex_graph::{GraphConfig, GraphContacts};
use rolodex_http::{
    Auth, ClientOptions, HttpConnection, MemoryTokenStore, OAuthConfig, OAuthSession, RecordingSleeper, RetryPolicy,
    TokenSet, build_client,
};
use rolodex_testkit::mocks::graph::GraphMock;
use secrecy::SecretString;
use url::Url;

pub struct Fixture {
    pub mock: GraphMock,
    pub graph: GraphContacts,
    pub sleeper: Arc<RecordingSleeper>,
    pub store: Arc<MemoryTokenStore>,
}

pub async fn fixture(max_page_size: usize, page_size: usize) -> Fixture {
    let mock = GraphMock::start_with_max_page_size(max_page_size).await;
    let client = build_client(&ClientOptions::default()).unwrap();
    let oauth = OAuthConfig::microsoft("common", "client-1", Some(SecretString::from("secret")), None)
        .unwrap()
        .with_token_url(Url::parse(&mock.token_url()).unwrap());
    let store = Arc::new(MemoryTokenStore::default());
    let tokens = TokenSet {
        access_token: mock.access_token().map(SecretString::from),
        refresh_token: SecretString::from(mock.refresh_token().unwrap()),
        expires_at: None,
        scope: None,
    };
    let session = OAuthSession::new(client.clone(), oauth, tokens, store.clone());
    let sleeper = Arc::new(RecordingSleeper::default());
    let conn = HttpConnection::new(client, Auth::OAuth(Arc::new(session)))
        .with_retry(RetryPolicy { jitter: false, ..RetryPolicy::default() })
        .with_sleeper(sleeper.clone());
    let mut config = GraphConfig::new(Region::parse("US").unwrap());
    config.base_url = Url::parse(&mock.graph_base()).unwrap();
    config.page_size = page_size;
    Fixture { graph: GraphContacts::new(conn, config), mock, sleeper, store }
}
