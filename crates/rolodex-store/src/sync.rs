//! [`SyncRunStore`] (runs, items, review, and the batched apply), [`CursorStore`] and
//! [`WebhookReceiptStore`] on `sync_runs`, `sync_items`, `sync_cursors` and `webhook_receipts`.
//!
//! `apply_batch` runs in one transaction and writes in batches. On PostgreSQL: creates, index
//! rows, links and audit rows as `INSERT … SELECT * FROM unnest(…)` (fixed statement text, one
//! array per column), updates and item results as one `UPDATE … FROM unnest(…)` per batch (a
//! version-guarded compare-and-set; rows that moved on are reported as conflicts). On SQLite:
//! multi-row INSERTs and prepared per-row UPDATEs inside one blocking task (in-process, no round
//! trips). On both, the index rows of updated contacts are rewritten only where they differ from
//! the stored ones.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use rolodex_domain::ports::SyncCursor;
use rolodex_domain::ports::storage::{
    ApplyBatch, ApplyOp, ApplyReport, CursorStore, ItemDecision, ItemFilter, ItemOutcome, ItemResult, NewJob,
    NewSyncItem, NewSyncRun, NewWebhookReceipt, ReceiptOutcome, ReviewState, RunFilter, StoredCursor, SyncCounts,
    SyncItem, SyncKind, SyncRun, SyncRunStore, SyncStatus, SyncStoreError, WebhookReceipt, WebhookReceiptStore,
    page_size,
};
use rolodex_domain::{ConnectionId, Contact, ContactId, ContactStatus, OrgId, SyncItemId, SyncRunId, WebhookReceiptId};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::backend::{Backend, Conn, OwnTask, each, insert_batch, read, tx};
use crate::contacts::{
    PARAMS_PER_STATEMENT, col, insert_contacts, link_row, load_contacts, refresh_children, search_text, upsert_links,
};
use crate::error::{DbError, DbResult};
use crate::history::{AuditRow, audit_row_json, insert_audit};
use crate::schema::{connections, contacts, sync_cursors, sync_item_results, sync_items, sync_runs, webhook_receipts};
use crate::{Store, from_db, json, parse_id, to_db, unjson};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_runs, treat_none_as_default_value = false)]
struct RunRow {
    id: String,
    org_id: String,
    user_id: Option<String>,
    connection_id: Option<String>,
    provider: String,
    kind: String,
    status: String,
    created_count: i64,
    updated_count: i64,
    skipped_count: i64,
    failed_count: i64,
    filters: String,
    error: Option<String>,
    created_at: PrimitiveDateTime,
    started_at: Option<PrimitiveDateTime>,
    completed_at: Option<PrimitiveDateTime>,
    deleted_count: i64,
    review_seq: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_items, treat_none_as_default_value = false)]
struct ItemRow {
    id: String,
    org_id: String,
    run_id: String,
    position: i64,
    external_id: Option<String>,
    incoming: String,
    decision: String,
    target_contact_id: Option<String>,
    confidence: f64,
    diff: String,
    recommendation: String,
    review: String,
}

/// An applied item's result (`sync_item_results`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_item_results, treat_none_as_default_value = false)]
struct ResultRow {
    item_id: String,
    run_id: String,
    outcome: String,
    contact_id: Option<String>,
    message: Option<String>,
    applied_at: PrimitiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_receipts, treat_none_as_default_value = false)]
struct ReceiptRow {
    id: String,
    org_id: String,
    provider: String,
    delivery_id: String,
    connection_id: Option<String>,
    payload: String,
    received_at: PrimitiveDateTime,
    processed_at: Option<PrimitiveDateTime>,
    error: Option<String>,
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn u64_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn run_from_row(r: RunRow) -> DbResult<SyncRun> {
    Ok(SyncRun {
        id: parse_id("run id", &r.id)?,
        user_id: r.user_id.as_deref().map(|u| parse_id("user id", u)).transpose()?,
        connection_id: r.connection_id.as_deref().map(|c| parse_id("connection id", c)).transpose()?,
        provider: r.provider,
        kind: SyncKind::parse(&r.kind).map_err(DbError::corrupt)?,
        status: SyncStatus::parse(&r.status).map_err(DbError::corrupt)?,
        counts: SyncCounts {
            created: u64_of(r.created_count),
            updated: u64_of(r.updated_count),
            skipped: u64_of(r.skipped_count),
            failed: u64_of(r.failed_count),
            deleted: u64_of(r.deleted_count),
        },
        review_seq: u64_of(r.review_seq),
        filters: unjson("run filters", &r.filters)?,
        error: r.error,
        created_at: from_db(r.created_at),
        started_at: r.started_at.map(from_db),
        completed_at: r.completed_at.map(from_db),
    })
}

/// `skip_diff`: leave the diff `null` (see `ItemFilter::skip_diff`).
fn item_from_row(r: ItemRow, result: Option<ResultRow>, skip_diff: bool) -> DbResult<SyncItem> {
    let result = match result {
        Some(res) => Some(ItemResult {
            outcome: ItemOutcome::parse(&res.outcome).map_err(DbError::corrupt)?,
            contact_id: res.contact_id.as_deref().map(|c| parse_id("contact id", c)).transpose()?,
            message: res.message,
        }),
        None => None,
    };
    Ok(SyncItem {
        id: parse_id("item id", &r.id)?,
        run_id: parse_id("run id", &r.run_id)?,
        position: r.position,
        incoming: unjson("incoming contact", &r.incoming)?,
        decision: ItemDecision::parse(&r.decision).map_err(DbError::corrupt)?,
        target_contact_id: r.target_contact_id.as_deref().map(|c| parse_id("contact id", c)).transpose()?,
        confidence: r.confidence,
        diff: if skip_diff { serde_json::Value::Null } else { unjson("item diff", &r.diff)? },
        recommendation: unjson("item recommendation", &r.recommendation)?,
        review: ReviewState::parse(&r.review).map_err(DbError::corrupt)?,
        result,
    })
}

fn receipt_from_row(r: ReceiptRow) -> DbResult<WebhookReceipt> {
    Ok(WebhookReceipt {
        id: parse_id("receipt id", &r.id)?,
        provider: r.provider,
        delivery_id: r.delivery_id,
        connection_id: r.connection_id.as_deref().map(|c| parse_id("connection id", c)).transpose()?,
        payload: unjson("receipt payload", &r.payload)?,
        received_at: from_db(r.received_at),
        processed_at: r.processed_at.map(from_db),
        error: r.error,
    })
}

/// The run `id` of `org` (to read or update).
#[diesel::dsl::auto_type(no_type_alias)]
fn run_in_org<'a>(org: &'a str, id: &'a str) -> _ {
    sync_runs::table.filter(sync_runs::org_id.eq(org)).filter(sync_runs::id.eq(id))
}

