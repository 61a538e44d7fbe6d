//! Preview: read a source page by page (memory stays flat: one page, plus the emails and phones
//! seen so far for the in-run duplicate check), decide every contact against the store's
//! candidates, and store a run with one item per contact. A contact whose provider link holds the
//! same snapshot hash, or whose match would change nothing, is counted as unchanged, not listed.
//!
//! The store lookups of a contact (its provider link, its candidates) do not depend on the other
//! contacts of the run, so they are made for up to `SyncSettings::lookup_concurrency` contacts of a
//! page at once; the decisions are then made one by one in listing order, so the in-run duplicate
//! check, the counts and `max_contacts` are exactly what a one-at-a-time preview gives.
//!
//! Value frequencies are `Frequencies::default()` (the matcher's built-in shares) because the
//! storage ports offer no value counts yet; see `docs/sync.md`.

use std::collections::HashMap;

use rolodex_domain::diff::diff;
use rolodex_domain::matching::finalize_with_diff;
use rolodex_domain::matching::keys::profile_keys;
use rolodex_domain::matching::{Action, Candidate, Confidence, Decision, Frequencies, MatchProfile, decide};
use rolodex_domain::ports::storage::{
    ContactStoreError, NewSyncItem, NewSyncRun, ProviderLink, ReviewState, SyncKind, SyncStatus,
};
use rolodex_domain::ports::{ContactSource, FetchRequest};
use rolodex_domain::{
    ConnectionId, Contact, ContactFields, ContactStatus, IncomingContact, OrgId, SyncItemId, SyncRunId,
};

use super::gaps;
use super::hash::fields_hash;
use super::join::join_all;
use super::model::{
    AutoApprove, FetchMode, PreviewCounts, PreviewReport, PreviewRequest, Recommendation, SyncFilters, item_decision,
};
use super::{CONTACTS_RESOURCE, SyncError, SyncService};

/// What the store says about one incoming contact, read before it is decided.
enum Lookup {
    /// Its provider link holds the same snapshot hash.
    Unchanged,
    /// Its provider link (if any), its profile and its candidates (the linked contact included).
    Found(Box<Found>),
}

/// What [`Lookup::Found`] carries.
struct Found {
    link: Option<ProviderLink>,
    profile: MatchProfile,
    found: Vec<Contact>,
}

/// What became of one incoming contact.
enum Evaluated {
    Unchanged,
    Listed(Box<NewSyncItem>, Action),
}

/// True when `incoming` passes the filters (before `max_contacts`).
fn passes(filters: &SyncFilters, incoming: &IncomingContact) -> bool {
    if let (Some(since), Some(at)) = (filters.updated_since, incoming.external_updated_at)
        && at < since
    {
        return false;
    }
    if !filters.categories.is_empty() {
        let wanted = |t: &String| filters.categories.iter().any(|c| c.trim().eq_ignore_ascii_case(t.trim()));
        if !incoming.fields.tags.iter().any(wanted) {
            return false;
        }
    }
    true
}

/// The emails and phones of earlier items of the run, for the in-run duplicate check.
#[derive(Default)]
struct SeenKeys(HashMap<String, SyncItemId>);

impl SeenKeys {
    /// The earlier item sharing an email or phone with `profile`, else remembers `profile` as `item`.
    fn check(&mut self, profile: &MatchProfile, item: SyncItemId) -> Option<SyncItemId> {
        let keys = || {
            profile.email_keys.iter().map(|e| format!("e:{e}")).chain(profile.phones.iter().map(|p| format!("p:{p}")))
        };
        if let Some(first) = keys().find_map(|k| self.0.get(&k).copied()) {
            return Some(first);
        }
        for k in keys() {
            self.0.insert(k, item);
        }
        None
    }
}

