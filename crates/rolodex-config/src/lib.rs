//! `rolodex-config`: the one typed [`Settings`] of `rolodex-server`, loaded once in `main` and
//! passed down (no global configuration).
//!
//! Order: built-in defaults, then an optional TOML file (`--config` / `ROLODEX_CONFIG`; unknown
//! keys are an error), then `ROLODEX_*` environment variables ([`ENV_VARS`]). Secrets (the token
//! encryption key) are [`SecretString`]s: they have no `Serialize`, and `Debug` redacts them.
//!
//! The token key: when none is configured and the database is SQLite, a key is generated on first
//! start and kept in a file beside the database (`<database>.key`, mode 0600), so one command
//! works with no settings at all; with PostgreSQL a key must be configured (the servers and
//! workers sharing the database must all use the same one). See [`Settings::resolve_token_key`]
//! and `docs/server.md`, which documents every knob.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The embedded default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://rolodex.db";
/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default request body limit of the API (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// The default request body limit of the webhook routes (256 KiB; GoHighLevel deliveries are small).
pub const DEFAULT_WEBHOOK_BODY_LIMIT: usize = 256 * 1024;
/// The default tolerance of a webhook's `timestamp` (replay protection), in seconds.
pub const DEFAULT_WEBHOOK_MAX_SKEW_SECS: u64 = 300;

/// Every environment variable read, with what it sets (the names `docs/server.md` documents).
pub const ENV_VARS: &[(&str, &str)] = &[
    ("ROLODEX_CONFIG", "path of the TOML settings file"),
    ("ROLODEX_DATABASE_URL", "database.url"),
    ("ROLODEX_DATABASE_MAX_CONNECTIONS", "database.max_connections"),
    ("ROLODEX_LISTEN", "server.listen"),
    ("ROLODEX_BODY_LIMIT", "server.body_limit"),
    ("ROLODEX_WEBHOOK_BODY_LIMIT", "server.webhook_body_limit"),
    ("ROLODEX_TOKEN_KEY", "secrets.token_key"),
    ("ROLODEX_TOKEN_KEY_FILE", "secrets.token_key_file"),
    ("ROLODEX_GHL_WEBHOOK_PUBLIC_KEY", "ghl.webhook_public_key"),
    ("ROLODEX_GHL_WEBHOOK_MAX_SKEW_SECS", "ghl.webhook_max_skew_secs"),
    ("ROLODEX_DEFAULT_REGION", "default_region"),
    ("ROLODEX_WORKER", "worker.in_process (on, off or auto)"),
    ("ROLODEX_WORKER_CONCURRENCY", "worker.concurrency (KIND=N,KIND=N)"),
    ("ROLODEX_LOG_FORMAT", "log.format (json or pretty)"),
    ("ROLODEX_LOG", "log.filter"),
];

/// Settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The settings file cannot be read.
    #[error("cannot read the settings file {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The settings file is not valid TOML for these settings (unknown key, wrong type, ...).
    #[error("settings file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why, naming the key.
        message: String,
    },
    /// An environment variable has a value that cannot be used.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: &'static str,
        /// Why.
        message: String,
    },
    /// A setting is invalid whatever its origin.
    #[error("setting `{key}`: {message}")]
    Invalid {
        /// The setting (`server.listen`, ...).
        key: &'static str,
        /// Why.
        message: String,
    },
    /// The token key file cannot be read or created.
    #[error("token key file {path}: {message}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// No token key is configured and none can be generated (PostgreSQL).
    #[error(
        "no token encryption key: set ROLODEX_TOKEN_KEY (or secrets.token_key / secrets.token_key_file) to the base64 of \
         32 random bytes, e.g. `head -c 32 /dev/urandom | base64`; every server and worker of this database needs the same key"
    )]
    MissingTokenKey,
}

/// Whether the server runs the job worker in its own process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerMode {
    /// On for SQLite, off for PostgreSQL (run `rolodex-worker` processes there).
    #[default]
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

