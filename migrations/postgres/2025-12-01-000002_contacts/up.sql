-- Contacts with their index rows (emails by matching key, phones by E.164, blocking keys),
-- connections (tokens encrypted by the application) and provider links.
CREATE TABLE contacts (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    status TEXT NOT NULL,
    search_text TEXT NOT NULL,
    fields TEXT NOT NULL,
    tags TEXT NOT NULL,
    custom TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_contacted_at TIMESTAMP
);
CREATE INDEX contacts_org_id ON contacts (org_id, id);
CREATE INDEX contacts_org_status ON contacts (org_id, status, id);
CREATE INDEX contacts_org_updated ON contacts (org_id, updated_at DESC);

CREATE TABLE contact_emails (
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    address TEXT NOT NULL,
    matching_key TEXT NOT NULL,
    PRIMARY KEY (contact_id, position)
);
CREATE INDEX contact_emails_key ON contact_emails (org_id, matching_key);

CREATE TABLE contact_phones (
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    e164 TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (contact_id, position)
);
CREATE INDEX contact_phones_e164 ON contact_phones (org_id, e164);

CREATE TABLE contact_keys (
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    org_id TEXT NOT NULL,
    PRIMARY KEY (contact_id, kind, value)
);
CREATE INDEX contact_keys_lookup ON contact_keys (org_id, kind, value);

CREATE TABLE connections (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    user_id TEXT,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    scopes TEXT NOT NULL,
    access_token TEXT,
    refresh_token TEXT,
    token_expires_at TIMESTAMP,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX connections_org_account ON connections (org_id, provider, account);
CREATE INDEX connections_account ON connections (provider, account);

CREATE TABLE provider_links (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    external_version TEXT,
    snapshot TEXT,
    snapshot_hash TEXT,
    remote_updated_at TIMESTAMP,
    synced_at TIMESTAMP NOT NULL,
    PRIMARY KEY (connection_id, external_id)
);
CREATE INDEX provider_links_lookup ON provider_links (org_id, connection_id, external_id);
CREATE INDEX provider_links_contact ON provider_links (org_id, contact_id);
