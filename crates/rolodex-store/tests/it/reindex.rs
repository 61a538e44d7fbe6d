//! `Store::reindex_contacts`: index rows that drifted from the contacts (missing, or left by an
//! older key algorithm) are rewritten from the fields, per organisation, page by page.

use rolodex_domain::ports::storage::{AccountStore, ContactQuery, ContactStore, NewContact};
use rolodex_domain::{ContactFields, ContactId, ContactStatus, EmailAddress, OrgId};
use rolodex_store::{ReindexReport, Store};
use rolodex_testkit::store::contract::person;

use crate::harness::{Count, cipher, clock, pg_db, pg_store};

/// Two organisations; in the first, three contacts (one deleted).
struct Drift {
    org: OrgId,
    other: OrgId,
    ann: ContactId,
    ben: ContactId,
    gone: ContactId,
    other_contact: ContactId,
}

impl Drift {
    async fn create(store: &Store) -> Self {
        let (org, other) = (OrgId::new_v7(), OrgId::new_v7());
        store.create_org(org, "A").await.expect("org");
        store.create_org(other, "B").await.expect("org");
        let add = async |org: OrgId, fields: ContactFields| {
            let id = ContactId::new_v7();
            store
                .create_contact(org, NewContact { id, fields, status: ContactStatus::Active }, &[])
                .await
                .expect("add");
            id
        };
        let ann = add(org, person("Ann", "Drift", Some("ann@drift.io"), None)).await;
        let ben = add(org, person("Ben", "Drift", Some("ben@drift.io"), None)).await;
        let gone = add(org, person("Gus", "Drift", Some("gus@drift.io"), None)).await;
        store.set_contact_status(org, gone, 1, ContactStatus::Deleted, &[]).await.expect("delete");
        let other_contact = add(other, person("Oda", "Drift", Some("oda@drift.io"), None)).await;
        Self { org, other, ann, ben, gone, other_contact }
    }

    /// The drift, as SQL: Ann's rows are gone, Ben has one an older algorithm wrote, and so has
    /// the other organisation's contact.
    fn sql(&self) -> Vec<String> {
        vec![
            format!("DELETE FROM contact_keys WHERE contact_id = '{}'", self.ann),
            format!(
                "INSERT INTO contact_keys (contact_id, kind, value, org_id) VALUES ('{}', 'name', 'old:algorithm', '{}')",
                self.ben, self.org
            ),
            format!(
                "INSERT INTO contact_keys (contact_id, kind, value, org_id) VALUES ('{}', 'name', 'old:algorithm', '{}')",
                self.other_contact, self.other
            ),
        ]
    }

    async fn find(&self, store: &Store, email: &str, status: ContactStatus) -> Vec<ContactId> {
        let q = ContactQuery {
            email: Some(EmailAddress::parse(email).expect("email")),
            status: Some(status),
            ..ContactQuery::default()
        };
        store.search_contacts(self.org, &q).await.expect("search").into_iter().map(|c| c.id).collect()
    }

    async fn reindex_and_check(&self, store: &Store, count: impl AsyncFn(String) -> i64) {
        assert!(self.find(store, "ann@drift.io", ContactStatus::Active).await.is_empty(), "the drift shows");
        let mut seen = Vec::new();
        let report = store.reindex_contacts(self.org, 2, |n| seen.push(n)).await.expect("reindex");
        assert_eq!(seen, vec![2, 3], "progress after each page");
        let stored = count(format!("SELECT count(*) AS n FROM contact_keys WHERE org_id = '{}'", self.org)).await;
        assert_eq!(report, ReindexReport { contacts: 3, keys: u64::try_from(stored).expect("count") });
        assert_eq!(self.find(store, "ann@drift.io", ContactStatus::Active).await, vec![self.ann]);
        assert_eq!(self.find(store, "gus@drift.io", ContactStatus::Deleted).await, vec![self.gone]);
        let stale = |org: OrgId| {
            format!("SELECT count(*) AS n FROM contact_keys WHERE org_id = '{org}' AND value = 'old:algorithm'")
        };
        assert_eq!(count(stale(self.org)).await, 0, "the old algorithm's row is gone");
        assert_eq!(count(stale(self.other)).await, 1, "another organisation is left alone");
        let names =
            format!("SELECT count(*) AS n FROM contact_keys WHERE contact_id = '{}' AND kind = 'name'", self.gone);
        assert_eq!(count(names).await, 0, "a deleted contact keeps only its e-mail and phone keys");
        assert!(count(format!("SELECT count(*) AS n FROM contact_keys WHERE contact_id = '{}'", self.ann)).await > 1);

        let again = store.reindex_contacts(self.org, 100, |_| {}).await.expect("again");
        assert_eq!(again, report, "running it again changes nothing");
        let empty = store.reindex_contacts(OrgId::new_v7(), 100, |_| {}).await.expect("no contacts");
        assert_eq!(empty, ReindexReport::default());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_reindex_rewrites_drifted_rows() {
    use diesel::{Connection, RunQueryDsl, SqliteConnection, sql_query};

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("r.db");
    let url = format!("sqlite://{}", path.display());
    let config = rolodex_store::StoreConfig { url, max_connections: 2, cipher: cipher() };
    let store = Store::connect_with_clock(config, clock()).await.expect("open");
    let drift = Drift::create(&store).await;
    let raw = || SqliteConnection::establish(&path.display().to_string()).expect("sqlite");
    let mut c = raw();
    for sql in drift.sql() {
        sql_query(sql).execute(&mut c).expect("drift");
    }
    drop(c);
    let count = async |sql: String| sql_query(sql).get_result::<Count>(&mut raw()).expect("count").n;
    drift.reindex_and_check(&store, count).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_reindex_rewrites_drifted_rows() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

    let Some(pg) = pg_db("postgres_reindex_rewrites_drifted_rows").await else { return };
    let store = pg_store(&pg, clock()).await;
    let drift = Drift::create(&store).await;
    let mut c = AsyncPgConnection::establish(&pg.url).await.expect("connect");
    for sql in drift.sql() {
        diesel::sql_query(sql).execute(&mut c).await.expect("drift");
    }
    let c = tokio::sync::Mutex::new(c);
    let count = async |sql: String| {
        let mut c = c.lock().await;
        diesel::sql_query(sql).get_result::<Count>(&mut *c).await.expect("count").n
    };
    drift.reindex_and_check(&store, count).await;
}
