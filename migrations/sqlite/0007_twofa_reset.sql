-- Resetting two-factor authentication from the login page: the control code shown on the
-- page, and the reset with PIN1 (e-mail) and PIN2 (SMS), all single-use and short-lived.
CREATE TABLE control_codes (
    ticket_hash TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE twofa_resets (
    ticket_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    pin1_hash TEXT NOT NULL,
    pin2_hash TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX twofa_resets_account ON twofa_resets(account_id, created_at);
