//! The Graph <-> domain mapping: the fact sheet's examples, both directions, bad values as
//! warnings, bad structure as `Invalid` naming the field, and a property test on arbitrary JSON.

use proptest::prelude::*;
use rolodex_domain::ports::ProviderError;
use rolodex_domain::{Birthday, ContactFields, ContactPhone, EmailAddress, PhoneE164, PhoneKind, Region};
use rolodex_graph::mapping::{contact_from_graph, graph_from_fields, remote_ref_from_graph};
use serde_json::{Value, json};

fn us() -> Region {
    Region::parse("US").unwrap()
}

#[test]
fn a_full_graph_contact_maps_to_the_domain() {
    let v = json!({
        "@odata.etag": "W/\"EQAAABYAAACd9nJ/tVysQos2hTfspaWRAAADTIa4\"",
        "id": "AAMkAGI2THk0AAA=",
        "displayName": "Garth Fort", "givenName": "Garth", "surname": "Fort", "middleName": "J",
        "emailAddresses": [{"name": "Garth", "address": "garth@contoso.com"}, {"name": "x", "address": "not-an-email"}],
        "businessPhones": ["+1 732 555 0102"], "homePhones": ["(415) 555-0123"], "mobilePhone": "12",
        "companyName": "Contoso", "jobTitle": "CTO", "categories": ["VIP", "Board"],
        "birthday": "1974-07-22T00:00:00Z",
        "homeAddress": {"street": "1 Home St", "city": "Seattle"},
        "businessAddress": {"street": "1 Microsoft Way\nBuilding 92", "city": "Redmond", "state": "WA",
                            "countryOrRegion": "USA", "postalCode": "98052"},
        "lastModifiedDateTime": "2024-10-19T23:08:24Z",
        "changeKey": "EQAAABYAAACd9nJ/tVysQos2hTfspaWRAAADTIa4"
    });
    let c = contact_from_graph(&v, us(), "").unwrap();
    assert_eq!(c.external_id.as_deref(), Some("AAMkAGI2THk0AAA="));
    assert_eq!(c.external_version.as_deref(), Some("EQAAABYAAACd9nJ/tVysQos2hTfspaWRAAADTIa4"));
    assert_eq!(c.external_updated_at.unwrap().unix_timestamp(), 1_729_379_304);
    let f = &c.fields;
    assert_eq!(f.source.as_deref(), Some("graph"));
    assert_eq!((f.given_name.as_deref(), f.family_name.as_deref()), (Some("Garth"), Some("Fort")));
    assert_eq!(f.emails.iter().map(EmailAddress::as_str).collect::<Vec<_>>(), ["garth@contoso.com"]);
    let phones: Vec<_> = f.phones.iter().map(|p| (p.number.e164(), p.kind)).collect();
    assert_eq!(phones, [("+17325550102", PhoneKind::Work), ("+14155550123", PhoneKind::Home)]);
    assert_eq!(f.company.as_deref(), Some("Contoso"));
    assert_eq!(f.job_title.as_deref(), Some("CTO"));
    assert_eq!(f.tags.iter().map(String::as_str).collect::<Vec<_>>(), ["Board", "VIP"]);
    assert_eq!(f.birthday, Some(Birthday::new(Some(1974), 7, 22).unwrap()));
    assert_eq!(f.address.street.as_deref(), Some("1 Microsoft Way"));
    assert_eq!(f.address.street2.as_deref(), Some("Building 92"));
    assert_eq!(f.address.postcode.as_deref(), Some("98052"));
    assert_eq!(f.address.country.as_deref(), Some("USA"));
    assert!(f.custom.contains_key("graph.homeAddress"));
    assert_eq!(f.custom["graph.middleName"], json!("J"));
    let warned: Vec<_> = c.warnings.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(warned, ["email", "phone"], "bad values are warnings, not errors");
}

#[test]
fn a_year_less_birthday_round_trips_through_outlooks_1604() {
    let v = json!({"id": "1", "birthday": "1604-04-01T00:00:00Z"});
    let b = contact_from_graph(&v, us(), "").unwrap().fields.birthday.unwrap();
    assert_eq!(b, Birthday::new(None, 4, 1).unwrap());
    let fields = ContactFields { birthday: Some(b), ..ContactFields::default() };
    assert_eq!(graph_from_fields(&fields)["birthday"], json!("1604-04-01T00:00:00Z"));
}

