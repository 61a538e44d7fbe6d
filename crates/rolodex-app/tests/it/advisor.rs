//! The LLM step: only low-confidence items are sent; the answer must name a candidate or create;
//! its reason is stored beside the rules'; without an advisor everything works the same.

use rolodex_app::sync::{AdvisorOutcome, FetchMode, ItemQuery, PreviewRequest};
use rolodex_domain::ContactId;
use rolodex_domain::matching::{Action, Confidence};
use rolodex_domain::ports::{AdvisorChoice, AiError};
use std::sync::atomic::Ordering;

use crate::support::{Harness, ScriptedAdvisor, ScriptedSource, incoming, person};

/// Jane exists; incoming: a clear create, a clear update, and Bob on Jane's phone (low).
async fn setup(h: &Harness) -> (ContactId, ScriptedSource) {
    let jane = h.existing(person("Jane", "Doe", Some("jane@acme.io"), Some("+1 415 555 0199"))).await;
    let mut update = person("Jane", "Doe", Some("jane@acme.io"), None);
    update.job_title = Some("CEO".into());
    let source = ScriptedSource::with(
        10,
        vec![
            incoming("1", person("Ann", "Able", Some("ann@able.io"), None)),
            incoming("2", update),
            incoming("3", person("Bob", "Brown", Some("bob@brown.io"), Some("+1 415 555 0199"))),
        ],
    );
    (jane, source)
}

fn full(h: &Harness) -> PreviewRequest {
    PreviewRequest { connection_id: Some(h.conn), mode: FetchMode::Full, ..PreviewRequest::default() }
}

#[tokio::test]
async fn only_low_confidence_items_are_sent_and_a_valid_answer_is_stored_beside_the_rules() {
    let h = Harness::new();
    let (jane, source) = setup(&h).await;
    let advisor = ScriptedAdvisor::new(|c| Ok(AdvisorChoice::Match(c[0].id)));
    let svc = h.advised(advisor.clone());
    let r = svc.preview(h.org, &source, full(&h)).await.unwrap();
    assert_eq!(advisor.calls.load(Ordering::SeqCst), 1, "only the low-confidence item");
    assert_eq!(r.counts.advised, 1);
    let low = ItemQuery { confidence: Some(Confidence::Low), ..ItemQuery::default() };
    let item = svc.list_items(h.org, r.run_id, low).await.unwrap().items.remove(0);
    assert_eq!((item.action, item.target), (Action::Merge, Some(jane)));
    assert_eq!(item.recommendation.rule_action, Action::Review);
    let note = item.recommendation.advisor.clone().unwrap();
    assert_eq!(
        (note.outcome, note.target, note.reason.as_str()),
        (AdvisorOutcome::Accepted, Some(jane), "the LLM's reason")
    );
    assert!(!item.recommendation.reasons.is_empty(), "the rule-based reasons stay");
    assert_eq!(item.recommendation.confidence, Confidence::Low, "a person still confirms");
    assert_eq!(h.store.ai_usage_of(h.org)[0].cost_micro_usd, 42);
}

#[tokio::test]
async fn an_answer_naming_a_contact_that_was_not_offered_is_rejected() {
    let h = Harness::new();
    let (_, source) = setup(&h).await;
    let stranger = h.existing(person("Zed", "Zane", Some("zed@zane.io"), None)).await;
    let advisor = ScriptedAdvisor::new(move |_| Ok(AdvisorChoice::Match(stranger)));
    let svc = h.advised(advisor);
    let r = svc.preview(h.org, &source, full(&h)).await.unwrap();
    let low = ItemQuery { confidence: Some(Confidence::Low), ..ItemQuery::default() };
    let item = svc.list_items(h.org, r.run_id, low).await.unwrap().items.remove(0);
    assert_eq!(item.action, Action::Review, "the rule-based proposal stands");
    assert_ne!(item.target, Some(stranger));
    assert_eq!(item.recommendation.advisor.as_ref().unwrap().outcome, AdvisorOutcome::Rejected);
    assert!(item.recommendation.warnings.iter().any(|w| w.contains("not a candidate")));
}

#[tokio::test]
async fn without_an_advisor_or_with_a_failing_one_the_preview_is_the_rule_based_one() {
    let plain = {
        let h = Harness::new();
        let (_, source) = setup(&h).await;
        let svc = h.service();
        let r = svc.preview(h.org, &source, full(&h)).await.unwrap();
        let items = svc.list_items(h.org, r.run_id, ItemQuery::default()).await.unwrap().items;
        assert!(items.iter().all(|v| v.recommendation.advisor.is_none()));
        items.iter().map(|v| (v.action, v.recommendation.confidence)).collect::<Vec<_>>()
    };
    assert_eq!(
        plain,
        [(Action::Create, Confidence::High), (Action::Update, Confidence::High), (Action::Review, Confidence::Low)]
    );

    let h = Harness::new();
    let (_, source) = setup(&h).await;
    let svc = h.advised(ScriptedAdvisor::new(|_| Err(AiError::BudgetExceeded)));
    let r = svc.preview(h.org, &source, full(&h)).await.unwrap();
    let items = svc.list_items(h.org, r.run_id, ItemQuery::default()).await.unwrap().items;
    assert_eq!(items.iter().map(|v| (v.action, v.recommendation.confidence)).collect::<Vec<_>>(), plain);
    assert_eq!(items[2].recommendation.advisor.as_ref().unwrap().outcome, AdvisorOutcome::Unavailable);
}
