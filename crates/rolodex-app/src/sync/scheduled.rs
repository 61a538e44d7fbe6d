//! Scheduled sync: the unattended run of one connection. Incremental from the stored cursor (a
//! full listing the first time), high-confidence `create` and `update` decisions approved and
//! applied at once, everything else left pending in the run for a person. Safety rule: a full
//! listing that comes back empty for a connection that had contacts aborts the run (marked failed,
//! nothing proposed, cursor untouched) instead of treating every contact as gone.

use rolodex_domain::ports::ContactSource;
use rolodex_domain::ports::storage::{Actor, SyncKind};
use rolodex_domain::{ConnectionId, OrgId};

use super::model::{AutoApprove, FetchMode, PreviewRequest, ScheduledReport, SyncFilters};
use super::{SyncError, SyncService};

impl SyncService {
    /// Runs the scheduled sync of `connection` from `source` (see the module doc).
    ///
    /// # Errors
    /// [`SyncError::SourceEmptied`] for the safety abort; [`SyncError::Source`] (see
    /// [`SyncError::retry`]); storage errors.
    #[tracing::instrument(skip_all, fields(org = %org, connection = %connection))]
    pub async fn run_scheduled(
        &self,
        org: OrgId,
        connection: ConnectionId,
        source: &dyn ContactSource,
        filters: SyncFilters,
    ) -> Result<ScheduledReport, SyncError> {
        let request = PreviewRequest {
            connection_id: Some(connection),
            mode: FetchMode::Incremental,
            filters,
            user_id: None,
            kind: Some(SyncKind::Scheduled),
            auto_approve: AutoApprove::HighConfidence,
            guard_empty_source: true,
        };
        let preview = self.preview(org, source, request).await?;
        let execute = self.execute(org, preview.run_id, Actor::System("scheduled-sync".to_owned())).await?;
        Ok(ScheduledReport { preview, execute })
    }
}
