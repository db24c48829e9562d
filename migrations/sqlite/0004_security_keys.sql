-- Security keys of accounts, and challenges bound to an account (adding a key, logging in).
ALTER TABLE webauthn_challenges ADD COLUMN account_id BIGINT;
ALTER TABLE webauthn_challenges ADD COLUMN state TEXT;

CREATE TABLE security_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    credential TEXT NOT NULL,
    name TEXT NOT NULL,
    format TEXT,
    aaguid TEXT,
    model TEXT,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    nia_eligible BIGINT NOT NULL,
    verdict TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX security_keys_account ON security_keys(account_id);
