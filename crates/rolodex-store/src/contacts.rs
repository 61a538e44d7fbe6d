//! [`ContactStore`] and [`LinkStore`]: contact rows plus their index rows (emails by matching key,
//! phones by E.164, blocking keys), refreshed in the same transaction as every write; and the
//! batched helpers the apply path shares.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use rolodex_domain::matching::index::BlockLimits;
use rolodex_domain::matching::{BlockingKey, KeyKind, blocking_keys, same_key_inputs};
use rolodex_domain::ports::storage::{
    CandidateLimits, ContactQuery, ContactStore, ContactStoreError, LinkStore, NewContact, NewJob, ProviderLink,
    page_size, rank_candidates,
};
use rolodex_domain::{ConnectionId, Contact, ContactFields, ContactId, ContactStatus, OrgId};
use time::PrimitiveDateTime;

use crate::backend::{Conn, each, insert_batch, read, tx};
use crate::error::{DbError, DbResult};
use crate::schema::{connections, contact_keys, contacts, provider_links};
use crate::{Store, from_db, json, parse_id, to_db, unjson};

/// Rows per multi-row INSERT: keeps every statement under both backends' bind-parameter limits.
pub(crate) const PARAMS_PER_STATEMENT: usize = 30_000;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contacts, treat_none_as_default_value = false)]
pub(crate) struct ContactRow {
    pub id: String,
    pub org_id: String,
    pub status: String,
    pub search_text: String,
    pub fields: String,
    pub tags: String,
    pub custom: String,
    pub version: i64,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    pub last_contacted_at: Option<PrimitiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Queryable, Selectable, Insertable)]
#[diesel(table_name = contact_keys, treat_none_as_default_value = false)]
struct KeyRow {
    contact_id: String,
    kind: String,
    value: String,
    org_id: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = provider_links, treat_none_as_default_value = false)]
pub(crate) struct LinkRow {
    pub connection_id: String,
    pub external_id: String,
    pub org_id: String,
    pub contact_id: String,
    pub external_version: Option<String>,
    pub snapshot: Option<String>,
    pub snapshot_hash: Option<String>,
    pub remote_updated_at: Option<PrimitiveDateTime>,
    pub synced_at: PrimitiveDateTime,
}

pub(crate) fn status_str(s: ContactStatus) -> &'static str {
    match s {
        ContactStatus::Active => "active",
        ContactStatus::Inactive => "inactive",
        ContactStatus::Deleted => "deleted",
    }
}

fn parse_status(s: &str) -> DbResult<ContactStatus> {
    match s {
        "active" => Ok(ContactStatus::Active),
        "inactive" => Ok(ContactStatus::Inactive),
        "deleted" => Ok(ContactStatus::Deleted),
        other => Err(DbError::corrupt(format!("contact status `{other}`"))),
    }
}

