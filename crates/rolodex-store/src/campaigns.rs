//! [`CampaignStore`] on `campaigns` and `campaign_messages`. A message's state changes only by
//! compare-and-set (`UPDATE … WHERE state = from`), so two senders never both take a message.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rolodex_domain::ports::storage::{
    Campaign, CampaignFilter, CampaignMessage, CampaignStatus, CampaignStore, CampaignStoreError, MessageCounts,
    MessageState, NewCampaign, NewCampaignMessage, NewJob, page_size,
};
use rolodex_domain::{CampaignId, CampaignMessageId, OrgId};
use time::PrimitiveDateTime;

use crate::backend::{Conn, each, insert_batch, read, tx};
use crate::contacts::PARAMS_PER_STATEMENT;
use crate::error::{DbError, DbResult};
use crate::schema::{campaign_messages, campaigns};
use crate::{Store, from_db, json, parse_id, to_db, unjson};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns, treat_none_as_default_value = false)]
struct CampaignRow {
    id: String,
    org_id: String,
    user_id: Option<String>,
    name: String,
    status: String,
    subject_template: String,
    body_template: String,
    target: String,
    tone: Option<String>,
    estimated_cost_micro_usd: i64,
    total_cost_micro_usd: i64,
    created_at: PrimitiveDateTime,
    updated_at: PrimitiveDateTime,
    finished_at: Option<PrimitiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaign_messages, treat_none_as_default_value = false)]
struct MessageRow {
    id: String,
    org_id: String,
    campaign_id: String,
    contact_id: String,
    to_address: String,
    subject: String,
    body: String,
    state: String,
    reason: Option<String>,
    provider_message_id: Option<String>,
    sent_at: Option<PrimitiveDateTime>,
    updated_at: PrimitiveDateTime,
}

fn campaign_from_row(r: CampaignRow) -> DbResult<Campaign> {
    Ok(Campaign {
        id: parse_id("campaign id", &r.id)?,
        user_id: r.user_id.as_deref().map(|u| parse_id("user id", u)).transpose()?,
        name: r.name,
        status: CampaignStatus::parse(&r.status).map_err(DbError::corrupt)?,
        subject_template: r.subject_template,
        body_template: r.body_template,
        target: unjson("campaign target", &r.target)?,
        tone: r.tone,
        estimated_cost_micro_usd: u64::try_from(r.estimated_cost_micro_usd).unwrap_or(0),
        total_cost_micro_usd: u64::try_from(r.total_cost_micro_usd).unwrap_or(0),
        created_at: from_db(r.created_at),
        updated_at: from_db(r.updated_at),
        finished_at: r.finished_at.map(from_db),
    })
}

fn message_from_row(r: MessageRow) -> DbResult<CampaignMessage> {
    Ok(CampaignMessage {
        id: parse_id("message id", &r.id)?,
        campaign_id: parse_id("campaign id", &r.campaign_id)?,
        contact_id: parse_id("contact id", &r.contact_id)?,
        to_address: r.to_address,
        subject: r.subject,
        body: r.body,
        state: MessageState::parse(&r.state).map_err(DbError::corrupt)?,
        reason: r.reason,
        provider_message_id: r.provider_message_id,
        sent_at: r.sent_at.map(from_db),
        updated_at: from_db(r.updated_at),
    })
}

fn is_finished(s: CampaignStatus) -> bool {
    matches!(s, CampaignStatus::Completed | CampaignStatus::Failed | CampaignStatus::Cancelled)
}

fn cerr(e: DbError) -> CampaignStoreError {
    e.into_port()
}

async fn load_campaign(conn: &mut Conn<'_>, org: &str, id: &str) -> DbResult<Option<CampaignRow>> {
    Ok(each!(conn, |c| {
        campaigns::table
            .filter(campaigns::org_id.eq(org))
            .filter(campaigns::id.eq(id))
            .select(CampaignRow::as_select())
            .first(c)
            .await
            .optional()
    })?)
}