async fn load_run(conn: &mut Conn<'_>, org: &str, id: &str) -> DbResult<Option<RunRow>> {
    Ok(each!(conn, |c| run_in_org(org, id).select(RunRow::as_select()).first(c).await.optional())?)
}

/// The ids of `ids` that are connections of `org`.
async fn connections_in_org(conn: &mut Conn<'_>, org: &str, ids: &[String]) -> DbResult<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(PARAMS_PER_STATEMENT) {
        let found: Vec<String> = each!(conn, |c| {
            connections::table
                .filter(connections::org_id.eq(org))
                .filter(connections::id.eq_any(chunk))
                .select(connections::id)
                .load(c)
                .await
        })?;
        out.extend(found);
    }
    Ok(out)
}

async fn set_cursor_in(
    conn: &mut Conn<'_>,
    org: OrgId,
    connection: ConnectionId,
    resource: &str,
    cursor: &SyncCursor,
    now: OffsetDateTime,
) -> DbResult<()> {
    let (org_s, conn_s) = (org.to_string(), connection.to_string());
    if connections_in_org(conn, &org_s, std::slice::from_ref(&conn_s)).await?.is_empty() {
        return Err(DbError::not_found("connection", connection));
    }
    let row = (
        sync_cursors::connection_id.eq(conn_s),
        sync_cursors::resource.eq(resource.to_owned()),
        sync_cursors::org_id.eq(org_s),
        sync_cursors::cursor_value.eq(cursor.0.clone()),
        sync_cursors::updated_at.eq(to_db(now)),
    );
    each!(conn, |c| {
        diesel::insert_into(sync_cursors::table)
            .values(row.clone())
            .on_conflict((sync_cursors::connection_id, sync_cursors::resource))
            .do_update()
            .set((
                sync_cursors::cursor_value.eq(excluded(sync_cursors::cursor_value)),
                sync_cursors::updated_at.eq(excluded(sync_cursors::updated_at)),
            ))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// One version-guarded contact update of a batch.
#[derive(Debug, Clone)]
struct ContactUpdate {
    id: String,
    expected: i64,
    fields: String,
    tags: String,
    custom: String,
    search_text: String,
}

/// The id a compare-and-set `UPDATE … RETURNING id` wrote.
#[derive(QueryableByName)]
struct ReturnedId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// Applies `list` (compare-and-set on `version`); returns the ids that were updated.
async fn update_contacts(
    conn: &mut Conn<'_>,
    org: &str,
    list: Vec<ContactUpdate>,
    now: PrimitiveDateTime,
) -> DbResult<HashSet<String>> {
    if list.is_empty() {
        return Ok(HashSet::new());
    }
    match conn {
        Conn::Pg(c) => {
            use diesel::sql_types::{Array, BigInt, Text, Timestamp};
            let mut out = HashSet::new();
            for chunk in list.chunks(5000) {
                let expected: Vec<i64> = chunk.iter().map(|u| u.expected).collect();
                let rows: Vec<ReturnedId> = diesel::sql_query(
                    "UPDATE contacts AS c SET fields = v.fields, tags = v.tags, custom = v.custom, \
                     search_text = v.search_text, version = c.version + 1, updated_at = $1 \
                     FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) \
                     AS v(id, expected, fields, tags, custom, search_text) \
                     WHERE c.id = v.id AND c.org_id = $8 AND c.version = v.expected RETURNING c.id",
                )
                .bind::<Timestamp, _>(now)
                .bind::<Array<Text>, _>(col(chunk, |u| u.id.as_str()))
                .bind::<Array<BigInt>, _>(expected)
                .bind::<Array<Text>, _>(col(chunk, |u| u.fields.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |u| u.tags.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |u| u.custom.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |u| u.search_text.as_str()))
                .bind::<Text, _>(org)
                .load(&mut **c)
                .await?;
                out.extend(rows.into_iter().map(|r| r.id));
            }
            Ok(out)
        }
        Conn::Sqlite(c) => {
            let org = org.to_owned();
            Ok(c.spawn_blocking(move |c| {
                let mut out = HashSet::new();
                for u in list {
                    let n = diesel::RunQueryDsl::execute(
                        diesel::update(
                            contacts::table
                                .filter(contacts::id.eq(&u.id))
                                .filter(contacts::org_id.eq(&org))
                                .filter(contacts::version.eq(u.expected)),
                        )
                        .set((
                            contacts::fields.eq(&u.fields),
                            contacts::tags.eq(&u.tags),
                            contacts::custom.eq(&u.custom),
                            contacts::search_text.eq(&u.search_text),
                            contacts::version.eq(contacts::version + 1),
                            contacts::updated_at.eq(now),
                        )),
                        c,
                    )?;
                    if n == 1 {
                        out.insert(u.id);
                    }
                }
                Ok(out)
            })
            .await?)
        }
    }
}

/// Soft-deletes `list` of `(id, expected version)` (compare-and-set on `version`; index rows,
/// links and history stay); returns the ids that were deleted.
async fn soft_delete_contacts(
    conn: &mut Conn<'_>,
    org: &str,
    list: Vec<(String, i64)>,
    now: PrimitiveDateTime,
) -> DbResult<HashSet<String>> {
    if list.is_empty() {
        return Ok(HashSet::new());
    }
    let deleted = crate::contacts::status_str(ContactStatus::Deleted);
    match conn {
        Conn::Pg(c) => {
            use diesel::sql_types::{Array, BigInt, Text, Timestamp};
            let mut out = HashSet::new();
            for chunk in list.chunks(5000) {
                let (ids, expected): (Vec<String>, Vec<i64>) = chunk.iter().cloned().unzip();
                let rows: Vec<ReturnedId> = diesel::sql_query(
                    "UPDATE contacts AS c SET status = $1, version = c.version + 1, updated_at = $2 \
                     FROM unnest($3::text[], $4::bigint[]) AS v(id, expected) \
                     WHERE c.id = v.id AND c.org_id = $5 AND c.version = v.expected RETURNING c.id",
                )
                .bind::<Text, _>(deleted)
                .bind::<Timestamp, _>(now)
                .bind::<Array<Text>, _>(ids)
                .bind::<Array<BigInt>, _>(expected)
                .bind::<Text, _>(org)
                .load(&mut **c)
                .await?;
                out.extend(rows.into_iter().map(|r| r.id));
            }
            Ok(out)
        }
        Conn::Sqlite(c) => {
            let org = org.to_owned();
            Ok(c.spawn_blocking(move |c| {
                let mut out = HashSet::new();
                for (id, expected) in list {
                    let n = diesel::RunQueryDsl::execute(
                        diesel::update(
                            contacts::table
                                .filter(contacts::id.eq(&id))
                                .filter(contacts::org_id.eq(&org))
                                .filter(contacts::version.eq(expected)),
                        )
                        .set((
                            contacts::status.eq(deleted),
                            contacts::version.eq(contacts::version + 1),
                            contacts::updated_at.eq(now),
                        )),
                        c,
                    )?;
                    if n == 1 {
                        out.insert(id);
                    }
                }
                Ok(out)
            })
            .await?)
        }
    }
}

/// Records item results: `(item id, outcome, contact id, message)`, one row each in
/// `sync_item_results`.
async fn write_results(
    conn: &mut Conn<'_>,
    run: &str,
    results: Vec<(String, String, Option<String>, Option<String>)>,
    now: PrimitiveDateTime,
) -> DbResult<()> {
    if results.is_empty() {
        return Ok(());
    }
    match conn {
        Conn::Pg(c) => {
            use diesel::sql_types::{Array, Nullable, Text, Timestamp};
            for chunk in results.chunks(5000) {
                let ids: Vec<&str> = chunk.iter().map(|r| r.0.as_str()).collect();
                let outcomes: Vec<&str> = chunk.iter().map(|r| r.1.as_str()).collect();
                let contacts: Vec<Option<&str>> = chunk.iter().map(|r| r.2.as_deref()).collect();
                let messages: Vec<Option<&str>> = chunk.iter().map(|r| r.3.as_deref()).collect();
                diesel::sql_query(
                    "INSERT INTO sync_item_results (item_id, run_id, outcome, contact_id, message, applied_at) \
                     SELECT v.id, $1, v.outcome, v.contact, v.message, $2 \
                     FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS v(id, outcome, contact, message)",
                )
                .bind::<Text, _>(run)
                .bind::<Timestamp, _>(now)
                .bind::<Array<Text>, _>(ids)
                .bind::<Array<Text>, _>(outcomes)
                .bind::<Array<Nullable<Text>>, _>(contacts)
                .bind::<Array<Nullable<Text>>, _>(messages)
                .execute(&mut **c)
                .await?;
            }
            Ok(())
        }
        Conn::Sqlite(_) => {
            let rows: Vec<ResultRow> = results
                .into_iter()
                .map(|(item_id, outcome, contact_id, message)| ResultRow {
                    item_id,
                    run_id: run.to_owned(),
                    outcome,
                    contact_id,
                    message,
                    applied_at: now,
                })
                .collect();
            insert_batch!(conn, rows, PARAMS_PER_STATEMENT / 6, |chunk| diesel::insert_into(sync_item_results::table)
                .values(chunk))?;
            Ok(())
        }
    }
}

/// The items with no row in `sync_item_results` (not applied yet).
#[diesel::dsl::auto_type]
fn unapplied() -> _ {
    diesel::dsl::not(diesel::dsl::exists(
        sync_item_results::table.filter(sync_item_results::item_id.eq(sync_items::id)),
    ))
}

/// Which of `ids` are items of run `run` of `org`, each with whether it is applied (has a
/// result). Looked up by primary key only, then checked here: with `org_id` and `run_id` in the
/// WHERE clause PostgreSQL picks the (org, run, …) index and tests every item of the run against
/// the whole id array (a read of the whole run per statement). The result row, if any, comes
/// along (one round trip per chunk).
async fn items_in_run(conn: &mut Conn<'_>, org: &str, run: &str, ids: &[String]) -> DbResult<HashMap<String, bool>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(PARAMS_PER_STATEMENT) {
        let rows: Vec<(String, String, String, Option<String>)> = each!(conn, |c| {
            sync_items::table
                .left_join(sync_item_results::table.on(sync_item_results::item_id.eq(sync_items::id)))
                .filter(sync_items::id.eq_any(chunk))
                .select((sync_items::id, sync_items::org_id, sync_items::run_id, sync_item_results::item_id.nullable()))
                .load(c)
                .await
        })?;
        out.extend(
            rows.into_iter()
                .filter(|(_, o, r, _)| o == org && r == run)
                .map(|(id, _, _, result)| (id, result.is_some())),
        );
    }
    Ok(out)
}

/// The results of those of `ids` that have one.
async fn results_of(conn: &mut Conn<'_>, ids: &[String]) -> DbResult<HashMap<String, ResultRow>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(PARAMS_PER_STATEMENT) {
        let rows: Vec<ResultRow> = each!(conn, |c| {
            sync_item_results::table
                .filter(sync_item_results::item_id.eq_any(chunk))
                .select(ResultRow::as_select())
                .load(c)
                .await
        })?;
        out.extend(rows.into_iter().map(|r| (r.item_id.clone(), r)));
    }
    Ok(out)
}

fn is_terminal(status: &str) -> bool {
    SyncStatus::parse(status).is_ok_and(SyncStatus::is_terminal)
}

impl Store {
    async fn apply_in(&self, conn: &mut Conn<'_>, org: OrgId, batch: ApplyBatch) -> DbResult<ApplyReport> {
        let now = self.now();
        let now_db = to_db(now);
        let (org_s, run_s) = (org.to_string(), batch.run_id.to_string());
        let run = load_run(conn, &org_s, &run_s).await?.ok_or_else(|| DbError::not_found("sync run", batch.run_id))?;
        if is_terminal(&run.status) {
            return Err(DbError::Invalid(format!("sync run `{run_s}` is already {}", run.status)));
        }
        // Which items are in the run, and which are applied already.
        let item_ids: Vec<String> = batch.changes.iter().map(|c| c.item_id.to_string()).collect();
        let applied = items_in_run(conn, &org_s, &run_s, &item_ids).await?;
        if let Some(missing) = item_ids.iter().find(|id| !applied.contains_key(*id)) {
            return Err(DbError::Invalid(format!("sync item `{missing}` is not in run `{run_s}`")));
        }
        let mut conn_ids: Vec<String> = batch
            .changes
            .iter()
            .filter_map(|c| c.link.as_ref().map(|l| l.connection_id.to_string()))
            .chain(batch.cursor.iter().map(|(c, _, _)| c.to_string()))
            .collect();
        conn_ids.sort();
        conn_ids.dedup();
        let known = connections_in_org(conn, &org_s, &conn_ids).await?;
        if let Some(missing) = conn_ids.iter().find(|c| !known.contains(*c)) {
            return Err(DbError::not_found("connection", missing));
        }

        let mut seen = HashSet::new();
        let mut changes: Vec<_> = batch
            .changes
            .into_iter()
            .filter(|c| !applied.get(&c.item_id.to_string()).copied().unwrap_or(true) && seen.insert(c.item_id))
            .collect();
        // Each contact as the batch has left it so far (starts as stored): a contact the caller
        // read at the version its first change expects is taken as it is (see
        // `ApplyBatch::known`), the others are read.
        let mut first_expected: HashMap<ContactId, i64> = HashMap::new();
        for c in &changes {
            if let ApplyOp::Update { id, expected_version, .. } | ApplyOp::Delete { id, expected_version } = &c.op {
                first_expected.entry(*id).or_insert(*expected_version);
            }
        }
        let mut current: HashMap<ContactId, Contact> = HashMap::with_capacity(first_expected.len());
        for c in batch.known {
            if c.org_id == org && first_expected.get(&c.id) == Some(&c.version) {
                current.insert(c.id, c);
            }
        }
        let unknown: Vec<ContactId> = first_expected.keys().filter(|id| !current.contains_key(*id)).copied().collect();
        current.extend(load_contacts(conn, org, &unknown).await?);

        // The new contacts take their fields out of the changes (nothing reads them there again).
        let creates: Vec<Contact> = changes
            .iter_mut()
            .filter_map(|ch| match &mut ch.op {
                ApplyOp::Create { id, fields } => Some(Contact {
                    id: *id,
                    org_id: org,
                    fields: std::mem::take(fields),
                    status: ContactStatus::Active,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                }),
                _ => None,
            })
            .collect();
        insert_contacts(conn, &creates.iter().collect::<Vec<_>>()).await?;

        // Updates and deletes apply in batch order. Round `r` writes the `r`-th change of each
        // contact (almost every batch has one round), so a second change of the same contact sees
        // the version the first one left, as it would one statement at a time.
        let mut round_of = Vec::with_capacity(changes.len());
        let mut per_contact: HashMap<ContactId, usize> = HashMap::new();
        for ch in &changes {
            round_of.push(match &ch.op {
                ApplyOp::Update { id, .. } | ApplyOp::Delete { id, .. } => {
                    let n = per_contact.entry(*id).or_default();
                    *n += 1;
                    *n - 1
                }
                _ => 0,
            });
        }
        let rounds = per_contact.values().copied().max().unwrap_or(0);
        // Per change index: the contact before and after a successful write.
        let mut writes: HashMap<usize, (Contact, Contact)> = HashMap::new();
        // Per contact: the change index of its first and of its last successful write (its index
        // rows go from the "before" of the one to the "after" of the other: a soft delete drops
        // the name keys and keeps the e-mail and phone ones, as `set_contact_status` does).
        let mut first_write: HashMap<ContactId, usize> = HashMap::new();
        let mut last_write: HashMap<ContactId, usize> = HashMap::new();
        for round in 0..rounds {
            let mut updates: Vec<ContactUpdate> = Vec::new();
            let mut deletes: Vec<(String, i64)> = Vec::new();
            let mut planned: Vec<(usize, Contact, Contact)> = Vec::new();
            for (i, ch) in changes.iter_mut().enumerate().filter(|(i, _)| round_of[*i] == round) {
                let (id, expected) = match &ch.op {
                    ApplyOp::Update { id, expected_version, .. } | ApplyOp::Delete { id, expected_version } => {
                        (*id, *expected_version)
                    }
                    _ => continue,
                };
                // Taken out while it is written; back in below unless this was its last change.
                let Some(old) = current.remove(&id) else { continue };
                if old.version != expected {
                    current.insert(id, old);
                    continue;
                }
                let new = match &mut ch.op {
                    ApplyOp::Update { fields, .. } => {
                        // The stored columns: the fields without tags and custom, then those two.
                        let mut core = std::mem::take(fields);
                        let (tags, custom) = (std::mem::take(&mut core.tags), std::mem::take(&mut core.custom));
                        let update = ContactUpdate {
                            id: id.to_string(),
                            expected,
                            fields: json(&core)?,
                            tags: json(&tags)?,
                            custom: json(&custom)?,
                            search_text: search_text(&core),
                        };
                        updates.push(update);
                        core.tags = tags;
                        core.custom = custom;
                        // Built field by field: `..old.clone()` would copy fields only to drop them.
                        Contact {
                            id,
                            org_id: old.org_id,
                            fields: core,
                            status: old.status,
                            created_at: old.created_at,
                            updated_at: now,
                            version: old.version + 1,
                        }
                    }
                    _ => {
                        deletes.push((id.to_string(), expected));
                        Contact {
                            status: ContactStatus::Deleted,
                            updated_at: now,
                            version: old.version + 1,
                            ..old.clone()
                        }
                    }
                };
                planned.push((i, old, new));
            }
            let mut done = update_contacts(conn, &org_s, updates, now_db).await?;
            done.extend(soft_delete_contacts(conn, &org_s, deletes, now_db).await?);
            for (i, old, new) in planned {
                let id = new.id;
                if done.contains(&id.to_string()) {
                    first_write.entry(id).or_insert(i);
                    last_write.insert(id, i);
                    if round + 1 < per_contact.get(&id).copied().unwrap_or(0) {
                        current.insert(id, new.clone());
                    }
                    writes.insert(i, (old, new));
                } else {
                    current.insert(id, old);
                }
            }
        }
        // Index rows follow the fields and status of each written contact as the batch left it.
        let refresh: Vec<(&Contact, &Contact)> = first_write
            .iter()
            .filter_map(|(id, first)| {
                let before = &writes.get(first)?.0;
                let after = last_write.get(id).and_then(|last| writes.get(last)).map(|(_, a)| a)?;
                Some((before, after))
            })
            .collect();
        refresh_children(conn, &refresh).await?;
        // Conflicts report the version that is stored now.
        let lost: Vec<ContactId> = changes
            .iter()
            .enumerate()
            .filter_map(|(i, ch)| match &ch.op {
                ApplyOp::Update { id, .. } | ApplyOp::Delete { id, .. } if !writes.contains_key(&i) => Some(*id),
                _ => None,
            })
            .collect();
        let stored: HashMap<ContactId, i64> = if lost.is_empty() {
            HashMap::new()
        } else {
            load_contacts(conn, org, &lost).await?.into_iter().map(|(id, c)| (id, c.version)).collect()
        };

        let mut created: HashMap<ContactId, Contact> = creates.into_iter().map(|c| (c.id, c)).collect();
        let mut report = ApplyReport::default();
        let mut links = Vec::new();
        let mut audits: Vec<AuditRow> = Vec::new();
        let mut results = Vec::with_capacity(changes.len());
        let actor = batch.actor.to_string();
        for (i, ch) in changes.into_iter().enumerate() {
            let (result, written, old, action) = match ch.op {
                ApplyOp::Create { id, .. } => {
                    report.counts.created += 1;
                    let r = ItemResult { outcome: ItemOutcome::Created, contact_id: Some(id), message: None };
                    (r, created.remove(&id), None, "create")
                }
                ApplyOp::Update { id, .. } | ApplyOp::Delete { id, .. } if writes.contains_key(&i) => {
                    let (old, new) = writes.remove(&i).expect("checked");
                    let (outcome, action) = if matches!(ch.op, ApplyOp::Delete { .. }) {
                        report.counts.deleted += 1;
                        (ItemOutcome::Deleted, "delete")
                    } else {
                        report.counts.updated += 1;
                        (ItemOutcome::Updated, "update")
                    };
                    (ItemResult { outcome, contact_id: Some(id), message: None }, Some(new), Some(old), action)
                }
                ApplyOp::Update { id, .. } | ApplyOp::Delete { id, .. } => {
                    report.counts.failed += 1;
                    let message = match stored.get(&id) {
                        Some(v) => format!("contact `{id}` was changed by someone else (current version {v})"),
                        None => format!("contact `{id}` not found"),
                    };
                    let r = ItemResult { outcome: ItemOutcome::Failed, contact_id: Some(id), message: Some(message) };
                    (r, None, None, "")
                }
                ApplyOp::Skip { reason } => {
                    report.counts.skipped += 1;
                    let r = ItemResult { outcome: ItemOutcome::Skipped, contact_id: None, message: Some(reason) };
                    (r, None, None, "")
                }
                ApplyOp::Fail { error } => {
                    report.counts.failed += 1;
                    let r = ItemResult { outcome: ItemOutcome::Failed, contact_id: None, message: Some(error) };
                    (r, None, None, "")
                }
            };
            if let Some(c) = &written {
                if let Some(mut link) = ch.link {
                    link.contact_id = c.id;
                    links.push(link_row(org, &link, now)?);
                }
                // Straight to JSON text: the same document as `serde_json::to_value` then
                // `to_string`, without building a `Value` tree per contact.
                audits.push(audit_row_json(
                    rolodex_domain::AuditId::new_v7(),
                    &org_s,
                    &actor,
                    "contact",
                    c.id.to_string(),
                    action,
                    old.as_ref().map(json).transpose()?,
                    Some(json(c)?),
                    Some(run_s.clone()),
                    now_db,
                ));
            }
            if let Some(c) = written {
                report.contacts.push(c);
            }
            results.push((
                ch.item_id.to_string(),
                result.outcome.as_str().to_owned(),
                result.contact_id.map(|c| c.to_string()),
                result.message.clone(),
            ));
            report.results.push((ch.item_id, result));
        }
        upsert_links(conn, links).await?;
        insert_audit(conn, audits).await?;
        write_results(conn, &run_s, results, now_db).await?;
        let counts = report.counts;
        each!(conn, |c| {
            diesel::update(run_in_org(&org_s, &run_s))
                .set((
                    sync_runs::created_count.eq(sync_runs::created_count + i64_of(counts.created)),
                    sync_runs::updated_count.eq(sync_runs::updated_count + i64_of(counts.updated)),
                    sync_runs::skipped_count.eq(sync_runs::skipped_count + i64_of(counts.skipped)),
                    sync_runs::failed_count.eq(sync_runs::failed_count + i64_of(counts.failed)),
                    sync_runs::deleted_count.eq(sync_runs::deleted_count + i64_of(counts.deleted)),
                ))
                .execute(c)
                .await
        })?;
        if let Some((connection, resource, cursor)) = &batch.cursor {
            set_cursor_in(conn, org, *connection, resource, cursor, now).await?;
        }
        crate::jobs::enqueue_in(conn, org, now, &batch.jobs).await?;
        Ok(report)
    }
}

#[async_trait]
impl SyncRunStore for Store {
    async fn create_run(&self, org: OrgId, run: NewSyncRun) -> Result<SyncRun, SyncStoreError> {
        let now = to_db(self.now());
        let row = RunRow {
            id: run.id.to_string(),
            org_id: org.to_string(),
            user_id: run.user_id.map(|u| u.to_string()),
            connection_id: run.connection_id.map(|c| c.to_string()),
            provider: run.provider,
            kind: run.kind.as_str().to_owned(),
            status: run.status.as_str().to_owned(),
            created_count: 0,
            updated_count: 0,
            skipped_count: 0,
            failed_count: 0,
            deleted_count: 0,
            review_seq: 0,
            filters: json(&run.filters).map_err(DbError::into_port)?,
            error: None,
            created_at: now,
            started_at: (run.status == SyncStatus::Executing).then_some(now),
            completed_at: run.status.is_terminal().then_some(now),
        };
        tx!(self, |conn| Ok(each!(conn, |c| diesel::insert_into(sync_runs::table).values(&row).execute(c).await)?))
            .map_err(|e| match e.into_port::<SyncStoreError>() {
                SyncStoreError::Duplicate(_) => SyncStoreError::Duplicate(format!("sync run `{}`", run.id)),
                other => other,
            })?;
        run_from_row(row).map_err(DbError::into_port)
    }

    async fn get_run(&self, org: OrgId, id: SyncRunId) -> Result<SyncRun, SyncStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let row = read!(self, |conn| load_run(conn, &org_s, &id_s).await).map_err(DbError::into_port)?;
        run_from_row(row.ok_or_else(|| DbError::not_found("sync run", id).into_port::<SyncStoreError>())?)
            .map_err(DbError::into_port)
    }

    async fn list_runs(&self, org: OrgId, filter: &RunFilter) -> Result<Vec<SyncRun>, SyncStoreError> {
        let org_s = org.to_string();
        let limit = i64::from(page_size(filter.limit));
        let (user, status) = (filter.user_id.map(|u| u.to_string()), filter.status.map(SyncStatus::as_str));
        let rows: Vec<RunRow> = read!(self, |conn| {
            let before = match filter.before {
                Some(b) => match load_run(conn, &org_s, &b.to_string()).await? {
                    Some(r) => Some((r.created_at, r.id)),
                    None => return Ok(Vec::new()),
                },
                None => None,
            };
            Ok(each!(conn, |c| {
                let mut q = sync_runs::table.filter(sync_runs::org_id.eq(&org_s)).into_boxed();
                if let Some(u) = &user {
                    q = q.filter(sync_runs::user_id.eq(u));
                }
                if let Some(s) = status {
                    q = q.filter(sync_runs::status.eq(s));
                }
                if let Some(p) = &filter.provider {
                    q = q.filter(sync_runs::provider.eq(p));
                }
                if let Some((at, id)) = &before {
                    q = q.filter(
                        sync_runs::created_at.lt(*at).or(sync_runs::created_at.eq(*at).and(sync_runs::id.lt(id))),
                    );
                }
                q.order((sync_runs::created_at.desc(), sync_runs::id.desc()))
                    .limit(limit)
                    .select(RunRow::as_select())
                    .load(c)
                    .await
            })?)
        })
        .map_err(DbError::into_port)?;
        rows.into_iter().map(run_from_row).collect::<DbResult<Vec<_>>>().map_err(DbError::into_port)
    }

    async fn set_run_status(
        &self,
        org: OrgId,
        id: SyncRunId,
        status: SyncStatus,
        error: Option<&str>,
    ) -> Result<SyncRun, SyncStoreError> {
        let now = to_db(self.now());
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let row = tx!(self, |conn| {
            let mut r = load_run(conn, &org_s, &id_s).await?.ok_or_else(|| DbError::not_found("sync run", id))?;
            if is_terminal(&r.status) {
                return Err(DbError::Invalid(format!("sync run `{id_s}` is already {}", r.status)));
            }
            status.as_str().clone_into(&mut r.status);
            if status == SyncStatus::Executing && r.started_at.is_none() {
                r.started_at = Some(now);
            }
            if status.is_terminal() {
                r.completed_at = Some(now);
            }
            if let Some(e) = error {
                r.error = Some(e.to_owned());
            }
            let r2 = r.clone();
            each!(conn, |c| {
                diesel::update(run_in_org(&org_s, &id_s))
                    .set((
                        sync_runs::status.eq(&r2.status),
                        sync_runs::started_at.eq(r2.started_at),
                        sync_runs::completed_at.eq(r2.completed_at),
                        sync_runs::error.eq(&r2.error),
                    ))
                    .execute(c)
                    .await
            })?;
            Ok(r)
        })
        .map_err(DbError::into_port)?;
        run_from_row(row).map_err(DbError::into_port)
    }

    async fn add_items(&self, org: OrgId, run: SyncRunId, items: Vec<NewSyncItem>) -> Result<(), SyncStoreError> {
        let (org_s, run_s) = (org.to_string(), run.to_string());
        tx!(self, |conn| {
            if load_run(conn, &org_s, &run_s).await?.is_none() {
                return Err(DbError::not_found("sync run", run));
            }
            let last: Option<i64> = each!(conn, |c| {
                sync_items::table
                    .filter(sync_items::run_id.eq(&run_s))
                    .select(diesel::dsl::max(sync_items::position))
                    .first(c)
                    .await
            })?;
            let start = last.map_or(0, |l| l + 1);
            let mut rows = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                rows.push(ItemRow {
                    id: item.id.to_string(),
                    org_id: org_s.clone(),
                    run_id: run_s.clone(),
                    position: start + i64::try_from(i).unwrap_or(i64::MAX),
                    external_id: item.incoming.external_id.clone(),
                    incoming: json(&item.incoming)?,
                    decision: item.decision.as_str().to_owned(),
                    target_contact_id: item.target_contact_id.map(|c| c.to_string()),
                    confidence: item.confidence,
                    diff: json(&item.diff)?,
                    recommendation: json(&item.recommendation)?,
                    review: item.review.as_str().to_owned(),
                });
            }
            insert_batch!(conn, rows, PARAMS_PER_STATEMENT / 16, |chunk| diesel::insert_into(sync_items::table)
                .values(chunk))?;
            Ok(())
        })
        .map_err(|e| match e.into_port::<SyncStoreError>() {
            SyncStoreError::Duplicate(_) => SyncStoreError::Duplicate("sync item".to_owned()),
            other => other,
        })
    }

    async fn get_item(&self, org: OrgId, id: SyncItemId) -> Result<SyncItem, SyncStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let found: Option<(ItemRow, Option<ResultRow>)> = read!(self, |conn| {
            let row: Option<ItemRow> = each!(conn, |c| {
                sync_items::table
                    .filter(sync_items::org_id.eq(&org_s))
                    .filter(sync_items::id.eq(&id_s))
                    .select(ItemRow::as_select())
                    .first(c)
                    .await
                    .optional()
            })?;
            match row {
                Some(row) => {
                    let mut result = results_of(conn, std::slice::from_ref(&row.id)).await?;
                    Ok(Some((row, result.remove(&id_s))))
                }
                None => Ok(None),
            }
        })
        .map_err(DbError::into_port)?;
        let (row, result) = found.ok_or_else(|| DbError::not_found("sync item", id).into_port::<SyncStoreError>())?;
        item_from_row(row, result, false).map_err(DbError::into_port)
    }

    async fn list_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        filter: &ItemFilter,
    ) -> Result<Vec<SyncItem>, SyncStoreError> {
        let (org_s, run_s) = (org.to_string(), run.to_string());
        let limit = i64::from(page_size(filter.limit));
        let (rows, mut results): (Vec<ItemRow>, HashMap<String, ResultRow>) = read!(self, |conn| {
            let rows: Vec<ItemRow> = each!(conn, |c| {
                let mut q = sync_items::table
                    .filter(sync_items::org_id.eq(&org_s))
                    .filter(sync_items::run_id.eq(&run_s))
                    .into_boxed();
                if let Some(d) = filter.decision {
                    q = q.filter(sync_items::decision.eq(d.as_str()));
                }
                if let Some(r) = filter.review {
                    q = q.filter(sync_items::review.eq(r.as_str()));
                }
                if filter.unapplied_only {
                    q = q.filter(unapplied());
                }
                if let Some(p) = filter.after_position {
                    q = q.filter(sync_items::position.gt(p));
                }
                let q = q.order(sync_items::position.asc()).limit(limit);
                if filter.skip_diff {
                    // The diff stays in the database (an empty text in its place).
                    q.select((
                        sync_items::id,
                        sync_items::org_id,
                        sync_items::run_id,
                        sync_items::position,
                        sync_items::external_id,
                        sync_items::incoming,
                        sync_items::decision,
                        sync_items::target_contact_id,
                        sync_items::confidence,
                        diesel::dsl::sql::<diesel::sql_types::Text>("''"),
                        sync_items::recommendation,
                        sync_items::review,
                    ))
                    .load::<ItemRow>(c)
                    .await
                } else {
                    q.select(ItemRow::as_select()).load(c).await
                }
            })?;
            // Unapplied items have no result: nothing to read.
            let results = if filter.unapplied_only {
                HashMap::new()
            } else {
                results_of(conn, &rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>()).await?
            };
            Ok((rows, results))
        })
        .map_err(DbError::into_port)?;
        rows.into_iter()
            .map(|r| {
                let result = results.remove(&r.id);
                item_from_row(r, result, filter.skip_diff)
            })
            .collect::<DbResult<Vec<_>>>()
            .map_err(DbError::into_port)
    }

    async fn review_items(
        &self,
        org: OrgId,
        run: SyncRunId,
        ids: &[SyncItemId],
        review: ReviewState,
    ) -> Result<u64, SyncStoreError> {
        let (org_s, run_s) = (org.to_string(), run.to_string());
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let n = tx!(self, |conn| {
            let mut n = 0usize;
            for chunk in ids.chunks(PARAMS_PER_STATEMENT) {
                // The run's unapplied items among `chunk` (see `items_in_run`), then updated by
                // primary key alone: with `org_id` and `run_id` in the UPDATE's WHERE clause,
                // approving a large run chunk by chunk read the whole run once per chunk
                // (docs/benchmarks.md, round eight). An item never changes run, so the check
                // holds for the update in the same transaction; the update still skips an item
                // applied since.
                let found = items_in_run(conn, &org_s, &run_s, chunk).await?;
                let mine: Vec<String> = found.into_iter().filter(|(_, applied)| !applied).map(|(id, _)| id).collect();
                if mine.is_empty() {
                    continue;
                }
                n += each!(conn, |c| {
                    diesel::update(
                        sync_items::table
                            .filter(sync_items::id.eq_any(&mine))
                            .filter(unapplied())
                            .filter(sync_items::review.ne(review.as_str())),
                    )
                    .set(sync_items::review.eq(review.as_str()))
                    .execute(c)
                    .await
                })?;
            }
            if n > 0 {
                each!(conn, |c| {
                    diesel::update(run_in_org(&org_s, &run_s))
                        .set(sync_runs::review_seq.eq(sync_runs::review_seq + 1))
                        .execute(c)
                        .await
                })?;
            }
            Ok(n)
        })
        .map_err(DbError::into_port)?;
        if n > 0 && matches!(&*self.backend, Backend::Pg(_)) {
            // PostgreSQL keeps the replaced row versions until something prunes them, and
            // `review` is indexed, so each changed item left a dead version behind its primary
            // key. Reading the items back by that key now, while their pages are still cached,
            // prunes those pages and marks the dead index entries, instead of leaving that to the
            // first reader after: execute, which would read each page into the buffer cache again
            // and log it whole (docs/benchmarks.md, round eight). Best effort: the review has
            // committed, so a failure here is only logged.
            let tidied: DbResult<()> = read!(self, |conn| {
                for chunk in ids.chunks(PARAMS_PER_STATEMENT) {
                    each!(conn, |c| {
                        sync_items::table
                            .filter(sync_items::id.eq_any(chunk))
                            .select(sync_items::id)
                            .load::<String>(c)
                            .await
                    })?;
                }
                Ok(())
            });
            if let Err(e) = tidied {
                tracing::warn!(error = %e, "reading reviewed sync items back failed");
            }
        }
        Ok(n as u64)
    }

    /// Runs on its own task: callers keeping several batches in flight
    /// ([`apply_concurrency`](SyncRunStore::apply_concurrency)) get each batch's row building on
    /// another thread, not all on theirs.
    async fn apply_batch(&self, org: OrgId, batch: ApplyBatch) -> Result<ApplyReport, SyncStoreError> {
        let store = self.clone();
        let task = OwnTask::spawn(async move { tx!(store, |conn| store.apply_in(conn, org, batch).await) });
        match task.await {
            Ok(applied) => applied.map_err(DbError::into_port),
            Err(e) => Err(SyncStoreError::Unexpected(format!("the batch's task ended: {e}").into())),
        }
    }

    /// PostgreSQL: half the pool, at most 3 (the rest serves the reads that go on meanwhile).
    /// Batches side by side use the server's other cores, and one batch's client work overlaps
    /// another's statements: several at a time applied about twice as many contacts a second as
    /// one on a 2-core machine, and 3 did about 9 % less work per item than 4 there (less
    /// contention; docs/benchmarks.md, round seven). A bigger server can take more:
    /// `SyncSettings::apply_concurrency`. SQLite has a single writer: 1.
    fn apply_concurrency(&self) -> usize {
        match &*self.backend {
            Backend::Pg(pool) => (pool.status().max_size / 2).clamp(1, 3),
            Backend::Sqlite { .. } => 1,
        }
    }
}

