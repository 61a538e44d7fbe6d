//! The decision: given an incoming contact's profile and its candidates, choose `create | update |
//! merge | skip | review`, with a confidence, a 0-1 score and the reasons.
//!
//! Rules, in order (architecture.md "Matching rules", made precise):
//! 1. A provider link is definitive: `update`, high.
//! 2. A shared email (after folding) or a shared E.164 phone is strong evidence; when the given
//!    names clearly disagree too (a shared mailbox, a family member's phone), it goes to `review`
//!    with a warning instead.
//! 3. Otherwise the evidence decides, as posterior log-odds: the Fellegi-Sunter total (bits) minus
//!    the prior (`log2` of how many contacts are matched against: the same evidence is weaker in a
//!    larger database). At or above `high_bits` with an identifier (email or phone), or at or above
//!    `very_high_bits` without one -> `update`, high (never when both names clearly differ and no
//!    identifier is shared); at or above `medium_bits`, or a similar name plus the same company /
//!    company email domain -> `merge`, medium; at or above `review_bits` -> `review`, low; else
//!    `create`.
//! 4. Two candidates both plausible and within `ambiguity_bits` of each other -> `review`, low.
//! 5. An `update` that would change nothing is a `skip` ("already up to date"); see
//!    [`finalize_with_diff`].

use serde::{Deserialize, Serialize};

use super::profile::{Frequencies, MatchProfile};
use super::score::{PairScore, score_pair, score_pair_fast};
use crate::diff::ContactDiff;
use crate::ids::ContactId;

/// What to do with an incoming contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A new contact.
    Create,
    /// The same person as `matched_id`: apply the changes.
    Update,
    /// Probably the same person as `matched_id`: merge after a look.
    Merge,
    /// Nothing to do (already up to date, or nothing to match on).
    Skip,
    /// A person must decide.
    Review,
    /// Soft-delete the linked contact because its source deleted it. Only a sync proposes this,
    /// for a record the source reported deleted; the matcher never does.
    Delete,
}

impl Action {
    /// `create`, `update`, ...
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Merge => "merge",
            Self::Skip => "skip",
            Self::Review => "review",
            Self::Delete => "delete",
        }
    }

    /// Every action, in declaration order.
    pub const ALL: [Self; 6] = [Self::Create, Self::Update, Self::Merge, Self::Skip, Self::Review, Self::Delete];

    /// Parses a name (as [`Self::as_str`] writes it; case and surrounding spaces ignored).
    ///
    /// # Errors
    /// A message listing the accepted names.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        Self::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
            format!("`{s}` is not an action (expected one of {})", names.join(", "))
        })
    }
}

/// How sure the decision is. `High` is safe to apply without review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A person should look.
    Low,
    /// Probably right.
    Medium,
    /// Safe to apply unattended.
    High,
}

impl Confidence {
    /// `low`, `medium`, `high`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// Parses a name (case and surrounding spaces ignored).
    ///
    /// # Errors
    /// A message listing the accepted names.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        [Self::Low, Self::Medium, Self::High]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("`{s}` is not a confidence (expected low, medium or high)"))
    }
}

/// Thresholds, in bits of posterior log-odds (evidence total minus `prior_bits`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MatchPolicy {
    /// `update`/high when an email or phone is shared and the total reaches this.
    pub high_bits: f64,
    /// `update`/high without a shared identifier.
    pub very_high_bits: f64,
    /// `merge`/medium.
    pub medium_bits: f64,
    /// `review`/low.
    pub review_bits: f64,
    /// Two plausible candidates closer than this are ambiguous.
    pub ambiguity_bits: f64,
    /// The prior: `log2` of the number of contacts matched against (at least
    /// [`MatchPolicy::MIN_POPULATION`]); set it with [`MatchPolicy::for_population`].
    pub prior_bits: f64,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        Self {
            high_bits: 8.0,
            very_high_bits: 14.0,
            medium_bits: 2.0,
            review_bits: -4.0,
            ambiguity_bits: 4.0,
            prior_bits: 1000f64.log2(),
        }
    }
}

