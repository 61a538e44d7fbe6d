//! `FileSource` as a `ContactSource`: paging, the content-hash cursor, changed files, bad tokens and
//! malformed records.

use std::collections::BTreeSet;
use std::path::Path;

use rolodex_domain::ports::{ChangePage, ContactSource, FetchRequest, PageToken, ProviderError, SyncCursor};
use rolodex_files::{ColumnMap, CsvOptions, FileFormat, FileSource};

use crate::{data, temp_dir};

/// Follows `next_page` from `first` to the end; returns every page.
fn all_pages(source: &FileSource, first: FetchRequest) -> Vec<ChangePage> {
    let mut pages = vec![source.fetch_blocking(first).unwrap()];
    while let Some(token) = pages.last().and_then(|p| p.next_page.clone()) {
        assert!(pages.last().unwrap().next_cursor.is_none(), "only the last page carries the cursor");
        pages.push(source.fetch_blocking(FetchRequest::Page(token)).unwrap());
        assert!(pages.len() < 1000, "paging does not end");
    }
    pages
}

fn ids(pages: &[ChangePage]) -> Vec<String> {
    pages.iter().flat_map(|p| &p.upserts).map(|c| c.external_id.clone().unwrap()).collect()
}

fn write_csv(path: &Path, rows: usize) {
    let mut text = String::from("id,first_name,last_name,email,mobile\n");
    for i in 1..=rows {
        text.push_str(&format!("c{i},Given{i},Family{i},person{i}@example.com,0412 {:03} {:03}\n", i / 1000, i % 1000));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_csv_file_is_listed_in_pages_and_an_unchanged_file_has_no_changes() {
    let source = FileSource::open(data("febrl/febrl1.csv"), CsvOptions::default()).unwrap().with_page_size(300);
    assert_eq!(source.provider(), "file");
    assert_eq!(source.format(), FileFormat::Csv);
    let pages = all_pages(&source, FetchRequest::Full);
    assert_eq!(pages.iter().map(|p| p.upserts.len()).collect::<Vec<_>>(), [300, 300, 300, 100]);
    let ids = ids(&pages);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 1000);
    assert_eq!(ids[0], "f100001");
    let one_pass: Vec<String> = rolodex_files::CsvContacts::open(&data("febrl/febrl1.csv"), &CsvOptions::default())
        .unwrap()
        .map(|r| r.unwrap().raw.id.unwrap())
        .collect();
    assert_eq!(ids, one_pass);
    let first = &pages[0].upserts[0];
    assert_eq!(first.fields.source.as_deref(), Some("file:febrl1.csv"));
    assert_eq!(first.fields.given_name.as_deref(), Some("erin"));
    assert!(pages.iter().all(|p| !p.reset && p.deletions.is_empty()));

    let cursor = pages.last().unwrap().next_cursor.clone().unwrap();
    assert!(cursor.0.starts_with("sha256:") && cursor.0.len() == 7 + 64, "{cursor:?}");
    let again = source.fetch_blocking(FetchRequest::Since(cursor.clone())).unwrap();
    assert!(again.upserts.is_empty() && again.next_page.is_none() && !again.reset);
    assert_eq!(again.next_cursor, Some(cursor));
}

#[test]
fn paging_reads_the_same_records_as_one_pass() {
    let dir = temp_dir("paging");
    let path = dir.join("people.csv");
    write_csv(&path, 1234);
    let paged = FileSource::open(&path, CsvOptions::default()).unwrap().with_page_size(100);
    let whole = FileSource::open(&path, CsvOptions::default()).unwrap().with_page_size(5000);
    let paged_pages = all_pages(&paged, FetchRequest::Full);
    assert_eq!(paged_pages.len(), 13);
    let whole_pages = all_pages(&whole, FetchRequest::Full);
    assert_eq!(whole_pages.len(), 1);
    let flatten = |pages: &[ChangePage]| pages.iter().flat_map(|p| p.upserts.clone()).collect::<Vec<_>>();
    assert_eq!(flatten(&paged_pages), flatten(&whole_pages));
    assert_eq!(paged_pages.last().unwrap().next_cursor, whole_pages[0].next_cursor);
    let page_of_exactly_100 = FileSource::open(&path, CsvOptions::default()).unwrap().with_page_size(1234);
    assert_eq!(all_pages(&page_of_exactly_100, FetchRequest::Full).len(), 1, "no empty trailing page");
}

#[test]
fn a_changed_file_is_listed_again_with_reset() {
    let dir = temp_dir("changed");
    let path = dir.join("people.csv");
    write_csv(&path, 10);
    let source = FileSource::open(&path, CsvOptions::default()).unwrap().with_page_size(4);
    let first = source.fetch_blocking(FetchRequest::Full).unwrap();
    let token = first.next_page.clone().unwrap();
    let cursor = all_pages(&source, FetchRequest::Full).last().unwrap().next_cursor.clone().unwrap();

    write_csv(&path, 11);
    let since = all_pages(&source, FetchRequest::Since(cursor.clone()));
    assert!(since.iter().all(|p| p.reset));
    assert_eq!(ids(&since).len(), 11);
    assert_ne!(since.last().unwrap().next_cursor.as_ref(), Some(&cursor));

    // A token of the old file restarts the listing from the top.
    let restarted = source.fetch_blocking(FetchRequest::Page(token)).unwrap();
    assert!(restarted.reset);
    assert_eq!(restarted.upserts[0].external_id.as_deref(), Some("c1"));

    let stale = source.fetch_blocking(FetchRequest::Since(SyncCursor("sha256:00".into()))).unwrap();
    assert!(stale.reset && stale.upserts.len() == 4);
}

#[test]
fn vcard_files_page_by_card() {
    let dir = temp_dir("vcards");
    let path = dir.join("export.vcf");
    let mut text = String::from("BEGIN:VCALENDAR\r\n");
    for i in 1..=7 {
        text.push_str(&format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u{i}\r\nFN:Person {i}\r\nTEL;TYPE=CELL:+61 412 000 00{i}\r\nEND:VCARD\r\n"));
    }
    text.push_str("END:VCALENDAR\r\n");
    std::fs::write(&path, text).unwrap();
    let source = FileSource::open(&path, CsvOptions::default()).unwrap().with_page_size(3);
    assert_eq!(source.format(), FileFormat::VCard);
    let pages = all_pages(&source, FetchRequest::Full);
    assert_eq!(pages.iter().map(|p| p.upserts.len()).collect::<Vec<_>>(), [3, 3, 1]);
    assert_eq!(ids(&pages), ["u1", "u2", "u3", "u4", "u5", "u6", "u7"]);
    assert_eq!(pages[0].upserts[0].fields.phones[0].number.e164(), "+61412000001");
    assert_eq!(pages[0].upserts[0].fields.source.as_deref(), Some("file:export.vcf"));
}

#[test]
fn format_is_sniffed_when_the_extension_says_nothing() {
    let dir = temp_dir("sniff");
    let card = dir.join("contacts.txt");
    std::fs::write(&card, "\u{feff}begin:vcard\nfn:Ann\nend:vcard\n").unwrap();
    assert_eq!(FileFormat::detect(&card).unwrap(), FileFormat::VCard);
    let table = dir.join("contacts.dat");
    std::fs::write(&table, "name,email\nAnn,a@x.io\n").unwrap();
    assert_eq!(FileFormat::detect(&table).unwrap(), FileFormat::Csv);
    assert_eq!(FileFormat::detect(&data("vcards/simple_3_0_test.ics")).unwrap(), FileFormat::VCard);
}

#[test]
fn errors_are_typed() {
    let dir = temp_dir("errors");
    let path = dir.join("bad.csv");
    std::fs::write(&path, "name,email\nAnn,a@x.io\nBob,b@x.io,extra\n").unwrap();
    let source = FileSource::open(&path, CsvOptions::default()).unwrap();
    match source.fetch_blocking(FetchRequest::Full) {
        Err(ProviderError::Invalid { field, message }) => {
            assert_eq!(field, "line 3");
            assert!(message.ends_with("bad.csv: line 3: expected 2 fields, found 3"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // A bad row on a later page names its line in the file.
    let later = dir.join("later.csv");
    std::fs::write(&later, "name,email\r\nA,a@x.io\r\nB,b@x.io\r\nC,\"c\r\n@x.io\"\r\nD,d@x.io,extra\r\n").unwrap();
    let paged = FileSource::open(&later, CsvOptions::default()).unwrap().with_page_size(2);
    let first = paged.fetch_blocking(FetchRequest::Full).unwrap();
    match paged.fetch_blocking(FetchRequest::Page(first.next_page.unwrap())) {
        Err(ProviderError::Invalid { field, message }) => {
            assert_eq!(field, "line 6");
            assert!(message.ends_with("line 6: expected 2 fields, found 3"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }

    let bad_token = source.fetch_blocking(FetchRequest::Page(PageToken("vcf:1:2:3:4:5:0".into())));
    assert!(matches!(bad_token, Err(ProviderError::Invalid { field, .. }) if field == "page token"));

    let options = CsvOptions { map: ColumnMap::parse("email=mail").unwrap(), ..CsvOptions::default() };
    assert!(FileSource::open(&path, options).is_err(), "a bad map fails when the source is built");

    std::fs::remove_file(&path).unwrap();
    assert!(matches!(source.fetch_blocking(FetchRequest::Full), Err(ProviderError::NotFound(_))));
}

#[tokio::test]
async fn fetch_runs_on_the_blocking_pool() {
    let source: std::sync::Arc<dyn ContactSource> =
        std::sync::Arc::new(FileSource::open(data("contacts-dev/contacts_source.csv"), CsvOptions::default()).unwrap());
    let page = source.fetch(FetchRequest::Full).await.unwrap();
    assert_eq!(page.upserts.len(), 500);
    assert!(page.next_page.is_none() && page.next_cursor.is_some());
    assert_eq!(page.upserts[0].external_id.as_deref(), Some("src-00001"));
}