#[async_trait]
impl CursorStore for Store {
    async fn get_cursor(
        &self,
        org: OrgId,
        connection: ConnectionId,
        resource: &str,
    ) -> Result<Option<StoredCursor>, SyncStoreError> {
        let (org_s, conn_s) = (org.to_string(), connection.to_string());
        let row: Option<(String, PrimitiveDateTime)> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                sync_cursors::table
                    .filter(sync_cursors::org_id.eq(&org_s))
                    .filter(sync_cursors::connection_id.eq(&conn_s))
                    .filter(sync_cursors::resource.eq(resource))
                    .select((sync_cursors::cursor_value, sync_cursors::updated_at))
                    .first(c)
                    .await
                    .optional()
            })?)
        })
        .map_err(DbError::into_port)?;
        Ok(row.map(|(v, at)| StoredCursor { cursor: SyncCursor(v), updated_at: from_db(at) }))
    }

    async fn set_cursor(
        &self,
        org: OrgId,
        connection: ConnectionId,
        resource: &str,
        cursor: &SyncCursor,
    ) -> Result<(), SyncStoreError> {
        let now = self.now();
        tx!(self, |conn| set_cursor_in(conn, org, connection, resource, cursor, now).await).map_err(DbError::into_port)
    }

    async fn clear_cursor(&self, org: OrgId, connection: ConnectionId, resource: &str) -> Result<bool, SyncStoreError> {
        let (org_s, conn_s) = (org.to_string(), connection.to_string());
        let n = tx!(self, |conn| {
            Ok(each!(conn, |c| {
                diesel::delete(
                    sync_cursors::table
                        .filter(sync_cursors::org_id.eq(&org_s))
                        .filter(sync_cursors::connection_id.eq(&conn_s))
                        .filter(sync_cursors::resource.eq(resource)),
                )
                .execute(c)
                .await
            })?)
        })
        .map_err(DbError::into_port)?;
        Ok(n > 0)
    }
}