/// Lower-cased, accent-folded text that name search matches against.
pub(crate) fn search_text(f: &ContactFields) -> String {
    [f.given_name.as_deref(), f.family_name.as_deref(), f.display_name.as_deref(), f.company.as_deref()]
        .into_iter()
        .flatten()
        .map(rolodex_domain::name::fold)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stored form of a contact.
pub(crate) fn to_row(c: &Contact, last_contacted_at: Option<PrimitiveDateTime>) -> DbResult<ContactRow> {
    let mut core = c.fields.clone();
    let tags = std::mem::take(&mut core.tags);
    let custom = std::mem::take(&mut core.custom);
    Ok(ContactRow {
        id: c.id.to_string(),
        org_id: c.org_id.to_string(),
        status: status_str(c.status).to_owned(),
        search_text: search_text(&c.fields),
        fields: json(&core)?,
        tags: json(&tags)?,
        custom: json(&custom)?,
        version: c.version,
        created_at: to_db(c.created_at),
        updated_at: to_db(c.updated_at),
        last_contacted_at,
    })
}

pub(crate) fn from_row(r: ContactRow) -> DbResult<Contact> {
    let mut fields: ContactFields = unjson("contact fields", &r.fields)?;
    fields.tags = unjson::<BTreeSet<String>>("contact tags", &r.tags)?;
    fields.custom = unjson::<BTreeMap<String, serde_json::Value>>("contact custom", &r.custom)?;
    Ok(Contact {
        id: parse_id("contact id", &r.id)?,
        org_id: parse_id("org id", &r.org_id)?,
        fields,
        status: parse_status(&r.status)?,
        created_at: from_db(r.created_at),
        updated_at: from_db(r.updated_at),
        version: r.version,
    })
}

/// Rows per PostgreSQL `INSERT … SELECT * FROM unnest(…)` statement. The rows travel as one
/// array per column (a dozen bind values, whatever the row count), so the statement text is fixed
/// and prepared once per connection; only memory bounds the chunk.
pub(crate) const UNNEST_ROWS: usize = 10_000;

/// One column of `rows`, for an array bind.
pub(crate) fn col<'a, T, R>(rows: &'a [T], f: impl Fn(&'a T) -> R) -> Vec<R> {
    rows.iter().map(f).collect()
}

const PG_INSERT_CONTACTS: &str = "INSERT INTO contacts (id, org_id, status, search_text, fields, tags, custom, version, \
     created_at, updated_at, last_contacted_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], \
     $5::text[], $6::text[], $7::text[], $8::bigint[], $9::timestamp[], $10::timestamp[], $11::timestamp[])";
const PG_INSERT_KEYS: &str = "INSERT INTO contact_keys (contact_id, kind, value, org_id) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])";
/// For the keys a contact gained: a row that is there already (one the computed "before" did not
/// show, say) is kept as it is instead of failing the batch.
const PG_ADD_KEYS: &str = "INSERT INTO contact_keys (contact_id, kind, value, org_id) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING";
const PG_UPSERT_LINKS: &str = "INSERT INTO provider_links (connection_id, external_id, org_id, contact_id, \
     external_version, snapshot, snapshot_hash, remote_updated_at, synced_at) SELECT * FROM unnest($1::text[], \
     $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamp[], $9::timestamp[]) \
     ON CONFLICT (connection_id, external_id) DO UPDATE SET contact_id = excluded.contact_id, \
     external_version = excluded.external_version, snapshot = excluded.snapshot, \
     snapshot_hash = excluded.snapshot_hash, remote_updated_at = excluded.remote_updated_at, \
     synced_at = excluded.synced_at";

/// Inserts contacts (already at their version) with their index rows: on PostgreSQL as
/// `INSERT … SELECT * FROM unnest(…)`, on SQLite as multi-row INSERTs.
pub(crate) async fn insert_contacts(conn: &mut Conn<'_>, list: &[&Contact]) -> DbResult<()> {
    let rows = list.iter().map(|c| to_row(c, None)).collect::<DbResult<Vec<_>>>()?;
    if let Conn::Pg(c) = conn {
        use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
        for chunk in rows.chunks(UNNEST_ROWS) {
            diesel::sql_query(PG_INSERT_CONTACTS)
                .bind::<Array<Text>, _>(col(chunk, |r| r.id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.org_id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.status.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.search_text.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.fields.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.tags.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.custom.as_str()))
                .bind::<Array<BigInt>, _>(col(chunk, |r| r.version))
                .bind::<Array<Timestamp>, _>(col(chunk, |r| r.created_at))
                .bind::<Array<Timestamp>, _>(col(chunk, |r| r.updated_at))
                .bind::<Array<Nullable<Timestamp>>, _>(col(chunk, |r| r.last_contacted_at))
                .execute(&mut **c)
                .await?;
        }
    } else {
        insert_batch!(conn, rows, PARAMS_PER_STATEMENT / 11, |chunk| diesel::insert_into(contacts::table)
            .values(chunk))?;
    }
    insert_children(conn, list).await?;
    Ok(())
}

/// Deletes and rewrites the index rows of `list` (after an update or status change); returns how
/// many rows they have now.
pub(crate) async fn replace_children(conn: &mut Conn<'_>, list: &[&Contact]) -> DbResult<usize> {
    if list.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = list.iter().map(|c| c.id.to_string()).collect();
    delete_children(conn, &ids).await?;
    insert_children(conn, list).await
}

/// The index rows (blocking keys) of one contact, sorted (so two sets compare with `==`): every
/// key of a live contact; a deleted one keeps its e-mail and phone keys (a search among deleted
/// contacts finds it by them) but not its name keys. The `email` and `phone` keys are
/// [`EmailAddress::matching_key`](rolodex_domain::EmailAddress::matching_key) and the E.164 number,
/// which is what a search by e-mail or phone looks up.
fn keys_of(c: &Contact) -> Vec<KeyRow> {
    let (id, org) = (c.id.to_string(), c.org_id.to_string());
    let live = c.status != ContactStatus::Deleted;
    let mut out: Vec<KeyRow> = blocking_keys(&c.fields)
        .into_iter()
        .filter(|k| live || k.kind != KeyKind::Name)
        .map(|k| KeyRow {
            contact_id: id.clone(),
            kind: k.kind.as_str().to_owned(),
            value: k.value,
            org_id: org.clone(),
        })
        .collect();
    out.sort();
    out
}

/// Brings the index rows of `list` (contacts just updated, each as stored before the update and
/// as it is now) up to date, rewriting only what changed. The rows are a function of the fields
/// and status, so each contact's rows before and after are computed, not read: a contact whose
/// key fields did not change ([`same_key_inputs`]: most updates touch no name, e-mail, phone,
/// postcode or birthday) costs nothing more, and for the others only the keys that went are
/// deleted and only the new ones inserted (a name edit or an added e-mail touches a few rows, not
/// all of them). Rows an older key algorithm wrote are not looked for: a change to the algorithm
/// needs a re-index of every contact ([`Store::reindex_contacts`]).
pub(crate) async fn refresh_children(conn: &mut Conn<'_>, list: &[(&Contact, &Contact)]) -> DbResult<()> {
    let (mut added, mut gone) = (Vec::new(), Vec::new());
    for (before, after) in list {
        if before.status == after.status && same_key_inputs(&before.fields, &after.fields) {
            continue;
        }
        let (new, old) = (keys_of(after), keys_of(before));
        if new != old {
            added.extend(new.iter().filter(|k| old.binary_search(k).is_err()).cloned());
            gone.extend(old.into_iter().filter(|k| new.binary_search(k).is_err()));
        }
    }
    delete_keys(conn, gone).await?;
    insert_keys(conn, added, true).await
}

/// Deletes the key rows `keys`.
async fn delete_keys(conn: &mut Conn<'_>, keys: Vec<KeyRow>) -> DbResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    match conn {
        Conn::Pg(c) => {
            use diesel::sql_types::{Array, Text};
            for chunk in keys.chunks(UNNEST_ROWS) {
                diesel::sql_query(
                    "DELETE FROM contact_keys AS k USING unnest($1::text[], $2::text[], $3::text[]) AS v(contact_id, kind, value) \
                     WHERE k.contact_id = v.contact_id AND k.kind = v.kind AND k.value = v.value",
                )
                .bind::<Array<Text>, _>(col(chunk, |r| r.contact_id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.kind.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.value.as_str()))
                .execute(&mut **c)
                .await?;
            }
        }
        Conn::Sqlite(c) => {
            // One blocking task for the lot (in-process statements, no round trips).
            c.spawn_blocking(move |c| {
                for k in keys {
                    diesel::RunQueryDsl::execute(
                        diesel::delete(
                            contact_keys::table
                                .filter(contact_keys::contact_id.eq(&k.contact_id))
                                .filter(contact_keys::kind.eq(&k.kind))
                                .filter(contact_keys::value.eq(&k.value)),
                        ),
                        c,
                    )?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .await?;
        }
    }
    Ok(())
}

/// Deletes the index rows of the contacts `ids`.
async fn delete_children(conn: &mut Conn<'_>, ids: &[String]) -> DbResult<()> {
    for chunk in ids.chunks(PARAMS_PER_STATEMENT) {
        each!(conn, |c| diesel::delete(contact_keys::table.filter(contact_keys::contact_id.eq_any(chunk)))
            .execute(c)
            .await)?;
    }
    Ok(())
}

/// Inserts the index rows of `list` (contacts that have none); returns how many.
async fn insert_children(conn: &mut Conn<'_>, list: &[&Contact]) -> DbResult<usize> {
    let keys: Vec<KeyRow> = list.iter().flat_map(|c| keys_of(c)).collect();
    let n = keys.len();
    insert_keys(conn, keys, false).await?;
    Ok(n)
}

/// Inserts key rows; with `existing_ok` a row that is there already is left as it is (new
/// contacts have none, so their keys go in plainly). On PostgreSQL the rows go in the lookup
/// index's order (`kind`, `value`): those of a batch land on neighbouring index pages instead of
/// one random page each.
async fn insert_keys(conn: &mut Conn<'_>, mut keys: Vec<KeyRow>, existing_ok: bool) -> DbResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    if let Conn::Pg(c) = conn {
        use diesel::sql_types::{Array, Text};
        keys.sort_unstable_by(|a, b| (&a.kind, &a.value).cmp(&(&b.kind, &b.value)));
        for chunk in keys.chunks(UNNEST_ROWS) {
            diesel::sql_query(if existing_ok { PG_ADD_KEYS } else { PG_INSERT_KEYS })
                .bind::<Array<Text>, _>(col(chunk, |r| r.contact_id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.kind.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.value.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.org_id.as_str()))
                .execute(&mut **c)
                .await?;
        }
        return Ok(());
    }
    if existing_ok {
        insert_batch!(conn, keys, PARAMS_PER_STATEMENT / 4, |chunk| diesel::insert_into(contact_keys::table)
            .values(chunk)
            .on_conflict_do_nothing())?;
    } else {
        insert_batch!(conn, keys, PARAMS_PER_STATEMENT / 4, |chunk| diesel::insert_into(contact_keys::table)
            .values(chunk))?;
    }
    Ok(())
}

/// What [`Store::reindex_contacts`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReindexReport {
    /// Contacts whose index rows were rewritten (every contact of the organisation, any status).
    pub contacts: u64,
    /// Index rows (blocking keys) they have now.
    pub keys: u64,
}

impl Store {
    /// Rewrites the index rows (blocking keys) of every contact of `org` from its fields and
    /// status. Writes keep those rows up to date by computing each contact's keys before and
    /// after a change, never by reading the stored ones, so rows an older key algorithm wrote (or
    /// that drifted by hand) stay until this runs: after an upgrade that changes the keys, and as
    /// a repair. Works through the contacts in id order, `page` at a time (at least 1), one
    /// transaction per page with the page's contacts locked against concurrent writers; calls
    /// `progress` with the number done after each page. Safe to interrupt and run again.
    ///
    /// # Errors
    /// `Unexpected` on database failure (the pages before the failing one stay rewritten).
    pub async fn reindex_contacts(
        &self,
        org: OrgId,
        page: usize,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<ReindexReport, ContactStoreError> {
        let (org_s, page) = (org.to_string(), page.max(1));
        let limit = i64::try_from(page).unwrap_or(i64::MAX);
        let mut report = ReindexReport::default();
        let mut after = String::new();
        loop {
            let (done, keys, last) = tx!(self, |conn| {
                let rows: Vec<ContactRow> = match conn {
                    Conn::Pg(c) => {
                        page_after(&org_s, &after, limit)
                            .select(ContactRow::as_select())
                            .for_update()
                            .load(&mut **c)
                            .await?
                    }
                    // One writer at a time: the transaction already excludes other writers.
                    Conn::Sqlite(c) => {
                        page_after(&org_s, &after, limit).select(ContactRow::as_select()).load(&mut **c).await?
                    }
                };
                let last = rows.last().map(|r| r.id.clone());
                let list = rows.into_iter().map(from_row).collect::<DbResult<Vec<_>>>()?;
                let keys = replace_children(conn, &list.iter().collect::<Vec<_>>()).await?;
                Ok((list.len(), keys, last))
            })
            .map_err(DbError::into_port)?;
            report.contacts += done as u64;
            report.keys += keys as u64;
            let Some(last) = last else { break };
            progress(report.contacts);
            if done < page {
                break;
            }
            after = last;
        }
        Ok(report)
    }
}

/// Up to `limit` contacts of `org` with ids after `after`, in id order (select the row at the call).
#[diesel::dsl::auto_type(no_type_alias)]
fn page_after<'a>(org: &'a str, after: &'a str, limit: i64) -> _ {
    contacts::table
        .filter(contacts::org_id.eq(org))
        .filter(contacts::id.gt(after))
        .order(contacts::id.asc())
        .limit(limit)
}

/// Loads contacts of `org` by id (any status), keyed by id.
pub(crate) async fn load_contacts(
    conn: &mut Conn<'_>,
    org: OrgId,
    ids: &[ContactId],
) -> DbResult<HashMap<ContactId, Contact>> {
    let org = org.to_string();
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(PARAMS_PER_STATEMENT) {
        let rows: Vec<ContactRow> = each!(conn, |c| {
            contacts::table
                .filter(contacts::org_id.eq(&org))
                .filter(contacts::id.eq_any(chunk))
                .select(ContactRow::as_select())
                .load(c)
                .await
        })?;
        for r in rows {
            let c = from_row(r)?;
            out.insert(c.id, c);
        }
    }
    Ok(out)
}

async fn current_version(conn: &mut Conn<'_>, org: &str, id: &str) -> DbResult<Option<i64>> {
    Ok(each!(conn, |c| {
        contacts::table
            .filter(contacts::org_id.eq(org))
            .filter(contacts::id.eq(id))
            .select(contacts::version)
            .first::<i64>(c)
            .await
            .optional()
    })?)
}

/// The versioned write shared by update and status change: sets `fields`/`status` only when the
/// stored version is `expected`, returning the new contact, or `Conflict` / `NotFound`.
pub(crate) async fn write_versioned(
    conn: &mut Conn<'_>,
    org: OrgId,
    id: ContactId,
    expected: i64,
    fields: Option<&ContactFields>,
    status: Option<ContactStatus>,
    now: time::OffsetDateTime,
) -> DbResult<Contact> {
    let (org_s, id_s) = (org.to_string(), id.to_string());
    let row: Option<ContactRow> = match (fields, status) {
        (Some(f), _) => {
            let mut core = f.clone();
            let tags = json(&std::mem::take(&mut core.tags))?;
            let custom = json(&std::mem::take(&mut core.custom))?;
            let (core, text) = (json(&core)?, search_text(f));
            each!(conn, |c| {
                diesel::update(
                    contacts::table
                        .filter(contacts::org_id.eq(&org_s))
                        .filter(contacts::id.eq(&id_s))
                        .filter(contacts::version.eq(expected)),
                )
                .set((
                    contacts::fields.eq(&core),
                    contacts::tags.eq(&tags),
                    contacts::custom.eq(&custom),
                    contacts::search_text.eq(&text),
                    contacts::version.eq(contacts::version + 1),
                    contacts::updated_at.eq(to_db(now)),
                ))
                .returning(ContactRow::as_returning())
                .get_result(c)
                .await
                .optional()
            })?
        }
        (None, Some(s)) => each!(conn, |c| {
            diesel::update(
                contacts::table
                    .filter(contacts::org_id.eq(&org_s))
                    .filter(contacts::id.eq(&id_s))
                    .filter(contacts::version.eq(expected)),
            )
            .set((
                contacts::status.eq(status_str(s)),
                contacts::version.eq(contacts::version + 1),
                contacts::updated_at.eq(to_db(now)),
            ))
            .returning(ContactRow::as_returning())
            .get_result(c)
            .await
            .optional()
        })?,
        (None, None) => return Err(DbError::Invalid("nothing to write".to_owned())),
    };
    match row {
        Some(r) => {
            let contact = from_row(r)?;
            replace_children(conn, &[&contact]).await?;
            Ok(contact)
        }
        None => match current_version(conn, &org_s, &id_s).await? {
            Some(v) => Err(DbError::Conflict { entity: "contact", id: id_s, current_version: v }),
            None => Err(DbError::not_found("contact", id)),
        },
    }
}

fn conn_in_org_filter(org: &str, connection: &str) -> (String, String) {
    (org.to_owned(), connection.to_owned())
}

pub(crate) fn link_row(org: OrgId, link: &ProviderLink, now: time::OffsetDateTime) -> DbResult<LinkRow> {
    Ok(LinkRow {
        connection_id: link.connection_id.to_string(),
        external_id: link.external_id.clone(),
        org_id: org.to_string(),
        contact_id: link.contact_id.to_string(),
        external_version: link.external_version.clone(),
        snapshot: link.snapshot.as_ref().map(json).transpose()?,
        snapshot_hash: link.snapshot_hash.clone(),
        remote_updated_at: link.remote_updated_at.map(to_db),
        synced_at: to_db(now),
    })
}

fn from_link_row(r: LinkRow) -> DbResult<ProviderLink> {
    Ok(ProviderLink {
        contact_id: parse_id("contact id", &r.contact_id)?,
        connection_id: parse_id("connection id", &r.connection_id)?,
        external_id: r.external_id,
        external_version: r.external_version,
        snapshot: r.snapshot.as_deref().map(|s| unjson("link snapshot", s)).transpose()?,
        snapshot_hash: r.snapshot_hash,
        remote_updated_at: r.remote_updated_at.map(from_db),
        synced_at: from_db(r.synced_at),
    })
}

/// Creates or replaces links (rows must already be checked to belong to the organisation).
pub(crate) async fn upsert_links(conn: &mut Conn<'_>, rows: Vec<LinkRow>) -> DbResult<()> {
    if let Conn::Pg(c) = conn {
        use diesel::sql_types::{Array, Nullable, Text, Timestamp};
        for chunk in rows.chunks(UNNEST_ROWS) {
            diesel::sql_query(PG_UPSERT_LINKS)
                .bind::<Array<Text>, _>(col(chunk, |r| r.connection_id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.external_id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.org_id.as_str()))
                .bind::<Array<Text>, _>(col(chunk, |r| r.contact_id.as_str()))
                .bind::<Array<Nullable<Text>>, _>(col(chunk, |r| r.external_version.as_deref()))
                .bind::<Array<Nullable<Text>>, _>(col(chunk, |r| r.snapshot.as_deref()))
                .bind::<Array<Nullable<Text>>, _>(col(chunk, |r| r.snapshot_hash.as_deref()))
                .bind::<Array<Nullable<Timestamp>>, _>(col(chunk, |r| r.remote_updated_at))
                .bind::<Array<Timestamp>, _>(col(chunk, |r| r.synced_at))
                .execute(&mut **c)
                .await?;
        }
        return Ok(());
    }
    insert_batch!(conn, rows, PARAMS_PER_STATEMENT / 9, |chunk| {
        diesel::insert_into(provider_links::table)
            .values(chunk)
            .on_conflict((provider_links::connection_id, provider_links::external_id))
            .do_update()
            .set((
                provider_links::contact_id.eq(excluded(provider_links::contact_id)),
                provider_links::external_version.eq(excluded(provider_links::external_version)),
                provider_links::snapshot.eq(excluded(provider_links::snapshot)),
                provider_links::snapshot_hash.eq(excluded(provider_links::snapshot_hash)),
                provider_links::remote_updated_at.eq(excluded(provider_links::remote_updated_at)),
                provider_links::synced_at.eq(excluded(provider_links::synced_at)),
            ))
    })?;
    Ok(())
}

/// Whether `connection` belongs to `org`.
pub(crate) async fn connection_in_org(conn: &mut Conn<'_>, org: OrgId, connection: ConnectionId) -> DbResult<bool> {
    let (org, id) = conn_in_org_filter(&org.to_string(), &connection.to_string());
    let n: i64 = each!(conn, |c| {
        connections::table
            .filter(connections::org_id.eq(&org))
            .filter(connections::id.eq(&id))
            .count()
            .get_result(c)
            .await
    })?;
    Ok(n > 0)
}

/// Every contact id indexed under each of `keys`, keyed by `(kind, value)`, leaving out the keys
/// shared by more contacts than `limits` allows: per key kind (and per 30,000 values) one query
/// counts the blocks in the index and one reads the postings of those within their limit, so a
/// common key's block is never read.
async fn key_postings(
    conn: &mut Conn<'_>,
    org: OrgId,
    keys: &[&BlockingKey],
    limits: CandidateLimits,
) -> DbResult<(HashMap<(KeyKind, String), Vec<String>>, HashSet<(KeyKind, String)>)> {
    let org = org.to_string();
    let mut out: HashMap<(KeyKind, String), Vec<String>> = HashMap::new();
    let mut oversized = HashSet::new();
    for kind in [KeyKind::Email, KeyKind::Phone, KeyKind::Name] {
        let cap = i64::from(limits.block_cap(kind));
        let values: Vec<&str> = keys.iter().filter(|k| k.kind == kind).map(|k| k.value.as_str()).collect();
        for chunk in values.chunks(PARAMS_PER_STATEMENT) {
            let sizes: Vec<(String, i64)> = each!(conn, |c| {
                contact_keys::table
                    .filter(contact_keys::org_id.eq(&org))
                    .filter(contact_keys::kind.eq(kind.as_str()))
                    .filter(contact_keys::value.eq_any(chunk))
                    .group_by(contact_keys::value)
                    .select((contact_keys::value, diesel::dsl::count_star()))
                    .load(c)
                    .await
            })?;
            let mut within: Vec<String> = Vec::with_capacity(sizes.len());
            for (value, n) in sizes {
                if n <= cap {
                    within.push(value);
                } else {
                    oversized.insert((kind, value));
                }
            }
            if within.is_empty() {
                continue;
            }
            let found: Vec<(String, String)> = each!(conn, |c| {
                contact_keys::table
                    .filter(contact_keys::org_id.eq(&org))
                    .filter(contact_keys::kind.eq(kind.as_str()))
                    .filter(contact_keys::value.eq_any(&within))
                    .select((contact_keys::value, contact_keys::contact_id))
                    .load(c)
                    .await
            })?;
            for (value, id) in found {
                out.entry((kind, value)).or_default().push(id);
            }
        }
    }
    Ok((out, oversized))
}

/// The live contacts among `ids`, keyed by id (deleted and unknown ones are left out).
async fn load_live(conn: &mut Conn<'_>, org: OrgId, ids: &[&str]) -> DbResult<Vec<ContactRow>> {
    let org = org.to_string();
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(PARAMS_PER_STATEMENT) {
        let part: Vec<ContactRow> = each!(conn, |c| {
            contacts::table
                .filter(contacts::org_id.eq(&org))
                .filter(contacts::id.eq_any(chunk))
                .filter(contacts::status.ne("deleted"))
                .select(ContactRow::as_select())
                .load(c)
                .await
        })?;
        rows.extend(part);
    }
    Ok(rows)
}

/// Each set's contact ids (text), ranked by [`rank_candidates`], from the postings of every key
/// of every set (within their block limits): two queries per key kind for all the sets.
async fn ranked_ids(
    conn: &mut Conn<'_>,
    org: OrgId,
    key_sets: &[Vec<BlockingKey>],
    limits: CandidateLimits,
) -> DbResult<Vec<Vec<String>>> {
    let mut distinct: Vec<&BlockingKey> = key_sets.iter().flatten().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let (postings, _) = key_postings(conn, org, &distinct, limits).await?;
    Ok(key_sets
        .iter()
        .map(|keys| {
            let blocks = keys
                .iter()
                .filter_map(|k| postings.get(&(k.kind, k.value.clone())).map(|ids| (k.kind, ids.as_slice())));
            rank_candidates(blocks)
        })
        .collect())
}

/// [`ContactStore::find_candidates_many`] on one connection: the postings of every key of every
/// set (within their block limits) in two queries per key kind, each set's contact ids ranked
/// ([`rank_candidates`]; with `by_id` simply in id order), then only the rows that can be among a
/// set's first `limits.per_set` live candidates (a deleted one makes room for the next in a
/// further round).
async fn candidates_many(
    conn: &mut Conn<'_>,
    org: OrgId,
    key_sets: &[Vec<BlockingKey>],
    limits: CandidateLimits,
    by_id: bool,
) -> DbResult<Vec<Vec<Contact>>> {
    let limit = usize::try_from(page_size(limits.per_set)).unwrap_or(usize::MAX);
    let mut ordered = ranked_ids(conn, org, key_sets, limits).await?;
    if by_id {
        ordered.iter_mut().for_each(|ids| ids.sort_unstable());
    }
    // `None`: read and not live.
    let mut known: HashMap<&str, Option<Contact>> = HashMap::new();
    loop {
        let mut wanted: Vec<&str> = Vec::new();
        for ids in &ordered {
            let mut room = limit;
            for id in ids {
                if room == 0 {
                    break;
                }
                match known.get(id.as_str()) {
                    Some(None) => {}
                    Some(Some(_)) => room -= 1,
                    None => {
                        wanted.push(id);
                        room -= 1;
                    }
                }
            }
        }
        if wanted.is_empty() {
            break;
        }
        wanted.sort_unstable();
        wanted.dedup();
        let mut live: HashMap<String, Contact> = HashMap::with_capacity(wanted.len());
        for row in load_live(conn, org, &wanted).await? {
            let id = row.id.clone();
            live.insert(id, from_row(row)?);
        }
        for id in wanted {
            known.insert(id, live.remove(id));
        }
    }
    Ok(ordered
        .iter()
        .map(|ids| {
            ids.iter().filter_map(|id| known.get(id.as_str()).and_then(Option::as_ref)).take(limit).cloned().collect()
        })
        .collect())
}

#[async_trait]
impl ContactStore for Store {
    async fn create_contact(&self, org: OrgId, new: NewContact, jobs: &[NewJob]) -> Result<Contact, ContactStoreError> {
        let now = self.now();
        let contact = Contact {
            id: new.id,
            org_id: org,
            fields: new.fields,
            status: new.status,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        tx!(self, |conn| {
            insert_contacts(conn, &[&contact]).await?;
            crate::jobs::enqueue_in(conn, org, now, jobs).await?;
            Ok(())
        })
        .map_err(|e| match e {
            DbError::Diesel(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => ContactStoreError::Duplicate(format!("contact `{}`", contact.id)),
            other => other.into_port(),
        })?;
        Ok(contact)
    }

    async fn get_contact(&self, org: OrgId, id: ContactId) -> Result<Contact, ContactStoreError> {
        let mut found = read!(self, |conn| load_contacts(conn, org, &[id]).await).map_err(DbError::into_port)?;
        found.remove(&id).ok_or_else(|| DbError::not_found("contact", id).into_port())
    }

    async fn get_contacts(&self, org: OrgId, ids: &[ContactId]) -> Result<Vec<Contact>, ContactStoreError> {
        let mut found = read!(self, |conn| load_contacts(conn, org, ids).await).map_err(DbError::into_port)?;
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    async fn update_contact(
        &self,
        org: OrgId,
        id: ContactId,
        expected_version: i64,
        fields: ContactFields,
        jobs: &[NewJob],
    ) -> Result<Contact, ContactStoreError> {
        let now = self.now();
        tx!(self, |conn| {
            let c = write_versioned(conn, org, id, expected_version, Some(&fields), None, now).await?;
            crate::jobs::enqueue_in(conn, org, now, jobs).await?;
            Ok(c)
        })
        .map_err(DbError::into_port)
    }

    async fn set_contact_status(
        &self,
        org: OrgId,
        id: ContactId,
        expected_version: i64,
        status: ContactStatus,
        jobs: &[NewJob],
    ) -> Result<Contact, ContactStoreError> {
        let now = self.now();
        tx!(self, |conn| {
            let c = write_versioned(conn, org, id, expected_version, None, Some(status), now).await?;
            crate::jobs::enqueue_in(conn, org, now, jobs).await?;
            Ok(c)
        })
        .map_err(DbError::into_port)
    }

    async fn search_contacts(&self, org: OrgId, query: &ContactQuery) -> Result<Vec<Contact>, ContactStoreError> {
        let org_s = org.to_string();
        let email_key = query.email.as_ref().map(rolodex_domain::EmailAddress::matching_key);
        let phone = query.phone.as_ref().map(|p| p.e164().to_owned());
        let name = query.name.as_deref().map(rolodex_domain::name::fold).filter(|n| !n.is_empty()).map(|n| {
            let escaped = n.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        });
        let status = query.status.map(status_str);
        let after = query.after.map(|a| a.to_string());
        let limit = i64::from(page_size(query.limit));
        let rows: Vec<ContactRow> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                let mut q = contacts::table.filter(contacts::org_id.eq(&org_s)).into_boxed();
                q = match status {
                    Some(s) => q.filter(contacts::status.eq(s)),
                    None => q.filter(contacts::status.ne("deleted")),
                };
                if let Some(key) = &email_key {
                    q = q.filter(
                        contacts::id.eq_any(
                            contact_keys::table
                                .filter(contact_keys::org_id.eq(&org_s))
                                .filter(contact_keys::kind.eq(KeyKind::Email.as_str()))
                                .filter(contact_keys::value.eq(key))
                                .select(contact_keys::contact_id),
                        ),
                    );
                }
                if let Some(p) = &phone {
                    q = q.filter(
                        contacts::id.eq_any(
                            contact_keys::table
                                .filter(contact_keys::org_id.eq(&org_s))
                                .filter(contact_keys::kind.eq(KeyKind::Phone.as_str()))
                                .filter(contact_keys::value.eq(p))
                                .select(contact_keys::contact_id),
                        ),
                    );
                }
                if let Some(n) = &name {
                    q = q.filter(contacts::search_text.like(n).escape('\\'));
                }
                if let Some(a) = &after {
                    q = q.filter(contacts::id.gt(a));
                }
                q.order(contacts::id.asc()).limit(limit).select(ContactRow::as_select()).load(c).await
            })?)
        })
        .map_err(DbError::into_port)?;
        rows.into_iter().map(from_row).collect::<DbResult<Vec<_>>>().map_err(DbError::into_port)
    }

    async fn find_candidates(
        &self,
        org: OrgId,
        keys: &[BlockingKey],
        limit: u32,
    ) -> Result<Vec<Contact>, ContactStoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let unbounded = BlockLimits { max_name_block: usize::MAX, max_identifier_block: usize::MAX };
        let limits = CandidateLimits { per_set: limit, blocks: unbounded };
        let sets = [keys.to_vec()];
        let mut found =
            read!(self, |conn| candidates_many(conn, org, &sets, limits, true).await).map_err(DbError::into_port)?;
        Ok(found.pop().unwrap_or_default())
    }

    async fn find_candidates_many(
        &self,
        org: OrgId,
        key_sets: &[Vec<BlockingKey>],
        limits: CandidateLimits,
    ) -> Result<Vec<Vec<Contact>>, ContactStoreError> {
        if key_sets.iter().all(Vec::is_empty) {
            return Ok(vec![Vec::new(); key_sets.len()]);
        }
        read!(self, |conn| candidates_many(conn, org, key_sets, limits, false).await).map_err(DbError::into_port)
    }

    async fn find_key_blocks(
        &self,
        org: OrgId,
        keys: &[BlockingKey],
        limits: BlockLimits,
    ) -> Result<Vec<Option<Vec<ContactId>>>, ContactStoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let limits = CandidateLimits { per_set: 0, blocks: limits };
        let refs: Vec<&BlockingKey> = keys.iter().collect();
        let (postings, oversized) =
            read!(self, |conn| key_postings(conn, org, &refs, limits).await).map_err(DbError::into_port)?;
        keys.iter()
            .map(|k| {
                let key = (k.kind, k.value.clone());
                if oversized.contains(&key) {
                    return Ok(None);
                }
                let ids = postings.get(&key).map_or(&[][..], Vec::as_slice);
                ids.iter().map(|id| parse_id::<ContactId>("contact", id)).collect::<DbResult<Vec<_>>>().map(Some)
            })
            .collect::<DbResult<Vec<_>>>()
            .map_err(DbError::into_port)
    }

    async fn count_contacts(&self, org: OrgId) -> Result<u64, ContactStoreError> {
        let org = org.to_string();
        let n: i64 = read!(self, |conn| {
            Ok(each!(conn, |c| {
                contacts::table
                    .filter(contacts::org_id.eq(&org))
                    .filter(contacts::status.ne("deleted"))
                    .count()
                    .get_result(c)
                    .await
            })?)
        })
        .map_err(DbError::into_port)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The link column [`Store::links_among`] matches.
#[derive(Clone, Copy)]
enum LinkColumn {
    ExternalId,
    ContactId,
}

impl Store {
    /// The links of `org` (of `connection`, when given) whose `column` is one of `values`, a chunk
    /// of values per query.
    async fn links_among(
        &self,
        org: OrgId,
        connection: Option<ConnectionId>,
        column: LinkColumn,
        values: &[String],
    ) -> Result<Vec<ProviderLink>, ContactStoreError> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let (org, connection) = (org.to_string(), connection.map(|c| c.to_string()));
        let rows: Vec<LinkRow> = read!(self, |conn| {
            let mut rows = Vec::with_capacity(values.len());
            for chunk in values.chunks(PARAMS_PER_STATEMENT) {
                let part: Vec<LinkRow> = each!(conn, |c| {
                    let mut q = provider_links::table.filter(provider_links::org_id.eq(&org)).into_boxed();
                    if let Some(k) = &connection {
                        q = q.filter(provider_links::connection_id.eq(k));
                    }
                    q = match column {
                        LinkColumn::ExternalId => q.filter(provider_links::external_id.eq_any(chunk)),
                        LinkColumn::ContactId => q.filter(provider_links::contact_id.eq_any(chunk)),
                    };
                    q.select(LinkRow::as_select()).load(c).await
                })?;
                rows.extend(part);
            }
            Ok(rows)
        })
        .map_err(DbError::into_port)?;
        rows.into_iter().map(from_link_row).collect::<DbResult<Vec<_>>>().map_err(DbError::into_port)
    }
}

