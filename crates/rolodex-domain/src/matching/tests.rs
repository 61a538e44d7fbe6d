//! Table-driven tests of the matching rules: each case is an incoming contact, the existing
//! candidates, and the expected action and confidence (plus a reason that must be given).

use super::*;
use crate::contact::{ContactFields, ContactPhone, PhoneKind};
use crate::email::EmailAddress;
use crate::ids::ContactId;
use crate::phone::{PhoneE164, Region};

/// `"Jane Doe <jane@acme.io> +61412345678 @Acme | 1980-01-02 | 12 smith st 2000"`: a compact
/// fixture. Parts after the name are recognised by shape.
fn c(spec: &str) -> ContactFields {
    let mut f = ContactFields::default();
    let mut parts = spec.split('|').map(str::trim);
    let head = parts.next().unwrap_or_default();
    let mut name = vec![];
    for word in head.split_whitespace() {
        if let Some(e) = word.strip_prefix('<').and_then(|w| w.strip_suffix('>')) {
            f.emails.push(EmailAddress::parse(e).unwrap());
        } else if word.starts_with('+') {
            let number = PhoneE164::parse(word, Region::parse("AU").unwrap()).unwrap();
            f.phones.push(ContactPhone { number, kind: PhoneKind::Mobile });
        } else if let Some(co) = word.strip_prefix('@') {
            f.company = Some(co.replace('_', " "));
        } else {
            name.push(word);
        }
    }
    if !name.is_empty() {
        f.display_name = Some(name.join(" "));
    }
    for part in parts {
        if let Ok(b) = crate::contact::Birthday::parse(part) {
            f.birthday = Some(b);
        } else if !part.is_empty() {
            let (street, postcode) = part.rsplit_once(' ').unwrap_or((part, ""));
            f.address.street = Some(street.to_owned());
            f.address.postcode = Some(postcode.to_owned());
        }
    }
    f
}

fn check(incoming: &str, existing: &[&str], expected: (Action, Option<usize>, Confidence), reason: &str) {
    let profiles: Vec<MatchProfile> = existing.iter().map(|e| MatchProfile::from_fields(&c(e))).collect();
    let ids: Vec<ContactId> =
        (0..existing.len()).map(|i| ContactId::from_uuid(uuid::Uuid::from_u128(i as u128 + 1))).collect();
    let candidates: Vec<Candidate<'_>> =
        profiles.iter().zip(&ids).map(|(p, id)| Candidate { id: *id, profile: p, linked: false }).collect();
    let inc = MatchProfile::from_fields(&c(incoming));
    let d = decide(&inc, &candidates, &Frequencies::default(), &MatchPolicy::default());
    let got = (d.action, d.matched_id.map(|id| ids.iter().position(|x| *x == id).unwrap_or(usize::MAX)), d.confidence);
    assert_eq!(got, expected, "incoming {incoming:?}: {d:#?}");
    let all: Vec<&String> = d.reasons.iter().chain(&d.warnings).collect();
    assert!(all.iter().any(|r| r.contains(reason)), "expected a reason containing {reason:?}, got {all:?}");
}

use Action::*;
use Confidence::*;

#[test]
fn email_rules() {
    check("Jane Doe <j.a.n.e.doe@gmail.com>", &["Jane Doe <janedoe@gmail.com>"], (Update, Some(0), High), "same email");
    check("Jane Doe <jane+crm@outlook.com>", &["J Doe <jane@outlook.com>"], (Update, Some(0), High), "same email");
    // Names clearly disagree: a shared mailbox.
    check("Mark Lee <info@acme.io>", &["Jane Doe <info@acme.io>"], (Review, Some(0), Low), "shared mailbox");
    // Only the given name differs, family agrees: never unattended.
    check(
        "Sophie Procter <hp@acme.io> +61444063636",
        &["Hayley Procter <hp@acme.io> +61444063636"],
        (Merge, Some(0), Medium),
        "given names differ",
    );
    // A single word compared with both parts.
    check("Lipscombe <w.l@yahoo.com>", &["William Lipscombe <w.l@yahoo.com>"], (Update, Some(0), High), "single name");
}

