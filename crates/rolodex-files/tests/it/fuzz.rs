//! Property tests: arbitrary bytes, and byte soups made of the readers' own syntax, never make the
//! CSV or vCard reader (or the conversion of what they read) panic.

use proptest::prelude::*;
use rolodex_domain::phone::Region;
use rolodex_files::{ColumnMap, CsvContacts, CsvOptions, VCardContacts};

const VCARD_PIECES: &[&str] = &[
    "BEGIN:VCARD\r\n",
    "END:VCARD\n",
    "BEGIN:VCALENDAR\n",
    "END:X\n",
    "VERSION:2.1\n",
    "TEL;CELL:",
    "EMAIL;TYPE=\"a,b\":",
    "N:",
    "ADR;PREF=1:",
    "ORG:",
    "item1.",
    "X-ABLabel:",
    "PHOTO;ENCODING=BASE64:",
    ";ENCODING=QUOTED-PRINTABLE",
    ";ENCODING=b",
    ";CHARSET=latin1",
    ";CHARSET=koi8",
    ":",
    ";",
    ",",
    "=",
    "=E6=B5",
    "=\n",
    "\n ",
    "\n\t",
    "\r\n",
    "\n",
    "\\",
    "\\n",
    "\"",
    "a",
    "é",
    "\u{feff}",
    "\u{ff}",
    "0412 345 678",
    "x@y.z",
    "--0415",
    "QUOTED-PRINTABLE:",
];

const CSV_PIECES: &[&str] = &[
    ",", ";", "\t", "\"", "\"\"", "\n", "\r\n", "\r", "a", "NA", "-", " ", "é", "\u{feff}", "email", "phone", "x@y.z",
];

fn soup(pieces: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(pieces), 0..80).prop_map(|p| p.concat().into_bytes())
}

fn read_vcards(bytes: &[u8]) {
    for card in VCardContacts::from_reader(bytes).take(1000).flatten() {
        let _ = card.raw.into_incoming(Region::default());
    }
}

fn read_csv(bytes: &[u8], options: &CsvOptions) {
    if let Ok(reader) = CsvContacts::from_reader(bytes, options) {
        let _ = reader.columns().to_string();
        for record in reader.take(1000).flatten() {
            let _ = record.raw.into_incoming(Region::default());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn vcard_reader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        read_vcards(&bytes);
    }

    #[test]
    fn vcard_reader_never_panics_on_vcard_soup(bytes in soup(VCARD_PIECES)) {
        read_vcards(&bytes);
        let mut card = b"BEGIN:VCARD\n".to_vec();
        card.extend_from_slice(&bytes);
        read_vcards(&card);
    }

    #[test]
    fn csv_reader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000), delimiter in any::<u8>()) {
        read_csv(&bytes, &CsvOptions { delimiter, ..CsvOptions::default() });
    }

    #[test]
    fn csv_reader_never_panics_on_csv_soup(bytes in soup(CSV_PIECES), map in "[a-z_=+, ]{0,30}") {
        read_csv(&bytes, &CsvOptions::default());
        if let Ok(map) = ColumnMap::parse(&map) {
            read_csv(&bytes, &CsvOptions { map, ..CsvOptions::default() });
        }
    }
}
