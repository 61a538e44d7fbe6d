ALTER TABLE sync_runs DROP COLUMN review_seq;
