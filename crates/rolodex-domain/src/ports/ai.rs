//! The LLM's two jobs, as ports: [`MatchAdvisor`] adjudicates an ambiguous match among known
//! candidates; [`Personalizer`] rewrites a rendered message for one recipient. Both return
//! validated, structured output plus the [`AiUsage`] it cost.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::contact::{ContactFields, IncomingContact};
use crate::ids::ContactId;

/// Tokens and cost of one LLM call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiUsage {
    /// Model name as the API reported it.
    pub model: String,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Cost in millionths of a US dollar.
    pub cost_micro_usd: u64,
}

/// Errors of an LLM call.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// Throttled.
    #[error("the LLM API is rate limited")]
    RateLimited {
        /// How long to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The API key was rejected.
    #[error("the LLM API rejected the key")]
    Unauthorized,
    /// The model answered, but not with what was asked (bad JSON, a candidate that was not
    /// offered); the answer is discarded.
    #[error("the LLM's answer was invalid: {0}")]
    InvalidAnswer(String),
    /// Network failure or 5xx.
    #[error("transient LLM failure: {0}")]
    Transient(String),
    /// A spending limit configured for Rolodex would be exceeded.
    #[error("the AI budget is exhausted")]
    BudgetExceeded,
}

/// One candidate offered to the advisor.
#[derive(Debug, Clone, PartialEq)]
pub struct AdviceCandidate {
    /// The existing contact's id.
    pub id: ContactId,
    /// What it says.
    pub fields: ContactFields,
    /// The rule-based score (0-1) for reference.
    pub score: f64,
}

/// What the advisor decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdvisorChoice {
    /// The incoming contact is this candidate (always one of those offered).
    Match(ContactId),
    /// The incoming contact is nobody we have.
    Create,
}

/// The advisor's validated answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    /// Its choice.
    pub choice: AdvisorChoice,
    /// Its reason, for a person.
    pub reason: String,
    /// What it cost.
    pub usage: AiUsage,
}

/// Adjudicates ambiguous matches.
#[async_trait]
pub trait MatchAdvisor: Send + Sync + 'static {
    /// Chooses among `candidates` (or `Create`). Implementations must return
    /// [`AiError::InvalidAnswer`] rather than name a contact that was not offered.
    ///
    /// # Errors
    /// [`AiError`].
    async fn advise(&self, incoming: &IncomingContact, candidates: &[AdviceCandidate]) -> Result<Advice, AiError>;
}

/// A request to personalise one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalizeRequest {
    /// The rendered subject (merge fields already filled).
    pub subject: String,
    /// The rendered body.
    pub body: String,
    /// The tone asked for (`friendly`, `formal`, ...).
    pub tone: String,
    /// What we know of the recipient.
    pub recipient: ContactFields,
    /// Recent activity, one line each, newest first.
    pub recent_activity: Vec<String>,
}

/// A personalised message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Personalized {
    /// New subject.
    pub subject: String,
    /// New body.
    pub body: String,
    /// What it cost.
    pub usage: AiUsage,
}

/// Personalises messages.
#[async_trait]
pub trait Personalizer: Send + Sync + 'static {
    /// Rewrites one message for its recipient.
    ///
    /// # Errors
    /// [`AiError`].
    async fn personalize(&self, request: &PersonalizeRequest) -> Result<Personalized, AiError>;

    /// Estimates the cost in micro-USD of personalising `count` messages like `sample`, before
    /// anything is spent.
    fn estimate_cost(&self, sample: &PersonalizeRequest, count: usize) -> u64;
}
