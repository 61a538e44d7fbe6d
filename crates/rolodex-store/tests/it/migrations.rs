//! Migrations: mirrored names, and up/down/up on PostgreSQL and SQLite.

use rolodex_domain::ports::storage::{AccountStore, ContactQuery, ContactStore, NewContact};
use rolodex_domain::{
    ContactFields, ContactId, ContactPhone, ContactStatus, EmailAddress, OrgId, PhoneE164, PhoneKind, Region,
};
use rolodex_store::Store;

use crate::harness::{Count, clock, pg_db, pg_store, sqlite};

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

/// `…030000_email_phone_rows_as_keys`, on either backend: a contact with an e-mail and a phone,
/// soft-deleted (through `set_contact_status`, which keeps only its e-mail and phone keys).
struct Gone {
    org: OrgId,
    id: ContactId,
    email: EmailAddress,
    phone: PhoneE164,
}

impl Gone {
    async fn create(store: &Store) -> Self {
        let org = OrgId::new_v7();
        store.create_org(org, "A").await.expect("org");
        let email = EmailAddress::parse("Gone.Person@Example.com").expect("email");
        let phone = PhoneE164::parse("(415) 555-0199", Region::default()).expect("phone");
        let fields = ContactFields {
            given_name: Some("Gone".into()),
            family_name: Some("Person".into()),
            emails: vec![email.clone()],
            phones: vec![ContactPhone { number: phone.clone(), kind: PhoneKind::Work }],
            ..ContactFields::default()
        };
        let id = ContactId::new_v7();
        store.create_contact(org, NewContact { id, fields, status: ContactStatus::Active }, &[]).await.expect("create");
        store.set_contact_status(org, id, 1, ContactStatus::Deleted, &[]).await.expect("delete");
        Self { org, id, email, phone }
    }

    /// A search among the deleted finds it by its e-mail and by its phone.
    async fn assert_found(&self, store: &Store) {
        let deleted = |q: ContactQuery| ContactQuery { status: Some(ContactStatus::Deleted), ..q };
        let by_email = deleted(ContactQuery { email: Some(self.email.clone()), ..ContactQuery::default() });
        let by_phone = deleted(ContactQuery { phone: Some(self.phone.clone()), ..ContactQuery::default() });
        for q in [by_email, by_phone] {
            let found = store.search_contacts(self.org, &q).await.expect("search");
            assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![self.id], "{q:?}");
        }
    }
}

/// Reverts the newest migrations until `…030000_email_phone_rows_as_keys` is down (later ones go
/// first); returns how many it reverted.
fn down_through_keys_migration<E: std::fmt::Debug>(
    mut revert: impl FnMut() -> Result<diesel::migration::MigrationVersion<'static>, E>,
) -> usize {
    let mut n = 0;
    loop {
        n += 1;
        let version = revert().expect("down").to_string().replace('-', "");
        if version.starts_with("20261122030000") {
            return n;
        }
        assert!(n < 10, "the keys migration was not among the last ten");
    }
}

/// Going down refills the dropped tables from the keys; going up again turns the e-mail and phone
/// rows of a deleted contact (which had no keys before) into keys, so a search among the deleted
/// still finds it.
#[tokio::test(flavor = "multi_thread")]
async fn email_and_phone_rows_become_keys() {
    use diesel::{Connection, RunQueryDsl, SqliteConnection, sql_query};
    use diesel_migrations::MigrationHarness;

    let count = |c: &mut SqliteConnection, sql: &str| -> i64 {
        sql_query(sql).get_result::<Count>(c).map(|r| r.n).unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("m.db");
    let url = format!("sqlite://{}", path.display());
    let config = rolodex_store::StoreConfig { url, max_connections: 2, cipher: crate::harness::cipher() };
    let store = Store::connect_with_clock(config.clone(), clock()).await.expect("open");
    let gone = Gone::create(&store).await;
    drop(store);

    let mut c = SqliteConnection::establish(&path.display().to_string()).expect("sqlite");
    down_through_keys_migration(|| c.revert_last_migration(rolodex_store::SQLITE_MIGRATIONS));
    assert_eq!(count(&mut c, "SELECT count(*) AS n FROM contact_emails"), 1, "down refills the e-mail rows");
    assert_eq!(count(&mut c, "SELECT count(*) AS n FROM contact_phones"), 1, "and the phone rows");
    // As the store left a deleted contact before: e-mail and phone rows, no keys.
    sql_query("DELETE FROM contact_keys").execute(&mut c).expect("clear keys");
    drop(c);

    let store = Store::connect_with_clock(config, clock()).await.expect("up again");
    gone.assert_found(&store).await;
}

/// The same on PostgreSQL (its SQL differs: `ON CONFLICT`, casts).
#[tokio::test(flavor = "multi_thread")]
async fn postgres_email_and_phone_rows_become_keys() {
    use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
    use diesel_migrations::MigrationHarness;

    let Some(pg) = pg_db("postgres_email_and_phone_rows_become_keys").await else { return };
    let store = pg_store(&pg, clock()).await;
    let gone = Gone::create(&store).await;

    let conn = AsyncPgConnection::establish(&pg.url).await.expect("connect");
    let mut harness = AsyncMigrationHarness::new(conn);
    let reverted = down_through_keys_migration(|| harness.revert_last_migration(rolodex_store::POSTGRES_MIGRATIONS));
    let mut c = harness.into_inner();
    for table in ["contact_emails", "contact_phones"] {
        let n: Count =
            diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result(&mut c).await.expect(table);
        assert_eq!(n.n, 1, "down refills {table}");
    }
    diesel::sql_query("DELETE FROM contact_keys").execute(&mut c).await.expect("clear keys");
    drop(c);

    assert_eq!(store.run_migrations().await.expect("up again").len(), reverted);
    gone.assert_found(&store).await;
}
