-- PostgreSQL only (fillfactor for HOT updates of sync_items); SQLite has no fillfactor.
SELECT 1;
