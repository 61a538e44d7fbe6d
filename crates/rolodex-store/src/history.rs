//! [`AuditLog`] on `audit_log` (append-only; the batched apply writes its rows through
//! [`audit_row`]) and [`ActivityStore`] on `contact_activities`, which also moves the contact's
//! `last_contacted_at` forward for `email_sent`.

use std::collections::HashSet;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rolodex_domain::ports::storage::{
    Activity, ActivityStore, Actor, AuditEntry, AuditFilter, AuditLog, HistoryStoreError, NewAuditEntry, page_size,
};
use rolodex_domain::{ContactId, OrgId};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::backend::{Conn, each, insert_batch, read, tx};
use crate::contacts::{PARAMS_PER_STATEMENT, UNNEST_ROWS, col};
use crate::error::{DbError, DbResult};
use crate::schema::{audit_log, contact_activities, contacts};
use crate::{Store, from_db, json, parse_id, to_db, unjson};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub(crate) struct AuditRow {
    id: String,
    org_id: String,
    actor: String,
    entity_type: String,
    entity_id: String,
    action: String,
    before_json: Option<String>,
    after_json: Option<String>,
    run_id: Option<String>,
    at: PrimitiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contact_activities, treat_none_as_default_value = false)]
struct ActivityRow {
    id: String,
    org_id: String,
    contact_id: String,
    kind: String,
    summary: String,
    data: String,
    campaign_id: Option<String>,
    occurred_at: PrimitiveDateTime,
}

/// The stored form of an audit entry.
pub(crate) fn audit_row(org: OrgId, e: &NewAuditEntry, at: OffsetDateTime) -> DbResult<AuditRow> {
    Ok(AuditRow {
        id: e.id.to_string(),
        org_id: org.to_string(),
        actor: e.actor.to_string(),
        entity_type: e.entity_type.clone(),
        entity_id: e.entity_id.clone(),
        action: e.action.clone(),
        before_json: e.before.as_ref().map(json).transpose()?,
        after_json: e.after.as_ref().map(json).transpose()?,
        run_id: e.run_id.map(|r| r.to_string()),
        at: to_db(at),
    })
}

/// An audit row whose `before` / `after` are already serialised (the batched apply writes the
/// contacts straight to JSON text, without a `serde_json::Value` in between).
#[allow(clippy::too_many_arguments, reason = "one argument per column")]
pub(crate) fn audit_row_json(
    id: rolodex_domain::AuditId,
    org: &str,
    actor: &str,
    entity_type: &str,
    entity_id: String,
    action: &str,
    before_json: Option<String>,
    after_json: Option<String>,
    run_id: Option<String>,
    at: PrimitiveDateTime,
) -> AuditRow {
    AuditRow {
        id: id.to_string(),
        org_id: org.to_owned(),
        actor: actor.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_id,
        action: action.to_owned(),
        before_json,
        after_json,
        run_id,
        at,
    }
}

const PG_INSERT_AUDIT: &str = "INSERT INTO audit_log (id, org_id, actor, entity_type, entity_id, action, before_json, \
     after_json, run_id, at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
     $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamp[])";

/// Appends audit rows: `INSERT … SELECT * FROM unnest(…)` on PostgreSQL, multi-row INSERTs on
/// SQLite.
pub(crate) async fn insert_audit(conn: &mut Conn<'_>, rows: Vec<AuditRow>) -> DbResult<()> {
    if let Conn::Pg(c) = conn {
        use diesel::sql_types::{Array, Nullable, Text, Timestamp};
        for chunk in rows.chunks(UNNEST_ROWS) {
            diesel::sql_query(PG_INSERT_AUDIT)
                .bind::<Array<Text>, _>(col(chunk, |r| r.id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.org_id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.actor.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.entity_type.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.entity_id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.action.as_str()))
                .bind::<Array<Nullable<Text>>, _>(col(chunk, |r| r.before_json.as_deref()))
                .bind::<Array<Nullable<Text>>, _>(col(chunk, |r| r.after_json.as_deref()))
                .bind::<Array<Nullable<Text>>, _>(col(chunk, |r| r.run_id.as_deref()))
                .bind::<Array<Timestamp>, _>(col(chunk, |r| r.at))
                .execute(&mut **c)
                .await?;
        }
        return Ok(());
    }
    insert_batch!(conn, rows, PARAMS_PER_STATEMENT / 10, |chunk| diesel::insert_into(audit_log::table).values(chunk))?;
    Ok(())
}

