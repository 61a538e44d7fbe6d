-- The rows every applied sync item writes (index rows, provider links, item results) lose their
-- foreign keys. Each key was checked per row by a trigger: a lookup of the parent and a
-- FOR KEY SHARE lock on it, which writes the parent's tuple and, with batches applied side by side,
-- turns the lock on the shared parents (the connection of every link, the run of every result) into
-- multixacts. On the sync benchmark that check was about a fifth of the server's work in execute
-- (docs/benchmarks.md). What the keys guarded holds without them: the store is the only writer of
-- these rows and writes them in the transaction that writes (or checks) their parent, and no parent
-- is ever deleted (contacts are soft-deleted, connections disconnected, runs kept), so the cascades
-- never ran. A future hard delete removes the children itself (docs/ARCHITECTURE.md).
ALTER TABLE contact_emails DROP CONSTRAINT contact_emails_contact_id_fkey;
ALTER TABLE contact_phones DROP CONSTRAINT contact_phones_contact_id_fkey;
ALTER TABLE contact_keys DROP CONSTRAINT contact_keys_contact_id_fkey;
ALTER TABLE provider_links DROP CONSTRAINT provider_links_connection_id_fkey;
ALTER TABLE provider_links DROP CONSTRAINT provider_links_contact_id_fkey;
ALTER TABLE sync_item_results DROP CONSTRAINT sync_item_results_run_id_fkey;