impl WorkerMode {
    fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "on" | "true" | "1" | "yes" => Ok(Self::On),
            "off" | "false" | "0" | "no" => Ok(Self::Off),
            other => Err(format!("`{other}` is not on, off or auto")),
        }
    }
}

/// The log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One JSON object per line (production).
    Json,
    /// Human-readable lines (a terminal).
    Pretty,
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// `sqlite://path` or `postgres://user@host/db` (default `sqlite://rolodex.db`).
    pub url: String,
    /// Pool size (default 8).
    pub max_connections: usize,
}

impl DatabaseSettings {
    /// The SQLite file of the URL, when it is a SQLite URL.
    #[must_use]
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.url.strip_prefix("sqlite://").filter(|p| !p.is_empty()).map(Path::new)
    }

    /// True for a `postgres://` (or `postgresql://`) URL.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }

    /// The URL without its password, for messages and logs.
    #[must_use]
    pub fn redacted_url(&self) -> String {
        let url = &self.url;
        match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.clone(),
            },
            _ => url.clone(),
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Where to listen (default `127.0.0.1:8080`; port 0 picks a free port).
    pub listen: SocketAddr,
    /// Largest accepted request body of the API, in bytes (default 1 MiB).
    pub body_limit: usize,
    /// Largest accepted webhook body, in bytes (default 256 KiB).
    pub webhook_body_limit: usize,
}

/// `[secrets]`.
#[derive(Clone, Default)]
pub struct SecretSettings {
    /// Base64 of the 32-byte key that encrypts connection tokens at rest.
    pub token_key: Option<SecretString>,
    /// A file holding that base64 key (read when `token_key` is unset; created on first start
    /// for SQLite when neither is set).
    pub token_key_file: Option<PathBuf>,
}

impl fmt::Debug for SecretSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSettings")
            .field("token_key", &self.token_key.as_ref().map(|_| "[REDACTED]"))
            .field("token_key_file", &self.token_key_file)
            .finish()
    }
}

/// `[ghl]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GhlSettings {
    /// HighLevel's Ed25519 public key for `x-ghl-signature` (PEM, base64 or hex). Without it only
    /// deliveries signed with the legacy RSA header (`x-wh-signature`) verify.
    pub webhook_public_key: Option<String>,
    /// How far a delivery's `timestamp` may be from now, in seconds (default 300).
    pub webhook_max_skew_secs: u64,
}

/// `[worker]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkerSettings {
    /// Whether the server runs the job worker in-process (default: auto).
    pub in_process: WorkerMode,
    /// Per-queue concurrency overrides (`sync.scheduled = 2`).
    pub concurrency: Vec<(String, usize)>,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogSettings {
    /// JSON or pretty (default: pretty on a terminal, JSON otherwise).
    pub format: Option<LogFormat>,
    /// A `tracing` filter (default `info`; `RUST_LOG` also works).
    pub filter: Option<String>,
}

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database.
    pub database: DatabaseSettings,
    /// The HTTP server.
    pub server: ServerSettings,
    /// Secrets.
    pub secrets: SecretSettings,
    /// GoHighLevel webhooks.
    pub ghl: GhlSettings,
    /// ISO 3166 alpha-2 region for phone numbers written without a country code (default `US`).
    pub default_region: String,
    /// The in-process worker.
    pub worker: WorkerSettings,
    /// Logs.
    pub log: LogSettings,
    /// The settings file that was read, if any.
    pub file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: DatabaseSettings { url: DEFAULT_DATABASE_URL.to_owned(), max_connections: 8 },
            server: ServerSettings {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                body_limit: DEFAULT_BODY_LIMIT,
                webhook_body_limit: DEFAULT_WEBHOOK_BODY_LIMIT,
            },
            secrets: SecretSettings::default(),
            ghl: GhlSettings { webhook_public_key: None, webhook_max_skew_secs: DEFAULT_WEBHOOK_MAX_SKEW_SECS },
            default_region: "US".to_owned(),
            worker: WorkerSettings::default(),
            log: LogSettings::default(),
            file: None,
        }
    }
}

