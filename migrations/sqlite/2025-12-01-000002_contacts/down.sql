DROP TABLE provider_links;
DROP TABLE connections;
DROP TABLE contact_keys;
DROP TABLE contact_phones;
DROP TABLE contact_emails;
DROP TABLE contacts;