#[async_trait]
impl WebhookReceiptStore for Store {
    async fn record_receipt(
        &self,
        org: OrgId,
        receipt: NewWebhookReceipt,
        jobs: &[NewJob],
    ) -> Result<ReceiptOutcome, SyncStoreError> {
        let now = self.now();
        let row = ReceiptRow {
            id: receipt.id.to_string(),
            org_id: org.to_string(),
            provider: receipt.provider.clone(),
            delivery_id: receipt.delivery_id.clone(),
            connection_id: receipt.connection_id.map(|c| c.to_string()),
            payload: json(&receipt.payload).map_err(DbError::into_port)?,
            received_at: to_db(now),
            processed_at: None,
            error: None,
        };
        tx!(self, |conn| {
            let inserted = each!(conn, |c| {
                diesel::insert_into(webhook_receipts::table)
                    .values(&row)
                    .on_conflict((webhook_receipts::org_id, webhook_receipts::provider, webhook_receipts::delivery_id))
                    .do_nothing()
                    .execute(c)
                    .await
            })?;
            if inserted == 1 {
                crate::jobs::enqueue_in(conn, org, now, jobs).await?;
                return Ok(ReceiptOutcome::New(receipt.id));
            }
            let first: String = each!(conn, |c| {
                webhook_receipts::table
                    .filter(webhook_receipts::org_id.eq(&row.org_id))
                    .filter(webhook_receipts::provider.eq(&row.provider))
                    .filter(webhook_receipts::delivery_id.eq(&row.delivery_id))
                    .select(webhook_receipts::id)
                    .first(c)
                    .await
            })?;
            Ok(ReceiptOutcome::Duplicate(parse_id::<WebhookReceiptId>("receipt id", &first)?))
        })
        .map_err(DbError::into_port)
    }

