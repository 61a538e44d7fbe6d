ALTER TABLE sync_items ADD COLUMN result_outcome TEXT;
ALTER TABLE sync_items ADD COLUMN result_contact_id TEXT;
ALTER TABLE sync_items ADD COLUMN result_message TEXT;
ALTER TABLE sync_items ADD COLUMN applied_at TIMESTAMP;
UPDATE sync_items SET
    result_outcome = (SELECT r.outcome FROM sync_item_results r WHERE r.item_id = sync_items.id),
    result_contact_id = (SELECT r.contact_id FROM sync_item_results r WHERE r.item_id = sync_items.id),
    result_message = (SELECT r.message FROM sync_item_results r WHERE r.item_id = sync_items.id),
    applied_at = (SELECT r.applied_at FROM sync_item_results r WHERE r.item_id = sync_items.id);
DROP TABLE sync_item_results;
