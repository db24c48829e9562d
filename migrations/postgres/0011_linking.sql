-- Linking: the completion job backs off after an error (`retry_at`) and gives up after a few
-- (`job_errors`) instead of retrying every second; the reconciliation job looks persons up
-- by the requests that named them.
ALTER TABLE pairing_requests ADD COLUMN retry_at BIGINT;
ALTER TABLE pairing_requests ADD COLUMN job_errors BIGINT NOT NULL DEFAULT 0;
CREATE INDEX pairing_requests_bsi ON pairing_requests(bsi);
