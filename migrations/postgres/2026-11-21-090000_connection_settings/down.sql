ALTER TABLE connections DROP COLUMN settings;
