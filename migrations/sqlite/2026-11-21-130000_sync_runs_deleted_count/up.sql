-- Contacts soft-deleted by a run (a source deletion, approved and applied).
ALTER TABLE sync_runs ADD COLUMN deleted_count BIGINT NOT NULL DEFAULT 0;