    async fn get_receipt(&self, org: OrgId, id: WebhookReceiptId) -> Result<WebhookReceipt, SyncStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let row: Option<ReceiptRow> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                webhook_receipts::table
                    .filter(webhook_receipts::org_id.eq(&org_s))
                    .filter(webhook_receipts::id.eq(&id_s))
                    .select(ReceiptRow::as_select())
                    .first(c)
                    .await
                    .optional()
            })?)
        })
        .map_err(DbError::into_port)?;
        receipt_from_row(row.ok_or_else(|| DbError::not_found("webhook receipt", id).into_port::<SyncStoreError>())?)
            .map_err(DbError::into_port)
    }

    async fn mark_receipt_processed(
        &self,
        org: OrgId,
        id: WebhookReceiptId,
        error: Option<&str>,
    ) -> Result<(), SyncStoreError> {
        let now = to_db(self.now());
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let n = tx!(self, |conn| {
            Ok(each!(conn, |c| {
                diesel::update(
                    webhook_receipts::table
                        .filter(webhook_receipts::org_id.eq(&org_s))
                        .filter(webhook_receipts::id.eq(&id_s)),
                )
                .set((webhook_receipts::processed_at.eq(Some(now)), webhook_receipts::error.eq(error)))
                .execute(c)
                .await
            })?)
        })
        .map_err(DbError::into_port)?;
        if n == 0 { Err(DbError::not_found("webhook receipt", id).into_port()) } else { Ok(()) }
    }
}
