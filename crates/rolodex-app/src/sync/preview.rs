//! Preview: read a source page by page (memory stays flat: one page, plus the emails and phones
//! seen so far for the in-run duplicate check), decide every contact against the store's
//! candidates, and store a run with one item per contact. A contact whose provider link holds the
//! same snapshot hash, or whose match would change nothing, is counted as unchanged, not listed.
//!
//! The store lookups of a contact (its provider link, its candidates) do not depend on the other
//! contacts of the run, so they are made for up to `SyncSettings::lookup_batch` contacts of a page
//! together: one `find_links` and one `find_candidates_many` call (a few set-based queries) per
//! group instead of several queries per contact. The decisions are then made one by one in
//! listing order, so the in-run duplicate check, the counts and `max_contacts` are exactly what a
//! one-at-a-time preview gives.
//!
//! Value frequencies are `Frequencies::default()` (the matcher's built-in shares) because the
//! storage ports offer no value counts yet; see `docs/sync.md`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rolodex_domain::diff::diff;
use rolodex_domain::matching::BlockingKey;
use rolodex_domain::matching::finalize_with_diff;
use rolodex_domain::matching::index::BlockLimits;
use rolodex_domain::matching::keys::profile_keys;
use rolodex_domain::matching::{Action, Candidate, Confidence, Decision, Frequencies, MatchProfile, decide};
use rolodex_domain::ports::storage::{
    ContactStore, ItemDecision, NewSyncItem, NewSyncRun, ProviderLink, ReviewState, SyncKind, SyncStatus, page_size,
    rank_candidates,
};
use rolodex_domain::ports::{ContactSource, FetchRequest};
use rolodex_domain::{
    ConnectionId, Contact, ContactFields, ContactId, ContactStatus, IncomingContact, OrgId, SyncItemId, SyncRunId,
};

use super::gaps;
use super::hash::fields_hash;
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
    found: Vec<Arc<Known>>,
}

/// The key blocks this preview has read ([`ContactStore::find_key_blocks`]; `None`: over its
/// block limit). A common key (a surname sound and an initial) serves many incoming contacts of a
/// run; each is read once. Bounded by about `cap` contact ids in all: past it, it is emptied
/// before the next group.
struct KnownBlocks {
    map: HashMap<BlockingKey, Option<Vec<ContactId>>>,
    ids: usize,
    cap: usize,
}

impl KnownBlocks {
    fn new(cap: usize) -> Self {
        Self { map: HashMap::new(), ids: 0, cap: cap.max(1) }
    }

    fn trim(&mut self) {
        if self.ids > self.cap || self.map.len() > self.cap {
            self.map.clear();
            self.ids = 0;
        }
    }

    /// Reads the blocks of `keys` not read yet, in one store call.
    async fn fill(
        &mut self,
        store: &dyn ContactStore,
        org: OrgId,
        keys: impl Iterator<Item = &BlockingKey>,
        limits: BlockLimits,
    ) -> Result<(), SyncError> {
        let mut missing: Vec<BlockingKey> = keys.filter(|k| !self.map.contains_key(*k)).cloned().collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort_unstable();
        missing.dedup();
        let blocks = store.find_key_blocks(org, &missing, limits).await?;
        if blocks.len() != missing.len() {
            return Err(SyncError::Corrupt(format!(
                "the store answered {} key blocks for {} keys",
                blocks.len(),
                missing.len()
            )));
        }
        for (key, block) in missing.into_iter().zip(blocks) {
            self.ids += block.as_ref().map_or(0, Vec::len);
            self.map.insert(key, block);
        }
        Ok(())
    }

    /// The contacts sharing a key of `keys`, strongest first ([`rank_candidates`]).
    fn ranked(&self, keys: &[BlockingKey]) -> Vec<ContactId> {
        rank_candidates(
            keys.iter().filter_map(|k| self.map.get(k).and_then(Option::as_ref).map(|ids| (k.kind, ids.as_slice()))),
        )
    }
}

/// A stored contact read during this preview, with its match profile (built once).
struct Known {
    contact: Contact,
    profile: MatchProfile,
}

/// The contacts this preview has read, by id (`None`: deleted or gone). Candidates recur from one
/// group of incoming contacts to the next (a block of similar names serves many of them), so
/// each is read from the store and profiled once per run instead of once per incoming contact.
/// Bounded by about `cap` entries: past it, it is emptied before the next group and refills.
struct KnownContacts {
    map: HashMap<ContactId, Option<Arc<Known>>>,
    cap: usize,
}

