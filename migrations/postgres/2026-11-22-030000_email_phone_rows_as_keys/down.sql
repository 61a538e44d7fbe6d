-- The tables come back filled from the `email` and `phone` keys. What the keys do not hold comes
-- back as a stand-in: the address as typed (the matching key instead), a phone's kind (`other`),
-- and the positions (in key order). Searches by e-mail and phone, the only readers, work as before.
CREATE TABLE contact_emails (
    contact_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    address TEXT NOT NULL,
    matching_key TEXT NOT NULL,
    PRIMARY KEY (contact_id, position)
);
CREATE INDEX contact_emails_key ON contact_emails (org_id, matching_key);
INSERT INTO contact_emails (contact_id, position, org_id, address, matching_key)
SELECT contact_id, (row_number() OVER (PARTITION BY contact_id ORDER BY value) - 1)::int, org_id, value, value
FROM contact_keys WHERE kind = 'email';

CREATE TABLE contact_phones (
    contact_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    e164 TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (contact_id, position)
);
CREATE INDEX contact_phones_e164 ON contact_phones (org_id, e164);
INSERT INTO contact_phones (contact_id, position, org_id, e164, kind)
SELECT contact_id, (row_number() OVER (PARTITION BY contact_id ORDER BY value) - 1)::int, org_id, value, 'other'
FROM contact_keys WHERE kind = 'phone';