/// The settings file, as written. Every table and key is optional; unknown ones are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    #[serde(default)]
    database: FileDatabase,
    #[serde(default)]
    server: FileServer,
    #[serde(default)]
    secrets: FileSecrets,
    #[serde(default)]
    ghl: FileGhl,
    default_region: Option<String>,
    #[serde(default)]
    worker: FileWorker,
    #[serde(default)]
    log: FileLog,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDatabase {
    url: Option<String>,
    max_connections: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    listen: Option<String>,
    body_limit: Option<usize>,
    webhook_body_limit: Option<usize>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSecrets {
    token_key: Option<SecretString>,
    token_key_file: Option<PathBuf>,
}

impl fmt::Debug for FileSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileSecrets([REDACTED])")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGhl {
    webhook_public_key: Option<String>,
    webhook_max_skew_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWorker {
    in_process: Option<WorkerModeOrBool>,
    #[serde(default)]
    concurrency: BTreeMap<String, usize>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WorkerModeOrBool {
    Bool(bool),
    Mode(WorkerMode),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    format: Option<LogFormat>,
    filter: Option<String>,
}

/// Where the token key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `ROLODEX_TOKEN_KEY` / `secrets.token_key`.
    Configured,
    /// Read from this file.
    File(PathBuf),
    /// Generated on this start and written to this file.
    Generated(PathBuf),
}

/// The token key to use, and where it came from.
#[derive(Clone)]
pub struct TokenKey {
    /// Base64 of 32 bytes.
    pub key: SecretString,
    /// Its origin (for the start-up log line; the key itself is never logged).
    pub origin: KeyOrigin,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey").field("key", &"[REDACTED]").field("origin", &self.origin).finish()
    }
}

fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.trim().parse::<SocketAddr>().map_err(|e| format!("`{s}` is not HOST:PORT with an IP address ({e})"))
}

fn parse_concurrency_list(s: &str) -> Result<Vec<(String, usize)>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            let bad = || format!("`{part}` is not KIND=N (N >= 0; 0 turns the queue off)");
            let (kind, n) = part.split_once('=').ok_or_else(bad)?;
            let n: usize = n.trim().parse().map_err(|_| bad())?;
            if kind.trim().is_empty() {
                return Err(bad());
            }
            Ok((kind.trim().to_owned(), n))
        })
        .collect()
}

impl Settings {
    /// Loads the settings from the process: the file named by `explicit_file` or
    /// `ROLODEX_CONFIG` (if any), then the `ROLODEX_*` variables.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file key or variable that is wrong.
    pub fn load(explicit_file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(explicit_file, |name| std::env::var(name).ok())
    }

