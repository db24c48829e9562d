-- Trust: the browser that started an NIA login (only the hash of its nonce cookie), the person
-- an account was validated as (a later answer for another person is refused), and when each
-- contact last changed (a changed contact gets no 2FA-reset PIN for a cooling-off period).
ALTER TABLE pairing_requests ADD COLUMN browser_hash TEXT;
ALTER TABLE accounts ADD COLUMN validated_birth_date TEXT;
ALTER TABLE accounts ADD COLUMN validated_bsi TEXT;
ALTER TABLE contacts ADD COLUMN email_changed_at BIGINT;
ALTER TABLE contacts ADD COLUMN phone_changed_at BIGINT;
CREATE INDEX login_failures_username_ip ON login_failures(username, ip, at);

-- wrong 2FA-reset answers per address (throttled before any hashing)
CREATE TABLE reset_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ip TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX reset_failures_ip ON reset_failures(ip, at);

-- accounts validated before this migration: the person is the one whose data the locked
-- profile took from the register
UPDATE accounts SET validated_birth_date = (SELECT birth_date FROM profiles WHERE profiles.account_id = accounts.id)
WHERE validated_at IS NOT NULL;
UPDATE accounts SET validated_bsi = (SELECT bsi FROM nia_links WHERE nia_links.account_id = accounts.id)
WHERE validated_at IS NOT NULL;