async fn load_message(conn: &mut Conn<'_>, org: &str, id: &str) -> DbResult<Option<MessageRow>> {
    Ok(each!(conn, |c| {
        campaign_messages::table
            .filter(campaign_messages::org_id.eq(org))
            .filter(campaign_messages::id.eq(id))
            .select(MessageRow::as_select())
            .first(c)
            .await
            .optional()
    })?)
}

#[async_trait]
impl CampaignStore for Store {
    async fn create_campaign(&self, org: OrgId, new: NewCampaign) -> Result<Campaign, CampaignStoreError> {
        if new.name.trim().is_empty() {
            return Err(CampaignStoreError::Invalid("a campaign needs a name".to_owned()));
        }
        let now = to_db(self.now());
        let row = CampaignRow {
            id: new.id.to_string(),
            org_id: org.to_string(),
            user_id: new.user_id.map(|u| u.to_string()),
            name: new.name,
            status: CampaignStatus::Draft.as_str().to_owned(),
            subject_template: new.subject_template,
            body_template: new.body_template,
            target: json(&new.target).map_err(cerr)?,
            tone: new.tone,
            estimated_cost_micro_usd: i64::try_from(new.estimated_cost_micro_usd).unwrap_or(i64::MAX),
            total_cost_micro_usd: 0,
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        tx!(self, |conn| Ok(each!(conn, |c| diesel::insert_into(campaigns::table).values(&row).execute(c).await)?))
            .map_err(|e| match cerr(e) {
                CampaignStoreError::Duplicate(_) => CampaignStoreError::Duplicate(format!("campaign `{}`", new.id)),
                other => other,
            })?;
        campaign_from_row(row).map_err(cerr)
    }

    async fn get_campaign(&self, org: OrgId, id: CampaignId) -> Result<Campaign, CampaignStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let row = read!(self, |conn| load_campaign(conn, &org_s, &id_s).await).map_err(cerr)?;
        campaign_from_row(row.ok_or_else(|| cerr(DbError::not_found("campaign", id)))?).map_err(cerr)
    }

    async fn list_campaigns(&self, org: OrgId, filter: &CampaignFilter) -> Result<Vec<Campaign>, CampaignStoreError> {
        let org_s = org.to_string();
        let limit = i64::from(page_size(filter.limit));
        let user = filter.user_id.map(|u| u.to_string());
        let rows: Vec<CampaignRow> = read!(self, |conn| {
            let before = match filter.before {
                Some(b) => match load_campaign(conn, &org_s, &b.to_string()).await? {
                    Some(r) => Some((r.created_at, r.id)),
                    None => return Ok(Vec::new()),
                },
                None => None,
            };
            Ok(each!(conn, |c| {
                let mut q = campaigns::table.filter(campaigns::org_id.eq(&org_s)).into_boxed();
                if let Some(u) = &user {
                    q = q.filter(campaigns::user_id.eq(u));
                }
                if let Some(s) = filter.status {
                    q = q.filter(campaigns::status.eq(s.as_str()));
                }
                if let Some((at, id)) = &before {
                    q = q.filter(
                        campaigns::created_at.lt(*at).or(campaigns::created_at.eq(*at).and(campaigns::id.lt(id))),
                    );
                }
                q.order((campaigns::created_at.desc(), campaigns::id.desc()))
                    .limit(limit)
                    .select(CampaignRow::as_select())
                    .load(c)
                    .await
            })?)
        })
        .map_err(cerr)?;
        rows.into_iter().map(campaign_from_row).collect::<DbResult<Vec<_>>>().map_err(cerr)
    }

