//! The LLM step: a low-confidence decision with candidates is sent to the [`MatchAdvisor`] with the
//! candidates the rules considered (the best one and the plausible alternatives). The answer must
//! name one of them or `create`; anything else is rejected and the rule-based proposal stands. A
//! valid answer becomes the proposal (a `merge` into the named contact, or a `create`) but stays
//! low-confidence, so a person still confirms it; its reason is stored beside the rules' reasons.
//! A failing advisor (rate limit, budget, network) never fails the preview.
//!
//! [`MatchAdvisor`]: rolodex_domain::ports::MatchAdvisor

use rolodex_domain::matching::{Action, Decision};
use rolodex_domain::ports::storage::AiUsageRecord;
use rolodex_domain::ports::{AdviceCandidate, AdvisorChoice};
use rolodex_domain::{Contact, IncomingContact, OrgId, UserId};

use super::model::{AdvisorNote, AdvisorOutcome};
use super::{Adjudication, SyncService};

/// The candidates offered to the advisor: the rules' best guess, then the plausible alternatives.
pub(crate) fn offered(decision: &Decision, found: &[Contact]) -> Vec<AdviceCandidate> {
    let best = decision.matched_id.map(|id| (id, decision.score));
    best.into_iter()
        .chain(decision.alternatives.iter().map(|a| (a.id, a.score)))
        .filter_map(|(id, score)| {
            found.iter().find(|c| c.id == id).map(|c| AdviceCandidate { id, fields: c.fields.clone(), score })
        })
        .collect()
}

/// Applies a validated choice to the decision; `Err` with the reason when the choice is invalid.
pub(crate) fn apply_choice(
    decision: &mut Decision,
    choice: &AdvisorChoice,
    offered: &[AdviceCandidate],
) -> Result<(), String> {
    match choice {
        AdvisorChoice::Match(id) if offered.iter().any(|c| c.id == *id) => {
            decision.action = Action::Merge;
            decision.matched_id = Some(*id);
            Ok(())
        }
        AdvisorChoice::Match(id) => {
            Err(format!("the LLM named contact {id}, which was not a candidate; answer ignored"))
        }
        AdvisorChoice::Create => {
            decision.action = Action::Create;
            decision.matched_id = None;
            Ok(())
        }
    }
}

impl SyncService {
    /// Asks the advisor about one low-confidence decision, changing it when the answer is valid.
    pub(crate) async fn adjudicate(
        &self,
        org: OrgId,
        adj: &Adjudication,
        incoming: &IncomingContact,
        decision: &mut Decision,
        found: &[Contact],
        user: Option<UserId>,
    ) -> AdvisorNote {
        let offered = offered(decision, found);
        let advice = match adj.advisor.advise(incoming, &offered).await {
            Ok(a) => a,
            Err(e) => {
                let outcome = match e {
                    rolodex_domain::ports::AiError::InvalidAnswer(_) => AdvisorOutcome::Rejected,
                    _ => AdvisorOutcome::Unavailable,
                };
                tracing::warn!(error = %e, "match advisor failed; keeping the rule-based proposal");
                decision.warnings.push(format!("LLM advice not used: {e}"));
                return AdvisorNote { outcome, target: None, create: false, reason: e.to_string(), model: None };
            }
        };
        if let Some(usage) = &adj.usage {
            let record = AiUsageRecord {
                user_id: user,
                feature: "match_advice".to_owned(),
                model: advice.usage.model.clone(),
                prompt_tokens: advice.usage.prompt_tokens,
                completion_tokens: advice.usage.completion_tokens,
                cost_micro_usd: advice.usage.cost_micro_usd,
            };
            if let Err(e) = usage.record_ai_usage(org, &record).await {
                tracing::warn!(error = %e, "could not record AI usage");
            }
        }
        let model = Some(advice.usage.model.clone()).filter(|m| !m.is_empty());
        match apply_choice(decision, &advice.choice, &offered) {
            Ok(()) => AdvisorNote {
                outcome: AdvisorOutcome::Accepted,
                target: decision.matched_id,
                create: advice.choice == AdvisorChoice::Create,
                reason: advice.reason,
                model,
            },
            Err(why) => {
                decision.warnings.push(why.clone());
                AdvisorNote { outcome: AdvisorOutcome::Rejected, target: None, create: false, reason: why, model }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rolodex_domain::matching::Confidence;
    use rolodex_domain::{ContactFields, ContactId};

    use super::*;

    fn review(matched: ContactId) -> Decision {
        Decision {
            action: Action::Review,
            matched_id: Some(matched),
            confidence: Confidence::Low,
            score: 0.4,
            bits: 7.0,
            reasons: vec!["similar name".into()],
            warnings: vec![],
            alternatives: vec![],
        }
    }

    #[test]
    fn choices_are_validated_against_the_offered_candidates() {
        let (a, stranger) = (ContactId::new_v7(), ContactId::new_v7());
        let offered = [AdviceCandidate { id: a, fields: ContactFields::default(), score: 0.4 }];
        for (choice, ok, action, matched) in [
            (AdvisorChoice::Match(a), true, Action::Merge, Some(a)),
            (AdvisorChoice::Create, true, Action::Create, None),
            (AdvisorChoice::Match(stranger), false, Action::Review, Some(a)),
        ] {
            let mut d = review(a);
            assert_eq!(apply_choice(&mut d, &choice, &offered).is_ok(), ok, "{choice:?}");
            assert_eq!((d.action, d.matched_id), (action, matched), "{choice:?}");
            assert_eq!(d.confidence, Confidence::Low, "advice never raises confidence");
        }
    }
}
