ALTER TABLE ai_usage
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN user_id TYPE text COLLATE "default",
    ALTER COLUMN feature TYPE text COLLATE "default";
ALTER TABLE api_keys
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN user_id TYPE text COLLATE "default",
    ALTER COLUMN key_hash TYPE text COLLATE "default";
ALTER TABLE audit_log
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN entity_type TYPE text COLLATE "default",
    ALTER COLUMN entity_id TYPE text COLLATE "default",
    ALTER COLUMN run_id TYPE text COLLATE "default";
ALTER TABLE campaign_messages
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN campaign_id TYPE text COLLATE "default",
    ALTER COLUMN contact_id TYPE text COLLATE "default",
    ALTER COLUMN state TYPE text COLLATE "default";
ALTER TABLE campaigns
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN user_id TYPE text COLLATE "default",
    ALTER COLUMN status TYPE text COLLATE "default";
ALTER TABLE connections
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN user_id TYPE text COLLATE "default",
    ALTER COLUMN provider TYPE text COLLATE "default",
    ALTER COLUMN account TYPE text COLLATE "default";
ALTER TABLE contact_activities
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN contact_id TYPE text COLLATE "default";
ALTER TABLE contact_keys
    ALTER COLUMN contact_id TYPE text COLLATE "default",
    ALTER COLUMN kind TYPE text COLLATE "default",
    ALTER COLUMN value TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default";
ALTER TABLE contacts
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN status TYPE text COLLATE "default";
ALTER TABLE job_schedules
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN name TYPE text COLLATE "default";
ALTER TABLE jobs
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN queue TYPE text COLLATE "default",
    ALTER COLUMN unique_slot TYPE text COLLATE "default",
    ALTER COLUMN state TYPE text COLLATE "default";
ALTER TABLE organisations
    ALTER COLUMN id TYPE text COLLATE "default";
ALTER TABLE provider_links
    ALTER COLUMN connection_id TYPE text COLLATE "default",
    ALTER COLUMN external_id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN contact_id TYPE text COLLATE "default";
ALTER TABLE sync_cursors
    ALTER COLUMN connection_id TYPE text COLLATE "default",
    ALTER COLUMN resource TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default";
ALTER TABLE sync_item_results
    ALTER COLUMN item_id TYPE text COLLATE "default",
    ALTER COLUMN run_id TYPE text COLLATE "default";
ALTER TABLE sync_items
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN run_id TYPE text COLLATE "default",
    ALTER COLUMN decision TYPE text COLLATE "default",
    ALTER COLUMN review TYPE text COLLATE "default";
ALTER TABLE sync_runs
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN user_id TYPE text COLLATE "default",
    ALTER COLUMN provider TYPE text COLLATE "default",
    ALTER COLUMN status TYPE text COLLATE "default";
ALTER TABLE webhook_receipts
    ALTER COLUMN id TYPE text COLLATE "default",
    ALTER COLUMN org_id TYPE text COLLATE "default",
    ALTER COLUMN provider TYPE text COLLATE "default",
    ALTER COLUMN delivery_id TYPE text COLLATE "default";
