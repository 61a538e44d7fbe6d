//! [`ConnectionStore`]: provider connections. Access and refresh tokens are encrypted with the
//! store's [`crate::TokenCipher`] before they reach the database (bound to the connection id and
//! column) and decrypted into `SecretString`s on read.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rolodex_domain::ports::storage::{
    Connection, ConnectionSettings, ConnectionStatus, ConnectionStore, ConnectionStoreError, NewConnection, Tokens,
};
use rolodex_domain::{ConnectionId, OrgId};
use secrecy::SecretString;
use time::PrimitiveDateTime;

use crate::backend::{each, read, tx};
use crate::error::{DbError, DbResult};
use crate::schema::connections;
use crate::{Store, from_db, json, parse_id, to_db, unjson};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = connections, treat_none_as_default_value = false)]
struct ConnectionRow {
    id: String,
    org_id: String,
    user_id: Option<String>,
    provider: String,
    account: String,
    scopes: String,
    access_token: Option<String>,
    refresh_token: Option<String>,
    token_expires_at: Option<PrimitiveDateTime>,
    status: String,
    created_at: PrimitiveDateTime,
    updated_at: PrimitiveDateTime,
    settings: String,
}

impl Store {
    fn seal(&self, id: &str, column: &str, token: Option<&SecretString>) -> DbResult<Option<String>> {
        token.map(|t| self.cipher.encrypt(t, &format!("{id}/{column}")).map_err(DbError::Invalid)).transpose()
    }

    fn open_token(&self, id: &str, column: &str, stored: Option<&str>) -> DbResult<Option<SecretString>> {
        stored
            .map(|s| {
                self.cipher.decrypt(s, &format!("{id}/{column}")).ok_or_else(|| DbError::Undecryptable(id.to_owned()))
            })
            .transpose()
    }

    fn connection_from_row(&self, r: ConnectionRow) -> DbResult<Connection> {
        Ok(Connection {
            tokens: Tokens {
                access_token: self.open_token(&r.id, "access_token", r.access_token.as_deref())?,
                refresh_token: self.open_token(&r.id, "refresh_token", r.refresh_token.as_deref())?,
                expires_at: r.token_expires_at.map(from_db),
            },
            id: parse_id("connection id", &r.id)?,
            org_id: parse_id("org id", &r.org_id)?,
            user_id: r.user_id.as_deref().map(|u| parse_id("user id", u)).transpose()?,
            provider: r.provider,
            account: r.account,
            scopes: unjson("connection scopes", &r.scopes)?,
            status: ConnectionStatus::parse(&r.status).map_err(DbError::corrupt)?,
            settings: unjson("connection settings", &r.settings)?,
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        })
    }
}

#[async_trait]
impl ConnectionStore for Store {
    async fn create_connection(&self, org: OrgId, new: NewConnection) -> Result<Connection, ConnectionStoreError> {
        if new.provider.trim().is_empty() || new.account.trim().is_empty() {
            return Err(ConnectionStoreError::Invalid("a connection needs a provider and an account".to_owned()));
        }
        let now = to_db(self.now());
        let id = new.id.to_string();
        let row = ConnectionRow {
            org_id: org.to_string(),
            user_id: new.user_id.map(|u| u.to_string()),
            provider: new.provider.clone(),
            account: new.account.clone(),
            scopes: json(&new.scopes).map_err(DbError::into_connection_error)?,
            access_token: self
                .seal(&id, "access_token", new.tokens.access_token.as_ref())
                .map_err(DbError::into_connection_error)?,
            refresh_token: self
                .seal(&id, "refresh_token", new.tokens.refresh_token.as_ref())
                .map_err(DbError::into_connection_error)?,
            token_expires_at: new.tokens.expires_at.map(to_db),
            status: ConnectionStatus::Active.as_str().to_owned(),
            created_at: now,
            updated_at: now,
            settings: json(&new.settings).map_err(DbError::into_connection_error)?,
            id,
        };
        tx!(self, |conn| Ok(each!(conn, |c| diesel::insert_into(connections::table).values(&row).execute(c).await)?))
            .map_err(|e| match e.into_connection_error() {
            ConnectionStoreError::Duplicate(_) => {
                ConnectionStoreError::Duplicate(format!("connection to {} account `{}`", new.provider, new.account))
            }
            other => other,
        })?;
        self.connection_from_row(row).map_err(DbError::into_connection_error)
    }

