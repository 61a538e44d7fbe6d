-- Identifiers, blocking keys and enumerations compare byte by byte ("C" collation) instead of by
-- the database's locale. They are only ever compared for equality or used as index and paging
-- order, never shown sorted to a person, and under a locale collation (the database default:
-- C.UTF-8 on Debian's packages, often en_US.UTF-8 elsewhere) every B-tree comparison of them goes
-- through strcoll(). Equality is unchanged (both collations are deterministic); the indexes on these
-- columns are rebuilt. Text people read (names, subjects, e-mail addresses of users) keeps the
-- database's collation.
ALTER TABLE ai_usage
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN feature TYPE text COLLATE "C";
ALTER TABLE api_keys
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN key_hash TYPE text COLLATE "C";
ALTER TABLE audit_log
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN entity_type TYPE text COLLATE "C",
    ALTER COLUMN entity_id TYPE text COLLATE "C",
    ALTER COLUMN run_id TYPE text COLLATE "C";
ALTER TABLE campaign_messages
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN campaign_id TYPE text COLLATE "C",
    ALTER COLUMN contact_id TYPE text COLLATE "C",
    ALTER COLUMN state TYPE text COLLATE "C";
ALTER TABLE campaigns
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C";
ALTER TABLE connections
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN provider TYPE text COLLATE "C",
    ALTER COLUMN account TYPE text COLLATE "C";
ALTER TABLE contact_activities
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN contact_id TYPE text COLLATE "C";
ALTER TABLE contact_keys
    ALTER COLUMN contact_id TYPE text COLLATE "C",
    ALTER COLUMN kind TYPE text COLLATE "C",
    ALTER COLUMN value TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C";
ALTER TABLE contacts
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C";
ALTER TABLE job_schedules
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN name TYPE text COLLATE "C";
ALTER TABLE jobs
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN queue TYPE text COLLATE "C",
    ALTER COLUMN unique_slot TYPE text COLLATE "C",
    ALTER COLUMN state TYPE text COLLATE "C";
ALTER TABLE organisations
    ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE provider_links
    ALTER COLUMN connection_id TYPE text COLLATE "C",
    ALTER COLUMN external_id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN contact_id TYPE text COLLATE "C";
ALTER TABLE sync_cursors
    ALTER COLUMN connection_id TYPE text COLLATE "C",
    ALTER COLUMN resource TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C";
ALTER TABLE sync_item_results
    ALTER COLUMN item_id TYPE text COLLATE "C",
    ALTER COLUMN run_id TYPE text COLLATE "C";
ALTER TABLE sync_items
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN run_id TYPE text COLLATE "C",
    ALTER COLUMN decision TYPE text COLLATE "C",
    ALTER COLUMN review TYPE text COLLATE "C";
ALTER TABLE sync_runs
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN provider TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C";
ALTER TABLE webhook_receipts
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN provider TYPE text COLLATE "C",
    ALTER COLUMN delivery_id TYPE text COLLATE "C";
