CREATE INDEX provider_links_lookup ON provider_links (org_id, connection_id, external_id);
CREATE INDEX contacts_org_updated ON contacts (org_id, updated_at DESC);