impl MatchPolicy {
    /// Below this many contacts the prior stays at `log2(1000)`: small files are not trusted more
    /// than a thousand-contact book.
    pub const MIN_POPULATION: u64 = 1000;

    /// The same thresholds with the prior of matching against `population` contacts.
    #[must_use]
    pub fn for_population(self, population: u64) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let n = population.max(Self::MIN_POPULATION) as f64;
        Self { prior_bits: n.log2(), ..self }
    }

    /// Posterior log-odds (bits) of a total.
    #[must_use]
    pub fn posterior_bits(&self, total: f64) -> f64 {
        total - self.prior_bits
    }

    /// The 0-1 score of a total: `1 / (1 + 2^-(total - prior_bits))`.
    #[must_use]
    pub fn probability(&self, total: f64) -> f64 {
        1.0 / (1.0 + (-(total - self.prior_bits)).exp2())
    }
}

/// One existing contact offered as a candidate.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Its id.
    pub id: ContactId,
    /// Its profile.
    pub profile: &'a MatchProfile,
    /// True when the incoming contact's provider id is linked to this contact.
    pub linked: bool,
}

/// Another candidate that was considered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    /// Its id.
    pub id: ContactId,
    /// Its 0-1 score.
    pub score: f64,
}

/// The outcome of matching one incoming contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// What to do.
    pub action: Action,
    /// The existing contact concerned (update, merge, skip-as-up-to-date, review's best guess).
    pub matched_id: Option<ContactId>,
    /// How sure.
    pub confidence: Confidence,
    /// 0-1.
    pub score: f64,
    /// Evidence total in bits (for tuning and audit).
    pub bits: f64,
    /// Why, for a person, strongest first.
    pub reasons: Vec<String>,
    /// What a reviewer should look at.
    pub warnings: Vec<String>,
    /// Other plausible candidates, best first.
    pub alternatives: Vec<Alternative>,
}

fn reasons_of(score: &PairScore) -> Vec<String> {
    score.evidence.iter().filter(|e| e.weight.abs() >= 0.5).take(6).map(|e| e.reason.clone()).collect()
}

