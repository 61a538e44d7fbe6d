//! `rolodex connections add | list`: provider accounts whose contacts Rolodex syncs, with their
//! tokens (encrypted at rest with `ROLODEX_TOKEN_KEY`). Minimal on purpose: the tokens come from
//! elsewhere (an OAuth flow, a GoHighLevel private integration token); `--base-url` points an
//! adapter at another endpoint (a mock server in tests).

use std::io::Write;

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use rolodex_app::jobs::ScheduledSyncJob;
use rolodex_domain::ConnectionId;
use rolodex_domain::ports::storage::{
    Connection, ConnectionSettings, ConnectionStore, NewConnection, Schedule, Tokens,
};
use rolodex_runtime::sources::{BASE_URL_SCOPE, PROVIDERS, base_url};
use secrecy::SecretString;

use crate::context::{self, Ctx, Env, Global};

/// Arguments of `rolodex connections`.
#[derive(Debug, Args)]
pub struct ConnectionsArgs {
    #[command(subcommand)]
    command: ConnectionsCommand,
}

#[derive(Debug, Subcommand)]
enum ConnectionsCommand {
    /// Store a connection and its tokens.
    Add {
        /// `graph` (Microsoft 365), `google` or `ghl` (GoHighLevel).
        #[arg(long)]
        provider: String,
        /// The account: the mailbox (`me` or an address) for Graph, the Google account, the
        /// GoHighLevel location id.
        #[arg(long)]
        account: String,
        /// The access token (sent as a bearer token).
        #[arg(long, env = "ROLODEX_ACCESS_TOKEN", hide_env_values = true)]
        access_token: String,
        /// The refresh token (stored for a later OAuth refresh).
        #[arg(long, env = "ROLODEX_REFRESH_TOKEN", hide_env_values = true)]
        refresh_token: Option<String>,
        /// The provider API's base URL (Graph `…/v1.0`, Google People `…/v1`, GoHighLevel root).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Also schedule an unattended sync every N minutes (run by `rolodex-worker`).
        #[arg(long, value_name = "N")]
        every_minutes: Option<u32>,
    },
    /// The connections of the organisation.
    List,
}

/// `rolodex connections`.
///
/// # Errors
/// Bad arguments, a missing token key, storage errors.
pub async fn run(global: &Global, env: &Env, args: ConnectionsArgs, out: &mut dyn Write) -> Result<()> {
    let ctx = context::open(global, env, true).await?;
    match args.command {
        ConnectionsCommand::Add { provider, account, access_token, refresh_token, base_url, every_minutes } => {
            let provider = provider.trim().to_lowercase();
            if !PROVIDERS.contains(&provider.as_str()) {
                bail!("unknown provider `{provider}`: expected one of {}", PROVIDERS.join(", "));
            }
            if let Some(base) = &base_url {
                url::Url::parse(base).map_err(|e| anyhow!("--base-url `{base}`: {e}"))?;
            }
            let scopes = base_url.iter().map(|b| format!("{BASE_URL_SCOPE}{}", b.trim_end_matches('/'))).collect();
            let settings = ConnectionSettings {
                base_url: base_url.as_ref().map(|b| b.trim_end_matches('/').to_owned()),
                ..ConnectionSettings::default()
            };
            let new = NewConnection {
                id: ConnectionId::new_v7(),
                user_id: None,
                provider,
                account,
                scopes,
                tokens: Tokens {
                    access_token: Some(SecretString::from(access_token)),
                    refresh_token: refresh_token.map(SecretString::from),
                    expires_at: None,
                },
                settings,
            };
            let c = ctx.store.create_connection(ctx.org, new).await.map_err(|e| anyhow!("{e}"))?;
            if let Some(minutes) = every_minutes {
                ScheduledSyncJob::schedule(&ctx.store, ctx.org, c.id, Schedule::EveryMinutes(minutes.max(1)))
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
            }
            writeln!(out, "{}", c.id)?;
            Ok(())
        }
        ConnectionsCommand::List => {
            let list = ctx.store.list_connections(ctx.org, None).await.map_err(|e| anyhow!("{e}"))?;
            if list.is_empty() {
                writeln!(out, "no connections: add one with `rolodex connections add`")?;
            }
            for c in &list {
                writeln!(
                    out,
                    "{}  {:<7} {:<13} {}{}",
                    c.id,
                    c.provider,
                    c.status.as_str(),
                    c.account,
                    base_url(c).map(|b| format!("  ({b})")).unwrap_or_default()
                )?;
            }
            Ok(())
        }
    }
}

/// A connection by id, or by account name when exactly one connection has it.
///
/// # Errors
/// None or several connections match.
pub async fn resolve(ctx: &Ctx, s: &str) -> Result<Connection> {
    if let Ok(id) = ConnectionId::parse(s) {
        return ctx.store.get_connection(ctx.org, id).await.map_err(|e| anyhow!("{e}"));
    }
    let all = ctx.store.list_connections(ctx.org, None).await.map_err(|e| anyhow!("{e}"))?;
    let mut matching: Vec<Connection> = all.into_iter().filter(|c| c.account == s).collect();
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => bail!("no connection `{s}`: see `rolodex connections list`"),
        n => bail!("{n} connections have account `{s}`: give the connection id"),
    }
}
