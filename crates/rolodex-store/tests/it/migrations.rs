//! Migrations: mirrored names, and up/down/up on PostgreSQL and SQLite.

use crate::harness::{clock, pg_db, pg_store, sqlite};

#[test]
fn postgres_and_sqlite_have_the_same_change_names() {
    let pg = rolodex_store::migration_names("postgres");
    let lite = rolodex_store::migration_names("sqlite");
    assert!(!pg.is_empty());
    assert_eq!(pg, lite, "migrations/postgres and migrations/sqlite must hold the same change names");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_up_down_up() {
    let db = sqlite(clock()).await;
    assert!(db.store.pending_migrations().await.expect("pending").is_empty(), "current after open");
    let n = db.store.revert_all_migrations().await.expect("down");
    assert_eq!(n, rolodex_store::migration_names("sqlite").len());
    assert_eq!(db.store.pending_migrations().await.expect("pending").len(), n, "every one pending after down");
    assert_eq!(db.store.run_migrations().await.expect("up again").len(), n);
    assert!(db.store.pending_migrations().await.expect("pending").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_up_down_up() {
    let Some(pg) = pg_db("postgres_up_down_up").await else { return };
    let store = pg_store(&pg, clock()).await;
    let n = store.revert_all_migrations().await.expect("every migration goes down");
    assert_eq!(n, rolodex_store::migration_names("postgres").len());
    assert_eq!(store.pending_migrations().await.expect("pending").len(), n, "every one pending after down");
    assert_eq!(store.run_migrations().await.expect("and up again").len(), n);
    assert!(store.run_migrations().await.expect("idempotent").is_empty());
}

#[test]
fn unknown_url_schemes_are_rejected() {
    assert!(rolodex_store::backend_of("mysql://x").is_err());
    assert!(rolodex_store::backend_of("sqlite://").is_err());
    assert_eq!(rolodex_store::backend_of("sqlite://a.db").unwrap(), "sqlite");
    assert_eq!(rolodex_store::backend_of("postgres://u@h/db").unwrap(), "postgres");
}