#[test]
fn phone_and_name_rules() {
    check("Jane Doe +61412345678", &["Jane Doe +61412345678"], (Update, Some(0), High), "same phone");
    check("Jnae Doe +61412345678", &["Jane Doe +61412345678"], (Update, Some(0), High), "similar");
    check("Doe Jane +61412345678", &["Jane Doe +61412345678"], (Update, Some(0), High), "swapped");
    check("Bob Smith +61412345678", &["Robert Smith +61412345678"], (Update, Some(0), High), "nicknames");
    check("Mark Lee +61412345678", &["Jane Doe +61412345678"], (Review, Some(0), Low), "shared line");
}

#[test]
fn company_rules_and_creates() {
    check(
        "Jane Doe <jane@gmail.com> @Acme_Pty_Ltd",
        &["Jane Doe <jd@yahoo.com> @ACME"],
        (Merge, Some(0), Medium),
        "same company",
    );
    check("Jane Doe <jane@acme.io>", &["Jane Doe <jd@acme.io>"], (Merge, Some(0), Medium), "same company domain");
    check("Jane Doe", &["Mark Lee <m@x.io>"], (Create, None, High), "too different");
    check("Jane Doe", &[], (Create, None, High), "no existing contact");
    check("", &["Jane Doe"], (Skip, None, Low), "nothing to match on");
}

#[test]
fn birthdays_and_addresses() {
    check(
        "Jane Doe | 1980-01-02 | 12 smith st 2000",
        &["Jane Doe | 1980-01-02 | 12 smith street 2000"],
        (Update, Some(0), High),
        "same birthday",
    );
    // Same name, different birthday: perhaps two people; a person decides.
    check("Jane Doe | 1980-01-02", &["Jane Doe | 1955-07-30"], (Review, Some(0), Low), "different birthdays");
    // Nothing but a different name and birthday: a new person.
    check("Mark Lee | 1980-01-02", &["Jane Doe | 1955-07-30"], (Create, None, High), "too different");
    check(
        "Jane Doe | 1980-01-02 | 12 smith st 2000",
        &["Jane Doe | 1980-01-20 | 12 smith st 2000"],
        (Update, Some(0), High),
        "one typo",
    );
}

#[test]
fn ambiguity_goes_to_review() {
    check(
        "Jane Doe <jane@gmail.com> @Acme",
        &["Jane Doe <jd@yahoo.com> @Acme", "Jane Doe <jdoe@hotmail.com> @Acme"],
        (Review, Some(0), Low),
        "several plausible matches",
    );
}

#[test]
fn linked_candidate_is_definitive() {
    let p = MatchProfile::from_fields(&c("Someone Else"));
    let inc = MatchProfile::from_fields(&c("Jane Doe"));
    let id = ContactId::new_v7();
    let d =
        decide(&inc, &[Candidate { id, profile: &p, linked: true }], &Frequencies::default(), &MatchPolicy::default());
    assert_eq!((d.action, d.matched_id, d.confidence), (Update, Some(id), High));
}

#[test]
fn linker_dedupes_and_is_deterministic() {
    let records = [
        "Jane Doe <jane@gmail.com>",
        "Jane Doe <j.a.n.e@gmail.com> +61412345678",
        "Jnae Doe +61412345678",
        "Mark Lee <mark@lee.io>",
    ];
    let profiles: Vec<(ContactId, MatchProfile)> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (ContactId::from_uuid(uuid::Uuid::from_u128(i as u128 + 1)), MatchProfile::from_fields(&c(r))))
        .collect();
    let linker = linker::Linker::build(profiles.clone(), MatchPolicy::default(), index::BlockLimits::default(), 2);
    let one = linker.dedupe(1);
    let two = linker.dedupe(3);
    assert_eq!(one, two);
    assert_eq!(one.cluster_of, vec![0, 0, 0, 3]);
    let decisions = linker.decide_all(&profiles.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>(), 2);
    assert!(decisions.iter().all(|d| d.action == Update || d.action == Review));
}