impl SyncService {
    /// Previews a sync of `source` into a new run (see the module doc).
    ///
    /// # Errors
    /// [`SyncError::Source`] when the provider fails (the run is marked failed);
    /// [`SyncError::SourceEmptied`] when `guard_empty_source` is set and a full listing is empty
    /// although the connection had contacts (the run is marked failed, nothing is listed);
    /// storage errors.
    #[tracing::instrument(skip_all, fields(org = %org, run = tracing::field::Empty))]
    pub async fn preview(
        &self,
        org: OrgId,
        source: &dyn ContactSource,
        request: PreviewRequest,
    ) -> Result<PreviewReport, SyncError> {
        let run_id = SyncRunId::from(self.ports.ids.new_uuid());
        tracing::Span::current().record("run", tracing::field::display(run_id));
        let first = match (request.mode, request.connection_id) {
            (FetchMode::Incremental, Some(conn)) => {
                match self.ports.cursors.get_cursor(org, conn, CONTACTS_RESOURCE).await? {
                    Some(stored) => FetchRequest::Since(stored.cursor),
                    None => FetchRequest::Full,
                }
            }
            _ => FetchRequest::Full,
        };
        let full_listing = first == FetchRequest::Full;
        let filters_json = serde_json::json!({
            "mode": request.mode,
            "filters": request.filters,
            "incremental_from_cursor": !full_listing,
        });
        self.ports
            .runs
            .create_run(
                org,
                NewSyncRun {
                    id: run_id,
                    user_id: request.user_id,
                    connection_id: request.connection_id,
                    provider: source.provider().to_owned(),
                    kind: request.kind.unwrap_or(SyncKind::Manual),
                    status: SyncStatus::Preview,
                    filters: filters_json,
                },
            )
            .await?;
        match self.preview_into(org, run_id, source, &request, first).await {
            Ok(report) => Ok(report),
            Err(e) => {
                // Best effort: the run must not stay open for review with half a listing.
                if let Err(mark) =
                    self.ports.runs.set_run_status(org, run_id, SyncStatus::Failed, Some(&e.to_string())).await
                {
                    tracing::warn!(error = %mark, "could not mark the failed preview run");
                }
                Err(e)
            }
        }
    }