    async fn set_campaign_status(
        &self,
        org: OrgId,
        id: CampaignId,
        status: CampaignStatus,
        jobs: &[NewJob],
    ) -> Result<Campaign, CampaignStoreError> {
        let now = self.now();
        let now_db = to_db(now);
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let row = tx!(self, |conn| {
            let mut r = load_campaign(conn, &org_s, &id_s).await?.ok_or_else(|| DbError::not_found("campaign", id))?;
            let current = CampaignStatus::parse(&r.status).map_err(DbError::corrupt)?;
            if is_finished(current) {
                return Err(DbError::Invalid(format!("campaign `{id_s}` is already {current}")));
            }
            status.as_str().clone_into(&mut r.status);
            r.updated_at = now_db;
            if is_finished(status) {
                r.finished_at = Some(now_db);
            }
            let r2 = r.clone();
            each!(conn, |c| {
                diesel::update(campaigns::table.filter(campaigns::org_id.eq(&org_s)).filter(campaigns::id.eq(&id_s)))
                    .set((
                        campaigns::status.eq(&r2.status),
                        campaigns::updated_at.eq(r2.updated_at),
                        campaigns::finished_at.eq(r2.finished_at),
                    ))
                    .execute(c)
                    .await
            })?;
            crate::jobs::enqueue_in(conn, org, now, jobs).await?;
            Ok(r)
        })
        .map_err(cerr)?;
        campaign_from_row(row).map_err(cerr)
    }

    async fn add_campaign_cost(&self, org: OrgId, id: CampaignId, micro_usd: u64) -> Result<(), CampaignStoreError> {
        let now = to_db(self.now());
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let add = i64::try_from(micro_usd).unwrap_or(i64::MAX);
        let n = tx!(self, |conn| {
            Ok(each!(conn, |c| {
                diesel::update(campaigns::table.filter(campaigns::org_id.eq(&org_s)).filter(campaigns::id.eq(&id_s)))
                    .set((
                        campaigns::total_cost_micro_usd.eq(campaigns::total_cost_micro_usd + add),
                        campaigns::updated_at.eq(now),
                    ))
                    .execute(c)
                    .await
            })?)
        })
        .map_err(cerr)?;
        if n == 0 { Err(cerr(DbError::not_found("campaign", id))) } else { Ok(()) }
    }

    async fn add_messages(
        &self,
        org: OrgId,
        campaign: CampaignId,
        messages: Vec<NewCampaignMessage>,
    ) -> Result<(), CampaignStoreError> {
        let now = to_db(self.now());
        let (org_s, campaign_s) = (org.to_string(), campaign.to_string());
        let rows: Vec<MessageRow> = messages
            .into_iter()
            .map(|m| MessageRow {
                id: m.id.to_string(),
                org_id: org_s.clone(),
                campaign_id: campaign_s.clone(),
                contact_id: m.contact_id.to_string(),
                to_address: m.to_address,
                subject: m.subject,
                body: m.body,
                state: m.state.as_str().to_owned(),
                reason: m.reason,
                provider_message_id: None,
                sent_at: None,
                updated_at: now,
            })
            .collect();
        tx!(self, |conn| {
            if load_campaign(conn, &org_s, &campaign_s).await?.is_none() {
                return Err(DbError::not_found("campaign", campaign));
            }
            insert_batch!(conn, rows, PARAMS_PER_STATEMENT / 12, |chunk| diesel::insert_into(
                campaign_messages::table
            )
            .values(chunk))?;
            Ok(())
        })
        .map_err(cerr)
    }

