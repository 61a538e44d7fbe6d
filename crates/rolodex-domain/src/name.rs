//! `PersonName`: a person's name parsed for matching. Folds case, accents and punctuation, drops
//! honorifics (Mr, Dr) and suffixes (Jr, III), reads "Surname, Given", and knows nicknames
//! (Bob ~ Robert) from the bundled `nicknames` table.

use std::collections::HashMap;

use crate::fastmap::FastMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const HONORIFICS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "lady",
    "lord",
    "rev",
    "revd",
    "fr",
    "hon",
    "herr",
    "frau",
    "mme",
    "mlle",
    "m",
];
const SUFFIXES: &[&str] = &[
    "jr", "junior", "sr", "senior", "ii", "iii", "iv", "v", "phd", "md", "esq", "dds", "cpa", "mba", "jnr", "snr",
    "obe", "mbe", "ao", "am", "qc", "kc",
];

/// A name split into normalised parts. Every part is lower case ASCII letters and spaces only
/// (accents folded, punctuation removed); empty when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonName {
    /// First given name.
    pub given: String,
    /// Middle names, space separated.
    pub middle: String,
    /// Family name (all its words, so `van der berg` stays whole).
    pub family: String,
    /// A dropped honorific (`dr`), for display and diffs only.
    pub honorific: Option<String>,
    /// A dropped suffix (`jr`, `iii`).
    pub suffix: Option<String>,
}

/// Folds accents (deunicode), case and punctuation: `"O'Brien-Smith"` -> `"obrien smith"`.
/// Apostrophes and dots vanish, hyphens and other separators become single spaces.
#[must_use]
pub fn fold(s: &str) -> String {
    let ascii = deunicode::deunicode(s);
    let mut out = String::with_capacity(ascii.len());
    let mut pending_space = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c.to_ascii_lowercase());
        } else if c == '\'' || c == '.' || c == '`' {
            // O'Brien -> obrien, St. -> st
        } else {
            pending_space = true;
        }
    }
    out
}

fn is_honorific(token: &str) -> bool {
    HONORIFICS.contains(&token)
}

fn is_suffix(token: &str) -> bool {
    SUFFIXES.contains(&token)
}

impl PersonName {
    /// Builds a name from whatever a source gives: separate given and family names, or a display
    /// name (`"Dr Jane Q. Doe Jr"`, `"Doe, Jane"`), or both (the separate parts win).
    #[must_use]
    pub fn parse(given: Option<&str>, family: Option<&str>, display: Option<&str>) -> Self {
        let given = given.map(str::trim).filter(|s| !s.is_empty());
        let family = family.map(str::trim).filter(|s| !s.is_empty());
        if given.is_some() || family.is_some() {
            let mut name = Self::default();
            if let Some(g) = given {
                let mut tokens: Vec<String> = fold(g).split(' ').map(str::to_owned).collect();
                tokens.retain(|t| !t.is_empty());
                if tokens.len() > 1 && is_honorific(&tokens[0]) {
                    name.honorific = Some(tokens.remove(0));
                }
                if let Some((first, rest)) = tokens.split_first() {
                    name.given = first.clone();
                    name.middle = rest.join(" ");
                }
            }
            if let Some(f) = family {
                let mut tokens: Vec<String> = fold(f).split(' ').map(str::to_owned).collect();
                tokens.retain(|t| !t.is_empty());
                if tokens.len() > 1 && tokens.last().is_some_and(|t| is_suffix(t)) {
                    name.suffix = tokens.pop();
                }
                name.family = tokens.join(" ");
            }
            return name;
        }
        display.map(Self::parse_display).unwrap_or_default()
    }

    /// Parses a single display name.
    #[must_use]
    pub fn parse_display(display: &str) -> Self {
        let mut name = Self::default();
        // "Surname, Given [Middle]" (but not "Jane Doe, Jr" / "Jane Doe, PhD").
        if let Some((before, after)) = display.split_once(',') {
            let after_folded = fold(after);
            let after_tokens: Vec<&str> = after_folded.split(' ').filter(|t| !t.is_empty()).collect();
            let after_is_suffix = !after_tokens.is_empty() && after_tokens.iter().all(|t| is_suffix(t));
            if !after_is_suffix && !after_tokens.is_empty() {
                let mut family_tokens: Vec<String> =
                    fold(before).split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect();
                if family_tokens.len() > 1 && is_honorific(&family_tokens[0]) {
                    name.honorific = Some(family_tokens.remove(0));
                }
                let mut given_tokens: Vec<&str> = after_tokens;
                if given_tokens.len() > 1 && is_honorific(given_tokens[0]) {
                    name.honorific = Some(given_tokens.remove(0).to_owned());
                }
                if given_tokens.len() > 1 && given_tokens.last().is_some_and(|t| is_suffix(t)) {
                    name.suffix = given_tokens.pop().map(str::to_owned);
                }
                name.family = family_tokens.join(" ");
                if let Some((first, rest)) = given_tokens.split_first() {
                    name.given = (*first).to_owned();
                    name.middle = rest.join(" ");
                }
                return name;
            }
            if after_is_suffix {
                name.suffix = Some(after_tokens.join(" "));
            }
            return Self { suffix: name.suffix, ..Self::parse_plain(before) };
        }
        Self::parse_plain(display)
    }

