//! vCard reading: the shared fixtures (2.1 quoted-printable with a base64 photo, 3.0 with groups and
//! folded lines, 3.0 escapes), 4.0 forms, Apple labels, charsets, and broken structure.

use rolodex_domain::phone::Region;
use rolodex_files::{FileError, VCardContacts, VCardRecord};

use crate::data;

fn read(text: &str) -> Vec<Result<VCardRecord, FileError>> {
    VCardContacts::from_reader(text.as_bytes()).collect()
}

fn read_file(rel: &str) -> Vec<VCardRecord> {
    VCardContacts::open(&data(rel)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn simple_3_0_with_escapes_structured_values_and_several_phones() {
    let cards = read_file("vcards/simple_3_0_test.ics");
    assert_eq!(cards.len(), 1);
    let card = &cards[0];
    assert_eq!(card.version.as_deref(), Some("3.0"));
    let raw = &card.raw;
    assert_eq!(raw.id.as_deref(), Some("1"), "no UID: the card's number");
    assert_eq!(raw.name.as_deref(), Some("Daffy Duck Knudson (with Bugs Bunny and Mr. Pluto)"));
    assert_eq!(raw.family_name.as_deref(), Some("Knudson"));
    assert_eq!(raw.given_name.as_deref(), Some("Daffy Duck (with Bugs Bunny and Mr. Pluto)"));
    assert_eq!(raw.birthday.as_deref(), Some("02-10"));
    let phones: Vec<(&str, Option<&str>)> = raw.phones.iter().map(|(n, l)| (n.as_str(), l.as_deref())).collect();
    assert_eq!(
        phones,
        [
            ("+01-(0)2-765.43.21", Some("home")),
            ("+01-(0)5-555.55.55", Some("mobile")),
            ("+01-(0)2-876.54.32", Some("home"))
        ]
    );
    assert_eq!(raw.street.as_deref(), Some("Haight Street 512;"));
    assert_eq!(raw.street2.as_deref(), Some("Escape, Test"));
    assert_eq!(raw.city.as_deref(), Some("Novosibirsk"));
    assert_eq!(raw.postcode.as_deref(), Some("80214"));
    assert_eq!(raw.country.as_deref(), Some("Gnuland"));
    assert_eq!(raw.company.as_deref(), Some("University of Novosibirsk"));
    assert_eq!(raw.custom["department"], "Department of Octopus Parthenogenesis");
    assert_eq!(raw.custom["nickname"], "gnat and gnu and pluto");
    assert_eq!(raw.custom["account"], "010-1234567-05");
}

#[test]
fn groups_lower_case_and_folded_lines() {
    let cards = read_file("vcards/vcard_with_groups.ics");
    assert_eq!(cards.len(), 1);
    let raw = &cards[0].raw;
    assert_eq!(raw.name.as_deref(), Some("Meister Berger"));
    assert_eq!((raw.given_name.as_deref(), raw.family_name.as_deref()), (Some("Meister"), Some("Berger")));
    assert_eq!(raw.birthday.as_deref(), Some("1963-09-21"));
    assert_eq!(raw.job_title.as_deref(), Some("Mayor"));
    assert_eq!(raw.emails, ["mb@goerlitz.de"]);
    assert_eq!(raw.phones, [("+49 3581 123456".to_owned(), Some("fax".to_owned()))]);
    assert_eq!(
        raw.custom["note"],
        "The Mayor of the great city of Goerlitz in the great country of Germany.\nNext line."
    );
    assert_eq!(raw.custom["label"], "Hufenshlagel 1234\n02828 Goerlitz\nDeutschland");
    let incoming = raw.clone().into_incoming(Region::parse("DE").unwrap());
    assert_eq!(incoming.fields.birthday.map(|b| b.to_string()).as_deref(), Some("1963-09-21"));
}

#[test]
fn vcard_2_1_quoted_printable_utf8_and_a_base64_photo() {
    let cards = read_file("vcards/radicale-1238-1.ics");
    assert_eq!(cards.len(), 1);
    let raw = &cards[0].raw;
    assert_eq!(cards[0].version.as_deref(), Some("2.1"));
    assert_eq!(raw.name.as_deref(), Some("测试测试测试测试测试测"));
    assert_eq!(raw.given_name.as_deref(), Some("测试测试测试测试测试测"));
    assert_eq!(raw.family_name, None);
    assert_eq!(raw.phones, [("12 345 678 90".to_owned(), Some("mobile".to_owned()))]);
    assert!(raw.custom.keys().all(|k| k != "photo"), "{:?}", raw.custom.keys());
}

#[test]
fn vcard_4_0_uris_pref_categories_and_uid() {
    let text = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\n\
        FN:Dr. Jane Q. Public\r\nN:Public;Jane;Quinlan;Dr.;PhD\r\n\
        EMAIL;TYPE=work:jane@work.example\r\nEMAIL;PREF=1:jane@home.example\r\n\
        TEL;VALUE=uri;TYPE=\"voice,cell\";PREF=1:tel:+1-555-555-5555\r\n\
        TEL;TYPE=work:tel:+1-555-555-0000\r\nCATEGORIES:friends,work\\,life\r\nBDAY:--0415\r\n\
        ADR;TYPE=work:;;1 Work Rd;Metropolis;NY;10001;USA\r\nADR;TYPE=home;PREF=1:;Flat 2;5 Home St;Smallville;KS;66002;USA\r\n\
        TITLE:Engineer\r\nEND:VCARD\r\n";
    let cards: Vec<VCardRecord> = read(text).into_iter().map(Result::unwrap).collect();
    let raw = &cards[0].raw;
    assert_eq!(raw.id.as_deref(), Some("urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"));
    assert_eq!(raw.emails, ["jane@home.example", "jane@work.example"]);
    assert_eq!(
        raw.phones,
        [
            ("+1-555-555-5555".to_owned(), Some("mobile".to_owned())),
            ("+1-555-555-0000".to_owned(), Some("work".to_owned()))
        ]
    );
    assert_eq!(raw.tags, ["friends", "work,life"]);
    assert_eq!(raw.birthday.as_deref(), Some("--0415"));
    assert_eq!(raw.street.as_deref(), Some("5 Home St"));
    assert_eq!(raw.street2.as_deref(), Some("Flat 2"));
    assert_eq!(raw.city.as_deref(), Some("Smallville"));
    assert_eq!(raw.custom["other_address"], "1 Work Rd, Metropolis, NY, 10001, USA");
    assert_eq!(raw.custom["middle_name"], "Quinlan");
    assert_eq!(raw.custom["name_prefix"], "Dr.");
    assert_eq!(raw.custom["name_suffix"], "PhD");
    assert_eq!(raw.job_title.as_deref(), Some("Engineer"));
}

#[test]
fn apple_labels_latin1_and_soft_line_breaks() {
    let text = "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=\n=FCrgen\n\
        item1.TEL:+61 412 345 678\nitem1.X-ABLabel:_$!<Mobile>!$_\nitem2.EMAIL;type=INTERNET:j@x.de\n\
        NOTE;ENCODING=QUOTED-PRINTABLE:caf=C3=A9 =\nok\nEND:VCARD\n";
    let cards: Vec<VCardRecord> = read(text).into_iter().map(Result::unwrap).collect();
    let raw = &cards[0].raw;
    assert_eq!(raw.family_name.as_deref(), Some("Müller"));
    assert_eq!(raw.given_name.as_deref(), Some("Jürgen"));
    assert_eq!(raw.phones, [("+61 412 345 678".to_owned(), Some("mobile".to_owned()))]);
    assert_eq!(raw.emails, ["j@x.de"]);
    assert_eq!(raw.custom["note"], "café ok");
    assert!(!raw.custom.contains_key("x-ablabel"));
}

#[test]
fn other_calendar_content_is_skipped() {
    let text = "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nSUMMARY:Lunch\nEND:VEVENT\nnot a content line\n\
        BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEND:VCARD\nEND:VCALENDAR\n";
    let cards: Vec<VCardRecord> = read(text).into_iter().map(Result::unwrap).collect();
    assert_eq!(cards.len(), 1);
    assert_eq!((cards[0].line, cards[0].raw.name.as_deref()), (7, Some("Ann")));
}

#[test]
fn nested_blocks_inside_a_card_are_skipped() {
    let text = "BEGIN:VCARD\nFN:Boss\nAGENT:\nBEGIN:VCARD\nFN:Assistant\nEND:VCARD\nEMAIL:boss@x.io\nEND:VCARD\n";
    let cards: Vec<VCardRecord> = read(text).into_iter().map(Result::unwrap).collect();
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].raw.name.as_deref(), Some("Boss"));
    assert_eq!(cards[0].raw.emails, ["boss@x.io"]);
}