/// Decides what to do with `incoming` given `candidates` (already found through the blocking index;
/// their order does not matter: ties are broken by id so the result is deterministic).
#[must_use]
pub fn decide(
    incoming: &MatchProfile,
    candidates: &[Candidate<'_>],
    freqs: &Frequencies,
    policy: &MatchPolicy,
) -> Decision {
    let mut decision = Decision {
        action: Action::Create,
        matched_id: None,
        confidence: Confidence::High,
        score: 0.0,
        bits: 0.0,
        reasons: vec![],
        warnings: vec![],
        alternatives: vec![],
    };
    if incoming.is_blank() {
        decision.action = Action::Skip;
        decision.confidence = Confidence::Low;
        decision.reasons.push("nothing to match on: no name, email or phone".into());
        decision.warnings.push("empty record".into());
        return decision;
    }
    if let Some(linked) = candidates.iter().filter(|c| c.linked).min_by_key(|c| c.id) {
        let s = score_pair(incoming, linked.profile, freqs);
        decision.action = Action::Update;
        decision.matched_id = Some(linked.id);
        decision.score = 1.0;
        decision.bits = s.total;
        decision.reasons.push("linked to this contact by the provider's id".into());
        return decision;
    }
    let mut scored: Vec<(ContactId, PairScore)> =
        candidates.iter().map(|c| (c.id, score_pair_fast(incoming, c.profile, freqs))).collect();
    scored.sort_by(|a, b| b.1.total.total_cmp(&a.1.total).then(a.0.cmp(&b.0)));

    let plausible_list: Vec<&(ContactId, PairScore)> = scored.iter().filter(|(_, s)| plausible(s, policy)).collect();
    decision.alternatives = plausible_list
        .iter()
        .skip(1)
        .take(5)
        .map(|(id, s)| Alternative { id: *id, score: policy.probability(s.total) })
        .collect();
    let Some((best_id, _)) = scored.first() else {
        decision.reasons.push("no existing contact shares an email, phone or similar name".into());
        return decision;
    };
    // Explain only the chosen candidate.
    let best_id = *best_id;
    let explained = candidates.iter().find(|c| c.id == best_id).map(|c| score_pair(incoming, c.profile, freqs));
    let best = explained.as_ref().unwrap_or(&scored[0].1);
    decision.bits = best.total;
    decision.score = policy.probability(best.total);
    decision.reasons = reasons_of(best);
    if !plausible(best, policy) {
        decision
            .reasons
            .insert(0, format!("closest candidate is too different ({:.1} bits)", policy.posterior_bits(best.total)));
        decision.score = 1.0 - decision.score;
        return decision;
    }
    decision.matched_id = Some(best_id);

    let (action, confidence, warnings) = classify(best, policy);
    decision.action = action;
    decision.confidence = confidence;
    decision.warnings = warnings;

    if let Some((second_id, second)) = scored.get(1).filter(|(_, s)| plausible(s, policy))
        && decision.action != Action::Review
        && best.total - second.total < policy.ambiguity_bits
    {
        {
            decision.action = Action::Review;
            decision.confidence = Confidence::Low;
            decision.warnings.push(format!(
                "several plausible matches: {best_id} ({:.2}) and {second_id} ({:.2})",
                policy.probability(best.total),
                policy.probability(second.total)
            ));
        }
    }
    decision
}

/// The action and confidence the evidence of one pair supports on its own (rules 2 and 3), with
/// warnings for a reviewer.
#[must_use]
pub fn classify(best: &PairScore, policy: &MatchPolicy) -> (Action, Confidence, Vec<String>) {
    let identifier = best.email_match || best.phone_match;
    let posterior = policy.posterior_bits(best.total);
    let similar_name = best.name_weight > 4.0 && !best.names_conflict && !best.given_conflict;
    if identifier && best.names_conflict {
        let warning = if best.email_match {
            "same email but the names differ: a shared mailbox, or a different person?"
        } else {
            "same phone but the names differ: a shared line, or a family member?"
        };
        (Action::Review, Confidence::Low, vec![warning.to_owned()])
    } else if identifier && best.given_conflict {
        // The family name agrees, the given name does not: a typo'd or changed given name, or a
        // relative. Never applied unattended.
        let warning = "the given names differ: the same person, or a relative sharing the address?".to_owned();
        if policy.posterior_bits(best.total) >= policy.high_bits {
            (Action::Merge, Confidence::Medium, vec![warning])
        } else {
            (Action::Review, Confidence::Low, vec![warning])
        }
    } else if (identifier && posterior >= policy.high_bits)
        || (!best.names_conflict && posterior >= policy.very_high_bits)
    {
        (Action::Update, Confidence::High, vec![])
    } else if posterior >= policy.medium_bits || (similar_name && best.same_org) {
        (Action::Merge, Confidence::Medium, vec![])
    } else if plausible(best, policy) {
        (Action::Review, Confidence::Low, vec![])
    } else {
        (Action::Create, Confidence::High, vec![])
    }
}

fn plausible(score: &PairScore, policy: &MatchPolicy) -> bool {
    policy.posterior_bits(score.total) >= policy.review_bits
        || ((score.email_match || score.phone_match) && score.total > 0.0)
}

/// Turns an `update` that would change nothing into a `skip` ("already up to date").
pub fn finalize_with_diff(decision: &mut Decision, diff: &ContactDiff) {
    if decision.action == Action::Update && !diff.has_changes() {
        decision.action = Action::Skip;
        decision.reasons.insert(0, "already up to date".into());
    }
}
