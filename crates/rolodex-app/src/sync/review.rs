//! Review: what a person does with a previewed run. Everything is stored as it happens, so a run
//! can be left and resumed later from any process: list items (filtered by action, confidence and
//! review state, paged), approve, reject, override the action or the merge target (an override is
//! an approval), and the bulk operations: approve every high-confidence item, skip every possible
//! duplicate, and apply one verdict to every item similar to a given one (same action and same
//! reasons, compared without the values they quote).

use std::collections::HashMap;

use rolodex_domain::matching::{Action, Confidence};
use rolodex_domain::ports::storage::{
    Actor, ContactStoreError, ItemDecision, ItemFilter, ReviewState, SyncItem, SyncStoreError,
};
use rolodex_domain::{ContactStatus, OrgId, SyncItemId, SyncRunId};

use serde::Deserialize;

use super::gaps;
use super::model::{ItemPage, ItemQuery, ItemView, Override, Recommendation, RunProgress, Verdict};
use super::{SyncError, SyncService};

/// Reasons without the values they quote (emails, phones, companies, scores): what makes two items
/// "similar".
#[must_use]
pub fn reason_signature(reasons: &[String]) -> Vec<String> {
    reasons
        .iter()
        .map(|r| {
            let mut out = String::with_capacity(r.len());
            let mut quoted = false;
            for c in r.chars() {
                if c == '`' {
                    quoted = !quoted;
                    out.push(c);
                } else if !quoted && !c.is_ascii_digit() && c != '+' {
                    out.push(c);
                }
            }
            out.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// The view of a stored item.
pub(crate) fn view_of(item: SyncItem, overrides: &HashMap<SyncItemId, Override>) -> Result<ItemView, SyncError> {
    // Read from the stored tree in place (no copy of it).
    let recommendation = Recommendation::deserialize(&item.recommendation)
        .map_err(|e| SyncError::Corrupt(format!("recommendation of item {}: {e}", item.id)))?;
    let (action, target, overridden) = match overrides.get(&item.id) {
        Some(o) => (o.action, o.target, true),
        None => (recommendation.action, item.target_contact_id, false),
    };
    Ok(ItemView { item, recommendation, action, target, overridden })
}

impl SyncService {
    /// Lists a run's items (see [`ItemQuery`]), in position order.
    ///
    /// # Errors
    /// [`SyncError::RunNotFound`]; storage errors.
    #[tracing::instrument(skip_all, fields(org = %org, run = %run))]
    pub async fn list_items(&self, org: OrgId, run: SyncRunId, query: ItemQuery) -> Result<ItemPage, SyncError> {
        self.load_run(org, run).await?;
        let overrides = gaps::load_overrides(&*self.ports.audit, org, run).await?;
        let limit = if query.limit == 0 { 50 } else { query.limit.min(1000) } as usize;
        let mut items = Vec::new();
        let mut after = query.after_position;
        loop {
            let filter = ItemFilter {
                decision: None,
                review: query.review,
                unapplied_only: query.unapplied_only,
                after_position: after,
                limit: 1000,
                skip_diff: false,
            };
            let page = self.ports.runs.list_items(org, run, &filter).await?;
            let exhausted = page.len() < 1000;
            for item in page {
                after = Some(item.position);
                let view = view_of(item, &overrides)?;
                if query.action.is_some_and(|a| a != view.action)
                    || query.confidence.is_some_and(|c| c != view.recommendation.confidence)
                {
                    continue;
                }
                items.push(view);
                if items.len() == limit {
                    return Ok(ItemPage { items, next_after: after });
                }
            }
            if exhausted {
                return Ok(ItemPage { items, next_after: None });
            }
        }
    }

    /// One item of a run.
    ///
    /// # Errors
    /// [`SyncError::ItemNotFound`] when it is not in `run`; storage errors.
    pub async fn item(&self, org: OrgId, run: SyncRunId, id: SyncItemId) -> Result<ItemView, SyncError> {
        let overrides = gaps::load_overrides(&*self.ports.audit, org, run).await?;
        let item = self.item_in_run(org, run, id).await?;
        view_of(item, &overrides)
    }

    async fn item_in_run(&self, org: OrgId, run: SyncRunId, id: SyncItemId) -> Result<SyncItem, SyncError> {
        match self.ports.runs.get_item(org, id).await {
            Ok(item) if item.run_id == run => Ok(item),
            Ok(_) | Err(SyncStoreError::NotFound { .. }) => Err(SyncError::ItemNotFound(id)),
            Err(e) => Err(e.into()),
        }
    }

    /// Every unapplied item of a run that `keep` selects.
    async fn select(
        &self,
        org: OrgId,
        run: SyncRunId,
        review: Option<ReviewState>,
        keep: impl Fn(&ItemView) -> bool,
    ) -> Result<Vec<ItemView>, SyncError> {
        let overrides = gaps::load_overrides(&*self.ports.audit, org, run).await?;
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let filter = ItemFilter {
                decision: None,
                review,
                unapplied_only: true,
                after_position: after,
                limit: 1000,
                skip_diff: true,
            };
            let page = self.ports.runs.list_items(org, run, &filter).await?;
            let exhausted = page.len() < 1000;
            for item in page {
                after = Some(item.position);
                let view = view_of(item, &overrides)?;
                if keep(&view) {
                    out.push(view);
                }
            }
            if exhausted {
                return Ok(out);
            }
        }
    }

    async fn set_review(
        &self,
        org: OrgId,
        run: SyncRunId,
        ids: &[SyncItemId],
        state: ReviewState,
    ) -> Result<u64, SyncError> {
        let mut changed = 0;
        for chunk in ids.chunks(1000) {
            changed += self.ports.runs.review_items(org, run, chunk, state).await?;
        }
        Ok(changed)
    }

    /// Approves items. An item proposed for `review` must be overridden first.
    ///
    /// # Errors
    /// [`SyncError::RunFinished`], [`SyncError::ItemNotFound`], [`SyncError::NeedsDecision`],
    /// [`SyncError::AlreadyApplied`]; storage errors. Nothing changes when one item is refused.
    #[tracing::instrument(skip_all, fields(org = %org, run = %run))]
    pub async fn approve(&self, org: OrgId, run: SyncRunId, ids: &[SyncItemId]) -> Result<u64, SyncError> {
        self.open_run(org, run).await?;
        let overrides = gaps::load_overrides(&*self.ports.audit, org, run).await?;
        for id in ids {
            let view = view_of(self.item_in_run(org, run, *id).await?, &overrides)?;
            if view.item.result.is_some() {
                return Err(SyncError::AlreadyApplied(*id));
            }
            if view.action == Action::Review {
                return Err(SyncError::NeedsDecision(*id));
            }
        }
        self.set_review(org, run, ids, ReviewState::Approved).await
    }

    /// Rejects items: they will not be applied.
    ///
    /// # Errors
    /// [`SyncError::RunFinished`], [`SyncError::ItemNotFound`], [`SyncError::AlreadyApplied`];
    /// storage errors.
    #[tracing::instrument(skip_all, fields(org = %org, run = %run))]
    pub async fn reject(&self, org: OrgId, run: SyncRunId, ids: &[SyncItemId]) -> Result<u64, SyncError> {
        self.open_run(org, run).await?;
        for id in ids {
            if self.item_in_run(org, run, *id).await?.result.is_some() {
                return Err(SyncError::AlreadyApplied(*id));
            }
        }
        self.set_review(org, run, ids, ReviewState::Rejected).await
    }

    /// Checks an override: an applicable action, and a live target exactly when it needs one.
    async fn check_override(&self, org: OrgId, ov: Override) -> Result<(), SyncError> {
        match (ov.action, ov.target) {
            (Action::Review, _) => {
                Err(SyncError::InvalidOverride("`review` is not an action that can be applied".into()))
            }
            (Action::Update | Action::Merge, None) => {
                Err(SyncError::InvalidOverride(format!("`{}` needs the contact to write", ov.action.as_str())))
            }
            (Action::Create | Action::Skip, Some(_)) => {
                Err(SyncError::InvalidOverride(format!("`{}` takes no target contact", ov.action.as_str())))
            }
            (Action::Update | Action::Merge, Some(target)) => {
                match self.ports.contacts.get_contact(org, target).await {
                    Ok(c) if c.status != ContactStatus::Deleted => Ok(()),
                    Ok(_) => Err(SyncError::InvalidOverride(format!("contact {target} is deleted"))),
                    Err(ContactStoreError::NotFound { .. }) => {
                        Err(SyncError::InvalidOverride(format!("contact {target} does not exist")))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            (Action::Create | Action::Skip, None) => Ok(()),
            // Only back onto a source deletion's own contact (checked per item).
            (Action::Delete, _) => Ok(()),
        }
    }

    /// An override that fits `view`: a source deletion carries no incoming data, so it can only be
    /// skipped (keep the contact) or deleted again; nothing else can become a deletion.
    fn check_override_of(view: &ItemView, ov: Override) -> Result<(), SyncError> {
        let deletion = view.item.decision == ItemDecision::Delete;
        match ov.action {
            Action::Delete if !deletion => Err(SyncError::InvalidOverride(
                "`delete` is proposed only for records the source deleted; approve one of those instead".into(),
            )),
            Action::Delete if ov.target.is_some_and(|t| Some(t) != view.item.target_contact_id) => Err(
                SyncError::InvalidOverride("a source deletion deletes only the contact linked to the record".into()),
            ),
            Action::Create | Action::Update | Action::Merge if deletion => Err(SyncError::InvalidOverride(format!(
                "item {} is a source deletion: approve it, reject it, or override it with `skip`",
                view.item.id
            ))),
            _ => Ok(()),
        }
    }

    async fn record_overrides(
        &self,
        org: OrgId,
        run: SyncRunId,
        views: &[ItemView],
        ov: Override,
        actor: &Actor,
    ) -> Result<u64, SyncError> {
        for v in views {
            Self::check_override_of(v, ov)?;
        }
        for v in views {
            let ov = match ov {
                Override { action: Action::Delete, target: None } => {
                    Override { target: v.item.target_contact_id, ..ov }
                }
                _ => ov,
            };
            let before = Override { action: v.action, target: v.target };
            gaps::record_override(&*self.ports.audit, &*self.ports.ids, org, run, v.item.id, before, ov, actor).await?;
        }
        let ids: Vec<SyncItemId> = views.iter().map(|v| v.item.id).collect();
        self.set_review(org, run, &ids, ReviewState::Approved).await
    }

    /// Overrides an item's action or merge target, and approves it. The override is recorded in
    /// the audit log with who made it.
    ///
    /// # Errors
    /// [`SyncError::InvalidOverride`], [`SyncError::RunFinished`], [`SyncError::ItemNotFound`],
    /// [`SyncError::AlreadyApplied`]; storage errors.
    #[tracing::instrument(skip_all, fields(org = %org, run = %run))]
    pub async fn override_item(
        &self,
        org: OrgId,
        run: SyncRunId,
        id: SyncItemId,
        ov: Override,
        actor: &Actor,
    ) -> Result<ItemView, SyncError> {
        self.open_run(org, run).await?;
        self.check_override(org, ov).await?;
        let view = self.item(org, run, id).await?;
        if view.item.result.is_some() {
            return Err(SyncError::AlreadyApplied(id));
        }
        self.record_overrides(org, run, std::slice::from_ref(&view), ov, actor).await?;
        self.item(org, run, id).await
    }

    /// Approves every pending high-confidence item (never a `review` proposal, nor a source
    /// deletion: those are approved one by one or with [`Self::apply_to_similar`]). Returns how many.
    ///
    /// # Errors
    /// [`SyncError::RunFinished`]; storage errors.
    #[tracing::instrument(skip_all, fields(org = %org, run = %run))]
    pub async fn approve_high_confidence(&self, org: OrgId, run: SyncRunId) -> Result<u64, SyncError> {
        self.open_run(org, run).await?;
        let views = self
            .select(org, run, Some(ReviewState::Pending), |v| {
                v.recommendation.confidence == Confidence::High && !matches!(v.action, Action::Review | Action::Delete)
            })
            .await?;
        let ids: Vec<SyncItemId> = views.iter().map(|v| v.item.id).collect();
        self.set_review(org, run, &ids, ReviewState::Approved).await
    }

    /// Skips every pending possible duplicate (a `merge` proposal, or the same email or phone as an
    /// earlier item): each becomes an approved `skip`, so execute counts it as skipped.
    ///
    /// # Errors
    /// [`SyncError::RunFinished`]; storage errors.
    #[tracing::instrument(skip_all, fields(org = %org, run = %run))]
    pub async fn skip_duplicates(&self, org: OrgId, run: SyncRunId, actor: &Actor) -> Result<u64, SyncError> {
        self.open_run(org, run).await?;
        let views = self.select(org, run, Some(ReviewState::Pending), ItemView::is_duplicate).await?;
        let (already, to_change): (Vec<ItemView>, Vec<ItemView>) =
            views.into_iter().partition(|v| v.action == Action::Skip);
        let ids: Vec<SyncItemId> = already.iter().map(|v| v.item.id).collect();
        let mut n = self.set_review(org, run, &ids, ReviewState::Approved).await?;
        n +=
            self.record_overrides(org, run, &to_change, Override { action: Action::Skip, target: None }, actor).await?;
        Ok(n)
    }

    /// Applies `verdict` to every unapplied item of the run with the same action and the same
    /// reasons as item `like` (itself included). Returns how many items changed.
    ///
    /// # Errors
    /// [`SyncError::NeedsDecision`] when approving items proposed for `review`;
    /// [`SyncError::InvalidOverride`]; [`SyncError::RunFinished`]; [`SyncError::ItemNotFound`];
    /// storage errors.
    #[tracing::instrument(skip_all, fields(org = %org, run = %run))]
    pub async fn apply_to_similar(
        &self,
        org: OrgId,
        run: SyncRunId,
        like: SyncItemId,
        verdict: Verdict,
        actor: &Actor,
    ) -> Result<u64, SyncError> {
        self.open_run(org, run).await?;
        let reference = self.item(org, run, like).await?;
        let signature = reason_signature(&reference.recommendation.reasons);
        let similar = self
            .select(org, run, None, |v| {
                v.action == reference.action && reason_signature(&v.recommendation.reasons) == signature
            })
            .await?;
        let ids: Vec<SyncItemId> = similar.iter().map(|v| v.item.id).collect();
        match verdict {
            Verdict::Approve if reference.action == Action::Review => Err(SyncError::NeedsDecision(like)),
            Verdict::Approve => self.set_review(org, run, &ids, ReviewState::Approved).await,
            Verdict::Reject => self.set_review(org, run, &ids, ReviewState::Rejected).await,
            Verdict::Override(ov) => {
                self.check_override(org, ov).await?;
                if ov.target.is_some() && similar.len() > 1 {
                    return Err(SyncError::InvalidOverride(
                        "one target contact cannot be applied to several items; override them one by one".into(),
                    ));
                }
                self.record_overrides(org, run, &similar, ov, actor).await
            }
        }
    }

    /// Where a run is: status, counts so far, and what is left. Readable while it executes.
    ///
    /// # Errors
    /// [`SyncError::RunNotFound`]; storage errors.
    pub async fn progress(&self, org: OrgId, run: SyncRunId) -> Result<RunProgress, SyncError> {
        let r = self.load_run(org, run).await?;
        let mut approved_remaining = 0;
        let mut pending_review = 0;
        let mut after = None;
        loop {
            let filter = ItemFilter {
                decision: None,
                review: None,
                unapplied_only: true,
                after_position: after,
                limit: 1000,
                skip_diff: true,
            };
            let page = self.ports.runs.list_items(org, run, &filter).await?;
            for item in &page {
                match item.review {
                    ReviewState::Approved => approved_remaining += 1,
                    ReviewState::Pending => pending_review += 1,
                    ReviewState::Rejected => {}
                }
            }
            match page.last() {
                Some(last) if page.len() == 1000 => after = Some(last.position),
                _ => break,
            }
        }
        Ok(RunProgress { status: r.status, counts: r.counts, approved_remaining, pending_review })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_reasons_ignore_quoted_values_and_numbers() {
        let sig = |r: &[&str]| reason_signature(&r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        for (a, b, same) in [
            (&["same email `a@x.io`"][..], &["same email `b@y.io`"][..], true),
            (&["same phone +61412345678"], &["same phone +61400000000"], true),
            (
                &["closest candidate is too different (3.2 bits)"],
                &["closest candidate is too different (5.9 bits)"],
                true,
            ),
            (&["same email `a@x.io`"], &["same phone +61400000000"], false),
            (&["same email `a@x.io`", "similar names"], &["same email `a@x.io`"], false),
        ] {
            assert_eq!(sig(a) == sig(b), same, "{a:?} vs {b:?}");
        }
    }
}
