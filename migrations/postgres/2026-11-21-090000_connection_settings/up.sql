-- Connection settings (base URL, two-way, conflict policy, reconciliation period) as JSON.
ALTER TABLE connections ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