fn audit_from_row(r: AuditRow) -> DbResult<AuditEntry> {
    Ok(AuditEntry {
        entry: NewAuditEntry {
            id: parse_id("audit id", &r.id)?,
            actor: Actor::parse(&r.actor).map_err(DbError::corrupt)?,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            action: r.action,
            before: r.before_json.as_deref().map(|s| unjson("audit before", s)).transpose()?,
            after: r.after_json.as_deref().map(|s| unjson("audit after", s)).transpose()?,
            run_id: r.run_id.as_deref().map(|s| parse_id("run id", s)).transpose()?,
        },
        at: from_db(r.at),
    })
}

fn activity_from_row(r: ActivityRow) -> DbResult<Activity> {
    Ok(Activity {
        id: parse_id("activity id", &r.id)?,
        contact_id: parse_id("contact id", &r.contact_id)?,
        kind: r.kind,
        summary: r.summary,
        data: unjson("activity data", &r.data)?,
        campaign_id: r.campaign_id.as_deref().map(|s| parse_id("campaign id", s)).transpose()?,
        occurred_at: from_db(r.occurred_at),
    })
}

fn history_error(e: DbError) -> HistoryStoreError {
    e.into_port()
}

#[async_trait]
impl AuditLog for Store {
    async fn record_audit(&self, org: OrgId, entries: Vec<NewAuditEntry>) -> Result<(), HistoryStoreError> {
        let now = self.now();
        let rows =
            entries.iter().map(|e| audit_row(org, e, now)).collect::<DbResult<Vec<_>>>().map_err(history_error)?;
        tx!(self, |conn| insert_audit(conn, rows).await).map_err(history_error)
    }

