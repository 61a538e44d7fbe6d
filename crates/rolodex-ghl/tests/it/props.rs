//! Property tests: arbitrary JSON into every mapper never panics, and a well-formed contact with
//! arbitrary strings always maps.

use proptest::prelude::*;
use rolodex_domain::Region;
use rolodex_ghl::{WriteKind, contact_body, contact_from_json, parse_webhook};
use serde_json::{Value, json};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "id",
            "ContactCreate",
            "ContactDelete",
            "ContactDndUpdate",
            "ContactTagUpdate",
            "2025-01-28T14:35:00Z",
            "+16502530000",
            "a@b.io"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        let keys = prop::sample::select(vec![
            "id",
            "type",
            "locationId",
            "webhookId",
            "timestamp",
            "email",
            "phone",
            "tags",
            "dnd",
            "dateUpdated",
            "dateOfBirth",
            "customFields",
            "additionalEmails",
            "additionalPhones",
            "address1",
            "name",
            "value",
            "firstName",
            "dndSettings",
            "other",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.prop_map(str::to_owned), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn contact_mapper_never_panics(v in arb_json()) {
        if let Ok(inc) = contact_from_json(v, Region::default()) {
            let _ = contact_body(&inc.fields, WriteKind::Update);
        }
    }

    #[test]
    fn webhook_parser_never_panics(v in arb_json(), kind in prop::sample::select(vec!["ContactCreate", "ContactUpdate", "ContactDelete", "ContactDndUpdate", "ContactTagUpdate", "Other"])) {
        let _ = parse_webhook(&serde_json::to_vec(&v).unwrap(), Region::default());
        if let Value::Object(mut m) = v {
            m.insert("type".into(), json!(kind));
            m.entry("locationId").or_insert(json!("loc"));
            let _ = parse_webhook(&serde_json::to_vec(&Value::Object(m)).unwrap(), Region::default());
        }
    }

    #[test]
    fn webhook_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_webhook(&bytes, Region::default());
    }

    #[test]
    fn well_formed_contacts_always_map(id in "[a-zA-Z0-9]{1,20}", first in ".{0,20}", email in ".{0,30}", phone in ".{0,20}", tags in prop::collection::vec(".{0,10}", 0..4)) {
        let v = json!({"id": id, "firstName": first, "email": email, "phone": phone, "tags": tags, "dateUpdated": "2026-07-17T07:11:57.939Z"});
        let inc = contact_from_json(v, Region::default()).unwrap();
        prop_assert_eq!(inc.external_id.as_deref(), Some(id.as_str()));
        prop_assert!(inc.external_updated_at.is_some());
        let body = contact_body(&inc.fields, WriteKind::Create { location_id: "loc" });
        prop_assert_eq!(&body["locationId"], &json!("loc"));
    }
}
