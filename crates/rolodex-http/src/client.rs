//! Building the shared `reqwest::Client`: rustls on the ring provider (installed idempotently),
//! timeouts, user agent. One client per process is enough; connections share it.

use std::time::Duration;

use rolodex_domain::ports::ProviderError;

/// Options of [`build_client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `User-Agent`.
    pub user_agent: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            user_agent: concat!("rolodex/", env!("CARGO_PKG_VERSION")).to_owned(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Installs rustls's ring crypto provider as the process default, once (later calls do nothing).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client with rustls (ring), the given timeouts and user agent.
///
/// # Errors
/// `ProviderError::Unexpected` when the TLS backend cannot be initialised.
pub fn build_client(options: &ClientOptions) -> Result<reqwest::Client, ProviderError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(options.user_agent.clone())
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .build()
        .map_err(|e| ProviderError::Unexpected(Box::new(e)))
}
