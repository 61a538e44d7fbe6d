-- Item results are written once per item, after the item itself (execute). With free room in each
-- page, that write is a heap-only (HOT) update: no new entries in sync_items' four indexes.
ALTER TABLE sync_items SET (fillfactor = 60);