    async fn get_connection(&self, org: OrgId, id: ConnectionId) -> Result<Connection, ConnectionStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let row: Option<ConnectionRow> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                connections::table
                    .filter(connections::org_id.eq(&org_s))
                    .filter(connections::id.eq(&id_s))
                    .select(ConnectionRow::as_select())
                    .first(c)
                    .await
                    .optional()
            })?)
        })
        .map_err(DbError::into_connection_error)?;
        let row = row.ok_or_else(|| DbError::not_found("connection", id).into_connection_error())?;
        self.connection_from_row(row).map_err(DbError::into_connection_error)
    }

    async fn list_connections(
        &self,
        org: OrgId,
        provider: Option<&str>,
    ) -> Result<Vec<Connection>, ConnectionStoreError> {
        let org_s = org.to_string();
        let rows: Vec<ConnectionRow> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                let mut q = connections::table.filter(connections::org_id.eq(&org_s)).into_boxed();
                if let Some(p) = provider {
                    q = q.filter(connections::provider.eq(p));
                }
                q.order((connections::created_at.asc(), connections::id.asc()))
                    .select(ConnectionRow::as_select())
                    .load(c)
                    .await
            })?)
        })
        .map_err(DbError::into_connection_error)?;
        rows.into_iter()
            .map(|r| self.connection_from_row(r))
            .collect::<DbResult<Vec<_>>>()
            .map_err(DbError::into_connection_error)
    }

    async fn update_tokens(&self, org: OrgId, id: ConnectionId, tokens: &Tokens) -> Result<(), ConnectionStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let access =
            self.seal(&id_s, "access_token", tokens.access_token.as_ref()).map_err(DbError::into_connection_error)?;
        let refresh =
            self.seal(&id_s, "refresh_token", tokens.refresh_token.as_ref()).map_err(DbError::into_connection_error)?;
        let now = to_db(self.now());
        let n = tx!(self, |conn| {
            Ok(each!(conn, |c| {
                diesel::update(
                    connections::table.filter(connections::org_id.eq(&org_s)).filter(connections::id.eq(&id_s)),
                )
                .set((
                    connections::access_token.eq(&access),
                    connections::refresh_token.eq(&refresh),
                    connections::token_expires_at.eq(tokens.expires_at.map(to_db)),
                    connections::status.eq(diesel::dsl::case_when(
                        connections::status.eq("needs_reauth"),
                        "active".into_sql::<diesel::sql_types::Text>(),
                    )
                    .otherwise(connections::status)),
                    connections::updated_at.eq(now),
                ))
                .execute(c)
                .await
            })?)
        })
        .map_err(DbError::into_connection_error)?;
        if n == 0 { Err(DbError::not_found("connection", id).into_connection_error()) } else { Ok(()) }
    }

    async fn update_settings(
        &self,
        org: OrgId,
        id: ConnectionId,
        settings: &ConnectionSettings,
    ) -> Result<(), ConnectionStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let text = json(settings).map_err(DbError::into_connection_error)?;
        let now = to_db(self.now());
        let n = tx!(self, |conn| {
            Ok(each!(conn, |c| {
                diesel::update(
                    connections::table.filter(connections::org_id.eq(&org_s)).filter(connections::id.eq(&id_s)),
                )
                .set((connections::settings.eq(&text), connections::updated_at.eq(now)))
                .execute(c)
                .await
            })?)
        })
        .map_err(DbError::into_connection_error)?;
        if n == 0 { Err(DbError::not_found("connection", id).into_connection_error()) } else { Ok(()) }
    }

    async fn set_connection_status(
        &self,
        org: OrgId,
        id: ConnectionId,
        status: ConnectionStatus,
    ) -> Result<(), ConnectionStoreError> {
        let (org_s, id_s) = (org.to_string(), id.to_string());
        let now = to_db(self.now());
        let n = tx!(self, |conn| {
            Ok(each!(conn, |c| {
                diesel::update(
                    connections::table.filter(connections::org_id.eq(&org_s)).filter(connections::id.eq(&id_s)),
                )
                .set((connections::status.eq(status.as_str()), connections::updated_at.eq(now)))
                .execute(c)
                .await
            })?)
        })
        .map_err(DbError::into_connection_error)?;
        if n == 0 { Err(DbError::not_found("connection", id).into_connection_error()) } else { Ok(()) }
    }

    async fn resolve_account(
        &self,
        provider: &str,
        account: &str,
    ) -> Result<Vec<(OrgId, ConnectionId)>, ConnectionStoreError> {
        let rows: Vec<(String, String)> = read!(self, |conn| {
            Ok(each!(conn, |c| {
                connections::table
                    .filter(connections::provider.eq(provider))
                    .filter(connections::account.eq(account))
                    .filter(connections::status.ne("disconnected"))
                    .order(connections::id.asc())
                    .select((connections::org_id, connections::id))
                    .load(c)
                    .await
            })?)
        })
        .map_err(DbError::into_connection_error)?;
        rows.iter()
            .map(|(o, c)| Ok((parse_id("org id", o)?, parse_id("connection id", c)?)))
            .collect::<DbResult<Vec<_>>>()
            .map_err(DbError::into_connection_error)
    }
}
