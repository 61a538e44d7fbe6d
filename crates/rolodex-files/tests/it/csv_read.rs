//! Reading CSV files: the shared data sets, null markers, delimiters, and error messages that name
//! the line and the column.

use rolodex_domain::phone::Region;
use rolodex_domain::raw::RawContact;
use rolodex_files::{ColumnMap, CsvContacts, CsvOptions, CsvRecord, Field, FileError};

use crate::{data, temp_dir};

fn read(text: &str, options: &CsvOptions) -> Vec<Result<CsvRecord, FileError>> {
    CsvContacts::from_reader(text.as_bytes(), options).unwrap().collect()
}

fn read_ok(text: &str) -> Vec<RawContact> {
    read(text, &CsvOptions::default()).into_iter().map(|r| r.unwrap().raw).collect()
}

#[test]
fn febrl_is_read_with_recognised_columns() {
    let reader = CsvContacts::open(&data("febrl/febrl1.csv"), &CsvOptions::default()).unwrap();
    assert_eq!(reader.columns().columns_for(Field::Id), ["rec_id"]);
    assert_eq!(reader.columns().columns_for(Field::Birthday), ["date_of_birth"]);
    let records: Vec<CsvRecord> = reader.map(Result::unwrap).collect();
    assert_eq!(records.len(), 1000);
    let first = &records[0];
    assert_eq!(first.line, 2);
    assert_eq!(first.raw.id.as_deref(), Some("f100001"));
    assert_eq!(first.raw.given_name.as_deref(), Some("erin"));
    assert_eq!(first.raw.family_name.as_deref(), Some("reid"));
    assert_eq!(first.raw.street.as_deref(), Some("2 temperley street"));
    assert_eq!(first.raw.city.as_deref(), Some("venusbay"));
    assert_eq!(first.raw.state.as_deref(), Some("nsw"));
    assert_eq!(first.raw.postcode.as_deref(), Some("2705"));
    assert_eq!(first.raw.birthday, None);
    assert_eq!(first.raw.custom.get("soc_sec_id").map(String::as_str), Some("7311880"));
    let second = records[1].raw.clone().into_incoming(Region::parse("AU").unwrap());
    assert_eq!(second.fields.birthday.map(|b| b.to_string()).as_deref(), Some("1958-12-31"));
    assert_eq!(second.fields.address.street2.as_deref(), Some("guyra"));
}

#[test]
fn rldata500_with_a_map_gets_row_number_ids_and_joined_dates() {
    let options = CsvOptions {
        map: ColumnMap::parse("given_name=fname_c1+fname_c2,family_name=lname_c1+lname_c2,birthday=by+bm+bd").unwrap(),
        delimiter: b'\t',
        ..CsvOptions::default()
    };
    let reader = CsvContacts::open(&data("rldata500/RLdata500.tsv"), &options).unwrap();
    let records: Vec<CsvRecord> = reader.map(Result::unwrap).collect();
    assert_eq!(records.len(), 500);
    let ids: Vec<String> = records.iter().map(|r| r.raw.id.clone().unwrap()).collect();
    assert_eq!(ids.first().map(String::as_str), Some("1"));
    assert_eq!(ids.last().map(String::as_str), Some("500"));
    let first = &records[0].raw;
    assert_eq!(first.given_name.as_deref(), Some("CARSTEN"), "NA in fname_c2 is missing, not joined");
    assert_eq!(first.family_name.as_deref(), Some("MEIER"));
    assert_eq!(first.birthday.as_deref(), Some("1949 7 22"));
    let incoming = first.clone().into_incoming(Region::default());
    assert_eq!(incoming.fields.birthday.map(|b| b.to_string()).as_deref(), Some("1949-07-22"));
    assert!(incoming.warnings.is_empty());
}

#[test]
fn a_tsv_file_is_sniffed_without_being_told() {
    let options = CsvOptions { map: ColumnMap::parse("given_name=fname_c1").unwrap(), ..CsvOptions::default() };
    let mut reader = CsvContacts::open(&data("rldata500/RLdata500.tsv"), &options).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().raw.given_name.as_deref(), Some("CARSTEN"));
    assert!(reader.bytes_read() > 0);
}

#[test]
fn contacts_dev_names_emails_phones() {
    let records: Vec<CsvRecord> = CsvContacts::open(&data("contacts-dev/contacts_crm.csv"), &CsvOptions::default())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 500);
    let first = &records[0].raw;
    assert_eq!(first.id.as_deref(), Some("crm-00001"));
    assert_eq!(first.name.as_deref(), Some("Gaildis, Hudson"));
    assert!(first.emails.is_empty());
    assert_eq!(first.phones, [("0466.594.162".to_owned(), None)]);
    assert_eq!(first.company.as_deref(), Some("Cookshill Consulting"));
    assert_eq!(records[1].raw.emails, ["brookepennell@gmail.com"]);
}

#[test]
fn phones_keep_their_kind_and_the_first_email_is_primary() {
    let raws = read_ok("Work Email,Email,Mobile,Home Phone,notes\nw@x.io,p@y.io,0412 345 678,02 9999 0000,hi\n");
    let raw = &raws[0];
    assert_eq!(raw.emails, ["w@x.io", "p@y.io"]);
    assert_eq!(
        raw.phones,
        [("0412 345 678".to_owned(), Some("mobile".to_owned())), ("02 9999 0000".to_owned(), Some("home".to_owned()))]
    );
    assert_eq!(raw.custom.get("notes").map(String::as_str), Some("hi"));
    assert_eq!(raw.id.as_deref(), Some("1"));
}

