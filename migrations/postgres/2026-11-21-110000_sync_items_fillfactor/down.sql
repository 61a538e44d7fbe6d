ALTER TABLE sync_items RESET (fillfactor);
