-- The job queue and recurring schedules. `unique_slot` holds the unique key while a job is
-- active and is cleared when it finishes, so the plain unique index enforces "one active job per key".
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    queue TEXT NOT NULL,
    payload TEXT NOT NULL,
    unique_key TEXT,
    unique_slot TEXT,
    state TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    locked_by TEXT,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE UNIQUE INDEX jobs_unique_slot ON jobs (org_id, unique_slot);
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, run_at) WHERE state IN ('available', 'retryable');
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_org_state ON jobs (org_id, state, created_at);

CREATE TABLE job_schedules (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    schedule TEXT NOT NULL,
    kind TEXT NOT NULL,
    queue TEXT NOT NULL,
    payload TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    next_run_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, name)
);
CREATE INDEX job_schedules_due ON job_schedules (next_run_at);
