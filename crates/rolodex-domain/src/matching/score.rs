//! Pairwise scoring: Fellegi-Sunter evidence. Each field comparison falls into a level (exact,
//! nickname, similar, different, missing) and adds its log2 likelihood ratio `log2(m / u)`, where
//! `m` is how often true matches show that level and `u` how often non-matches do. For exact
//! agreement `u` is the value's frequency ([`Frequencies`]), so a shared rare surname counts for more
//! than a shared "smith". Every comparison that moved the total leaves a reason a person can read.

use rapidfuzz::distance::{jaro_winkler, osa};
use serde::Serialize;

use super::profile::{Frequencies, MatchProfile};
use crate::contact::Birthday;
use crate::name::are_nicknames;

/// One piece of evidence: a field comparison and its weight in bits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The field (`email`, `phone`, `name`, `birthday`, `company`, `address`).
    pub field: &'static str,
    /// log2 likelihood ratio; positive supports a match.
    pub weight: f64,
    /// For a person: "same email after folding Gmail dots", "family name 0.94 similar".
    pub reason: String,
}

/// The scored comparison of two profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PairScore {
    /// Sum of the evidence weights (bits).
    pub total: f64,
    /// The evidence, strongest first.
    pub evidence: Vec<Evidence>,
    /// Some email matching key is shared.
    pub email_match: bool,
    /// Some E.164 number is shared.
    pub phone_match: bool,
    /// Weight of the name comparison alone (given + family).
    pub name_weight: f64,
    /// The names clearly disagree: every part known on both sides differs.
    pub names_conflict: bool,
    /// The given names are known on both sides and differ (not nicknames, not similar).
    pub given_conflict: bool,
    /// Same company or same company email domain.
    pub same_org: bool,
}

/// Builds a reason string only when explaining (scoring many candidates needs only the numbers).
macro_rules! why {
    ($explain:expr, $($arg:tt)*) => {
        if $explain { format!($($arg)*) } else { String::new() }
    };
}

impl PairScore {
    /// Adds evidence: always to the total, to the list only when explaining.
    fn add(&mut self, explain: bool, field: &'static str, weight: f64, reason: String) {
        self.total += weight;
        if explain {
            self.evidence.push(Evidence { field, weight, reason });
        }
    }
}

/// Jaro-Winkler over bytes: every compared value is folded to ASCII first, and bytes let
/// rapidfuzz use its table-based pattern matcher instead of decoding chars.
fn jw(a: &str, b: &str) -> f64 {
    jaro_winkler::similarity(a.bytes(), b.bytes())
}

/// Optimal string alignment distance over bytes (see [`jw`]).
fn osa_bytes(a: &str, b: &str) -> usize {
    osa::distance(a.bytes(), b.bytes())
}

fn lr(m: f64, u: f64) -> f64 {
    (m / u.clamp(1e-9, 1.0)).log2()
}

/// Similarity of two folded name parts, 0-1, tolerant of word order ("van der berg" ~ "berg van der")
/// and of one part being the other's prefix with a hyphen or space.
fn name_part_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let direct = jw(a, b);
    if a.contains(' ') || b.contains(' ') {
        // Multi-word: compare each word of the shorter against the best word of the longer.
        let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        let best: f64 =
            short.split(' ').map(|w| long.split(' ').map(|x| jw(w, x)).fold(0.0, f64::max)).fold(1.0, f64::min);
        return direct.max(best * 0.97);
    }
    direct
}

#[derive(Clone, Copy)]
enum Part {
    Given,
    Family,
}

/// (weight, reason) of comparing one name part.
fn compare_part(part: Part, a: &str, b: &str, freqs: &Frequencies, explain: bool) -> (f64, Option<String>) {
    let label = match part {
        Part::Given => "given name",
        Part::Family => "family name",
    };
    if a.is_empty() || b.is_empty() {
        return (0.0, None);
    }
    if a == b {
        let share = match part {
            Part::Given => freqs.given(a),
            Part::Family => freqs.family(a),
        };
        return (lr(0.92, share), Some(why!(explain, "same {label} `{a}`")));
    }
    if matches!(part, Part::Given) && are_nicknames(a, b) {
        return (lr(0.03, 0.004), Some(why!(explain, "given names `{a}` and `{b}` are nicknames of one name")));
    }
    // One side is an initial of the other: "j" ~ "jane".
    if (a.len() == 1 && b.starts_with(a)) || (b.len() == 1 && a.starts_with(b)) {
        return (lr(0.06, 0.03), Some(why!(explain, "{label} initial `{}` agrees", &a[..1])));
    }
    let s = name_part_similarity(a, b);
    let one_edit = || a.len().min(b.len()) >= 4 && a.len().abs_diff(b.len()) <= 1 && osa_bytes(a, b) == 1;
    if s >= 0.92 || one_edit() {
        (lr(0.04, 0.002), Some(why!(explain, "{label} {s:.2} similar (`{a}` ~ `{b}`)")))
    } else if s >= 0.84 {
        (lr(0.012, 0.01), Some(why!(explain, "{label} {s:.2} similar (`{a}` ~ `{b}`)")))
    } else {
        (lr(0.03, 0.97), Some(why!(explain, "different {label}s (`{a}` vs `{b}`)")))
    }
}

