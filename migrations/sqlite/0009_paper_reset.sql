-- The paper form "Žádost o reset hesla v MojeID" as the back office recorded it (reference
-- number, scan), and the single-use links to set a new password after a login reset.
CREATE TABLE paper_forms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    reference TEXT NOT NULL UNIQUE,
    scan BLOB NOT NULL,
    scan_type TEXT NOT NULL,
    scan_size BIGINT NOT NULL,
    scan_sha256 TEXT NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES accounts(id),
    recorded_at BIGINT NOT NULL,
    queued_by BIGINT REFERENCES accounts(id),
    state TEXT NOT NULL,
    done_at BIGINT
);
CREATE INDEX paper_forms_account ON paper_forms(account_id);
CREATE INDEX paper_forms_state ON paper_forms(state);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX password_resets_account ON password_resets(account_id);
