ALTER TABLE sync_items ADD COLUMN result_outcome TEXT, ADD COLUMN result_contact_id TEXT,
    ADD COLUMN result_message TEXT, ADD COLUMN applied_at TIMESTAMP;
UPDATE sync_items AS i SET result_outcome = r.outcome, result_contact_id = r.contact_id,
    result_message = r.message, applied_at = r.applied_at
FROM sync_item_results AS r WHERE r.item_id = i.id;
DROP TABLE sync_item_results;
ALTER TABLE sync_items SET (fillfactor = 60);
