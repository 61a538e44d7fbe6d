-- The same foreign keys as on PostgreSQL go (see its migration): the store is the only writer of
-- these rows, writes them with their parent, and never deletes a parent. SQLite cannot drop a
-- constraint, so each table is rebuilt without it (same columns, rows and indexes).
CREATE TABLE contact_emails_new (
    contact_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    address TEXT NOT NULL,
    matching_key TEXT NOT NULL,
    PRIMARY KEY (contact_id, position)
);
INSERT INTO contact_emails_new (contact_id, position, org_id, address, matching_key) SELECT contact_id, position, org_id, address, matching_key FROM contact_emails;
DROP TABLE contact_emails;
ALTER TABLE contact_emails_new RENAME TO contact_emails;
CREATE INDEX contact_emails_key ON contact_emails (org_id, matching_key);

CREATE TABLE contact_phones_new (
    contact_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    e164 TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (contact_id, position)
);
INSERT INTO contact_phones_new (contact_id, position, org_id, e164, kind) SELECT contact_id, position, org_id, e164, kind FROM contact_phones;
DROP TABLE contact_phones;
ALTER TABLE contact_phones_new RENAME TO contact_phones;
CREATE INDEX contact_phones_e164 ON contact_phones (org_id, e164);

CREATE TABLE contact_keys_new (
    contact_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    org_id TEXT NOT NULL,
    PRIMARY KEY (contact_id, kind, value)
);
INSERT INTO contact_keys_new (contact_id, kind, value, org_id) SELECT contact_id, kind, value, org_id FROM contact_keys;
DROP TABLE contact_keys;
ALTER TABLE contact_keys_new RENAME TO contact_keys;
CREATE INDEX contact_keys_lookup ON contact_keys (org_id, kind, value);

CREATE TABLE provider_links_new (
    connection_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    external_version TEXT,
    snapshot TEXT,
    snapshot_hash TEXT,
    remote_updated_at TIMESTAMP,
    synced_at TIMESTAMP NOT NULL,
    PRIMARY KEY (connection_id, external_id)
);
INSERT INTO provider_links_new (connection_id, external_id, org_id, contact_id, external_version, snapshot, snapshot_hash, remote_updated_at, synced_at) SELECT connection_id, external_id, org_id, contact_id, external_version, snapshot, snapshot_hash, remote_updated_at, synced_at FROM provider_links;
DROP TABLE provider_links;
ALTER TABLE provider_links_new RENAME TO provider_links;
CREATE INDEX provider_links_contact ON provider_links (org_id, contact_id);

CREATE TABLE sync_item_results_new (
    item_id TEXT PRIMARY KEY NOT NULL,
    run_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    contact_id TEXT,
    message TEXT,
    applied_at TIMESTAMP NOT NULL
);
INSERT INTO sync_item_results_new (item_id, run_id, outcome, contact_id, message, applied_at) SELECT item_id, run_id, outcome, contact_id, message, applied_at FROM sync_item_results;
DROP TABLE sync_item_results;
ALTER TABLE sync_item_results_new RENAME TO sync_item_results;
