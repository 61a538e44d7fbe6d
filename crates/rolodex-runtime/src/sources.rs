//! Provider adapters built from stored connections: the provider adapter (`graph`, `google`,
//! `ghl`) over an [`HttpConnection`] with the connection's access token, as a [`ContactSource`]
//! ([`StoreSources::build`], and the `ContactSources` port the scheduled-sync job handler uses) or
//! as a [`ContactSink`] ([`StoreSources::build_sink`], [`StoreSources::sink`]; every adapter writes:
//! Graph, Google and GoHighLevel all implement `ContactSink`). `rolodex sync` and the worker use it.
//!
//! The API base URL (for tests against mocks and for regional endpoints) comes from the
//! connection's settings, or from a `rolodex:base_url=<url>` scope as older connections kept it
//! (see `docs/cli.md`). Tokens are used as bearer tokens: there are no OAuth client settings yet, so an expired access
//! token makes the connection fail with "unauthorized" until a new one is stored.

use std::sync::Arc;

use async_trait::async_trait;
use rolodex_app::jobs::ContactSources;
use rolodex_domain::ports::storage::{Connection, ConnectionStatus, ConnectionStore, ConnectionStoreError};
use rolodex_domain::ports::{ContactSink, ContactSource, ProviderError};
use rolodex_domain::{ConnectionId, OrgId, Region};
use rolodex_ghl::GhlContacts;
use rolodex_google::GoogleContacts;
use rolodex_graph::{GraphConfig, GraphContacts};
use rolodex_http::{Auth, ClientOptions, HttpConnection, build_client};
use rolodex_store::Store;

/// The providers a connection can be made to.
pub const PROVIDERS: &[&str] = &["graph", "google", "ghl"];

/// The scope prefix that carries a connection's API base URL.
pub const BASE_URL_SCOPE: &str = "rolodex:base_url=";

/// The base URL stored with a connection, if any: its settings' `base_url`, else (connections
/// made before connections had settings) a `rolodex:base_url=` scope.
#[must_use]
pub fn base_url(connection: &Connection) -> Option<&str> {
    connection
        .settings
        .base_url
        .as_deref()
        .or_else(|| connection.scopes.iter().find_map(|s| s.strip_prefix(BASE_URL_SCOPE)))
}

/// Sources and sinks over the store's connections (one HTTP client shared by all).
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
    /// [`ProviderError::NeedsReauth`] for a connection without an access token or not active;
    /// [`ProviderError::NotFound`] for an unknown provider or an unreadable base URL.
    pub fn build(&self, connection: &Connection) -> Result<Arc<dyn ContactSource>, ProviderError> {
        Ok(match self.adapter(connection)? {
            Adapter::Graph(a) => Arc::new(a),
            Adapter::Google(a) => Arc::new(a),
            Adapter::Ghl(a) => Arc::new(a),
        })
    }

    /// The sink (writes to the provider) of an already loaded connection.
    ///
    /// # Errors
    /// As [`StoreSources::build`].
    pub fn build_sink(&self, connection: &Connection) -> Result<Arc<dyn ContactSink>, ProviderError> {
        Ok(match self.adapter(connection)? {
            Adapter::Graph(a) => Arc::new(a),
            Adapter::Google(a) => Arc::new(a),
            Adapter::Ghl(a) => Arc::new(a),
        })
    }

    /// The sink of `connection`, read from the store.
    ///
    /// # Errors
    /// [`ProviderError::NotFound`] when `org` has no such connection; otherwise as
    /// [`StoreSources::build_sink`].
    pub async fn sink(&self, org: OrgId, connection: ConnectionId) -> Result<Arc<dyn ContactSink>, ProviderError> {
        let c = self.connection(org, connection).await?;
        self.build_sink(&c)
    }

    /// Reads a connection, as a provider error.
    async fn connection(&self, org: OrgId, connection: ConnectionId) -> Result<Connection, ProviderError> {
        match self.store.get_connection(org, connection).await {
            Ok(c) => Ok(c),
            Err(ConnectionStoreError::NotFound { .. }) => {
                Err(ProviderError::NotFound(format!("connection {connection}")))
            }
            Err(e) => Err(ProviderError::Unexpected(Box::new(e))),
        }
    }

    /// The provider adapter of an active connection with an access token.
    fn adapter(&self, connection: &Connection) -> Result<Adapter, ProviderError> {
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
        Ok(match connection.provider.as_str() {
            "graph" => {
                let mut config = GraphConfig::new(self.region);
                if let Some(base) = base {
                    config.base_url = url::Url::parse(base).map_err(|e| {
                        ProviderError::NotFound(format!("connection {}: base URL `{base}`: {e}", connection.id))
                    })?;
                }
                Adapter::Graph(GraphContacts::new(conn, config))
            }
            "google" => {
                let g = GoogleContacts::new(conn, self.region);
                Adapter::Google(match base {
                    Some(base) => g.with_base_url(base),
                    None => g,
                })
            }
            "ghl" => {
                let g = GhlContacts::new(conn, connection.account.clone(), self.region);
                Adapter::Ghl(match base {
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
        })
    }
}

/// One provider adapter: each is both a source and a sink.
enum Adapter {
    Graph(GraphContacts),
    Google(GoogleContacts),
    Ghl(GhlContacts),
}

impl rolodex_app::remote::ContactSinks for StoreSources {
    fn sink(&self, connection: &Connection) -> Result<Arc<dyn ContactSink>, ProviderError> {
        self.build_sink(connection)
    }
}

#[async_trait]
impl ContactSources for StoreSources {
    async fn source(&self, org: OrgId, connection: ConnectionId) -> Result<Arc<dyn ContactSource>, ProviderError> {
        let c = self.connection(org, connection).await?;
        self.build(&c)
    }
}
