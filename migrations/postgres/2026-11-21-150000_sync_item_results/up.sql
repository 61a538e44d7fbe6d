-- Item results move to a narrow table of their own. Execute wrote each result by updating the
-- item's row, a wide one (the incoming contact, diff and recommendation): a new version of the
-- whole row per item, and, once its page was full, new entries in all four of sync_items'
-- indexes. An insert into this table writes one narrow row and one index entry. An item without
-- a row here is not applied yet. The run reference removes a run's results with the run.
CREATE TABLE sync_item_results (
    item_id TEXT PRIMARY KEY NOT NULL,
    run_id TEXT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    contact_id TEXT,
    message TEXT,
    applied_at TIMESTAMP NOT NULL
);
INSERT INTO sync_item_results (item_id, run_id, outcome, contact_id, message, applied_at)
SELECT id, run_id, result_outcome, result_contact_id, result_message, COALESCE(applied_at, now()::timestamp)
FROM sync_items WHERE result_outcome IS NOT NULL;
ALTER TABLE sync_items DROP COLUMN result_outcome, DROP COLUMN result_contact_id, DROP COLUMN result_message,
    DROP COLUMN applied_at;
-- Items are no longer updated by execute (only by review, which changes an indexed column): the
-- free room left for heap-only result updates is not needed any more.
ALTER TABLE sync_items RESET (fillfactor);