    async fn preview_into(
        &self,
        org: OrgId,
        run_id: SyncRunId,
        source: &dyn ContactSource,
        request: &PreviewRequest,
        first: FetchRequest,
    ) -> Result<PreviewReport, SyncError> {
        let mut counts = PreviewCounts::default();
        let mut report = PreviewReport { run_id, counts, truncated: false, reset: false, cursor_pending: false };
        let mut full_listing = first == FetchRequest::Full;
        let mut next = Some(first);
        let mut cursor = None;
        let mut buffer: Vec<NewSyncItem> = Vec::new();
        let mut seen = SeenKeys::default();
        let freqs = Frequencies::default();
        'pages: while let Some(req) = next.take() {
            let page = source
                .fetch(req)
                .await
                .map_err(|source_err| SyncError::Source { provider: source.provider(), source: source_err })?;
            report.reset |= page.reset;
            full_listing |= page.reset;
            counts.deleted_at_source += page.deletions.len() as u64;
            let mut upserts = page.upserts.into_iter();
            loop {
                let group: Vec<IncomingContact> =
                    upserts.by_ref().take(self.settings.lookup_concurrency.max(1)).collect();
                if group.is_empty() {
                    break;
                }
                // The store lookups of the group at once (a contact the filters leave out needs none).
                let lookups = join_all(
                    group
                        .iter()
                        .map(|incoming| async move {
                            if passes(&request.filters, incoming) {
                                Some(self.lookup(org, request.connection_id, incoming).await)
                            } else {
                                None
                            }
                        })
                        .collect(),
                )
                .await;
                for (incoming, lookup) in group.into_iter().zip(lookups) {
                    counts.fetched += 1;
                    let Some(lookup) = lookup else {
                        counts.filtered_out += 1;
                        continue;
                    };
                    if request.filters.max_contacts.is_some_and(|max| counts.listed >= u64::from(max)) {
                        report.truncated = true;
                        break 'pages;
                    }
                    match self.evaluate(org, request, incoming, lookup?, &freqs, &mut seen, &mut counts).await? {
                        Evaluated::Unchanged => counts.unchanged += 1,
                        Evaluated::Listed(item, action) => {
                            counts.listed += 1;
                            *match action {
                                Action::Create => &mut counts.create,
                                Action::Update => &mut counts.update,
                                Action::Merge => &mut counts.merge,
                                Action::Skip => &mut counts.skip,
                                Action::Review => &mut counts.review,
                            } += 1;
                            if item.review == ReviewState::Approved {
                                counts.auto_approved += 1;
                            }
                            buffer.push(*item);
                            if buffer.len() >= self.settings.item_batch {
                                self.ports.runs.add_items(org, run_id, std::mem::take(&mut buffer)).await?;
                            }
                        }
                    }
                }
            }
            match page.next_page {
                Some(token) => next = Some(FetchRequest::Page(token)),
                None => cursor = page.next_cursor,
            }
        }
        if !buffer.is_empty() {
            self.ports.runs.add_items(org, run_id, buffer).await?;
        }
        if request.guard_empty_source
            && full_listing
            && counts.fetched == 0
            && let Some(conn) = request.connection_id
            && gaps::connection_had_contacts(&*self.ports.runs, org, source.provider(), conn, run_id).await?
        {
            tracing::warn!(connection = %conn, "source returned no contacts where it had some: aborting");
            return Err(SyncError::SourceEmptied { connection: conn, run: run_id });
        }
        // The cursor only moves when everything up to it was read and kept.
        if let (Some(conn), Some(cursor)) = (request.connection_id, cursor)
            && !report.truncated
            && counts.filtered_out == 0
        {
            gaps::park_cursor(&*self.ports.cursors, org, conn, CONTACTS_RESOURCE, run_id, &cursor).await?;
            report.cursor_pending = true;
        }
        report.counts = counts;
        tracing::info!(
            fetched = counts.fetched,
            listed = counts.listed,
            unchanged = counts.unchanged,
            "sync preview stored"
        );
        Ok(report)
    }

    /// Reads what deciding `incoming` needs from the store: its provider link, and (unless the link
    /// says it is unchanged) the candidates of its blocking keys plus the contact the link names.
    async fn lookup(
        &self,
        org: OrgId,
        connection: Option<ConnectionId>,
        incoming: &IncomingContact,
    ) -> Result<Lookup, SyncError> {
        let link = match (connection, incoming.external_id.as_deref()) {
            (Some(conn), Some(ext)) => self.ports.links.find_link(org, conn, ext).await?,
            _ => None,
        };
        if let Some(l) = &link
            && l.snapshot_hash.as_deref() == Some(fields_hash(&incoming.fields).as_str())
        {
            return Ok(Lookup::Unchanged);
        }
        let profile = MatchProfile::from_fields(&incoming.fields);
        let mut found: Vec<Contact> =
            self.ports.contacts.find_candidates(org, &profile_keys(&profile), self.settings.candidate_limit).await?;
        if let Some(l) = &link
            && !found.iter().any(|c| c.id == l.contact_id)
        {
            match self.ports.contacts.get_contact(org, l.contact_id).await {
                Ok(c) if c.status != ContactStatus::Deleted => found.push(c),
                Ok(_) | Err(ContactStoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Lookup::Found(Box::new(Found { link, profile, found })))
    }

    /// Decides one incoming contact from what the store said about it.
    #[allow(clippy::too_many_arguments, reason = "the preview state threaded through one decision")]
    async fn evaluate(
        &self,
        org: OrgId,
        request: &PreviewRequest,
        incoming: IncomingContact,
        lookup: Lookup,
        freqs: &Frequencies,
        seen: &mut SeenKeys,
        counts: &mut PreviewCounts,
    ) -> Result<Evaluated, SyncError> {
        let (link, profile, found) = match lookup {
            Lookup::Unchanged => return Ok(Evaluated::Unchanged),
            Lookup::Found(f) => {
                let Found { link, profile, found } = *f;
                (link, profile, found)
            }
        };
        let profiles: Vec<MatchProfile> = found.iter().map(|c| MatchProfile::from_fields(&c.fields)).collect();
        let linked_id = link.as_ref().map(|l| l.contact_id);
        let candidates: Vec<Candidate<'_>> = found
            .iter()
            .zip(&profiles)
            .map(|(c, p)| Candidate { id: c.id, profile: p, linked: Some(c.id) == linked_id })
            .collect();
        let mut decision = decide(&profile, &candidates, freqs, &self.settings.policy);
        let existing = decision.matched_id.and_then(|id| found.iter().find(|c| c.id == id));
        let empty = ContactFields::default();
        let field_diff = diff(existing.map_or(&empty, |c| &c.fields), &incoming.fields);
        finalize_with_diff(&mut decision, &field_diff);
        if existing.is_some()
            && matches!(decision.action, Action::Skip | Action::Merge | Action::Update)
            && !field_diff.has_changes()
        {
            // Already up to date (an update or a merge would change nothing).
            return Ok(Evaluated::Unchanged);
        }
        let item_id = SyncItemId::from(self.ports.ids.new_uuid());
        let rule_action = decision.action;
        let duplicate_of = seen.check(&profile, item_id);
        let mut advisor = None;
        if let Some(first) = duplicate_of {
            decision.action = Action::Skip;
            decision.confidence = Confidence::Low;
            decision.reasons.insert(0, format!("same email or phone as item `{first}` earlier in this sync"));
        } else if decision.confidence == Confidence::Low
            && decision.matched_id.is_some()
            && let Some(adj) = &self.adjudication
        {
            counts.advised += 1;
            advisor = Some(self.adjudicate(org, adj, &incoming, &mut decision, &found, request.user_id).await);
        }
        let base_version = decision.matched_id.and_then(|id| found.iter().find(|c| c.id == id)).map(|c| c.version);
        // The diff shown is against the contact the (possibly advised) proposal names.
        let shown_diff = match decision.matched_id.and_then(|id| found.iter().find(|c| c.id == id)) {
            Some(c) if decision.action != Action::Create => diff(&c.fields, &incoming.fields),
            _ => diff(&empty, &incoming.fields),
        };
        let auto = request.auto_approve == AutoApprove::HighConfidence
            && decision.confidence == Confidence::High
            && matches!(decision.action, Action::Create | Action::Update);
        let action = decision.action;
        let recommendation = recommendation_of(decision.clone(), rule_action, base_version, duplicate_of, advisor);
        let item = NewSyncItem {
            id: item_id,
            decision: item_decision(action),
            target_contact_id: if action == Action::Create { None } else { decision.matched_id },
            confidence: decision.score,
            diff: serde_json::to_value(&shown_diff).map_err(|e| SyncError::Corrupt(e.to_string()))?,
            recommendation: serde_json::to_value(&recommendation).map_err(|e| SyncError::Corrupt(e.to_string()))?,
            review: if auto { ReviewState::Approved } else { ReviewState::Pending },
            incoming,
        };
        Ok(Evaluated::Listed(Box::new(item), action))
    }
}

fn recommendation_of(
    d: Decision,
    rule_action: Action,
    base_version: Option<i64>,
    duplicate_of: Option<SyncItemId>,
    advisor: Option<super::model::AdvisorNote>,
) -> Recommendation {
    Recommendation {
        action: d.action,
        rule_action,
        confidence: d.confidence,
        score: d.score,
        bits: d.bits,
        reasons: d.reasons,
        warnings: d.warnings,
        alternatives: d.alternatives,
        base_version,
        duplicate_of,
        advisor,
    }
}

#[cfg(test)]
mod tests {
    use rolodex_domain::ContactFields;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn filters() {
        let with = |tags: &[&str], at: Option<time::OffsetDateTime>| IncomingContact {
            external_updated_at: at,
            fields: ContactFields { tags: tags.iter().map(|t| (*t).to_owned()).collect(), ..ContactFields::default() },
            ..IncomingContact::default()
        };
        let since = SyncFilters { updated_since: Some(datetime!(2025-01-01 0:00 UTC)), ..SyncFilters::default() };
        let cats = SyncFilters { categories: vec!["VIP".into()], ..SyncFilters::default() };
        for (filters, incoming, expected) in [
            (&since, with(&[], Some(datetime!(2024-12-31 23:59 UTC))), false),
            (&since, with(&[], Some(datetime!(2025-01-01 0:00 UTC))), true),
            (&since, with(&[], None), true),
            (&cats, with(&["vip", "x"], None), true),
            (&cats, with(&["x"], None), false),
            (&cats, with(&[], None), false),
            (&SyncFilters::default(), with(&[], None), true),
        ] {
            assert_eq!(passes(filters, &incoming), expected, "{filters:?} {incoming:?}");
        }
    }
}
