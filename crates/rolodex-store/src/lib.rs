//! `rolodex-store`: the Diesel adapter for every storage port of `rolodex-domain`
//! (`rolodex_domain::ports::storage`), on PostgreSQL (diesel-async, pooled) or SQLite (a file,
//! created on first use, the embedded default), chosen by the URL scheme: `postgres://…` or
//! `sqlite://path`. It owns the schema ([`schema`]), the embedded migrations (run by
//! [`Store::connect`] and by [`migrate`]), token encryption at rest ([`TokenCipher`]) and the job
//! queue on the same database, so jobs are enqueued in the same transaction as the change that
//! causes them. Business rules stay in the domain; this crate only stores and fetches.

mod accounts;
mod backend;
mod campaigns;
mod connections;
mod contacts;
mod crypto;
mod error;
mod history;
mod jobs;
pub mod schema;
mod sync;

use std::sync::Arc;

use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use rolodex_domain::ports::{Clock, SystemClock};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::backend::{Backend, SqliteConn};
pub use crate::contacts::ReindexReport;
pub use crate::crypto::{InvalidKey, TokenCipher};

/// PostgreSQL migrations (`migrations/postgres`).
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
/// SQLite migrations (`migrations/sqlite`), the same change names.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `postgres://user@host/db` or `sqlite://path/to/file.db` (`sqlite:///abs/path` for an
    /// absolute path). The SQLite file and its directory are created on first use.
    pub url: String,
    /// Pool size (PostgreSQL connections, or SQLite readers; SQLite always has one writer).
    pub max_connections: usize,
    /// The key that encrypts connection tokens at rest.
    pub cipher: TokenCipher,
}

/// Opening the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreInitError {
    /// The URL has an unknown scheme.
    #[error("unsupported database URL `{0}`: expected postgres://… or sqlite://path")]
    UnsupportedUrl(String),
    /// The pool could not be built or a connection could not be opened.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(String),
}

/// The store: implements every storage port. Cheap to clone (the pools are shared).
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Arc<Backend>,
    pub(crate) cipher: TokenCipher,
    pub(crate) clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend_name()).finish_non_exhaustive()
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://").filter(|p| !p.is_empty())
}

