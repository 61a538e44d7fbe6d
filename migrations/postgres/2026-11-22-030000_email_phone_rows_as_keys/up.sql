-- `contact_emails` and `contact_phones` indexed the same values as the `email` and `phone` blocking
-- keys in `contact_keys` (`EmailAddress::matching_key` and the E.164 number), so every contact
-- write kept three indexes where one serves every lookup. Search by e-mail or phone now reads
-- `contact_keys`. A deleted contact keeps its e-mail and phone keys (it keeps its name keys only
-- while live), so a search among deleted contacts by e-mail or phone still finds it: its rows from
-- the dropped tables become keys here first.
INSERT INTO contact_keys (contact_id, kind, value, org_id)
SELECT e.contact_id, 'email', e.matching_key, e.org_id
FROM contact_emails e JOIN contacts c ON c.id = e.contact_id
WHERE c.status = 'deleted'
ON CONFLICT DO NOTHING;
INSERT INTO contact_keys (contact_id, kind, value, org_id)
SELECT p.contact_id, 'phone', p.e164, p.org_id
FROM contact_phones p JOIN contacts c ON c.id = p.contact_id
WHERE c.status = 'deleted'
ON CONFLICT DO NOTHING;
DROP TABLE contact_emails;
DROP TABLE contact_phones;
