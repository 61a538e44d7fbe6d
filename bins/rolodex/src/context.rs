//! What every database command needs: the database URL (with the rule that protects against a
//! typo creating an empty database), the store, the organisation (a default one is created on
//! first use and remembered in the database), the sync service, and the terminal's abilities.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use rolodex_app::sync::{SyncPorts, SyncService, SyncSettings};
use rolodex_domain::OrgId;
use rolodex_domain::ports::storage::{AccountStore, AccountStoreError};
use rolodex_domain::ports::{Clock, SystemClock, V7Ids};
use rolodex_store::{Store, StoreConfig, TokenCipher};
use secrecy::SecretString;

/// The embedded default database, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://rolodex.db";

/// The id of the default organisation: the same in every database, so the CLI finds it again
/// without remembering anything outside the database.
pub const DEFAULT_ORG: OrgId = OrgId::from_uuid(uuid::Uuid::from_u128(1));

/// What the terminal can do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Console {
    /// A person can answer questions on stdin (stdin and stderr are terminals).
    pub interactive: bool,
    /// Progress bars are shown (stderr is a terminal).
    pub progress: bool,
}

/// The command's environment.
#[derive(Clone)]
pub struct Env {
    /// The terminal.
    pub console: Console,
    /// The store's clock (tests move it).
    pub clock: Arc<dyn Clock>,
    /// Sync tuning (tests use small batches).
    pub settings: SyncSettings,
}

impl Default for Env {
    fn default() -> Self {
        Self { console: Console::default(), clock: Arc::new(SystemClock), settings: SyncSettings::default() }
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").field("console", &self.console).finish_non_exhaustive()
    }
}

/// The global options.
#[derive(Debug, Clone, Default)]
pub struct Global {
    /// `--database`.
    pub database: Option<String>,
    /// `--org`.
    pub org: Option<String>,
    /// `--token-key`.
    pub token_key: Option<String>,
}

/// How a command touches the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// May create the database (`migrate`, and any command on the default path).
    Create,
    /// The database must exist when given explicitly.
    Existing,
}

/// The database URL to use, checked: an explicit SQLite path whose directory does not exist is
/// refused, and (unless `access` is [`Access::Create`]) so is an explicit SQLite file that does not
/// exist, so a typo never silently creates an empty database. Only the default path (and
/// `rolodex migrate`) create one.
///
/// # Errors
/// A message saying what is wrong and what to do.
pub fn database_url(explicit: Option<&str>, access: Access) -> Result<String> {
    let Some(url) = explicit.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(DEFAULT_DATABASE_URL.to_owned());
    };
    rolodex_store::backend_of(url).map_err(|e| anyhow!("{e}"))?;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = Path::new(path);
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            bail!(
                "the directory `{}` of database `{url}` does not exist: check the path, or create the directory first",
                dir.display()
            );
        }
        if access == Access::Existing && !file.exists() {
            bail!(
                "database `{url}` does not exist: check the path, or create it with `rolodex --database {url} migrate`"
            );
        }
    }
    Ok(url.to_owned())
}

/// An open database in one organisation.
pub struct Ctx {
    /// The store (every storage port).
    pub store: Store,
    /// The organisation.
    pub org: OrgId,
    /// The sync use cases over the store.
    pub sync: SyncService,
}

/// The cipher for connection tokens: the configured key, or (for commands that never read or
/// write tokens) a throwaway one.
fn cipher(global: &Global, needs_tokens: bool) -> Result<TokenCipher> {
    match &global.token_key {
        Some(key) => TokenCipher::from_base64(&SecretString::from(key.clone()))
            .map_err(|e| anyhow!("{e}"))
            .context("reading --token-key / ROLODEX_TOKEN_KEY"),
        None if needs_tokens => bail!(
            "connection tokens are encrypted: set ROLODEX_TOKEN_KEY (or --token-key) to the base64 of a 32-byte key, \
             e.g. `export ROLODEX_TOKEN_KEY=$(head -c 32 /dev/urandom | base64)`, and keep using the same key"
        ),
        None => Ok(TokenCipher::from_bytes([0; 32])),
    }
}

/// Opens the store (running pending migrations) and finds the organisation.
///
/// # Errors
/// A bad URL, an unreachable database, a failed migration, an unknown `--org`.
pub async fn open(global: &Global, env: &Env, needs_tokens: bool) -> Result<Ctx> {
    let explicit = global.database.as_deref();
    let url = database_url(explicit, Access::Existing)?;
    let cipher = cipher(global, needs_tokens)?;
    let store =
        Store::connect_with_clock(StoreConfig { url: url.clone(), max_connections: 4, cipher }, env.clock.clone())
            .await
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("opening database `{}`", redact(&url)))?;
    let org = organisation(&store, global.org.as_deref()).await?;
    let ports = SyncPorts {
        contacts: Arc::new(store.clone()),
        links: Arc::new(store.clone()),
        runs: Arc::new(store.clone()),
        cursors: Arc::new(store.clone()),
        audit: Arc::new(store.clone()),
        clock: env.clock.clone(),
        ids: Arc::new(V7Ids),
    };
    Ok(Ctx { sync: SyncService::new(ports, env.settings), store, org })
}

/// The organisation `--org` names (it must exist), or the default one (created when missing).
async fn organisation(store: &Store, explicit: Option<&str>) -> Result<OrgId> {
    if let Some(id) = explicit {
        let org = OrgId::parse(id).map_err(|e| anyhow!("--org: {e}"))?;
        return match store.get_org(org).await {
            Ok(_) => Ok(org),
            Err(AccountStoreError::NotFound { .. }) => bail!("organisation `{org}` does not exist in this database"),
            Err(e) => Err(anyhow::Error::new(e).context("reading the organisation")),
        };
    }
    match store.get_org(DEFAULT_ORG).await {
        Ok(_) => Ok(DEFAULT_ORG),
        Err(AccountStoreError::NotFound { .. }) => match store.create_org(DEFAULT_ORG, "Default organisation").await {
            // Another process may have created it at the same moment.
            Ok(_) | Err(AccountStoreError::Duplicate(_)) => Ok(DEFAULT_ORG),
            Err(e) => Err(anyhow::Error::new(e).context("creating the default organisation")),
        },
        Err(e) => Err(anyhow::Error::new(e).context("reading the default organisation")),
    }
}

/// `rolodex migrate`.
///
/// # Errors
/// A bad URL, an unreachable database, a failed migration.
pub async fn migrate(global: &Global, out: &mut dyn Write) -> Result<()> {
    let url = database_url(global.database.as_deref(), Access::Create)?;
    let applied = rolodex_store::migrate(&url)
        .await
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("migrating `{}`", redact(&url)))?;
    if applied.is_empty() {
        writeln!(out, "{}: up to date", redact(&url))?;
    } else {
        for name in &applied {
            writeln!(out, "applied {name}")?;
        }
        writeln!(out, "{}: {} migration(s) applied", redact(&url), applied.len())?;
    }
    Ok(())
}

/// The URL without its password.
#[must_use]
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}
