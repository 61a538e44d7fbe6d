//! Blocking keys: the index entries under which a contact can be found as a match candidate.
//! A store keeps one row per key and looks candidates up by key, so the matcher never scans
//! everything. Keys survive typos (phonetic codes, several independent keys), nicknames (one key
//! per nickname group) and swapped name order (keys built from both orders).

use serde::{Deserialize, Serialize};

use super::profile::MatchProfile;
use crate::contact::ContactFields;
use crate::name::{PersonName, nickname_groups_of};

/// What a key indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// An email matching key ([`crate::EmailAddress::matching_key`]).
    Email,
    /// An E.164 phone number.
    Phone,
    /// A name-derived key (phonetic / prefix / nickname / birthday combinations).
    Name,
}

impl KeyKind {
    /// The stored name: `email`, `phone`, `name`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Name => "name",
        }
    }
}

/// One blocking key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BlockingKey {
    /// What it indexes.
    pub kind: KeyKind,
    /// The key (at most 64 ASCII characters).
    pub value: String,
}

/// American Soundex of a folded word (`robert` -> `R163`); empty for an empty word.
#[must_use]
pub fn soundex(word: &str) -> String {
    fn code(c: u8) -> u8 {
        match c {
            b'b' | b'f' | b'p' | b'v' => b'1',
            b'c' | b'g' | b'j' | b'k' | b'q' | b's' | b'x' | b'z' => b'2',
            b'd' | b't' => b'3',
            b'l' => b'4',
            b'm' | b'n' => b'5',
            b'r' => b'6',
            b'h' | b'w' => b'.',
            _ => b'0',
        }
    }
    let bytes: Vec<u8> = word.bytes().filter(u8::is_ascii_alphabetic).map(|b| b.to_ascii_lowercase()).collect();
    let Some((&first, rest)) = bytes.split_first() else {
        return String::new();
    };
    let mut out = vec![first.to_ascii_uppercase()];
    let mut last = code(first);
    for &c in rest {
        let k = code(c);
        if k == b'.' {
            continue; // h and w do not separate equal codes
        }
        if k != b'0' && k != last {
            out.push(k);
            if out.len() == 4 {
                break;
            }
        }
        last = k;
    }
    while out.len() < 4 {
        out.push(b'0');
    }
    String::from_utf8(out).unwrap_or_default()
}

fn prefix(s: &str, n: usize) -> &str {
    let end = s.char_indices().nth(n).map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// The name-derived keys of a parsed name plus birthday / postcode, as strings.
#[must_use]
pub fn name_keys(name: &PersonName, birthday: Option<String>, postcode: Option<&str>) -> Vec<String> {
    let mut keys = Vec::new();
    let given = name.given.as_str();
    // The family name's last word carries the most signal ("van der berg" -> "berg").
    let family = name.family.rsplit(' ').next().unwrap_or("");
    let (sg, sf) = (soundex(given), soundex(family));
    if !given.is_empty() && !family.is_empty() {
        // Phonetic pairs, in both orders, so a swapped name meets its twin.
        let (a, b) = if sg <= sf { (&sg, &sf) } else { (&sf, &sg) };
        keys.push(format!("sx:{a}:{b}"));
        // Typo in the given name: family phonetic + given initial; typo in the family name: the
        // reverse. Order-free again.
        let gi = prefix(given, 1);
        let fi = prefix(family, 1);
        let (x, y) = (format!("{sf}/{gi}"), format!("{sg}/{fi}"));
        keys.push(format!("si:{}", x.min(y.clone())));
        keys.push(format!("si:{}", format!("{sf}/{gi}").max(format!("{sg}/{fi}"))));
        for g in nickname_groups_of(given) {
            keys.push(format!("nk:{g}:{sf}"));
        }
    }
    if let Some(b) = birthday {
        // Same birthday and one name sound alike: survives a typo in the other name.
        for s in [&sg, &sf].into_iter().filter(|s| !s.is_empty()) {
            keys.push(format!("bd:{b}:{s}"));
        }
        if let Some(p) = postcode.filter(|p| !p.is_empty()) {
            keys.push(format!("bp:{b}:{p}"));
        }
    }
    if let Some(p) = postcode.filter(|p| !p.is_empty()) {
        for s in [&sg, &sf].into_iter().filter(|s| !s.is_empty()) {
            keys.push(format!("pc:{p}:{s}"));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Every blocking key of a contact: its email matching keys, its E.164 numbers, and its name keys.
#[must_use]
pub fn blocking_keys(fields: &ContactFields) -> Vec<BlockingKey> {
    profile_keys(&MatchProfile::from_fields(fields))
}

/// True when `a` and `b` agree on every field [`blocking_keys`] reads (names, e-mails, phones,
/// postcode, birthday), so their keys are the same without computing them: a store re-indexing
/// an updated contact skips the work when, as usual, none of those fields changed. A change to
/// what [`blocking_keys`] reads must change this too (a property test holds them together).
#[must_use]
pub fn same_key_inputs(a: &ContactFields, b: &ContactFields) -> bool {
    a.given_name == b.given_name
        && a.family_name == b.family_name
        && a.display_name == b.display_name
        && a.emails == b.emails
        && a.phones == b.phones
        && a.address.postcode == b.address.postcode
        && a.birthday == b.birthday
}

/// The blocking keys of an already built profile (same result as [`blocking_keys`] on its fields).
#[must_use]
pub fn profile_keys(p: &MatchProfile) -> Vec<BlockingKey> {
    let mut keys: Vec<BlockingKey> = Vec::with_capacity(p.email_keys.len() + p.phones.len() + 10);
    for e in &p.email_keys {
        keys.push(BlockingKey { kind: KeyKind::Email, value: e.clone() });
    }
    for ph in &p.phones {
        keys.push(BlockingKey { kind: KeyKind::Phone, value: ph.clone() });
    }
    let postcode = (!p.postcode.is_empty()).then_some(p.postcode.as_str());
    for value in name_keys(&p.name, p.birthday.map(|b| b.to_string()), postcode) {
        keys.push(BlockingKey { kind: KeyKind::Name, value });
    }
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soundex_codes() {
        for (w, c) in [
            ("robert", "R163"),
            ("rupert", "R163"),
            ("ashcraft", "A261"),
            ("tymczak", "T522"),
            ("pfister", "P236"),
            ("honeyman", "H555"),
            ("", ""),
        ] {
            assert_eq!(soundex(w), c, "{w}");
        }
    }

    #[test]
    fn keys_survive_swaps_typos_and_nicknames() {
        let keys = |g: &str, f: &str| name_keys(&PersonName::parse(Some(g), Some(f), None), None, None);
        let shared = |a: &[String], b: &[String]| a.iter().any(|k| b.contains(k));
        assert!(shared(&keys("jane", "doe"), &keys("doe", "jane")), "swapped order");
        assert!(shared(&keys("jane", "doe"), &keys("jnae", "doe")), "typo in given");
        assert!(shared(&keys("jane", "doe"), &keys("jane", "dou")), "typo in family");
        assert!(shared(&keys("bob", "smith"), &keys("robert", "smith")), "nickname");
        assert!(!shared(&keys("jane", "doe"), &keys("mark", "lee")));
    }
}