#[async_trait]
impl LinkStore for Store {
    async fn upsert_link(&self, org: OrgId, link: &ProviderLink) -> Result<ProviderLink, ContactStoreError> {
        let now = self.now();
        let row = link_row(org, link, now).map_err(DbError::into_port)?;
        tx!(self, |conn| {
            if !connection_in_org(conn, org, link.connection_id).await? {
                return Err(DbError::not_found("connection", link.connection_id));
            }
            if load_contacts(conn, org, &[link.contact_id]).await?.is_empty() {
                return Err(DbError::not_found("contact", link.contact_id));
            }
            upsert_links(conn, vec![row.clone()]).await
        })
        .map_err(DbError::into_port)?;
        from_link_row(row).map_err(DbError::into_port)
    }

    async fn find_link(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<Option<ProviderLink>, ContactStoreError> {
        // (external_id is unique per connection: at most one row.)
        Ok(self.find_links(org, connection, &[external_id.to_owned()]).await?.pop())
    }

    async fn find_links(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_ids: &[String],
    ) -> Result<Vec<ProviderLink>, ContactStoreError> {
        self.links_among(org, Some(connection), LinkColumn::ExternalId, external_ids).await
    }

    async fn count_links(&self, org: OrgId, connection: ConnectionId) -> Result<u64, ContactStoreError> {
        let (org, connection) = (org.to_string(), connection.to_string());
        let n: i64 = read!(self, |conn| {
            Ok(each!(conn, |c| {
                provider_links::table
                    .filter(provider_links::org_id.eq(&org))
                    .filter(provider_links::connection_id.eq(&connection))
                    .count()
                    .get_result(c)
                    .await
            })?)
        })
        .map_err(DbError::into_port)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn links_of(&self, org: OrgId, contact: ContactId) -> Result<Vec<ProviderLink>, ContactStoreError> {
        let (org, contact) = (org.to_string(), contact.to_string());
        let rows: Vec<LinkRow> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                provider_links::table
                    .filter(provider_links::org_id.eq(&org))
                    .filter(provider_links::contact_id.eq(&contact))
                    .order((provider_links::connection_id, provider_links::external_id))
                    .select(LinkRow::as_select())
                    .load(c)
                    .await
            })?)
        })
        .map_err(DbError::into_port)?;
        rows.into_iter().map(from_link_row).collect::<DbResult<Vec<_>>>().map_err(DbError::into_port)
    }

    async fn links_of_many(&self, org: OrgId, contacts: &[ContactId]) -> Result<Vec<ProviderLink>, ContactStoreError> {
        let ids: Vec<String> = contacts.iter().map(ToString::to_string).collect();
        self.links_among(org, None, LinkColumn::ContactId, &ids).await
    }

    async fn delete_link(
        &self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<bool, ContactStoreError> {
        let (org, connection) = (org.to_string(), connection.to_string());
        let n = tx!(self, |conn| {
            Ok(each!(conn, |c| {
                diesel::delete(
                    provider_links::table
                        .filter(provider_links::org_id.eq(&org))
                        .filter(provider_links::connection_id.eq(&connection))
                        .filter(provider_links::external_id.eq(external_id)),
                )
                .execute(c)
                .await
            })?)
        })
        .map_err(DbError::into_port)?;
        Ok(n > 0)
    }
}