    /// [`Settings::load`] with another environment (tests).
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_from(explicit_file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut settings = Self::default();
        let file = explicit_file.map(Path::to_path_buf).or_else(|| env("ROLODEX_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::Read { path: path.clone(), message: e.to_string() })?;
            settings.apply_file(&path, &text)?;
            settings.file = Some(path);
        }
        settings.apply_env(&env)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Applies a settings file's text.
    ///
    /// # Errors
    /// [`ConfigError::File`] naming the key.
    pub fn apply_file(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let file_err = |message: String| ConfigError::File { path: path.to_path_buf(), message };
        let f: FileSettings = toml::from_str(text).map_err(|e| file_err(e.to_string().trim().to_owned()))?;
        if let Some(url) = f.database.url {
            self.database.url = url;
        }
        if let Some(n) = f.database.max_connections {
            self.database.max_connections = n;
        }
        if let Some(listen) = f.server.listen {
            self.server.listen = parse_listen(&listen).map_err(|m| file_err(format!("server.listen: {m}")))?;
        }
        if let Some(n) = f.server.body_limit {
            self.server.body_limit = n;
        }
        if let Some(n) = f.server.webhook_body_limit {
            self.server.webhook_body_limit = n;
        }
        if let Some(k) = f.secrets.token_key {
            self.secrets.token_key = Some(k);
        }
        if let Some(p) = f.secrets.token_key_file {
            self.secrets.token_key_file = Some(p);
        }
        if let Some(k) = f.ghl.webhook_public_key {
            self.ghl.webhook_public_key = Some(k);
        }
        if let Some(s) = f.ghl.webhook_max_skew_secs {
            self.ghl.webhook_max_skew_secs = s;
        }
        if let Some(r) = f.default_region {
            self.default_region = r;
        }
        match f.worker.in_process {
            Some(WorkerModeOrBool::Bool(true)) => self.worker.in_process = WorkerMode::On,
            Some(WorkerModeOrBool::Bool(false)) => self.worker.in_process = WorkerMode::Off,
            Some(WorkerModeOrBool::Mode(m)) => self.worker.in_process = m,
            None => {}
        }
        // 0 turns a queue off in this process (e.g. `remote` in all but one worker).
        self.worker.concurrency.extend(f.worker.concurrency);
        if let Some(fmt) = f.log.format {
            self.log.format = Some(fmt);
        }
        if let Some(filter) = f.log.filter {
            self.log.filter = Some(filter);
        }
        Ok(())
    }

    fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |name: &'static str| env(name).filter(|v| !v.trim().is_empty());
        fn num<T: std::str::FromStr>(name: &'static str, v: &str) -> Result<T, ConfigError> {
            v.trim()
                .parse()
                .map_err(|_| ConfigError::Env { name, message: format!("`{v}` is not a non-negative whole number") })
        }
        if let Some(v) = get("ROLODEX_DATABASE_URL") {
            self.database.url = v.trim().to_owned();
        }
        if let Some(v) = get("ROLODEX_DATABASE_MAX_CONNECTIONS") {
            self.database.max_connections = num("ROLODEX_DATABASE_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = get("ROLODEX_LISTEN") {
            self.server.listen =
                parse_listen(&v).map_err(|message| ConfigError::Env { name: "ROLODEX_LISTEN", message })?;
        }
        if let Some(v) = get("ROLODEX_BODY_LIMIT") {
            self.server.body_limit = num("ROLODEX_BODY_LIMIT", &v)?;
        }
        if let Some(v) = get("ROLODEX_WEBHOOK_BODY_LIMIT") {
            self.server.webhook_body_limit = num("ROLODEX_WEBHOOK_BODY_LIMIT", &v)?;
        }
        if let Some(v) = get("ROLODEX_TOKEN_KEY") {
            self.secrets.token_key = Some(SecretString::from(v));
        }
        if let Some(v) = get("ROLODEX_TOKEN_KEY_FILE") {
            self.secrets.token_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("ROLODEX_GHL_WEBHOOK_PUBLIC_KEY") {
            self.ghl.webhook_public_key = Some(v);
        }
        if let Some(v) = get("ROLODEX_GHL_WEBHOOK_MAX_SKEW_SECS") {
            self.ghl.webhook_max_skew_secs = num("ROLODEX_GHL_WEBHOOK_MAX_SKEW_SECS", &v)?;
        }
        if let Some(v) = get("ROLODEX_DEFAULT_REGION") {
            self.default_region = v.trim().to_owned();
        }
        if let Some(v) = get("ROLODEX_WORKER") {
            self.worker.in_process =
                WorkerMode::parse(&v).map_err(|message| ConfigError::Env { name: "ROLODEX_WORKER", message })?;
        }
        if let Some(v) = get("ROLODEX_WORKER_CONCURRENCY") {
            self.worker.concurrency = parse_concurrency_list(&v)
                .map_err(|message| ConfigError::Env { name: "ROLODEX_WORKER_CONCURRENCY", message })?;
        }
        if let Some(v) = get("ROLODEX_LOG_FORMAT") {
            self.log.format = Some(match v.trim() {
                "json" => LogFormat::Json,
                "pretty" => LogFormat::Pretty,
                other => {
                    return Err(ConfigError::Env {
                        name: "ROLODEX_LOG_FORMAT",
                        message: format!("`{other}` is not json or pretty"),
                    });
                }
            });
        }
        if let Some(v) = get("ROLODEX_LOG") {
            self.log.filter = Some(v);
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, message: String| Err(ConfigError::Invalid { key, message });
        if !self.database.is_postgres() && self.database.sqlite_path().is_none() {
            return invalid(
                "database.url",
                format!("`{}` is not postgres://… or sqlite://path", self.database.redacted_url()),
            );
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1".into());
        }
        if self.server.body_limit < 1024 {
            return invalid(
                "server.body_limit",
                format!("{} bytes is too small (at least 1024)", self.server.body_limit),
            );
        }
        if self.server.webhook_body_limit < 1024 {
            return invalid(
                "server.webhook_body_limit",
                format!("{} bytes is too small (at least 1024)", self.server.webhook_body_limit),
            );
        }
        let region = self.default_region.trim();
        if region.len() != 2 || !region.chars().all(|c| c.is_ascii_alphabetic()) {
            return invalid("default_region", format!("`{region}` is not an ISO 3166 alpha-2 code like US or AU"));
        }
        Ok(())
    }

    /// Whether the server should run the job worker in-process: `auto` means yes on SQLite, no on
    /// PostgreSQL.
    #[must_use]
    pub fn runs_worker(&self) -> bool {
        match self.worker.in_process {
            WorkerMode::On => true,
            WorkerMode::Off => false,
            WorkerMode::Auto => !self.database.is_postgres(),
        }
    }

    /// The token encryption key: `secrets.token_key`, else the contents of
    /// `secrets.token_key_file`, else (SQLite only) the file `<database>.key` beside the
    /// database, generated with 32 random bytes on first start (mode 0600).
    ///
    /// # Errors
    /// [`ConfigError::MissingTokenKey`] with PostgreSQL and no key; [`ConfigError::KeyFile`] when
    /// the file cannot be read or written; [`ConfigError::Invalid`] for a key that is not 32 bytes
    /// of base64.
    pub fn resolve_token_key(&self) -> Result<TokenKey, ConfigError> {
        if let Some(key) = &self.secrets.token_key {
            check_key(key)?;
            return Ok(TokenKey { key: key.clone(), origin: KeyOrigin::Configured });
        }
        let (path, may_create) = match (&self.secrets.token_key_file, self.database.sqlite_path()) {
            (Some(p), _) => (p.clone(), self.database.sqlite_path().is_some()),
            (None, Some(db)) => {
                let mut name = db.as_os_str().to_owned();
                name.push(".key");
                (PathBuf::from(name), true)
            }
            (None, None) => return Err(ConfigError::MissingTokenKey),
        };
        let key_file = |message: String| ConfigError::KeyFile { path: path.clone(), message };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = SecretString::from(text.trim().to_owned());
                check_key(&key)?;
                Ok(TokenKey { key, origin: KeyOrigin::File(path) })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_create => {
                let key = generate_key();
                write_new_secret_file(&path, key.expose_secret()).map_err(|e| key_file(e.to_string()))?;
                Ok(TokenKey { key, origin: KeyOrigin::Generated(path) })
            }
            Err(e) => Err(key_file(e.to_string())),
        }
    }
}

fn check_key(key: &SecretString) -> Result<(), ConfigError> {
    match STANDARD.decode(key.expose_secret().trim()) {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        _ => Err(ConfigError::Invalid {
            key: "secrets.token_key",
            message: "must be the base64 of exactly 32 bytes (e.g. `head -c 32 /dev/urandom | base64`)".into(),
        }),
    }
}

fn generate_key() -> SecretString {
    use rand::RngCore as _;
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(STANDARD.encode(bytes))
}

/// Creates `path` (never overwriting) holding `text`, readable by its owner only.
fn write_new_secret_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.database.url, DEFAULT_DATABASE_URL);
        assert_eq!(s.server.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.server.body_limit, DEFAULT_BODY_LIMIT);
        assert!(s.runs_worker());
        assert_eq!(s.default_region, "US");
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rolodex.toml");
        std::fs::write(
            &path,
            r#"
default_region = "AU"
[database]
url = "postgres://app:pw@db/rolodex"
[server]
listen = "0.0.0.0:9000"
body_limit = 2048
[worker]
in_process = true
concurrency = { "sync.scheduled" = 2 }
[log]
format = "json"
"#,
        )
        .unwrap();
        let s = Settings::load_from(Some(&path), env(&[("ROLODEX_LISTEN", "127.0.0.1:9100")])).unwrap();
        assert!(s.database.is_postgres());
        assert_eq!(s.database.redacted_url(), "postgres://app:***@db/rolodex");
        assert_eq!(s.server.listen.port(), 9100);
        assert_eq!(s.server.body_limit, 2048);
        assert_eq!(s.default_region, "AU");
        assert!(s.runs_worker());
        assert_eq!(s.worker.concurrency, vec![("sync.scheduled".to_owned(), 2)]);
        assert_eq!(s.log.format, Some(LogFormat::Json));
    }

