-- The background job queue (SPEC section 11): claimed with FOR UPDATE SKIP LOCKED under a lease,
-- so several service instances share it and a job held by a crashed worker comes back.
CREATE TABLE jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    -- At most one unfinished job per key (e.g. one reconciliation per payment).
    unique_key text,
    run_at timestamptz NOT NULL DEFAULT now(),
    -- Periodic jobs are put back this many seconds later instead of finishing.
    repeat_seconds integer CHECK (repeat_seconds > 0),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
    last_error text,
    locked_until timestamptz,
    finished_at timestamptz,
    failed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key) WHERE finished_at IS NULL AND failed_at IS NULL;
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE finished_at IS NULL AND failed_at IS NULL;
