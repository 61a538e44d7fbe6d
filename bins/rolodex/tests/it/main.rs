//! Tests of the `rolodex` binary itself (`CARGO_BIN_EXE_rolodex`): exit codes, the database path
//! rules (the default file is created on first use, an explicit path never is, except by
//! `migrate`), the `--json` summary on stdout, and no prompt without a terminal. The end-to-end
//! flows run in process in the `tests/` package.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn rolodex(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rolodex"))
        .args(args)
        .current_dir(dir)
        .env_remove("ROLODEX_DATABASE_URL")
        .env_remove("ROLODEX_ORG")
        .env_remove("ROLODEX_TOKEN_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("run rolodex")
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn write_csv(dir: &Path) -> String {
    let path = dir.join("people.csv");
    std::fs::write(
        &path,
        "name,email,phone\nAda Lovelace,ada@example.com,+14155550100\nGrace Hopper,grace@example.com,+14155550101\n",
    )
    .expect("write csv");
    path.display().to_string()
}

#[test]
fn the_default_database_is_created_on_first_use() {
    let dir = tempfile::tempdir().expect("dir");
    let csv = write_csv(dir.path());
    let out = rolodex(dir.path(), &["import", &csv, "--yes", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(summary["created"], 2, "{summary}");
    for key in ["run_id", "created", "updated", "merged", "skipped", "pending_review", "failed"] {
        assert!(summary.get(key).is_some(), "{key} in {summary}");
    }
    assert!(dir.path().join("rolodex.db").is_file());
    let again = rolodex(dir.path(), &["import", &csv, "--yes", "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(summary["created"], 0, "{summary}");
}

#[test]
fn an_explicit_path_is_never_created_by_accident() {
    let dir = tempfile::tempdir().expect("dir");
    let csv = write_csv(dir.path());
    let missing_dir = format!("sqlite://{}/nope/rolodex.db", dir.path().display());
    let out = rolodex(dir.path(), &["--database", &missing_dir, "migrate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("does not exist"), "{}", text(&out.stderr));
    assert!(!dir.path().join("nope").exists());

    let typo = format!("sqlite://{}/typo.db", dir.path().display());
    let out = rolodex(dir.path(), &["--database", &typo, "import", &csv, "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("rolodex --database"), "{}", text(&out.stderr));
    assert!(!dir.path().join("typo.db").exists());

    let out = rolodex(dir.path(), &["--database", &typo, "migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("migration(s) applied"), "{}", text(&out.stdout));
    let out = rolodex(dir.path(), &["--database", &typo, "import", &csv]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("nothing applied"), "no prompt without a terminal: {}", text(&out.stdout));
}

#[test]
fn errors_exit_non_zero_with_a_message() {
    let dir = tempfile::tempdir().expect("dir");
    let out = rolodex(dir.path(), &["--database", "mysql://x/y", "runs"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unsupported database URL"), "{}", text(&out.stderr));
    let out = rolodex(dir.path(), &["connections", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("ROLODEX_TOKEN_KEY"), "{}", text(&out.stderr));
}

#[test]
fn reindex_rewrites_the_keys_of_every_contact() {
    let dir = tempfile::tempdir().expect("dir");
    let csv = write_csv(dir.path());
    assert!(rolodex(dir.path(), &["import", &csv, "--yes"]).status.success());
    let out = rolodex(dir.path(), &["reindex", "--batch", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.starts_with("reindexed 2 contact(s): "), "{said}");
    let rows: u64 =
        said.trim().rsplit(": ").next().and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).expect(&said);
    assert!(rows >= 4, "each contact has at least its e-mail and phone keys: {said}");
    let again = rolodex(dir.path(), &["reindex"]);
    assert_eq!(text(&again.stdout), said, "the same rows again");
    let bad = rolodex(dir.path(), &["reindex", "--batch", "0"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}