    #[test]
    fn postgres_runs_no_worker_unless_asked() {
        let s = Settings::load_from(None, env(&[("ROLODEX_DATABASE_URL", "postgres://u@h/d")])).unwrap();
        assert!(!s.runs_worker());
        let s =
            Settings::load_from(None, env(&[("ROLODEX_DATABASE_URL", "postgres://u@h/d"), ("ROLODEX_WORKER", "on")]))
                .unwrap();
        assert!(s.runs_worker());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[server]\nlisten_on = \"x\"\n").unwrap();
        let err = Settings::load_from(Some(&path), env(&[])).unwrap_err().to_string();
        assert!(err.contains("listen_on"), "{err}");
        let err = Settings::load_from(None, env(&[("ROLODEX_BODY_LIMIT", "big")])).unwrap_err().to_string();
        assert!(err.contains("ROLODEX_BODY_LIMIT"), "{err}");
        let err = Settings::load_from(None, env(&[("ROLODEX_DATABASE_URL", "mysql://x")])).unwrap_err().to_string();
        assert!(err.contains("database.url"), "{err}");
        let err = Settings::load_from(None, env(&[("ROLODEX_WORKER_CONCURRENCY", "a=two")])).unwrap_err().to_string();
        assert!(err.contains("a=two"), "{err}");
        let off = Settings::load_from(None, env(&[("ROLODEX_WORKER_CONCURRENCY", "remote=0")])).unwrap();
        assert_eq!(off.worker.concurrency, vec![("remote".to_owned(), 0)], "0 turns a queue off");
    }

    #[test]
    fn sqlite_key_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("r.db").display());
        let s = Settings::load_from(None, env(&[("ROLODEX_DATABASE_URL", &url)])).unwrap();
        let first = s.resolve_token_key().unwrap();
        assert!(matches!(first.origin, KeyOrigin::Generated(_)));
        let second = s.resolve_token_key().unwrap();
        assert!(matches!(second.origin, KeyOrigin::File(_)));
        assert_eq!(first.key.expose_secret(), second.key.expose_secret());
        assert!(!format!("{first:?}").contains(first.key.expose_secret()));
    }

    #[test]
    fn postgres_needs_a_key_and_a_bad_key_is_refused() {
        let s = Settings::load_from(None, env(&[("ROLODEX_DATABASE_URL", "postgres://u@h/d")])).unwrap();
        assert!(matches!(s.resolve_token_key(), Err(ConfigError::MissingTokenKey)));
        let s = Settings::load_from(
            None,
            env(&[("ROLODEX_DATABASE_URL", "postgres://u@h/d"), ("ROLODEX_TOKEN_KEY", "c2hvcnQ=")]),
        )
        .unwrap();
        assert!(matches!(s.resolve_token_key(), Err(ConfigError::Invalid { .. })));
    }
}