fn compare_names(a: &MatchProfile, b: &MatchProfile, freqs: &Frequencies, explain: bool, out: &mut PairScore) {
    let (ag, af, bg, bf) = (&a.name.given, &a.name.family, &b.name.given, &b.name.family);
    // A single word ("Lipscombe") may be either part: compare it with both parts of the other name.
    let single = |g: &String, f: &String| !g.is_empty() && f.is_empty();
    if single(ag, af) != single(bg, bf) && !(a.name.is_empty() || b.name.is_empty()) {
        let (word, other) = if single(ag, af) { (ag, &b.name) } else { (bg, &a.name) };
        let as_given = compare_part(Part::Given, word, &other.given, freqs, explain);
        let as_family = compare_part(Part::Family, word, &other.family, freqs, explain);
        let (w, reason) = if as_family.0 >= as_given.0 { as_family } else { as_given };
        out.name_weight = w;
        out.names_conflict = w < 0.0;
        if let Some(reason) = reason {
            out.add(explain, "name", w, why!(explain, "{reason} (one side has a single name)"));
        }
        return;
    }
    let straight =
        [compare_part(Part::Given, ag, bg, freqs, explain), compare_part(Part::Family, af, bf, freqs, explain)];
    let mut chosen = straight.clone();
    let mut swapped = false;
    // Swapped order ("Smith John"): compare across, with one bit of doubt for the swap.
    if !ag.is_empty() && !af.is_empty() && !bg.is_empty() && !bf.is_empty() && straight.iter().any(|(w, _)| *w < 0.0) {
        let across =
            [compare_part(Part::Given, ag, bf, freqs, explain), compare_part(Part::Family, af, bg, freqs, explain)];
        let (s, x) = (straight[0].0 + straight[1].0, across[0].0 + across[1].0 - 1.0);
        if x > s && across.iter().all(|(w, _)| *w > 0.0) {
            chosen = across;
            swapped = true;
        }
    }
    let weight: f64 = chosen.iter().map(|(w, _)| w).sum::<f64>() - if swapped { 1.0 } else { 0.0 };
    out.name_weight = weight;
    out.names_conflict = chosen.iter().all(|(w, r)| r.is_some() && *w < 0.0);
    out.given_conflict = chosen[0].1.is_some() && chosen[0].0 < 0.0;
    if swapped {
        out.add(explain, "name", -1.0, why!(explain, "given and family names swapped"));
    }
    for (w, reason) in chosen {
        if let Some(reason) = reason {
            out.add(explain, "name", w, reason);
        }
    }
}

fn birthday_weight(a: Birthday, b: Birthday, explain: bool) -> (f64, String) {
    if a == b {
        return match a.year {
            Some(_) => (lr(0.93, 1.0 / 25_000.0), why!(explain, "same birthday {a}")),
            None => (lr(0.93, 1.0 / 365.0), why!(explain, "same birthday {a}")),
        };
    }
    if a.year.is_none() || b.year.is_none() {
        return if a.month == b.month && a.day == b.day {
            (lr(0.93, 1.0 / 365.0), why!(explain, "same birthday (day and month) {a} ~ {b}"))
        } else {
            (lr(0.05, 0.99), why!(explain, "different birthdays ({a} vs {b})"))
        };
    }
    let digits = |d: Birthday| {
        let (y, m, day) = (d.year.unwrap_or(0).unsigned_abs(), u32::from(d.month), u32::from(d.day));
        [y / 1000 % 10, y / 100 % 10, y / 10 % 10, y % 10, m / 10, m % 10, day / 10, day % 10].map(|x| x as u8)
    };
    let edits = osa::distance(digits(a).iter(), digits(b).iter());
    let day_month_swapped = a.year == b.year && a.month == b.day && a.day == b.month;
    let same_parts = u8::from(a.year == b.year) + u8::from(a.month == b.month) + u8::from(a.day == b.day);
    if edits == 1 || day_month_swapped {
        (lr(0.05, 0.001), why!(explain, "birthday one typo apart ({a} ~ {b})"))
    } else if same_parts == 2 {
        // One whole component wrong (a year, month or day keyed from another record). By chance
        // two of three components agree about 1 time in 200.
        (lr(0.03, 0.005), why!(explain, "birthdays agree in two of three parts ({a} ~ {b})"))
    } else {
        (lr(0.02, 0.999), why!(explain, "different birthdays ({a} vs {b})"))
    }
}

/// Scores two profiles, with a reason for every piece of evidence. Symmetric in its evidence (the
/// frequencies are those of the contacts being matched against).
#[must_use]
pub fn score_pair(a: &MatchProfile, b: &MatchProfile, freqs: &Frequencies) -> PairScore {
    score(a, b, freqs, true)
}

