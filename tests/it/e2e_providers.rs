//! End-to-end: provider connections through the CLI against the provider mocks of
//! `rolodex-testkit`, on SQLite and PostgreSQL: `connections add`, `sync --preview`, `review`,
//! `execute` for Graph, Google and GoHighLevel; an incremental `sync --execute` that sees an
//! update and a deletion; and an emptied source that aborts the run and leaves the contacts alone.

use rolodex_testkit::mocks::ghl::{GhlMock, LOCATION_ID};
use rolodex_testkit::mocks::google::GoogleMock;
use rolodex_testkit::mocks::graph::GraphMock;
use rolodex_testkit::provider_contract::{MockControl, sample_contact};

use crate::support::{TestDb, both, n};

/// Adds a connection; returns its id.
async fn connect(db: &TestDb, provider: &str, account: &str, token: &str, base: &str) -> String {
    let out = db
        .cli(&[
            "connections",
            "add",
            "--provider",
            provider,
            "--account",
            account,
            "--access-token",
            token,
            "--base-url",
            base,
        ])
        .await
        .expect("connections add");
    out.trim().to_owned()
}

/// Seeds `count` contacts, previews, approves everything and executes: every contact created once.
async fn preview_review_execute(db: &TestDb, mock: &dyn MockControl, connection: &str, count: usize) {
    mock.seed((0..count).map(sample_contact).collect()).await;
    let preview = db.cli_json(&["sync", connection, "--preview", "--json"]).await;
    assert_eq!(n(&preview, "created"), 0, "a preview writes nothing: {preview}");
    assert_eq!(n(&preview, "pending_review"), count as u64, "{preview}");
    assert!(db.contacts().await.is_empty());
    let run = preview["run_id"].as_str().expect("run id").to_owned();

    let out = db.cli(&["review", &run, "--approve-all"]).await.expect("review");
    assert!(out.contains(&format!("approved {count} item(s)")), "{out}");
    let done = db.cli_json(&["execute", &run, "--json"]).await;
    assert_eq!((n(&done, "created"), n(&done, "failed"), n(&done, "pending_review")), (count as u64, 0, 0), "{done}");
    assert_eq!(db.contacts().await.len(), count);
    let runs = db.cli(&["runs"]).await.expect("runs");
    assert!(runs.contains("completed"), "{runs}");

    // Nothing changed at the provider: the next incremental sync proposes nothing.
    let again = db.cli_json(&["sync", connection, "--execute", "--json"]).await;
    assert_eq!((n(&again, "created"), n(&again, "updated"), n(&again, "pending_review")), (0, 0, 0), "{again}");
    assert_eq!(db.contacts().await.len(), count);
}

both!(graph_preview_review_execute);
async fn graph_preview_review_execute(db: TestDb) {
    let mock = GraphMock::start().await;
    let token = mock.access_token().expect("token");
    let conn = connect(&db, "graph", "me", &token, &mock.graph_base()).await;
    preview_review_execute(&db, &mock, &conn, 12).await;
}

both!(google_preview_review_execute);
async fn google_preview_review_execute(db: TestDb) {
    let mock = GoogleMock::start().await;
    let token = mock.access_token().expect("token");
    let conn = connect(&db, "google", "me@example.com", &token, &mock.people_base()).await;
    preview_review_execute(&db, &mock, &conn, 12).await;
}

both!(ghl_preview_review_execute);
async fn ghl_preview_review_execute(db: TestDb) {
    let mock = GhlMock::start().await;
    let token = mock.access_token().expect("token");
    let conn = connect(&db, "ghl", LOCATION_ID, &token, &mock.uri()).await;
    preview_review_execute(&db, &mock, &conn, 12).await;
}

both!(incremental_sync_sees_an_update_and_a_deletion);
async fn incremental_sync_sees_an_update_and_a_deletion(db: TestDb) {
    let mock = GraphMock::start().await;
    let token = mock.access_token().expect("token");
    let conn = connect(&db, "graph", "me", &token, &mock.graph_base()).await;
    let ids = mock.seed((0..6).map(sample_contact).collect()).await;
    let first = db.cli_json(&["sync", &conn, "--execute", "--json"]).await;
    assert_eq!(n(&first, "created"), 6, "new contacts are high-confidence creates: {first}");

    let mut changed = sample_contact(0);
    changed.company = Some("Analytical Engines Ltd".to_owned());
    mock.update_remote(&ids[0], &changed).await;
    mock.delete_remote(&ids[1]).await;
    let out = db.cli(&["sync", &conn, "--execute"]).await.expect("incremental sync");
    assert!(out.contains("1 fetched"), "only the change is fetched: {out}");
    assert!(out.contains("1 delete)"), "the deletion is proposed: {out}");
    assert!(out.contains("1 deleted at the source"), "{out}");
    assert!(out.contains("updated 1,"), "{out}");
    assert!(out.contains("1 waiting for review"), "a deletion waits for a person: {out}");
    let contacts = db.contacts().await;
    assert_eq!(contacts.len(), 6, "nothing is deleted before a person approves it");
    let updated: Vec<_> =
        contacts.iter().filter(|c| c.fields.company.as_deref() == Some("Analytical Engines Ltd")).collect();
    assert_eq!(updated.len(), 1);

    // A person approves the deletion (item #1, after the update) and executes it.
    let runs = db.cli(&["runs", "list", "--json", "--limit", "1"]).await.expect("runs");
    let run: serde_json::Value = serde_json::from_str(runs.lines().next().expect("a run")).expect("json");
    let run_id = run["run_id"].as_str().expect("run id").to_owned();
    let reviewed = db.cli(&["review", &run_id, "--approve", "1", "--execute"]).await.expect("review");
    assert!(reviewed.contains("deleted 1,"), "{reviewed}");
    let live = db.contacts().await;
    assert_eq!(live.len(), 5, "the deleted contact is no longer listed");
    let shown = db.cli_json(&["runs", "show", &run_id, "--json"]).await;
    assert_eq!((n(&shown, "deleted"), n(&shown, "updated")), (1, 1), "{shown}");
}

both!(an_emptied_source_aborts_the_run);
async fn an_emptied_source_aborts_the_run(db: TestDb) {
    let mock = GhlMock::start().await;
    let token = mock.access_token().expect("token");
    let conn = connect(&db, "ghl", LOCATION_ID, &token, &mock.uri()).await;
    let ids = mock.seed((0..5).map(sample_contact).collect()).await;
    let first = db.cli_json(&["sync", &conn, "--execute", "--json"]).await;
    assert_eq!(n(&first, "created"), 5, "{first}");

    for id in &ids {
        mock.delete_remote(id).await;
    }
    mock.expire_cursors().await;
    let err = db.cli(&["sync", &conn, "--execute", "--full"]).await.expect_err("aborted");
    assert!(format!("{err:#}").contains("returned no contacts but had contacts before"), "{err:#}");
    assert_eq!(db.contacts().await.len(), 5, "nothing was touched");
    let runs = db.cli(&["runs", "list", "--status", "failed"]).await.expect("runs");
    assert_eq!(runs.lines().filter(|l| l.contains("failed")).count(), 1, "{runs}");
}
