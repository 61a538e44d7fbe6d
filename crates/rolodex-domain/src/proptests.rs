//! Property tests over generated contacts: merging is idempotent, a merge keeps every value, a
//! contact always matches itself with high confidence, and the field map round-trips.

use proptest::prelude::*;

use crate::contact::{Birthday, ContactFields, ContactPhone, PhoneKind};
use crate::diff::{MergePolicy, diff, from_field_map, merge, to_field_map};
use crate::email::EmailAddress;
use crate::ids::ContactId;
use crate::matching::{
    Action, Candidate, Confidence, Frequencies, MatchPolicy, MatchProfile, blocking_keys, decide, same_key_inputs,
};
use crate::phone::{PhoneE164, Region};

fn word() -> impl Strategy<Value = String> {
    "[a-z]{2,9}".prop_map(|s| s)
}

fn contact() -> impl Strategy<Value = ContactFields> {
    (
        proptest::option::of(word()),
        proptest::option::of(word()),
        proptest::collection::vec((word(), prop_oneof![Just("gmail.com"), Just("acme.io"), Just("outlook.com")]), 0..3),
        proptest::collection::vec(100_000u32..999_999, 0..3),
        proptest::option::of(word()),
        proptest::option::of((1900i32..2020, 1u8..=12, 1u8..=28)),
        proptest::collection::btree_set(word(), 0..3),
        any::<bool>(),
        (proptest::option::of(word()), proptest::option::of("[0-9]{4}")),
    )
        .prop_map(|(given, family, emails, phones, company, birthday, tags, dnd, (city, postcode))| {
            let mut f = ContactFields {
                given_name: given,
                family_name: family,
                company,
                tags,
                do_not_disturb: dnd,
                ..ContactFields::default()
            };
            for (local, domain) in emails {
                f.add_email(EmailAddress::parse(&format!("{local}@{domain}")).unwrap());
            }
            for n in phones {
                let number = PhoneE164::parse(&format!("0412 {n}"), Region::parse("AU").unwrap()).unwrap();
                f.add_phone(ContactPhone { number, kind: PhoneKind::Mobile });
            }
            f.birthday = birthday.map(|(y, m, d)| Birthday::new(Some(y), m, d).unwrap());
            f.address.city = city;
            f.address.postcode = postcode;
            f
        })
}

proptest! {
    /// `same_key_inputs` covers every field the keys read: keeping those of `a` and taking every
    /// other field from `b` gives the same keys as `a`; taking one of those fields from `b` too gives
    /// other keys only when it says the inputs differ.
    #[test]
    fn same_key_inputs_means_same_keys(a in contact(), b in contact()) {
        let mut mixed = b.clone();
        mixed.given_name.clone_from(&a.given_name);
        mixed.family_name.clone_from(&a.family_name);
        mixed.display_name.clone_from(&a.display_name);
        mixed.emails.clone_from(&a.emails);
        mixed.phones.clone_from(&a.phones);
        mixed.address.postcode.clone_from(&a.address.postcode);
        mixed.birthday = a.birthday;
        prop_assert!(same_key_inputs(&a, &mixed));
        prop_assert_eq!(blocking_keys(&a), blocking_keys(&mixed));
        // One key field from `b` at a time: whenever that changes the keys, it must say so.
        let variants: [fn(&mut ContactFields, &ContactFields); 6] = [
            |m, b| m.given_name.clone_from(&b.given_name),
            |m, b| m.family_name.clone_from(&b.family_name),
            |m, b| m.emails.clone_from(&b.emails),
            |m, b| m.phones.clone_from(&b.phones),
            |m, b| m.address.postcode.clone_from(&b.address.postcode),
            |m, b| m.birthday = b.birthday,
        ];
        for take in variants {
            let mut v = mixed.clone();
            take(&mut v, &b);
            if same_key_inputs(&a, &v) {
                prop_assert_eq!(blocking_keys(&a), blocking_keys(&v));
            }
        }
    }

    #[test]
    fn merge_is_idempotent(a in contact(), b in contact(), incoming_wins in any::<bool>()) {
        let policy = if incoming_wins { MergePolicy::IncomingWins } else { MergePolicy::FillBlanks };
        let once = merge(&a, &b, policy);
        prop_assert_eq!(&merge(&once, &b, policy), &once);
        // Merging again changes nothing, so the diff from the merged contact has no changes.
        prop_assert!(!diff(&once, &merge(&once, &b, policy)).has_changes());
        // Nothing of the existing contact's sets is lost.
        prop_assert!(a.emails.iter().all(|e| once.emails.contains(e)));
        prop_assert!(a.tags.iter().all(|t| once.tags.contains(t)));
        prop_assert!(once.do_not_disturb == (a.do_not_disturb || b.do_not_disturb));
    }

    #[test]
    fn field_map_round_trips(a in contact()) {
        prop_assert_eq!(from_field_map(&to_field_map(&a)).unwrap(), a);
    }

    #[test]
    fn a_contact_matches_itself(a in contact()) {
        let p = MatchProfile::from_fields(&a);
        prop_assume!(!p.is_blank());
        let id = ContactId::new_v7();
        let d = decide(&p, &[Candidate { id, profile: &p, linked: false }], &Frequencies::default(), &MatchPolicy::default());
        prop_assert_eq!(d.matched_id, Some(id), "{:?}", d);
        // With an identifier or a full name plus more, the self-match is high confidence.
        if !p.email_keys.is_empty() || !p.phones.is_empty() {
            prop_assert_eq!((d.action, d.confidence), (Action::Update, Confidence::High), "{:?}", d);
        }
    }
}