/// [`score_pair`] without the reason texts (the same numbers and flags, several times faster):
/// for ranking many candidates before explaining the chosen one.
#[must_use]
pub fn score_pair_fast(a: &MatchProfile, b: &MatchProfile, freqs: &Frequencies) -> PairScore {
    score(a, b, freqs, false)
}

fn score(a: &MatchProfile, b: &MatchProfile, freqs: &Frequencies, explain: bool) -> PairScore {
    let mut out = PairScore::default();

    // Email: a shared mailbox is near-proof; different addresses say little (people have several).
    if !a.email_keys.is_empty() && !b.email_keys.is_empty() {
        if let Some(k) = a.email_keys.iter().find(|k| b.email_keys.contains(k)) {
            out.email_match = true;
            out.add(explain, "email", lr(0.95, 1e-7), why!(explain, "same email `{k}`"));
        } else if let Some(d) = a.company_domains.iter().find(|d| b.company_domains.contains(d)) {
            out.same_org = true;
            out.add(
                explain,
                "email",
                lr(0.3, 0.05),
                why!(explain, "different addresses at the same company domain `{d}`"),
            );
        } else {
            out.add(explain, "email", lr(0.35, 1.0), why!(explain, "different emails"));
        }
    }

    if !a.phones.is_empty() && !b.phones.is_empty() {
        if let Some(p) = a.phones.iter().find(|p| b.phones.contains(p)) {
            out.phone_match = true;
            out.add(explain, "phone", lr(0.9, 2e-7), why!(explain, "same phone {p}"));
        } else {
            out.add(explain, "phone", lr(0.3, 1.0), why!(explain, "different phones"));
        }
    }

    compare_names(a, b, freqs, explain, &mut out);

    if let (Some(x), Some(y)) = (a.birthday, b.birthday) {
        let (weight, reason) = birthday_weight(x, y, explain);
        out.add(explain, "birthday", weight, reason);
    }

    if !a.company.is_empty() && !b.company.is_empty() {
        let s = jw(&a.company, &b.company);
        if a.company == b.company || s >= 0.93 {
            out.same_org = true;
            out.add(
                explain,
                "company",
                lr(0.7, freqs.company(&a.company).max(0.002)),
                why!(explain, "same company `{}`", a.company),
            );
        } else {
            out.add(
                explain,
                "company",
                lr(0.35, 1.0),
                why!(explain, "different companies (`{}` vs `{}`)", a.company, b.company),
            );
        }
    }

    compare_address(a, b, freqs, explain, &mut out);

    if explain {
        out.evidence.sort_by(|x, y| y.weight.abs().total_cmp(&x.weight.abs()));
    }
    out
}

fn compare_address(a: &MatchProfile, b: &MatchProfile, freqs: &Frequencies, explain: bool, out: &mut PairScore) {
    let mut add = |weight: f64, reason: String| out.add(explain, "address", weight, reason);
    if !a.street.is_empty() && !b.street.is_empty() {
        let s = jw(&a.street, &b.street);
        if s >= 0.92 {
            add(lr(0.8, 0.002), why!(explain, "street {s:.2} similar (`{}`)", b.street));
        } else if s >= 0.82 {
            add(lr(0.08, 0.02), why!(explain, "street {s:.2} similar (`{}` ~ `{}`)", a.street, b.street));
        } else {
            add(lr(0.12, 0.978), why!(explain, "different streets (`{}` vs `{}`)", a.street, b.street));
        }
    }
    if !a.street_number.is_empty() && !b.street_number.is_empty() {
        if a.street_number == b.street_number {
            add(lr(0.85, 0.04), why!(explain, "same street number {}", a.street_number));
        } else {
            add(lr(0.15, 0.96), why!(explain, "different street numbers ({} vs {})", a.street_number, b.street_number));
        }
    }
    if !a.postcode.is_empty() && !b.postcode.is_empty() {
        if a.postcode == b.postcode {
            add(lr(0.85, freqs.postcode(&a.postcode)), why!(explain, "same postcode {}", a.postcode));
        } else if osa_bytes(&a.postcode, &b.postcode) == 1 {
            add(lr(0.08, 0.01), why!(explain, "postcode one typo apart ({} ~ {})", a.postcode, b.postcode));
        } else {
            add(lr(0.07, 0.99), why!(explain, "different postcodes ({} vs {})", a.postcode, b.postcode));
        }
    }
    if !a.city.is_empty() && !b.city.is_empty() {
        let s = jw(&a.city, &b.city);
        if s >= 0.92 {
            add(lr(0.85, freqs.city(&a.city)), why!(explain, "same city `{}`", b.city));
        } else {
            add(lr(0.1, 0.99), why!(explain, "different cities (`{}` vs `{}`)", a.city, b.city));
        }
    }
    if !a.state.is_empty() && !b.state.is_empty() {
        if a.state == b.state {
            add(lr(0.9, 0.2), why!(explain, "same state {}", a.state));
        } else {
            add(lr(0.06, 0.8), why!(explain, "different states ({} vs {})", a.state, b.state));
        }
    }
}
