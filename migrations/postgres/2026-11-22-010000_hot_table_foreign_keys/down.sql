ALTER TABLE contact_emails ADD CONSTRAINT contact_emails_contact_id_fkey
    FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
ALTER TABLE contact_phones ADD CONSTRAINT contact_phones_contact_id_fkey
    FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
ALTER TABLE contact_keys ADD CONSTRAINT contact_keys_contact_id_fkey
    FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
ALTER TABLE provider_links ADD CONSTRAINT provider_links_connection_id_fkey
    FOREIGN KEY (connection_id) REFERENCES connections (id) ON DELETE CASCADE;
ALTER TABLE provider_links ADD CONSTRAINT provider_links_contact_id_fkey
    FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
ALTER TABLE sync_item_results ADD CONSTRAINT sync_item_results_run_id_fkey
    FOREIGN KEY (run_id) REFERENCES sync_runs (id) ON DELETE CASCADE;
