//! [`AccountStore`] on `organisations`, `users` and `api_keys` (only the SHA-256 of a key's secret
//! is stored, hex-encoded, and looked up by its unique index), and [`AiUsageStore`] on `ai_usage`.

use std::collections::BTreeSet;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rolodex_domain::ports::storage::{
    AccountStore, AccountStoreError, AiUsageRecord, AiUsageStore, AiUsageTotals, ApiKey, NewUser, Organisation,
    Permission, Role, User,
};
use rolodex_domain::{ApiKeyId, OrgId, UserId};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::backend::{Conn, each, read, tx};
use crate::error::{DbError, DbResult};
use crate::schema::{ai_usage, api_keys, organisations, users};
use crate::{Store, from_db, json, parse_id, to_db, unjson};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
struct UserRow {
    id: String,
    org_id: String,
    email: String,
    name: String,
    role: String,
    permissions: String,
    created_at: PrimitiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys, treat_none_as_default_value = false)]
struct KeyRow {
    id: String,
    org_id: String,
    user_id: Option<String>,
    name: String,
    key_hash: String,
    created_at: PrimitiveDateTime,
    revoked_at: Option<PrimitiveDateTime>,
}

fn aerr(e: DbError) -> AccountStoreError {
    e.into_port()
}

/// The stored form of a key: hex SHA-256 of the secret.
fn key_hash(secret: &SecretString) -> String {
    Sha256::digest(secret.expose_secret().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn user_from_row(r: UserRow) -> DbResult<User> {
    let names: Vec<String> = unjson("user permissions", &r.permissions)?;
    let permissions =
        names.iter().map(|p| Permission::parse(p)).collect::<Result<BTreeSet<_>, _>>().map_err(DbError::corrupt)?;
    Ok(User {
        id: parse_id("user id", &r.id)?,
        org_id: parse_id("org id", &r.org_id)?,
        email: r.email,
        name: r.name,
        role: Role::parse(&r.role).map_err(DbError::corrupt)?,
        permissions,
        created_at: from_db(r.created_at),
    })
}

fn key_from_row(r: KeyRow) -> DbResult<ApiKey> {
    Ok(ApiKey {
        id: parse_id("api key id", &r.id)?,
        org_id: parse_id("org id", &r.org_id)?,
        user_id: r.user_id.as_deref().map(|u| parse_id("user id", u)).transpose()?,
        name: r.name,
        created_at: from_db(r.created_at),
        revoked_at: r.revoked_at.map(from_db),
    })
}

fn permissions_json(p: &BTreeSet<Permission>) -> DbResult<String> {
    json(&p.iter().map(|p| p.as_str()).collect::<Vec<_>>())
}

async fn org_exists(conn: &mut Conn<'_>, org: &str) -> DbResult<bool> {
    let n: i64 = each!(conn, |c| organisations::table.filter(organisations::id.eq(org)).count().get_result(c).await)?;
    Ok(n > 0)
}

async fn load_user(conn: &mut Conn<'_>, org: &str, id: &str) -> DbResult<Option<UserRow>> {
    Ok(each!(conn, |c| {
        users::table
            .filter(users::org_id.eq(org))
            .filter(users::id.eq(id))
            .select(UserRow::as_select())
            .first(c)
            .await
            .optional()
    })?)
}

fn is_unique_violation(e: &DbError) -> bool {
    matches!(
        e,
        DbError::Diesel(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
    )
}

#[async_trait]
impl AccountStore for Store {
    async fn create_org(&self, org: OrgId, name: &str) -> Result<Organisation, AccountStoreError> {
        if name.trim().is_empty() {
            return Err(AccountStoreError::Invalid("an organisation needs a name".to_owned()));
        }
        let now = self.now();
        let row = (
            organisations::id.eq(org.to_string()),
            organisations::name.eq(name.to_owned()),
            organisations::created_at.eq(to_db(now)),
        );
        tx!(self, |conn| Ok(each!(conn, |c| diesel::insert_into(organisations::table)
            .values(row.clone())
            .execute(c)
            .await)?))
        .map_err(|e| {
            if is_unique_violation(&e) {
                AccountStoreError::Duplicate(format!("organisation `{org}`"))
            } else {
                aerr(e)
            }
        })?;
        Ok(Organisation { id: org, name: name.to_owned(), created_at: now })
    }

    async fn get_org(&self, org: OrgId) -> Result<Organisation, AccountStoreError> {
        let org_s = org.to_string();
        let row: Option<(String, PrimitiveDateTime)> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                organisations::table
                    .filter(organisations::id.eq(&org_s))
                    .select((organisations::name, organisations::created_at))
                    .first(c)
                    .await
                    .optional()
            })?)
        })
        .map_err(aerr)?;
        let (name, at) = row.ok_or_else(|| aerr(DbError::not_found("organisation", org)))?;
        Ok(Organisation { id: org, name, created_at: from_db(at) })
    }

    async fn list_orgs(&self) -> Result<Vec<Organisation>, AccountStoreError> {
        let rows: Vec<(String, String, PrimitiveDateTime)> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                organisations::table
                    .order((organisations::created_at.asc(), organisations::id.asc()))
                    .select((organisations::id, organisations::name, organisations::created_at))
                    .load(c)
                    .await
            })?)
        })
        .map_err(aerr)?;
        rows.into_iter()
            .map(|(id, name, at)| {
                Ok(Organisation { id: parse_id("org id", &id).map_err(aerr)?, name, created_at: from_db(at) })
            })
            .collect()
    }

    async fn create_user(&self, org: OrgId, user: NewUser) -> Result<User, AccountStoreError> {
        let email = user.email.trim().to_lowercase();
        if email.is_empty() {
            return Err(AccountStoreError::Invalid("a user needs an email".to_owned()));
        }
        let org_s = org.to_string();
        let row = UserRow {
            id: user.id.to_string(),
            org_id: org_s.clone(),
            email: email.clone(),
            name: user.name,
            role: user.role.as_str().to_owned(),
            permissions: permissions_json(&user.permissions).map_err(aerr)?,
            created_at: to_db(self.now()),
        };
        tx!(self, |conn| {
            if !org_exists(conn, &org_s).await? {
                return Err(DbError::not_found("organisation", &org_s));
            }
            each!(conn, |c| diesel::insert_into(users::table).values(&row).execute(c).await)?;
            Ok(())
        })
        .map_err(|e| {
            if is_unique_violation(&e) { AccountStoreError::Duplicate(format!("user `{email}`")) } else { aerr(e) }
        })?;
        user_from_row(row).map_err(aerr)
    }

    async fn get_user(&self, org: OrgId, id: UserId) -> Result<User, AccountStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let row = read!(self, |conn| load_user(conn, &org_s, &id_s).await).map_err(aerr)?;
        user_from_row(row.ok_or_else(|| aerr(DbError::not_found("user", id)))?).map_err(aerr)
    }

    async fn list_users(&self, org: OrgId) -> Result<Vec<User>, AccountStoreError> {
        let org_s = org.to_string();
        let rows: Vec<UserRow> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                users::table
                    .filter(users::org_id.eq(&org_s))
                    .order(users::email.asc())
                    .select(UserRow::as_select())
                    .load(c)
                    .await
            })?)
        })
        .map_err(aerr)?;
        rows.into_iter().map(user_from_row).collect::<DbResult<Vec<_>>>().map_err(aerr)
    }

    async fn set_user_access(
        &self,
        org: OrgId,
        id: UserId,
        role: Role,
        permissions: &BTreeSet<Permission>,
    ) -> Result<User, AccountStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let perms = permissions_json(permissions).map_err(aerr)?;
        let row = tx!(self, |conn| {
            let n = each!(conn, |c| {
                diesel::update(users::table.filter(users::org_id.eq(&org_s)).filter(users::id.eq(&id_s)))
                    .set((users::role.eq(role.as_str()), users::permissions.eq(&perms)))
                    .execute(c)
                    .await
            })?;
            if n == 0 {
                return Err(DbError::not_found("user", id));
            }
            load_user(conn, &org_s, &id_s).await?.ok_or_else(|| DbError::not_found("user", id))
        })
        .map_err(aerr)?;
        user_from_row(row).map_err(aerr)
    }

    async fn create_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        user: Option<UserId>,
        name: &str,
        secret: &SecretString,
    ) -> Result<ApiKey, AccountStoreError> {
        if secret.expose_secret().is_empty() {
            return Err(AccountStoreError::Invalid("an API key secret must not be empty".to_owned()));
        }
        let org_s = org.to_string();
        let row = KeyRow {
            id: id.to_string(),
            org_id: org_s.clone(),
            user_id: user.map(|u| u.to_string()),
            name: name.to_owned(),
            key_hash: key_hash(secret),
            created_at: to_db(self.now()),
            revoked_at: None,
        };
        tx!(self, |conn| {
            if !org_exists(conn, &org_s).await? {
                return Err(DbError::not_found("organisation", &org_s));
            }
            if let Some(u) = &row.user_id
                && load_user(conn, &org_s, u).await?.is_none()
            {
                return Err(DbError::not_found("user", u));
            }
            each!(conn, |c| diesel::insert_into(api_keys::table).values(&row).execute(c).await)?;
            Ok(())
        })
        .map_err(|e| {
            if is_unique_violation(&e) { AccountStoreError::Duplicate(format!("API key `{id}`")) } else { aerr(e) }
        })?;
        key_from_row(row).map_err(aerr)
    }

    async fn verify_api_key(&self, secret: &SecretString) -> Result<Option<ApiKey>, AccountStoreError> {
        let hash = key_hash(secret);
        let row: Option<KeyRow> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                api_keys::table
                    .filter(api_keys::key_hash.eq(&hash))
                    .filter(api_keys::revoked_at.is_null())
                    .select(KeyRow::as_select())
                    .first(c)
                    .await
                    .optional()
            })?)
        })
        .map_err(aerr)?;
        row.map(key_from_row).transpose().map_err(aerr)
    }

    async fn revoke_api_key(&self, org: OrgId, id: ApiKeyId) -> Result<bool, AccountStoreError> {
        let now = to_db(self.now());
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let n = tx!(self, |conn| {
            Ok(each!(conn, |c| {
                diesel::update(
                    api_keys::table
                        .filter(api_keys::org_id.eq(&org_s))
                        .filter(api_keys::id.eq(&id_s))
                        .filter(api_keys::revoked_at.is_null()),
                )
                .set(api_keys::revoked_at.eq(Some(now)))
                .execute(c)
                .await
            })?)
        })
        .map_err(aerr)?;
        Ok(n > 0)
    }
}

