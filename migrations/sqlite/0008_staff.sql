-- Staff (helpdesk, back office, auditor) are accounts with a role; what the helpdesk asked and
-- which answers matched; unlinks queued while NIA is down.
ALTER TABLE accounts ADD COLUMN role TEXT;

CREATE TABLE identity_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    matched TEXT NOT NULL,
    all_matched BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX identity_checks_account ON identity_checks(account_id, at);

CREATE TABLE queued_unlinks (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    staff_id BIGINT NOT NULL,
    queued_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