    async fn list_audit(&self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEntry>, HistoryStoreError> {
        let org_s = org.to_string();
        let limit = i64::from(page_size(filter.limit));
        let run = filter.run_id.map(|r| r.to_string());
        let rows: Vec<AuditRow> = read!(self, |conn| {
            let before: Option<(PrimitiveDateTime, String)> = match filter.before {
                Some(b) => {
                    let b = b.to_string();
                    let found = each!(conn, |c| {
                        audit_log::table
                            .filter(audit_log::org_id.eq(&org_s))
                            .filter(audit_log::id.eq(&b))
                            .select(audit_log::at)
                            .first::<PrimitiveDateTime>(c)
                            .await
                            .optional()
                    })?;
                    match found {
                        Some(at) => Some((at, b)),
                        None => return Ok(Vec::new()),
                    }
                }
                None => None,
            };
            Ok(each!(conn, |c| {
                let mut q = audit_log::table.filter(audit_log::org_id.eq(&org_s)).into_boxed();
                if let Some(t) = &filter.entity_type {
                    q = q.filter(audit_log::entity_type.eq(t));
                }
                if let Some(i) = &filter.entity_id {
                    q = q.filter(audit_log::entity_id.eq(i));
                }
                if let Some(r) = &run {
                    q = q.filter(audit_log::run_id.eq(r));
                }
                if let Some((at, id)) = &before {
                    q = q.filter(audit_log::at.lt(*at).or(audit_log::at.eq(*at).and(audit_log::id.lt(id))));
                }
                q.order((audit_log::at.desc(), audit_log::id.desc()))
                    .limit(limit)
                    .select(AuditRow::as_select())
                    .load(c)
                    .await
            })?)
        })
        .map_err(history_error)?;
        rows.into_iter().map(audit_from_row).collect::<DbResult<Vec<_>>>().map_err(history_error)
    }
}

#[async_trait]
impl ActivityStore for Store {
    async fn add_activities(&self, org: OrgId, activities: Vec<Activity>) -> Result<(), HistoryStoreError> {
        let org_s = org.to_string();
        let rows = activities
            .iter()
            .map(|a| {
                Ok(ActivityRow {
                    id: a.id.to_string(),
                    org_id: org_s.clone(),
                    contact_id: a.contact_id.to_string(),
                    kind: a.kind.clone(),
                    summary: a.summary.clone(),
                    data: json(&a.data)?,
                    campaign_id: a.campaign_id.map(|c| c.to_string()),
                    occurred_at: to_db(a.occurred_at),
                })
            })
            .collect::<DbResult<Vec<_>>>()
            .map_err(history_error)?;
        let sent: Vec<(String, PrimitiveDateTime)> =
            rows.iter().filter(|r| r.kind == "email_sent").map(|r| (r.contact_id.clone(), r.occurred_at)).collect();
        let wanted: Vec<String> =
            rows.iter().map(|r| r.contact_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        tx!(self, |conn| {
            let mut found = HashSet::new();
            for chunk in wanted.chunks(PARAMS_PER_STATEMENT) {
                let ids: Vec<String> = each!(conn, |c| {
                    contacts::table
                        .filter(contacts::org_id.eq(&org_s))
                        .filter(contacts::id.eq_any(chunk))
                        .select(contacts::id)
                        .load(c)
                        .await
                })?;
                found.extend(ids);
            }
            if let Some(missing) = wanted.iter().find(|w| !found.contains(*w)) {
                return Err(DbError::not_found("contact", missing));
            }
            insert_batch!(conn, rows, PARAMS_PER_STATEMENT / 8, |chunk| diesel::insert_into(
                contact_activities::table
            )
            .values(chunk))?;
            for (contact, at) in &sent {
                each!(conn, |c| {
                    diesel::update(
                        contacts::table
                            .filter(contacts::org_id.eq(&org_s))
                            .filter(contacts::id.eq(contact))
                            .filter(contacts::last_contacted_at.is_null().or(contacts::last_contacted_at.lt(*at))),
                    )
                    .set(contacts::last_contacted_at.eq(Some(*at)))
                    .execute(c)
                    .await
                })?;
            }
            Ok(())
        })
        .map_err(|e| match e {
            DbError::Diesel(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => HistoryStoreError::Duplicate("activity".to_owned()),
            other => other.into_port(),
        })
    }

    async fn timeline(
        &self,
        org: OrgId,
        contact: ContactId,
        before: Option<OffsetDateTime>,
        limit: u32,
    ) -> Result<Vec<Activity>, HistoryStoreError> {
        let (org_s, contact_s) = (org.to_string(), contact.to_string());
        let limit = i64::from(page_size(limit));
        let rows: Vec<ActivityRow> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                let mut q = contact_activities::table
                    .filter(contact_activities::org_id.eq(&org_s))
                    .filter(contact_activities::contact_id.eq(&contact_s))
                    .into_boxed();
                if let Some(b) = before {
                    q = q.filter(contact_activities::occurred_at.lt(to_db(b)));
                }
                q.order((contact_activities::occurred_at.desc(), contact_activities::id.desc()))
                    .limit(limit)
                    .select(ActivityRow::as_select())
                    .load(c)
                    .await
            })?)
        })
        .map_err(history_error)?;
        rows.into_iter().map(activity_from_row).collect::<DbResult<Vec<_>>>().map_err(history_error)
    }

    async fn last_contacted_at(
        &self,
        org: OrgId,
        contact: ContactId,
    ) -> Result<Option<OffsetDateTime>, HistoryStoreError> {
        let (org_s, contact_s) = (org.to_string(), contact.to_string());
        let at: Option<Option<PrimitiveDateTime>> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                contacts::table
                    .filter(contacts::org_id.eq(&org_s))
                    .filter(contacts::id.eq(&contact_s))
                    .select(contacts::last_contacted_at)
                    .first(c)
                    .await
                    .optional()
            })?)
        })
        .map_err(history_error)?;
        Ok(at.flatten().map(from_db))
    }
}