#[async_trait]
impl AiUsageStore for Store {
    async fn record_ai_usage(&self, org: OrgId, usage: &AiUsageRecord) -> Result<(), AccountStoreError> {
        let row = (
            ai_usage::id.eq(uuid::Uuid::now_v7().to_string()),
            ai_usage::org_id.eq(org.to_string()),
            ai_usage::user_id.eq(usage.user_id.map(|u| u.to_string())),
            ai_usage::feature.eq(usage.feature.clone()),
            ai_usage::model.eq(usage.model.clone()),
            ai_usage::prompt_tokens.eq(i64::from(usage.prompt_tokens)),
            ai_usage::completion_tokens.eq(i64::from(usage.completion_tokens)),
            ai_usage::cost_micro_usd.eq(i64::try_from(usage.cost_micro_usd).unwrap_or(i64::MAX)),
            ai_usage::created_at.eq(to_db(self.now())),
        );
        tx!(self, |conn| Ok(each!(conn, |c| diesel::insert_into(ai_usage::table)
            .values(row.clone())
            .execute(c)
            .await)?))
        .map_err(aerr)?;
        Ok(())
    }

    async fn ai_usage_totals(
        &self,
        org: OrgId,
        since: OffsetDateTime,
        feature: Option<&str>,
    ) -> Result<AiUsageTotals, AccountStoreError> {
        let org_s = org.to_string();
        let since = to_db(since);
        // Rows are summed here: both backends agree on the types, and a period's rows are few.
        let rows: Vec<(i64, i64, i64)> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                let mut q = ai_usage::table
                    .filter(ai_usage::org_id.eq(&org_s))
                    .filter(ai_usage::created_at.ge(since))
                    .into_boxed();
                if let Some(f) = feature {
                    q = q.filter(ai_usage::feature.eq(f));
                }
                q.select((ai_usage::prompt_tokens, ai_usage::completion_tokens, ai_usage::cost_micro_usd)).load(c).await
            })?)
        })
        .map_err(aerr)?;
        let u = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(rows.iter().fold(AiUsageTotals::default(), |mut t, (p, c, cost)| {
            t.calls += 1;
            t.prompt_tokens += u(*p);
            t.completion_tokens += u(*c);
            t.cost_micro_usd += u(*cost);
            t
        }))
    }
}
