-- The same indexes as on PostgreSQL go (nothing reads through them; they only cost writes).
-- SQLite has no fillfactor.
DROP INDEX contacts_org_updated;
DROP INDEX provider_links_lookup;
