-- A counter of the review changes to a run's items (`SyncRunStore::review_items` calls that changed
-- at least one item). Execute reads it before and after a pass over the approved items: unchanged,
-- no item can have been approved behind the pass, so the pass is not repeated to find out.
ALTER TABLE sync_runs ADD COLUMN review_seq BIGINT NOT NULL DEFAULT 0;
