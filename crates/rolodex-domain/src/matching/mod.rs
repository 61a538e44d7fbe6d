//! Matching: decides what to do with an incoming contact given the existing ones, explainably.
//!
//! - [`keys`]: blocking keys (where to look for candidates).
//! - [`index`]: an in-memory blocking index over many contacts.
//! - [`profile`]: the normalised values compared, and value frequencies.
//! - [`score`]: Fellegi-Sunter evidence for a pair, with reasons.
//! - [`decide`]: the decision rules on top of the evidence.
//! - [`linker`]: the whole pipeline over in-memory collections (linkage and deduplication).

pub mod decide;
pub mod index;
pub mod keys;
pub mod linker;
pub mod profile;
pub mod score;

pub use decide::{Action, Alternative, Candidate, Confidence, Decision, MatchPolicy, decide, finalize_with_diff};
pub use keys::{BlockingKey, KeyKind, blocking_keys, same_key_inputs};
pub use profile::{Frequencies, MatchProfile};
pub use score::{Evidence, PairScore, score_pair, score_pair_fast};

#[cfg(test)]
mod tests;
