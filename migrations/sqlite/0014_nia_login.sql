-- Logins to government services through NIA: each AuthnRequest NIA sent us (its ID is
-- accepted once; the flow's token names the login page), and the logins we answered
-- ("Logins to government services" in Settings and in the admin).
CREATE TABLE nia_login_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL UNIQUE,
    service TEXT NOT NULL,
    requested_loa TEXT NOT NULL,
    relay_state TEXT,
    account_id BIGINT REFERENCES accounts(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    answered_at BIGINT
);
CREATE INDEX nia_login_requests_expiry ON nia_login_requests(expires_at);

CREATE TABLE nia_logins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    service TEXT NOT NULL,
    loa TEXT NOT NULL,
    key_id BIGINT,
    key_name TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    request_id TEXT NOT NULL,
    session_index TEXT NOT NULL
);
CREATE INDEX nia_logins_account ON nia_logins(account_id, at);