#[test]
fn null_markers_are_missing_and_configurable() {
    let text = "name,email,phone,company,zip\nAnn,NA,N/A,NULL,-\nBob,null,,none,2000\n";
    let raws = read_ok(text);
    assert!(raws[0].emails.is_empty() && raws[0].phones.is_empty());
    assert_eq!((raws[0].company.as_deref(), raws[0].postcode.as_deref()), (None, None));
    assert_eq!(raws[1].company.as_deref(), Some("none"));

    let options = CsvOptions { null_values: vec!["none".into()], ..CsvOptions::default() };
    let raws: Vec<RawContact> = read(text, &options).into_iter().map(|r| r.unwrap().raw).collect();
    assert_eq!(raws[0].emails, ["NA"]);
    assert_eq!(raws[0].postcode.as_deref(), Some("-"));
    assert_eq!(raws[1].company, None);
    assert!(raws[1].phones.is_empty(), "blank cells are always missing");
}

#[test]
fn quoted_cells_with_line_breaks_keep_line_numbers_right() {
    let text = "id,name,street\n1,\"Doe, Jane\",\"1 Main St\nUnit 2\"\n2,Bob,x,extra\n3,Cy,z\n";
    let results = read(text, &CsvOptions::default());
    assert_eq!(results.len(), 3);
    let first = results[0].as_ref().unwrap();
    assert_eq!(first.raw.name.as_deref(), Some("Doe, Jane"));
    assert_eq!(first.raw.street.as_deref(), Some("1 Main St\nUnit 2"));
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(err.to_string(), "line 4: expected 3 fields, found 4");
    let third = results[2].as_ref().unwrap();
    assert_eq!((third.line, third.row), (5, 3));
}

#[test]
fn invalid_utf8_names_the_line_and_column() {
    let mut bytes = b"id,name,email\n1,Ann,a@x.io\n2,Bob,b\xff@x.io\n".to_vec();
    bytes.extend_from_slice(b"3,Cy,c@x.io\n");
    let results: Vec<_> = CsvContacts::from_reader(bytes.as_slice(), &CsvOptions::default()).unwrap().collect();
    let err = results[1].as_ref().unwrap_err();
    assert!(matches!(err, FileError::Csv { line: 3, column: Some(c), .. } if c == "email"), "{err:?}");
    assert!(err.to_string().starts_with("line 3: column `email`: not valid UTF-8"), "{err}");
    assert!(results[2].is_ok(), "reading goes on after a bad row");
}

#[test]
fn empty_input_and_bom() {
    let err = CsvContacts::from_reader("".as_bytes(), &CsvOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "line 1: the file is empty; expected a header row");
    let raws = read_ok("\u{feff}email,name\na@x.io,Ann\n");
    assert_eq!(raws[0].emails, ["a@x.io"]);
    let header_only = read("email,name\n", &CsvOptions::default());
    assert!(header_only.is_empty());
}

#[test]
fn semicolon_files_are_sniffed_by_open_and_io_errors_name_the_path() {
    let dir = temp_dir("semicolon");
    let path = dir.join("export.csv");
    std::fs::write(&path, "Vorname;Nachname;E-Mail;Tags\nAnna;Schmidt;anna@x.de;a, b|c\n").unwrap();
    let options = CsvOptions {
        map: ColumnMap::parse("given_name=Vorname,family_name=Nachname").unwrap(),
        ..CsvOptions::default()
    };
    let raw = CsvContacts::open(&path, &options).unwrap().next().unwrap().unwrap().raw;
    assert_eq!(raw.given_name.as_deref(), Some("Anna"));
    assert_eq!(raw.emails, ["anna@x.de"]);
    assert_eq!(raw.tags, ["a", "b", "c"]);

    let missing = dir.join("nope.csv");
    let err = CsvContacts::open(&missing, &CsvOptions::default()).unwrap_err();
    assert!(matches!(&err, FileError::Io { path, .. } if path == &missing));
    assert!(err.to_string().contains("nope.csv"), "{err}");
}

#[test]
fn crlf_files_report_the_right_lines_and_skip_blank_lines() {
    let text = "id,name,email\r\n1,Ann,a@x.io\r\n\r\n2,\"Bob\r\nJr\",b@x.io\r\n3,Cy\r\n4,Dee,d@x.io";
    let results = read(text, &CsvOptions::default());
    let lines: Vec<Result<(u64, u64), String>> =
        results.iter().map(|r| r.as_ref().map(|r| (r.line, r.row)).map_err(ToString::to_string)).collect();
    assert_eq!(lines, [Ok((2, 1)), Ok((4, 2)), Err("line 6: expected 3 fields, found 2".to_owned()), Ok((7, 4))]);
    let ok: Vec<&CsvRecord> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok[0].raw.emails, ["a@x.io"], "no trailing \\r");
    assert_eq!(ok[1].raw.name.as_deref(), Some("Bob\r\nJr"));
    assert_eq!(ok[2].raw.emails, ["d@x.io"]);
}
