//! The end-to-end harness: a fresh database per test (a temp SQLite file, or a uuid-named
//! PostgreSQL database created from `TEST_DATABASE_URL` and dropped afterwards; without it the
//! PostgreSQL variants print why they skip), and [`TestDb::cli`], which runs a `rolodex` command
//! line in process through `rolodex_cli::run_async` (the code the binary runs, always freshly
//! built with the tests, no terminal: no prompts, no progress bars) and returns its output.

use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use rolodex_cli::context::DEFAULT_ORG;
use rolodex_cli::{Cli, Env};
use rolodex_domain::OrgId;
use rolodex_domain::ports::storage::{ContactQuery, ContactStore};
use rolodex_store::{Store, StoreConfig, TokenCipher};

/// 32 bytes of 42, base64.
pub const TOKEN_KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// A database for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else { return };
        // Drop cannot await: a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                if let Ok(mut c) = AsyncPgConnection::establish(&admin).await {
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}

impl TestDb {
    /// A temp SQLite file, created with `rolodex migrate`.
    pub async fn sqlite() -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("rolodex.db").display());
        let db = Self { url, _dir: Some(dir), pg: None };
        db.cli(&["migrate"]).await.expect("migrate");
        Some(db)
    }

    /// A fresh PostgreSQL database, or `None` after saying why.
    pub async fn postgres(test: &str) -> Option<Self> {
        let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
            println!("skipping {test} on PostgreSQL: TEST_DATABASE_URL is not set (CI sets it)");
            return None;
        };
        let name = format!("rolodex_e2e_{}", uuid::Uuid::new_v4().simple());
        let mut c = AsyncPgConnection::establish(&admin).await.expect("connect to TEST_DATABASE_URL");
        c.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.expect("create the test database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let db = Self { url: format!("{base}/{name}"), _dir: None, pg: Some((admin.clone(), name)) };
        db.cli(&["migrate"]).await.expect("migrate");
        Some(db)
    }

    /// Runs `rolodex --database URL --token-key KEY ARGS...`; returns its standard output.
    pub async fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut argv = vec!["rolodex", "--database", &self.url, "--token-key", TOKEN_KEY];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(&argv)?;
        let mut out = Vec::new();
        rolodex_cli::run_async(cli, Env::default(), &mut out).await?;
        Ok(String::from_utf8(out)?)
    }

    /// Runs a command with `--json` output and parses its last line.
    pub async fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cli(args).await.unwrap_or_else(|e| panic!("rolodex {args:?}: {e:#}"));
        let line = out.lines().last().unwrap_or_else(|| panic!("rolodex {args:?} printed nothing"));
        serde_json::from_str(line).unwrap_or_else(|e| panic!("rolodex {args:?}: not JSON ({e}): {out}"))
    }

    /// The store, for checking what the commands wrote.
    pub async fn store(&self) -> Store {
        let config =
            StoreConfig { url: self.url.clone(), max_connections: 2, cipher: TokenCipher::from_bytes([42; 32]) };
        Store::connect(config).await.expect("open the store")
    }

    /// The live contacts of the CLI's default organisation.
    pub async fn contacts(&self) -> Vec<rolodex_domain::Contact> {
        let store = self.store().await;
        let mut all = Vec::new();
        let mut filter = ContactQuery { limit: 1000, ..ContactQuery::default() };
        loop {
            let page = store.search_contacts(org(), &filter).await.expect("list contacts");
            let n = page.len();
            if let Some(last) = page.last() {
                filter.after = Some(last.id);
            }
            all.extend(page);
            if n < 1000 {
                return all;
            }
        }
    }
}

/// The CLI's default organisation.
pub fn org() -> OrgId {
    DEFAULT_ORG
}

/// A field of a JSON summary as a number.
pub fn n(v: &serde_json::Value, key: &str) -> u64 {
    v.get(key).and_then(serde_json::Value::as_u64).unwrap_or_else(|| panic!("`{key}` missing in {v}"))
}

/// The shared test data (`../shared/data` from the repository root).
pub fn data(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data").join(path);
    root.display().to_string()
}

/// A test on SQLite and on PostgreSQL: `both!(name)` runs `async fn name(db: TestDb)` twice.
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(db) = crate::support::TestDb::sqlite().await {
                    super::$name(db).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = crate::support::TestDb::postgres(stringify!($name)).await {
                    super::$name(db).await;
                }
            }
        }
    };
}
pub(crate) use both;