    fn parse_plain(display: &str) -> Self {
        // Fold word by word so a hyphenated name ("O'Brien-Smith") stays one part.
        let folded: Vec<String> = display.split_whitespace().map(fold).filter(|t| !t.is_empty()).collect();
        let mut tokens: Vec<&str> = folded.iter().map(String::as_str).collect();
        let mut name = Self::default();
        while tokens.len() > 1 && is_honorific(tokens[0]) {
            name.honorific = Some(tokens.remove(0).to_owned());
        }
        while tokens.len() > 1 && tokens.last().is_some_and(|t| is_suffix(t)) {
            name.suffix = tokens.pop().map(str::to_owned);
        }
        match tokens.as_slice() {
            [] => {}
            [only] => name.given = (*only).to_owned(),
            [first, middle @ .., last] => {
                name.given = (*first).to_owned();
                // Family-name particles stay with the family name: "ludwig van beethoven".
                let particle_at = middle.iter().position(|t| {
                    matches!(
                        *t,
                        "van"
                            | "von"
                            | "de"
                            | "der"
                            | "den"
                            | "da"
                            | "di"
                            | "del"
                            | "la"
                            | "le"
                            | "du"
                            | "dos"
                            | "das"
                            | "bin"
                            | "al"
                            | "ter"
                            | "ten"
                    )
                });
                match particle_at {
                    Some(i) => {
                        name.middle = middle[..i].join(" ");
                        name.family =
                            middle[i..].iter().chain(std::iter::once(last)).copied().collect::<Vec<_>>().join(" ");
                    }
                    None => {
                        name.middle = middle.join(" ");
                        name.family = (*last).to_owned();
                    }
                }
            }
        }
        name
    }

    /// True when neither a given nor a family name is known.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.given.is_empty() && self.family.is_empty()
    }

    /// `given family`, for comparisons of the whole name.
    #[must_use]
    pub fn full(&self) -> String {
        match (self.given.is_empty(), self.family.is_empty()) {
            (false, false) => format!("{} {}", self.given, self.family),
            (false, true) => self.given.clone(),
            (true, false) => self.family.clone(),
            (true, true) => String::new(),
        }
    }
}

fn nickname_groups() -> &'static FastMap<String, Vec<u32>> {
    static GROUPS: OnceLock<FastMap<String, Vec<u32>>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut groups: FastMap<String, Vec<u32>> = FastMap::default();
        for line in include_str!("../data/nicknames.csv").lines().skip(1) {
            let mut cols = line.split(',');
            let (Some(formal), Some(_), Some(nick)) = (cols.next(), cols.next(), cols.next()) else {
                continue;
            };
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            let id = *ids.entry(formal).or_insert(next);
            for name in [formal, nick] {
                let entry = groups.entry(fold(name)).or_default();
                if !entry.contains(&id) {
                    entry.push(id);
                }
            }
        }
        groups
    })
}

/// True when `a` and `b` (folded given names) are the same name or nicknames of one name
/// (`bob`/`robert`, `bob`/`rob`, `liz`/`beth`).
#[must_use]
pub fn are_nicknames(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let groups = nickname_groups();
    match (groups.get(a), groups.get(b)) {
        (Some(ga), Some(gb)) => ga.iter().any(|g| gb.contains(g)),
        _ => false,
    }
}

/// The nickname groups `given` (a folded given name) belongs to: one id per formal name it is, or
/// is a nickname of. Two names are nicknames of one another when their groups intersect; blocking
/// uses the ids as keys so `bob` and `robert` meet. Empty for names the table does not know.
#[must_use]
pub fn nickname_groups_of(given: &str) -> &'static [u32] {
    nickname_groups().get(given).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(given: Option<&str>, family: Option<&str>, display: Option<&str>, expected: (&str, &str, &str)) {
        let n = PersonName::parse(given, family, display);
        assert_eq!(
            (n.given.as_str(), n.middle.as_str(), n.family.as_str()),
            expected,
            "{given:?} {family:?} {display:?}"
        );
    }

    #[test]
    fn parts_and_display_forms() {
        check(Some("Jane"), Some("Doe"), None, ("jane", "", "doe"));
        check(None, None, Some("Dr. Jane Q. Doe Jr."), ("jane", "q", "doe"));
        check(None, None, Some("Doe, Jane"), ("jane", "", "doe"));
        check(None, None, Some("Gaildis, Hudson"), ("hudson", "", "gaildis"));
        check(None, None, Some("Jane Doe, PhD"), ("jane", "", "doe"));
        check(None, None, Some("José Ñúñez"), ("jose", "", "nunez"));
        check(None, None, Some("Seán O'Brien-Smith"), ("sean", "", "obrien smith"));
        check(None, None, Some("Ludwig van Beethoven"), ("ludwig", "", "van beethoven"));
        check(None, None, Some("MR JOHN SMITH III"), ("john", "", "smith"));
        check(None, None, Some("Cher"), ("cher", "", ""));
        check(Some("  "), None, Some("Mary Ann Lee"), ("mary", "ann", "lee"));
        check(None, None, Some("  "), ("", "", ""));
        check(None, None, Some(",,,"), ("", "", ""));
        check(Some("Dr Jane"), Some("Doe Jr"), None, ("jane", "", "doe"));
    }

    #[test]
    fn nicknames() {
        assert!(are_nicknames("bob", "robert"));
        assert!(are_nicknames("robert", "bob"));
        assert!(are_nicknames("bob", "rob"));
        assert!(are_nicknames("liz", "elizabeth"));
        assert!(!are_nicknames("bob", "alice"));
        assert!(!are_nicknames("", ""));
        let (bob, robert) = (nickname_groups_of("bob"), nickname_groups_of("robert"));
        assert!(bob.iter().any(|g| robert.contains(g)));
        assert!(nickname_groups_of("zzyzx").is_empty());
    }
}
