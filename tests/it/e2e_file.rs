//! End-to-end: importing files through the CLI (`rolodex import`, `runs`, `review`, `execute`) on
//! SQLite and PostgreSQL: a full preview → review → execute of a CSV, a vCard import, and the
//! same file imported twice creating nothing the second time.

use std::collections::BTreeSet;

use crate::support::{TestDb, both, data, n};

both!(importing_the_same_file_twice_creates_nothing);
async fn importing_the_same_file_twice_creates_nothing(db: TestDb) {
    let file = data("contacts-dev/contacts_crm.csv");
    let first = db.cli_json(&["import", &file, "--yes", "--json", "--default-region", "AU"]).await;
    assert_eq!(n(&first, "created"), 500, "{first}");
    assert_eq!(n(&first, "failed"), 0, "{first}");
    let contacts = db.contacts().await;
    assert_eq!(contacts.len(), 500);

    let second = db.cli_json(&["import", &file, "--yes", "--json", "--default-region", "AU"]).await;
    assert_eq!(
        (n(&second, "created"), n(&second, "updated"), n(&second, "merged"), n(&second, "pending_review")),
        (0, 0, 0, 0),
        "{second}"
    );
    assert_eq!(db.contacts().await.len(), 500, "nothing new");
    let runs = db.cli(&["runs"]).await.expect("runs");
    assert_eq!(runs.lines().filter(|l| l.contains("completed")).count(), 2, "{runs}");
}

both!(file_preview_review_execute);
async fn file_preview_review_execute(db: TestDb) {
    let crm = data("contacts-dev/contacts_crm.csv");
    db.cli_json(&["import", &crm, "--yes", "--json", "--default-region", "AU"]).await;

    // No terminal, no --yes: the table is printed and everything stays pending.
    let source = data("contacts-dev/contacts_source.csv");
    let out = db.cli(&["import", &source, "--default-region", "AU", "--show", "5"]).await.expect("import");
    assert!(out.contains("ACTION") && out.contains("CONFIDENCE") && out.contains("REASONS"), "{out}");
    assert!(out.contains("same email"), "reasons are shown: {out}");
    assert!(out.contains(" → "), "diffs are shown: {out}");
    assert!(out.contains("no terminal and no --yes: nothing applied"), "{out}");
    let run = out
        .lines()
        .find_map(|l| l.strip_prefix("run ").and_then(|r| r.split(':').next()))
        .expect("run id in the output")
        .to_owned();
    let shown = db.cli_json(&["runs", "show", &run, "--json"]).await;
    assert_eq!((n(&shown, "pending_review"), n(&shown, "updated")), (500, 0), "{shown}");
    assert_eq!(db.contacts().await.len(), 500, "a preview writes no contact");

    // Review: approve the high-confidence items, skip duplicates, reject one, override one.
    let review = db.cli(&["runs", "show", &run, "--action", "review"]).await.expect("show");
    let review_positions: Vec<String> = review
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let pos = words.next()?;
            (words.next() == Some("review") && pos.parse::<u64>().is_ok()).then(|| pos.to_owned())
        })
        .collect();
    assert!(!review_positions.is_empty(), "the source has ambiguous rows: {review}");
    let out = db.cli(&["review", &run, "--approve-high", "--skip-duplicates"]).await.expect("review");
    assert!(out.contains("high-confidence item(s)"), "{out}");
    let overridden = &review_positions[0];
    let out = db.cli(&["review", &run, "--override", &format!("{overridden}=skip")]).await.expect("override");
    assert!(out.contains("will skip"), "{out}");
    if let Some(rejected) = review_positions.get(1) {
        db.cli(&["review", &run, "--reject", rejected]).await.expect("reject");
    }
    // A `review` item cannot be approved as it is.
    if let Some(undecided) = review_positions.get(2) {
        let err = db.cli(&["review", &run, "--approve", undecided]).await.expect_err("needs a decision");
        assert!(format!("{err:#}").contains("needs a decision"), "{err:#}");
    }

    let done = db.cli_json(&["execute", &run, "--json"]).await;
    let changed = n(&done, "created") + n(&done, "updated") + n(&done, "merged");
    assert!(n(&done, "updated") > 400, "{done}");
    assert!(n(&done, "skipped") >= 1, "{done}");
    assert_eq!(n(&done, "failed"), 0, "{done}");
    let pending_after = n(&done, "pending_review");
    let expected_pending = review_positions.len().saturating_sub(2) as u64;
    assert_eq!(pending_after, expected_pending, "only the undecided review items wait: {done}");
    assert_eq!(db.contacts().await.len() as u64, 500 + n(&done, "created"), "{done}, {changed} changed");

    // Executing again applies nothing twice.
    let again = db.cli_json(&["execute", &run, "--json"]).await;
    assert_eq!((n(&again, "created"), n(&again, "updated")), (0, 0), "{again}");
}

both!(vcard_import);
async fn vcard_import(db: TestDb) {
    let file = data("vcards/simple_3_0_test.ics");
    let out = db.cli_json(&["import", &file, "--yes", "--json"]).await;
    assert!(n(&out, "created") >= 1, "{out}");
    let names: BTreeSet<String> = db.contacts().await.iter().map(|c| c.fields.label()).collect();
    assert_eq!(names.len() as u64, n(&out, "created"), "{names:?}");
    let again = db.cli_json(&["import", &file, "--yes", "--json"]).await;
    assert_eq!(n(&again, "created"), 0, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_clear() {
    let Some(db) = TestDb::sqlite().await else { return };
    let err = db.cli(&["import", "/no/such/file.csv"]).await.expect_err("missing file");
    assert!(format!("{err:#}").contains("no such file"), "{err:#}");
    let err = db.cli(&["execute", "not-a-run"]).await.expect_err("bad id");
    assert!(format!("{err:#}").contains("rolodex runs"), "{err:#}");
    let err = db.cli(&["execute", "01a1fdf4-7c2d-7415-b0fa-e8b87ba393bc"]).await.expect_err("unknown run");
    assert!(format!("{err:#}").contains("not found"), "{err:#}");
}