    async fn list_messages(
        &self,
        org: OrgId,
        campaign: CampaignId,
        state: Option<MessageState>,
        after: Option<CampaignMessageId>,
        limit: u32,
    ) -> Result<Vec<CampaignMessage>, CampaignStoreError> {
        let (org_s, campaign_s) = (org.to_string(), campaign.to_string());
        let after = after.map(|a| a.to_string());
        let limit = i64::from(page_size(limit));
        let rows: Vec<MessageRow> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                let mut q = campaign_messages::table
                    .filter(campaign_messages::org_id.eq(&org_s))
                    .filter(campaign_messages::campaign_id.eq(&campaign_s))
                    .into_boxed();
                if let Some(s) = state {
                    q = q.filter(campaign_messages::state.eq(s.as_str()));
                }
                if let Some(a) = &after {
                    q = q.filter(campaign_messages::id.gt(a));
                }
                q.order(campaign_messages::id.asc()).limit(limit).select(MessageRow::as_select()).load(c).await
            })?)
        })
        .map_err(cerr)?;
        rows.into_iter().map(message_from_row).collect::<DbResult<Vec<_>>>().map_err(cerr)
    }

    async fn edit_message(
        &self,
        org: OrgId,
        id: CampaignMessageId,
        subject: &str,
        body: &str,
    ) -> Result<CampaignMessage, CampaignStoreError> {
        let now = to_db(self.now());
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let row = tx!(self, |conn| {
            let n = each!(conn, |c| {
                diesel::update(
                    campaign_messages::table
                        .filter(campaign_messages::org_id.eq(&org_s))
                        .filter(campaign_messages::id.eq(&id_s))
                        .filter(campaign_messages::state.eq(MessageState::Queued.as_str())),
                )
                .set((
                    campaign_messages::subject.eq(subject),
                    campaign_messages::body.eq(body),
                    campaign_messages::updated_at.eq(now),
                ))
                .execute(c)
                .await
            })?;
            let row =
                load_message(conn, &org_s, &id_s).await?.ok_or_else(|| DbError::not_found("campaign message", id))?;
            if n == 0 {
                return Err(DbError::Invalid(format!("campaign message `{id_s}` is {}, not queued", row.state)));
            }
            Ok(row)
        })
        .map_err(cerr)?;
        message_from_row(row).map_err(cerr)
    }

    async fn transition_message(
        &self,
        org: OrgId,
        id: CampaignMessageId,
        from: MessageState,
        to: MessageState,
        reason: Option<&str>,
        provider_message_id: Option<&str>,
    ) -> Result<bool, CampaignStoreError> {
        let now = to_db(self.now());
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let sent = to == MessageState::Sent;
        tx!(self, |conn| {
            let n = each!(conn, |c| {
                let target = campaign_messages::table
                    .filter(campaign_messages::org_id.eq(&org_s))
                    .filter(campaign_messages::id.eq(&id_s))
                    .filter(campaign_messages::state.eq(from.as_str()));
                if sent {
                    diesel::update(target)
                        .set((
                            campaign_messages::state.eq(to.as_str()),
                            campaign_messages::reason.eq(reason),
                            campaign_messages::provider_message_id.eq(provider_message_id),
                            campaign_messages::sent_at.eq(Some(now)),
                            campaign_messages::updated_at.eq(now),
                        ))
                        .execute(c)
                        .await
                } else {
                    diesel::update(target)
                        .set((
                            campaign_messages::state.eq(to.as_str()),
                            campaign_messages::reason.eq(reason),
                            campaign_messages::updated_at.eq(now),
                        ))
                        .execute(c)
                        .await
                }
            })?;
            if n == 0 && load_message(conn, &org_s, &id_s).await?.is_none() {
                return Err(DbError::not_found("campaign message", id));
            }
            Ok(n == 1)
        })
        .map_err(cerr)
    }

    async fn message_counts(&self, org: OrgId, campaign: CampaignId) -> Result<MessageCounts, CampaignStoreError> {
        let (org_s, campaign_s) = (org.to_string(), campaign.to_string());
        let rows: Vec<(String, i64)> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                campaign_messages::table
                    .filter(campaign_messages::org_id.eq(&org_s))
                    .filter(campaign_messages::campaign_id.eq(&campaign_s))
                    .group_by(campaign_messages::state)
                    .select((campaign_messages::state, diesel::dsl::count_star()))
                    .load(c)
                    .await
            })?)
        })
        .map_err(cerr)?;
        let mut n = MessageCounts::default();
        for (state, count) in rows {
            let count = u64::try_from(count).unwrap_or(0);
            match MessageState::parse(&state).map_err(|e| cerr(DbError::corrupt(e)))? {
                MessageState::Queued => n.queued += count,
                MessageState::Sending => n.sending += count,
                MessageState::Sent => n.sent += count,
                MessageState::Failed => n.failed += count,
                MessageState::Skipped => n.skipped += count,
            }
        }
        Ok(n)
    }
}
