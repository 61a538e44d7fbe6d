-- Sync runs (the seed's contactSyncs) and items, audit log, contact activities, cursors and
-- webhook receipts.
CREATE TABLE sync_runs (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    user_id TEXT,
    connection_id TEXT,
    provider TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_count BIGINT NOT NULL,
    updated_count BIGINT NOT NULL,
    skipped_count BIGINT NOT NULL,
    failed_count BIGINT NOT NULL,
    filters TEXT NOT NULL,
    error TEXT,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    completed_at TIMESTAMP
);
CREATE INDEX sync_runs_org ON sync_runs (org_id, created_at DESC, id DESC);
CREATE INDEX sync_runs_org_user ON sync_runs (org_id, user_id, created_at DESC);
CREATE INDEX sync_runs_org_status ON sync_runs (org_id, status, created_at DESC);
CREATE INDEX sync_runs_org_provider ON sync_runs (org_id, provider, created_at DESC);

CREATE TABLE sync_items (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    run_id TEXT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    external_id TEXT,
    incoming TEXT NOT NULL,
    decision TEXT NOT NULL,
    target_contact_id TEXT,
    confidence DOUBLE PRECISION NOT NULL,
    diff TEXT NOT NULL,
    recommendation TEXT NOT NULL,
    review TEXT NOT NULL,
    result_outcome TEXT,
    result_contact_id TEXT,
    result_message TEXT,
    applied_at TIMESTAMP
);
CREATE UNIQUE INDEX sync_items_run_position ON sync_items (run_id, position);
CREATE INDEX sync_items_org_run_review ON sync_items (org_id, run_id, review, position);
CREATE INDEX sync_items_org_run_decision ON sync_items (org_id, run_id, decision, position);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    run_id TEXT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, at DESC, id DESC);
CREATE INDEX audit_log_org_entity ON audit_log (org_id, entity_type, entity_id, at DESC);
CREATE INDEX audit_log_org_run ON audit_log (org_id, run_id);

CREATE TABLE contact_activities (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    data TEXT NOT NULL,
    campaign_id TEXT,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX contact_activities_timeline ON contact_activities (org_id, contact_id, occurred_at DESC);

CREATE TABLE sync_cursors (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    resource TEXT NOT NULL,
    org_id TEXT NOT NULL,
    cursor_value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (connection_id, resource)
);
CREATE INDEX sync_cursors_org ON sync_cursors (org_id, connection_id);

CREATE TABLE webhook_receipts (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    connection_id TEXT,
    payload TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    processed_at TIMESTAMP,
    error TEXT
);
CREATE UNIQUE INDEX webhook_receipts_delivery ON webhook_receipts (org_id, provider, delivery_id);
