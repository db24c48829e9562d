-- One durable queue of background work. A worker claims due jobs by taking a lease
-- (locked_by / locked_until); a job whose worker died is claimed again when its lease ends.
-- attempts counts claims, so a job that kills its worker is not retried for ever.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    locked_by TEXT,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_due ON jobs(state, kind, run_at);
-- one pending job per piece of work
CREATE UNIQUE INDEX jobs_pending_once ON jobs(kind, payload) WHERE state = 'due';
-- requests confirmed before this migration are completed by the queue
INSERT INTO jobs (kind, payload, state, run_at, created_at)
SELECT 'complete_pairing', '{"request":' || id || '}', 'due', 0, updated_at FROM pairing_requests WHERE state = 'completing';
