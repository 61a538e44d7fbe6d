-- Item results move to a narrow table of their own (see the PostgreSQL migration): an insert per
-- applied item instead of rewriting the item's wide row. An item without a row here is not
-- applied yet.
CREATE TABLE sync_item_results (
    item_id TEXT PRIMARY KEY NOT NULL,
    run_id TEXT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    contact_id TEXT,
    message TEXT,
    applied_at TIMESTAMP NOT NULL
);
INSERT INTO sync_item_results (item_id, run_id, outcome, contact_id, message, applied_at)
SELECT id, run_id, result_outcome, result_contact_id, result_message, COALESCE(applied_at, CURRENT_TIMESTAMP)
FROM sync_items WHERE result_outcome IS NOT NULL;
ALTER TABLE sync_items DROP COLUMN result_outcome;
ALTER TABLE sync_items DROP COLUMN result_contact_id;
ALTER TABLE sync_items DROP COLUMN result_message;
ALTER TABLE sync_items DROP COLUMN applied_at;