impl KnownContacts {
    fn new(cap: usize) -> Self {
        Self { map: HashMap::new(), cap: cap.max(1) }
    }

    /// Reads the contacts among `ids` not read yet, in one store call.
    async fn fill(&mut self, store: &dyn ContactStore, org: OrgId, ids: &[ContactId]) -> Result<(), SyncError> {
        let mut missing: Vec<ContactId> = ids.iter().copied().filter(|id| !self.map.contains_key(id)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort_unstable();
        missing.dedup();
        let read = store.get_contacts(org, &missing).await?;
        for id in &missing {
            self.map.insert(*id, None);
        }
        for c in read {
            if c.status != ContactStatus::Deleted {
                let profile = MatchProfile::from_fields(&c.fields);
                self.map.insert(c.id, Some(Arc::new(Known { contact: c, profile })));
            }
        }
        Ok(())
    }

    /// Forgets everything when over the cap (called between groups, so a group's own contacts
    /// stay while it is decided, whatever the cap).
    fn trim(&mut self) {
        if self.map.len() > self.cap {
            self.map.clear();
        }
    }

    fn get(&self, id: &ContactId) -> Option<&Arc<Known>> {
        self.map.get(id).and_then(Option::as_ref)
    }

    /// Whether `id` has been read (live or not).
    fn knows(&self, id: &ContactId) -> bool {
        self.map.contains_key(id)
    }
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
    in_categories(&filters.categories, &incoming.fields.tags)
}

/// True when `categories` is empty or one of `tags` is among them (case-insensitive).
fn in_categories<'a>(categories: &[String], tags: impl IntoIterator<Item = &'a String>) -> bool {
    categories.is_empty()
        || tags.into_iter().any(|t| categories.iter().any(|c| c.trim().eq_ignore_ascii_case(t.trim())))
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
        let mut known = KnownContacts::new(self.settings.preview_cache);
        let mut blocks = KnownBlocks::new(self.settings.preview_cache.saturating_mul(10));
        let freqs = Frequencies::default();
        // External ids the source reported deleted, proposed after the listing.
        let mut gone: Vec<String> = Vec::new();
        'pages: while let Some(req) = next.take() {
            let page = source
                .fetch(req)
                .await
                .map_err(|source_err| SyncError::Source { provider: source.provider(), source: source_err })?;
            report.reset |= page.reset;
            full_listing |= page.reset;
            counts.deleted_at_source += page.deletions.len() as u64;
            gone.extend(page.deletions);
            let mut upserts = page.upserts.into_iter();
            loop {
                let group: Vec<IncomingContact> = upserts.by_ref().take(self.settings.lookup_batch.max(1)).collect();
                if group.is_empty() {
                    break;
                }
                // The store lookups of the group together (a contact the filters leave out needs none).
                let wanted: Vec<bool> = group.iter().map(|incoming| passes(&request.filters, incoming)).collect();
                let lookups =
                    self.lookup_group(org, request.connection_id, &group, &wanted, (&mut known, &mut blocks)).await?;
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
                    match self.evaluate(org, request, incoming, lookup, &freqs, &mut seen, &mut counts).await? {
                        Evaluated::Unchanged => counts.unchanged += 1,
                        Evaluated::Listed(item, action) => {
                            counts.count_listed(action, item.review);
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
        if let Some(conn) = request.connection_id
            && !gone.is_empty()
            && !report.truncated
        {
            let (items, left_out) = self.deletion_items(org, conn, source.provider(), &request.filters, gone).await?;
            counts.filtered_out += left_out;
            for item in items {
                if request.filters.max_contacts.is_some_and(|max| counts.listed >= u64::from(max)) {
                    report.truncated = true;
                    break;
                }
                counts.count_listed(Action::Delete, item.review);
                buffer.push(item);
            }
        }
        if !buffer.is_empty() {
            self.ports.runs.add_items(org, run_id, buffer).await?;
        }
        if request.guard_empty_source
            && full_listing
            && counts.fetched == 0
            && let Some(conn) = request.connection_id
            && self.ports.links.count_links(org, conn).await? > 0
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

    /// The items proposing to soft-delete the live contacts linked to records the source reported
    /// deleted (`gone`, in the order reported), and how many the `categories` filter left out.
    /// A record never linked, or linked to a contact already deleted, proposes nothing. A contact
    /// still linked to other provider records gets a warning and medium confidence. A deletion is
    /// never auto-approved.
    async fn deletion_items(
        &self,
        org: OrgId,
        conn: ConnectionId,
        provider: &str,
        filters: &SyncFilters,
        mut gone: Vec<String>,
    ) -> Result<(Vec<NewSyncItem>, u64), SyncError> {
        let mut seen = HashSet::new();
        gone.retain(|g| seen.insert(g.clone()));
        let mut items = Vec::new();
        let mut left_out = 0;
        for chunk in gone.chunks(self.settings.lookup_batch.max(1)) {
            let links: HashMap<String, ProviderLink> = self
                .ports
                .links
                .find_links(org, conn, chunk)
                .await?
                .into_iter()
                .map(|l| (l.external_id.clone(), l))
                .collect();
            let mut ids: Vec<ContactId> = links.values().map(|l| l.contact_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let contacts: HashMap<ContactId, Contact> = if ids.is_empty() {
                HashMap::new()
            } else {
                self.ports.contacts.get_contacts(org, &ids).await?.into_iter().map(|c| (c.id, c)).collect()
            };
            // Every link of those contacts (of any connection), in one call.
            let mut linked: HashMap<ContactId, Vec<ProviderLink>> = HashMap::new();
            for l in self.ports.links.links_of_many(org, &ids).await? {
                linked.entry(l.contact_id).or_default().push(l);
            }
            for external_id in chunk {
                let Some(link) = links.get(external_id) else { continue };
                let Some(contact) = contacts.get(&link.contact_id).filter(|c| c.status != ContactStatus::Deleted)
                else {
                    continue;
                };
                if !in_categories(&filters.categories, &contact.fields.tags) {
                    left_out += 1;
                    continue;
                }
                // Other records (of any connection) still linked to the contact.
                let mut others: Vec<&ProviderLink> = linked
                    .get(&contact.id)
                    .map(|ls| {
                        ls.iter().filter(|l| !(l.connection_id == conn && seen.contains(&l.external_id))).collect()
                    })
                    .unwrap_or_default();
                others
                    .sort_unstable_by(|a, b| (a.connection_id, &a.external_id).cmp(&(b.connection_id, &b.external_id)));
                let others: Vec<&str> = others.into_iter().map(|l| l.external_id.as_str()).collect();
                let mut warnings = Vec::new();
                let confidence = if others.is_empty() {
                    Confidence::High
                } else {
                    warnings.push(format!(
                        "the contact is still linked to {} other provider record(s): {}",
                        others.len(),
                        others.join(", ")
                    ));
                    Confidence::Medium
                };
                let recommendation = Recommendation {
                    action: Action::Delete,
                    rule_action: Action::Delete,
                    confidence,
                    score: 1.0,
                    bits: 0.0,
                    reasons: vec![format!("deleted at the source ({provider})")],
                    warnings,
                    alternatives: Vec::new(),
                    base_version: Some(contact.version),
                    duplicate_of: None,
                    advisor: None,
                };
                let shown = diff(&contact.fields, &ContactFields::default());
                items.push(NewSyncItem {
                    id: SyncItemId::from(self.ports.ids.new_uuid()),
                    incoming: IncomingContact {
                        external_id: Some(external_id.clone()),
                        fields: ContactFields::default(),
                        ..IncomingContact::default()
                    },
                    decision: ItemDecision::Delete,
                    target_contact_id: Some(contact.id),
                    confidence: 1.0,
                    diff: serde_json::to_value(&shown).map_err(|e| SyncError::Corrupt(e.to_string()))?,
                    recommendation: serde_json::to_value(&recommendation)
                        .map_err(|e| SyncError::Corrupt(e.to_string()))?,
                    review: ReviewState::Pending,
                });
            }
        }
        Ok((items, left_out))
    }

    /// Reads what deciding each contact of `group` needs from the store (`None` where `wanted` is
    /// false): its provider link, and (unless the link says it is unchanged) its strongest live
    /// candidates plus the contact the link names. For the whole group: one link query, one
    /// read of the key blocks `blocks` does not hold yet, and one read of the contacts `known`
    /// does not hold yet.
    async fn lookup_group(
        &self,
        org: OrgId,
        connection: Option<ConnectionId>,
        group: &[IncomingContact],
        wanted: &[bool],
        (known, blocks): (&mut KnownContacts, &mut KnownBlocks),
    ) -> Result<Vec<Option<Lookup>>, SyncError> {
        known.trim();
        blocks.trim();
        let mut links: HashMap<String, ProviderLink> = HashMap::new();
        if let Some(conn) = connection {
            let mut ext: Vec<String> =
                group.iter().zip(wanted).filter(|(_, w)| **w).filter_map(|(i, _)| i.external_id.clone()).collect();
            ext.sort_unstable();
            ext.dedup();
            if !ext.is_empty() {
                links = self
                    .ports
                    .links
                    .find_links(org, conn, &ext)
                    .await?
                    .into_iter()
                    .map(|l| (l.external_id.clone(), l))
                    .collect();
            }
        }
        // Which contacts need candidates, with their profiles and keys.
        let mut slots: Vec<Option<Lookup>> = Vec::with_capacity(group.len());
        let mut pending: Vec<(usize, Option<ProviderLink>, MatchProfile)> = Vec::new();
        let mut key_sets = Vec::new();
        for (i, (incoming, w)) in group.iter().zip(wanted).enumerate() {
            if !*w {
                slots.push(None);
                continue;
            }
            let link = incoming.external_id.as_ref().and_then(|e| links.get(e)).cloned();
            if let Some(l) = &link
                && l.snapshot_hash.as_deref() == Some(fields_hash(&incoming.fields).as_str())
            {
                slots.push(Some(Lookup::Unchanged));
                continue;
            }
            let profile = MatchProfile::from_fields(&incoming.fields);
            key_sets.push(profile_keys(&profile));
            pending.push((i, link, profile));
            slots.push(None);
        }
        let limits = self.settings.candidates;
        blocks.fill(&*self.ports.contacts, org, key_sets.iter().flatten(), limits.blocks).await?;
        let ranked: Vec<Vec<ContactId>> = key_sets.iter().map(|keys| blocks.ranked(keys)).collect();
        let per_set = page_size(limits.per_set) as usize;
        // Read what is not known yet: each set's strongest ids up to its limit (a deleted one
        // makes room for the next in a further round), and the linked contacts.
        let mut first = true;
        loop {
            let mut unread: Vec<ContactId> = Vec::new();
            for ids in &ranked {
                let mut room = per_set;
                for id in ids {
                    if room == 0 {
                        break;
                    }
                    if !known.knows(id) {
                        unread.push(*id);
                        room -= 1;
                    } else if known.get(id).is_some() {
                        room -= 1;
                    }
                }
            }
            if first {
                unread.extend(pending.iter().filter_map(|(_, link, _)| link.as_ref().map(|l| l.contact_id)));
                first = false;
            }
            unread.retain(|id| !known.knows(id));
            if unread.is_empty() {
                break;
            }
            known.fill(&*self.ports.contacts, org, &unread).await?;
        }
        for ((i, link, profile), ids) in pending.into_iter().zip(ranked) {
            let mut found: Vec<Arc<Known>> = ids.iter().filter_map(|id| known.get(id).cloned()).take(per_set).collect();
            if let Some(l) = &link
                && !found.iter().any(|k| k.contact.id == l.contact_id)
                && let Some(k) = known.get(&l.contact_id)
            {
                found.push(k.clone());
            }
            slots[i] = Some(Lookup::Found(Box::new(Found { link, profile, found })));
        }
        Ok(slots)
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
        let linked_id = link.as_ref().map(|l| l.contact_id);
        let candidates: Vec<Candidate<'_>> = found
            .iter()
            .map(|k| Candidate { id: k.contact.id, profile: &k.profile, linked: Some(k.contact.id) == linked_id })
            .collect();
        let contact = |id: ContactId| found.iter().map(|k| &k.contact).find(|c| c.id == id);
        let mut decision = decide(&profile, &candidates, freqs, &self.settings.policy);
        let existing = decision.matched_id.and_then(contact);
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
            let offered: Vec<Contact> = found.iter().map(|k| k.contact.clone()).collect();
            advisor = Some(self.adjudicate(org, adj, &incoming, &mut decision, &offered, request.user_id).await);
        }
        let base_version = decision.matched_id.and_then(contact).map(|c| c.version);
        // The diff shown is against the contact the (possibly advised) proposal names.
        // (Usually the one already computed: same contact, or none on both sides.)
        let first_against = existing.map(|c| c.id);
        let shown_diff = match decision.matched_id.and_then(contact) {
            Some(c) if decision.action != Action::Create => {
                if first_against == Some(c.id) {
                    field_diff
                } else {
                    diff(&c.fields, &incoming.fields)
                }
            }
            _ if first_against.is_none() => field_diff,
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
