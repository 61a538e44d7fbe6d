//! Building a [`ContactSource`] from a stored connection: the provider adapter (`graph`, `google`,
//! `ghl`) over an [`HttpConnection`] with the connection's access token. [`StoreSources`] is the
//! `ContactSources` port the scheduled-sync job handler uses; `rolodex sync` uses it too.
//!
//! Connection settings that the `Connection` record has no field for (today only the API base
//! URL, for tests against mocks and for regional endpoints) are kept among its scopes as
//! `rolodex:base_url=<url>` (see `docs/cli.md`; a `settings` field on connections would be better).
//! Tokens are used as bearer tokens: the CLI has no OAuth client settings, so an expired access
//! token makes the connection fail with "unauthorized" until a new one is stored.

use std::sync::Arc;

use async_trait::async_trait;
use rolodex_app::jobs::ContactSources;
use rolodex_domain::ports::storage::{Connection, ConnectionStatus, ConnectionStore, ConnectionStoreError};
use rolodex_domain::ports::{ContactSource, ProviderError};
use rolodex_domain::{ConnectionId, OrgId, Region};
use rolodex_ghl::GhlContacts;
use rolodex_google::GoogleContacts;
use rolodex_graph::{GraphConfig, GraphContacts};
use rolodex_http::{Auth, ClientOptions, HttpConnection, build_client};
use rolodex_store::Store;

/// The providers the CLI can connect.
pub const PROVIDERS: &[&str] = &["graph", "google", "ghl"];

/// The scope prefix that carries a connection's API base URL.
pub const BASE_URL_SCOPE: &str = "rolodex:base_url=";

/// The base URL stored with a connection, if any.
#[must_use]
pub fn base_url(connection: &Connection) -> Option<&str> {
    connection.scopes.iter().find_map(|s| s.strip_prefix(BASE_URL_SCOPE))
}

/// Sources over the store's connections.
#[derive(Clone)]
pub struct StoreSources {
    store: Store,
    region: Region,
    client: reqwest::Client,
}

impl std::fmt::Debug for StoreSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSources").field("region", &self.region).finish_non_exhaustive()
    }
}

impl StoreSources {
    /// Sources reading phone numbers without a country code in `region`.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(store: Store, region: Region) -> Result<Self, ProviderError> {
        Ok(Self { store, region, client: build_client(&ClientOptions::default())? })
    }

    /// The source of an already loaded connection.
    ///
    /// # Errors
    /// [`ProviderError::NeedsReauth`] for a connection without an access token or marked
    /// `needs_reauth`; [`ProviderError::Invalid`]-like errors for an unknown provider or base URL.
    pub fn build(&self, connection: &Connection) -> Result<Arc<dyn ContactSource>, ProviderError> {
        if connection.status != ConnectionStatus::Active {
            return Err(ProviderError::NeedsReauth(format!(
                "connection {} is {}: store new tokens",
                connection.id,
                connection.status.as_str()
            )));
        }
        let token =
            connection.tokens.access_token.clone().ok_or_else(|| {
                ProviderError::NeedsReauth(format!("connection {} has no access token", connection.id))
            })?;
        let conn = HttpConnection::new(self.client.clone(), Auth::Bearer(token));
        let base = base_url(connection);
        let source: Arc<dyn ContactSource> = match connection.provider.as_str() {
            "graph" => {
                let mut config = GraphConfig::new(self.region);
                if let Some(base) = base {
                    config.base_url = url::Url::parse(base).map_err(|e| {
                        ProviderError::NotFound(format!("connection {}: base URL `{base}`: {e}", connection.id))
                    })?;
                }
                Arc::new(GraphContacts::new(conn, config))
            }
            "google" => {
                let g = GoogleContacts::new(conn, self.region);
                Arc::new(match base {
                    Some(base) => g.with_base_url(base),
                    None => g,
                })
            }
            "ghl" => {
                let g = GhlContacts::new(conn, connection.account.clone(), self.region);
                Arc::new(match base {
                    Some(base) => g.with_base_url(base),
                    None => g,
                })
            }
            other => {
                return Err(ProviderError::NotFound(format!(
                    "connection {}: provider `{other}` has no adapter (expected one of {})",
                    connection.id,
                    PROVIDERS.join(", ")
                )));
            }
        };
        Ok(source)
    }
}

#[async_trait]
impl ContactSources for StoreSources {
    async fn source(&self, org: OrgId, connection: ConnectionId) -> Result<Arc<dyn ContactSource>, ProviderError> {
        let c = match self.store.get_connection(org, connection).await {
            Ok(c) => c,
            Err(ConnectionStoreError::NotFound { .. }) => {
                return Err(ProviderError::NotFound(format!("connection {connection}")));
            }
            Err(e) => return Err(ProviderError::Unexpected(Box::new(e))),
        };
        self.build(&c)
    }
}
