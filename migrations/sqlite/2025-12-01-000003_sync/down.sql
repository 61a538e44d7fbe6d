DROP TABLE webhook_receipts;
DROP TABLE sync_cursors;
DROP TABLE contact_activities;
DROP TABLE audit_log;
DROP TABLE sync_items;
DROP TABLE sync_runs;
