-- PostgreSQL only (identifier columns collate byte by byte); SQLite's default collation (BINARY)
-- already does.
SELECT 1;
