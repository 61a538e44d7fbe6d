-- Contacts are updated by every applied change and provider links upserted on every sync of a
-- known record. With free room in each page those become heap-only (HOT) updates, which add no
-- index entries, as long as no indexed column changes: true for links, and for contacts once
-- `updated_at` is not indexed. No query orders or filters contacts by `updated_at` (listing is by
-- id, a UUIDv7, through contacts_org_id), and the primary key (connection_id, external_id) serves
-- every link lookup, so both indexes only cost writes.
DROP INDEX contacts_org_updated;
DROP INDEX provider_links_lookup;
ALTER TABLE contacts SET (fillfactor = 80);
ALTER TABLE provider_links SET (fillfactor = 70);
