-- Email campaigns (the seed's emailCampaigns) and one message per recipient.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    user_id TEXT,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    subject_template TEXT NOT NULL,
    body_template TEXT NOT NULL,
    target TEXT NOT NULL,
    tone TEXT,
    estimated_cost_micro_usd BIGINT NOT NULL,
    total_cost_micro_usd BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX campaigns_org ON campaigns (org_id, created_at DESC, id DESC);
CREATE INDEX campaigns_org_user ON campaigns (org_id, user_id, created_at DESC);
CREATE INDEX campaigns_org_status ON campaigns (org_id, status, created_at DESC);

CREATE TABLE campaign_messages (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    provider_message_id TEXT,
    sent_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX campaign_messages_recipient ON campaign_messages (campaign_id, contact_id);
CREATE INDEX campaign_messages_org_state ON campaign_messages (org_id, campaign_id, state, id);
