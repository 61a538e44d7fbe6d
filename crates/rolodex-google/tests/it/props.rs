//! Property tests: arbitrary JSON into the Person mapper never panics.

use proptest::prelude::*;
use rolodex_domain::Region;
use rolodex_google::{GroupDirectory, PersonChange, person_body, person_from_json};
use serde_json::Value;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec!["people/c1", "CONTACT", "2025-01-10T12:00:00Z", "+442079460000", "a@b.io"])
            .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        let keys = prop::sample::select(vec![
            "resourceName",
            "etag",
            "metadata",
            "sources",
            "deleted",
            "updateTime",
            "names",
            "givenName",
            "emailAddresses",
            "phoneNumbers",
            "value",
            "canonicalForm",
            "type",
            "organizations",
            "addresses",
            "birthdays",
            "date",
            "year",
            "month",
            "day",
            "userDefined",
            "key",
            "memberships",
            "contactGroupMembership",
            "contactGroupResourceName",
            "contactGroupId",
            "primary",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(keys.prop_map(str::to_owned), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn person_mapper_never_panics(v in arb_json()) {
        if let Ok(PersonChange::Upsert(c)) = person_from_json(v.clone(), Region::default(), &GroupDirectory::default()) {
            let _ = person_body(&c.fields, &[]);
        }
        if let Value::Object(mut m) = v {
            m.insert("resourceName".into(), Value::String("people/c1".into()));
            let _ = person_from_json(Value::Object(m), Region::default(), &GroupDirectory::default());
        }
    }
}