#[test]
fn the_domain_maps_to_a_full_graph_body() {
    let phone = |s: &str, kind| ContactPhone { number: PhoneE164::parse(s, us()).unwrap(), kind };
    let fields = ContactFields {
        given_name: Some("Pavel".into()),
        family_name: Some("Bansky".into()),
        emails: vec![EmailAddress::parse("pavelb@contoso.com").unwrap()],
        phones: vec![
            phone("+1 732 555 0102", PhoneKind::Work),
            phone("+1 415 555 0123", PhoneKind::Mobile),
            phone("+1 415 555 0199", PhoneKind::Home),
        ],
        company: Some("Contoso".into()),
        tags: ["VIP".to_owned()].into(),
        birthday: Some(Birthday::new(Some(1980), 2, 29).unwrap()),
        address: rolodex_domain::Address {
            street: Some("1 Way".into()),
            street2: Some("Bldg 2".into()),
            city: Some("Redmond".into()),
            ..Default::default()
        },
        ..ContactFields::default()
    };
    let body = Value::Object(graph_from_fields(&fields));
    assert_eq!(
        body,
        json!({
            "givenName": "Pavel", "surname": "Bansky", "displayName": "Pavel Bansky",
            "emailAddresses": [{"address": "pavelb@contoso.com", "name": "Pavel Bansky"}],
            "mobilePhone": "+14155550123", "businessPhones": ["+17325550102"], "homePhones": ["+14155550199"],
            "companyName": "Contoso", "jobTitle": null,
            "businessAddress": {"street": "1 Way\nBldg 2", "city": "Redmond", "state": null,
                                "countryOrRegion": null, "postalCode": null},
            "birthday": "1980-02-29T00:00:00Z", "categories": ["VIP"]
        })
    );
    // And back: the same person.
    let mut with_id = body.as_object().unwrap().clone();
    with_id.insert("id".into(), json!("x"));
    let back = contact_from_graph(&Value::Object(with_id), us(), "").unwrap().fields;
    assert_eq!(back.emails, fields.emails);
    assert_eq!(back.birthday, fields.birthday);
    assert_eq!(back.address, fields.address);
    let mut a: Vec<_> = back.phones.iter().map(|p| (p.number.e164().to_owned(), p.kind)).collect();
    let mut b: Vec<_> = fields.phones.iter().map(|p| (p.number.e164().to_owned(), p.kind)).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn wrong_structure_names_the_field() {
    let field = |v: Value, path: &str| match contact_from_graph(&v, us(), path) {
        Err(ProviderError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(json!([1]), ""), "contact");
    assert_eq!(field(json!({"displayName": "x"}), "value[2]"), "value[2].id");
    assert_eq!(field(json!({"id": 7}), ""), "id");
    assert_eq!(field(json!({"id": "1", "givenName": 3}), ""), "givenName");
    assert_eq!(field(json!({"id": "1", "categories": "VIP"}), ""), "categories");
    assert_eq!(field(json!({"id": "1", "businessPhones": ["1", false]}), ""), "businessPhones[1]");
    assert_eq!(field(json!({"id": "1", "homeAddress": {"city": []}}), ""), "homeAddress.city");
    assert_eq!(field(json!({"id": "1", "lastModifiedDateTime": "yesterday"}), ""), "lastModifiedDateTime");
    assert!(
        matches!(remote_ref_from_graph(&json!({"changeKey": "1"})), Err(ProviderError::Invalid { field, .. }) if field == "id")
    );
}

const KEYS: [&str; 16] = [
    "id",
    "displayName",
    "givenName",
    "surname",
    "emailAddresses",
    "address",
    "businessPhones",
    "homePhones",
    "mobilePhone",
    "companyName",
    "categories",
    "birthday",
    "businessAddress",
    "homeAddress",
    "lastModifiedDateTime",
    "changeKey",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("2024-10-19T23:08:24Z"),
            Just("1604-04-01T00:00:00Z"),
            Just("+1 415 555 0123"),
            Just("a@b.co"),
            Just("--12-31")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned), "[a-z@.]{1,8}"],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_json_is_a_contact_or_an_invalid_field(v in arb_json(), id in prop::option::of("[A-Za-z0-9=]{1,10}")) {
        let mut v = v;
        if let (Value::Object(m), Some(id)) = (&mut v, id) {
            m.insert("id".into(), Value::from(id));
        }
        match contact_from_graph(&v, Region::default(), "value[0]") {
            Ok(c) => prop_assert!(c.external_id.is_some()),
            Err(ProviderError::Invalid { field, .. }) => prop_assert!(field.starts_with("value[0]")),
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
        match remote_ref_from_graph(&v) {
            Ok(_) | Err(ProviderError::Invalid { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}
