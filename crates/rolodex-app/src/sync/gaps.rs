//! Stand-ins for two storage queries the ports do not offer yet, each one small function over
//! the existing ports so it can be swapped for the real query without touching the use cases
//! (see `docs/sync.md`, "Storage gaps"):
//!
//! - the cursor a preview will advance on execute is parked under a per-run resource of the
//!   [`CursorStore`] (wanted: a `pending_cursor` column on the sync run);
//! - a reviewer's override of an item is an audit entry of the run, read back by execute (wanted:
//!   `SyncRunStore::override_item`).

use std::collections::HashMap;

use rolodex_domain::ports::storage::{Actor, AuditFilter, AuditLog, CursorStore, NewAuditEntry};
use rolodex_domain::ports::{IdGenerator, SyncCursor};
use rolodex_domain::{AuditId, ConnectionId, OrgId, SyncItemId, SyncRunId};

use super::SyncError;
use super::model::Override;

fn pending_resource(resource: &str, run: SyncRunId) -> String {
    format!("{resource}@pending:{run}")
}

/// Parks the cursor a run will store when it executes.
pub(crate) async fn park_cursor(
    cursors: &dyn CursorStore,
    org: OrgId,
    connection: ConnectionId,
    resource: &str,
    run: SyncRunId,
    cursor: &SyncCursor,
) -> Result<(), SyncError> {
    Ok(cursors.set_cursor(org, connection, &pending_resource(resource, run), cursor).await?)
}

/// The cursor parked for a run, if any.
pub(crate) async fn parked_cursor(
    cursors: &dyn CursorStore,
    org: OrgId,
    connection: ConnectionId,
    resource: &str,
    run: SyncRunId,
) -> Result<Option<SyncCursor>, SyncError> {
    Ok(cursors.get_cursor(org, connection, &pending_resource(resource, run)).await?.map(|c| c.cursor))
}

/// Forgets the cursor parked for a run (after it was committed with the last batch).
pub(crate) async fn drop_parked_cursor(
    cursors: &dyn CursorStore,
    org: OrgId,
    connection: ConnectionId,
    resource: &str,
    run: SyncRunId,
) -> Result<(), SyncError> {
    cursors.clear_cursor(org, connection, &pending_resource(resource, run)).await?;
    Ok(())
}

const ITEM_ENTITY: &str = "sync_item";
const OVERRIDE_ACTION: &str = "override";

/// Records a reviewer's override of an item (an audit entry of the run: who, what before, what after).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_override(
    audit: &dyn AuditLog,
    ids: &dyn IdGenerator,
    org: OrgId,
    run: SyncRunId,
    item: SyncItemId,
    before: Override,
    after: Override,
    actor: &Actor,
) -> Result<(), SyncError> {
    let to_json = |o: Override| serde_json::to_value(o).map_err(|e| SyncError::Corrupt(e.to_string()));
    let entry = NewAuditEntry {
        id: AuditId::from(ids.new_uuid()),
        actor: actor.clone(),
        entity_type: ITEM_ENTITY.to_owned(),
        entity_id: item.to_string(),
        action: OVERRIDE_ACTION.to_owned(),
        before: Some(to_json(before)?),
        after: Some(to_json(after)?),
        run_id: Some(run),
    };
    Ok(audit.record_audit(org, vec![entry]).await?)
}

/// The latest override of every overridden item of a run.
pub(crate) async fn load_overrides(
    audit: &dyn AuditLog,
    org: OrgId,
    run: SyncRunId,
) -> Result<HashMap<SyncItemId, Override>, SyncError> {
    let mut out = HashMap::new();
    let mut before = None;
    loop {
        let filter = AuditFilter {
            entity_type: Some(ITEM_ENTITY.to_owned()),
            entity_id: None,
            run_id: Some(run),
            before,
            limit: 1000,
        };
        let page = audit.list_audit(org, &filter).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.entry.id);
        for e in &page {
            if e.entry.action != OVERRIDE_ACTION {
                continue;
            }
            let item = SyncItemId::parse(&e.entry.entity_id).map_err(|err| SyncError::Corrupt(err.to_string()))?;
            let Some(after) = &e.entry.after else { continue };
            let ov: Override =
                serde_json::from_value(after.clone()).map_err(|err| SyncError::Corrupt(err.to_string()))?;
            // Newest first: the first entry seen for an item is its latest override.
            out.entry(item).or_insert(ov);
        }
        if page.len() < 1000 {
            break;
        }
    }
    Ok(out)
}
