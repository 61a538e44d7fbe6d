ALTER TABLE sync_runs DROP COLUMN deleted_count;