#[test]
fn broken_structure_is_an_error_naming_the_line() {
    let text = "BEGIN:VCARD\nFN:Ann\nthis line has no colon\nEND:VCARD\nBEGIN:VCARD\nFN:Bob\nEND:VCARD\n\
        BEGIN:VCARD\nFN:Cy\nEND:VCALENDAR\nBEGIN:VCARD\nFN:Dee\nTEL;ENCODING=BASE64:%%%\nEND:VCARD\nBEGIN:VCARD\nFN:Eve\n";
    let results = read(text);
    let shown: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(card) => format!("ok {}", card.raw.name.as_deref().unwrap_or_default()),
            Err(e) => e.to_string(),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "line 3: expected `NAME:value`, found `this line has no colon`",
            "ok Bob",
            "line 10: property `END`: END:VCALENDAR inside the vCard that begins on line 8",
            "line 13: property `TEL`: invalid base64: Invalid symbol 37, offset 0.",
            "line 15: BEGIN:VCARD has no END:VCARD",
        ]
    );
}

#[test]
fn bytes_read_counts_the_input() {
    let text = "BEGIN:VCARD\nFN:Ann\nEND:VCARD\n";
    let mut reader = VCardContacts::from_reader(text.as_bytes());
    assert!(reader.next().unwrap().is_ok());
    assert!(reader.next().is_none());
    assert_eq!(reader.bytes_read(), text.len() as u64);
}