/// Which backend a URL selects: `"postgres"` or `"sqlite"`.
///
/// # Errors
/// [`StoreInitError::UnsupportedUrl`].
pub fn backend_of(url: &str) -> Result<&'static str, StoreInitError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok("postgres")
    } else if sqlite_path(url).is_some() {
        Ok("sqlite")
    } else {
        Err(StoreInitError::UnsupportedUrl(redact(url)))
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Set on every SQLite connection. The busy timeout comes first: the pragmas after it (switching
/// to WAL takes a lock) then wait for another process's transaction instead of failing at once
/// with "database is locked". Besides WAL: a 32 MiB page cache per connection (the default 2 MiB
/// makes a sync preview against 100,000 contacts re-read the same index pages from the kernel) and
/// memory-mapped reads of up to 256 MiB of the file (shared by every connection through the OS
/// page cache).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456;";

fn sqlite_pool(path: &str, size: usize) -> Result<Pool<SqliteConn>, StoreInitError> {
    let mut config = ManagerConfig::<SqliteConn>::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(|url| {
        Box::pin(async move {
            let mut conn = SqliteConn::establish(url).await?;
            conn.batch_execute(SQLITE_PRAGMAS).await.map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, config);
    Pool::builder(manager).max_size(size).build().map_err(|e| StoreInitError::Connect(e.to_string()))
}

impl Store {
    /// Opens the store on the system clock and runs pending migrations.
    ///
    /// # Errors
    /// [`StoreInitError`].
    pub async fn connect(config: StoreConfig) -> Result<Self, StoreInitError> {
        Self::connect_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Opens the store with a given clock (tests move time forward to expire leases) and runs
    /// pending migrations.
    ///
    /// # Errors
    /// [`StoreInitError`].
    pub async fn connect_with_clock(config: StoreConfig, clock: Arc<dyn Clock>) -> Result<Self, StoreInitError> {
        let store = Self::open(config, clock)?;
        store.run_migrations().await?;
        Ok(store)
    }

    /// Builds the pools without touching the database (connections open lazily).
    ///
    /// # Errors
    /// [`StoreInitError`] for an unsupported URL or an unbuildable pool.
    pub fn open(config: StoreConfig, clock: Arc<dyn Clock>) -> Result<Self, StoreInitError> {
        let size = config.max_connections.max(1);
        let backend = match backend_of(&config.url)? {
            "postgres" => {
                // `Fast` recycling: a checkout only checks that no transaction was left open. The
                // default (`Verified`) runs `SELECT 1` on every checkout, one extra round trip per
                // operation; a connection that died is reported by its first query instead.
                let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
                manager_config.recycling_method = RecyclingMethod::Fast;
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                    config.url.clone(),
                    manager_config,
                );
                Backend::Pg(
                    Pool::builder(manager)
                        .max_size(size)
                        .build()
                        .map_err(|e| StoreInitError::Connect(e.to_string()))?,
                )
            }
            _ => {
                let path = sqlite_path(&config.url).unwrap_or_default();
                if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreInitError::Connect(format!("cannot create {}: {e}", dir.display())))?;
                }
                Backend::Sqlite { writer: sqlite_pool(path, 1)?, reader: sqlite_pool(path, size)? }
            }
        };
        Ok(Self { backend: Arc::new(backend), cipher: config.cipher, clock })
    }

    /// `"postgres"` or `"sqlite"`.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            Backend::Pg(_) => "postgres",
            Backend::Sqlite { .. } => "sqlite",
        }
    }

    /// Runs pending migrations; returns the names of those applied. Needs a multi-thread tokio
    /// runtime (the harness blocks in place).
    ///
    /// # Errors
    /// [`StoreInitError::Migration`].
    pub async fn run_migrations(&self) -> Result<Vec<String>, StoreInitError> {
        let connect = |e: String| StoreInitError::Connect(e);
        let migration = |e: Box<dyn std::error::Error + Send + Sync>| StoreInitError::Migration(e.to_string());
        match &*self.backend {
            Backend::Pg(pool) => {
                let conn = pool.get().await.map_err(|e| connect(e.to_string()))?;
                let mut harness = AsyncMigrationHarness::new(conn);
                let done = harness.run_pending_migrations(POSTGRES_MIGRATIONS).map_err(migration)?;
                Ok(done.iter().map(ToString::to_string).collect())
            }
            Backend::Sqlite { writer, .. } => {
                let conn = writer.get().await.map_err(|e| connect(e.to_string()))?;
                let mut harness = AsyncMigrationHarness::new(conn);
                let done = harness.run_pending_migrations(SQLITE_MIGRATIONS).map_err(migration)?;
                Ok(done.iter().map(ToString::to_string).collect())
            }
        }
    }

    /// The embedded migrations not yet applied to this database (names), without applying them:
    /// empty when the schema is current (`/readyz`).
    ///
    /// # Errors
    /// [`StoreInitError::Connect`] or [`StoreInitError::Migration`].
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreInitError> {
        let connect = |e: String| StoreInitError::Connect(e);
        let migration = |e: Box<dyn std::error::Error + Send + Sync>| StoreInitError::Migration(e.to_string());
        match &*self.backend {
            Backend::Pg(pool) => {
                let conn = pool.get().await.map_err(|e| connect(e.to_string()))?;
                let mut harness = AsyncMigrationHarness::new(conn);
                let pending = harness.pending_migrations(POSTGRES_MIGRATIONS).map_err(migration)?;
                Ok(pending.iter().map(|m| m.name().to_string()).collect())
            }
            Backend::Sqlite { writer, .. } => {
                let conn = writer.get().await.map_err(|e| connect(e.to_string()))?;
                let mut harness = AsyncMigrationHarness::new(conn);
                let pending = harness.pending_migrations(SQLITE_MIGRATIONS).map_err(migration)?;
                Ok(pending.iter().map(|m| m.name().to_string()).collect())
            }
        }
    }

    /// Reverts every applied migration (newest first); returns how many. For tests and for
    /// operators rebuilding a database.
    ///
    /// # Errors
    /// [`StoreInitError::Migration`].
    pub async fn revert_all_migrations(&self) -> Result<usize, StoreInitError> {
        let migration = |e: Box<dyn std::error::Error + Send + Sync>| StoreInitError::Migration(e.to_string());
        match &*self.backend {
            Backend::Pg(pool) => {
                let conn = pool.get().await.map_err(|e| StoreInitError::Connect(e.to_string()))?;
                let mut harness = AsyncMigrationHarness::new(conn);
                Ok(harness.revert_all_migrations(POSTGRES_MIGRATIONS).map_err(migration)?.len())
            }
            Backend::Sqlite { writer, .. } => {
                let conn = writer.get().await.map_err(|e| StoreInitError::Connect(e.to_string()))?;
                let mut harness = AsyncMigrationHarness::new(conn);
                Ok(harness.revert_all_migrations(SQLITE_MIGRATIONS).map_err(migration)?.len())
            }
        }
    }

    /// Now, from the store's clock, truncated to microseconds (PostgreSQL's precision) so values
    /// round-trip exactly on both backends.
    pub(crate) fn now(&self) -> OffsetDateTime {
        trunc(self.clock.now())
    }
}

/// Opens the database at `url` and runs its pending migrations (`rolodex migrate`); returns the
/// names applied. Needs a multi-thread tokio runtime.
///
/// # Errors
/// [`StoreInitError`].
pub async fn migrate(url: &str) -> Result<Vec<String>, StoreInitError> {
    // Migrations never touch tokens: any key will do.
    let cipher = TokenCipher::from_bytes([0; 32]);
    let store = Store::open(StoreConfig { url: url.to_owned(), max_connections: 1, cipher }, Arc::new(SystemClock))?;
    store.run_migrations().await
}

/// The names of the embedded migrations of a backend, in order (a test compares the two lists).
#[must_use]
pub fn migration_names(backend: &str) -> Vec<String> {
    use diesel::migration::MigrationSource as _;
    let source = if backend == "postgres" { POSTGRES_MIGRATIONS } else { SQLITE_MIGRATIONS };
    let migrations: Vec<Box<dyn diesel::migration::Migration<diesel::sqlite::Sqlite>>> =
        source.migrations().unwrap_or_default();
    migrations.iter().map(|m| m.name().to_string()).collect()
}

pub(crate) fn trunc(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// To the stored form: UTC, microseconds.
pub(crate) fn to_db(t: OffsetDateTime) -> PrimitiveDateTime {
    let t = trunc(t);
    PrimitiveDateTime::new(t.date(), t.time())
}

/// From the stored form.
pub(crate) fn from_db(t: PrimitiveDateTime) -> OffsetDateTime {
    t.assume_utc()
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> Result<String, error::DbError> {
    serde_json::to_string(value).map_err(|e| error::DbError::Invalid(format!("cannot serialise: {e}")))
}

pub(crate) fn unjson<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, error::DbError> {
    serde_json::from_str(s).map_err(|e| error::DbError::corrupt(format!("{what}: {e}")))
}

pub(crate) fn parse_id<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, error::DbError> {
    s.parse().map_err(|_| error::DbError::corrupt(format!("{what} `{s}` is not a UUID")))
}
