-- The claim reads jobs in (priority DESC, run_at, id) order: with id in the index, the first rows
-- of a queue come straight from it, however many jobs wait.
DROP INDEX jobs_claim;
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, run_at, id) WHERE state IN ('available', 'retryable');
