//! Column recognition (table-driven) and `--map` parsing and resolution.

use rolodex_files::columns::recognise;
use rolodex_files::{ColumnMap, CsvContacts, CsvOptions, Field, FileError, ResolvedColumns};

#[test]
fn recognises_common_spellings() {
    use Field::*;
    type Expected = Option<(Field, Option<&'static str>)>;
    let cases: &[(&str, Expected)] = &[
        ("id", Some((Id, None))),
        ("rec_id", Some((Id, None))),
        ("Record ID", Some((Id, None))),
        ("contact-id", Some((Id, None))),
        ("name", Some((Name, None))),
        ("Full Name", Some((Name, None))),
        ("full_name", Some((Name, None))),
        ("first_name", Some((GivenName, None))),
        ("FirstName", Some((GivenName, None))),
        ("First Name", Some((GivenName, None))),
        ("given", Some((GivenName, None))),
        ("fname", Some((GivenName, None))),
        ("given_name", Some((GivenName, None))),
        ("last_name", Some((FamilyName, None))),
        ("lastname", Some((FamilyName, None))),
        ("Surname", Some((FamilyName, None))),
        ("family", Some((FamilyName, None))),
        ("lname", Some((FamilyName, None))),
        ("E-Mail", Some((Email, None))),
        ("email_address", Some((Email, None))),
        ("Email 2", Some((Email, None))),
        ("email3", Some((Email, None))),
        ("phone", Some((Phone, None))),
        ("Phone Number", Some((Phone, None))),
        ("phone_2", Some((Phone, None))),
        ("mobile", Some((Phone, Some("mobile")))),
        ("Cell", Some((Phone, Some("mobile")))),
        ("Work Phone", Some((Phone, Some("work")))),
        ("business-phone", Some((Phone, Some("work")))),
        ("home phone", Some((Phone, Some("home")))),
        ("Fax", Some((Phone, Some("fax")))),
        ("company", Some((Company, None))),
        ("organisation", Some((Company, None))),
        ("Organization", Some((Company, None))),
        ("company_name", Some((Company, None))),
        ("Job Title", Some((JobTitle, None))),
        ("address", Some((Street, None))),
        ("address_1", Some((Street, None))),
        ("address1", Some((Street, None))),
        ("street_address", Some((Street, None))),
        ("address_2", Some((Street2, None))),
        ("town", Some((City, None))),
        ("suburb", Some((City, None))),
        ("locality", Some((City, None))),
        ("City", Some((City, None))),
        ("province", Some((State, None))),
        ("region", Some((State, None))),
        ("zip", Some((Postcode, None))),
        ("zipcode", Some((Postcode, None))),
        ("postal_code", Some((Postcode, None))),
        ("post_code", Some((Postcode, None))),
        ("country", Some((Country, None))),
        ("dob", Some((Birthday, None))),
        ("date_of_birth", Some((Birthday, None))),
        ("birth_date", Some((Birthday, None))),
        ("birthdate", Some((Birthday, None))),
        ("tags", Some((Tags, None))),
        ("soc_sec_id", None),
        ("favourite colour", None),
        ("address3", None),
        ("", None),
    ];
    for (header, expected) in cases {
        let got = recognise(header).map(|r| (r.field, r.phone_label));
        assert_eq!(got, *expected, "header `{header}`");
    }
}

fn resolve(headers: &[&str], map: &str) -> Result<ResolvedColumns, FileError> {
    ResolvedColumns::resolve(headers.iter().map(|h| (*h).to_owned()).collect(), &ColumnMap::parse(map)?)
}

#[test]
fn street_number_goes_in_front_of_the_street() {
    let cols = resolve(&["rec_id", "street_number", "address_1", "address_2", "suburb", "soc_sec_id"], "").unwrap();
    assert_eq!(cols.columns_for(Field::Street), ["street_number", "address_1"]);
    assert_eq!(cols.columns_for(Field::Street2), ["address_2"]);
    assert_eq!(cols.columns_for(Field::City), ["suburb"]);
    assert_eq!(cols.custom_columns(), ["soc_sec_id"]);
    assert!(!cols.id_is_row_number());
}

#[test]
fn several_email_and_phone_columns_all_count_and_a_second_name_column_is_custom() {
    let cols = resolve(&["Email", "mobile", "E-mail 2", "Work Phone", "surname", "last name"], "").unwrap();
    assert_eq!(cols.columns_for(Field::Email), ["Email", "E-mail 2"]);
    assert_eq!(cols.columns_for(Field::Phone), ["mobile", "Work Phone"]);
    assert_eq!(cols.columns_for(Field::FamilyName), ["surname"]);
    assert_eq!(cols.custom_columns(), ["last name"]);
    assert!(cols.id_is_row_number());
}

#[test]
fn map_overrides_recognition() {
    let headers = ["fname_c1", "fname_c2", "lname_c1", "lname_c2", "by", "bm", "bd", "city"];
    let cols = resolve(
        &headers,
        "given_name=fname_c1+fname_c2, family_name = lname_c1+lname_c2,birthday=by+bm+bd,street=city",
    )
    .unwrap();
    assert_eq!(cols.columns_for(Field::GivenName), ["fname_c1", "fname_c2"]);
    assert_eq!(cols.columns_for(Field::Birthday), ["by", "bm", "bd"]);
    // A mapped column feeds only its mapped field.
    assert_eq!(cols.columns_for(Field::Street), ["city"]);
    assert!(cols.columns_for(Field::City).is_empty());
    assert!(cols.custom_columns().is_empty());
    let shown = cols.to_string();
    assert!(shown.contains("birthday     <- by + bm + bd"), "{shown}");
    assert!(shown.contains("id           <- (row number)"), "{shown}");
}

#[test]
fn map_columns_match_ignoring_case_and_separators() {
    let cols = resolve(&["Street Number", "Address Line"], "street=street_number+address-line").unwrap();
    assert_eq!(cols.columns_for(Field::Street), ["Street Number", "Address Line"]);
}

#[test]
fn map_replaces_the_recognised_columns_of_its_field() {
    let cols = resolve(&["email", "work email", "other"], "email=work email").unwrap();
    assert_eq!(cols.columns_for(Field::Email), ["work email"]);
    assert_eq!(cols.custom_columns(), ["email", "other"]);
}

#[test]
fn map_errors_name_what_is_wrong() {
    let err = ColumnMap::parse("given_name=a,frist_name=b").unwrap_err();
    assert!(
        matches!(&err, FileError::UnknownField { field, valid } if field == "frist_name" && valid.contains(&"given_name"))
    );
    let msg = err.to_string();
    assert!(msg.contains("unknown field `frist_name`"), "{msg}");
    assert!(msg.contains("id, name, given_name, family_name, email, phone, company, street"), "{msg}");

    let err = resolve(&["a", "b"], "street=a+number").unwrap_err();
    assert!(matches!(&err, FileError::MissingColumn { field, column, .. } if field == "street" && column == "number"));
    assert!(err.to_string().contains("column `number`, which the file lacks (its columns: a, b)"), "{err}");

    for bad in ["given_name", "given_name=", "street=a+", "email=a,email=b"] {
        assert!(matches!(ColumnMap::parse(bad), Err(FileError::BadMap(_))), "{bad}");
    }
    assert_eq!(ColumnMap::parse(" , ").unwrap(), ColumnMap::empty());
}

#[test]
fn map_error_when_reading_a_file() {
    let options = CsvOptions { map: ColumnMap::parse("email=mail").unwrap(), ..CsvOptions::default() };
    let err = CsvContacts::from_reader("name,email\nA,a@x.io\n".as_bytes(), &options).unwrap_err();
    assert_eq!(err.column(), Some("mail"));
}
